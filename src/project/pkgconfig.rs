//! `pkg-config = ["libxml-2.0"]` (in `[tool.headerwheel]` for every module,
//! or in a module's table): each package's `pkg-config --cflags --libs`,
//! split into the module's include directories, macros, library
//! directories, libraries and other flags, so that the header stage and the
//! compile both see them.

use std::io::Read as _;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// How long one `pkg-config` may run.
const TIMEOUT: Duration = Duration::from_secs(30);

/// What a package's flags add to a module.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PkgFlags {
    /// `-I`.
    pub include_dirs: Vec<PathBuf>,
    /// `-D`.
    pub define_macros: Vec<(String, Option<String>)>,
    /// Other compiler flags (`-pthread`).
    pub extra_compile_args: Vec<String>,
    /// `-L`.
    pub library_dirs: Vec<PathBuf>,
    /// `-l`.
    pub libraries: Vec<String>,
    /// Other linker flags (`-Wl,...`, `-pthread`).
    pub extra_link_args: Vec<String>,
}

impl PkgFlags {
    /// Splits `cflags` and `libs` (pkg-config's output, quoted as a shell
    /// quotes) into their kinds.
    pub fn parse(cflags: &str, libs: &str) -> Result<PkgFlags, String> {
        let split = |s: &str| {
            shlex::split(s).ok_or_else(|| format!("cannot split the flags {:?}", s.trim()))
        };
        let mut f = PkgFlags::default();
        for w in split(cflags)? {
            if let Some(d) = w.strip_prefix("-I") {
                f.include_dirs.push(d.into());
            } else if let Some(d) = w.strip_prefix("-D") {
                f.define_macros.push(match d.split_once('=') {
                    Some((n, v)) => (n.to_string(), Some(v.to_string())),
                    None => (d.to_string(), None),
                });
            } else {
                f.extra_compile_args.push(w);
            }
        }
        for w in split(libs)? {
            if let Some(d) = w.strip_prefix("-L") {
                f.library_dirs.push(d.into());
            } else if let Some(l) = w.strip_prefix("-l") {
                f.libraries.push(l.to_string());
            } else {
                f.extra_link_args.push(w);
            }
        }
        Ok(f)
    }

    /// Adds `other`'s directories, macros and libraries not already
    /// present, and its other flags (which may come in pairs) as they are.
    pub fn merge(&mut self, other: &PkgFlags) {
        fn add<T: PartialEq + Clone>(to: &mut Vec<T>, from: &[T]) {
            for x in from {
                if !to.contains(x) {
                    to.push(x.clone());
                }
            }
        }
        add(&mut self.include_dirs, &other.include_dirs);
        add(&mut self.define_macros, &other.define_macros);
        self.extra_compile_args
            .extend_from_slice(&other.extra_compile_args);
        add(&mut self.library_dirs, &other.library_dirs);
        add(&mut self.libraries, &other.libraries);
        self.extra_link_args
            .extend_from_slice(&other.extra_link_args);
    }
}

/// The flags of the package `name`, from `$PKG_CONFIG` (default
/// `pkg-config`); an unknown package, a missing or hanging pkg-config is an
/// error saying so.
pub fn query(name: &str) -> Result<PkgFlags, String> {
    query_with(name, &[])
}

/// [`query`], with `env` set for pkg-config (`PKG_CONFIG_PATH`).
pub fn query_with(name: &str, env: &[(&str, &str)]) -> Result<PkgFlags, String> {
    if name.is_empty() || name.starts_with('-') {
        return Err(format!("'{name}' is not a package name"));
    }
    let cflags = run(name, "--cflags", env)?;
    let libs = run(name, "--libs", env)?;
    PkgFlags::parse(&cflags, &libs).map_err(|e| format!("pkg-config {name}: {e}"))
}

fn run(name: &str, what: &str, env: &[(&str, &str)]) -> Result<String, String> {
    let program = std::env::var("PKG_CONFIG").unwrap_or_else(|_| "pkg-config".into());
    let mut child = Command::new(&program)
        .args([what, name])
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run {program} (for package '{name}'): {e}"))?;
    let start = Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(s)) => break s,
            Ok(None) if start.elapsed() > TIMEOUT => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!(
                    "{program} {what} {name} did not finish in {} s",
                    TIMEOUT.as_secs()
                ));
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(5)),
            Err(e) => return Err(format!("{program} {what} {name}: {e}")),
        }
    };
    // The output is small (a line): the pipes never fill before exit.
    let mut out = String::new();
    let mut err = String::new();
    if let Some(mut o) = child.stdout.take() {
        let _ = o.read_to_string(&mut out);
    }
    if let Some(mut e) = child.stderr.take() {
        let _ = e.read_to_string(&mut err);
    }
    if !status.success() {
        let why = err.lines().next().unwrap_or("").trim();
        return Err(format!(
            "pkg-config knows no package '{name}'{}",
            if why.is_empty() {
                String::new()
            } else {
                format!(" ({why})")
            }
        ));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_package_of_a_pc_file_and_an_unknown_one() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("fakelib.pc"),
            "prefix=/opt/fake\nName: fakelib\nDescription: d\nVersion: 1.0\n\
             Cflags: -I${prefix}/include/fake -DFAKE_API=1\nLibs: -L${prefix}/lib -lfake\n",
        )
        .unwrap();
        let path = dir.path().to_str().unwrap();
        let env = [("PKG_CONFIG_PATH", path), ("PKG_CONFIG_LIBDIR", path)];
        assert_eq!(
            query_with("fakelib", &env).unwrap(),
            PkgFlags {
                include_dirs: vec!["/opt/fake/include/fake".into()],
                define_macros: vec![("FAKE_API".into(), Some("1".into()))],
                library_dirs: vec!["/opt/fake/lib".into()],
                libraries: vec!["fake".into()],
                ..PkgFlags::default()
            }
        );
        let e = query_with("nosuchlib", &env).unwrap_err();
        assert!(
            e.starts_with(
                "pkg-config knows no package 'nosuchlib' (Package nosuchlib was not found"
            ),
            "{e}"
        );
    }

    #[test]
    fn flags_split_into_their_kinds() {
        let f = PkgFlags::parse(
            "-I/opt/x/include -I'/opt/with space' -DX_SHARED -DX_LEVEL=2 -pthread\n",
            "-L/opt/x/lib -lx -lm -Wl,-rpath,/opt/x/lib -pthread\n",
        )
        .unwrap();
        assert_eq!(
            f,
            PkgFlags {
                include_dirs: vec!["/opt/x/include".into(), "/opt/with space".into()],
                define_macros: vec![
                    ("X_SHARED".into(), None),
                    ("X_LEVEL".into(), Some("2".into()))
                ],
                extra_compile_args: vec!["-pthread".into()],
                library_dirs: vec!["/opt/x/lib".into()],
                libraries: vec!["x".into(), "m".into()],
                extra_link_args: vec!["-Wl,-rpath,/opt/x/lib".into(), "-pthread".into()],
            }
        );
    }
}
