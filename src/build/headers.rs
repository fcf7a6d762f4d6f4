//! The header stage inside a build: `[tool.headerkit]` headers → cdef, through
//! the `.headerkit/` store so a build whose headers are cached needs no
//! libclang.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::time::Instant;

use super::BuildError;
use crate::cache::{CacheKey, Dependency, Entry, Store};
use crate::cdef::writer::{self, WriterOptions};
use crate::config::headerkit::HeaderkitConfig;
use crate::config::{ModuleConfig, Project};
use crate::headers::{self, exports, ParseRequest};

/// Bump when the model or the writer changes what they produce.
const GENERATOR_VERSION: &str = "headerwheel-cdef-1";

/// The store directory (`store_dir`, default `.headerkit`).
pub fn store_dir(project: &Project) -> PathBuf {
    let dir = project
        .headerkit
        .as_ref()
        .and_then(|h| h.store_dir.clone())
        .unwrap_or_else(|| ".headerkit".to_string());
    project.root.join(dir)
}

fn system_include_dirs() -> Vec<PathBuf> {
    ["/usr/local/include", "/usr/include/x86_64-linux-gnu", "/usr/include"]
        .iter()
        .map(PathBuf::from)
        .collect()
}

fn rel_or_abs(root: &Path, p: &Path) -> String {
    match p.strip_prefix(root) {
        Ok(r) => r.to_string_lossy().replace('\\', "/"),
        Err(_) => p.to_string_lossy().to_string(),
    }
}

/// Resolves the header patterns to files: globs under the project root,
/// else the path under an include directory or the system's.
fn resolve_headers(project: &Project, hk: &HeaderkitConfig) -> Result<Vec<(PathBuf, Vec<PathBuf>, Vec<String>, Vec<String>)>, BuildError> {
    let root = &project.root;
    let abs = |d: &str| {
        let p = PathBuf::from(d);
        if p.is_absolute() { p } else { root.join(p) }
    };
    let global_inc: Vec<PathBuf> = hk.include_dirs.iter().map(|d| abs(d)).collect();
    let excludes: Vec<globset::GlobMatcher> = hk
        .exclude
        .iter()
        .filter_map(|g| globset::Glob::new(g).ok().map(|g| g.compile_matcher()))
        .collect();
    let mut out = Vec::new();
    for h in &hk.headers {
        let mut inc = global_inc.clone();
        inc.extend(h.include_dirs.iter().map(|d| abs(d)));
        let mut defines = hk.defines.clone();
        defines.extend(h.defines.iter().cloned());
        let mut args = hk.backend_args.clone();
        args.extend(h.backend_args.iter().cloned());
        let is_glob = h.pattern.contains(['*', '?', '[']);
        let mut files: Vec<PathBuf> = if is_glob {
            crate::config::metadata::glob_files(root, &h.pattern)
                .map_err(BuildError::Other)?
                .into_iter()
                .map(|p| root.join(p))
                .collect()
        } else {
            let p = PathBuf::from(&h.pattern);
            let candidates: Vec<PathBuf> = if p.is_absolute() {
                vec![p.clone()]
            } else {
                std::iter::once(root.join(&p))
                    .chain(inc.iter().map(|d| d.join(&p)))
                    .chain(inc.iter().filter_map(|d| p.strip_prefix("include").ok().map(|s| d.join(s))))
                    .chain(system_include_dirs().into_iter().map(|d| d.join(&p)))
                    .chain(system_include_dirs().into_iter().filter_map(|d| p.strip_prefix("include").ok().map(|s| d.join(s))))
                    .collect()
            };
            candidates.into_iter().find(|c| c.is_file()).into_iter().collect()
        };
        files.retain(|f| !excludes.iter().any(|g| g.is_match(rel_or_abs(root, f))));
        if files.is_empty() {
            return Err(BuildError::Other(format!(
                "pyproject.toml: {}: the header pattern '{}' matches no file (looked under the project, include_dirs {:?} and the system include directories)",
                h.key, h.pattern, inc
            )));
        }
        for f in files {
            out.push((f, inc.clone(), defines.clone(), args.clone()));
        }
    }
    Ok(out)
}

fn sha256_file(path: &Path, memo: &mut HashMap<PathBuf, Option<String>>) -> Option<String> {
    memo.entry(path.to_path_buf())
        .or_insert_with(|| std::fs::read(path).ok().map(|b| crate::cache::store::sha256_hex(&b)))
        .clone()
}

