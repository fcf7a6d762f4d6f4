//! The extension modules of a build: each module's sources, emitted C (split
//! into units when large), compiled and linked, or its ABI-mode `.py`.

use super::*;

/// Emitted C larger than this is split into translation units by default.
pub(super) const SPLIT_AUTO_BYTES: usize = 512 * 1024;

/// The module's C as several translation units written to `mdir`, when the
/// split applies (`-C split`, or by default for a large module on a machine
/// with several cores); else empty (compile the single file).
pub(super) fn split_sources(
    module: &str,
    text: &str,
    preamble: &str,
    mdir: &Path,
    s: &Settings,
) -> Result<Vec<PathBuf>, BuildError> {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let parts = match s.split {
        Some(n) => n,
        None if text.len() >= SPLIT_AUTO_BYTES && cores > 1 => cores,
        None => 0,
    };
    if parts == 0 {
        return Ok(Vec::new());
    }
    let Some(units) = emit::split::split_c_source(text, preamble, parts) else {
        log(&format!(
            "[{module}] compiled as one file: the split needs a preamble of preprocessor lines and declarations only (no definitions), and no extern \"Python+C\" or embedding"
        ));
        return Ok(Vec::new());
    };
    let mut paths = Vec::new();
    for (i, unit) in units.iter().enumerate() {
        let p = mdir.join(format!("{module}.part{i}.c"));
        crate::report::write_if_changed(&p, unit.as_bytes())?;
        paths.push(p);
    }
    log(&format!(
        "[{module}] split into {} translation units compiled in parallel",
        units.len()
    ));
    Ok(paths)
}

/// Whether the built modules can use the limited API, and why not.
pub(super) fn abi3(project: &Project, interp: &Interpreter) -> Result<(), String> {
    if !project.tool.limited_api {
        return Err("limited-api = false in [tool.headerwheel]".into());
    }
    if interp.facts.implementation != "cpython" {
        return Err(format!(
            "{} has no limited API",
            interp.facts.implementation
        ));
    }
    if interp.facts.free_threaded {
        return Err("free-threaded CPython builds cannot use the limited API before 3.15".into());
    }
    if interp.facts.debug {
        return Err("debug builds of CPython cannot use the limited API".into());
    }
    Ok(())
}

pub(super) struct BuiltModule {
    /// Path inside the wheel.
    pub(super) wheel_path: String,
    /// The bytes.
    pub(super) data: Vec<u8>,
    /// Built file on disk (API mode).
    pub(super) so_path: Option<PathBuf>,
}

pub(super) fn read_rel(project: &Project, p: &Path, module: &str) -> Result<String, BuildError> {
    let error = |message: String| BuildError::Emit {
        module: module.to_string(),
        message,
    };
    project.paths.read_text(p).map_err(|e| error(e.to_string()))
}

/// A module's cdef and preamble, as the build reads them (files, inline
/// code, or the cdef generated from `[tool.headerkit]`).
pub fn module_sources(
    project: &Project,
    m: &ModuleConfig,
    skip_cache: bool,
) -> Result<(CdefInput, Option<String>), BuildError> {
    let env = match m.cdef {
        CdefSource::Headers(_) => headers::HeaderEnv::discover(),
        _ => headers::HeaderEnv::default(),
    };
    module_sources_in(project, m, skip_cache, &env)
}

/// [`module_sources`], headers parsed in the compile's environment `env`.
pub(super) fn module_sources_in(
    project: &Project,
    m: &ModuleConfig,
    skip_cache: bool,
    env: &headers::HeaderEnv,
) -> Result<(CdefInput, Option<String>), BuildError> {
    let cdef = match &m.cdef {
        CdefSource::File(p) => {
            CdefInput::new(read_rel(project, p, &m.name)?, p.display().to_string())
        }
        CdefSource::Code(c) => CdefInput::new(c.clone(), format!("{} (cdef-code)", m.declared_at)),
        CdefSource::Headers(p) => {
            let text = crate::headers::stage::cdef_for_module(project, m, skip_cache, env)?;
            CdefInput::new(
                text,
                format!("{} (generated from [tool.headerkit])", p.display()),
            )
        }
    };
    let preamble = match &m.preamble {
        Some(Preamble::File(p)) => Some(read_rel(project, p, &m.name)?),
        Some(Preamble::Code(c)) => Some(c.clone()),
        None => None,
    };
    Ok((cdef, preamble))
}

