//! The store's tree as hostile input: directories checked before they are
//! entered, listings that never follow a symlink, and files written once
//! under a temporary name then renamed into place.

use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use super::{CacheError, CacheKey, Damage, ObjectId, Store, io_err};
use crate::untrusted::{self, Links};

/// One name listed in a store directory, with its type as listed (a symlink
/// is a symlink: the listing never follows one).
pub(super) type Listed = (PathBuf, fs::FileType);

/// What a symlink in the store is, in a report.
pub(super) const NOT_FOLLOWED: &str = "it is a symlink, which the store does not follow";

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

impl Store {
    pub(super) fn object_path(&self, id: &ObjectId) -> PathBuf {
        self.root.join(Self::object_dir(id)).join(&id.0[2..])
    }

    /// The fan-out directory of `id`, relative to the root.
    pub(super) fn object_dir(id: &ObjectId) -> PathBuf {
        Path::new("objects").join(&id.0[..2])
    }

    pub(super) fn entries_dir(&self, key: &CacheKey) -> PathBuf {
        self.root.join(Self::entries_rel(key))
    }

    /// The directory of `key`'s entries, relative to the root.
    pub(super) fn entries_rel(key: &CacheKey) -> PathBuf {
        Path::new("entries").join(&key.0)
    }

    /// Checks that `rel` (plain names under the root) is a chain of real
    /// directories: `Ok(Ok(true))`, absent `Ok(Ok(false))`, or the damage
    /// of the first that is a symlink or not a directory.
    pub(super) fn real_dirs(&self, rel: &Path) -> Result<Result<bool, Damage>, CacheError> {
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
    pub(super) fn list(&self, rel: &Path) -> Result<Result<Vec<Listed>, Damage>, CacheError> {
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
    pub(super) fn write_once(
        &self,
        rel: &Path,
        name: &str,
        bytes: &[u8],
    ) -> Result<bool, CacheError> {
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
}

/// What a listed name is, where the store expects `expected`: a symlink is
/// never followed, anything else is named by kind.
pub(super) fn listed_kind(path: &Path, t: fs::FileType, expected: &str) -> String {
    if t.is_symlink() {
        return NOT_FOLLOWED.into();
    }
    let kind = fs::symlink_metadata(path).map_or("gone", |m| untrusted::kind_name(&m));
    format!("it is {kind}, not {expected}")
}
