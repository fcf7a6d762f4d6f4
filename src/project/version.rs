//! A dynamic `version` (`[project] dynamic = ["version"]`), from
//! `[tool.headerwheel] version`:
//!
//! ```toml
//! version = { from-vcs = true }                 # git describe, setuptools_scm's default scheme
//! version = { file = "pkg/_version.py" }        # its `__version__ = "..."` line
//! version = { file = "VERSION.txt", regex = "v(\\S+)" }
//! ```
//!
//! With `from-vcs`, an unpacked sdist (a `PKG-INFO` at the root, no `.git`)
//! takes the version its `PKG-INFO` carries: the one computed when the
//! sdist was made.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use regex::Regex;

use super::paths::{Expect, ProjectDir};
use super::requirements::normalize_version;
use super::toml::{ConfigError, Node};

/// How long `git` may run before the version is given up on.
const GIT_TIMEOUT: Duration = Duration::from_secs(10);

/// The default `regex` of `version = { file = ... }`.
const VERSION_LINE: &str = r#"(?m)^\s*__version__\s*(?::\s*str\s*)?=\s*['"]([^'"]+)['"]"#;

/// The version `[tool.headerwheel] version` (`node`) computes, normalised.
pub fn dynamic_version(node: &Node<'_>, dir: &ProjectDir) -> Result<String, ConfigError> {
    node.only_keys(&["from-vcs", "file", "regex"])?;
    let root = dir.root();
    let from_vcs = node.get("from-vcs")?.map(|n| n.bool()).transpose()?;
    let file = node.get("file")?;
    let regex = node.get("regex")?;
    // An unpacked sdist: the version it was made with (a version file is
    // in the sdist too, and read from there: an edit to it counts).
    if from_vcs == Some(true)
        && !root.join(".git").exists()
        && let Ok(text) = dir.read_text(Path::new("PKG-INFO"))
        && let Some(v) = pkg_info_version(&text)
    {
        return normalize_version(&v).ok_or_else(|| {
            node.error(format!(
                "PKG-INFO: 'Version: {v}' is not a valid PEP 440 version"
            ))
        });
    }
    match (from_vcs, file) {
        (Some(true), None) => {
            if regex.is_some() {
                return Err(node.error("'regex' goes with 'file', not with 'from-vcs'"));
            }
            let v = vcs_version(root).map_err(|e| node.error(e))?;
            normalize_version(&v).ok_or_else(|| {
                node.error(format!(
                    "git describe gives '{v}', which is not a valid PEP 440 version"
                ))
            })
        }
        (None | Some(false), Some(f)) => {
            let rel = dir
                .resolve(f.str()?, Expect::File)
                .map_err(|e| f.error(e.to_string()))?;
            let text = dir.read_text(&rel).map_err(|e| f.error(e.to_string()))?;
            let (pattern, at) = match &regex {
                Some(r) => (r.str()?, r),
                None => (VERSION_LINE, &f),
            };
            let re = Regex::new(pattern)
                .map_err(|e| at.error(format!("'{pattern}' is not a regular expression: {e}")))?;
            let v = version_in(&re, &text).ok_or_else(|| {
                at.error(format!(
                    "no version found in '{}' ({})",
                    rel.display(),
                    if regex.is_some() {
                        "the regex does not match"
                    } else {
                        "no line `__version__ = \"...\"`"
                    }
                ))
            })?;
            normalize_version(&v).ok_or_else(|| {
                at.error(format!(
                    "'{v}' (in '{}') is not a valid PEP 440 version",
                    rel.display()
                ))
            })
        }
        (Some(true), Some(f)) => Err(f.error("give either 'from-vcs' or 'file', not both")),
        _ => Err(node.error(
            "a dynamic version needs `{ from-vcs = true }` or `{ file = \"pkg/_version.py\" }`",
        )),
    }
}

/// The `version` group (else the first) of the first match.
fn version_in(re: &Regex, text: &str) -> Option<String> {
    let c = re.captures(text)?;
    let m = c
        .name("version")
        .or_else(|| c.get(1))
        .or_else(|| c.get(0))?;
    Some(m.as_str().trim().to_string())
}

/// `Version:` of a PKG-INFO's header.
fn pkg_info_version(text: &str) -> Option<String> {
    text.lines()
        .take_while(|l| !l.is_empty())
        .find_map(|l| l.strip_prefix("Version:"))
        .map(|v| v.trim().to_string())
}

