//! `[project]` (PEP 621) → core metadata, validated strictly, and its
//! rendering as `METADATA` / `PKG-INFO`.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use super::ConfigError;
use super::pep;
use super::toml::{Node, TableView, Value};

/// A person from `authors` / `maintainers`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Person {
    /// The name, if given.
    pub name: Option<String>,
    /// The email, if given.
    pub email: Option<String>,
}

/// The project's license.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum License {
    /// A PEP 639 SPDX expression, canonicalized.
    Expression(String),
    /// The legacy `{text = ...}` or `{file = ...}` table: the text.
    Text(String),
}

/// The readme: its text and content type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Readme {
    /// The text.
    pub text: String,
    /// `text/markdown`, `text/x-rst` or `text/plain` (with charset if given).
    pub content_type: String,
    /// The file it came from, relative to the project root.
    pub file: Option<String>,
}

/// Core metadata of a distribution, as `[project]` states it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Metadata {
    /// `Name`, as written.
    pub name: String,
    /// `Version`, as written.
    pub version: String,
    /// `Summary`.
    pub summary: Option<String>,
    /// `Description` (the readme).
    pub readme: Option<Readme>,
    /// `Requires-Python`.
    pub requires_python: Option<String>,
    /// `License-Expression` or `License`.
    pub license: Option<License>,
    /// `License-File` entries (paths relative to the root, `/`-separated, sorted).
    pub license_files: Vec<String>,
    /// Authors.
    pub authors: Vec<Person>,
    /// Maintainers.
    pub maintainers: Vec<Person>,
    /// `Keywords`.
    pub keywords: Vec<String>,
    /// `Classifier` entries.
    pub classifiers: Vec<String>,
    /// `Project-URL` entries, in file order.
    pub urls: Vec<(String, String)>,
    /// `Requires-Dist` entries (without extras).
    pub dependencies: Vec<String>,
    /// Extras and their requirements.
    pub optional_dependencies: BTreeMap<String, Vec<String>>,
    /// Entry points by group (`console_scripts`, `gui_scripts`, plugins).
    pub entry_points: BTreeMap<String, BTreeMap<String, String>>,
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

fn read_text(root: &Path, rel: &str, t: &TableView, node: &Node, key: &str) -> Result<String, ConfigError> {
    let path = root.join(rel);
    std::fs::read_to_string(&path)
        .map_err(|e| t.error_at(node, key, format!("cannot read {}: {e}", path.display())))
}

fn people(t: &TableView, key: &str) -> Result<Vec<Person>, ConfigError> {
    let Some(node) = t.get(key) else {
        return Ok(Vec::new());
    };
    let Value::Array(items) = &node.value else {
        return Err(t.error_at(node, key, "expected an array of tables with `name` and/or `email`"));
    };
    items
        .iter()
        .map(|item| {
            let p = TableView::new(t.source, &t.key_path(key), item)?;
            p.deny_unknown(&["name", "email"])?;
            let name = p.str("name")?.map(|(s, _)| s.to_string());
            let email = match p.str("email")? {
                Some((e, n)) => {
                    if !e.contains('@') || e.contains(char::is_whitespace) {
                        return Err(p.error_at(n, "email", format!("`{e}` is not an email address")));
                    }
                    Some(e.to_string())
                }
                None => None,
            };
            if let Some(n) = &name {
                if n.contains(',') && email.is_some() {
                    return Err(p.error_at(item, "name", "a name given with an email cannot contain a comma"));
                }
            }
            if name.is_none() && email.is_none() {
                return Err(t.error_at(item, key, "each entry needs `name` or `email`"));
            }
            Ok(Person { name, email })
        })
        .collect()
}

fn requirements(t: &TableView, key: &str, items: &[(&str, &Node)]) -> Result<Vec<String>, ConfigError> {
    items
        .iter()
        .map(|(s, n)| {
            pep::parse_requirement(s).map_err(|e| t.error_at(n, key, format!("invalid requirement: {e}")))?;
            Ok(s.trim().to_string())
        })
        .collect()
}

