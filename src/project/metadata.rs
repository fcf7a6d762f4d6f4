//! `[project]` (PEP 621) → core metadata (`METADATA` / `PKG-INFO`), with
//! strict validation: every wrong value is reported at its key.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::LazyLock;

use regex::Regex;

use super::license::check_license_expression;
use super::paths::{Expect, ProjectDir};
use super::requirements::{check_requirement, check_specifiers, normalize_version};
use super::toml::{ConfigError, Node};

/// A person in `authors` / `maintainers`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Person {
    /// Name.
    pub name: Option<String>,
    /// Email.
    pub email: Option<String>,
}

/// The readme.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Readme {
    /// Its text.
    pub text: String,
    /// Its content type (`text/markdown`...).
    pub content_type: String,
    /// The file it came from, relative to the project root.
    pub file: Option<PathBuf>,
}

/// The validated `[project]` table.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Metadata {
    /// `name` as written.
    pub name: String,
    /// `version`, normalized (PEP 440).
    pub version: String,
    /// `description`.
    pub summary: Option<String>,
    /// `readme`.
    pub readme: Option<Readme>,
    /// `requires-python`.
    pub requires_python: Option<String>,
    /// `license` as an SPDX expression (PEP 639).
    pub license_expression: Option<String>,
    /// `license = {text = ...}` (legacy).
    pub license_text: Option<String>,
    /// `license-files` matched, relative to the root, sorted.
    pub license_files: Vec<PathBuf>,
    /// `authors`.
    pub authors: Vec<Person>,
    /// `maintainers`.
    pub maintainers: Vec<Person>,
    /// `keywords`.
    pub keywords: Vec<String>,
    /// `classifiers`.
    pub classifiers: Vec<String>,
    /// `urls` in file order.
    pub urls: Vec<(String, String)>,
    /// `dependencies`.
    pub dependencies: Vec<String>,
    /// `optional-dependencies`, by extra (normalized name).
    pub optional_dependencies: BTreeMap<String, Vec<String>>,
    /// `scripts`.
    pub scripts: Vec<(String, String)>,
    /// `gui-scripts`.
    pub gui_scripts: Vec<(String, String)>,
    /// `entry-points` groups.
    pub entry_points: BTreeMap<String, Vec<(String, String)>>,
    /// What was accepted but is not quite right (located, like errors).
    pub warnings: Vec<ConfigError>,
}

static R_NAME: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?i)^([A-Z0-9]|[A-Z0-9][A-Z0-9._-]*[A-Z0-9])$").expect("regex"));
static R_ENTRY: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^[A-Za-z_][\w]*(?:\.[A-Za-z_][\w]*)*(?::[A-Za-z_][\w]*(?:\.[A-Za-z_][\w]*)*)?(?:\s*\[[\w\s,.-]*\])?$")
        .expect("regex")
});

/// PEP 503 normalized name (`Foo.Bar_baz` → `foo-bar-baz`).
pub fn normalize_name(name: &str) -> String {
    let mut out = String::new();
    let mut sep = false;
    for c in name.chars() {
        if matches!(c, '-' | '_' | '.') {
            sep = true;
        } else {
            if sep && !out.is_empty() {
                out.push('-');
            }
            sep = false;
            out.push(c.to_ascii_lowercase());
        }
    }
    out
}

/// The name as it appears in wheel and sdist file names (`foo_bar`).
pub fn filename_name(name: &str) -> String {
    normalize_name(name).replace('-', "_")
}

const PROJECT_KEYS: &[&str] = &[
    "name",
    "version",
    "description",
    "readme",
    "requires-python",
    "license",
    "license-files",
    "authors",
    "maintainers",
    "keywords",
    "classifiers",
    "urls",
    "scripts",
    "gui-scripts",
    "entry-points",
    "dependencies",
    "optional-dependencies",
    "dynamic",
];

/// `Name <addr>`, what setuptools and hatchling take in an email field.
static R_NAMED_EMAIL: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^\s*([^<>]*?)\s*<([^<>\s]+@[^<>\s]+)>\s*$").unwrap());

