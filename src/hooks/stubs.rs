//! Which type stubs and `py.typed` markers a build adds beside its modules
//! (`[tool.headerwheel] stubs`, `typed`); the stub text is
//! [`crate::emit::stubs`]'s.

use std::collections::BTreeSet;
use std::path::Path;

use super::BuiltModule;
use crate::cdef::Ffi;
use crate::emit::stubs::{STUB_HEADER, StubMode, stub_source};
use crate::model::Types;
use crate::project::{Mode, ModuleConfig, Project};
use crate::report::log;
use crate::wheel::ArchiveFile;

/// The `<module>.pyi` of `m`, unless stubs are off or the project ships its
/// own stub there (one without our header line), which is kept.
pub(super) fn module_stub(
    project: &Project,
    m: &ModuleConfig,
    types: &Types,
    ffi: &Ffi,
) -> Option<BuiltModule> {
    if !project.tool.stubs {
        return None;
    }
    let wheel_path = format!("{}.pyi", m.name.replace('.', "/"));
    let rel = project.tool.package_dir.join(&wheel_path);
    if project.root.join(&rel).is_file() {
        let ours = project
            .paths
            .read_text(&rel)
            .is_ok_and(|t| t.starts_with(STUB_HEADER));
        if !ours {
            log(&format!(
                "[{}] keeping the project's own {} (no stub generated)",
                m.name,
                rel.display()
            ));
            return None;
        }
    }
    let mode = match m.mode {
        Mode::Api => StubMode::Api,
        Mode::Abi => StubMode::Abi,
    };
    Some(BuiltModule {
        wheel_path,
        data: stub_source(&m.name, types, ffi, mode).into_bytes(),
        so_path: None,
    })
}

/// The top-level packages holding a stub (PEP 561 reads `py.typed` there);
/// a top-level module has none.
fn typed_packages(project: &Project, built: &[BuiltModule]) -> BTreeSet<String> {
    if !project.tool.typed {
        return BTreeSet::new();
    }
    built
        .iter()
        .filter(|b| b.wheel_path.ends_with(".pyi"))
        .filter_map(|b| b.wheel_path.split_once('/').map(|(top, _)| top.to_string()))
        .collect()
}

/// `<pkg>/py.typed` entries for the wheel, where the package files have none
/// (the project's own marker, `partial` or not, is shipped as it is).
pub(super) fn py_typed_entries(
    project: &Project,
    built: &[BuiltModule],
    files: &[ArchiveFile],
) -> Vec<ArchiveFile> {
    typed_packages(project, built)
        .into_iter()
        .map(|top| format!("{top}/py.typed"))
        .filter(|p| !files.iter().any(|f| &f.path == p))
        .map(|p| ArchiveFile::new(p, Vec::new()))
        .collect()
}

/// For an editable install: an empty `py.typed` in the source packages that
/// have none. The error names the file.
pub(super) fn place_py_typed(
    project: &Project,
    base: &Path,
    built: &[BuiltModule],
) -> std::io::Result<()> {
    for top in typed_packages(project, built) {
        let p = base.join(&top).join("py.typed");
        if !p.exists() {
            std::fs::write(&p, b"").map_err(|e| {
                std::io::Error::new(e.kind(), format!("failed to write {}: {e}", p.display()))
            })?;
            log(&format!("placed {} for the editable install", p.display()));
        }
    }
    Ok(())
}
