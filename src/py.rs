//! The thin pyo3 layer: `headerwheel._native`, called by the PEP 517 hooks in `backend/headerwheel`.
//!
//! Each function takes the hook's request as JSON (interpreter facts,
//! directories, `config_settings`), runs the pipeline with the GIL released,
//! and turns every error (and any panic) into `headerwheel.BuildError`
//! carrying the full message.
#![allow(unsafe_code)] // pyo3's macros expand to unsafe blocks

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;

use pyo3::create_exception;
use pyo3::exceptions::PyException;
use pyo3::prelude::*;

use crate::compile::Log;
use crate::wheel::{self, BuildRequest};

create_exception!(
    _native,
    BuildError,
    PyException,
    "A headerwheel build failed; the message names the file, key or module."
);

fn stderr_log() -> Arc<Log> {
    Arc::new(|line: &str| eprintln!("{line}"))
}

/// Runs `f` on the parsed request without the GIL; errors and panics become
/// `BuildError`.
fn run<T: Send>(
    py: Python<'_>,
    request: &str,
    f: impl FnOnce(&BuildRequest) -> Result<T, wheel::BuildError> + Send,
) -> PyResult<T> {
    let req: BuildRequest = serde_json::from_str(request)
        .map_err(|e| BuildError::new_err(format!("invalid build request: {e}")))?;
    let result = py.detach(|| catch_unwind(AssertUnwindSafe(|| f(&req))));
    match result {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => Err(BuildError::new_err(e.to_string())),
        Err(panic) => {
            let what = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".into());
            Err(BuildError::new_err(format!(
                "internal error (a bug in headerwheel, please report it): {what}"
            )))
        }
    }
}

/// Runs the command line with `args` and returns its exit code.
#[pyfunction]
fn cli(py: Python<'_>, args: Vec<String>) -> i32 {
    py.detach(|| crate::cli::main(args.into_iter().map(Into::into).collect()))
}

/// `build_wheel` / `build_editable`: returns the wheel's file name.
#[pyfunction]
fn build_wheel(py: Python<'_>, request: &str, editable: bool) -> PyResult<String> {
    let log = stderr_log();
    run(py, request, |r| wheel::build_wheel(r, editable, &log))
}

/// `build_sdist`: returns the sdist's file name.
#[pyfunction]
fn build_sdist(py: Python<'_>, request: &str) -> PyResult<String> {
    let log = stderr_log();
    run(py, request, |r| wheel::build_sdist(r, &log))
}

/// `prepare_metadata_for_build_*`: returns the `.dist-info` directory name.
#[pyfunction]
fn prepare_metadata(py: Python<'_>, request: &str) -> PyResult<String> {
    run(py, request, wheel::prepare_metadata)
}

/// `get_requires_for_build_*` (`kind` is `wheel`, `editable` or `sdist`).
#[pyfunction]
fn get_requires(py: Python<'_>, request: &str, kind: &str) -> PyResult<Vec<String>> {
    run(py, request, |r| wheel::get_requires(r, kind))
}

#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("BuildError", m.py().get_type::<BuildError>())?;
    m.add_function(wrap_pyfunction!(cli, m)?)?;
    m.add_function(wrap_pyfunction!(build_wheel, m)?)?;
    m.add_function(wrap_pyfunction!(build_sdist, m)?)?;
    m.add_function(wrap_pyfunction!(prepare_metadata, m)?)?;
    m.add_function(wrap_pyfunction!(get_requires, m)?)?;
    Ok(())
}
