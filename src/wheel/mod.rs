//! Wheels and sdists: reproducible archives (sorted entries, fixed modes,
//! timestamps from `SOURCE_DATE_EPOCH`), written to a temporary file in the
//! output directory and renamed into place, so no partial archive is ever
//! visible.

use std::io::Write;
use std::path::{Path, PathBuf};

use base64::Engine;
use sha2::{Digest, Sha256};

pub mod tags;

pub use tags::compress_tags;

/// One file to archive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArchiveFile {
    /// Its path inside the archive (`/`-separated).
    pub path: String,
    /// Its bytes.
    pub data: Vec<u8>,
    /// Executable (mode 755 rather than 644).
    pub executable: bool,
}

impl ArchiveFile {
    /// A regular file.
    pub fn new(path: impl Into<String>, data: impl Into<Vec<u8>>) -> Self {
        ArchiveFile {
            path: path.into(),
            data: data.into(),
            executable: false,
        }
    }
}

/// An archive-writing failure.
#[derive(Debug, thiserror::Error)]
pub enum ArchiveError {
    /// I/O on `path`.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// Zip encoding failed.
    #[error("writing {path}: {message}")]
    Zip {
        /// The archive.
        path: PathBuf,
        /// Why.
        message: String,
    },
    /// Two files map to one archive path.
    #[error("two files would be written to '{0}' in the archive")]
    Duplicate(String),
    /// A name that would land outside the install directory or differ
    /// between platforms (absolute, `..`, a backslash, a control character).
    #[error("'{0}' cannot be an archive entry: {1}")]
    BadName(String, &'static str),
    /// `SOURCE_DATE_EPOCH` is set to something that is not a time.
    #[error(
        "SOURCE_DATE_EPOCH='{0}' is not an integer number of seconds since 1970-01-01 \
         (see https://reproducible-builds.org/specs/source-date-epoch/)"
    )]
    SourceDateEpoch(String),
}

/// Checks an archive entry name: relative, `/`-separated, no `.`/`..` or
/// empty components, no backslash or control character (what installers
/// would resolve outside their target: "zip slip").
pub fn check_entry_name(name: &str) -> Result<(), ArchiveError> {
    let bad = |why| Err(ArchiveError::BadName(name.to_string(), why));
    if name.is_empty() || name.starts_with('/') {
        return bad("it is empty or absolute");
    }
    if name.contains('\\') {
        return bad("it holds a backslash");
    }
    if name.chars().any(char::is_control) {
        return bad("it holds a control character");
    }
    if name
        .split('/')
        .any(|c| c.is_empty() || c == "." || c == "..")
    {
        return bad("it has an empty, '.' or '..' component");
    }
    Ok(())
}

/// 1980-01-01 00:00:00 UTC, the zip format's first instant.
const ZIP_FIRST: i64 = 315_532_800;
/// 2107-12-31 23:59:58 UTC, the zip format's last instant (DOS times count
/// years 1980 + 0..=127 and seconds in steps of two).
const ZIP_LAST: i64 = 4_354_819_198;

/// The timestamp of archive entries: `SOURCE_DATE_EPOCH` if set (clamped to
/// 1980, the zip format's first year), else 1980-01-01; an error if it is
/// set to something other than an integer.
pub fn source_date_epoch() -> Result<i64, ArchiveError> {
    parse_source_date_epoch(std::env::var_os("SOURCE_DATE_EPOCH").as_deref())
}

/// [`source_date_epoch`] for the variable's value (`None`: unset). An empty
/// value counts as unset; anything else must be a decimal integer, as
/// <https://reproducible-builds.org/specs/source-date-epoch/> says: a build
/// that was asked to be reproducible fails rather than guess.
fn parse_source_date_epoch(value: Option<&std::ffi::OsStr>) -> Result<i64, ArchiveError> {
    let Some(value) = value else {
        return Ok(ZIP_FIRST);
    };
    let bad = || ArchiveError::SourceDateEpoch(value.to_string_lossy().into_owned());
    let text = value.to_str().ok_or_else(bad)?.trim();
    if text.is_empty() {
        return Ok(ZIP_FIRST);
    }
    let digits = text.strip_prefix(['-', '+']).unwrap_or(text);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    // An integer too large for i64 is still a time: past the zip range.
    let epoch = text.parse::<i64>().unwrap_or(if text.starts_with('-') {
        i64::MIN
    } else {
        i64::MAX
    });
    Ok(epoch.max(ZIP_FIRST))
}

