use super::*;
use std::os::unix::fs::symlink;
use std::sync::mpsc;
use std::time::Duration;

/// Runs `f` on a thread and fails with "hung" if it takes over 20 s, so
/// a regression that blocks on a FIFO fails instead of hanging the run.
fn within<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    rx.recv_timeout(Duration::from_secs(20)).expect("hung")
}

fn mkfifo(path: &Path) {
    // mkfifo(1), not libc::mkfifo: the crate's unsafe stays in one module.
    let status = std::process::Command::new("mkfifo")
        .arg(path)
        .status()
        .unwrap();
    assert!(status.success());
}

/// A directory outside every store, with files a gc would delete and a
/// merge would add to if it followed a link into it.
fn sentinel(name_like_object: &str) -> tempfile::TempDir {
    let d = tempfile::tempdir().unwrap();
    fs::write(d.path().join(name_like_object), b"x").unwrap();
    fs::write(d.path().join("notes.txt"), b"keep me\n").unwrap();
    fs::write(d.path().join(format!("{}.json", "0".repeat(64))), b"{").unwrap();
    fs::create_dir(d.path().join("sub")).unwrap();
    fs::write(d.path().join("sub/deep"), b"deep").unwrap();
    d
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
            let target = fs::read_link(&p).unwrap();
            out.insert(p, target.to_string_lossy().as_bytes().to_vec());
        } else {
            out.insert(p.clone(), fs::read(&p).unwrap());
        }
    }
    out
}

fn entry(obj: &ObjectId, deps: &[(&str, &str)]) -> Entry {
    Entry {
        kind: "cdef".into(),
        deps: deps
            .iter()
            .map(|(p, h)| Dependency {
                path: p.to_string(),
                sha256: h.to_string(),
            })
            .collect(),
        object: obj.clone(),
        meta: BTreeMap::new(),
    }
}

fn damage(path: PathBuf, what: &str) -> Damage {
    Damage {
        path,
        what: what.into(),
    }
}

const LINK: &str = "it is a symlink, which the store does not follow";

#[test]
fn a_symlinked_fan_directory_is_never_entered_by_get_verify_gc_or_merge() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::new(dir.path());
    let id = ObjectId::of(b"x");
    let fan = dir.path().join("objects").join(&id.0[..2]);
    let outside = sentinel(&id.0[2..]);
    fs::create_dir_all(dir.path().join("objects")).unwrap();
    symlink(outside.path(), &fan).unwrap();
    let before = snapshot(outside.path());
    let report = damage(fan.clone(), LINK);

    assert_eq!(store.get(&id).unwrap().unwrap_err(), report);
    let v = within({
        let s = store.clone();
        move || s.verify().unwrap()
    });
    assert_eq!((v.objects_ok, v.entries_ok), (0, 0));
    assert_eq!(v.damage, std::slice::from_ref(&report));
    let g = within({
        let s = store.clone();
        move || s.gc().unwrap()
    });
    assert_eq!(
        g,
        GcReport {
            left: vec![report.clone()],
            ..Default::default()
        }
    );
    // As the source of a merge: skipped, reported.
    let other = tempfile::tempdir().unwrap();
    let r = Store::new(other.path()).merge_from(&store).unwrap();
    assert_eq!(
        r,
        MergeReport {
            damage: vec![report],
            ..Default::default()
        }
    );
    assert!(!other.path().join("objects").exists());
    // As the destination: refused, naming the directory.
    let good = tempfile::tempdir().unwrap();
    Store::new(good.path()).put(b"x").unwrap();
    let e = store.merge_from(&Store::new(good.path())).unwrap_err();
    assert_eq!(
        e.to_string(),
        format!("cache: refusing to write into {}: {LINK}", fan.display())
    );
    let e = store.put(b"x").unwrap_err();
    assert_eq!(
        e.to_string(),
        format!("cache: refusing to write into {}: {LINK}", fan.display())
    );
    assert_eq!(snapshot(outside.path()), before);
}

