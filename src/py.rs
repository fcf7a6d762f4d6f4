//! The thin pyo3 layer: `headerwheel._native`, called by the PEP 517 hooks in
//! `backend/headerwheel`. Errors become `headerwheel._native.BuildError`;
//! a panic never crosses into Python (it becomes a `BuildError` naming the
//! stage).
#![allow(unsafe_code)] // pyo3's macros expand to unsafe blocks

use pyo3::create_exception;
use pyo3::exceptions::PyException;
use pyo3::prelude::*;

create_exception!(
    _native,
    BuildError,
    PyException,
    "A build failed; the message says where and why."
);

create_exception!(
    _native,
    NeedInterpreter,
    PyException,
    "The hook needs the interpreter's facts (the wheel compiles modules or shared libraries): call again with them."
);

fn panic_message(p: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = p.downcast_ref::<&str>() {
        s.to_string()
    } else if let Some(s) = p.downcast_ref::<String>() {
        s.clone()
    } else {
        "unknown panic".to_string()
    }
}

/// Runs the command line with `args` and returns its exit code.
#[pyfunction]
fn cli(py: Python<'_>, args: Vec<String>) -> PyResult<i32> {
    py.detach(|| {
        std::panic::catch_unwind(|| crate::cli::main(args.into_iter().map(Into::into).collect()))
    })
    .map_err(|p| {
        BuildError::new_err(format!(
            "internal error (a bug in headerwheel) in {}: {}",
            crate::build::current_stage(),
            panic_message(&*p)
        ))
    })
}

/// Runs a PEP 517 hook described by `request` (JSON); returns its result.
#[pyfunction]
fn hook(py: Python<'_>, request: String) -> PyResult<String> {
    let req: crate::build::Request = serde_json::from_str(&request)
        .map_err(|e| BuildError::new_err(format!("internal error: bad hook request: {e}")))?;
    let hook = req.hook.clone();
    let result = py.detach(|| std::panic::catch_unwind(|| crate::build::run_hook(&req)));
    match result {
        Ok(Ok(s)) => Ok(s),
        Ok(Err(crate::build::BuildError::NeedInterpreter)) => Err(NeedInterpreter::new_err(hook)),
        Ok(Err(e)) => Err(BuildError::new_err(e.to_string())),
        Err(p) => Err(BuildError::new_err(format!(
            "internal error (a bug in headerwheel) in {} ({hook}): {}",
            crate::build::current_stage(),
            panic_message(&*p)
        ))),
    }
}

#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(cli, m)?)?;
    m.add_function(wrap_pyfunction!(hook, m)?)?;
    m.add("BuildError", m.py().get_type::<BuildError>())?;
    m.add("NeedInterpreter", m.py().get_type::<NeedInterpreter>())?;
    Ok(())
}
