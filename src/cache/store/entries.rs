//! Entries: the ways of satisfying a key, and the lookup that checks each
//! entry's dependencies against the files as they are now.

use std::io;
use std::path::{Path, PathBuf};

use super::tree::NOT_FOLLOWED;
use super::{CacheError, CacheKey, Damage, Entry, Hit, Lookup, Store, sha256_hex};
use crate::untrusted::{self, Links, ReadError};

impl Store {
    /// Records `entry` under `key` (after storing its object with [`Store::put`]).
    pub fn add_entry(&self, key: &CacheKey, entry: &Entry) -> Result<PathBuf, CacheError> {
        let json = entry.to_canonical_json();
        let name = format!("{}.json", sha256_hex(&json));
        self.write_once(&Self::entries_rel(key), &name, &json)?;
        Ok(self.entries_dir(key).join(name))
    }

    /// Reads the entry file at `path`, bounded, never through a symlink.
    pub(super) fn read_entry(&self, path: &Path) -> Result<Result<Entry, Damage>, CacheError> {
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
}