#[test]
fn a_symlinked_key_directory_is_never_entered() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::new(dir.path());
    let key = CacheKey::from_parts([("k", b"v".as_slice())]);
    let obj = store.put(b"payload").unwrap();
    // A valid entry, moved out, and its key directory made a link to it.
    let entry_path = store.add_entry(&key, &entry(&obj, &[])).unwrap();
    let outside = sentinel("x");
    let name = entry_path.file_name().unwrap();
    fs::rename(&entry_path, outside.path().join(name)).unwrap();
    let key_dir = store.entries_dir(&key);
    fs::remove_dir(&key_dir).unwrap();
    symlink(outside.path(), &key_dir).unwrap();
    let before = snapshot(outside.path());
    let report = damage(key_dir.clone(), LINK);

    assert_eq!(store.entries(&key).unwrap(), (vec![], vec![report.clone()]));
    let l = store.lookup(&key, |_| None).unwrap();
    assert!(l.hit.is_none());
    assert_eq!(l.damage, std::slice::from_ref(&report));
    assert_eq!(store.keys().unwrap(), (vec![], vec![report.clone()]));
    let v = store.verify().unwrap();
    assert_eq!((v.objects_ok, v.entries_ok), (1, 0));
    assert_eq!(v.damage, std::slice::from_ref(&report));
    let g = store.gc().unwrap();
    // The object is unreferenced by any entry of the store: removed.
    assert_eq!(
        g,
        GcReport {
            objects_removed: 1,
            left: vec![report.clone()],
            ..Default::default()
        }
    );
    let other = tempfile::tempdir().unwrap();
    let r = Store::new(other.path()).merge_from(&store).unwrap();
    assert_eq!(r.damage, [report]);
    assert_eq!(r.entries_added, 0);
    let e = store.add_entry(&key, &entry(&obj, &[])).unwrap_err();
    assert_eq!(
        e.to_string(),
        format!(
            "cache: refusing to write into {}: {LINK}",
            key_dir.display()
        )
    );
    assert_eq!(snapshot(outside.path()), before);
}

#[test]
fn symlinked_objects_entries_and_tmp_directories_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::new(dir.path());
    let outside = sentinel(&"1".repeat(62));
    let before = snapshot(outside.path());
    fs::create_dir_all(dir.path()).unwrap();
    for sub in ["objects", "entries", "tmp"] {
        symlink(outside.path(), dir.path().join(sub)).unwrap();
    }
    let at = |sub: &str| damage(dir.path().join(sub), LINK);
    let v = store.verify().unwrap();
    assert_eq!(v.damage, [at("objects"), at("entries")]);
    let g = store.gc().unwrap();
    assert_eq!(g.left, [at("entries"), at("objects"), at("tmp")]);
    assert_eq!(
        (g.objects_removed, g.damaged_removed, g.temp_removed),
        (0, 0, 0)
    );
    assert_eq!(store.keys().unwrap().1, [at("entries")]);
    // Merging into it: the first write (into tmp/) is refused.
    let good = tempfile::tempdir().unwrap();
    let gs = Store::new(good.path());
    let obj = gs.put(b"x").unwrap();
    gs.add_entry(&CacheKey::from_parts([]), &entry(&obj, &[]))
        .unwrap();
    let e = store.merge_from(&gs).unwrap_err();
    assert_eq!(
        e.to_string(),
        format!(
            "cache: refusing to write into {}: {LINK}",
            dir.path().join("tmp").display()
        )
    );
    // With a real tmp/, the symlinked objects/ is refused.
    fs::remove_file(dir.path().join("tmp")).unwrap();
    let e = store.merge_from(&gs).unwrap_err();
    assert_eq!(
        e.to_string(),
        format!(
            "cache: refusing to write into {}: {LINK}",
            dir.path().join("objects").display()
        )
    );
    assert_eq!(snapshot(outside.path()), before);
}