fn string_table(t: &TableView, key: &str) -> Result<Vec<(String, String, Node)>, ConfigError> {
    let Some(sub) = t.table(key)? else {
        return Ok(Vec::new());
    };
    sub.entries
        .iter()
        .map(|e| match &e.node.value {
            Value::Str(s) => Ok((e.key.clone(), s.clone(), e.node.clone())),
            other => Err(sub.error_at(&e.node, &e.key, format!("expected a string, found {}", other.type_name()))),
        })
        .collect()
}

fn check_object_ref(t: &TableView, key: &str, node: &Node, value: &str) -> Result<(), ConfigError> {
    // `module.sub:attr.attr [extras]`
    let core = value.split('[').next().unwrap_or("").trim();
    let ident = |s: &str| {
        !s.is_empty()
            && s.split('.').all(|p| {
                let mut c = p.chars();
                c.next().is_some_and(|f| f.is_alphabetic() || f == '_')
                    && c.all(|x| x.is_alphanumeric() || x == '_')
            })
    };
    let ok = match core.split_once(':') {
        Some((m, a)) => ident(m.trim()) && ident(a.trim()),
        None => ident(core),
    };
    if ok {
        Ok(())
    } else {
        Err(t.error_at(node, key, format!("`{value}` is not an object reference (`package.module:function`)")))
    }
}

