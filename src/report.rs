//! The build's voice and its last-resort guard: log lines on stderr, the
//! stage the build is in (for the message of an internal error), the panic
//! guard that keeps a panic from crossing into Python, and the one way the
//! build writes its own files (atomically, unchanged files left alone).

use std::path::Path;

/// A file of the build's own could not be written.
#[derive(Debug, thiserror::Error)]
#[error("{path}: {source}")]
pub struct WriteError {
    /// The path.
    pub path: String,
    /// Why.
    #[source]
    pub source: std::io::Error,
}

impl WriteError {
    fn new(path: &Path, source: std::io::Error) -> Self {
        WriteError {
            path: path.display().to_string(),
            source,
        }
    }
}

/// A line of the build log, on stderr.
pub fn log(msg: &str) {
    eprintln!("headerwheel: {msg}");
}

/// What the build is doing now, for the message of an internal error.
static STAGE: std::sync::Mutex<String> = std::sync::Mutex::new(String::new());

/// Records the stage the build enters. The test suite proves that a panic
/// never crosses into Python by naming a stage in
/// `HEADERWHEEL_INTERNAL_TEST_PANIC`: entering it panics.
pub fn stage(what: String) {
    let deliberate = std::env::var("HEADERWHEEL_INTERNAL_TEST_PANIC")
        .is_ok_and(|want| !want.is_empty() && what.starts_with(&want));
    *STAGE
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner) = what;
    if deliberate {
        panic!("a deliberate panic (HEADERWHEEL_INTERNAL_TEST_PANIC)");
    }
}

/// The stage the build was in (see [`stage`]).
pub fn current_stage() -> String {
    STAGE
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .clone()
}

/// Writes `data` to `path` through a temporary file in the same directory,
/// so a reader (another build sharing the build directory, a compiler) never
/// sees it half-written. An unchanged file is left alone (and its mtime).
pub fn write_if_changed(path: &Path, data: &[u8]) -> Result<(), WriteError> {
    use std::io::Write;
    if std::fs::read(path).is_ok_and(|old| old == data) {
        return Ok(());
    }
    let dir = path.parent().unwrap_or(Path::new("."));
    let mut tmp = tempfile::NamedTempFile::new_in(dir).map_err(|e| WriteError::new(dir, e))?;
    tmp.write_all(data).map_err(|e| WriteError::new(path, e))?;
    tmp.persist(path)
        .map_err(|e| WriteError::new(path, e.error))?;
    Ok(())
}

/// Runs `f`; a panic becomes the message a user can report: the stage the
/// build was in and the panic's own message.
pub fn catch_panic<T>(f: impl FnOnce() -> T) -> Result<T, String> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).map_err(|p| {
        let message = if let Some(s) = p.downcast_ref::<&str>() {
            s.to_string()
        } else if let Some(s) = p.downcast_ref::<String>() {
            s.clone()
        } else {
            "unknown panic".to_string()
        };
        format!(
            "internal error (a bug in headerwheel) in {}: {message}",
            current_stage()
        )
    })
}
