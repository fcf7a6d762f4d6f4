//! The thin pyo3 layer: `headerwheel._native`, called by the PEP 517 hooks in `backend/headerwheel`.
#![allow(unsafe_code)] // pyo3's macros expand to unsafe blocks

use pyo3::prelude::*;

/// Runs the command line with `args` and returns its exit code.
#[pyfunction]
fn cli(py: Python<'_>, args: Vec<String>) -> i32 {
    py.detach(|| crate::cli::main(args.into_iter().map(Into::into).collect()))
}

#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(cli, m)?)?;
    Ok(())
}
