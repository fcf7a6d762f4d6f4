//! Reading files of trees that are not ours: a project, an unpacked sdist, a
//! committed `.headerkit/` store.
//!
//! What such a tree names may be a FIFO (opening it blocks until a writer
//! comes), a device (`/dev/zero` reads forever), a directory, or a symlink to
//! any of these or to a file outside the tree. Every read of such a file goes
//! through [`read_regular`]: it opens without blocking, optionally without
//! following a symlink at the last component, checks on the opened handle
//! that it is a regular file (no race between the check and the read), and
//! reads at most a limit. The path rules (inside the project, no symlink out)
//! are [`crate::project::paths`]'s; this module only makes the read itself
//! safe.

use std::fmt;
use std::fs::{File, Metadata};
use std::io::{self, Read};
use std::path::Path;

/// The most a project file read whole (a readme, a license text, a cdef, a
/// preamble) may hold.
pub const TEXT_LIMIT: u64 = 64 << 20;

/// The most one file copied into an archive (a package file, a module) may
/// hold.
pub const ARCHIVE_FILE_LIMIT: u64 = 2 << 30;

/// What a non-regular file is, in words for a message.
pub fn kind_name(meta: &Metadata) -> &'static str {
    let t = meta.file_type();
    if t.is_file() {
        return "a regular file";
    }
    if t.is_dir() {
        return "a directory";
    }
    if t.is_symlink() {
        return "a symlink";
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if t.is_fifo() {
            return "a FIFO (named pipe)";
        }
        if t.is_socket() {
            return "a socket";
        }
        if t.is_block_device() || t.is_char_device() {
            return "a device";
        }
    }
    "not a regular file"
}

/// Why a file could not be read.
#[derive(Debug)]
pub enum ReadError {
    /// Nothing is there.
    NotFound,
    /// It is there but is not a regular file (the words say what it is).
    NotRegular(&'static str),
    /// A symlink where none may be followed.
    Symlink,
    /// Larger than the limit.
    TooLarge {
        /// Its size (at least `limit + 1` when it grew while read).
        size: u64,
        /// The limit.
        limit: u64,
    },
    /// Any other I/O error.
    Io(io::Error),
}

impl fmt::Display for ReadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReadError::NotFound => write!(f, "it does not exist"),
            ReadError::NotRegular(kind) => write!(f, "it is {kind}, not a regular file"),
            ReadError::Symlink => write!(f, "it is a symlink, which is not followed here"),
            ReadError::TooLarge { size, limit } => {
                write!(f, "it is {size} bytes, over the limit of {limit} bytes")
            }
            ReadError::Io(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for ReadError {}

impl From<io::Error> for ReadError {
    fn from(e: io::Error) -> Self {
        match e.kind() {
            io::ErrorKind::NotFound => ReadError::NotFound,
            _ => ReadError::Io(e),
        }
    }
}

/// Whether a symlink at the last component of the path is followed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Links {
    /// Followed (the caller has checked where it leads).
    Follow,
    /// Refused with [`ReadError::Symlink`].
    Refuse,
}

/// Opens `path` for reading: never blocks (a FIFO opens at once and is
/// refused), and with [`Links::Refuse`] never follows a final symlink. The
/// handle is checked to be a regular file.
pub fn open_regular(path: &Path, links: Links) -> Result<(File, Metadata), ReadError> {
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        let mut flags = libc::O_NONBLOCK | libc::O_NOCTTY | libc::O_CLOEXEC;
        if links == Links::Refuse {
            flags |= libc::O_NOFOLLOW;
        }
        options.custom_flags(flags);
    }
    #[cfg(not(unix))]
    {
        // No FIFOs to block on; a final symlink is refused by looking first
        // (a reparse point is opened as itself only with extra flags).
        if links == Links::Refuse {
            let meta = std::fs::symlink_metadata(path)?;
            if meta.file_type().is_symlink() {
                return Err(ReadError::Symlink);
            }
        }
    }
    let file = match options.open(path) {
        Ok(f) => f,
        // O_NOFOLLOW on a symlink: ELOOP (Linux, macOS); EMLINK (FreeBSD).
        #[cfg(unix)]
        Err(e)
            if links == Links::Refuse
                && matches!(e.raw_os_error(), Some(libc::ELOOP) | Some(libc::EMLINK)) =>
        {
            return Err(ReadError::Symlink);
        }
        Err(e) => {
            // A directory may refuse to open on some systems: say what it is.
            if let Ok(meta) = std::fs::metadata(path)
                && !meta.is_file()
            {
                return Err(ReadError::NotRegular(kind_name(&meta)));
            }
            return Err(e.into());
        }
    };
    let meta = file.metadata()?;
    if !meta.is_file() {
        return Err(ReadError::NotRegular(kind_name(&meta)));
    }
    Ok((file, meta))
}

