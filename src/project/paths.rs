//! The one place that decides whether a path a project names may be used.
//!
//! A project (an unpacked sdist, say) is untrusted: every path it names —
//! readme, license files, cdef, preamble, sources, package directories,
//! headers, outputs, the store — goes through [`ProjectDir`]. A path must be
//! relative and stay inside the project after normalisation (`a/../b` is
//! `b`; `../b` is refused), no symlink on the way may lead out of it, and
//! where a file is expected it must be a regular file (a FIFO, a device or a
//! directory is refused by name). Files read whole are read through
//! [`crate::untrusted::read_regular`], bounded and without blocking.
//!
//! Include and library directories outside the project stay allowed (system
//! headers), but nothing under them is ever read into an archive.

use std::fmt;
use std::path::{Component, Path, PathBuf};

use crate::untrusted::{self, Links, ReadError};

/// What a path was expected to be, for messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expect {
    /// An existing regular file.
    File,
    /// An existing directory.
    Dir,
    /// Anything or nothing yet (an output, a store that may not exist).
    Any,
}

/// Why a path a project names cannot be used.
#[derive(Debug)]
pub enum PathError {
    /// Empty, absolute, or climbing out of the project through `..`.
    Outside(String),
    /// A relative include or library directory climbing out of the
    /// project.
    OutsideDir(String),
    /// A symlink on the way leads out of the project.
    SymlinkOut {
        /// The path as given.
        path: String,
        /// Where it leads.
        to: PathBuf,
    },
    /// Nothing is there.
    Missing(String),
    /// Not of the expected kind (`kind`: what it is).
    WrongKind {
        /// The path as given.
        path: String,
        /// What it is (`a directory`, `a FIFO (named pipe)`, ...).
        kind: &'static str,
        /// What was expected.
        expected: Expect,
    },
    /// It is not UTF-8 text (where text is expected).
    NotUtf8(crate::text::InvalidUtf8),
    /// It could not be read.
    Read {
        /// The path as given.
        path: String,
        /// Why.
        source: ReadError,
    },
}

impl fmt::Display for PathError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PathError::Outside(p) => write!(
                f,
                "'{p}' is outside the project: give a path inside it, relative to the directory of pyproject.toml"
            ),
            PathError::OutsideDir(p) => write!(
                f,
                "'{p}' is outside the project: a relative directory stays inside it (an absolute path names a system directory)"
            ),
            PathError::SymlinkOut { path, to } => write!(
                f,
                "'{path}' leads outside the project through a symlink (to {})",
                to.display()
            ),
            PathError::Missing(p) => write!(f, "'{p}' does not exist"),
            PathError::WrongKind {
                path,
                kind,
                expected,
            } => {
                let want = match expected {
                    Expect::File => "a regular file",
                    Expect::Dir => "a directory",
                    Expect::Any => "a file or a directory",
                };
                write!(f, "'{path}' is {kind}, not {want}")
            }
            PathError::NotUtf8(e) => write!(f, "{e}"),
            PathError::Read { path, source } => write!(f, "cannot read '{path}': {source}"),
        }
    }
}

impl std::error::Error for PathError {}

/// `p` normalised lexically (`.` dropped, `a/..` folded), or None when it is
/// empty, absolute or climbs above its base.
pub fn normalize(p: &Path) -> Option<PathBuf> {
    let mut out: Vec<&std::ffi::OsStr> = Vec::new();
    for c in p.components() {
        match c {
            Component::Normal(n) => out.push(n),
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop()?;
            }
            Component::RootDir | Component::Prefix(_) => return None,
        }
    }
    Some(out.iter().collect())
}

/// The project directory, as the resolver sees it.
#[derive(Debug, Clone)]
pub struct ProjectDir {
    root: PathBuf,
    real_root: PathBuf,
}

impl ProjectDir {
    /// The project at `root` (its real path is resolved once).
    pub fn new(root: &Path) -> ProjectDir {
        ProjectDir {
            root: root.to_path_buf(),
            real_root: root.canonicalize().unwrap_or_else(|_| root.to_path_buf()),
        }
    }

    /// The project directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// `p` (as the project wrote it) as a normalised path relative to the
    /// project, checked lexically and against symlinks, and of the expected
    /// kind. `.` (the project itself) is the empty path.
    pub fn resolve(&self, p: &str, expect: Expect) -> Result<PathBuf, PathError> {
        let rel = normalize(Path::new(p))
            .filter(|_| !p.is_empty())
            .ok_or_else(|| PathError::Outside(p.to_string()))?;
        self.check(p, &rel, expect)?;
        Ok(rel)
    }

    /// An include or library directory: an absolute path names a system
    /// directory and is kept as it is (nothing under it is ever packaged); a
    /// relative one is the project's and resolved like any other path.
    pub fn search_dir(&self, p: &str) -> Result<PathBuf, PathError> {
        if Path::new(p).is_absolute() {
            return Ok(PathBuf::from(p));
        }
        self.resolve(p, Expect::Any).map_err(|e| match e {
            PathError::Outside(p) => PathError::OutsideDir(p),
            e => e,
        })
    }

