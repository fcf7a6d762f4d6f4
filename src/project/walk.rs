//! The one walk over a project's tree, with one set of skip rules, for
//! everything that lists files: a package's files for the wheel, the sdist's
//! files, and glob patterns (`license-files`, header patterns).
//!
//! Skipped everywhere: version-control metadata, virtual environments and
//! tool caches ([`NEVER`]). Skipped at the project's root only: the build
//! outputs ([`ROOT_OUTPUTS`]); a `build/` deeper down (`vendor/lib/build/`)
//! is source like any other directory. Entries come sorted by name, so every
//! listing is the same on every machine.

use std::path::{Path, PathBuf};

/// Directories no walk enters, at any depth.
pub const NEVER: &[&str] = &[
    ".git",
    ".hg",
    ".svn",
    ".venv",
    "venv",
    "__pycache__",
    ".tox",
    ".nox",
    ".mypy_cache",
    ".pytest_cache",
    ".ruff_cache",
];

/// Directories skipped at the project's root only: what builds write there.
pub const ROOT_OUTPUTS: &[&str] = &["build", "dist", "target"];

/// How a walk treats the tree.
#[derive(Debug, Clone, Copy, Default)]
pub struct WalkOptions {
    /// Honour `.gitignore` and `.git/info/exclude` (the sdist: what git
    /// would track).
    pub gitignore: bool,
    /// Follow symlinks that stay inside the project (a link leading out of
    /// it is an error); else symlinks are not followed and not listed.
    pub follow_links_inside: bool,
    /// Skip every directory whose name starts with a dot (a package's
    /// walk: such a directory is not a Python package).
    pub skip_dot_dirs: bool,
}

/// Why a walk failed.
#[derive(Debug, thiserror::Error)]
pub enum WalkError {
    /// A directory or file could not be read.
    #[error("{path}: {message}")]
    Io {
        /// The path.
        path: String,
        /// Why.
        message: String,
    },
    /// A symlink leads outside the project.
    #[error("{} is a symlink leading outside the project (to {}): it is not packaged", .link.display(), .target.display())]
    LinkOutside {
        /// The link.
        link: PathBuf,
        /// Where it leads.
        target: PathBuf,
    },
}

/// Every regular file under `start` (a directory inside the project at
/// `root`), sorted, as absolute paths under `start`'s spelling.
pub fn files(root: &Path, start: &Path, o: WalkOptions) -> Result<Vec<PathBuf>, WalkError> {
    let io = |path: &Path, e: &dyn std::fmt::Display| WalkError::Io {
        path: path.display().to_string(),
        message: e.to_string(),
    };
    let real_root = root.canonicalize().map_err(|e| io(root, &e))?;
    let root_owned = root.to_path_buf();
    let walker = ignore::WalkBuilder::new(start)
        .standard_filters(false)
        .git_ignore(o.gitignore)
        .git_exclude(o.gitignore)
        .require_git(false)
        .parents(false)
        .follow_links(o.follow_links_inside)
        .sort_by_file_name(|a, b| a.cmp(b))
        .filter_entry(move |e| {
            if !e.file_type().is_some_and(|t| t.is_dir()) || e.depth() == 0 {
                return true;
            }
            let name = e.file_name().to_string_lossy();
            if NEVER.contains(&name.as_ref()) || (o.skip_dot_dirs && name.starts_with('.')) {
                return false;
            }
            let at_root = e.path().parent() == Some(root_owned.as_path());
            !(at_root && ROOT_OUTPUTS.contains(&name.as_ref()))
        })
        .build();
    let mut out = Vec::new();
    for entry in walker {
        let entry = match entry {
            Ok(e) => e,
            // A symlinked directory already walked (a cycle) is walked once.
            Err(e) if is_loop(&e) => continue,
            Err(e) => {
                let path = error_path(&e).unwrap_or_else(|| start.to_path_buf());
                return Err(io(&path, &e));
            }
        };
        let p = entry.path();
        if entry.path_is_symlink() {
            if !o.follow_links_inside {
                continue;
            }
            let real = p.canonicalize().map_err(|e| io(p, &e))?;
            if !real.starts_with(&real_root) {
                return Err(WalkError::LinkOutside {
                    link: p.to_path_buf(),
                    target: real,
                });
            }
        }
        if entry.file_type().is_some_and(|t| t.is_file()) {
            out.push(p.to_path_buf());
        }
    }
    Ok(out)
}

