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
use std::io;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::untrusted::{self, Links, ReadError};

mod entries;
mod maintenance;
mod objects;
mod tree;

#[cfg(test)]
mod tests;

/// A store that is hostile input: symlinks out, FIFOs, devices, giant files.
#[cfg(all(test, unix))]
mod hostile_tests;

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