fn people(
    node: Option<Node<'_>>,
    warnings: &mut Vec<ConfigError>,
) -> Result<Vec<Person>, ConfigError> {
    let mut out = Vec::new();
    let Some(node) = node else { return Ok(out) };
    for p in node.array()? {
        p.only_keys(&["name", "email"])?;
        let mut name = p
            .get("name")?
            .map(|n| n.str().map(str::to_string))
            .transpose()?;
        let email = match p.get("email")? {
            Some(n) => {
                let e = n.str()?;
                if let Some(c) = R_NAMED_EMAIL.captures(e) {
                    // Accepted as setuptools and hatchling accept it.
                    let (who, addr) = (c[1].trim_matches('"').to_string(), c[2].to_string());
                    if name.is_none() && !who.is_empty() {
                        name = Some(who.clone());
                    }
                    warnings.push(n.error(format!(
                        "'{e}' is a name and an address: read as {{ name = \"{who}\", email = \"{addr}\" }}; write it so"
                    )));
                    Some(addr)
                } else if !e.contains('@') || e.contains(char::is_whitespace) {
                    return Err(n.error(format!("'{e}' is not an email address")));
                } else {
                    Some(e.to_string())
                }
            }
            None => None,
        };
        if name.is_none() && email.is_none() {
            return Err(p.error("a person needs a name or an email"));
        }
        if let Some(n) = &name
            && n.contains(',')
        {
            return Err(p.error(format!("the name '{n}' cannot contain a comma")));
        }
        out.push(Person { name, email });
    }
    Ok(out)
}

fn entry_table(node: &Node<'_>) -> Result<Vec<(String, String)>, ConfigError> {
    let mut out = Vec::new();
    for (k, v) in node.table()? {
        let target = v.str()?;
        if !R_ENTRY.is_match(target) {
            return Err(v.error(format!(
                "'{target}' is not an entry point reference (like 'package.module:function')"
            )));
        }
        out.push((k, target.to_string()));
    }
    Ok(out)
}