#[test]
fn an_object_that_links_to_dev_zero_is_damage_and_never_read() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::new(dir.path());
    let key = CacheKey::from_parts([("k", b"z".as_slice())]);
    let obj = store.put(b"payload").unwrap();
    let entry_path = store.add_entry(&key, &entry(&obj, &[])).unwrap();
    let path = store.object_path(&obj);
    fs::remove_file(&path).unwrap();
    symlink("/dev/zero", &path).unwrap();
    let what = "object is damaged: it is a symlink, which is not followed here";
    let s = store.clone();
    let (got, l, v, g) = within(move || {
        let got = s.get(&obj).unwrap();
        let l = s.lookup(&key, |_| None).unwrap();
        let v = s.verify().unwrap();
        let g = s.gc().unwrap();
        (got, l, v, g)
    });
    assert_eq!(got.unwrap_err(), damage(path.clone(), what));
    assert!(l.hit.is_none());
    assert_eq!(l.damage, [damage(path.clone(), what)]);
    assert_eq!(
        v.damage,
        [
            damage(path.clone(), what),
            damage(
                entry_path,
                &format!("entry names a missing object {}", ObjectId::of(b"payload")),
            ),
        ]
    );
    // gc unlinks nothing that is not a regular file.
    assert_eq!(g.left, [damage(path.clone(), LINK)]);
    assert!(
        fs::symlink_metadata(&path)
            .unwrap()
            .file_type()
            .is_symlink()
    );
    // Storing the object again replaces the link: healed.
    store.put(b"payload").unwrap();
    assert!(fs::symlink_metadata(&path).unwrap().is_file());
    assert_eq!(
        store.get(&ObjectId::of(b"payload")).unwrap().unwrap(),
        Some(b"payload".to_vec())
    );
}

#[test]
fn an_object_that_is_a_fifo_is_damage_without_blocking() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::new(dir.path());
    let obj = store.put(b"payload").unwrap();
    let path = store.object_path(&obj);
    fs::remove_file(&path).unwrap();
    mkfifo(&path);
    let what = "object is damaged: it is a FIFO (named pipe), not a regular file";
    let s = store.clone();
    let o = obj.clone();
    let (got, v, g, m) = within(move || {
        let other = tempfile::tempdir().unwrap();
        let m = Store::new(other.path()).merge_from(&s).unwrap();
        (s.get(&o).unwrap(), s.verify().unwrap(), s.gc().unwrap(), m)
    });
    assert_eq!(got.unwrap_err(), damage(path.clone(), what));
    assert_eq!(v.damage, [damage(path.clone(), what)]);
    assert_eq!(
        g.left,
        [damage(
            path.clone(),
            "it is a FIFO (named pipe), not a regular file"
        )]
    );
    assert_eq!(m.damage, [damage(path.clone(), what)]);
    // `put` compares with what is there through the same bounded,
    // non-blocking read, then replaces the FIFO.
    let s = store.clone();
    within(move || s.put(b"payload").unwrap());
    assert_eq!(store.get(&obj).unwrap().unwrap(), Some(b"payload".to_vec()));
}

#[test]
fn an_oversized_object_or_entry_is_damage_and_gc_removes_it() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::new(dir.path()).with_limits(4, 64);
    let key = CacheKey::from_parts([("k", b"big".as_slice())]);
    let obj = store.put(b"12345").unwrap();
    let path = store.object_path(&obj);
    assert_eq!(
        store.get(&obj).unwrap().unwrap_err(),
        damage(
            path.clone(),
            "object is damaged: it is 5 bytes, over the limit of 4 bytes"
        )
    );
    let entry_path = store.add_entry(&key, &entry(&obj, &[])).unwrap();
    let size = fs::metadata(&entry_path).unwrap().len();
    let (entries, d) = store.entries(&key).unwrap();
    assert!(entries.is_empty());
    assert_eq!(
        d,
        [damage(
            entry_path.clone(),
            &format!("entry is damaged: it is {size} bytes, over the limit of 64 bytes")
        )]
    );
    let g = store.gc().unwrap();
    assert_eq!((g.damaged_removed, g.objects_removed), (2, 0));
    assert!(g.left.is_empty());
    assert!(!path.exists() && !entry_path.exists());
}