    /// Checks a normalised relative path `rel` (named `shown` in messages):
    /// every symlink on the way must lead inside the project (a dangling one
    /// by where it points), and the whole must be of the expected kind.
    pub fn check(&self, shown: &str, rel: &Path, expect: Expect) -> Result<(), PathError> {
        self.check_links(shown, rel, 0)?;
        let full = self.root.join(rel);
        let meta = match std::fs::metadata(&full) {
            Ok(m) => m,
            Err(_) if expect == Expect::Any => return Ok(()),
            Err(_) => return Err(PathError::Missing(shown.to_string())),
        };
        match expect {
            Expect::Any => Ok(()),
            Expect::File if meta.is_file() => Ok(()),
            Expect::Dir if meta.is_dir() => Ok(()),
            expected => Err(PathError::WrongKind {
                path: shown.to_string(),
                kind: untrusted::kind_name(&meta),
                expected,
            }),
        }
    }

    /// Walks `rel` from the real project root; each symlink met must resolve
    /// inside it. A dangling link is judged by its target (followed again,
    /// at most 40 links, as the kernel does).
    fn check_links(&self, shown: &str, rel: &Path, depth: u32) -> Result<(), PathError> {
        let out = |to: PathBuf| PathError::SymlinkOut {
            path: shown.to_string(),
            to,
        };
        let mut cur = self.real_root.clone();
        let mut parts = rel.components();
        while let Some(c) = parts.next() {
            cur.push(c);
            let Ok(m) = std::fs::symlink_metadata(&cur) else {
                return Ok(()); // nothing there from here on
            };
            if !m.file_type().is_symlink() {
                continue;
            }
            match cur.canonicalize() {
                Ok(real) if real.starts_with(&self.real_root) => cur = real,
                Ok(real) => return Err(out(real)),
                Err(_) => {
                    // Dangling: where it points, lexically.
                    let link = std::fs::read_link(&cur).unwrap_or_default();
                    let target = cur.parent().unwrap_or(&self.real_root).join(link);
                    let Some(inside) = target
                        .strip_prefix(&self.real_root)
                        .ok()
                        .and_then(normalize)
                        .filter(|_| depth < 40)
                    else {
                        return Err(out(target));
                    };
                    let rest: PathBuf = inside.join(parts.as_path());
                    return self.check_links(shown, &rest, depth + 1);
                }
            }
        }
        Ok(())
    }

    /// Reads the project file `rel` (a path [`ProjectDir::resolve`] gave),
    /// at most `limit` bytes; the checks are made again on the opened file.
    pub fn read(&self, rel: &Path, limit: u64) -> Result<Vec<u8>, PathError> {
        let shown = rel.to_string_lossy().to_string();
        self.check(&shown, rel, Expect::File)?;
        let real = self
            .root
            .join(rel)
            .canonicalize()
            .map_err(|e| PathError::Read {
                path: shown.clone(),
                source: e.into(),
            })?;
        if !real.starts_with(&self.real_root) {
            return Err(PathError::SymlinkOut {
                path: shown,
                to: real,
            });
        }
        // The real path, with no symlink left to follow: a link swapped in
        // after the check is refused rather than followed.
        untrusted::read_regular(&real, limit, Links::Refuse).map_err(|source| match source {
            ReadError::NotRegular(kind) => PathError::WrongKind {
                path: shown.clone(),
                kind,
                expected: Expect::File,
            },
            ReadError::NotFound => PathError::Missing(shown.clone()),
            source => PathError::Read {
                path: shown.clone(),
                source,
            },
        })
    }

