//! One archive writer, several sinks: what goes into a wheel is decided once
//! ([`WheelContents`]), then written to a zip file, or listed for tests.
//!
//! Entries are sorted, `.dist-info` comes last and `RECORD` last of all;
//! each entry is hashed as it is written; modes and times are fixed, so the
//! same inputs give the same bytes.

use std::collections::BTreeMap;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use base64::Engine as _;
use sha2::{Digest, Sha256};

/// Why an archive could not be written.
#[derive(Debug, thiserror::Error)]
pub enum ArchiveError {
    /// A file operation failed.
    #[error("failed to {action} {}: {source}", path.display())]
    Io {
        /// What was attempted.
        action: &'static str,
        /// The file.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// The zip writer failed.
    #[error("failed to write {}: {source}", path.display())]
    Zip {
        /// The archive.
        path: PathBuf,
        /// The error.
        source: zip::result::ZipError,
    },
    /// Two entries have the same path.
    #[error("two files would be written to `{0}` in the wheel")]
    Duplicate(String),
}

/// Where archive entries go.
pub trait ArchiveSink {
    /// Adds one file. `path` is `/`-separated; `executable` picks mode 0o755.
    fn add(&mut self, path: &str, bytes: &[u8], executable: bool) -> Result<(), ArchiveError>;
}

/// A file in the wheel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WheelFile {
    /// Its bytes.
    pub bytes: Vec<u8>,
    /// Mode 0o755 instead of 0o644.
    pub executable: bool,
}

/// Everything a wheel holds, before it is written.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WheelContents {
    /// Files outside `.dist-info`, by path.
    pub files: BTreeMap<String, WheelFile>,
    /// Files inside `.dist-info` (paths relative to it), without `RECORD`.
    pub dist_info: BTreeMap<String, WheelFile>,
}

impl WheelContents {
    /// Adds a file outside `.dist-info`; a second file at the same path is an error.
    pub fn add(&mut self, path: String, bytes: Vec<u8>, executable: bool) -> Result<(), ArchiveError> {
        if self.files.contains_key(&path) {
            return Err(ArchiveError::Duplicate(path));
        }
        self.files.insert(path, WheelFile { bytes, executable });
        Ok(())
    }

    /// Adds a `.dist-info` file.
    pub fn add_dist_info(&mut self, name: &str, bytes: Vec<u8>) {
        self.dist_info.insert(name.to_string(), WheelFile { bytes, executable: false });
    }
}

/// `sha256=<urlsafe base64, no padding>` of `bytes`, as RECORD wants it.
pub fn record_hash(bytes: &[u8]) -> String {
    format!(
        "sha256={}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(Sha256::digest(bytes))
    )
}

fn record_field(path: &str) -> String {
    if path.contains([',', '"', '\n']) {
        format!("\"{}\"", path.replace('"', "\"\""))
    } else {
        path.to_string()
    }
}

/// Writes `contents` to `sink` in the canonical order and appends
/// `<dist_info_dir>/RECORD`. Returns the RECORD text.
pub fn write_wheel(contents: &WheelContents, dist_info_dir: &str, sink: &mut dyn ArchiveSink) -> Result<String, ArchiveError> {
    let mut record = String::new();
    let mut put = |path: &str, f: &WheelFile, sink: &mut dyn ArchiveSink| -> Result<(), ArchiveError> {
        sink.add(path, &f.bytes, f.executable)?;
        record.push_str(&format!("{},{},{}\n", record_field(path), record_hash(&f.bytes), f.bytes.len()));
        Ok(())
    };
    for (path, f) in &contents.files {
        put(path, f, sink)?;
    }
    for (name, f) in &contents.dist_info {
        put(&format!("{dist_info_dir}/{name}"), f, sink)?;
    }
    let record_path = format!("{dist_info_dir}/RECORD");
    record.push_str(&format!("{},,\n", record_field(&record_path)));
    sink.add(&record_path, record.as_bytes(), false)?;
    Ok(record)
}

/// Lists entries instead of writing them (tests, `--list`).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ListSink {
    /// `(path, size, executable)` in the order written.
    pub entries: Vec<(String, usize, bool)>,
}

impl ArchiveSink for ListSink {
    fn add(&mut self, path: &str, bytes: &[u8], executable: bool) -> Result<(), ArchiveError> {
        self.entries.push((path.to_string(), bytes.len(), executable));
        Ok(())
    }
}

/// Civil date of a Unix time (UTC), Howard Hinnant's days-to-civil.
pub fn civil_from_unix(t: u64) -> (i64, u32, u32, u32, u32, u32) {
    let days = (t / 86_400) as i64;
    let secs = t % 86_400;
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d, (secs / 3600) as u32, ((secs % 3600) / 60) as u32, (secs % 60) as u32)
}

/// The earliest time a zip entry can carry: 1980-01-01T00:00:00Z.
pub const ZIP_EPOCH: u64 = 315_532_800;

fn zip_time(t: u64) -> zip::DateTime {
    let (y, mo, d, h, mi, s) = civil_from_unix(t.max(ZIP_EPOCH));
    let y = y.clamp(1980, 2107) as u16;
    zip::DateTime::from_date_and_time(y, mo as u8, d as u8, h as u8, mi as u8, s as u8).unwrap_or_default()
}

/// Writes a zip file at a temporary path beside the target, renamed into
/// place by [`ZipSink::finish`]; dropped unfinished, nothing is left behind.
pub struct ZipSink {
    writer: zip::ZipWriter<BufWriter<tempfile::NamedTempFile>>,
    target: PathBuf,
    time: zip::DateTime,
}