impl Metadata {
    /// Reads and validates `[project]`; `root` is the project directory (for
    /// the readme and license files).
    pub fn from_project(
        project: &Node<'_>,
        dir: &ProjectDir,
        tool_version: Option<&Node<'_>>,
    ) -> Result<Metadata, ConfigError> {
        let root = dir.root();
        project.only_keys(PROJECT_KEYS)?;
        let mut m = Metadata::default();
        let mut dynamic_version = None;
        if let Some(d) = project.get("dynamic")? {
            // headerwheel computes only the version: any other entry is an
            // error at its place.
            for (name, n) in d.str_array()? {
                if !PROJECT_KEYS.contains(&name.as_str()) || name == "name" {
                    return Err(n.error(format!("'{name}' cannot be dynamic")));
                }
                if name != "version" {
                    return Err(n.error(format!(
                        "'{name}' is listed in dynamic, but headerwheel computes only the version dynamically: set it in [project]"
                    )));
                }
                if let Some(v) = project.get("version")? {
                    return Err(v.error(
                        "'version' is listed in dynamic: it cannot also be set in [project]",
                    ));
                }
                dynamic_version = Some(tool_version.ok_or_else(|| {
                    n.error("'version' is dynamic: say where it comes from in [tool.headerwheel] version (`{ from-vcs = true }` or `{ file = \"pkg/_version.py\" }`)")
                })?);
            }
        }
        if let (None, Some(t)) = (dynamic_version, tool_version) {
            return Err(t.error(
                "[tool.headerwheel] version computes the version: list 'version' in [project] dynamic (and remove [project] version)",
            ));
        }
        let name = project
            .get("name")?
            .ok_or_else(|| project.error("the required key 'name' is missing"))?;
        m.name = name.str()?.to_string();
        if !R_NAME.is_match(&m.name) {
            return Err(name.error(format!(
                "'{}' is not a valid project name (letters, digits, '.', '_', '-', starting and ending with a letter or digit)",
                m.name
            )));
        }
        if let Some(t) = dynamic_version {
            m.version = super::version::dynamic_version(t, dir)?;
        } else {
            let version = project
                .get("version")?
                .ok_or_else(|| project.error("the required key 'version' is missing"))?;
            let v = version.str()?;
            m.version = normalize_version(v).ok_or_else(|| {
                version.error(format!(
                    "'{v}' is not a valid PEP 440 version (like '1.2.3')"
                ))
            })?;
        }
        if let Some(d) = project.get("description")? {
            let s = d.str()?;
            if s.contains('\n') {
                return Err(d.error("the description must be a single line"));
            }
            m.summary = Some(s.to_string());
        }
        if let Some(r) = project.get("readme")? {
            m.readme = Some(read_readme(&r, dir)?);
        }
        if let Some(r) = project.get("requires-python")? {
            let s = r.str()?;
            check_specifiers(s).map_err(|e| r.error(e))?;
            m.requires_python = Some(s.trim().to_string());
        }
        if let Some(l) = project.get("license")? {
            match l.str() {
                Ok(s) => {
                    m.license_expression =
                        Some(check_license_expression(s).map_err(|e| l.error(e))?)
                }
                Err(_) => {
                    l.only_keys(&["file", "text"])?;
                    if let Some(t) = l.get("text")? {
                        m.license_text = Some(t.str()?.to_string());
                    } else if let Some(f) = l.get("file")? {
                        let (rel, text) = project_text(dir, &f)?;
                        m.license_text = Some(text);
                        m.license_files.push(rel);
                    } else {
                        return Err(l.error(
                            "expected an SPDX expression string, or a table with 'file' or 'text'",
                        ));
                    }
                }
            }
        }
        if let Some(lf) = project.get("license-files")? {
            if m.license_text.is_some() {
                return Err(lf.error("'license-files' cannot be used with a legacy license table"));
            }
            let mut found = Vec::new();
            for (pat, n) in lf.str_array()? {
                if pat.starts_with('/') || pat.contains("..") || pat.contains('\\') {
                    return Err(n.error(format!(
                        "'{pat}' must be a relative glob inside the project"
                    )));
                }
                let matches = glob_files(root, &pat).map_err(|e| n.error(e))?;
                if matches.is_empty() {
                    return Err(n.error(format!("the pattern '{pat}' matches no file")));
                }
                found.extend(matches);
            }
            found.sort();
            found.dedup();
            m.license_files = found;
        }
        m.authors = people(project.get("authors")?, &mut m.warnings)?;
        m.maintainers = people(project.get("maintainers")?, &mut m.warnings)?;
        if let Some(k) = project.get("keywords")? {
            m.keywords = k.str_array()?.into_iter().map(|(s, _)| s).collect();
        }
        if let Some(c) = project.get("classifiers")? {
            for (s, n) in c.str_array()? {
                if !s.contains(" :: ") && s != "Private" && !s.starts_with("Private ::") {
                    return Err(n.error(format!("'{s}' is not a trove classifier (like 'Programming Language :: Python :: 3')")));
                }
                if s.starts_with("License ::") && m.license_expression.is_some() {
                    return Err(n.error(
                        "license classifiers cannot be used with a license expression (PEP 639)",
                    ));
                }
                m.classifiers.push(s);
            }
        }
        if let Some(u) = project.get("urls")? {
            for (k, v) in u.table()? {
                let url = v.str()?;
                if !url.contains("://") {
                    return Err(v.error(format!("'{url}' is not a URL")));
                }
                if k.chars().count() > 32 {
                    return Err(v.error("a URL label is at most 32 characters"));
                }
                m.urls.push((k, url.to_string()));
            }
        }
        if let Some(s) = project.get("scripts")? {
            m.scripts = entry_table(&s)?;
        }
        if let Some(s) = project.get("gui-scripts")? {
            m.gui_scripts = entry_table(&s)?;
        }
        if let Some(ep) = project.get("entry-points")? {
            for (group, t) in ep.table()? {
                if group == "console_scripts" || group == "gui_scripts" {
                    return Err(t.error(format!(
                        "use [project.{}] instead of entry-points.{group}",
                        if group == "console_scripts" {
                            "scripts"
                        } else {
                            "gui-scripts"
                        }
                    )));
                }
                m.entry_points.insert(group, entry_table(&t)?);
            }
        }
        if let Some(d) = project.get("dependencies")? {
            for (r, n) in d.str_array()? {
                check_requirement(&r).map_err(|e| n.error(e))?;
                m.dependencies.push(r.trim().to_string());
            }
        }
        if let Some(o) = project.get("optional-dependencies")? {
            for (extra, list) in o.table()? {
                if !R_NAME.is_match(&extra) {
                    return Err(list.error(format!("'{extra}' is not a valid extra name")));
                }
                let mut reqs = Vec::new();
                for (r, n) in list.str_array()? {
                    check_requirement(&r).map_err(|e| n.error(e))?;
                    reqs.push(r.trim().to_string());
                }
                m.optional_dependencies.insert(normalize_name(&extra), reqs);
            }
        }
        Ok(m)
    }

