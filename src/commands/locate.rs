//! Where the commands find what a build gets from the interpreter's facts:
//! the installed `cffi` package (whose headers the emitted C includes). The
//! build stages never start a process for this; only the command line does.

/// Finds the installed `cffi` package: `$HEADERWHEEL_CFFI_DIR`, else asks
/// `$PYTHON` (or `python3`) where `cffi` is.
pub fn cffi_dir() -> std::io::Result<std::path::PathBuf> {
    if let Some(d) = std::env::var_os("HEADERWHEEL_CFFI_DIR") {
        return Ok(d.into());
    }
    let py = std::env::var("PYTHON").unwrap_or_else(|_| "python3".to_string());
    let out = std::process::Command::new(&py)
        .args([
            "-c",
            "import cffi, os; print(os.path.dirname(cffi.__file__))",
        ])
        .output()
        .map_err(|e| std::io::Error::new(e.kind(), format!("cannot run {py} to find cffi: {e}")))?;
    if !out.status.success() {
        return Err(std::io::Error::other(format!(
            "{py} cannot import cffi (install {}, or set HEADERWHEEL_CFFI_DIR): {}",
            crate::emit::SUPPORTED_CFFI,
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim().into())
}
