//! Any bytes as a store object and as an entry file: reads verify, report
//! damage and never serve it, never panic.
#![no_main]
use std::sync::OnceLock;

use headerwheel::cache::{CacheKey, Store};
use libfuzzer_sys::fuzz_target;

static DIR: OnceLock<tempfile::TempDir> = OnceLock::new();

fuzz_target!(|data: &[u8]| {
    let dir = DIR.get_or_init(|| tempfile::tempdir().expect("temp dir"));
    let root = dir.path().join("store");
    let _ = std::fs::remove_dir_all(&root);
    let store = Store::new(&root);
    // A good object and entry, then the fuzz bytes over both.
    let good = store.put(b"int f(void);\n").expect("put");
    let key = CacheKey::from_parts([("k", &b"v"[..])]);
    let entry = headerwheel::cache::Entry {
        kind: "cdef".into(),
        deps: vec![],
        object: good.clone(),
        meta: Default::default(),
    };
    let entry_path = store.add_entry(&key, &entry).expect("add entry");
    let object_path = root
        .join("objects")
        .join(&good.as_str()[..2])
        .join(&good.as_str()[2..]);
    let which = data.first().copied().unwrap_or(0) % 2;
    let target = if which == 0 {
        &object_path
    } else {
        &entry_path
    };
    std::fs::write(target, data.get(1..).unwrap_or(&[])).unwrap();
    let found = store.lookup(&key, |_| None).expect("lookup runs");
    if let Some(hit) = found.hit {
        // Served bytes always hash to their name.
        assert_eq!(
            headerwheel::cache::ObjectId::of(&hit.bytes),
            hit.entry.object
        );
    }
    let _ = store.verify();
    let _ = store.gc();
});