impl ZipSink {
    /// Starts a zip that will become `target`, with every entry dated `mtime`
    /// (Unix seconds, clamped to 1980 or later).
    pub fn create(target: &Path, mtime: u64) -> Result<Self, ArchiveError> {
        let dir = target.parent().unwrap_or(Path::new("."));
        let tmp = tempfile::Builder::new()
            .prefix(".headerwheel-")
            .suffix(".tmp")
            .tempfile_in(dir)
            .map_err(|source| ArchiveError::Io { action: "create a temporary file in", path: dir.to_path_buf(), source })?;
        Ok(ZipSink {
            writer: zip::ZipWriter::new(BufWriter::new(tmp)),
            target: target.to_path_buf(),
            time: zip_time(mtime),
        })
    }

    /// Finishes the zip and renames it into place.
    pub fn finish(self) -> Result<PathBuf, ArchiveError> {
        let target = self.target.clone();
        let buf = self.writer.finish().map_err(|source| ArchiveError::Zip { path: target.clone(), source })?;
        let tmp = buf
            .into_inner()
            .map_err(|e| ArchiveError::Io { action: "write", path: target.clone(), source: e.into_error() })?;
        tmp.as_file()
            .sync_all()
            .map_err(|source| ArchiveError::Io { action: "sync", path: target.clone(), source })?;
        tmp.persist(&target)
            .map_err(|e| ArchiveError::Io { action: "rename into", path: target.clone(), source: e.error })?;
        Ok(target)
    }
}

impl ArchiveSink for ZipSink {
    fn add(&mut self, path: &str, bytes: &[u8], executable: bool) -> Result<(), ArchiveError> {
        let options = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated)
            .compression_level(Some(6))
            .last_modified_time(self.time)
            .unix_permissions(if executable { 0o755 } else { 0o644 });
        let zerr = |source| ArchiveError::Zip { path: self.target.clone(), source };
        self.writer.start_file(path, options).map_err(zerr)?;
        self.writer
            .write_all(bytes)
            .map_err(|source| ArchiveError::Io { action: "write", path: self.target.clone(), source })
    }
}

/// Writes `contents` as the wheel file `target` (atomically).
pub fn write_wheel_file(contents: &WheelContents, dist_info_dir: &str, target: &Path, mtime: u64) -> Result<PathBuf, ArchiveError> {
    let mut sink = ZipSink::create(target, mtime)?;
    write_wheel(contents, dist_info_dir, &mut sink)?;
    sink.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> WheelContents {
        let mut c = WheelContents::default();
        c.add("pkg/b.py".into(), b"b".to_vec(), false).unwrap();
        c.add("pkg/__init__.py".into(), Vec::new(), false).unwrap();
        c.add("pkg/_m.abi3.so".into(), b"\x7fELF".to_vec(), true).unwrap();
        c.add_dist_info("WHEEL", b"Wheel-Version: 1.0\n".to_vec());
        c.add_dist_info("METADATA", b"Metadata-Version: 2.1\n".to_vec());
        c
    }

    #[test]
    fn order_and_record() {
        let mut sink = ListSink::default();
        let record = write_wheel(&sample(), "pkg-1.dist-info", &mut sink).unwrap();
        let names: Vec<&str> = sink.entries.iter().map(|e| e.0.as_str()).collect();
        assert_eq!(
            names,
            [
                "pkg/__init__.py",
                "pkg/_m.abi3.so",
                "pkg/b.py",
                "pkg-1.dist-info/METADATA",
                "pkg-1.dist-info/WHEEL",
                "pkg-1.dist-info/RECORD"
            ]
        );
        assert!(sink.entries[1].2, "the extension is executable");
        assert_eq!(
            record.lines().next().unwrap(),
            "pkg/__init__.py,sha256=47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU,0"
        );
        assert!(record.ends_with("pkg-1.dist-info/RECORD,,\n"));
    }

    #[test]
    fn duplicates_are_refused() {
        let mut c = sample();
        assert!(matches!(c.add("pkg/b.py".into(), Vec::new(), false), Err(ArchiveError::Duplicate(_))));
    }

    #[test]
    fn civil_dates() {
        assert_eq!(civil_from_unix(0), (1970, 1, 1, 0, 0, 0));
        assert_eq!(civil_from_unix(ZIP_EPOCH), (1980, 1, 1, 0, 0, 0));
        assert_eq!(civil_from_unix(1_700_000_000), (2023, 11, 14, 22, 13, 20));
        assert_eq!(civil_from_unix(951_782_400), (2000, 2, 29, 0, 0, 0));
    }

    #[test]
    fn zip_is_reproducible_and_atomic() {
        let dir = tempfile::tempdir().unwrap();
        let a = write_wheel_file(&sample(), "pkg-1.dist-info", &dir.path().join("a.whl"), 1_700_000_000).unwrap();
        let b = write_wheel_file(&sample(), "pkg-1.dist-info", &dir.path().join("b.whl"), 1_700_000_000).unwrap();
        assert_eq!(std::fs::read(&a).unwrap(), std::fs::read(&b).unwrap());
        let mut names: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        assert_eq!(names, ["a.whl", "b.whl"], "no temporary file left");
        let mut z = zip::ZipArchive::new(std::fs::File::open(&a).unwrap()).unwrap();
        let f = z.by_name("pkg/_m.abi3.so").unwrap();
        assert_eq!(f.unix_mode().unwrap() & 0o777, 0o755);
        assert_eq!(f.last_modified().unwrap().year(), 2023);
        drop(f);
        // Unfinished: nothing is left.
        let mut sink = ZipSink::create(&dir.path().join("c.whl"), 0).unwrap();
        sink.add("x", b"y", false).unwrap();
        drop(sink);
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 2);
    }
}