/// Runs `git args` in `root` (read-only: no index refresh is written),
/// killed after [`GIT_TIMEOUT`]; its stdout, or why not.
fn git(root: &Path, args: &[&str]) -> Result<String, String> {
    let shown = format!("git {}", args.join(" "));
    let mut child = Command::new("git")
        .args(args)
        .current_dir(root)
        .env("GIT_OPTIONAL_LOCKS", "0")
        .env("GIT_TERMINAL_PROMPT", "0")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("{shown}: {e} (a version from-vcs needs git)"))?;
    let deadline = Instant::now() + GIT_TIMEOUT;
    loop {
        match child.try_wait() {
            Ok(Some(_)) => break,
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(10)),
            Ok(None) => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!(
                    "{shown} did not finish in {}s",
                    GIT_TIMEOUT.as_secs()
                ));
            }
            Err(e) => return Err(format!("{shown}: {e}")),
        }
    }
    let out = child
        .wait_with_output()
        .map_err(|e| format!("{shown}: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "{shown} failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
}

/// setuptools_scm's default scheme (guess-next-dev, node-and-date) from
/// `git describe`: `1.2.3` on the tag, `1.2.4.devN+gHASH` N commits after
/// it, `+gHASH.dYYYYMMDD` with uncommitted changes; `0.1.devN+gHASH` with
/// no tag.
fn vcs_version(root: &Path) -> Result<String, String> {
    let describe = git(
        root,
        &[
            "describe", "--dirty", "--tags", "--long", "--match", "*[0-9]*",
        ],
    );
    let (tag, distance, hash, dirty) = match describe {
        Ok(d) => parse_describe(&d).ok_or_else(|| format!("cannot read git describe's '{d}'"))?,
        Err(e) => {
            // No tag yet: the commit count.
            let Ok(count) = git(root, &["rev-list", "--count", "HEAD"]) else {
                return Err(e);
            };
            let hash = git(root, &["rev-parse", "--short", "HEAD"])?;
            let dirty = !git(root, &["status", "--porcelain", "--untracked-files=no"])?.is_empty();
            let n: u64 = count
                .parse()
                .map_err(|_| format!("git rev-list --count gives '{count}'"))?;
            ("0.0".to_string(), n, format!("g{hash}"), dirty)
        }
    };
    Ok(scm_version(&tag, distance, &hash, dirty, &today()))
}

/// `v1.2.3-4-gabc123[-dirty]` → (tag, distance, `gHASH`, dirty).
fn parse_describe(d: &str) -> Option<(String, u64, String, bool)> {
    let (d, dirty) = match d.strip_suffix("-dirty") {
        Some(rest) => (rest, true),
        None => (d, false),
    };
    let (rest, hash) = d.rsplit_once('-')?;
    let (tag, distance) = rest.rsplit_once('-')?;
    Some((
        tag.to_string(),
        distance.parse().ok()?,
        hash.to_string(),
        dirty,
    ))
}

/// The version of `tag` (`v` or any prefix before its first digit
/// dropped) `distance` commits later.
fn scm_version(tag: &str, distance: u64, hash: &str, dirty: bool, date: &str) -> String {
    let tag = tag
        .find(|c: char| c.is_ascii_digit())
        .map_or(tag, |i| &tag[i..]);
    let tag = normalize_version(tag).unwrap_or_else(|| tag.to_string());
    let tag = tag.split('+').next().unwrap_or(&tag).to_string();
    if distance == 0 && !dirty {
        return tag;
    }
    let next = match tag.split_once(".dev") {
        Some((base, _)) => base.to_string(),
        None => bump_last_number(&tag),
    };
    let local = if dirty {
        format!("{hash}.d{date}")
    } else {
        hash.to_string()
    };
    format!("{next}.dev{distance}+{local}")
}

/// `1.2.3` → `1.2.4`, `1.0rc1` → `1.0rc2`.
fn bump_last_number(v: &str) -> String {
    let digits = v.len() - v.trim_end_matches(|c: char| c.is_ascii_digit()).len();
    let (head, num) = v.split_at(v.len() - digits);
    match num.parse::<u64>() {
        Ok(n) => format!("{head}{}", n + 1),
        Err(_) => v.to_string(),
    }
}

/// Today (UTC) as `YYYYMMDD`.
fn today() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let (y, m, d) = civil_from_days((secs / 86_400) as i64);
    format!("{y:04}{m:02}{d:02}")
}