    /// Whether `dependencies` names the project `name` with no marker (a
    /// requirement that applies everywhere).
    pub fn requires_unconditionally(&self, name: &str) -> bool {
        let name = normalize_name(name);
        // An empty marker (`cffi ;`, refused when the project is loaded) is none.
        let requirement = |d: &String| {
            d.trim()
                .trim_end_matches(';')
                .parse::<pep508_rs::Requirement>()
        };
        self.dependencies.iter().any(|d| match requirement(d) {
            Ok(r) => r.marker.is_true() && r.name.as_ref() == name,
            Err(_) => false,
        })
    }

    /// The sdist's `PKG-INFO`: the core metadata at version 2.2 or later, as
    /// the sdist format requires (a wheel's `METADATA` may stay at 2.1).
    pub fn to_pkg_info(&self, extra_requires: &[String]) -> String {
        let text = self.to_core_metadata(extra_requires);
        match text.strip_prefix("Metadata-Version: 2.1\n") {
            Some(rest) => format!("Metadata-Version: 2.2\n{rest}"),
            None => text,
        }
    }

    /// The core metadata text (`METADATA` in wheels; see [`Metadata::to_pkg_info`] for sdists).
    pub fn to_core_metadata(&self, extra_requires: &[String]) -> String {
        let pep639 = self.license_expression.is_some() || !self.license_files.is_empty();
        let mut out = String::new();
        let mut field = |k: &str, v: &str| {
            out.push_str(k);
            out.push_str(": ");
            // Multi-line values are continued with 8 spaces and a pipe.
            out.push_str(&v.replace('\n', "\n       |"));
            out.push('\n');
        };
        field("Metadata-Version", if pep639 { "2.4" } else { "2.1" });
        field("Name", &self.name);
        field("Version", &self.version);
        if let Some(s) = &self.summary {
            field("Summary", s);
        }
        if !self.keywords.is_empty() {
            field("Keywords", &self.keywords.join(","));
        }
        let (names, emails) = split_people(&self.authors);
        if !names.is_empty() {
            field("Author", &names.join(", "));
        }
        if !emails.is_empty() {
            field("Author-email", &emails.join(", "));
        }
        let (names, emails) = split_people(&self.maintainers);
        if !names.is_empty() {
            field("Maintainer", &names.join(", "));
        }
        if !emails.is_empty() {
            field("Maintainer-email", &emails.join(", "));
        }
        if let Some(l) = &self.license_expression {
            field("License-Expression", l);
        }
        if let Some(t) = &self.license_text {
            field("License", t.trim_end());
        }
        for f in &self.license_files {
            field("License-File", &f.to_string_lossy().replace('\\', "/"));
        }
        for c in &self.classifiers {
            field("Classifier", c);
        }
        for (label, url) in &self.urls {
            field("Project-URL", &format!("{label}, {url}"));
        }
        if let Some(r) = &self.requires_python {
            field("Requires-Python", r);
        }
        for d in self.dependencies.iter().chain(extra_requires) {
            field("Requires-Dist", d);
        }
        for (extra, reqs) in &self.optional_dependencies {
            field("Provides-Extra", extra);
            for r in reqs {
                let (req, marker) = match r.split_once(';') {
                    Some((a, m)) => (a.trim(), Some(m.trim())),
                    None => (r.as_str(), None),
                };
                let m = match marker {
                    Some(m) => format!("({m}) and extra == \"{extra}\""),
                    None => format!("extra == \"{extra}\""),
                };
                field("Requires-Dist", &format!("{req}; {m}"));
            }
        }
        if let Some(r) = &self.readme {
            field("Description-Content-Type", &r.content_type);
        }
        if let Some(r) = &self.readme {
            out.push('\n');
            out.push_str(&r.text);
            if !r.text.ends_with('\n') {
                out.push('\n');
            }
        }
        out
    }

    /// `entry_points.txt`, or `None` if there are no entry points.
    pub fn entry_points_txt(&self) -> Option<String> {
        let mut groups: Vec<(&str, &Vec<(String, String)>)> = Vec::new();
        if !self.scripts.is_empty() {
            groups.push(("console_scripts", &self.scripts));
        }
        if !self.gui_scripts.is_empty() {
            groups.push(("gui_scripts", &self.gui_scripts));
        }
        for (g, e) in &self.entry_points {
            groups.push((g, e));
        }
        if groups.is_empty() {
            return None;
        }
        let mut out = String::new();
        for (g, entries) in groups {
            out.push_str(&format!("[{g}]\n"));
            for (k, v) in entries {
                out.push_str(&format!("{k} = {v}\n"));
            }
            out.push('\n');
        }
        Some(out)
    }
}