/// Days since 1970-01-01 → (year, month, day), proleptic Gregorian.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = if z >= 0 { z } else { z - 146_096 } / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// The zip entry time of `epoch`: clamped to the zip format's range and
/// rounded down to its two-second steps.
fn zip_time(epoch: i64) -> zip::DateTime {
    let epoch = epoch.clamp(ZIP_FIRST, ZIP_LAST);
    let epoch = epoch - epoch.rem_euclid(2);
    let days = epoch.div_euclid(86_400);
    let secs = epoch.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    zip::DateTime::from_date_and_time(
        y as u16,
        m as u8,
        d as u8,
        (secs / 3600) as u8,
        ((secs / 60) % 60) as u8,
        (secs % 60) as u8,
    )
    .expect("a time in the zip range")
}

/// `sha256=<urlsafe base64, no padding>` of `data`, as RECORD wants it.
pub fn record_hash(data: &[u8]) -> String {
    let digest = Sha256::digest(data);
    format!(
        "sha256={}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(digest)
    )
}

/// What goes into `.dist-info` besides the files.
#[derive(Debug, Clone)]
pub struct DistInfo {
    /// `METADATA` text.
    pub metadata: String,
    /// `entry_points.txt`.
    pub entry_points: Option<String>,
    /// License files: (path relative to the project root, bytes).
    pub license_files: Vec<(String, Vec<u8>)>,
    /// The wheel tags (`cp39-abi3-manylinux_2_17_x86_64`, ...).
    pub tags: Vec<String>,
    /// `Root-Is-Purelib`.
    pub purelib: bool,
}

/// Removes the temporaries (`.<filename>.XXXXXX.tmp`) of builds that were
/// killed while writing: those nobody holds locked. A live build's is locked.
fn remove_stale_temps(out_dir: &Path, prefix: &str) {
    let Ok(entries) = std::fs::read_dir(out_dir) else {
        return;
    };
    for e in entries.flatten() {
        let name = e.file_name();
        let Some(name) = name.to_str() else { continue };
        if !(name.starts_with(prefix) && name.ends_with(".tmp")) {
            continue;
        }
        let Ok(f) = std::fs::File::open(e.path()) else {
            continue;
        };
        if f.try_lock().is_ok() {
            let _ = std::fs::remove_file(e.path());
        }
    }
}

fn write_atomic(
    out_dir: &Path,
    filename: &str,
    build: impl FnOnce(&mut std::fs::File) -> Result<(), ArchiveError>,
) -> Result<PathBuf, ArchiveError> {
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| ArchiveError::Io { path, source }
    };
    std::fs::create_dir_all(out_dir).map_err(io(out_dir))?;
    let target = out_dir.join(filename);
    let prefix = format!(".{filename}.");
    remove_stale_temps(out_dir, &prefix);
    let mut tmp = tempfile::Builder::new()
        .prefix(&prefix)
        .suffix(".tmp")
        .tempfile_in(out_dir)
        .map_err(io(out_dir))?;
    // Locked while it is written: a build killed mid-way leaves an unlocked
    // temporary, which the next build removes (see `remove_stale_temps`).
    tmp.as_file().lock().map_err(io(tmp.path()))?;
    build(tmp.as_file_mut())?;
    tmp.as_file_mut().sync_all().map_err(io(&target))?;
    // Archives are not executable; world-readable like any build output.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let _ = std::fs::set_permissions(tmp.path(), std::fs::Permissions::from_mode(0o644));
    }
    tmp.persist(&target).map_err(|e| ArchiveError::Io {
        path: target.clone(),
        source: e.error,
    })?;
    Ok(target)
}

