//! The sdist: `{name}-{version}.tar.gz` with one top directory holding
//! `PKG-INFO`, `pyproject.toml` and the sources, selected gitignore-aware
//! with `[tool.headerwheel.sdist]` include/exclude globs. Entries are
//! sorted, owned by 0:0, dated `SOURCE_DATE_EPOCH`, and the gzip header
//! carries no time or name, so the same tree gives the same bytes.

use std::io::Write;
use std::path::{Path, PathBuf};

use regex::Regex;

use super::archive::ArchiveError;
use crate::config::{Project, glob};

/// One `.gitignore` line.
#[derive(Debug, Clone)]
struct IgnoreRule {
    /// The directory holding the `.gitignore` (relative, `""` for the root).
    base: String,
    re: Regex,
    /// Matches the file name at any depth (pattern without `/`).
    basename: bool,
    negate: bool,
    dir_only: bool,
}

fn parse_gitignore(base: &str, text: &str) -> Vec<IgnoreRule> {
    text.lines()
        .filter_map(|line| {
            let line = line.trim_end();
            if line.is_empty() || line.starts_with('#') {
                return None;
            }
            let (negate, pat) = match line.strip_prefix('!') {
                Some(p) => (true, p),
                None => (false, line.strip_prefix('\\').unwrap_or(line)),
            };
            let (dir_only, pat) = match pat.strip_suffix('/') {
                Some(p) => (true, p),
                None => (false, pat),
            };
            let basename = !pat.contains('/');
            let pat = pat.trim_start_matches('/');
            let re = glob::glob_regex(pat).ok()?;
            Some(IgnoreRule { base: base.to_string(), re, basename, negate, dir_only })
        })
        .collect()
}

fn ignored(rules: &[IgnoreRule], rel: &str, is_dir: bool) -> bool {
    let mut result = false;
    for r in rules {
        if r.dir_only && !is_dir {
            continue;
        }
        let Some(sub) = (if r.base.is_empty() { Some(rel) } else { rel.strip_prefix(&format!("{}/", r.base)) }) else {
            continue;
        };
        let hit = if r.basename {
            r.re.is_match(sub.rsplit('/').next().unwrap_or(sub))
        } else {
            r.re.is_match(sub)
        };
        if hit {
            result = !r.negate;
        }
    }
    result
}

/// Always left out of an sdist: build outputs and caches.
fn default_excluded(rel: &str, is_dir: bool) -> bool {
    let name = rel.rsplit('/').next().unwrap_or(rel);
    if is_dir {
        return glob::SKIPPED_DIRS.contains(&name)
            || (!rel.contains('/') && matches!(name, "build" | "dist" | "target"));
    }
    name.ends_with(".pyc")
        || name.ends_with(".pyo")
        || name.ends_with(".so")
        || name.ends_with(".o")
        || name.ends_with(".pyd")
        || name == ".DS_Store"
}

/// The project files an sdist holds (relative, sorted).
pub fn select_files(project: &Project) -> Result<Vec<String>, String> {
    let root = &project.root;
    let mut rules = Vec::new();
    let mut out = Vec::new();
    let mut stack = vec![String::new()];
    while let Some(rel) = stack.pop() {
        let dir = if rel.is_empty() { root.clone() } else { root.join(&rel) };
        if let Ok(text) = std::fs::read_to_string(dir.join(".gitignore")) {
            rules.extend(parse_gitignore(&rel, &text));
        }
        let mut entries: Vec<(String, bool)> = std::fs::read_dir(&dir)
            .map_err(|e| format!("cannot list {}: {e}", dir.display()))?
            .filter_map(Result::ok)
            .map(|e| {
                let name = e.file_name().to_string_lossy().into_owned();
                (name, e.path().is_dir())
            })
            .collect();
        entries.sort();
        for (name, is_dir) in entries {
            let path = if rel.is_empty() { name.clone() } else { format!("{rel}/{name}") };
            let keep_cache = path == ".headerkit" || path.starts_with(".headerkit/");
            if default_excluded(&path, is_dir) || (!keep_cache && ignored(&rules, &path, is_dir)) {
                continue;
            }
            if is_dir {
                stack.push(path);
            } else {
                out.push(path);
            }
        }
    }
    // Forced in: the build's own inputs and the include globs.
    let mut forced: Vec<String> = vec!["pyproject.toml".into()];
    if let Some(f) = project.metadata.readme.as_ref().and_then(|r| r.file.clone()) {
        forced.push(f);
    }
    forced.extend(project.metadata.license_files.iter().cloned());
    for m in &project.modules {
        forced.extend(m.input_files());
    }
    for g in &project.sdist.include {
        forced.extend(glob::glob_files(root, g)?);
    }
    out.extend(forced);
    let excludes: Vec<Regex> = project.sdist.exclude.iter().map(|g| glob::glob_regex(g)).collect::<Result<_, _>>()?;
    out.retain(|f| !excludes.iter().any(|re| re.is_match(f)) && f != "PKG-INFO");
    out.sort();
    out.dedup();
    Ok(out)
}

