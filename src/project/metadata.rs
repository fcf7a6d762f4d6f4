//! `[project]` (PEP 621) → core metadata (`METADATA` / `PKG-INFO`), with
//! strict validation: every wrong value is reported at its key.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::LazyLock;

use regex::Regex;

use super::paths::{Expect, ProjectDir};
use super::spdx_ids;
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
static R_VERSION: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?ix)^\s*v?
        (?:(?P<epoch>[0-9]+)!)?
        (?P<release>[0-9]+(?:\.[0-9]+)*)
        (?P<pre>[-_.]?(?P<pre_l>alpha|a|beta|b|preview|pre|c|rc)[-_.]?(?P<pre_n>[0-9]+)?)?
        (?P<post>(?:-(?P<post_n1>[0-9]+))|(?:[-_.]?(?P<post_l>post|rev|r)[-_.]?(?P<post_n2>[0-9]+)?))?
        (?P<dev>[-_.]?(?P<dev_l>dev)[-_.]?(?P<dev_n>[0-9]+)?)?
        (?:\+(?P<local>[a-z0-9]+(?:[-_.][a-z0-9]+)*))?
        \s*$",
    )
    .expect("regex")
});
static R_SPEC: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^\s*(~=|===|==|!=|<=|>=|<|>)\s*([A-Za-z0-9_.*+!-]+)\s*$").expect("regex")
});
static R_REQ: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)^\s*(?P<name>[A-Z0-9][A-Z0-9._-]*[A-Z0-9]|[A-Z0-9])\s*(?:\[(?P<extras>[^\]]*)\])?\s*(?P<rest>[^;]*?)\s*(?:;\s*(?P<marker>.*?))?\s*$",
    )
    .expect("regex")
});
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

/// Normalizes a PEP 440 version (`1.0-Alpha.1` → `1.0a1`), or `None` if it
/// is not one.
pub fn normalize_version(v: &str) -> Option<String> {
    let c = R_VERSION.captures(v)?;
    let mut out = String::new();
    if let Some(e) = c.name("epoch") {
        let e: u64 = e.as_str().parse().ok()?;
        if e != 0 {
            out.push_str(&format!("{e}!"));
        }
    }
    let release: Vec<String> = c["release"]
        .split('.')
        .map(|p| p.parse::<u64>().map(|n| n.to_string()))
        .collect::<Result<_, _>>()
        .ok()?;
    out.push_str(&release.join("."));
    if c.name("pre").is_some() {
        let l = c["pre_l"].to_lowercase();
        let l = match l.as_str() {
            "alpha" | "a" => "a",
            "beta" | "b" => "b",
            _ => "rc",
        };
        let n: u64 = c.name("pre_n").map_or(Ok(0), |n| n.as_str().parse()).ok()?;
        out.push_str(&format!("{l}{n}"));
    }
    if c.name("post").is_some() {
        let n = c
            .name("post_n1")
            .or(c.name("post_n2"))
            .map_or(Ok(0), |n| n.as_str().parse::<u64>())
            .ok()?;
        out.push_str(&format!(".post{n}"));
    }
    if c.name("dev").is_some() {
        let n: u64 = c.name("dev_n").map_or(Ok(0), |n| n.as_str().parse()).ok()?;
        out.push_str(&format!(".dev{n}"));
    }
    if let Some(l) = c.name("local") {
        out.push('+');
        out.push_str(&l.as_str().to_lowercase().replace(['-', '_'], "."));
    }
    Some(out)
}

/// The normalized project name a PEP 508 requirement names (`CFFI>=1; ...`
/// → `cffi`).
pub fn requirement_name(req: &str) -> String {
    normalize_name(
        req.trim()
            .split(|c: char| !(c.is_alphanumeric() || "-_.".contains(c)))
            .next()
            .unwrap_or(""),
    )
}

/// Checks a version specifier set (`>=3.9,<4`).
pub fn check_specifiers(s: &str) -> Result<(), String> {
    if s.trim().is_empty() {
        return Ok(());
    }
    for part in s.split(',') {
        let Some(c) = R_SPEC.captures(part) else {
            return Err(format!(
                "'{}' is not a version specifier (like '>=1.2')",
                part.trim()
            ));
        };
        let op = &c[1];
        let v = &c[2];
        if op == "===" {
            continue;
        }
        let v_check = v.strip_suffix(".*").unwrap_or(v);
        if v.ends_with(".*") && !matches!(op, "==" | "!=") {
            return Err(format!(
                "'{}': '.*' is only allowed with == and !=",
                part.trim()
            ));
        }
        if normalize_version(v_check).is_none() || v_check.contains('*') {
            return Err(format!(
                "'{}': '{v}' is not a valid PEP 440 version",
                part.trim()
            ));
        }
    }
    Ok(())
}

