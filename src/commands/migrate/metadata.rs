//! setup.py / setup.cfg metadata moved into `[project]` (PEP 621 order, only
//! keys not already there), and a computed version into `[tool.headerwheel]
//! version`.

use super::*;

/// The `[project]` values recorded from setup.py / setup.cfg, as TOML
/// items in PEP 621 order, plus `python-packages`.
pub struct MovedMetadata {
    /// (key, value) for `[project]`.
    pub project: Vec<(&'static str, toml_edit::Item)>,
    /// Top-level packages (and modules) setup() ships.
    pub python_packages: Vec<String>,
    /// `[tool.headerwheel] version` when the version is computed at build
    /// time (`{ from-vcs = true }`, `{ file = ... }`).
    pub dynamic_version: Option<toml_edit::InlineTable>,
}

pub(super) fn src_metadata(
    src: &Sources<'_>,
    root: &Path,
    doc: &toml_edit::DocumentMut,
    package_dir: &str,
    read: &dyn Fn(&Path) -> Option<String>,
    notes: &mut Vec<Note>,
) -> MovedMetadata {
    use toml_edit::{Array, InlineTable, Item, Table, value};
    let mut project: Vec<(&'static str, Item)> = Vec::new();
    let computed = |f: &Found, key: &str, shown: &str, notes: &mut Vec<Note>| {
        if !f.literal {
            notes.push(Note {
                kind: NoteKind::Computed,
                text: format!("{}: {key} is computed by `{}`: written as its value now, {shown}; keep it up to date in pyproject.toml", f.file, f.expr),
            });
        }
    };
    let s = |f: &Found| -> Option<String> {
        match &f.value {
            Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_string()),
            Value::Number(n) => Some(n.to_string()),
            _ => None,
        }
    };
    let dynamic_version = version_source(src, doc, package_dir, read, notes);
    for (key, to) in [
        ("name", "name"),
        ("version", "version"),
        ("description", "description"),
    ] {
        if let Some(f) = src.get(key)
            && let Some(v) = s(&f)
        {
            if key == "version" && dynamic_version.is_some() {
                continue;
            }
            computed(&f, key, &format!("'{v}'"), notes);
            project.push((to, value(v)));
        }
    }
    // readme: the file whose text long_description is.
    if let Some(f) = src.get("long_description") {
        let text = match &f.value {
            Value::String(t) => t.clone(),
            _ => String::new(),
        };
        let ctype = src.get("long_description_content_type").and_then(|c| s(&c));
        let mut candidates: Vec<String> = std::fs::read_dir(root)
            .map(|rd| {
                rd.flatten()
                    .map(|e| e.file_name().to_string_lossy().to_string())
                    .filter(|n| n.to_ascii_uppercase().starts_with("README"))
                    .collect()
            })
            .unwrap_or_default();
        candidates.sort();
        let from_cfg = f.expr.strip_prefix("file:").map(|x| x.trim().to_string());
        let exact = candidates
            .iter()
            .find(|c| read(Path::new(c)).is_some_and(|t| t.trim() == text.trim()))
            .cloned();
        let prefix = candidates
            .iter()
            .find(|c| {
                read(Path::new(c))
                    .is_some_and(|t| !t.trim().is_empty() && text.starts_with(t.trim_end()))
            })
            .cloned();
        let file = from_cfg
            .filter(|f| !f.contains(','))
            .or(exact.clone())
            .or(prefix.clone());
        match file {
            Some(file) => {
                if exact.is_none() && f.file == "setup.py" {
                    notes.push(Note {
                        kind: NoteKind::NotMoved,
                        text: format!("setup.py: long_description (`{}`) is more than {file}: the readme is {file} alone", f.expr),
                    });
                }
                let inferred = if file.ends_with(".md") {
                    Some("text/markdown")
                } else if file.ends_with(".rst") {
                    Some("text/x-rst")
                } else {
                    None
                };
                let same = match (ctype.as_deref(), inferred) {
                    (None, Some(_)) => true,
                    (Some(c), Some(i)) => c == i,
                    _ => false,
                };
                if same {
                    project.push(("readme", value(file)));
                } else {
                    let mut t = InlineTable::new();
                    t.insert("file", file.as_str().into());
                    t.insert(
                        "content-type",
                        ctype.as_deref().unwrap_or("text/plain").into(),
                    );
                    project.push(("readme", value(t)));
                }
            }
            None => notes.push(Note {
                kind: NoteKind::NotMoved,
                text: format!(
                    "{}: long_description (`{}`) is no file of the project: set [project] readme",
                    f.file, f.expr
                ),
            }),
        }
    }
    if let Some(f) = src.get("python_requires")
        && let Some(v) = s(&f)
    {
        computed(&f, "python_requires", &format!("'{v}'"), notes);
        project.push(("requires-python", value(v)));
    }
    // license: an SPDX expression when it is one (and no License ::
    // classifier says it again, PEP 639), else the legacy text table.
    let classifiers = src.get("classifiers").map(|f| (string_list(&f.value), f));
    let has_license_classifier = classifiers
        .as_ref()
        .is_some_and(|(c, _)| c.iter().any(|c| c.starts_with("License ::")));
    if let Some(f) = src.get("license")
        && let Some(v) = s(&f)
    {
        computed(&f, "license", &format!("'{v}'"), notes);
        let files: Vec<String> = ["license_files", "license_file"]
            .iter()
            .filter_map(|k| src.get(k))
            .flat_map(|f| string_list(&f.value))
            .collect();
        match crate::project::license::check_license_expression(&v) {
            Ok(expr) if !has_license_classifier => {
                project.push(("license", value(expr)));
                if !files.is_empty() {
                    project.push((
                        "license-files",
                        value(files.iter().map(String::as_str).collect::<Array>()),
                    ));
                }
            }
            _ => {
                let mut t = InlineTable::new();
                t.insert("text", v.as_str().into());
                project.push(("license", value(t)));
                if !files.is_empty() {
                    notes.push(Note {
                            kind: NoteKind::NotMoved,
                            text: format!(
                                "license_files {files:?}: PEP 621's legacy license table takes no files (use an SPDX expression and license-files)"
                            ),
                        });
                }
            }
        }
    }
    for (who, key) in [("author", "authors"), ("maintainer", "maintainers")] {
        let name = src.get(who).and_then(|f| s(&f));
        let email = src.get(&format!("{who}_email")).and_then(|f| s(&f));
        let list = people(name.as_deref(), email.as_deref());
        if !list.is_empty() {
            let mut a = Array::new();
            for (n, e) in list {
                let mut t = InlineTable::new();
                if let Some(n) = &n {
                    t.insert("name", n.as_str().into());
                }
                if let Some(e) = &e {
                    t.insert("email", e.as_str().into());
                }
                a.push(t);
            }
            if a.len() > 1 {
                for v in a.iter_mut() {
                    v.decor_mut().set_prefix("\n    ");
                }
                a.set_trailing("\n");
                a.set_trailing_comma(true);
            }
            project.push((key, value(a)));
        }
    }
    if let Some(f) = src.get("keywords") {
        let list: Vec<String> = match &f.value {
            Value::String(s) => s
                .split([',', ' ', '\n'])
                .map(str::trim)
                .filter(|x| !x.is_empty())
                .map(str::to_string)
                .collect(),
            v => string_list(v),
        };
        if !list.is_empty() {
            project.push((
                "keywords",
                value(list.iter().map(String::as_str).collect::<Array>()),
            ));
        }
    }
    if let Some((list, f)) = &classifiers {
        computed(f, "classifiers", "the list above", notes);
        if !list.is_empty() {
            project.push(("classifiers", Item::Value(multiline(list))));
        }
    }
    let mut urls = Table::new();
    if let Some(u) = src.get("url").and_then(|f| s(&f)) {
        urls.insert("Homepage", value(u));
    }
    if let Some(u) = src.get("download_url").and_then(|f| s(&f)) {
        urls.insert("Download", value(u));
    }
    if let Some(f) = src.get("project_urls") {
        match &f.value {
            Value::Object(o) => {
                for (k, v) in o {
                    if let Some(v) = v.as_str() {
                        urls.insert(k, value(v));
                    }
                }
            }
            Value::String(text) => {
                for line in text.lines() {
                    if let Some((k, v)) = line.split_once('=') {
                        urls.insert(k.trim(), value(v.trim()));
                    }
                }
            }
            _ => {}
        }
    }
    if !urls.is_empty() {
        project.push(("urls", Item::Table(urls)));
    }
    if let Some(f) = src.get("install_requires") {
        let list = string_list(&f.value);
        computed(&f, "install_requires", &format!("{list:?}"), notes);
        let deps = crate::project::metadata::Metadata {
            dependencies: list.clone(),
            ..Default::default()
        };
        let named = |d: &String| crate::project::requirements::requirement_name(d) == "cffi";
        if list.iter().any(named) && !deps.requires_unconditionally("cffi") {
            notes.push(Note {
                kind: NoteKind::Info,
                text: format!("{}: install_requires names cffi only under a marker: headerwheel adds the cffi its modules need (cffi>=1.17) for every interpreter", f.file),
            });
        }
        if !list.is_empty() {
            project.push(("dependencies", Item::Value(multiline(&list))));
        }
    }
    let extras = src
        .cfg_section("options.extras_require")
        .map(|(m, _)| Value::Object(m))
        .or_else(|| src.get("extras_require").map(|f| f.value));
    if let Some(Value::Object(o)) = extras {
        let mut t = Table::new();
        for (k, v) in &o {
            t.insert(k, Item::Value(multiline(&string_list(v))));
        }
        if !t.is_empty() {
            project.push(("optional-dependencies", Item::Table(t)));
        }
    }
    let entry_points = src
        .cfg_section("options.entry_points")
        .map(|(m, _)| Value::Object(m))
        .or_else(|| src.get("entry_points").map(|f| f.value));
    match entry_points {
        Some(Value::Object(groups)) => {
            let mut eps = Table::new();
            eps.set_implicit(true);
            for (group, list) in &groups {
                let mut t = Table::new();
                for line in string_list(list).iter().flat_map(|l| l.lines().map(str::to_string).collect::<Vec<_>>()) {
                    if let Some((k, v)) = line.split_once('=') {
                        t.insert(k.trim(), value(v.trim()));
                    }
                }
                match group.as_str() {
                    "console_scripts" => project.push(("scripts", Item::Table(t))),
                    "gui_scripts" => project.push(("gui-scripts", Item::Table(t))),
                    g => {
                        eps.insert(g, Item::Table(t));
                    }
                }
            }
            if !eps.is_empty() {
                project.push(("entry-points", Item::Table(eps)));
            }
        }
        Some(Value::String(s)) if !s.trim().is_empty() => notes.push(Note {
            kind: NoteKind::NotMoved,
            text: "setup.py: entry_points given as INI text: move them to [project.scripts] / [project.entry-points]".into(),
        }),
        _ => {}
    }
    let mut python_packages: Vec<String> = Vec::new();
    for key in ["packages", "py_modules"] {
        if let Some(f) = src.get(key) {
            for p in string_list(&f.value) {
                let top = p.split('.').next().unwrap_or("").to_string();
                if !top.is_empty() && !python_packages.contains(&top) {
                    python_packages.push(top);
                }
            }
        }
    }
    // What setuptools did that PEP 621 / headerwheel does not.
    let handled = [
        "name",
        "version",
        "description",
        "long_description",
        "long_description_content_type",
        "python_requires",
        "license",
        "license_file",
        "license_files",
        "author",
        "author_email",
        "maintainer",
        "maintainer_email",
        "keywords",
        "classifiers",
        "url",
        "download_url",
        "project_urls",
        "install_requires",
        "extras_require",
        "entry_points",
        "packages",
        "py_modules",
        "package_dir",
        "cffi_modules",
        "ext_package",
        "use_scm_version",
    ];
    let mut leftover: Vec<(String, &'static str, String)> = Vec::new();
    for (k, v) in &src.rec.setup_kwargs {
        let empty = match v {
            Value::Null => true,
            Value::Array(a) => a.is_empty(),
            Value::Object(o) => o.is_empty(),
            _ => false,
        };
        if !handled.contains(&k.as_str()) && !empty {
            let expr = src
                .rec
                .setup_static
                .get(k)
                .and_then(|s| s.get("expr"))
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string();
            leftover.push((k.clone(), "setup.py", expr));
        }
    }
    for section in ["metadata", "options"] {
        if let Some(Value::Object(o)) = src.rec.setup_cfg.get(section) {
            for (k, v) in o {
                if !handled.contains(&k.as_str()) {
                    leftover.push((
                        k.clone(),
                        "setup.cfg",
                        v.as_str().unwrap_or("").trim().replace('\n', " "),
                    ));
                }
            }
        }
    }
    for (k, file, expr) in leftover {
        let why = match k.as_str() {
            "cmdclass" => "custom setuptools commands (dynamic code) do not run under headerwheel",
            "setup_requires" | "tests_require" => {
                "build requirements are [build-system] requires (headerwheel needs none)"
            }
            "zip_safe" => "wheels are never installed as zipped eggs",
            "include_package_data" | "package_data" | "exclude_package_data" => {
                "headerwheel ships every file of the packages"
            }
            "libraries" => {
                "build_clib libraries are compiled into the modules that link them (see above)"
            }
            "scripts" => "script files are not PEP 621: make them [project.scripts] entry points",
            "platforms" => "not PEP 621 metadata",
            "ext_modules" => {
                "setuptools extensions are not built by headerwheel (a CFFI one, from distutils_extension(), is a module above)"
            }
            _ => "no PEP 621 or headerwheel equivalent",
        };
        notes.push(Note {
            kind: NoteKind::NotMoved,
            text: format!("{file}: {k} (`{expr}`): {why}"),
        });
    }
    MovedMetadata {
        project,
        python_packages,
        dynamic_version,
    }
}

/// Where a computed version comes from, as `[tool.headerwheel] version`:
/// setuptools_scm (`[tool.setuptools_scm]`, `setup(use_scm_version=...)`)
/// or hatch's `source = "vcs"` → `{ from-vcs = true }`; setup.cfg's
/// `attr:`/`file:`, hatch's `path`, or a setup.py computing the
/// `__version__` a package file holds → `{ file = ... }`.
fn version_source(
    src: &Sources<'_>,
    doc: &toml_edit::DocumentMut,
    package_dir: &str,
    read: &dyn Fn(&Path) -> Option<String>,
    notes: &mut Vec<Note>,
) -> Option<toml_edit::InlineTable> {
    use toml_edit::InlineTable;
    let tool = doc.get("tool");
    let scm_table = tool.and_then(|t| t.get("setuptools_scm"));
    let use_scm = src
        .rec
        .setup_kwargs
        .get("use_scm_version")
        .is_some_and(|v| !matches!(v, Value::Null | Value::Bool(false)));
    let hatch = tool
        .and_then(|t| t.get("hatch"))
        .and_then(|h| h.get("version"));
    let hatch_source = hatch.and_then(|h| h.get("source")).and_then(|s| s.as_str());
    let in_project = |dir: &str, rel: String| {
        if dir.is_empty() {
            rel
        } else {
            format!("{dir}/{rel}")
        }
    };
    let file_table = |file: &str, regex: Option<&str>| {
        let mut t = InlineTable::new();
        t.insert("file", file.into());
        if let Some(r) = regex {
            t.insert("regex", r.into());
        }
        t
    };
    if scm_table.is_some() || use_scm || hatch_source == Some("vcs") {
        let from = if use_scm {
            "setup.py: use_scm_version"
        } else if scm_table.is_some() {
            "pyproject.toml: [tool.setuptools_scm]"
        } else {
            "pyproject.toml: [tool.hatch.version] source = \"vcs\""
        };
        notes.push(Note {
            kind: NoteKind::Info,
            text: format!("{from}: the version comes from git: [tool.headerwheel] version = {{ from-vcs = true }} (setuptools_scm's default scheme)"),
        });
        let options: Vec<String> = scm_table
            .and_then(|t| t.as_table_like())
            .map(|t| t.iter().map(|(k, _)| k.to_string()).collect())
            .unwrap_or_default();
        let kw_options: Vec<String> = match src.rec.setup_kwargs.get("use_scm_version") {
            Some(Value::Object(o)) => o.keys().cloned().collect(),
            _ => Vec::new(),
        };
        for (at, options) in [
            ("pyproject.toml: [tool.setuptools_scm]", options),
            ("setup.py: use_scm_version", kw_options),
        ] {
            if !options.is_empty() {
                notes.push(Note {
                    kind: NoteKind::NotMoved,
                    text: format!("{at} {}: headerwheel uses setuptools_scm's default scheme and writes no version file", options.join(", ")),
                });
            }
        }
        let mut t = InlineTable::new();
        t.insert("from-vcs", true.into());
        return Some(t);
    }
    if let Some(path) = hatch.and_then(|h| h.get("path")).and_then(|p| p.as_str()) {
        let regex = hatch
            .and_then(|h| h.get("pattern"))
            .and_then(|p| p.as_str());
        notes.push(Note {
            kind: NoteKind::Info,
            text: format!("pyproject.toml: [tool.hatch.version] path: [tool.headerwheel] version = {{ file = \"{path}\" }} reads it at build time"),
        });
        return Some(file_table(path, regex));
    }
    let f = src.get("version")?;
    if f.literal {
        return None;
    }
    let expr = f.expr.trim();
    let file = if let Some(attr) = expr.strip_prefix("attr:") {
        // attr: pkg.mod.__version__ → pkg/mod.py or pkg/mod/__init__.py.
        let (module, name) = attr.trim().rsplit_once('.')?;
        if name != "__version__" {
            return None;
        }
        let base = module.replace('.', "/");
        [format!("{base}.py"), format!("{base}/__init__.py")]
            .into_iter()
            .map(|r| in_project(package_dir, r))
            .find(|p| read(Path::new(p)).is_some())
            .map(|p| (p, None))
    } else if let Some(file) = expr.strip_prefix("file:") {
        let file = file.trim();
        (!file.contains(',')).then(|| (file.to_string(), Some(r"(?m)^\s*(\S+)")))
    } else {
        // A setup.py computing the value a package file's __version__ holds.
        let value = f.value.as_str()?.trim().to_string();
        let packages: Vec<String> = ["packages", "py_modules"]
            .iter()
            .filter_map(|k| src.get(k))
            .flat_map(|f| string_list(&f.value))
            .filter(|p| !p.contains('.'))
            .collect();
        let line =
            regex::Regex::new(r#"(?m)^\s*__version__\s*(?::\s*str\s*)?=\s*['"]([^'"]+)['"]"#)
                .expect("a valid regex");
        packages
            .iter()
            .flat_map(|p| {
                ["__init__.py", "_version.py", "version.py", "__about__.py"]
                    .iter()
                    .map(move |f| format!("{p}/{f}"))
                    .chain(std::iter::once(format!("{p}.py")))
            })
            .map(|r| in_project(package_dir, r))
            .find(|p| {
                read(Path::new(p)).is_some_and(|t| {
                    line.captures(&t)
                        .is_some_and(|c| c.get(1).is_some_and(|m| m.as_str().trim() == value))
                })
            })
            .map(|p| (p, None))
    };
    let (file, regex) = file?;
    notes.push(Note {
        kind: NoteKind::Info,
        text: format!(
            "{}: version (`{expr}`) is read from {file}: [tool.headerwheel] version = {{ file = \"{file}\" }} reads it at build time",
            f.file
        ),
    });
    Some(file_table(&file, regex))
}

/// setup()'s `author` and `author_email` as PEP 621 people: the emails
/// are a comma-separated list, each `addr` or `Name <addr>`; a lone plain
/// address goes with the author's name, a name no address carries stays
/// a person of its own.
fn people(name: Option<&str>, email: Option<&str>) -> Vec<(Option<String>, Option<String>)> {
    static NAMED: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
        regex::Regex::new(r"^([^<>]*?)\s*<([^<>\s]+)>$").expect("a valid regex")
    });
    let emails: Vec<(Option<String>, String)> = email
        .unwrap_or("")
        .split(',')
        .map(str::trim)
        .filter(|e| !e.is_empty())
        .map(|e| match NAMED.captures(e) {
            Some(c) => {
                let who = c[1].trim().trim_matches('"').trim();
                ((!who.is_empty()).then(|| who.to_string()), c[2].to_string())
            }
            None => (None, e.to_string()),
        })
        .collect();
    let name = name.map(str::trim).filter(|n| !n.is_empty());
    match (name, emails.as_slice()) {
        (Some(n), [(None, e)]) => vec![(Some(n.to_string()), Some(e.clone()))],
        (n, list) => {
            let mut out: Vec<(Option<String>, Option<String>)> = Vec::new();
            if let Some(n) = n
                && !list.iter().any(|(w, _)| w.as_deref() == Some(n))
            {
                out.push((Some(n.to_string()), None));
            }
            out.extend(list.iter().map(|(w, e)| (w.clone(), Some(e.clone()))));
            out
        }
    }
}

/// A TOML array with one string per line (classifiers, dependencies).
fn multiline(items: &[String]) -> toml_edit::Value {
    let mut a: toml_edit::Array = items.iter().map(String::as_str).collect();
    if items.len() > 1 {
        for v in a.iter_mut() {
            v.decor_mut().set_prefix("\n    ");
        }
        a.set_trailing("\n");
        a.set_trailing_comma(true);
    }
    toml_edit::Value::Array(a)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn authors_and_their_emails() {
        let p = |n: Option<&str>, e: Option<&str>| -> Vec<(Option<String>, Option<String>)> {
            people(n, e)
        };
        let s = |x: &str| Some(x.to_string());
        assert_eq!(
            p(Some("Ada"), Some("ada@example.org")),
            vec![(s("Ada"), s("ada@example.org"))]
        );
        assert_eq!(
            p(None, Some("Ada Lovelace <ada@example.org>")),
            vec![(s("Ada Lovelace"), s("ada@example.org"))]
        );
        assert_eq!(
            p(
                Some("Ada Lovelace"),
                Some("Ada Lovelace <ada@example.org>, \"Bob\" <bob@example.org>, c@example.org")
            ),
            vec![
                (s("Ada Lovelace"), s("ada@example.org")),
                (s("Bob"), s("bob@example.org")),
                (None, s("c@example.org")),
            ]
        );
        assert_eq!(
            p(Some("The Team"), Some("a@example.org, b@example.org")),
            vec![
                (s("The Team"), None),
                (None, s("a@example.org")),
                (None, s("b@example.org")),
            ]
        );
        assert_eq!(p(Some("Ada"), None), vec![(s("Ada"), None)]);
        assert!(p(None, None).is_empty());
    }
}