fn split_people(people: &[Person]) -> (Vec<String>, Vec<String>) {
    let mut names = Vec::new();
    let mut emails = Vec::new();
    for p in people {
        match (&p.name, &p.email) {
            (Some(n), Some(e)) => {
                let n = if n.chars().any(|c| "()<>[]:;@\\,.\"".contains(c)) {
                    format!("\"{}\"", n.replace('"', "\\\""))
                } else {
                    n.clone()
                };
                emails.push(format!("{n} <{e}>"));
            }
            (Some(n), None) => names.push(n.clone()),
            (None, Some(e)) => emails.push(e.clone()),
            (None, None) => {}
        }
    }
    (names, emails)
}

/// The project file a string node names (confined to the project, a
/// regular file, bounded), as its normalised path and its text.
fn project_text(dir: &ProjectDir, n: &Node<'_>) -> Result<(PathBuf, String), ConfigError> {
    let located = |e: super::paths::PathError| n.error(e.to_string());
    let rel = dir.resolve(n.str()?, Expect::File).map_err(located)?;
    let text = dir.read_text(&rel).map_err(located)?;
    Ok((rel, text))
}

fn read_readme(r: &Node<'_>, dir: &ProjectDir) -> Result<Readme, ConfigError> {
    let type_for = |file: &str| -> Option<&'static str> {
        let lower = file.to_ascii_lowercase();
        if lower.ends_with(".md") || lower.ends_with(".markdown") {
            Some("text/markdown")
        } else if lower.ends_with(".rst") {
            Some("text/x-rst")
        } else if lower.ends_with(".txt") || !lower.contains('.') {
            Some("text/plain")
        } else {
            None
        }
    };
    if let Ok(file) = r.str() {
        let ct = type_for(file).ok_or_else(|| {
            r.error(format!("cannot tell the content type of '{file}': use a table with 'file' and 'content-type'"))
        })?;
        let (rel, text) = project_text(dir, r)?;
        return Ok(Readme {
            text,
            content_type: ct.to_string(),
            file: Some(rel),
        });
    }
    r.only_keys(&["file", "text", "content-type"])?;
    let ct = r.get("content-type")?;
    let (text, file) = match (r.get("file")?, r.get("text")?) {
        (Some(f), None) => {
            let (rel, t) = project_text(dir, &f)?;
            (t, Some(rel))
        }
        (None, Some(t)) => (t.str()?.to_string(), None),
        (Some(_), Some(t)) => return Err(t.error("give either 'file' or 'text', not both")),
        (None, None) => {
            return Err(r.error("expected a file name, or a table with 'file' or 'text'"));
        }
    };
    let content_type = match ct {
        Some(c) => {
            let s = c.str()?;
            let base = s.split(';').next().unwrap_or("").trim();
            if !matches!(base, "text/markdown" | "text/x-rst" | "text/plain") {
                return Err(c.error(format!(
                    "'{s}' is not one of text/markdown, text/x-rst, text/plain"
                )));
            }
            s.to_string()
        }
        None => match file.as_deref().and_then(|f| f.to_str()).and_then(type_for) {
            Some(t) => t.to_string(),
            None => return Err(r.error("the readme table needs 'content-type'")),
        },
    };
    Ok(Readme {
        text,
        content_type,
        file,
    })
}