const MARKER_VARS: &[&str] = &[
    "os_name",
    "sys_platform",
    "platform_machine",
    "platform_python_implementation",
    "platform_release",
    "platform_system",
    "platform_version",
    "python_version",
    "python_full_version",
    "implementation_name",
    "implementation_version",
    "extra",
    "extras",
    "dependency_groups",
    "os.name",
    "sys.platform",
    "platform.version",
    "platform.machine",
    "platform.python_implementation",
    "python_implementation",
];

/// Checks a PEP 508 marker (its words and quotes, not its semantics).
fn check_marker(m: &str) -> Result<(), String> {
    let mut rest = m;
    let mut expect_value = true;
    let mut depth = 0i32;
    loop {
        rest = rest.trim_start();
        if rest.is_empty() {
            break;
        }
        if let Some(r) = rest.strip_prefix('(') {
            depth += 1;
            rest = r;
            continue;
        }
        if let Some(r) = rest.strip_prefix(')') {
            depth -= 1;
            if depth < 0 {
                return Err("unbalanced ')' in marker".into());
            }
            rest = r;
            continue;
        }
        if rest.starts_with(['"', '\'']) {
            let q = rest.chars().next().expect("non-empty");
            let Some(end) = rest[1..].find(q) else {
                return Err("unterminated string in marker".into());
            };
            rest = &rest[end + 2..];
            expect_value = false;
            continue;
        }
        let word_end = rest
            .find(|c: char| c.is_whitespace() || matches!(c, '(' | ')' | '"' | '\''))
            .unwrap_or(rest.len());
        let word = &rest[..word_end];
        let is_op = matches!(
            word,
            "==" | "!=" | "<=" | ">=" | "<" | ">" | "~=" | "===" | "in" | "not" | "and" | "or"
        ) || word.chars().all(|c| "<>=!~".contains(c));
        if !is_op && !MARKER_VARS.contains(&word) {
            // operators glued to a word ("python_version>='3'")
            let split = word.find(|c: char| "<>=!~".contains(c));
            match split {
                Some(i) if MARKER_VARS.contains(&&word[..i]) => {}
                _ => return Err(format!("unknown marker variable '{word}'")),
            }
        }
        let _ = expect_value;
        rest = &rest[word_end..];
    }
    if depth != 0 {
        return Err("unbalanced '(' in marker".into());
    }
    Ok(())
}

/// Checks a PEP 508 requirement.
pub fn check_requirement(r: &str) -> Result<(), String> {
    let Some(c) = R_REQ.captures(r) else {
        return Err(format!(
            "'{r}' is not a valid requirement (PEP 508): it must start with a project name"
        ));
    };
    if let Some(extras) = c.name("extras") {
        for e in extras
            .as_str()
            .split(',')
            .map(str::trim)
            .filter(|e| !e.is_empty())
        {
            if !R_NAME.is_match(e) {
                return Err(format!("'{r}': '{e}' is not a valid extra name"));
            }
        }
    }
    let rest = c.name("rest").map_or("", |m| m.as_str()).trim();
    if let Some(url) = rest.strip_prefix('@') {
        if url.trim().is_empty() || url.trim().contains(char::is_whitespace) {
            return Err(format!("'{r}': expected a URL after '@'"));
        }
    } else if !rest.is_empty() {
        let specs = rest
            .strip_prefix('(')
            .and_then(|s| s.strip_suffix(')'))
            .unwrap_or(rest);
        check_specifiers(specs).map_err(|e| format!("'{r}': {e}"))?;
    }
    if let Some(m) = c.name("marker") {
        if m.as_str().trim().is_empty() {
            return Err(format!("'{r}': empty marker after ';'"));
        }
        check_marker(m.as_str()).map_err(|e| format!("'{r}': {e}"))?;
    }
    Ok(())
}