/// Writes `{name}-{version}-{tag}.whl` into `out_dir` with `files` and the
/// `.dist-info` directory, and returns its path.
pub fn write_wheel(
    out_dir: &Path,
    dist_name: &str,
    version: &str,
    files: Vec<ArchiveFile>,
    info: &DistInfo,
) -> Result<PathBuf, ArchiveError> {
    let dist_info = format!("{dist_name}-{version}.dist-info");
    let mut files = files;
    for f in &files {
        // `.dist-info` and `.data` are the installer's: a project file there
        // would rewrite the metadata or install outside site-packages.
        let first = f.path.split('/').next().unwrap_or("");
        if first.ends_with(".dist-info") || first.ends_with(".data") {
            return Err(ArchiveError::BadName(
                f.path.clone(),
                "the .dist-info and .data directories hold only what headerwheel writes",
            ));
        }
    }
    let mut meta_files = vec![ArchiveFile::new(
        format!("{dist_info}/METADATA"),
        info.metadata.clone(),
    )];
    let mut wheel = format!(
        "Wheel-Version: 1.0\nGenerator: headerwheel {}\nRoot-Is-Purelib: {}\n",
        env!("CARGO_PKG_VERSION"),
        info.purelib
    );
    for t in &info.tags {
        wheel.push_str(&format!("Tag: {t}\n"));
    }
    meta_files.push(ArchiveFile::new(format!("{dist_info}/WHEEL"), wheel));
    if let Some(ep) = &info.entry_points {
        meta_files.push(ArchiveFile::new(
            format!("{dist_info}/entry_points.txt"),
            ep.clone(),
        ));
    }
    for (p, data) in &info.license_files {
        meta_files.push(ArchiveFile::new(
            format!("{dist_info}/licenses/{p}"),
            data.clone(),
        ));
    }
    files.extend(meta_files);
    // One rule for every entry, the .dist-info ones included, before any
    // byte is written; sorted by bytes (`.dist-info` sorts after the
    // packages' names of the same prefix, as installers expect it last).
    files.sort_by(|a, b| {
        let meta = |f: &ArchiveFile| f.path.starts_with(&dist_info);
        (meta(a), &a.path).cmp(&(meta(b), &b.path))
    });
    for f in &files {
        check_entry_name(&f.path)?;
    }
    for w in files.windows(2) {
        if w[0].path == w[1].path {
            return Err(ArchiveError::Duplicate(w[0].path.clone()));
        }
    }
    let mut record = String::new();
    for f in &files {
        record.push_str(&format!(
            "{},{},{}\n",
            csv_field(&f.path),
            record_hash(&f.data),
            f.data.len()
        ));
    }
    record.push_str(&format!("{dist_info}/RECORD,,\n"));
    files.push(ArchiveFile::new(format!("{dist_info}/RECORD"), record));

    let tag = compress_tags(&info.tags);
    let filename = format!("{dist_name}-{version}-{tag}.whl");
    let time = zip_time(source_date_epoch()?);
    let target_for_err = out_dir.join(&filename);
    write_atomic(out_dir, &filename, |file| {
        let zerr = |e: zip::result::ZipError| ArchiveError::Zip {
            path: target_for_err.clone(),
            message: e.to_string(),
        };
        let mut z = zip::ZipWriter::new(std::io::BufWriter::new(file));
        for f in &files {
            let opts = zip::write::SimpleFileOptions::default()
                .compression_method(zip::CompressionMethod::Deflated)
                .compression_level(Some(6))
                .last_modified_time(time)
                .unix_permissions(if f.executable { 0o755 } else { 0o644 });
            z.start_file(f.path.as_str(), opts).map_err(zerr)?;
            z.write_all(&f.data).map_err(|e| ArchiveError::Io {
                path: target_for_err.clone(),
                source: e,
            })?;
        }
        let w = z.finish().map_err(zerr)?;
        w.into_inner().map_err(|e| ArchiveError::Io {
            path: target_for_err.clone(),
            source: e.into_error(),
        })?;
        Ok(())
    })
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// Writes `{name}-{version}.tar.gz` into `out_dir`: every file under the
/// `{name}-{version}/` prefix, `PKG-INFO` included, and returns its path.
pub fn write_sdist(
    out_dir: &Path,
    dist_name: &str,
    version: &str,
    files: Vec<ArchiveFile>,
) -> Result<PathBuf, ArchiveError> {
    let prefix = format!("{dist_name}-{version}");
    let filename = format!("{prefix}.tar.gz");
    let mut files = files;
    files.sort_by(|a, b| a.path.cmp(&b.path));
    for f in &files {
        check_entry_name(&f.path)?;
    }
    for w in files.windows(2) {
        if w[0].path == w[1].path {
            return Err(ArchiveError::Duplicate(w[0].path.clone()));
        }
    }
    let mtime = source_date_epoch()? as u64;
    let target = out_dir.join(&filename);
    write_atomic(out_dir, &filename, |file| {
        let io = |e: std::io::Error| ArchiveError::Io {
            path: target.clone(),
            source: e,
        };
        let gz = flate2::GzBuilder::new()
            .mtime(0)
            .write(std::io::BufWriter::new(file), flate2::Compression::new(6));
        let mut tar = tar::Builder::new(gz);
        tar.mode(tar::HeaderMode::Deterministic);
        // Directory entries, then files, all sorted.
        let mut dirs: Vec<String> = Vec::new();
        for f in &files {
            let mut p = f.path.as_str();
            while let Some((parent, _)) = p.rsplit_once('/') {
                if !dirs.contains(&parent.to_string()) {
                    dirs.push(parent.to_string());
                }
                p = parent;
            }
        }
        dirs.sort();
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(tar::EntryType::Directory);
        h.set_mode(0o755);
        h.set_mtime(mtime);
        h.set_uid(0);
        h.set_gid(0);
        h.set_size(0);
        tar.append_data(&mut h.clone(), format!("{prefix}/"), std::io::empty())
            .map_err(io)?;
        for d in &dirs {
            tar.append_data(&mut h.clone(), format!("{prefix}/{d}/"), std::io::empty())
                .map_err(io)?;
        }
        for f in &files {
            let mut h = tar::Header::new_gnu();
            h.set_entry_type(tar::EntryType::Regular);
            h.set_mode(if f.executable { 0o755 } else { 0o644 });
            h.set_mtime(mtime);
            h.set_uid(0);
            h.set_gid(0);
            h.set_size(f.data.len() as u64);
            tar.append_data(&mut h, format!("{prefix}/{}", f.path), f.data.as_slice())
                .map_err(io)?;
        }
        let gz = tar.into_inner().map_err(io)?;
        let w = gz.finish().map_err(io)?;
        w.into_inner().map_err(|e| io(e.into_error()))?;
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn epoch(value: Option<&str>) -> Result<i64, String> {
        parse_source_date_epoch(value.map(std::ffi::OsStr::new)).map_err(|e| e.to_string())
    }

    /// The zip time of `epoch` as `YYYY-MM-DD hh:mm:ss`.
    fn zip_text(epoch: i64) -> String {
        let t = zip_time(epoch);
        format!(
            "{:04}-{:02}-{:02} {:02}:{:02}:{:02}",
            t.year(),
            t.month(),
            t.day(),
            t.hour(),
            t.minute(),
            t.second()
        )
    }

    #[test]
    fn source_date_epoch_unset_or_empty_is_1980() {
        assert_eq!(epoch(None), Ok(ZIP_FIRST));
        assert_eq!(epoch(Some("")), Ok(ZIP_FIRST));
        assert_eq!(epoch(Some("  ")), Ok(ZIP_FIRST));
    }

    #[test]
    fn source_date_epoch_must_be_an_integer() {
        insta::assert_snapshot!(epoch(Some("yesterday")).unwrap_err(), @"SOURCE_DATE_EPOCH='yesterday' is not an integer number of seconds since 1970-01-01 (see https://reproducible-builds.org/specs/source-date-epoch/)");
        insta::assert_snapshot!(epoch(Some("1.5")).unwrap_err(), @"SOURCE_DATE_EPOCH='1.5' is not an integer number of seconds since 1970-01-01 (see https://reproducible-builds.org/specs/source-date-epoch/)");
        for bad in ["-", "+", "1e9", "0x10", "12 34"] {
            assert!(epoch(Some(bad)).is_err(), "{bad}");
        }
    }

    #[test]
    fn source_date_epoch_values() {
        assert_eq!(epoch(Some("-5")), Ok(ZIP_FIRST));
        assert_eq!(epoch(Some("315532799")), Ok(ZIP_FIRST));
        assert_eq!(epoch(Some("315532800")), Ok(ZIP_FIRST));
        assert_eq!(epoch(Some(" 1700000000\n")), Ok(1_700_000_000));
        assert_eq!(epoch(Some("99999999999999999999")), Ok(i64::MAX));
        assert_eq!(epoch(Some("-99999999999999999999")), Ok(ZIP_FIRST));
    }

    #[test]
    fn zip_times_are_clamped_to_the_zip_range() {
        assert_eq!(zip_text(i64::MIN), "1980-01-01 00:00:00");
        assert_eq!(zip_text(-1), "1980-01-01 00:00:00");
        assert_eq!(zip_text(315_532_799), "1980-01-01 00:00:00");
        assert_eq!(zip_text(315_532_800), "1980-01-01 00:00:00");
        assert_eq!(zip_text(315_532_801), "1980-01-01 00:00:00");
        assert_eq!(zip_text(1_700_000_000), "2023-11-14 22:13:20");
        assert_eq!(zip_text(1_700_000_001), "2023-11-14 22:13:20");
        assert_eq!(zip_text(1_700_000_059), "2023-11-14 22:14:18");
        assert_eq!(zip_text(4_354_819_198), "2107-12-31 23:59:58");
        assert_eq!(zip_text(4_354_819_199), "2107-12-31 23:59:58");
        assert_eq!(zip_text(4_354_819_200), "2107-12-31 23:59:58");
        assert_eq!(zip_text(5_000_000_000), "2107-12-31 23:59:58");
        assert_eq!(zip_text(i64::MAX), "2107-12-31 23:59:58");
    }

    #[test]
    fn dates_from_epochs() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(19_723), (2024, 1, 1));
        assert_eq!(civil_from_days(11_016), (2000, 2, 29));
    }

    #[test]
    fn wheels_are_reproducible_and_have_a_record() {
        let dir = tempfile::tempdir().unwrap();
        let info = DistInfo {
            metadata: "Metadata-Version: 2.1\nName: x\nVersion: 1.0\n".into(),
            entry_points: None,
            license_files: vec![],
            tags: vec!["py3-none-any".into()],
            purelib: true,
        };
        let files = || {
            vec![
                ArchiveFile::new("x/__init__.py", "A = 1\n"),
                ArchiveFile::new("x/a.py", ""),
            ]
        };
        let a = write_wheel(&dir.path().join("a"), "x", "1.0", files(), &info).unwrap();
        let b = write_wheel(&dir.path().join("b"), "x", "1.0", files(), &info).unwrap();
        assert_eq!(std::fs::read(&a).unwrap(), std::fs::read(&b).unwrap());
        let mut z = zip::ZipArchive::new(std::fs::File::open(&a).unwrap()).unwrap();
        let names: Vec<String> = (0..z.len())
            .map(|i| z.by_index(i).unwrap().name().unwrap().to_string())
            .collect();
        assert_eq!(names.last().unwrap(), "x-1.0.dist-info/RECORD");
        let mut rec = String::new();
        std::io::Read::read_to_string(&mut z.by_name("x-1.0.dist-info/RECORD").unwrap(), &mut rec)
            .unwrap();
        assert!(
            rec.contains("x/__init__.py,sha256=") && rec.ends_with("x-1.0.dist-info/RECORD,,\n"),
            "{rec}"
        );
        // Nothing else left behind in the output directory.
        assert_eq!(std::fs::read_dir(dir.path().join("a")).unwrap().count(), 1);
    }

    #[test]
    fn dist_info_entries_are_checked_and_project_files_kept_out_of_installer_directories() {
        let dir = tempfile::tempdir().unwrap();
        let info = |license: &str| DistInfo {
            metadata: "Metadata-Version: 2.1\nName: x\nVersion: 1.0\n".into(),
            entry_points: None,
            license_files: vec![(license.to_string(), b"secret".to_vec())],
            tags: vec!["py3-none-any".into()],
            purelib: true,
        };
        let e = write_wheel(
            dir.path(),
            "x",
            "1.0",
            vec![],
            &info("../../../tmp/secret.txt"),
        )
        .unwrap_err();
        assert_eq!(
            e.to_string(),
            "'x-1.0.dist-info/licenses/../../../tmp/secret.txt' cannot be an archive entry: it has an empty, '.' or '..' component"
        );
        for path in [
            "x-1.0.dist-info/RECORD",
            "y.dist-info/METADATA",
            "x-1.0.data/scripts/evil",
        ] {
            let e = write_wheel(
                dir.path(),
                "x",
                "1.0",
                vec![ArchiveFile::new(path, "evil")],
                &info("LICENSE"),
            )
            .unwrap_err();
            assert_eq!(
                e.to_string(),
                format!(
                    "'{path}' cannot be an archive entry: the .dist-info and .data directories hold only what headerwheel writes"
                )
            );
        }
        assert_eq!(
            std::fs::read_dir(dir.path()).unwrap().count(),
            0,
            "nothing written"
        );
    }

    #[test]
    fn entry_names_that_escape_are_refused() {
        for bad in [
            "",
            "/etc/passwd",
            "pkg/../../x",
            "pkg/./x",
            "pkg//x",
            "pkg\\..\\x",
            "pkg/x\nRECORD",
            "../x",
        ] {
            assert!(
                matches!(check_entry_name(bad), Err(ArchiveError::BadName(..))),
                "{bad:?}"
            );
        }
        for good in [
            "pkg/__init__.py",
            "pkg/data/x.json",
            "pkg-1.0.dist-info/RECORD",
            "a..b/c",
        ] {
            check_entry_name(good).unwrap();
        }
    }
}
