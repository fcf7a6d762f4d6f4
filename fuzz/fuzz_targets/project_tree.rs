//! Random project trees (directories, files, symlinks in and out of the
//! project, dangling ones, FIFOs, odd names) and a pyproject.toml naming
//! random paths of them as readme, license, cdef, preamble, sources,
//! package dir, store and output: the project loads or is refused with a
//! located error, never a panic or a hang, and whatever it accepts is a
//! regular file inside the project whose read never yields a byte of the
//! file outside it.
#![no_main]
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use headerwheel::project::{CdefSource, Preamble, Project};
use libfuzzer_sys::fuzz_target;

/// What the outside file holds: no accepted read may return it.
const SECRET: &str = "outside-secret-bytes\n";

/// Names a tree entry may have (odd ones included).
const NAMES: &[&str] = &[
    "pkg",
    "src",
    "a",
    "b.txt",
    "README.md",
    "LICENSE",
    "m.cdef",
    "m.c",
    ".hk",
    "..",
    ".",
    "a b",
    "é",
    "x\\y",
    "build",
    "out",
    "__init__.py",
    "link",
    "fifo",
    "deep",
];

/// Symlink targets: inside, climbing out, absolute out, devices, dangling.
const TARGETS: &[&str] = &[
    "pkg",
    "README.md",
    "../outside/secret.txt",
    "../outside",
    "../../",
    "/dev/zero",
    "/etc/hostname",
    "nowhere/x",
    "../nowhere",
    "a/../b.txt",
    ".",
    "link",
];

/// Paths the pyproject may name.
const PATHS: &[&str] = &[
    "README.md",
    "pkg/README.md",
    "link",
    "link/secret.txt",
    "fifo",
    "pkg/fifo",
    "../outside/secret.txt",
    "/etc/hostname",
    "a/../README.md",
    "a/../../outside/secret.txt",
    "pkg/m.cdef",
    "m.cdef",
    "m.c",
    "pkg/link",
    "deep/link/x",
    "",
    ".",
    "src",
    "pkg",
    ".hk",
    "é",
    "a b/b.txt",
];

struct Bytes<'a>(&'a [u8]);

impl Bytes<'_> {
    fn next(&mut self) -> Option<u8> {
        let (b, rest) = self.0.split_first()?;
        self.0 = rest;
        Some(*b)
    }
    fn pick<'s>(&mut self, from: &[&'s str]) -> Option<&'s str> {
        Some(from[self.next()? as usize % from.len()])
    }
}

fn build_tree(root: &Path, input: &mut Bytes<'_>) {
    let mut dirs: Vec<PathBuf> = vec![PathBuf::new()];
    for _ in 0..24 {
        let Some(op) = input.next() else { break };
        let Some(name) = input.pick(NAMES) else { break };
        let parent = dirs[input.next().unwrap_or(0) as usize % dirs.len()].clone();
        let rel = parent.join(name);
        let at = root.join(&rel);
        // Never create anything outside the project from the tree itself.
        if !headerwheel::project::paths::normalize(&rel).is_some_and(|n| !n.as_os_str().is_empty())
        {
            continue;
        }
        // The tree is made without following its own links: a name that
        // exists (a FIFO, a link out) is never written through, and only
        // real directories inside the project receive entries.
        match op % 4 {
            0 => {
                if std::fs::create_dir(&at).is_ok() {
                    dirs.push(rel);
                }
            }
            1 => {
                if let Ok(mut f) = std::fs::OpenOptions::new()
                    .write(true)
                    .create_new(true)
                    .open(&at)
                {
                    let _ = std::io::Write::write_all(&mut f, b"int f(int);\n");
                }
            }
            2 => {
                if let Some(t) = input.pick(TARGETS) {
                    let _ = std::os::unix::fs::symlink(t, &at);
                }
            }
            _ => {
                let _ = std::process::Command::new("mkfifo")
                    .arg(&at)
                    .stderr(std::process::Stdio::null())
                    .status();
            }
        }
    }
}