    /// Reads the project file `rel` as UTF-8 text (a readme, a license, a
    /// cdef), at most [`untrusted::TEXT_LIMIT`] bytes.
    pub fn read_text(&self, rel: &Path) -> Result<String, PathError> {
        let bytes = self.read(rel, untrusted::TEXT_LIMIT)?;
        crate::text::utf8(bytes, rel).map_err(PathError::NotUtf8)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn project() -> (tempfile::TempDir, ProjectDir) {
        let base = tempfile::tempdir().unwrap();
        let root = base.path().join("p");
        std::fs::create_dir_all(root.join("pkg/sub")).unwrap();
        std::fs::write(root.join("pkg/a.txt"), "a").unwrap();
        std::fs::write(base.path().join("secret.txt"), "secret").unwrap();
        let dir = ProjectDir::new(&root);
        (base, dir)
    }

    fn err(d: &ProjectDir, p: &str, e: Expect) -> String {
        d.resolve(p, e).unwrap_err().to_string()
    }

    #[test]
    fn normalisation_folds_dots_and_refuses_escapes() {
        let n = |p: &str| normalize(Path::new(p));
        assert_eq!(n("a/./b/../c"), Some(PathBuf::from("a/c")));
        assert_eq!(n("a/.."), Some(PathBuf::new()));
        assert_eq!(n("../a"), None);
        assert_eq!(n("a/../../a"), None);
        assert_eq!(n("/etc/passwd"), None);
    }

    #[test]
    fn paths_inside_resolve_and_others_are_refused_by_name() {
        let (base, d) = project();
        assert_eq!(
            d.resolve("pkg/sub/../a.txt", Expect::File).unwrap(),
            PathBuf::from("pkg/a.txt")
        );
        assert_eq!(d.resolve(".", Expect::Dir).unwrap(), PathBuf::new());
        assert_eq!(
            err(&d, "../secret.txt", Expect::File),
            "'../secret.txt' is outside the project: give a path inside it, relative to the directory of pyproject.toml"
        );
        assert_eq!(
            err(&d, "/etc/hostname", Expect::File),
            "'/etc/hostname' is outside the project: give a path inside it, relative to the directory of pyproject.toml"
        );
        assert_eq!(
            err(&d, "", Expect::Any),
            "'' is outside the project: give a path inside it, relative to the directory of pyproject.toml"
        );
        assert_eq!(
            err(&d, "pkg/none.txt", Expect::File),
            "'pkg/none.txt' does not exist"
        );
        assert_eq!(
            err(&d, "pkg", Expect::File),
            "'pkg' is a directory, not a regular file"
        );
        assert_eq!(
            err(&d, "pkg/a.txt", Expect::Dir),
            "'pkg/a.txt' is a regular file, not a directory"
        );
        assert!(d.resolve("out/new.txt", Expect::Any).is_ok());
        drop(base);
    }

    #[cfg(unix)]
    #[test]
    fn symlinks_out_fifos_and_devices_are_refused() {
        let (base, d) = project();
        let root = d.root().to_path_buf();
        let link =
            |target: &Path, at: &str| std::os::unix::fs::symlink(target, root.join(at)).unwrap();
        link(&base.path().join("secret.txt"), "license.txt");
        link(base.path(), "outdir");
        link(Path::new("/dev/zero"), "zero");
        link(&base.path().join("nothing-yet"), "dangling");
        link(Path::new("pkg/a.txt"), "inside.txt");
        std::process::Command::new("mkfifo")
            .arg(root.join("fifo"))
            .status()
            .unwrap();
        let real_base = base.path().canonicalize().unwrap();
        let out = |p: &str| {
            format!(
                "'{p}' leads outside the project through a symlink (to {})",
                real_base.display()
            )
        };
        assert_eq!(
            err(&d, "license.txt", Expect::File),
            format!("{}/secret.txt)", out("license.txt").trim_end_matches(')'))
        );
        assert_eq!(err(&d, "outdir", Expect::Any), out("outdir"));
        // Through a symlinked directory, to a file that does not exist yet.
        assert_eq!(
            err(&d, "outdir/new/x.txt", Expect::Any),
            out("outdir/new/x.txt")
        );
        assert_eq!(
            err(&d, "zero", Expect::File),
            "'zero' leads outside the project through a symlink (to /dev/zero)"
        );
        assert_eq!(
            err(&d, "dangling", Expect::Any),
            format!(
                "'dangling' leads outside the project through a symlink (to {}/nothing-yet)",
                base.path().display()
            )
        );
        assert_eq!(
            err(&d, "fifo", Expect::File),
            "'fifo' is a FIFO (named pipe), not a regular file"
        );
        assert_eq!(d.read_text(Path::new("inside.txt")).unwrap(), "a");
        let e = d.read(Path::new("fifo"), 10).unwrap_err().to_string();
        assert_eq!(e, "'fifo' is a FIFO (named pipe), not a regular file");
    }

    #[test]
    fn search_directories_are_absolute_or_inside() {
        let (_base, d) = project();
        assert_eq!(
            d.search_dir("/usr/include").unwrap(),
            PathBuf::from("/usr/include")
        );
        assert_eq!(d.search_dir("./pkg/sub/..").unwrap(), PathBuf::from("pkg"));
        assert_eq!(d.search_dir(".").unwrap(), PathBuf::new());
        assert_eq!(
            d.search_dir("../../etc").unwrap_err().to_string(),
            "'../../etc' is outside the project: a relative directory stays inside it (an absolute path names a system directory)"
        );
    }

    #[test]
    fn reads_are_bounded_and_text_must_be_utf8() {
        let (_base, d) = project();
        std::fs::write(d.root().join("big.txt"), vec![b'x'; 11]).unwrap();
        assert_eq!(
            d.read(Path::new("big.txt"), 10).unwrap_err().to_string(),
            "cannot read 'big.txt': it is 11 bytes, over the limit of 10 bytes"
        );
        std::fs::write(d.root().join("bad.txt"), b"ok\nab\xffc").unwrap();
        assert_eq!(
            d.read_text(Path::new("bad.txt")).unwrap_err().to_string(),
            "bad.txt:2:3: invalid UTF-8 (byte 0xff): the file must be UTF-8 text\n    ab\u{fffd}c\n      ^"
        );
    }
}
