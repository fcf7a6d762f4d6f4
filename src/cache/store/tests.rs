//! The store's own tests: objects and entries round trip, lookups check
//! every dependency, damage is named, parallel writers and merges lose
//! nothing, verify and gc report what they find.

use super::*;

fn entry(obj: &ObjectId, deps: &[(&str, &str)]) -> Entry {
    Entry {
        kind: "cdef".into(),
        deps: deps
            .iter()
            .map(|(p, h)| Dependency {
                path: p.to_string(),
                sha256: sha256_hex(h.as_bytes()),
            })
            .collect(),
        object: obj.clone(),
        meta: BTreeMap::new(),
    }
}

#[test]
fn objects_round_trip_and_damage_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::new(dir.path());
    let id = store.put(b"int f(void);\n").unwrap();
    assert_eq!(store.get(&id).unwrap().unwrap().unwrap(), b"int f(void);\n");
    assert_eq!(store.put(b"int f(void);\n").unwrap(), id);
    // Truncate it: detected, named, never served.
    let path = store.object_path(&id);
    fs::write(&path, b"int f(").unwrap();
    let damage = store.get(&id).unwrap().unwrap_err();
    assert_eq!(damage.path, path);
    assert!(damage.what.contains("6 bytes hash to"), "{damage}");
    fs::write(&path, [0xff, 0, 0x13, 0x37]).unwrap();
    assert!(store.get(&id).unwrap().is_err());
    assert!(
        store
            .get(&ObjectId::of(b"absent"))
            .unwrap()
            .unwrap()
            .is_none()
    );
}

#[test]
fn lookup_checks_every_dependency() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::new(dir.path());
    let key = CacheKey::from_parts([("header", b"nng.h".as_slice())]);
    let obj = store.put(b"cdef v1").unwrap();
    store
        .add_entry(
            &key,
            &entry(&obj, &[("include/nng.h", "v1"), ("include/inner.h", "v1")]),
        )
        .unwrap();
    let mut files = BTreeMap::from([("include/nng.h", "v1"), ("include/inner.h", "v1")]);
    let hit = store
        .lookup(&key, |p| files.get(p).map(|c| sha256_hex(c.as_bytes())))
        .unwrap();
    assert_eq!(hit.hit.unwrap().bytes, b"cdef v1");
    // A transitively included header changes: miss, and status says why.
    files.insert("include/inner.h", "v2");
    let miss = store
        .lookup(&key, |p| files.get(p).map(|c| sha256_hex(c.as_bytes())))
        .unwrap();
    assert!(miss.hit.is_none());
    assert_eq!(
        miss.stale,
        ["include/inner.h changed since the entry was made"]
    );
    // A second entry for the new contents lives beside the first.
    let obj2 = store.put(b"cdef v2").unwrap();
    store
        .add_entry(
            &key,
            &entry(&obj2, &[("include/nng.h", "v1"), ("include/inner.h", "v2")]),
        )
        .unwrap();
    let hit = store
        .lookup(&key, |p| files.get(p).map(|c| sha256_hex(c.as_bytes())))
        .unwrap();
    assert_eq!(hit.hit.unwrap().bytes, b"cdef v2");
    assert_eq!(store.entries(&key).unwrap().0.len(), 2);
}

#[test]
fn a_damaged_object_is_a_miss_with_damage_reported() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::new(dir.path());
    let key = CacheKey::from_parts([("k", b"1".as_slice())]);
    let obj = store.put(b"payload").unwrap();
    store.add_entry(&key, &entry(&obj, &[])).unwrap();
    fs::write(store.object_path(&obj), b"pay").unwrap();
    let l = store.lookup(&key, |_| None).unwrap();
    assert!(l.hit.is_none());
    assert_eq!(l.damage.len(), 1);
    // Healing: storing the object again replaces the damaged file.
    store.put(b"payload").unwrap();
    assert!(store.lookup(&key, |_| None).unwrap().hit.is_some());
    assert!(store.verify().unwrap().damage.is_empty());
}

#[test]
fn parallel_writers_lose_no_entries() {
    let dir = tempfile::tempdir().unwrap();
    let key = CacheKey::from_parts([("k", b"same".as_slice())]);
    std::thread::scope(|s| {
        for i in 0..8 {
            let root = dir.path().to_path_buf();
            let key = key.clone();
            s.spawn(move || {
                let store = Store::new(root);
                let obj = store.put(format!("result {i}").as_bytes()).unwrap();
                store
                    .add_entry(&key, &entry(&obj, &[("h.h", &format!("v{i}"))]))
                    .unwrap();
            });
        }
    });
    let store = Store::new(dir.path());
    assert_eq!(store.entries(&key).unwrap().0.len(), 8);
    let v = store.verify().unwrap();
    assert_eq!((v.objects_ok, v.entries_ok, v.damage.len()), (8, 8, 0));
}

#[test]
fn merge_keeps_both_entries_for_the_same_key() {
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let (sa, sb) = (Store::new(a.path()), Store::new(b.path()));
    let key = CacheKey::from_parts([("header", b"x.h".as_slice())]);
    let oa = sa.put(b"linux cdef").unwrap();
    sa.add_entry(&key, &entry(&oa, &[("/usr/include/stdint.h", "linux")]))
        .unwrap();
    let ob = sb.put(b"macos cdef").unwrap();
    sb.add_entry(&key, &entry(&ob, &[("/usr/include/stdint.h", "macos")]))
        .unwrap();
    let r = sa.merge_from(&sb).unwrap();
    assert_eq!((r.objects_added, r.entries_added), (1, 1));
    assert_eq!(sa.entries(&key).unwrap().0.len(), 2);
    assert_eq!(sa.merge_from(&sb).unwrap(), MergeReport::default());
}

#[test]
fn verify_and_gc_report_what_they_find() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::new(dir.path());
    let key = CacheKey::from_parts([("k", b"v".as_slice())]);
    let kept = store.put(b"kept").unwrap();
    store.add_entry(&key, &entry(&kept, &[])).unwrap();
    store.put(b"orphan").unwrap();
    let bad_entry = store
        .entries_dir(&key)
        .join(format!("{}.json", "0".repeat(64)));
    fs::write(&bad_entry, b"{ not json").unwrap();
    let v = store.verify().unwrap();
    assert_eq!((v.objects_ok, v.entries_ok), (2, 1));
    assert_eq!(v.damage.len(), 1);
    assert_eq!(v.damage[0].path, bad_entry);
    let g = store.gc().unwrap();
    assert_eq!((g.objects_removed, g.damaged_removed), (1, 1));
    assert!(store.get(&kept).unwrap().unwrap().is_some());
}

#[test]
fn keys_do_not_collide_across_part_boundaries() {
    let a = CacheKey::from_parts([("a", b"bc".as_slice())]);
    let b = CacheKey::from_parts([("ab", b"c".as_slice())]);
    assert_ne!(a, b);
    assert_eq!(a, CacheKey::from_parts([("a", b"bc".as_slice())]));
}

#[test]
fn cachedir_tag_is_written_once() {
    let dir = tempfile::tempdir().unwrap();
    write_cachedir_tag(dir.path()).unwrap();
    write_cachedir_tag(dir.path()).unwrap();
    let tag = fs::read_to_string(dir.path().join("CACHEDIR.TAG")).unwrap();
    assert!(tag.starts_with("Signature: 8a477f597d28d172789f06886806bc55"));
}