/// Reads the whole regular file at `path`, at most `limit` bytes (a file
/// that grows past it while read is refused too).
pub fn read_regular(path: &Path, limit: u64, links: Links) -> Result<Vec<u8>, ReadError> {
    let (file, meta) = open_regular(path, links)?;
    if meta.len() > limit {
        return Err(ReadError::TooLarge {
            size: meta.len(),
            limit,
        });
    }
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    file.take(limit + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > limit {
        return Err(ReadError::TooLarge {
            size: bytes.len() as u64,
            limit,
        });
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_regular_file_is_read_and_a_larger_one_refused() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("f");
        std::fs::write(&p, b"12345").unwrap();
        assert_eq!(read_regular(&p, 5, Links::Refuse).unwrap(), b"12345");
        let e = read_regular(&p, 4, Links::Refuse).unwrap_err();
        assert_eq!(e.to_string(), "it is 5 bytes, over the limit of 4 bytes");
    }

    #[test]
    fn missing_directory_and_symlink_are_named() {
        let d = tempfile::tempdir().unwrap();
        let e = read_regular(&d.path().join("nope"), 9, Links::Follow).unwrap_err();
        assert_eq!(e.to_string(), "it does not exist");
        let e = read_regular(d.path(), 9, Links::Follow).unwrap_err();
        assert_eq!(e.to_string(), "it is a directory, not a regular file");
        #[cfg(unix)]
        {
            let target = d.path().join("t");
            std::fs::write(&target, b"x").unwrap();
            std::os::unix::fs::symlink(&target, d.path().join("l")).unwrap();
            let e = read_regular(&d.path().join("l"), 9, Links::Refuse).unwrap_err();
            assert_eq!(e.to_string(), "it is a symlink, which is not followed here");
            assert_eq!(
                read_regular(&d.path().join("l"), 9, Links::Follow).unwrap(),
                b"x"
            );
        }
    }

    #[cfg(unix)]
    #[test]
    fn a_fifo_and_a_device_are_refused_without_blocking_or_reading() {
        let d = tempfile::tempdir().unwrap();
        let fifo = d.path().join("fifo");
        // mkfifo(1), not libc::mkfifo: the crate's unsafe stays in one module.
        let status = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap();
        assert!(status.success());
        let e = read_regular(&fifo, 1 << 20, Links::Follow).unwrap_err();
        assert_eq!(
            e.to_string(),
            "it is a FIFO (named pipe), not a regular file"
        );
        let e = read_regular(Path::new("/dev/zero"), 1 << 20, Links::Follow).unwrap_err();
        assert_eq!(e.to_string(), "it is a device, not a regular file");
        std::os::unix::fs::symlink("/dev/zero", d.path().join("z")).unwrap();
        let e = read_regular(&d.path().join("z"), 1 << 20, Links::Follow).unwrap_err();
        assert_eq!(e.to_string(), "it is a device, not a regular file");
    }
}