fn pyproject(input: &mut Bytes<'_>) -> String {
    let mut t = String::from("[project]\nname = \"pkg\"\nversion = \"1.0\"\n");
    let path = |input: &mut Bytes<'_>| input.pick(PATHS).unwrap_or("README.md");
    let flags = input.next().unwrap_or(0);
    if flags & 1 != 0 {
        let _ = writeln!(t, "readme = {:?}", path(input));
    }
    if flags & 2 != 0 {
        let _ = writeln!(t, "license = {{ file = {:?} }}", path(input));
    }
    if flags & 4 != 0 {
        let _ = writeln!(t, "[tool.headerkit]\nstore_dir = {:?}", path(input));
        let _ = writeln!(t, "[tool.headerkit.output]\ncffi = {:?}", path(input));
    }
    let _ = writeln!(t, "[tool.headerwheel]");
    if flags & 8 != 0 {
        let _ = writeln!(t, "package-dir = {:?}", path(input));
    }
    if flags & 16 != 0 {
        let _ = writeln!(
            t,
            "[tool.headerwheel.modules.\"pkg._m\"]\ncdef = {:?}\npreamble = {:?}\nsources = [{:?}]",
            path(input),
            path(input),
            path(input)
        );
    }
    t
}

fuzz_target!(|data: &[u8]| {
    let base = tempfile::tempdir().expect("temp dir");
    let outside = base.path().join("outside");
    std::fs::create_dir_all(&outside).unwrap();
    std::fs::write(outside.join("secret.txt"), SECRET).unwrap();
    let root = base.path().join("p");
    std::fs::create_dir_all(root.join("pkg")).unwrap();
    std::fs::write(root.join("pkg/__init__.py"), "").unwrap();
    std::fs::write(root.join("README.md"), "# readme\n").unwrap();
    let mut input = Bytes(data);
    build_tree(&root, &mut input);
    if std::fs::write(root.join("pyproject.toml"), pyproject(&mut input)).is_err() {
        return;
    }
    let project = match Project::load(&root) {
        Ok(p) => p,
        Err(e) => {
            assert!(!e.to_string().is_empty());
            return;
        }
    };
    let real_root = root.canonicalize().unwrap();
    let mut files: Vec<PathBuf> = project.metadata.license_files.clone();
    files.extend(
        project
            .metadata
            .readme
            .as_ref()
            .and_then(|r| r.file.clone()),
    );
    for m in &project.tool.modules {
        if let CdefSource::File(p) = &m.cdef {
            files.push(p.clone());
        }
        if let Some(Preamble::File(p)) = &m.preamble {
            files.push(p.clone());
        }
        files.extend(m.sources.iter().cloned());
    }
    for f in &files {
        assert!(
            headerwheel::project::paths::normalize(f).as_deref() == Some(f.as_path()),
            "{f:?} is not normalised"
        );
        let real = root
            .join(f)
            .canonicalize()
            .expect("an accepted file exists");
        assert!(real.starts_with(&real_root), "{f:?} leads to {real:?}");
        assert!(
            std::fs::metadata(&real).unwrap().is_file(),
            "{f:?} is not a regular file"
        );
        if let Ok(bytes) = project.paths.read(f, 1 << 20) {
            assert_ne!(bytes, SECRET.as_bytes(), "{f:?} read the outside file");
        }
    }
    if let Some(r) = &project.metadata.readme {
        assert_ne!(r.text, SECRET);
    }
    if let Some(store) = project
        .headerkit
        .as_ref()
        .and_then(|h| h.store_dir.as_deref())
    {
        let p = Path::new(store);
        assert!(
            headerwheel::project::paths::normalize(p).is_some(),
            "store {store:?}"
        );
    }
    std::fs::remove_file(root.join("pyproject.toml")).ok();
    assert_eq!(
        std::fs::read_to_string(outside.join("secret.txt")).unwrap(),
        SECRET,
        "the outside file changed"
    );
});