fn is_loop(e: &ignore::Error) -> bool {
    match e {
        ignore::Error::Loop { .. } => true,
        ignore::Error::WithPath { err, .. } | ignore::Error::WithDepth { err, .. } => is_loop(err),
        _ => false,
    }
}

fn error_path(e: &ignore::Error) -> Option<PathBuf> {
    match e {
        ignore::Error::WithPath { path, .. } => Some(path.clone()),
        ignore::Error::WithDepth { err, .. } | ignore::Error::WithLineNumber { err, .. } => {
            error_path(err)
        }
        ignore::Error::Loop { child, .. } => Some(child.clone()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn touch(p: &Path) {
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, "x").unwrap();
    }

    fn rel(root: &Path, v: Vec<PathBuf>) -> Vec<String> {
        v.iter()
            .map(|p| p.strip_prefix(root).unwrap().to_string_lossy().into_owned())
            .collect()
    }

    #[test]
    fn build_outputs_are_skipped_at_the_root_only_and_caches_everywhere() {
        let d = tempfile::tempdir().unwrap();
        let r = d.path();
        for f in [
            "build/x.h",
            "dist/a.whl",
            "target/t",
            "vendor/build/inc.h",
            "vendor/dist/d.h",
            "a/.git/config",
            "a/__pycache__/m.pyc",
            ".venv/bin/python",
            "src/pkg/__init__.py",
        ] {
            touch(&r.join(f));
        }
        let got = rel(r, files(r, r, WalkOptions::default()).unwrap());
        assert_eq!(
            got,
            [
                "src/pkg/__init__.py",
                "vendor/build/inc.h",
                "vendor/dist/d.h"
            ]
        );
    }

    #[test]
    #[cfg(unix)]
    fn links_inside_are_followed_once_and_a_link_out_is_an_error() {
        let d = tempfile::tempdir().unwrap();
        let r = d.path().join("p");
        touch(&r.join("pkg/real/m.py"));
        std::os::unix::fs::symlink(r.join("pkg/real"), r.join("pkg/alias")).unwrap();
        std::os::unix::fs::symlink(r.join("pkg"), r.join("pkg/real/loop")).unwrap();
        let o = WalkOptions {
            follow_links_inside: true,
            ..WalkOptions::default()
        };
        let got = rel(&r, files(&r, &r.join("pkg"), o).unwrap());
        assert!(got.contains(&"pkg/real/m.py".to_string()), "{got:?}");
        assert!(got.contains(&"pkg/alias/m.py".to_string()), "{got:?}");
        touch(&d.path().join("secret.txt"));
        std::os::unix::fs::symlink(d.path().join("secret.txt"), r.join("pkg/s.txt")).unwrap();
        let e = files(&r, &r.join("pkg"), o).unwrap_err();
        assert!(matches!(e, WalkError::LinkOutside { .. }), "{e}");
        // Not followed: neither listed nor an error.
        let got = rel(
            &r,
            files(&r, &r.join("pkg"), WalkOptions::default()).unwrap(),
        );
        assert_eq!(got, ["pkg/real/m.py"]);
    }

    #[test]
    fn gitignore_is_honoured_when_asked() {
        let d = tempfile::tempdir().unwrap();
        let r = d.path();
        touch(&r.join("keep.c"));
        touch(&r.join("gen.o"));
        std::fs::write(r.join(".gitignore"), "*.o\n").unwrap();
        let o = WalkOptions {
            gitignore: true,
            ..WalkOptions::default()
        };
        assert_eq!(rel(r, files(r, r, o).unwrap()), [".gitignore", "keep.c"]);
        assert_eq!(
            rel(r, files(r, r, WalkOptions::default()).unwrap()),
            [".gitignore", "gen.o", "keep.c"]
        );
    }
}
