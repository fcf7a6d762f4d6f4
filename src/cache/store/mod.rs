//! The content-addressed store under `.headerkit/` (and the per-user
//! compile cache, which uses the same layout):
//!
//! ```text
//! <root>/objects/<aa>/<62 hex>        immutable bytes, named by their sha256
//! <root>/entries/<key>/<entry>.json   one file per way of satisfying a key
//! <root>/tmp/                         private staging for atomic renames
//! ```
//!
//! A key is the sha256 of every input known before the work runs; an entry
//! adds the inputs only known after it (the files the preprocessor opened,
//! with their hashes) and names the result object. Every file is written
//! once, under a temporary name, then renamed into place, so concurrent
//! writers never lose each other's entries and a crash leaves nothing
//! half-written in view. Every read checks the object's hash.
//!
//! The store is committed to git and shipped in sdists, so its tree is
//! hostile input: no symlink inside it is followed (a symlinked directory is
//! reported and skipped, never listed, written through or emptied), and only
//! regular files of bounded size are read ([`crate::untrusted`]), so a FIFO
//! or `/dev/zero` planted as an object or a dependency is a miss, not a hang.

use std::collections::BTreeMap;
use std::fmt;
use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::untrusted::{self, Links, ReadError};

/// The most one object may hold. Objects are cdefs (libgit2's is 114 KiB),
/// header models (a few MiB for the largest headers) and compiled extension
/// modules of the compile cache (tens of MiB unstripped): 256 MiB leaves room
/// for all of them while keeping a planted giant file from being read whole.
/// A larger object is damaged: reported, never served, removed by gc.
pub const OBJECT_LIMIT: u64 = 256 << 20;

/// The most one entry may hold. An entry is a small JSON record whose bulk
/// is its dependency list, about 150 bytes a file; even a header that pulls
/// in a thousand system headers stays under 200 KiB, so 1 MiB is generous.
pub const ENTRY_LIMIT: u64 = 1 << 20;

/// The most one dependency (a header the preprocessor opened) may hold to be
/// hashed: the largest generated headers are a few MiB, and a project file
/// read whole may hold [`untrusted::TEXT_LIMIT`]. A larger file is a
/// mismatch, so the entry does not apply.
pub const DEPENDENCY_LIMIT: u64 = untrusted::TEXT_LIMIT;

/// The sha256 of the regular file at `path`, streamed, at most `limit`
/// bytes. A FIFO, a device, a directory, a dangling symlink or a larger file
/// is an error (so an entry depending on it is a miss, never a hang). A final
/// symlink is followed: system headers are often links, and the file it
/// leads to must be regular and bounded all the same.
pub fn hash_dependency(path: &Path, limit: u64) -> Result<String, ReadError> {
    let (file, meta) = untrusted::open_regular(path, Links::Follow)?;
    if meta.len() > limit {
        return Err(ReadError::TooLarge {
            size: meta.len(),
            limit,
        });
    }
    let mut h = Sha256::new();
    let mut reader = io::Read::take(file, limit + 1);
    let mut buf = vec![0; 64 << 10];
    let mut n = 0u64;
    loop {
        let got = match io::Read::read(&mut reader, &mut buf) {
            Ok(0) => break,
            Ok(got) => got,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e.into()),
        };
        h.update(&buf[..got]);
        n += got as u64;
    }
    if n > limit {
        return Err(ReadError::TooLarge { size: n, limit });
    }
    Ok(hex(&h.finalize()))
}

/// Where an entry's dependency `dep` is on this machine: an absolute path (a
/// system header) as it is, a relative one under the project `root`. A
/// relative path that could leave the project (a `..`, a root or a drive
/// prefix in it) or is empty is `None`: the entry is untrusted, and such a
/// dependency is a mismatch, never read.
pub fn dependency_path(root: &Path, dep: &str) -> Option<PathBuf> {
    use std::path::Component;
    let p = Path::new(dep);
    if p.is_absolute() {
        return Some(p.to_path_buf());
    }
    let mut parts = 0;
    for c in p.components() {
        match c {
            Component::Normal(_) => parts += 1,
            Component::CurDir => {}
            Component::ParentDir | Component::RootDir | Component::Prefix(_) => return None,
        }
    }
    (parts > 0).then(|| root.join(p))
}

