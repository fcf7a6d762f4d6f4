//! The symbols a shared library exports (its ELF dynamic symbol table), to
//! leave out declarations the library does not actually provide.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use object::{Object, ObjectSymbol};

/// Where the linker looks for `-l` libraries, then `extra` first.
pub fn library_search_path(extra: &[PathBuf]) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = extra.to_vec();
    for d in [
        "/usr/local/lib",
        "/usr/lib/x86_64-linux-gnu",
        "/lib/x86_64-linux-gnu",
        "/usr/lib/aarch64-linux-gnu",
        "/lib/aarch64-linux-gnu",
        "/usr/lib64",
        "/lib64",
        "/usr/lib",
        "/lib",
    ] {
        v.push(PathBuf::from(d));
    }
    v
}

/// Finds `lib{name}.so` (or a versioned `lib{name}.so.N`) on `path`.
pub fn find_library(name: &str, path: &[PathBuf]) -> Option<PathBuf> {
    let plain = format!("lib{name}.so");
    for d in path {
        let p = d.join(&plain);
        if p.is_file() {
            return Some(p);
        }
    }
    for d in path {
        let Ok(rd) = std::fs::read_dir(d) else {
            continue;
        };
        let mut hits: Vec<PathBuf> = rd
            .flatten()
            .map(|e| e.path())
            .filter(|p| {
                p.file_name()
                    .is_some_and(|f| f.to_string_lossy().starts_with(&format!("{plain}.")))
            })
            .collect();
        hits.sort();
        if let Some(h) = hits.into_iter().next() {
            return Some(h);
        }
    }
    None
}

/// The global symbols `lib` defines in its dynamic symbol table.
pub fn exported_symbols(lib: &Path) -> Result<HashSet<String>, String> {
    let data = std::fs::read(lib).map_err(|e| format!("{}: {e}", lib.display()))?;
    let file = object::File::parse(&*data).map_err(|e| format!("{}: {e}", lib.display()))?;
    let mut out = HashSet::new();
    for s in file.dynamic_symbols() {
        if s.is_definition()
            && s.is_global()
            && let Ok(n) = s.name()
        {
            // Drop symbol versions (`f@@V1`).
            out.insert(n.split('@').next().unwrap_or(n).to_string());
        }
    }
    Ok(out)
}