/// Reads and validates `[project]`. `root` is the project directory (for
/// `readme` and `license-files`).
pub fn from_project(t: &TableView, root: &Path) -> Result<Metadata, ConfigError> {
    t.deny_unknown(PROJECT_KEYS)?;
    let mut m = Metadata::default();

    let Some((name, name_node)) = t.str("name")? else {
        return Err(t.error_at(t.node, "name", "[project] needs `name`"));
    };
    pep::check_name(name).map_err(|e| t.error_at(name_node, "name", e))?;
    m.name = name.to_string();

    for (d, n) in t.str_array("dynamic")? {
        if !PROJECT_KEYS.contains(&d) || d == "name" || d == "dynamic" {
            return Err(t.error_at(n, "dynamic", format!("`{d}` cannot be dynamic")));
        }
        if t.get(d).is_some() {
            return Err(t.error_at(n, "dynamic", format!("`{d}` is listed in `dynamic` but also given in [project]")));
        }
        return Err(t.error_at(
            n,
            "dynamic",
            format!("headerwheel does not compute `{d}` dynamically; give it in [project]"),
        ));
    }

    let Some((version, vnode)) = t.str("version")? else {
        return Err(t.error_at(t.node, "version", "[project] needs `version`"));
    };
    pep::check_version(version).map_err(|e| t.error_at(vnode, "version", e))?;
    m.version = version.trim().to_string();

    if let Some((d, n)) = t.str("description")? {
        if d.contains('\n') {
            return Err(t.error_at(n, "description", "the description must be one line"));
        }
        m.summary = Some(d.to_string());
    }

    if let Some(node) = t.get("readme") {
        let (file, text, ctype) = match &node.value {
            Value::Str(f) => (Some(f.to_string()), read_text(root, f, t, node, "readme")?, None),
            Value::Table(_) => {
                let r = TableView::new(t.source, &t.key_path("readme"), node)?;
                r.deny_unknown(&["file", "text", "content-type"])?;
                let ctype = r.str("content-type")?;
                let (file, text) = match (r.str("file")?, r.str("text")?) {
                    (Some((f, n)), None) => (Some(f.to_string()), read_text(root, f, &r, n, "file")?),
                    (None, Some((txt, _))) => (None, txt.to_string()),
                    _ => return Err(t.error_at(node, "readme", "give exactly one of `file` and `text`")),
                };
                let Some((ct, ctn)) = ctype else {
                    return Err(t.error_at(node, "readme", "a readme table needs `content-type`"));
                };
                let base = ct.split(';').next().unwrap_or("").trim();
                if !["text/markdown", "text/x-rst", "text/plain"].contains(&base) {
                    return Err(r.error_at(
                        ctn,
                        "content-type",
                        format!("`{ct}` is not one of text/markdown, text/x-rst, text/plain"),
                    ));
                }
                (file, text, Some(ct.to_string()))
            }
            other => {
                return Err(t.error_at(node, "readme", format!("expected a file name or a table, found {}", other.type_name())));
            }
        };
        let content_type = match ctype {
            Some(c) => c,
            None => {
                let f = file.as_deref().unwrap_or("").to_ascii_lowercase();
                if f.ends_with(".md") {
                    "text/markdown".to_string()
                } else if f.ends_with(".rst") {
                    "text/x-rst".to_string()
                } else {
                    return Err(t.error_at(
                        node,
                        "readme",
                        "cannot tell the readme's content type from its extension (.md or .rst); use a table with `content-type`",
                    ));
                }
            }
        };
        m.readme = Some(Readme { text, content_type, file });
    }

    if let Some((rp, n)) = t.str("requires-python")? {
        pep::check_specifier_set(rp).map_err(|e| t.error_at(n, "requires-python", e))?;
        m.requires_python = Some(rp.trim().to_string());
    }

    if let Some(node) = t.get("license") {
        m.license = Some(match &node.value {
            Value::Str(expr) => License::Expression(
                pep::canonical_license_expression(expr).map_err(|e| t.error_at(node, "license", e))?,
            ),
            Value::Table(_) => {
                let l = TableView::new(t.source, &t.key_path("license"), node)?;
                l.deny_unknown(&["file", "text"])?;
                match (l.str("file")?, l.str("text")?) {
                    (Some((f, n)), None) => License::Text(read_text(root, f, &l, n, "file")?),
                    (None, Some((txt, _))) => License::Text(txt.to_string()),
                    _ => return Err(t.error_at(node, "license", "give exactly one of `file` and `text`")),
                }
            }
            other => {
                return Err(t.error_at(node, "license", format!("expected an SPDX expression string, found {}", other.type_name())));
            }
        });
    }

    let license_globs = t.str_array("license-files")?;
    if !license_globs.is_empty() && matches!(m.license, Some(License::Text(_))) {
        let n = t.get("license-files").expect("present");
        return Err(t.error_at(n, "license-files", "`license-files` cannot be used with a legacy license table"));
    }
    for (glob, n) in license_globs {
        if glob.starts_with('/') || glob.split('/').any(|p| p == "..") || glob.contains('\\') {
            return Err(t.error_at(n, "license-files", format!("`{glob}` must be a relative path inside the project without `..`")));
        }
        let matched = super::glob::glob_files(root, glob)
            .map_err(|e| t.error_at(n, "license-files", e))?;
        if matched.is_empty() {
            return Err(t.error_at(n, "license-files", format!("`{glob}` matches no file")));
        }
        m.license_files.extend(matched);
    }
    m.license_files.sort();
    m.license_files.dedup();

    m.authors = people(t, "authors")?;
    m.maintainers = people(t, "maintainers")?;
    for (k, n) in t.str_array("keywords")? {
        if k.contains(',') {
            return Err(t.error_at(n, "keywords", format!("keyword `{k}` cannot contain a comma")));
        }
        m.keywords.push(k.to_string());
    }
    for (c, n) in t.str_array("classifiers")? {
        if matches!(m.license, Some(License::Expression(_))) && c.starts_with("License ::") {
            return Err(t.error_at(n, "classifiers", "license classifiers cannot be used with a license expression (PEP 639)"));
        }
        if c.split(" :: ").any(|p| p.trim().is_empty()) {
            return Err(t.error_at(n, "classifiers", format!("`{c}` is not a classifier")));
        }
        m.classifiers.push(c.to_string());
    }
    for (label, url, n) in string_table(t, "urls")? {
        if label.chars().count() > 32 {
            return Err(t.error_at(&n, "urls", format!("the label `{label}` is longer than 32 characters")));
        }
        if !url.contains("://") {
            return Err(t.error_at(&n, "urls", format!("`{url}` is not a URL")));
        }
        m.urls.push((label, url));
    }

    let deps = t.str_array("dependencies")?;
    m.dependencies = requirements(t, "dependencies", &deps)?;
    if let Some(extras) = t.table("optional-dependencies")? {
        for e in extras.entries {
            pep::check_name(&e.key).map_err(|_| {
                extras.source.error(&e.key_span, &extras.key_path(&e.key), format!("`{}` is not a valid extra name", e.key))
            })?;
            let items = extras.str_array(&e.key)?;
            let reqs = requirements(&extras, &e.key, &items)?;
            let norm = pep::normalize_name(&e.key);
            if m.optional_dependencies.insert(norm.clone(), reqs).is_some() {
                return Err(extras.source.error(&e.key_span, &extras.key_path(&e.key), format!("extra `{norm}` is given twice")));
            }
        }
    }

    for (key, group) in [("scripts", "console_scripts"), ("gui-scripts", "gui_scripts")] {
        for (name, target, n) in string_table(t, key)? {
            check_object_ref(t, key, &n, &target)?;
            m.entry_points.entry(group.into()).or_default().insert(name, target);
        }
    }
    if let Some(eps) = t.table("entry-points")? {
        for e in eps.entries {
            if e.key == "console_scripts" || e.key == "gui_scripts" {
                return Err(eps.source.error(
                    &e.key_span,
                    &eps.key_path(&e.key),
                    format!("use [project.{}] instead of entry-points.{}", if e.key == "console_scripts" { "scripts" } else { "gui-scripts" }, e.key),
                ));
            }
            let group = TableView::new(eps.source, &eps.key_path(&e.key), &e.node)?;
            for (name, target, n) in string_table(&eps, &e.key)? {
                check_object_ref(&group, &name, &n, &target)?;
                m.entry_points.entry(e.key.clone()).or_default().insert(name, target);
            }
        }
    }
    Ok(m)
}