/// Files under `root` matching a glob (`*`, `**`, `?`, `[...]`), sorted;
/// the tree is walked by [`super::walk`] (its skip rules, no symlinks).
pub fn glob_files(root: &Path, pattern: &str) -> Result<Vec<PathBuf>, String> {
    let glob = globset::GlobBuilder::new(pattern)
        .literal_separator(true)
        .build()
        .map_err(|e| format!("invalid glob '{pattern}': {e}"))?
        .compile_matcher();
    let mut out = Vec::new();
    let all = super::walk::files(root, root, super::walk::WalkOptions::default())
        .map_err(|e| e.to_string())?;
    for entry in all {
        if let Ok(rel) = entry.strip_prefix(root)
            && glob.is_match(rel)
        {
            out.push(rel.to_path_buf());
        }
    }
    out.sort();
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sdist_pkg_info_is_at_least_2_2() {
        let root = tempfile::tempdir().unwrap();
        let file = crate::project::toml::TomlFile::parse(
            "[project]\nname = \"a\"\nversion = \"1\"\n".to_string(),
            Path::new("pyproject.toml"),
        )
        .unwrap();
        let project = file.root().get("project").unwrap().unwrap();
        let m = Metadata::from_project(&project, &ProjectDir::new(root.path()), None).unwrap();
        assert!(
            m.to_core_metadata(&[])
                .starts_with("Metadata-Version: 2.1\nName: a\n")
        );
        assert!(
            m.to_pkg_info(&[])
                .starts_with("Metadata-Version: 2.2\nName: a\n")
        );
    }

    #[test]
    fn a_named_email_is_split_with_a_warning() {
        let root = tempfile::tempdir().unwrap();
        let file = crate::project::toml::TomlFile::parse(
            "[project]\nname = \"a\"\nversion = \"1\"\nauthors = [{ email = \"Ada Lovelace <ada@example.org>\" }]\n".to_string(),
            Path::new("pyproject.toml"),
        )
        .unwrap();
        let project = file.root().get("project").unwrap().unwrap();
        let m = Metadata::from_project(&project, &ProjectDir::new(root.path()), None).unwrap();
        assert_eq!(
            m.authors,
            vec![Person {
                name: Some("Ada Lovelace".into()),
                email: Some("ada@example.org".into())
            }]
        );
        let w: Vec<String> = m.warnings.iter().map(|w| w.to_string()).collect();
        assert_eq!(
            w[0].lines().next().unwrap(),
            "pyproject.toml:4:22: project.authors[0].email: 'Ada Lovelace <ada@example.org>' is a name and an address: read as { name = \"Ada Lovelace\", email = \"ada@example.org\" }; write it so"
        );
        assert!(
            m.to_core_metadata(&[])
                .contains("Author-email: Ada Lovelace <ada@example.org>\n")
        );
    }

    #[test]
    fn a_requirement_under_a_marker_is_not_unconditional() {
        let m = |deps: &[&str]| Metadata {
            dependencies: deps.iter().map(|d| d.to_string()).collect(),
            ..Metadata::default()
        };
        assert!(m(&["CFFI>=1.15"]).requires_unconditionally("cffi"));
        assert!(m(&["cffi"]).requires_unconditionally("cffi"));
        assert!(
            !m(&["cffi>=1.11; platform_python_implementation == 'PyPy'"])
                .requires_unconditionally("cffi")
        );
        assert!(!m(&["cffi-extra>=1"]).requires_unconditionally("cffi"));
        assert!(m(&["cffi ; "]).requires_unconditionally("cffi"));
    }

    /// A project whose only cffi requirement is under a marker still gets
    /// the unconditional one its modules need.
    #[test]
    fn cffi_under_a_marker_still_gets_the_runtime_requirement() {
        let d = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(d.path().join("pkg")).unwrap();
        std::fs::write(d.path().join("pkg/__init__.py"), "").unwrap();
        std::fs::write(
            d.path().join("pyproject.toml"),
            "[project]\nname = \"pkg\"\nversion = \"1\"\ndependencies = [\"cffi>=1.11; platform_python_implementation == 'PyPy'\"]\n\n[tool.headerwheel.modules.\"pkg._x\"]\ncdef-code = \"int f(void);\"\npreamble-code = \"int f(void) { return 1; }\"\n",
        )
        .unwrap();
        let out = tempfile::tempdir().unwrap();
        let dist_info = crate::hooks::run_hook(&crate::hooks::Request {
            hook: "prepare_metadata_for_build_wheel".into(),
            source_dir: d.path().to_path_buf(),
            output_dir: out.path().to_path_buf(),
            config_settings: Default::default(),
            interpreter: None,
        })
        .unwrap();
        let meta = std::fs::read_to_string(out.path().join(dist_info).join("METADATA")).unwrap();
        let requires: Vec<&str> = meta
            .lines()
            .filter(|l| l.starts_with("Requires-Dist:"))
            .collect();
        assert_eq!(
            requires,
            [
                "Requires-Dist: cffi>=1.11; platform_python_implementation == 'PyPy'",
                "Requires-Dist: cffi>=1.17; platform_python_implementation != 'PyPy'",
            ]
        );
    }
}