/// Days since 1970-01-01 → (year, month, day) (Howard Hinnant's algorithm).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn setuptools_scm_default_scheme() {
        assert_eq!(
            scm_version("v1.2.3", 0, "gabc1234", false, "20260101"),
            "1.2.3"
        );
        assert_eq!(
            scm_version("1.2.3", 4, "gabc1234", false, "20260101"),
            "1.2.4.dev4+gabc1234"
        );
        assert_eq!(
            scm_version("1.2.3", 0, "gabc1234", true, "20260101"),
            "1.2.4.dev0+gabc1234.d20260101"
        );
        assert_eq!(
            scm_version("release-1.0rc1", 2, "g1", false, ""),
            "1.0rc2.dev2+g1"
        );
        assert_eq!(
            parse_describe("v1.2-3-gdeadbee-dirty"),
            Some(("v1.2".into(), 3, "gdeadbee".into(), true))
        );
        assert_eq!(
            parse_describe("a-b-1-0-gdeadbee"),
            Some(("a-b-1".into(), 0, "gdeadbee".into(), false))
        );
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(20_454), (2026, 1, 1));
    }

    #[test]
    fn version_lines() {
        let re = Regex::new(VERSION_LINE).unwrap();
        assert_eq!(
            version_in(&re, "x = 1\n__version__ = '2.0.1'\n").as_deref(),
            Some("2.0.1")
        );
        assert_eq!(
            version_in(&re, "__version__: str = \"3\"\n").as_deref(),
            Some("3")
        );
        assert_eq!(version_in(&re, "version = '1'\n"), None);
        assert_eq!(
            pkg_info_version(
                "Metadata-Version: 2.2\nName: a\nVersion: 1.2.4.dev3+gabc\n\nVersion: 9\n"
            )
            .as_deref(),
            Some("1.2.4.dev3+gabc")
        );
    }

    fn run_git(dir: &Path, args: &[&str]) {
        let ok = Command::new("git")
            .args(["-c", "user.name=t", "-c", "user.email=t@example.org"])
            .args(["-c", "commit.gpgsign=false", "-c", "tag.gpgsign=false"])
            .args(args)
            .current_dir(dir)
            .output()
            .unwrap();
        assert!(ok.status.success(), "git {args:?}: {ok:?}");
    }

    /// A VCS-versioned project's sdist carries the version: built from the
    /// unpacked sdist (no .git), the version is the same.
    #[test]
    fn an_sdist_keeps_the_vcs_version() {
        let t = tempfile::tempdir().unwrap();
        let root = t.path().join("proj");
        std::fs::create_dir_all(root.join("vcsv")).unwrap();
        std::fs::write(
            root.join("pyproject.toml"),
            "[project]\nname = \"vcsv\"\ndynamic = [\"version\"]\n\n[tool.headerwheel]\nversion = { from-vcs = true }\n",
        )
        .unwrap();
        std::fs::write(root.join("vcsv/__init__.py"), "").unwrap();
        run_git(&root, &["init", "-q"]);
        run_git(&root, &["add", "."]);
        run_git(&root, &["commit", "-qm", "one"]);
        run_git(&root, &["tag", "v1.2.3"]);
        let on_tag = crate::project::Project::load(&root).unwrap();
        assert_eq!(on_tag.metadata.version, "1.2.3");
        std::fs::write(root.join("vcsv/x.py"), "").unwrap();
        run_git(&root, &["add", "."]);
        run_git(&root, &["commit", "-qm", "two"]);
        let hash = git(&root, &["rev-parse", "--short", "HEAD"]).unwrap();
        let version = format!("1.2.4.dev1+g{hash}");
        let project = crate::project::Project::load(&root).unwrap();
        assert_eq!(project.metadata.version, version);
        let out = t.path().join("dist");
        std::fs::create_dir_all(&out).unwrap();
        let name = crate::hooks::run_hook(&crate::hooks::Request {
            hook: "build_sdist".into(),
            source_dir: root.clone(),
            output_dir: out.clone(),
            config_settings: Default::default(),
            interpreter: None,
        })
        .unwrap();
        let unpacked = t.path().join("unpacked");
        let gz = flate2::read::GzDecoder::new(std::fs::File::open(out.join(&name)).unwrap());
        tar::Archive::new(gz).unpack(&unpacked).unwrap();
        let top = std::fs::read_dir(&unpacked)
            .unwrap()
            .next()
            .unwrap()
            .unwrap()
            .path();
        assert!(!top.join(".git").exists());
        let from_sdist = crate::project::Project::load(&top).unwrap();
        assert_eq!(from_sdist.metadata.version, version);
    }

    #[test]
    fn a_version_file_and_its_errors() {
        let t = tempfile::tempdir().unwrap();
        let root = t.path();
        std::fs::create_dir_all(root.join("fv")).unwrap();
        std::fs::write(root.join("fv/__init__.py"), "").unwrap();
        std::fs::write(root.join("fv/_version.py"), "__version__ = \"2.0-rc1\"\n").unwrap();
        let load = |tool: &str| {
            std::fs::write(
                root.join("pyproject.toml"),
                format!("[project]\nname = \"fv\"\ndynamic = [\"version\"]\n\n[tool.headerwheel]\n{tool}\n"),
            )
            .unwrap();
            crate::project::Project::load(root).map(|p| p.metadata.version)
        };
        assert_eq!(
            load("version = { file = \"fv/_version.py\" }").unwrap(),
            "2.0rc1"
        );
        assert_eq!(
            load("version = { file = \"fv/_version.py\", regex = '\"(?P<version>[0-9.]+)-' }")
                .unwrap(),
            "2.0"
        );
        let e = load("version = { file = \"fv/__init__.py\" }")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("no version found in 'fv/__init__.py' (no line `__version__ = \"...\"`)"),
            "{e}"
        );
        let e = load("").unwrap_err().to_string();
        assert!(
            e.contains(
                "'version' is dynamic: say where it comes from in [tool.headerwheel] version"
            ),
            "{e}"
        );
    }
}
