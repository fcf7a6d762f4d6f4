//! `headerwheel cache verify|gc|merge|status` on a hostile `.headerkit/`
//! store (symlinks out of it, an object linking to `/dev/zero`, a FIFO
//! object), each run of the binary under an address-space limit and a
//! wall-clock timeout, so a regression fails ("hung", or killed by the
//! limit) instead of hanging or eating the machine's memory.
#![cfg(unix)]

use std::collections::BTreeMap;
use std::fs;
use std::io::Read;
use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use headerwheel::cache::{CacheKey, Entry, ObjectId, Store};

/// Address space for one run: the binary needs far less, a read of
/// `/dev/zero` or of a 256 MiB object whole would not fit.
const MEMORY: u64 = 512 << 20;
/// Wall clock for one run.
const TIMEOUT: Duration = Duration::from_secs(20);

/// Runs `headerwheel ARGS` limited in memory and time: (exit code, stdout, stderr).
fn run(args: &[&Path]) -> (i32, String, String) {
    let bin = env!("CARGO_BIN_EXE_headerwheel");
    let mut cmd = if Command::new("prlimit")
        .arg("--version")
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
    {
        let mut c = Command::new("prlimit");
        c.arg(format!("--as={MEMORY}")).arg("--").arg(bin);
        c
    } else {
        let mut c = Command::new("sh");
        c.arg("-c")
            .arg(format!("ulimit -v {} && exec \"$0\" \"$@\"", MEMORY >> 10))
            .arg(bin);
        c
    };
    cmd.arg("cache")
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("spawn headerwheel");
    // Read both pipes on threads, so a full pipe never looks like a hang.
    let drain = |mut r: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut s = String::new();
            r.read_to_string(&mut s).unwrap();
            s
        })
    };
    let out = drain(Box::new(child.stdout.take().unwrap()));
    let err = drain(Box::new(child.stderr.take().unwrap()));
    let start = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if start.elapsed() > TIMEOUT {
            child.kill().unwrap();
            child.wait().unwrap();
            panic!("hung: headerwheel cache {args:?} ran over {TIMEOUT:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let code = status
        .code()
        .unwrap_or_else(|| panic!("headerwheel cache {args:?} was killed: {status}"));
    (code, out.join().unwrap(), err.join().unwrap())
}

/// Every name under `dir` with its bytes (or link target), not following links.
fn snapshot(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut out = BTreeMap::new();
    for e in fs::read_dir(dir).unwrap() {
        let e = e.unwrap();
        let t = e.file_type().unwrap();
        let p = e.path();
        if t.is_dir() {
            out.insert(p.clone(), b"<dir>".to_vec());
            out.extend(snapshot(&p));
        } else if t.is_symlink() {
            out.insert(
                p.clone(),
                fs::read_link(&p)
                    .unwrap()
                    .into_os_string()
                    .into_encoded_bytes(),
            );
        } else {
            out.insert(p.clone(), fs::read(&p).unwrap());
        }
    }
    out
}

/// A directory outside the store holding what a gc following links would
/// delete and a merge following them would write into.
fn sentinel() -> tempfile::TempDir {
    let d = tempfile::tempdir().unwrap();
    fs::write(d.path().join("1".repeat(62)), b"looks like an object").unwrap();
    fs::write(d.path().join(format!("{}.json", "2".repeat(64))), b"{").unwrap();
    fs::write(d.path().join("notes.txt"), b"keep me\n").unwrap();
    fs::create_dir(d.path().join("sub")).unwrap();
    fs::write(d.path().join("sub/deep"), b"deep").unwrap();
    d
}

/// Paths of one hostile store.
struct Hostile {
    dir: tempfile::TempDir,
    outside: tempfile::TempDir,
    zero: PathBuf,
    fifo: PathBuf,
    fan: PathBuf,
    key_dir: PathBuf,
}

/// A store with one good object and entry, plus: an object that links to
/// `/dev/zero`, an object that is a FIFO, a fan-out directory and a key
/// directory that link to a directory outside.
fn hostile() -> Hostile {
    let dir = tempfile::tempdir().unwrap();
    let outside = sentinel();
    let store = Store::new(dir.path().join(".headerkit"));
    let good = store.put(b"good").unwrap();
    let key = CacheKey::from_parts([("k", b"good".as_slice())]);
    store
        .add_entry(
            &key,
            &Entry {
                kind: "cdef".into(),
                deps: vec![],
                object: good.clone(),
                meta: BTreeMap::new(),
            },
        )
        .unwrap();
    let root = store.root().to_path_buf();
    let object_path = |id: &ObjectId| {
        let dir = root.join("objects").join(&id.as_str()[..2]);
        fs::create_dir_all(&dir).unwrap();
        dir.join(&id.as_str()[2..])
    };
    let zero = object_path(&ObjectId::of(b"zero"));
    symlink("/dev/zero", &zero).unwrap();
    let fifo = object_path(&ObjectId::of(b"fifo"));
    // mkfifo(1), not libc::mkfifo: the crate's unsafe stays in one module.
    assert!(
        Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success()
    );
    let used: Vec<String> = [&good, &ObjectId::of(b"zero"), &ObjectId::of(b"fifo")]
        .iter()
        .map(|id| id.as_str()[..2].to_string())
        .collect();
    let fan_name = (0..=255u8)
        .map(|b| format!("{b:02x}"))
        .find(|f| !used.contains(f))
        .unwrap();
    let fan = root.join("objects").join(fan_name);
    symlink(outside.path(), &fan).unwrap();
    let key_dir = root.join("entries").join("3".repeat(64));
    symlink(outside.path(), &key_dir).unwrap();
    Hostile {
        dir,
        outside,
        zero,
        fifo,
        fan,
        key_dir,
    }
}

impl Hostile {
    fn store(&self) -> PathBuf {
        self.dir.path().join(".headerkit")
    }

    /// `text` with the temporary paths named.
    fn norm(&self, text: &str) -> String {
        text.replace(&self.store().display().to_string(), "<store>")
            .replace(&self.outside.path().display().to_string(), "<outside>")
    }

    /// `p` as a report prints it, temporary paths named.
    fn rel(&self, p: &Path) -> String {
        self.norm(&p.display().to_string())
    }
}

const LINK: &str = "it is a symlink, which the store does not follow";

#[test]
fn cache_verify_reports_a_hostile_store_without_hanging_or_following_links() {
    let h = hostile();
    let before = snapshot(h.outside.path());
    let (code, out, err) = run(&[Path::new("verify"), &h.store()]);
    let mut want = vec![
        format!("damaged: {}: {LINK}", h.rel(&h.fan)),
        format!(
            "damaged: {}: object is damaged: it is a FIFO (named pipe), not a regular file",
            h.rel(&h.fifo)
        ),
        format!(
            "damaged: {}: object is damaged: it is a symlink, which is not followed here",
            h.rel(&h.zero)
        ),
    ];
    // Objects in listing order (by path); the directory damage first.
    want[1..].sort();
    want.insert(0, "1 objects and 1 entries verified".into());
    want.push(format!("damaged: {}: {LINK}", h.rel(&h.key_dir)));
    assert_eq!(
        (code, h.norm(&out), err.as_str()),
        (1, want.join("\n") + "\n", "")
    );
    assert_eq!(snapshot(h.outside.path()), before);
}

#[test]
fn cache_gc_deletes_nothing_through_a_link_and_leaves_what_is_not_a_regular_file() {
    let h = hostile();
    let before = snapshot(h.outside.path());
    let (code, out, err) = run(&[Path::new("gc"), &h.store()]);
    let mut objects = vec![
        format!(
            "left in place: {}: it is a FIFO (named pipe), not a regular file",
            h.rel(&h.fifo)
        ),
        format!("left in place: {}: {LINK}", h.rel(&h.zero)),
    ];
    objects.sort();
    let mut want = vec![
        "removed 0 unreferenced objects, 0 damaged items, 0 temporary files".to_string(),
        format!("left in place: {}: {LINK}", h.rel(&h.key_dir)),
        format!("left in place: {}: {LINK}", h.rel(&h.fan)),
    ];
    want.extend(objects);
    assert_eq!(
        (code, h.norm(&out), err.as_str()),
        (1, want.join("\n") + "\n", "")
    );
    assert_eq!(snapshot(h.outside.path()), before);
    // The good object and its entry are still served.
    let store = Store::new(h.store());
    assert_eq!(
        store.get(&ObjectId::of(b"good")).unwrap().unwrap(),
        Some(b"good".to_vec())
    );
}

#[test]
fn cache_merge_from_a_hostile_store_copies_only_what_is_valid() {
    let h = hostile();
    let before = snapshot(h.outside.path());
    let into = tempfile::tempdir().unwrap();
    let dest = into.path().join("store");
    let (code, out, err) = run(&[Path::new("merge"), &h.store(), &dest]);
    let mut objects = vec![
        format!(
            "skipped damaged: {}: object is damaged: it is a FIFO (named pipe), not a regular file",
            h.rel(&h.fifo)
        ),
        format!(
            "skipped damaged: {}: object is damaged: it is a symlink, which is not followed here",
            h.rel(&h.zero)
        ),
    ];
    objects.sort();
    let mut want = vec![
        "added 1 objects and 1 entries".to_string(),
        format!("skipped damaged: {}: {LINK}", h.rel(&h.fan)),
    ];
    want.extend(objects);
    want.push(format!("skipped damaged: {}: {LINK}", h.rel(&h.key_dir)));
    assert_eq!(
        (code, h.norm(&out), err.as_str()),
        (0, want.join("\n") + "\n", "")
    );
    assert_eq!(snapshot(h.outside.path()), before);
    let (code, out, _) = run(&[Path::new("verify"), &dest]);
    assert_eq!(
        (code, out.as_str()),
        (0, "1 objects and 1 entries verified\n")
    );
}

#[test]
fn cache_merge_into_a_store_whose_objects_directory_is_a_link_is_refused() {
    let h = hostile();
    let into = tempfile::tempdir().unwrap();
    let dest = into.path().join("store");
    fs::create_dir_all(dest.join("tmp")).unwrap();
    symlink(h.outside.path(), dest.join("objects")).unwrap();
    let before = snapshot(h.outside.path());
    let (code, out, err) = run(&[Path::new("merge"), &h.store(), &dest]);
    assert_eq!(
        (
            code,
            out.as_str(),
            err.replace(&dest.display().to_string(), "<dest>")
        ),
        (
            1,
            "",
            format!("headerwheel: error: cache: refusing to write into <dest>/objects: {LINK}\n")
        )
    );
    assert_eq!(snapshot(h.outside.path()), before);
}

#[test]
fn cache_status_lists_real_keys_and_names_a_linked_one() {
    let h = hostile();
    let before = snapshot(h.outside.path());
    let (code, out, err) = run(&[Path::new("status"), &h.store()]);
    let key = CacheKey::from_parts([("k", b"good".as_slice())]);
    let good = ObjectId::of(b"good");
    let want = format!(
        "damaged: {}: {LINK}\n{:.16} cdef  (0 files, object {:.16})\n1 keys in <store>\n",
        h.rel(&h.key_dir),
        key.as_str(),
        good.as_str()
    );
    assert_eq!((code, h.norm(&out), err.as_str()), (0, want, ""));
    assert_eq!(snapshot(h.outside.path()), before);
}