/// Lowercase hex of a sha256 digest.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(DIGITS[usize::from(b >> 4)] as char);
        s.push(DIGITS[usize::from(b & 15)] as char);
    }
    s
}

fn is_sha256_hex(s: &str) -> bool {
    s.len() == 64
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// The name of an object: the sha256 of its bytes.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ObjectId(String);

impl ObjectId {
    /// The id of `bytes`.
    pub fn of(bytes: &[u8]) -> Self {
        ObjectId(sha256_hex(bytes))
    }

    /// The hex digest.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for ObjectId {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        if is_sha256_hex(&s) {
            Ok(ObjectId(s))
        } else {
            Err(format!("not a sha256 object id: {s:?}"))
        }
    }
}

impl From<ObjectId> for String {
    fn from(id: ObjectId) -> String {
        id.0
    }
}

impl fmt::Display for ObjectId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A cache key: the sha256 of named input parts, in the order given.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CacheKey(String);

impl CacheKey {
    /// A key from its hex name (a directory under `entries/`), if it is one.
    pub fn from_hex(hex: &str) -> Self {
        CacheKey(hex.to_string())
    }

    /// Hashes `(name, value)` parts; each is length-prefixed so that no two
    /// different part lists can hash alike.
    pub fn from_parts<'a>(parts: impl IntoIterator<Item = (&'a str, &'a [u8])>) -> Self {
        let mut h = Sha256::new();
        for (name, value) in parts {
            h.update((name.len() as u64).to_le_bytes());
            h.update(name.as_bytes());
            h.update((value.len() as u64).to_le_bytes());
            h.update(value);
        }
        CacheKey(hex(&h.finalize()))
    }

    /// The hex digest.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for CacheKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A file an entry depends on, with the hash of its bytes when the entry was made.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Dependency {
    /// Project-relative path (`/`-separated), or an absolute path for a
    /// system header.
    pub path: String,
    /// sha256 of the file's bytes.
    pub sha256: String,
}

/// One way of satisfying a key: the extra inputs it depends on and the result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Entry {
    /// What the object holds (`"header-model"`, `"cdef"`, `"extension"`).
    pub kind: String,
    /// Files whose current bytes must match for the entry to apply.
    pub deps: Vec<Dependency>,
    /// The result.
    pub object: ObjectId,
    /// Facts kept for `cache status` (tool versions, source names...).
    pub meta: BTreeMap<String, String>,
}

impl Entry {
    /// The canonical bytes of the entry (sorted keys and dependencies), which
    /// name its file.
    pub fn to_canonical_json(&self) -> Vec<u8> {
        let mut e = self.clone();
        e.deps.sort();
        e.deps.dedup();
        let mut v = serde_json::to_vec_pretty(&e).expect("entries serialize");
        v.push(b'\n');
        v
    }
}

/// Something wrong in the store, found while reading it. Reads treat the
/// damaged item as missing and go on; the problem is reported.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Damage {
    /// The damaged file.
    pub path: PathBuf,
    /// What is wrong with it.
    pub what: String,
}

impl fmt::Display for Damage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path.display(), self.what)
    }
}

/// Errors from the store: I/O, with the path.
#[derive(Debug, thiserror::Error)]
pub enum CacheError {
    /// Reading or writing a file failed.
    #[error("cache: failed to {action} {path}: {source}")]
    Io {
        /// What was attempted (`write`, `read`, `create directory`...).
        action: &'static str,
        /// The file.
        path: PathBuf,
        /// The error.
        source: io::Error,
    },
    /// A directory of the store is not a real directory (a symlink, which
    /// is never written through, or a file): nothing is written.
    #[error("cache: refusing to write into {path}: {what}")]
    Refused {
        /// The directory.
        path: PathBuf,
        /// What it is.
        what: String,
    },
}