/// Checks and canonicalizes an SPDX license expression (PEP 639).
pub fn check_license_expression(expr: &str) -> Result<String, String> {
    let mut tokens = Vec::new();
    let mut cur = String::new();
    for ch in expr.chars() {
        if ch == '(' || ch == ')' || ch.is_whitespace() {
            if !cur.is_empty() {
                tokens.push(std::mem::take(&mut cur));
            }
            if !ch.is_whitespace() {
                tokens.push(ch.to_string());
            }
        } else {
            cur.push(ch);
        }
    }
    if !cur.is_empty() {
        tokens.push(cur);
    }
    if tokens.is_empty() {
        return Err("the license expression is empty".into());
    }
    let mut out = Vec::new();
    let mut expect_id = true;
    let mut depth = 0;
    let mut after_with = false;
    for t in &tokens {
        let upper = t.to_ascii_uppercase();
        match (upper.as_str(), expect_id) {
            ("(", true) => {
                depth += 1;
                out.push("(".to_string());
            }
            (")", false) => {
                depth -= 1;
                if depth < 0 {
                    return Err(format!("unbalanced ')' in '{expr}'"));
                }
                out.push(")".to_string());
            }
            ("AND" | "OR", false) => {
                out.push(upper.clone());
                expect_id = true;
            }
            ("WITH", false) => {
                out.push("WITH".to_string());
                expect_id = true;
                after_with = true;
                continue;
            }
            (_, true) => {
                let canonical = if after_with {
                    spdx_ids::EXCEPTIONS
                        .iter()
                        .find(|e| e.eq_ignore_ascii_case(t))
                        .map(|s| s.to_string())
                } else if let Some(base) = t.strip_suffix('+') {
                    spdx_ids::LICENSES
                        .iter()
                        .find(|e| e.eq_ignore_ascii_case(base))
                        .map(|s| format!("{s}+"))
                } else if upper.starts_with("LICENSEREF-") || upper.starts_with("DOCUMENTREF-") {
                    Some(t.clone())
                } else {
                    spdx_ids::LICENSES
                        .iter()
                        .find(|e| e.eq_ignore_ascii_case(t))
                        .map(|s| s.to_string())
                };
                let Some(c) = canonical else {
                    return Err(format!(
                        "'{t}' is not a known SPDX {} identifier (see https://spdx.org/licenses/)",
                        if after_with { "exception" } else { "license" }
                    ));
                };
                out.push(c);
                expect_id = false;
            }
            _ => {
                return Err(format!(
                    "'{expr}' is not a valid SPDX license expression (unexpected '{t}')"
                ));
            }
        }
        after_with = false;
    }
    if expect_id || depth != 0 {
        return Err(format!(
            "'{expr}' is not a complete SPDX license expression"
        ));
    }
    let mut s = out.join(" ");
    s = s.replace("( ", "(").replace(" )", ")");
    Ok(s)
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
        self.dependencies.iter().any(|d| {
            let marker = d.split_once(';').map_or("", |(_, m)| m);
            marker.trim().is_empty() && requirement_name(d) == name
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

/// Files under `root` matching a glob (`*`, `**`, `?`, `[...]`), sorted.
pub fn glob_files(root: &Path, pattern: &str) -> Result<Vec<PathBuf>, String> {
    let glob = globset::GlobBuilder::new(pattern)
        .literal_separator(true)
        .build()
        .map_err(|e| format!("invalid glob '{pattern}': {e}"))?
        .compile_matcher();
    let mut out = Vec::new();
    for entry in walkdir(root) {
        if let Ok(rel) = entry.strip_prefix(root)
            && glob.is_match(rel)
        {
            out.push(rel.to_path_buf());
        }
    }
    out.sort();
    Ok(out)
}

/// Every file under `root` (not following symlinks, skipping `.git`,
/// `.venv`, `target`, `build`, `dist` and `__pycache__`).
fn walkdir(root: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in rd.flatten() {
            let p = e.path();
            let name = e.file_name();
            let name = name.to_string_lossy();
            let Ok(ft) = e.file_type() else { continue };
            if ft.is_dir() {
                if !matches!(
                    name.as_ref(),
                    ".git" | ".venv" | "target" | "build" | "dist" | "__pycache__"
                ) {
                    stack.push(p);
                }
            } else if ft.is_file() {
                out.push(p);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_normalize_as_pep440_says() {
        assert_eq!(normalize_version("1.0").as_deref(), Some("1.0"));
        assert_eq!(normalize_version("v1.0-Alpha.1").as_deref(), Some("1.0a1"));
        assert_eq!(normalize_version("1.0-1").as_deref(), Some("1.0.post1"));
        assert_eq!(normalize_version("1.0.dev").as_deref(), Some("1.0.dev0"));
        assert_eq!(
            normalize_version("0!01.02+Local-X").as_deref(),
            Some("1.2+local.x")
        );
        assert_eq!(normalize_version("1.0.0a"), Some("1.0.0a0".into()));
        assert!(normalize_version("one").is_none());
    }

    #[test]
    fn requirements_and_specifiers() {
        for ok in [
            "cffi",
            "packaging>=20",
            "cffi>=1.0",
            "foo[bar,baz] >=1,<2",
            "x @ https://e.org/x.whl",
            "y; python_version < \"3.10\"",
            "z (>=1.0)",
        ] {
            check_requirement(ok).unwrap_or_else(|e| panic!("{ok}: {e}"));
        }
        for bad in ["", ">=1", "foo >= one", "foo; bogus == '1'", "foo[b@d]"] {
            assert!(check_requirement(bad).is_err(), "{bad} accepted");
        }
    }

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
    fn license_expressions() {
        assert_eq!(check_license_expression("mit").unwrap(), "MIT");
        assert_eq!(
            check_license_expression(
                "(apache-2.0 or mit) AND GPL-2.0-or-later WITH classpath-exception-2.0"
            )
            .unwrap(),
            "(Apache-2.0 OR MIT) AND GPL-2.0-or-later WITH Classpath-exception-2.0"
        );
        assert!(check_license_expression("MIT-ish").is_err());
        assert!(check_license_expression("MIT OR").is_err());
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