#[test]
fn a_dependency_that_is_not_a_bounded_regular_file_is_a_mismatch() {
    let project = tempfile::tempdir().unwrap();
    let inc = project.path().join("include");
    fs::create_dir(&inc).unwrap();
    fs::write(inc.join("ok.h"), b"int f;\n").unwrap();
    mkfifo(&inc.join("fifo.h"));
    symlink("/dev/zero", inc.join("zero.h")).unwrap();
    fs::create_dir(inc.join("dir.h")).unwrap();
    symlink(inc.join("nowhere.h"), inc.join("dangling.h")).unwrap();
    let root = project.path().to_path_buf();
    let hash = |dep: &str, limit: u64| {
        hash_dependency(&dependency_path(&root, dep).unwrap(), limit).map_err(|e| e.to_string())
    };
    assert_eq!(hash("include/ok.h", 1 << 20), Ok(sha256_hex(b"int f;\n")));
    let errors = within({
        let root = root.clone();
        move || {
            ["fifo.h", "zero.h", "dir.h", "dangling.h"].map(|f| {
                hash_dependency(&root.join("include").join(f), DEPENDENCY_LIMIT)
                    .unwrap_err()
                    .to_string()
            })
        }
    });
    assert_eq!(
        errors,
        [
            "it is a FIFO (named pipe), not a regular file",
            "it is a device, not a regular file",
            "it is a directory, not a regular file",
            "it does not exist",
        ]
    );
    assert_eq!(
        hash("include/ok.h", 4),
        Err("it is 7 bytes, over the limit of 4 bytes".to_string())
    );
    // In a lookup each is a mismatch: a miss, the entry named stale.
    let dir = tempfile::tempdir().unwrap();
    let store = Store::new(dir.path());
    let obj = store.put(b"cdef").unwrap();
    let stale = within(move || {
        let mut out = Vec::new();
        for f in ["fifo.h", "zero.h", "dir.h", "dangling.h"] {
            let dep = format!("include/{f}");
            let key = CacheKey::from_parts([("dep", dep.as_bytes())]);
            let e = entry(&obj, &[(dep.as_str(), &sha256_hex(b""))]);
            store.add_entry(&key, &e).unwrap();
            let l = store
                .lookup(&key, |p| {
                    let path = dependency_path(&root, p)?;
                    hash_dependency(&path, DEPENDENCY_LIMIT).ok()
                })
                .unwrap();
            assert!(l.hit.is_none() && l.damage.is_empty());
            out.extend(l.stale);
        }
        out
    });
    assert_eq!(
        stale,
        [
            "include/fifo.h changed since the entry was made",
            "include/zero.h changed since the entry was made",
            "include/dir.h changed since the entry was made",
            "include/dangling.h changed since the entry was made",
        ]
    );
}

#[test]
fn relative_dependencies_stay_inside_the_project() {
    let root = Path::new("/project");
    for bad in ["../x.h", "include/../../etc/passwd", "a/..", "", "."] {
        assert_eq!(dependency_path(root, bad), None, "{bad:?}");
    }
    assert_eq!(
        dependency_path(root, "./include/a.h"),
        Some(PathBuf::from("/project/./include/a.h"))
    );
    assert_eq!(
        dependency_path(root, "include/a.h"),
        Some(PathBuf::from("/project/include/a.h"))
    );
    // System headers are absolute, and taken as they are.
    assert_eq!(
        dependency_path(root, "/usr/include/stdint.h"),
        Some(PathBuf::from("/usr/include/stdint.h"))
    );
}