fn io_err<'p>(action: &'static str, path: &'p Path) -> impl FnOnce(io::Error) -> CacheError + 'p {
    move |source| CacheError::Io {
        action,
        path: path.to_path_buf(),
        source,
    }
}

/// A store rooted at a directory (created on first write).
#[derive(Debug, Clone)]
pub struct Store {
    root: PathBuf,
    object_limit: u64,
    entry_limit: u64,
}

/// One name listed in a store directory, with its type as listed (a symlink
/// is a symlink: the listing never follows one).
type Listed = (PathBuf, fs::FileType);

/// What a symlink in the store is, in a report.
const NOT_FOLLOWED: &str = "it is a symlink, which the store does not follow";

/// Whether `dir` is a real directory (`Ok(true)`), absent (`Ok(false)`), or
/// something the store does not enter (a symlink, a file): the words why.
fn dir_state(dir: &Path) -> io::Result<Result<bool, String>> {
    match fs::symlink_metadata(dir) {
        Ok(m) if m.file_type().is_symlink() => Ok(Err(NOT_FOLLOWED.into())),
        Ok(m) if m.is_dir() => Ok(Ok(true)),
        Ok(m) => Ok(Err(format!(
            "it is {}, not a directory",
            untrusted::kind_name(&m)
        ))),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(Ok(false)),
        Err(e) => Err(e),
    }
}

/// A hit: the entry that matched and its object's bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hit {
    /// The matching entry.
    pub entry: Entry,
    /// The object's bytes (hash-verified).
    pub bytes: Vec<u8>,
}

/// The answer of [`Store::lookup`]: a hit or a miss, and any damage seen.
#[derive(Debug, Clone, Default)]
pub struct Lookup {
    /// The first entry (in entry-name order) whose dependencies all match.
    pub hit: Option<Hit>,
    /// Entries for the key that did not apply, with why (for `cache status`).
    pub stale: Vec<String>,
    /// Damaged entries or objects met on the way (treated as missing).
    pub damage: Vec<Damage>,
}

/// What [`Store::verify`] found.
#[derive(Debug, Clone, Default)]
pub struct VerifyReport {
    /// Objects whose bytes match their name.
    pub objects_ok: usize,
    /// Entries that parse and name an existing object.
    pub entries_ok: usize,
    /// Everything wrong.
    pub damage: Vec<Damage>,
}

/// What [`Store::merge_from`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MergeReport {
    /// Objects copied in.
    pub objects_added: usize,
    /// Entries copied in.
    pub entries_added: usize,
    /// Damaged items of the other store, skipped.
    pub damage: Vec<Damage>,
}

/// What [`Store::gc`] removed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GcReport {
    /// Unreferenced objects deleted.
    pub objects_removed: usize,
    /// Damaged entries and objects deleted.
    pub damaged_removed: usize,
    /// Leftover temporary files deleted.
    pub temp_removed: usize,
    /// What gc does not delete and reports: anything that is not a regular
    /// file it listed (a symlink, a FIFO, a directory it did not create),
    /// and symlinked directories, which it never enters.
    pub left: Vec<Damage>,
}