fn people_fields(people: &[Person]) -> (Option<String>, Option<String>) {
    let names: Vec<&str> = people
        .iter()
        .filter(|p| p.email.is_none())
        .filter_map(|p| p.name.as_deref())
        .collect();
    let emails: Vec<String> = people
        .iter()
        .filter_map(|p| {
            p.email.as_ref().map(|e| match &p.name {
                Some(n) => format!("{n} <{e}>"),
                None => e.clone(),
            })
        })
        .collect();
    let join = |v: Vec<String>| if v.is_empty() { None } else { Some(v.join(", ")) };
    (join(names.into_iter().map(String::from).collect()), join(emails))
}

impl Metadata {
    /// The PEP 503 normalized name.
    pub fn normalized_name(&self) -> String {
        pep::normalize_name(&self.name)
    }

    /// The name as it appears in wheel and sdist file names (`my_pkg`).
    pub fn file_name(&self) -> String {
        self.normalized_name().replace('-', "_")
    }

    /// The version as it appears in file names (PEP 440 normal form is the
    /// author's business; `-` would break the file name, so it becomes `_`).
    pub fn file_version(&self) -> String {
        self.version.replace('-', "_")
    }

    /// The `.dist-info` directory name.
    pub fn dist_info_dir(&self) -> String {
        format!("{}-{}.dist-info", self.file_name(), self.file_version())
    }

