//! The `headerwheel migrate` command: record the builders, plan, then write
//! the plan, print it as diffs (`--dry-run`) or compare the C (`--check`).

use std::path::{Path, PathBuf};

use crate::commands::{MigrateArgs, write_atomic};

/// `headerwheel migrate [DIR] [--dry-run] [--check] [--python PY]`; returns
/// the exit code (1 when --check finds a module that differs).
pub(in crate::commands) fn run(a: MigrateArgs) -> Result<i32, String> {
    use crate::commands::migrate::{self, check, diff};
    let (dry_run, check_only) = (a.dry_run, a.check);
    // The project's interpreter: --python, else the one running headerwheel
    // (set by `python -m headerwheel`), else python3.
    let python = a
        .python
        .or_else(|| std::env::var("HEADERWHEEL_PYTHON").ok())
        .unwrap_or_else(|| "python3".to_string());
    let dir = a.dir.unwrap_or_else(|| PathBuf::from("."));
    let root = dir
        .canonicalize()
        .map_err(|e| format!("{}: {e}", dir.display()))?;
    let emit_dir = if check_only {
        Some(tempfile::tempdir().map_err(|e| format!("a temporary directory: {e}"))?)
    } else {
        None
    };
    eprintln!(
        "headerwheel: recording the CFFI builders of {} with {python}",
        root.display()
    );
    let rec = migrate::recording::record(&python, &root, emit_dir.as_ref().map(|d| d.path()))?;
    let read = |rel: &Path| std::fs::read_to_string(root.join(rel)).ok();
    let plan = migrate::plan(&root, &rec, &read)?;
    if check_only {
        let results = check::check(&root, &rec, &plan.modules)?;
        let mut differ = 0;
        for r in &results {
            match &r.difference {
                None => println!(
                    "identical: {} ({} bytes of {}, headerwheel from {}; cffi {})",
                    r.name,
                    r.ours,
                    r.language(),
                    r.from,
                    rec.python.cffi_version
                ),
                Some(d) => {
                    differ += 1;
                    println!(
                        "DIFFERENT: {} (headerwheel {} bytes from {}, cffi {} bytes)\n{d}",
                        r.name, r.ours, r.from, r.theirs
                    );
                }
            }
        }
        println!(
            "{} of {} modules identical",
            results.len() - differ,
            results.len()
        );
        return Ok(i32::from(differ > 0));
    }
    if dry_run {
        for f in &plan.files {
            print!("{}", diff::unified(f));
        }
        for n in &plan.notes {
            eprintln!("{n}");
        }
        return Ok(0);
    }
    for f in &plan.files {
        if f.old.as_deref() == Some(f.new.as_str()) {
            continue;
        }
        let p = root.join(&f.path);
        if let Some(parent) = p.parent() {
            std::fs::create_dir_all(parent).map_err(|e| format!("{}: {e}", parent.display()))?;
        }
        write_atomic(&p, &f.new)?;
        println!("wrote {}", f.path.display());
    }
    for m in &plan.modules {
        println!(
            "module {} ({})",
            m.name,
            if m.abi { "ABI mode" } else { "API mode" }
        );
    }
    for n in &plan.notes {
        println!("{n}");
    }
    Ok(0)
}
