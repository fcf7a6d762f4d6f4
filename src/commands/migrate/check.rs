//! `headerwheel migrate --check`: the proof of sameness. Each module's
//! source is emitted by headerwheel (from the migrated configuration) and by
//! the real cffi running the project's original builder; they must be
//! byte-identical.

use std::path::Path;

use super::{ModulePlan, Recording};
use crate::cdef::CdefInput;
use crate::emit::{self, CffiRuntime, EmitOptions};

/// The comparison of one module.
#[derive(Debug, Clone)]
pub struct ModuleCheck {
    /// The module.
    pub name: String,
    /// Where headerwheel's configuration came from.
    pub from: &'static str,
    /// headerwheel's bytes.
    pub ours: usize,
    /// cffi's bytes.
    pub theirs: usize,
    /// `None`: identical; else the first differing line, with context.
    pub difference: Option<String>,
    /// An ABI-mode module: what is compared is the generated Python, not C.
    pub abi: bool,
}

impl ModuleCheck {
    /// What the compared bytes are: `C` (API mode) or `Python` (ABI mode),
    /// for messages such as "N bytes of C".
    pub fn language(&self) -> &'static str {
        if self.abi { "Python" } else { "C" }
    }
}

/// Compares every module of `plan` (read from the project's migrated
/// pyproject.toml when it declares the module, else from the plan); a
/// migrated pyproject.toml that does not load is an error.
pub fn check(
    root: &Path,
    rec: &Recording,
    modules: &[ModulePlan],
) -> Result<Vec<ModuleCheck>, String> {
    let runtime = CffiRuntime::from_dir(&rec.python.cffi_dir)
        .map_err(|e| format!("cffi's headers in {}: {e}", rec.python.cffi_dir.display()))?;
    let cffi_version = emit::CffiVersion::from_dir(&rec.python.cffi_dir).map_err(|e| e.0)?;
    let options = EmitOptions::for_interpreter(
        rec.python.version,
        rec.python.free_threaded,
        rec.python.sizeof_int,
        rec.python.sizeof_long,
        cffi_version,
    );
    // The written pyproject.toml (switched to headerwheel) must load: a
    // migrated project that does not is an error, not the plan again.
    let migrated = std::fs::read_to_string(root.join("pyproject.toml"))
        .ok()
        .and_then(|t| t.parse::<toml_edit::DocumentMut>().ok())
        .is_some_and(|d| {
            d.get("build-system")
                .and_then(|b| b.get("build-backend"))
                .and_then(|b| b.as_str())
                == Some("headerwheel")
        });
    let project = if migrated {
        Some(crate::project::Project::load(root).map_err(|e| {
            format!("the migrated pyproject.toml does not load with headerwheel:\n{e}")
        })?)
    } else {
        None
    };
    let mut out = Vec::new();
    for m in modules {
        let emitted = m
            .emitted
            .as_ref()
            .ok_or_else(|| format!("{}: cffi emitted no source (see the errors above)", m.name))?;
        let theirs =
            std::fs::read_to_string(emitted).map_err(|e| format!("{}: {e}", emitted.display()))?;
        let on_disk = project.as_ref().and_then(|p| {
            p.tool
                .modules
                .iter()
                .find(|c| c.name == m.name)
                .map(|c| (p, c))
        });
        let (from, cdef, preamble, abi) = match on_disk {
            Some((p, c)) => {
                let (cdef, preamble) =
                    crate::hooks::module_sources(p, c, false).map_err(|e| e.to_string())?;
                (
                    "pyproject.toml",
                    cdef,
                    preamble,
                    c.mode == crate::project::Mode::Abi,
                )
            }
            None => (
                "the migration plan",
                CdefInput::new(m.cdef.clone(), m.cdef_path.display().to_string()),
                m.preamble.as_ref().map(|(_, t)| t.clone()),
                m.abi,
            ),
        };
        let ours = if abi {
            emit::py_source(&m.name, &[cdef], &options)
        } else {
            emit::c_source(
                &m.name,
                &[cdef],
                preamble.as_deref().unwrap_or(""),
                &runtime,
                &options,
            )
        }
        .map_err(|e| format!("{}: headerwheel cannot emit it: {}", m.name, e))?;
        out.push(ModuleCheck {
            name: m.name.clone(),
            from,
            ours: ours.len(),
            theirs: theirs.len(),
            difference: first_difference(&ours, &theirs),
            abi,
        });
    }
    Ok(out)
}

/// The first differing line of two texts, with two lines of context.
pub fn first_difference(ours: &str, theirs: &str) -> Option<String> {
    if ours == theirs {
        return None;
    }
    let a: Vec<&str> = ours.split_inclusive('\n').collect();
    let b: Vec<&str> = theirs.split_inclusive('\n').collect();
    let i = a
        .iter()
        .zip(&b)
        .position(|(x, y)| x != y)
        .unwrap_or(a.len().min(b.len()));
    let from = i.saturating_sub(2);
    let mut s = format!("first difference at line {}:\n", i + 1);
    for (j, l) in a.iter().enumerate().take(i + 1).skip(from) {
        s.push_str(&format!(
            "{} headerwheel | {}",
            if j == i { ">" } else { " " },
            l.trim_end_matches('\n')
        ));
        s.push('\n');
    }
    if let Some(l) = b.get(i) {
        s.push_str(&format!("> cffi        | {}\n", l.trim_end_matches('\n')));
    } else {
        s.push_str("> cffi        | (end of file)\n");
    }
    Some(s)
}