fn io<'a>(action: &'static str, path: &'a Path) -> impl FnOnce(std::io::Error) -> ArchiveError + use<'a> {
    move |source| ArchiveError::Io { action, path: path.to_path_buf(), source }
}

/// The sdist's file name (`name-1.0.tar.gz`).
pub fn sdist_name(project: &Project) -> String {
    format!("{}-{}.tar.gz", project.metadata.file_name(), project.metadata.file_version())
}

/// Writes the sdist of `project` into `out_dir` atomically; returns its path.
pub fn write_sdist(project: &Project, out_dir: &Path, mtime: u64) -> Result<PathBuf, ArchiveError> {
    let files = select_files(project).map_err(|m| ArchiveError::Io {
        action: "select the files of",
        path: project.root.clone(),
        source: std::io::Error::other(m),
    })?;
    let top = format!("{}-{}", project.metadata.file_name(), project.metadata.file_version());
    let target = out_dir.join(format!("{top}.tar.gz"));
    let tmp = tempfile::Builder::new()
        .prefix(".headerwheel-")
        .suffix(".tmp")
        .tempfile_in(out_dir)
        .map_err(io("create a temporary file in", out_dir))?;
    let gz = flate2::GzBuilder::new()
        .mtime(0)
        .write(std::io::BufWriter::new(tmp), flate2::Compression::default());
    let mut tar = tar::Builder::new(gz);
    tar.mode(tar::HeaderMode::Deterministic);
    let mut add = |path: &str, bytes: &[u8], mode: u32| -> Result<(), ArchiveError> {
        let mut h = tar::Header::new_gnu();
        h.set_size(bytes.len() as u64);
        h.set_mode(mode);
        h.set_mtime(mtime);
        h.set_uid(0);
        h.set_gid(0);
        h.set_entry_type(tar::EntryType::Regular);
        tar.append_data(&mut h, format!("{top}/{path}"), bytes).map_err(io("write", &target))
    };
    let pkg_info = project.metadata.render("2.2");
    let mut entries: Vec<(String, Vec<u8>, u32)> = vec![("PKG-INFO".into(), pkg_info.into_bytes(), 0o644)];
    for rel in files {
        let p = project.root.join(&rel);
        let bytes = std::fs::read(&p).map_err(io("read", &p))?;
        let exec = std::fs::metadata(&p).map(|m| {
            use std::os::unix::fs::PermissionsExt;
            m.permissions().mode() & 0o111 != 0
        });
        entries.push((rel, bytes, if exec.unwrap_or(false) { 0o755 } else { 0o644 }));
    }
    entries.sort_by(|a, b| a.0.cmp(&b.0));
    for (rel, bytes, mode) in &entries {
        add(rel, bytes, *mode)?;
    }
    let gz = tar.into_inner().map_err(io("write", &target))?;
    let mut buf = gz.finish().map_err(io("write", &target))?;
    buf.flush().map_err(io("write", &target))?;
    let tmp = buf.into_inner().map_err(|e| ArchiveError::Io { action: "write", path: target.clone(), source: e.into_error() })?;
    tmp.persist(&target).map_err(|e| ArchiveError::Io { action: "rename into", path: target.clone(), source: e.error })?;
    Ok(target)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gitignore_rules() {
        let rules = parse_gitignore("", "*.log\n/build-out/\n!keep.log\ndocs/*.tmp\n");
        assert!(ignored(&rules, "a.log", false));
        assert!(ignored(&rules, "x/y/a.log", false));
        assert!(!ignored(&rules, "x/keep.log", false));
        assert!(ignored(&rules, "build-out", true));
        assert!(!ignored(&rules, "build-out", false));
        assert!(ignored(&rules, "docs/a.tmp", false));
        assert!(!ignored(&rules, "docs/sub/a.tmp", false));
        let nested = parse_gitignore("sub", "*.c\n");
        assert!(ignored(&nested, "sub/a.c", false));
        assert!(!ignored(&nested, "a.c", false));
    }
}
