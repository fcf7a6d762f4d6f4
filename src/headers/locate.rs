//! Which libclang this machine would use, found without loading it.
//!
//! Loading libclang takes tens of milliseconds; a cache hit must not pay
//! that. The cache keys its entries on the libclang that made them (a newer
//! libclang can read headers differently), so a lookup needs the identity of
//! the local libclang: this module finds the library file the way clang-sys
//! does (`LIBCLANG_PATH`, then the usual directories, the highest version
//! winning) and names it by its real file name and size. Should the two
//! searches ever disagree, the cost is a cache miss, never a wrong hit.

use std::path::{Path, PathBuf};

/// Directories searched when `LIBCLANG_PATH` is unset: where clang-sys
/// looks on Linux, narrowed to the directories a libclang is installed in
/// (`llvm*`, the multiarch `*-linux-*`), so that the search reads a few
/// directories instead of every one under /usr/lib (it runs on each cache
/// lookup). `*` matches within one path component.
const DIRS: &[&str] = &[
    "/usr/local/llvm*/lib*",
    "/usr/local/lib*",
    "/usr/local/lib*/llvm*/lib*",
    "/usr/local/lib*/*-linux-*",
    "/usr/lib*",
    "/usr/lib*/llvm*/lib*",
    "/usr/lib*/*-linux-*",
    "/usr/lib*/*-linux-*/llvm*/lib*",
];

fn is_libclang_name(name: &str) -> bool {
    (name.starts_with("libclang.so") || (name.starts_with("libclang-") && name.contains(".so")))
        && !name.starts_with("libclang-cpp")
}

/// The version digits in a file name (`libclang-14.so.1` → [14, 1]), which
/// orders candidates as clang-sys does (the highest wins).
fn version_of(name: &str) -> Vec<u32> {
    name.split(|c: char| !c.is_ascii_digit())
        .filter(|s| !s.is_empty())
        .filter_map(|s| s.parse().ok())
        .collect()
}

fn candidates_in(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    for e in rd.flatten() {
        if e.file_name().to_str().is_some_and(is_libclang_name) {
            out.push(e.path());
        }
    }
}

/// Expands one `DIRS` pattern (`*` within a component) to directories.
fn expand(pattern: &str) -> Vec<PathBuf> {
    let mut dirs = vec![PathBuf::from("/")];
    for comp in pattern.trim_start_matches('/').split('/') {
        let mut next = Vec::new();
        for d in &dirs {
            if let Some((pre, post)) = comp.split_once('*') {
                let Ok(rd) = std::fs::read_dir(d) else {
                    continue;
                };
                let mut found: Vec<PathBuf> = rd
                    .flatten()
                    .filter(|e| {
                        e.file_name().to_str().is_some_and(|n| {
                            n.starts_with(pre)
                                && n.ends_with(post)
                                && n.len() >= pre.len() + post.len()
                        })
                    })
                    .map(|e| e.path())
                    .filter(|p| p.is_dir())
                    .collect();
                found.sort();
                next.extend(found);
            } else {
                let p = d.join(comp);
                if p.is_dir() {
                    next.push(p);
                }
            }
        }
        dirs = next;
    }
    dirs
}

/// The libclang file this machine would load, if any.
pub fn locate_libclang() -> Option<PathBuf> {
    let mut found = Vec::new();
    if let Some(p) = std::env::var_os("LIBCLANG_PATH").filter(|p| !p.is_empty()) {
        let p = PathBuf::from(p);
        if p.is_file() {
            return Some(p);
        }
        candidates_in(&p, &mut found);
    } else {
        for pattern in DIRS {
            for d in expand(pattern) {
                candidates_in(&d, &mut found);
            }
        }
    }
    found
        .into_iter()
        .filter_map(|p| {
            let real = std::fs::canonicalize(&p).ok()?;
            let name = real.file_name()?.to_str()?.to_string();
            Some((version_of(&name), real))
        })
        .max()
        .map(|(_, p)| p)
}

/// A name for the libclang at `path`: its real file name and size
/// (`libclang-14.so.14.0.6:30626592`).
pub fn identity(path: &Path) -> String {
    let real = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
    let name = real
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("libclang");
    let size = std::fs::metadata(&real).map(|m| m.len()).unwrap_or(0);
    format!("{name}:{size}")
}

/// The identity of the libclang this machine would use; None when it has
/// none (or libclang is disabled with `HEADERWHEEL_NO_LIBCLANG`).
pub fn local_identity() -> Option<String> {
    if std::env::var_os("HEADERWHEEL_NO_LIBCLANG").is_some_and(|v| !v.is_empty() && v != "0") {
        return None;
    }
    locate_libclang().map(|p| identity(&p))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_versions() {
        assert!(is_libclang_name("libclang.so"));
        assert!(is_libclang_name("libclang-14.so.1"));
        assert!(!is_libclang_name("libclang-cpp.so.14"));
        assert!(!is_libclang_name("libclangAST.a"));
        assert!(version_of("libclang-14.so.14.0.6") > version_of("libclang-13.so.1"));
    }

    #[test]
    fn the_path_variable_wins() {
        let d = tempfile::tempdir().unwrap();
        let f = d.path().join("libclang.so");
        std::fs::write(&f, b"not really").unwrap();
        // Only the function under test reads the variable in this process's
        // unit tests; the located file is the one named.
        let found = {
            let mut v = Vec::new();
            candidates_in(d.path(), &mut v);
            v
        };
        assert_eq!(found, vec![f.clone()]);
        assert_eq!(identity(&f), "libclang.so:10");
    }

    #[test]
    fn finds_the_system_libclang_when_there_is_one() {
        // On the CI machine scripts/setup installs libclang1-14.
        if std::path::Path::new("/usr/lib/llvm-14/lib/libclang.so.1").exists()
            && std::env::var_os("LIBCLANG_PATH").is_none()
        {
            let p = locate_libclang().expect("libclang found");
            assert!(
                p.file_name()
                    .unwrap()
                    .to_str()
                    .unwrap()
                    .starts_with("libclang"),
                "{p:?}"
            );
        }
    }
}
