//! Objects: immutable bytes named by their sha256, checked on every read.

use std::path::Path;

use super::{CacheError, Damage, ObjectId, Store, sha256_hex};
use crate::untrusted::{self, Links, ReadError};

impl Store {
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
    pub(super) fn read_object(
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
}