/// The cdef of `module`, generated from `[tool.headerkit]` (or taken from
/// the store when every input is unchanged).
pub fn cdef_for_module(project: &Project, module: &ModuleConfig, skip_cache: bool) -> Result<String, BuildError> {
    let hk = project
        .headerkit
        .as_ref()
        .ok_or_else(|| BuildError::Other(format!("module {}: no [tool.headerkit] table", module.name)))?;
    let t = Instant::now();
    let headers = resolve_headers(project, hk)?;
    let root = &project.root;
    // The key: every input that changes the output (paths project-relative).
    let mut parts: Vec<(String, Vec<u8>)> = vec![
        ("generator".into(), GENERATOR_VERSION.as_bytes().to_vec()),
        ("target".into(), std::env::consts::ARCH.as_bytes().to_vec()),
    ];
    for (f, inc, defs, args) in &headers {
        parts.push(("header".into(), rel_or_abs(root, f).into_bytes()));
        for d in inc {
            parts.push(("include".into(), rel_or_abs(root, d).into_bytes()));
        }
        parts.push(("defines".into(), defs.join("\0").into_bytes()));
        parts.push(("args".into(), args.join("\0").into_bytes()));
    }
    parts.push(("define_patterns".into(), hk.define_patterns.join("\0").into_bytes()));
    parts.push(("extra_cdef".into(), hk.extra_cdef.join("\0").into_bytes()));
    parts.push(("exclude_patterns".into(), hk.exclude_patterns.join("\0").into_bytes()));
    parts.push(("libraries".into(), module.libraries.join("\0").into_bytes()));
    parts.push(("symbols".into(), module.symbols.join("\0").into_bytes()));
    parts.push(("mode".into(), format!("{:?}", module.mode).into_bytes()));
    let key = CacheKey::from_parts(parts.iter().map(|(k, v)| (k.as_str(), v.as_slice())));
    let store = Store::new(store_dir(project));
    let mut memo = HashMap::new();
    if !skip_cache {
        let found = store
            .lookup(&key, |p| {
                let path = if Path::new(p).is_absolute() { PathBuf::from(p) } else { root.join(p) };
                sha256_file(&path, &mut memo)
            })
            .map_err(|e| BuildError::Other(format!("the .headerkit store: {e}")))?;
        for d in &found.damage {
            eprintln!("headerwheel: warning: damaged cache item ignored: {}", d.path.display());
        }
        if let Some(hit) = found.hit {
            eprintln!(
                "headerwheel: [{}] cdef from the .headerkit store ({:.1} ms, no libclang needed)",
                module.name,
                t.elapsed().as_secs_f64() * 1e3
            );
            return String::from_utf8(hit.bytes).map_err(|_| BuildError::Other("a cached cdef is not UTF-8".into()));
        }
    }
    // Parse: one header directly, several through an umbrella.
    let (first, inc, defines, args) = headers[0].clone();
    let mut include_dirs = inc;
    let mut defs = defines;
    let mut extra_args = args;
    let (header, code) = if headers.len() == 1 {
        (first, None)
    } else {
        let mut code = String::new();
        for (f, i, d, a) in &headers {
            code.push_str(&format!("#include \"{}\"\n", f.display()));
            for x in i {
                if !include_dirs.contains(x) {
                    include_dirs.push(x.clone());
                }
            }
            for x in d {
                if !defs.contains(x) {
                    defs.push(x.clone());
                }
            }
            for x in a {
                if !extra_args.contains(x) {
                    extra_args.push(x.clone());
                }
            }
        }
        (root.join("_headerwheel_umbrella.h"), Some(code))
    };
    let req = ParseRequest {
        header,
        code,
        include_dirs,
        defines: defs,
        args: extra_args,
        project_files: headers.iter().map(|h| h.0.clone()).collect(),
    };
    let model = headers::parse(&req).map_err(|e| BuildError::Other(format!("module {}: {e}", module.name)))?;
    let mut opts = WriterOptions {
        extra_cdef: hk.extra_cdef.clone(),
        only: (!module.symbols.is_empty()).then(|| module.symbols.iter().cloned().collect()),
        macro_values: module.mode == crate::config::Mode::Abi,
        ..Default::default()
    };
    for p in &hk.define_patterns {
        opts.define_patterns.push(regex::Regex::new(p).map_err(|e| BuildError::Other(e.to_string()))?);
    }
    for p in &hk.exclude_patterns {
        opts.exclude.push(regex::Regex::new(p).map_err(|e| BuildError::Other(e.to_string()))?);
    }
    if !module.libraries.is_empty() {
        let lib_dirs: Vec<PathBuf> = module.library_dirs.iter().map(|d| root.join(d)).collect();
        let path = exports::library_search_path(&lib_dirs);
        let mut all = std::collections::HashSet::new();
        let mut complete = true;
        for l in &module.libraries {
            match exports::find_library(l, &path).map(|p| exports::exported_symbols(&p)) {
                Some(Ok(syms)) => all.extend(syms),
                _ => complete = false,
            }
        }
        if complete {
            opts.exported = Some(all);
        }
    }
    let written = writer::write(&model, &opts);
    for w in &written.warnings {
        eprintln!("headerwheel: [{}] warning: {w}", module.name);
    }
    eprintln!(
        "headerwheel: [{}] cdef generated from {} header file(s) with libclang ({:.1} ms)",
        module.name,
        headers.len(),
        t.elapsed().as_secs_f64() * 1e3
    );
    // Record it, with every file the preprocessor opened as a dependency.
    let mut deps = Vec::new();
    for f in model.files.iter().map(PathBuf::from).chain(headers.iter().map(|h| h.0.clone())) {
        if let Some(h) = sha256_file(&f, &mut memo) {
            deps.push(Dependency {
                path: rel_or_abs(root, &f),
                sha256: h,
            });
        }
    }
    let object = store
        .put(written.cdef.as_bytes())
        .map_err(|e| BuildError::Other(format!("the .headerkit store: {e}")))?;
    let mut meta = BTreeMap::new();
    meta.insert("module".into(), module.name.clone());
    meta.insert("generator".into(), GENERATOR_VERSION.into());
    if let Ok(lc) = headers::clang::Libclang::get() {
        meta.insert("libclang".into(), lc.version.clone());
    }
    store
        .add_entry(
            &key,
            &Entry {
                kind: "cdef".into(),
                deps,
                object,
                meta,
            },
        )
        .map_err(|e| BuildError::Other(format!("the .headerkit store: {e}")))?;
    Ok(written.cdef)
}