impl Store {
    /// The store at `root` (nothing is read or created yet).
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Store {
            root: root.into(),
            object_limit: OBJECT_LIMIT,
            entry_limit: ENTRY_LIMIT,
        }
    }

    /// The store with other size limits than [`OBJECT_LIMIT`] and
    /// [`ENTRY_LIMIT`] (tests use small ones).
    pub fn with_limits(mut self, object: u64, entry: u64) -> Self {
        self.object_limit = object;
        self.entry_limit = entry;
        self
    }

    /// The root directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    fn object_path(&self, id: &ObjectId) -> PathBuf {
        self.root.join(Self::object_dir(id)).join(&id.0[2..])
    }

    /// The fan-out directory of `id`, relative to the root.
    fn object_dir(id: &ObjectId) -> PathBuf {
        Path::new("objects").join(&id.0[..2])
    }

    fn entries_dir(&self, key: &CacheKey) -> PathBuf {
        self.root.join(Self::entries_rel(key))
    }

    /// The directory of `key`'s entries, relative to the root.
    fn entries_rel(key: &CacheKey) -> PathBuf {
        Path::new("entries").join(&key.0)
    }

    /// Checks that `rel` (plain names under the root) is a chain of real
    /// directories: `Ok(Ok(true))`, absent `Ok(Ok(false))`, or the damage
    /// of the first that is a symlink or not a directory.
    fn real_dirs(&self, rel: &Path) -> Result<Result<bool, Damage>, CacheError> {
        let mut dir = self.root.clone();
        for part in rel.components() {
            dir.push(part);
            match dir_state(&dir).map_err(io_err("read", &dir))? {
                Ok(true) => {}
                Ok(false) => return Ok(Ok(false)),
                Err(what) => return Ok(Err(Damage { path: dir, what })),
            }
        }
        Ok(Ok(true))
    }

    /// The names in `<root>/<rel>`, sorted, with their types as listed; a
    /// directory on the way that is a symlink or a file is damage, and not
    /// listed.
    fn list(&self, rel: &Path) -> Result<Result<Vec<Listed>, Damage>, CacheError> {
        match self.real_dirs(rel)? {
            Ok(true) => {}
            Ok(false) => return Ok(Ok(Vec::new())),
            Err(d) => return Ok(Err(d)),
        }
        let dir = self.root.join(rel);
        let mut out = Vec::new();
        match fs::read_dir(&dir) {
            Ok(rd) => {
                for e in rd {
                    let e = e.map_err(io_err("list", &dir))?;
                    // The type as listed: `DirEntry::file_type` does not follow.
                    let t = e.file_type().map_err(io_err("list", &e.path()))?;
                    out.push((e.path(), t));
                }
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => {
                return Err(CacheError::Io {
                    action: "list",
                    path: dir,
                    source: e,
                });
            }
        }
        out.sort_by(|a, b| a.0.cmp(&b.0));
        Ok(Ok(out))
    }

    /// Creates `rel` (a path of plain names) under the root, one directory
    /// at a time, and checks each is a real directory: a symlink is never
    /// written through, wherever it leads.
    fn make_dirs(&self, rel: &Path) -> Result<PathBuf, CacheError> {
        fs::create_dir_all(&self.root).map_err(io_err("create directory", &self.root))?;
        let mut dir = self.root.clone();
        for part in rel.components() {
            dir.push(part);
            match fs::create_dir(&dir) {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
                Err(e) => {
                    return Err(CacheError::Io {
                        action: "create directory",
                        path: dir,
                        source: e,
                    });
                }
            }
            match dir_state(&dir).map_err(io_err("create directory", &dir))? {
                Ok(_) => {}
                Err(what) => return Err(CacheError::Refused { path: dir, what }),
            }
        }
        Ok(dir)
    }

    /// Writes `bytes` to `<root>/<rel>/<name>` atomically: a unique
    /// temporary file in `<root>/tmp`, fsynced, then renamed into place. An
    /// intact file there is left alone (every name here is a hash of its
    /// content); a damaged one (a symlink, a FIFO, other bytes) is replaced,
    /// which is how the store heals. Only real directories are written into.
    fn write_once(&self, rel: &Path, name: &str, bytes: &[u8]) -> Result<bool, CacheError> {
        let tmp_dir = self.make_dirs(Path::new("tmp"))?;
        let dest = self.make_dirs(rel)?.join(name);
        // At most as many bytes as ours: a longer file cannot be the same.
        if untrusted::read_regular(&dest, bytes.len() as u64, Links::Refuse)
            .is_ok_and(|existing| existing == bytes)
        {
            return Ok(false);
        }
        let mut tmp = tempfile::Builder::new()
            .prefix(".w")
            .tempfile_in(&tmp_dir)
            .map_err(io_err("create a file in", &tmp_dir))?;
        tmp.write_all(bytes).map_err(io_err("write", tmp.path()))?;
        tmp.as_file()
            .sync_all()
            .map_err(io_err("write", tmp.path()))?;
        let tmp_path = tmp.path().to_path_buf();
        tmp.persist(&dest).map_err(|e| CacheError::Io {
            action: "rename into place",
            path: tmp_path,
            source: e.error,
        })?;
        Ok(true)
    }

    /// Stores `bytes`; returns their id. Storing the same bytes twice is a no-op.
    pub fn put(&self, bytes: &[u8]) -> Result<ObjectId, CacheError> {
        let id = ObjectId::of(bytes);
        self.write_once(&Self::object_dir(&id), &id.0[2..], bytes)?;
        Ok(id)
    }

    /// Reads object `id`, checking its hash. `Ok(Err(damage))` when the
    /// file exists but its bytes do not match its name (truncated, edited,
    /// garbage), or it is not a regular file of at most the object limit, or
    /// a directory on its way is a symlink; `Ok(Ok(None))` when absent.
    pub fn get(&self, id: &ObjectId) -> Result<Result<Option<Vec<u8>>, Damage>, CacheError> {
        match self.real_dirs(&Self::object_dir(id))? {
            Ok(true) => {}
            Ok(false) => return Ok(Ok(None)),
            Err(d) => return Ok(Err(d)),
        }
        self.read_object(&self.object_path(id), id)
    }

    /// Reads the object file at `path` (its directories checked already),
    /// bounded, never through a symlink, and checks it hashes to `id`.
    fn read_object(
        &self,
        path: &Path,
        id: &ObjectId,
    ) -> Result<Result<Option<Vec<u8>>, Damage>, CacheError> {
        let damage = |what: String| {
            Ok(Err(Damage {
                path: path.to_path_buf(),
                what,
            }))
        };
        let bytes = match untrusted::read_regular(path, self.object_limit, Links::Refuse) {
            Ok(b) => b,
            Err(ReadError::NotFound) => return Ok(Ok(None)),
            Err(ReadError::Io(e)) => {
                return Err(CacheError::Io {
                    action: "read",
                    path: path.to_path_buf(),
                    source: e,
                });
            }
            Err(e) => return damage(format!("object is damaged: {e}")),
        };
        let actual = sha256_hex(&bytes);
        if actual != id.0 {
            return damage(format!(
                "object is damaged: its {} bytes hash to {actual}, not to its name",
                bytes.len()
            ));
        }
        Ok(Ok(Some(bytes)))
    }

    /// Records `entry` under `key` (after storing its object with [`Store::put`]).
    pub fn add_entry(&self, key: &CacheKey, entry: &Entry) -> Result<PathBuf, CacheError> {
        let json = entry.to_canonical_json();
        let name = format!("{}.json", sha256_hex(&json));
        self.write_once(&Self::entries_rel(key), &name, &json)?;
        Ok(self.entries_dir(key).join(name))
    }

    /// Reads the entry file at `path`, bounded, never through a symlink.
    fn read_entry(&self, path: &Path) -> Result<Result<Entry, Damage>, CacheError> {
        let damage = |what: String| {
            Ok(Err(Damage {
                path: path.to_path_buf(),
                what,
            }))
        };
        let bytes = match untrusted::read_regular(path, self.entry_limit, Links::Refuse) {
            Ok(b) => b,
            Err(ReadError::NotFound) => {
                return Err(CacheError::Io {
                    action: "read",
                    path: path.to_path_buf(),
                    source: io::ErrorKind::NotFound.into(),
                });
            }
            Err(ReadError::Io(e)) => {
                return Err(CacheError::Io {
                    action: "read",
                    path: path.to_path_buf(),
                    source: e,
                });
            }
            Err(e) => return damage(format!("entry is damaged: {e}")),
        };
        let name = path.file_stem().and_then(|s| s.to_str()).unwrap_or("");
        if sha256_hex(&bytes) != name {
            return damage(format!(
                "entry is damaged: its {} bytes do not hash to its name",
                bytes.len()
            ));
        }
        match serde_json::from_slice::<Entry>(&bytes) {
            Ok(e) => Ok(Ok(e)),
            Err(e) => damage(format!("entry is not a valid record: {e}")),
        }
    }

    /// The keys that have an entry directory (real directories only; a
    /// symlinked `entries/` or key directory is damage, not listed).
    pub fn keys(&self) -> Result<(Vec<CacheKey>, Vec<Damage>), CacheError> {
        let mut keys = Vec::new();
        let mut damage = Vec::new();
        match self.list(Path::new("entries"))? {
            Err(d) => damage.push(d),
            Ok(listed) => {
                for (path, t) in listed {
                    let name = path.file_name().and_then(|s| s.to_str());
                    match name {
                        Some(name) if t.is_dir() => keys.push(CacheKey(name.to_string())),
                        _ if t.is_symlink() => damage.push(Damage {
                            path,
                            what: NOT_FOLLOWED.into(),
                        }),
                        _ => {}
                    }
                }
            }
        }
        Ok((keys, damage))
    }

    /// The entries recorded for `key`, in entry-name order, with damaged ones
    /// reported apart.
    pub fn entries(&self, key: &CacheKey) -> Result<(Vec<Entry>, Vec<Damage>), CacheError> {
        let mut entries = Vec::new();
        let mut damage = Vec::new();
        let listed = match self.list(&Self::entries_rel(key))? {
            Ok(l) => l,
            Err(d) => return Ok((entries, vec![d])),
        };
        for (path, _) in listed {
            if path.extension().is_some_and(|e| e == "json") {
                match self.read_entry(&path)? {
                    Ok(e) => entries.push(e),
                    Err(d) => damage.push(d),
                }
            }
        }
        Ok((entries, damage))
    }

    /// Finds an entry of `key` whose dependencies all still hash as
    /// recorded. `current_hash(path)` gives the sha256 of a dependency's
    /// current bytes (`None` if it is gone); callers memoize it.
    pub fn lookup(
        &self,
        key: &CacheKey,
        current_hash: impl FnMut(&str) -> Option<String>,
    ) -> Result<Lookup, CacheError> {
        self.lookup_where(key, current_hash, |_| true)
    }

    /// [`Store::lookup`] among the entries `accept` takes (e.g. those made
    /// by this machine's libclang).
    pub fn lookup_where(
        &self,
        key: &CacheKey,
        mut current_hash: impl FnMut(&str) -> Option<String>,
        accept: impl Fn(&Entry) -> bool,
    ) -> Result<Lookup, CacheError> {
        let (entries, mut damage) = self.entries(key)?;
        let mut stale = Vec::new();
        for entry in entries {
            if !accept(&entry) {
                stale.push("made by another libclang".to_string());
                continue;
            }
            let changed = entry
                .deps
                .iter()
                .find(|d| current_hash(&d.path).as_deref() != Some(d.sha256.as_str()));
            if let Some(d) = changed {
                stale.push(format!("{} changed since the entry was made", d.path));
                continue;
            }
            match self.get(&entry.object)? {
                Ok(Some(bytes)) => {
                    return Ok(Lookup {
                        hit: Some(Hit { entry, bytes }),
                        stale,
                        damage,
                    });
                }
                Ok(None) => {
                    let path = self.object_path(&entry.object);
                    damage.push(Damage {
                        path,
                        what: "object is missing".into(),
                    })
                }
                Err(d) => damage.push(d),
            }
        }
        Ok(Lookup {
            hit: None,
            stale,
            damage,
        })
    }

    /// The files of every subdirectory of `<root>/<top>` (the two levels of
    /// `entries/` and `objects/`), by subdirectory name, and the damage of
    /// what is not entered: a linked or non-directory name at either level.
    #[allow(clippy::type_complexity)]
    fn list_two_levels(
        &self,
        top: &str,
    ) -> Result<(Vec<(String, Vec<Listed>)>, Vec<Damage>), CacheError> {
        let mut out = Vec::new();
        let mut damage = Vec::new();
        let subdirs = match self.list(Path::new(top))? {
            Ok(l) => l,
            Err(d) => return Ok((out, vec![d])),
        };
        for (sub, t) in subdirs {
            if !t.is_dir() {
                damage.push(Damage {
                    what: listed_kind(&sub, t, "a directory"),
                    path: sub,
                });
                continue;
            }
            let name = sub.file_name().expect("listed");
            match self.list(&Path::new(top).join(name))? {
                Ok(l) => out.push((name.to_str().unwrap_or("").to_string(), l)),
                Err(d) => damage.push(d),
            }
        }
        Ok((out, damage))
    }

    /// Every entry file (`*.json` in a key directory) with its type as
    /// listed, and the damage of directories not entered.
    fn all_entries(&self) -> Result<(Vec<Listed>, Vec<Damage>), CacheError> {
        let (dirs, damage) = self.list_two_levels("entries")?;
        let out = dirs
            .into_iter()
            .flat_map(|(_, l)| l)
            .filter(|(p, _)| p.extension().is_some_and(|e| e == "json"))
            .collect();
        Ok((out, damage))
    }

    /// Every file under a fan-out directory of `objects/`, with its type as
    /// listed and the id its name spells (if it does), and the damage of
    /// directories not entered.
    #[allow(clippy::type_complexity)]
    fn all_objects(
        &self,
    ) -> Result<(Vec<(PathBuf, fs::FileType, Option<ObjectId>)>, Vec<Damage>), CacheError> {
        let (fans, damage) = self.list_two_levels("objects")?;
        let mut out = Vec::new();
        for (prefix, listed) in fans {
            for (path, t) in listed {
                let rest = path.file_name().and_then(|s| s.to_str()).unwrap_or("");
                let id = ObjectId::try_from(format!("{prefix}{rest}")).ok();
                out.push((path, t, id));
            }
        }
        Ok((out, damage))
    }

    /// Checks every object's hash and every entry's form and object.
    pub fn verify(&self) -> Result<VerifyReport, CacheError> {
        let mut report = VerifyReport::default();
        let (objects, damage) = self.all_objects()?;
        report.damage.extend(damage);
        let mut present = std::collections::BTreeSet::new();
        for (path, t, id) in objects {
            match id {
                None => report.damage.push(Damage {
                    path,
                    what: "not an object name".into(),
                }),
                Some(id) => {
                    if t.is_file() {
                        present.insert(id.clone());
                    }
                    match self.read_object(&path, &id)? {
                        Ok(_) => report.objects_ok += 1,
                        Err(d) => report.damage.push(d),
                    }
                }
            }
        }
        let (entries, damage) = self.all_entries()?;
        report.damage.extend(damage);
        for (path, _) in entries {
            match self.read_entry(&path)? {
                Ok(e) if present.contains(&e.object) => report.entries_ok += 1,
                Ok(e) => report.damage.push(Damage {
                    path,
                    what: format!("entry names a missing object {}", e.object),
                }),
                Err(d) => report.damage.push(d),
            }
        }
        Ok(report)
    }

    /// Deletes objects no entry references, damaged items, and leftover
    /// temporary files: only regular files it listed, never through a
    /// symlink. Anything else is reported in [`GcReport::left`].
    pub fn gc(&self) -> Result<GcReport, CacheError> {
        let mut report = GcReport::default();
        let mut referenced = std::collections::BTreeSet::new();
        let (entries, damage) = self.all_entries()?;
        report.left.extend(damage);
        for (path, t) in entries {
            match self.read_entry(&path)? {
                Ok(e) => {
                    referenced.insert(e.object);
                }
                Err(_) if t.is_file() => {
                    fs::remove_file(&path).map_err(io_err("remove", &path))?;
                    report.damaged_removed += 1;
                }
                Err(d) => report.left.push(d),
            }
        }
        let (objects, damage) = self.all_objects()?;
        report.left.extend(damage);
        for (path, t, id) in objects {
            if !t.is_file() {
                report.left.push(Damage {
                    what: listed_kind(&path, t, "a regular file"),
                    path,
                });
                continue;
            }
            let damaged = match &id {
                Some(id) => match self.read_object(&path, id)? {
                    Ok(Some(_)) => false,
                    Ok(None) => continue,
                    Err(_) => true,
                },
                None => true,
            };
            if damaged {
                fs::remove_file(&path).map_err(io_err("remove", &path))?;
                report.damaged_removed += 1;
            } else if !referenced.contains(id.as_ref().expect("checked")) {
                fs::remove_file(&path).map_err(io_err("remove", &path))?;
                report.objects_removed += 1;
            }
        }
        match self.list(Path::new("tmp"))? {
            Err(d) => report.left.push(d),
            Ok(listed) => {
                for (path, t) in listed {
                    if t.is_file() {
                        fs::remove_file(&path).map_err(io_err("remove", &path))?;
                        report.temp_removed += 1;
                    } else {
                        report.left.push(Damage {
                            what: listed_kind(&path, t, "a regular file"),
                            path,
                        });
                    }
                }
            }
        }
        Ok(report)
    }

    /// Copies every valid object and entry of `other` that this store lacks:
    /// a content-addressed union, so nothing valid is ever dropped. Neither
    /// store's symlinks are followed; writing into a directory of this store
    /// that is a symlink is refused ([`CacheError::Refused`]).
    pub fn merge_from(&self, other: &Store) -> Result<MergeReport, CacheError> {
        let mut report = MergeReport::default();
        let (objects, damage) = other.all_objects()?;
        report.damage.extend(damage);
        for (path, _, id) in objects {
            let Some(id) = id else {
                report.damage.push(Damage {
                    path,
                    what: "not an object name".into(),
                });
                continue;
            };
            match other.read_object(&path, &id)? {
                Ok(Some(bytes)) => {
                    if self.write_once(&Self::object_dir(&id), &id.0[2..], &bytes)? {
                        report.objects_added += 1;
                    }
                }
                Ok(None) => {}
                Err(d) => report.damage.push(d),
            }
        }
        let (entries, damage) = other.all_entries()?;
        report.damage.extend(damage);
        for (path, _) in entries {
            match other.read_entry(&path)? {
                Ok(entry) => {
                    let key_dir = path
                        .parent()
                        .and_then(|p| p.file_name())
                        .and_then(|s| s.to_str())
                        .unwrap_or("");
                    // The name hashed to its stem, so it is `<hex>.json`.
                    let name = path.file_name().and_then(|s| s.to_str());
                    let (true, Some(name)) = (is_sha256_hex(key_dir), name) else {
                        report.damage.push(Damage {
                            path,
                            what: "entry is not under a key directory".into(),
                        });
                        continue;
                    };
                    let rel = Self::entries_rel(&CacheKey(key_dir.to_string()));
                    if self.write_once(&rel, name, &entry.to_canonical_json())? {
                        report.entries_added += 1;
                    }
                }
                Err(d) => report.damage.push(d),
            }
        }
        Ok(report)
    }
}

/// What a listed name is, where the store expects `expected`: a symlink is
/// never followed, anything else is named by kind.
fn listed_kind(path: &Path, t: fs::FileType, expected: &str) -> String {
    if t.is_symlink() {
        return NOT_FOLLOWED.into();
    }
    let kind = fs::symlink_metadata(path).map_or("gone", |m| untrusted::kind_name(&m));
    format!("it is {kind}, not {expected}")
}

/// Writes `CACHEDIR.TAG` (so backup tools skip the directory) if absent.
pub fn write_cachedir_tag(dir: &Path) -> Result<(), CacheError> {
    let path = dir.join("CACHEDIR.TAG");
    if fs::symlink_metadata(&path).is_ok() {
        return Ok(());
    }
    let body = b"Signature: 8a477f597d28d172789f06886806bc55\n# This file is a cache directory tag created by headerwheel.\n# For information about cache directory tags see https://bford.info/cachedir/\n";
    Store::new(dir)
        .write_once(Path::new(""), "CACHEDIR.TAG", body)
        .map(|_| ())
}

#[cfg(test)]
mod tests {
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
}

/// A store that is hostile input: symlinks out, FIFOs, devices, giant files.
#[cfg(all(test, unix))]
mod hostile_tests {
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
}
