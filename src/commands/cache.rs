//! `headerwheel cache`: the `.headerkit/` store (verify, gc, status, merge)
//! and a project's header modules in it (populate, status --project,
//! import-headerkit).

use std::path::PathBuf;

use super::{CacheCommand, load_project};

/// `headerwheel cache ...`; returns the exit code (1 when damage is found).
pub(super) fn cache(command: CacheCommand) -> Result<i32, String> {
    use crate::cache::Store;
    let store_at =
        |a: Option<PathBuf>| Store::new(a.unwrap_or_else(|| PathBuf::from(".headerkit")));
    match command {
        CacheCommand::Verify { store } => {
            let s = store_at(store);
            let r = s.verify().map_err(|e| e.to_string())?;
            println!(
                "{} objects and {} entries verified",
                r.objects_ok, r.entries_ok
            );
            for d in &r.damage {
                println!("damaged: {}: {}", d.path.display(), d.what);
            }
            Ok(i32::from(!r.damage.is_empty()))
        }
        CacheCommand::Gc { store } => {
            let s = store_at(store);
            let r = s.gc().map_err(|e| e.to_string())?;
            println!(
                "removed {} unreferenced objects, {} damaged items, {} temporary files",
                r.objects_removed, r.damaged_removed, r.temp_removed
            );
            // Not regular files of the store (symlinks, FIFOs, directories):
            // gc never deletes through them; they are for a person to remove.
            for d in &r.left {
                println!("left in place: {}: {}", d.path.display(), d.what);
            }
            Ok(i32::from(!r.left.is_empty()))
        }
        CacheCommand::Merge { from, into } => {
            let into = store_at(into);
            let r = into
                .merge_from(&Store::new(from))
                .map_err(|e| e.to_string())?;
            println!(
                "added {} objects and {} entries",
                r.objects_added, r.entries_added
            );
            for d in &r.damage {
                println!("skipped damaged: {}: {}", d.path.display(), d.what);
            }
            Ok(0)
        }
        CacheCommand::Status {
            project: true,
            path,
        } => {
            let project = load_project(path.as_deref())?;
            let env = crate::headers::stage::HeaderEnv::discover();
            let mut all_hit = true;
            for m in crate::headers::stage::header_modules(&project) {
                let (hit, why) =
                    crate::headers::stage::status(&project, m, &env).map_err(|e| e.to_string())?;
                all_hit &= hit;
                println!("{}: {why}", m.name);
            }
            Ok(i32::from(!all_hit))
        }
        CacheCommand::Status {
            project: false,
            path,
        } => {
            let s = store_at(path);
            // Real key directories only: a symlinked one is damage, not listed.
            let (keys, key_damage) = s.keys().map_err(|e| e.to_string())?;
            for d in &key_damage {
                println!("damaged: {}: {}", d.path.display(), d.what);
            }
            for key in &keys {
                let k = key.as_str();
                let (entries, damage) = s.entries(key).map_err(|e| e.to_string())?;
                for e in entries {
                    let module = e.meta.get("module").cloned().unwrap_or_default();
                    println!(
                        "{k:.16} {} {module} ({} files, object {:.16})",
                        e.kind,
                        e.deps.len(),
                        e.object.as_str()
                    );
                }
                for d in damage {
                    println!("damaged: {}: {}", d.path.display(), d.what);
                }
            }
            println!("{} keys in {}", keys.len(), s.root().display());
            Ok(0)
        }
        CacheCommand::Populate { dir } => {
            let project = load_project(dir.as_deref())?;
            let env = crate::headers::stage::HeaderEnv::discover();
            let modules = crate::headers::stage::header_modules(&project);
            if modules.is_empty() {
                return Err(format!(
                    "{}: no module takes its cdef from [tool.headerkit] headers",
                    project.root.display()
                ));
            }
            for m in modules {
                let (_, origin) =
                    crate::headers::stage::cdef_for_module_from(&project, m, false, &env)
                        .map_err(|e| e.to_string())?;
                // A build goes on when the store cannot be written; populating does not.
                if !crate::headers::stage::status(&project, m, &env).is_ok_and(|(hit, _)| hit) {
                    return Err(format!(
                        "module {}: the cdef could not be stored (see the warning above)",
                        m.name
                    ));
                }
                let what = match origin {
                    crate::headers::stage::CdefOrigin::CachedCdef => "already in the store",
                    crate::headers::stage::CdefOrigin::CachedModel => {
                        "cdef written from the stored header model"
                    }
                    crate::headers::stage::CdefOrigin::Parsed => {
                        "headers parsed, model and cdef stored"
                    }
                };
                println!("{}: {what}", m.name);
            }
            Ok(0)
        }
        CacheCommand::ImportHeaderkit { store, dir } => {
            let project = load_project(dir.as_deref())?;
            let report = crate::headers::stage::import_headerkit(&project, &store)
                .map_err(|e| e.to_string())?;
            for line in &report {
                println!("{line}");
            }
            Ok(i32::from(!report.iter().any(|l| l.starts_with("imported"))))
        }
    }
}