pub(super) fn build_modules(
    project: &Project,
    interp: &Interpreter,
    s: &Settings,
    build_dir: &Path,
    suffix: &str,
) -> Result<Vec<BuiltModule>, BuildError> {
    let runtime = CffiRuntime::from_dir(&interp.cffi_dir)
        .map_err(|e| BuildError::Cffi(format!("cannot read CFFI's headers: {e}")))?;
    let cffi_version =
        emit::CffiVersion::from_dir(&interp.cffi_dir).map_err(|e| BuildError::Cffi(e.0))?;
    let options = EmitOptions::for_interpreter(
        interp.facts.version,
        interp.facts.free_threaded,
        interp.sizeof_int,
        interp.sizeof_long,
        cffi_version,
    );
    // Emit every module first (fast), then compile them in parallel.
    let mut jobs = Vec::new();
    let mut out = Vec::new();
    // API modules' cdefs, to place a declaration nothing defines.
    let mut cdefs: BTreeMap<String, CdefInput> = BTreeMap::new();
    for m in &project.tool.modules {
        let t = Instant::now();
        stage(format!("cdef of module {}", m.name));
        let env = headers::HeaderEnv {
            verbose: s.verbose,
            ..headers::HeaderEnv::from_python_include_dirs(&interp.toolchain.include_dirs)
        };
        let (mut cdef, preamble) = module_sources_in(project, m, s.skip_cache, &env)?;
        if let CdefSource::Headers(_) = m.cdef {
            headers::keep_generated_cdef(build_dir, &m.name, &mut cdef)?;
        }
        stage(format!("emitting module {}", m.name));
        let rel_path = m.name.replace('.', "/");
        match m.mode {
            Mode::Abi => {
                let emit_error = |source: emit::EmitError| BuildError::Emitting {
                    module: m.name.clone(),
                    source,
                };
                let (mut types, ffi) = emit::parse_all(&[cdef]).map_err(emit_error)?;
                out.extend(stubs::module_stub(project, m, &types, &ffi));
                let text =
                    emit::emit_py(&mut types, &ffi, &m.name, &options).map_err(emit_error)?;
                log(&format!(
                    "[{}] emitted ABI-mode Python ({:.1} ms)",
                    m.name,
                    t.elapsed().as_secs_f64() * 1e3
                ));
                out.push(BuiltModule {
                    wheel_path: format!("{rel_path}.py"),
                    data: text.into_bytes(),
                    so_path: None,
                });
            }
            Mode::Api => {
                let emit_error = |source: emit::EmitError| BuildError::Emitting {
                    module: m.name.clone(),
                    source,
                };
                let (mut types, ffi) =
                    emit::parse_all(std::slice::from_ref(&cdef)).map_err(emit_error)?;
                out.extend(stubs::module_stub(project, m, &types, &ffi));
                let text = emit::emit_c(
                    &mut types,
                    &ffi,
                    &m.name,
                    preamble.as_deref().unwrap_or(""),
                    &runtime,
                    &options,
                )
                .map_err(emit_error)?;
                let mdir = build_dir.join(&m.name);
                std::fs::create_dir_all(&mdir).map_err(|e| BuildError::io(&mdir, e))?;
                let c_path = mdir.join(format!("{}.c", m.name));
                crate::report::write_if_changed(&c_path, text.as_bytes())?;
                cdefs.insert(m.name.clone(), cdef);
                log(&format!(
                    "[{}] emitted C ({} KiB, {:.1} ms)",
                    m.name,
                    text.len() / 1024,
                    t.elapsed().as_secs_f64() * 1e3
                ));
                let mut sources =
                    split_sources(&m.name, &text, preamble.as_deref().unwrap_or(""), &mdir, s)?;
                if sources.is_empty() {
                    sources.push(c_path);
                }
                sources.extend(m.sources.iter().map(|p| project.root.join(p)));
                let abs = |p: &PathBuf| {
                    if p.is_absolute() {
                        p.clone()
                    } else {
                        project.root.join(p)
                    }
                };
                let mut include_dirs: Vec<PathBuf> = m.include_dirs.iter().map(abs).collect();
                // A module built from [tool.headerkit] compiles with its include dirs too.
                if let (CdefSource::Headers(_), Some(hk)) = (&m.cdef, &project.headerkit) {
                    for d in hk
                        .include_dirs
                        .iter()
                        .chain(hk.headers.iter().flat_map(|h| h.include_dirs.iter()))
                    {
                        let p = abs(&PathBuf::from(d));
                        if !include_dirs.contains(&p) {
                            include_dirs.push(p);
                        }
                    }
                }
                // And with the macros its headers were parsed with, so both
                // see one environment (`PCRE2_CODE_UNIT_WIDTH=8`).
                let mut defines = m.define_macros.clone();
                if let (CdefSource::Headers(_), Some(hk)) = (&m.cdef, &project.headerkit) {
                    for d in hk
                        .defines
                        .iter()
                        .chain(hk.headers.iter().flat_map(|h| h.defines.iter()))
                    {
                        let (n, v) = match d.split_once('=') {
                            Some((n, v)) => (n.to_string(), Some(v.to_string())),
                            None => (d.clone(), None),
                        };
                        if !defines.iter().any(|(x, _)| *x == n) {
                            defines.push((n, v));
                        }
                    }
                }
                // The package directory, so preambles can include headers shipped beside them.
                if let Some(parent) = m.name.rsplit_once('.').map(|(p, _)| p.replace('.', "/")) {
                    include_dirs.push(project.root.join(&project.tool.package_dir).join(parent));
                }
                let file_name = format!("{}{suffix}", m.name.rsplit('.').next().unwrap_or(&m.name));
                let output = mdir.join(&file_name);
                jobs.push((
                    m.name.clone(),
                    format!(
                        "{}/{file_name}",
                        rel_path.rsplit_once('/').map_or("", |(d, _)| d)
                    )
                    .trim_start_matches('/')
                    .to_string(),
                    compile::Job {
                        module: m.name.clone(),
                        sources,
                        include_dirs,
                        defines,
                        libraries: m.libraries.clone(),
                        library_dirs: m.library_dirs.iter().map(abs).collect(),
                        extra_compile_args: m.extra_compile_args.clone(),
                        extra_link_args: m.extra_link_args.clone(),
                        build_dir: mdir.join("obj"),
                        output,
                        opt_level: s.opt_level.clone(),
                        prefix_maps: vec![build_dir.to_path_buf(), project.root.clone()],
                        launcher: s.launcher.clone(),
                        verbose: s.verbose,
                        cache: compile_cache(s),
                    },
                ));
            }
        }
    }
    for lib in &project.tool.shared_libraries {
        let abs = |p: &PathBuf| {
            if p.is_absolute() {
                p.clone()
            } else {
                project.root.join(p)
            }
        };
        // `pkg/libx.so` is `pkg/libx.dylib` on macOS, `pkg/libx.dll` on
        // Windows (the names loaders look for there).
        let os = s
            .target
            .as_ref()
            .map_or(compile::target::Os::Linux, Target::os);
        let wheel_path = compile::target::shared_library_path(&lib.wheel_path, os);
        let file_name = wheel_path
            .rsplit('/')
            .next()
            .unwrap_or(&wheel_path)
            .to_string();
        let dir = build_dir
            .join("shared")
            .join(lib.wheel_path.replace('/', "_"));
        jobs.push((
            wheel_path.clone(),
            wheel_path.clone(),
            compile::Job {
                module: lib.wheel_path.clone(),
                sources: lib.sources.iter().map(abs).collect(),
                include_dirs: lib.include_dirs.iter().map(abs).collect(),
                defines: lib.define_macros.clone(),
                libraries: lib.libraries.clone(),
                library_dirs: Vec::new(),
                extra_compile_args: Vec::new(),
                extra_link_args: match os {
                    compile::target::Os::Linux => vec![format!("-Wl,-soname,{file_name}")],
                    _ => Vec::new(),
                },
                build_dir: dir.join("obj"),
                output: dir.join(&file_name),
                opt_level: s.opt_level.clone(),
                prefix_maps: vec![build_dir.to_path_buf(), project.root.clone()],
                launcher: s.launcher.clone(),
                verbose: s.verbose,
                cache: compile_cache(s),
            },
        ));
    }
    let toolchains: Vec<(String, Toolchain)> = match &s.target {
        Some(t) if !jobs.is_empty() => {
            if t.is_foreign() {
                foreign_link_check(t, &jobs)?;
            }
            let links_python = !cdefs.is_empty();
            target_toolchains(interp, t, s, build_dir, suffix == ".pyd", links_python)?
        }
        _ => vec![(interp.toolchain.machine.clone(), interp.toolchain.clone())],
    };
    // One build per job and architecture (two for universal2: their
    // slices are joined into one fat file after).
    let mut units: Vec<(usize, &Toolchain, compile::Job)> = Vec::new();
    for (i, (_, _, job)) in jobs.iter().enumerate() {
        if toolchains.len() == 1 {
            units.push((i, &toolchains[0].1, job.clone()));
            continue;
        }
        for (arch, tc) in &toolchains {
            let mut j = job.clone();
            j.build_dir = job.build_dir.join(arch);
            j.output = job
                .build_dir
                .join(arch)
                .join(job.output.file_name().unwrap_or_default());
            units.push((i, tc, j));
        }
    }
    let t = Instant::now();
    stage("compiling".into());
    if !jobs.is_empty() {
        log(&format!(
            "compiling {} module{} ({})",
            jobs.len(),
            if jobs.len() == 1 { "" } else { "s" },
            jobs.iter()
                .map(|j| j.0.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    let results: Vec<Result<PathBuf, compile::CompileError>> = std::thread::scope(|scope| {
        let hs: Vec<_> = units
            .iter()
            .map(|(_, tc, job)| scope.spawn(move || compile::build(job, tc)))
            .collect();
        hs.into_iter()
            .map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
            .collect()
    });
    let binary_target = mach_o_or_pe_target(s, interp);
    let mut per_job: Vec<Vec<PathBuf>> = vec![Vec::new(); jobs.len()];
    for ((i, _, _), r) in units.iter().zip(results) {
        per_job[*i].push(r?);
    }
    for ((name, wheel_path, job), outputs) in jobs.iter().zip(per_job) {
        // An extension module is a bundle on macOS, as setuptools links it
        // (zig's linker writes dylibs; shared libraries stay dylibs).
        if cdefs.contains_key(name)
            && binary_target
                .as_ref()
                .is_some_and(|t| t.os() == compile::target::Os::Macos)
        {
            for o in &outputs {
                let data = std::fs::read(o).map_err(|e| BuildError::io(o, e))?;
                let bundle = crate::portable::macho::dylib_to_bundle(&data).map_err(|e| {
                    BuildError::Binary {
                        module: format!("module {name}"),
                        message: format!("{}: {e}", o.display()),
                    }
                })?;
                crate::report::write_if_changed(o, &bundle)?;
            }
        }
        let so = if outputs.len() == 1 {
            outputs[0].clone()
        } else {
            let mut slices = Vec::new();
            for o in &outputs {
                slices.push(std::fs::read(o).map_err(|e| BuildError::io(o, e))?);
            }
            let fat =
                crate::portable::macho::fat_file(&slices).map_err(|e| BuildError::Binary {
                    module: format!("module {name}"),
                    message: e.to_string(),
                })?;
            crate::report::write_if_changed(&job.output, &fat)?;
            job.output.clone()
        };
        let data = std::fs::read(&so).map_err(|e| BuildError::io(&so, e))?;
        match &binary_target {
            Some(t) => {
                let init = cdefs
                    .contains_key(name)
                    .then(|| name.rsplit('.').next().unwrap_or(name));
                check_foreign_module(name, &data, t, job, init)?;
            }
            _ => {
                if let Some(cdef) = cdefs.get(name) {
                    // With -C target the module is built for another libc: the
                    // interpreter here is not the one it will load into.
                    let python = if s.target.is_some() {
                        None
                    } else {
                        interp.executable.as_deref()
                    };
                    check_imports(name, &data, cdef, job, python)?;
                }
            }
        }
        out.push(BuiltModule {
            wheel_path: wheel_path.clone(),
            data,
            so_path: Some(so),
        });
    }
    if !jobs.is_empty() {
        log(&format!("compiled in {:.2} s", t.elapsed().as_secs_f64()));
    }
    Ok(out)
}