    /// The lowest core metadata version that holds every field used.
    pub fn metadata_version(&self, min: &str) -> &'static str {
        let needed = if matches!(self.license, Some(License::Expression(_))) || !self.license_files.is_empty() {
            "2.4"
        } else {
            "2.1"
        };
        if min == "2.2" && needed == "2.1" { "2.2" } else { needed }
    }

    /// Adds `req` to `Requires-Dist` unless a requirement on the same
    /// distribution is already there.
    pub fn ensure_dependency(&mut self, req: &str) {
        let name = pep::parse_requirement(req).map(|r| pep::normalize_name(&r.name));
        let present = self.dependencies.iter().any(|d| {
            pep::parse_requirement(d).map(|r| pep::normalize_name(&r.name)).ok() == name.clone().ok()
                && !d.contains(';')
        });
        if !present {
            self.dependencies.push(req.to_string());
        }
    }

    /// Renders the core metadata (`METADATA` in a wheel, `PKG-INFO` in an
    /// sdist). `min_version` is `2.1` for wheels and `2.2` for sdists.
    pub fn render(&self, min_version: &str) -> String {
        let mut s = String::new();
        let mut field = |k: &str, v: &str| {
            // Continuation lines keep multi-line values inside their field.
            let v = v.replace('\n', "\n        ");
            let _ = writeln!(s, "{k}: {v}");
        };
        field("Metadata-Version", self.metadata_version(min_version));
        field("Name", &self.name);
        field("Version", &self.version);
        if let Some(x) = &self.summary {
            field("Summary", x);
        }
        if !self.keywords.is_empty() {
            field("Keywords", &self.keywords.join(","));
        }
        let (authors, author_emails) = people_fields(&self.authors);
        let (maint, maint_emails) = people_fields(&self.maintainers);
        if let Some(x) = authors {
            field("Author", &x);
        }
        if let Some(x) = author_emails {
            field("Author-email", &x);
        }
        if let Some(x) = maint {
            field("Maintainer", &x);
        }
        if let Some(x) = maint_emails {
            field("Maintainer-email", &x);
        }
        match &self.license {
            Some(License::Expression(e)) => field("License-Expression", e),
            Some(License::Text(t)) => field("License", t.trim_end()),
            None => {}
        }
        for f in &self.license_files {
            field("License-File", f);
        }
        for c in &self.classifiers {
            field("Classifier", c);
        }
        for (label, url) in &self.urls {
            field("Project-URL", &format!("{label}, {url}"));
        }
        if let Some(x) = &self.requires_python {
            field("Requires-Python", x);
        }
        for d in &self.dependencies {
            field("Requires-Dist", d);
        }
        for (extra, reqs) in &self.optional_dependencies {
            field("Provides-Extra", extra);
            for r in reqs {
                let line = match r.split_once(';') {
                    Some((req, marker)) => format!("{}; ({}) and extra == \"{extra}\"", req.trim_end(), marker.trim()),
                    None => format!("{r}; extra == \"{extra}\""),
                };
                field("Requires-Dist", &line);
            }
        }
        if let Some(r) = &self.readme {
            field("Description-Content-Type", &r.content_type);
            s.push('\n');
            s.push_str(&r.text);
            if !r.text.ends_with('\n') {
                s.push('\n');
            }
        }
        s
    }

    /// Renders `entry_points.txt`, or `None` when there are no entry points.
    pub fn entry_points_txt(&self) -> Option<String> {
        if self.entry_points.is_empty() {
            return None;
        }
        let mut s = String::new();
        for (group, eps) in &self.entry_points {
            let _ = writeln!(s, "[{group}]");
            for (name, target) in eps {
                let _ = writeln!(s, "{name} = {target}");
            }
            s.push('\n');
        }
        Some(s)
    }
}

/// A license file matched by `license-files`, for the archives.
pub fn license_paths(m: &Metadata, root: &Path) -> Vec<(String, PathBuf)> {
    m.license_files
        .iter()
        .map(|rel| (rel.clone(), root.join(rel)))
        .collect()
}
