//! `cache verify`, `cache gc` and `cache merge`: walks over every entry and
//! object that report what they find and never follow a link.

use std::fs;
use std::path::{Path, PathBuf};

use super::tree::{Listed, listed_kind};
use super::{
    CacheError, CacheKey, Damage, GcReport, MergeReport, ObjectId, Store, VerifyReport, io_err,
    is_sha256_hex,
};

impl Store {
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
