//! The `pyproject.toml` edits of a migration, through toml_edit: the user's
//! comments, key order and formatting stay; keys are only added (never
//! overwritten, except `[build-system]`), new tables go where a reader
//! expects them (`[project]` after `[build-system]`, `[tool.headerwheel]`
//! last).

use toml_edit::{Array, DocumentMut, InlineTable, Item, Table, value};

use super::{ModulePlan, ModuleValue, MovedMetadata, Note, NoteKind};

/// Applies the migration to `doc`.
pub fn edit(
    doc: &mut DocumentMut,
    moved: &MovedMetadata,
    package_dir: &str,
    modules: &[ModulePlan],
    notes: &mut Vec<Note>,
) {
    build_system(doc, notes);
    project(doc, moved, notes);
    tool(doc, moved, package_dir, modules, notes);
}

fn build_system(doc: &mut DocumentMut, notes: &mut Vec<Note>) {
    let root = doc.as_table_mut();
    if !root.contains_key("build-system") {
        let mut t = Table::new();
        t.set_position(Some(-1));
        root.insert("build-system", Item::Table(t));
        // A new first table: no blank line before it.
        if let Some(Item::Table(t)) = root.get_mut("build-system") {
            t.decor_mut().set_prefix("");
        }
    }
    let Some(Item::Table(bs)) = root.get_mut("build-system") else {
        notes.push(Note {
            kind: NoteKind::Unsupported,
            text: "pyproject.toml: build-system is not a table: left as it is".into(),
        });
        return;
    };
    if let Some(old) = bs.get("requires").and_then(Item::as_array) {
        let old: Vec<String> = old
            .iter()
            .filter_map(|v| v.as_str().map(str::to_string))
            .collect();
        if !old.is_empty() {
            notes.push(Note {
                kind: NoteKind::Info,
                text: format!("pyproject.toml: build-system.requires was {old:?}; headerwheel needs only itself (cffi is added to the runtime dependencies)"),
            });
        }
    }
    set_keeping_decor(bs, "requires", value(Array::from_iter(["headerwheel"])));
    set_keeping_decor(bs, "build-backend", value("headerwheel"));
    if bs.remove("backend-path").is_some() {
        notes.push(Note {
            kind: NoteKind::Info,
            text:
                "pyproject.toml: build-system.backend-path removed (it pointed at the old backend)"
                    .into(),
        });
    }
}

/// Sets `key` to `item`, keeping the key where it is with the comment
/// lines above it. A comment after the old value spoke of the old value
/// ("# the old backend"): it goes with it.
fn set_keeping_decor(t: &mut Table, key: &str, item: Item) {
    match t.get_mut(key) {
        Some(Item::Value(old)) => {
            let mut new = item.into_value().expect("a value");
            new.decor_mut().set_prefix(" ");
            *old = new;
        }
        _ => {
            t.insert(key, item);
        }
    }
}

/// The position of the table `key` of the root, if it is a table.
fn position_of(doc: &DocumentMut, key: &str) -> Option<isize> {
    doc.get(key)
        .and_then(Item::as_table)
        .and_then(Table::position)
}

fn project(doc: &mut DocumentMut, moved: &MovedMetadata, notes: &mut Vec<Note>) {
    let after = position_of(doc, "build-system");
    let root = doc.as_table_mut();
    if !root.contains_key("project") {
        let mut t = Table::new();
        // Just after [build-system] (the stable sort keeps it second).
        t.set_position(after);
        root.insert("project", Item::Table(t));
    }
    let Some(Item::Table(p)) = root.get_mut("project") else {
        notes.push(Note {
            kind: NoteKind::Unsupported,
            text: "pyproject.toml: project is not a table: left as it is".into(),
        });
        return;
    };
    let pos = p.position();
    for (key, item) in &moved.project {
        if let Some(existing) = p.get(key) {
            let same = existing.to_string().trim() == item.to_string().trim();
            if !same {
                notes.push(Note {
                    kind: NoteKind::Info,
                    text: format!(
                        "pyproject.toml: project.{key} is already set: kept (setuptools had {})",
                        item.to_string().trim()
                    ),
                });
            }
            continue;
        }
        let mut item = item.clone();
        if let Item::Table(t) = &mut item {
            t.set_position(pos);
        }
        p.insert(key, item);
    }
    // headerwheel computes only a version it is told how to: what is now
    // set leaves `dynamic`.
    let p_has_version = p.contains_key("version");
    if moved.dynamic_version.is_some() && !p_has_version && !p.contains_key("dynamic") {
        p.insert("dynamic", value(Array::from_iter(["version"])));
    }
    let mut left: Vec<String> = Vec::new();
    let mut drop = false;
    if let Some(d) = p.get_mut("dynamic").and_then(Item::as_array_mut) {
        let keys: Vec<String> = d
            .iter()
            .filter_map(|v| v.as_str().map(str::to_string))
            .collect();
        d.retain(|v| {
            v.as_str()
                .is_none_or(|k| !moved.project.iter().any(|(m, _)| *m == k))
        });
        if moved.dynamic_version.is_some()
            && !p_has_version
            && !d.iter().any(|v| v.as_str() == Some("version"))
        {
            d.push("version");
        }
        left = d
            .iter()
            .filter_map(|v| v.as_str().map(str::to_string))
            .collect();
        drop = d.is_empty();
        if keys.len() != left.len() {
            notes.push(Note {
                kind: NoteKind::Info,
                text: format!(
                    "pyproject.toml: project.dynamic: {} now set statically",
                    keys.iter()
                        .filter(|k| !left.contains(k))
                        .cloned()
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            });
        }
    }
    if drop {
        // The comment lines above `dynamic` stay, above the key after it.
        let comments = p
            .key("dynamic")
            .and_then(|k| k.leaf_decor().prefix())
            .and_then(|r| r.as_str())
            .filter(|c| c.contains('#'))
            .map(str::to_string);
        let next = p
            .iter()
            .map(|(k, _)| k.to_string())
            .skip_while(|k| k != "dynamic")
            .nth(1);
        p.remove("dynamic");
        if let (Some(c), Some(next)) = (comments, next)
            && let Some(mut k) = p.key_mut(&next)
        {
            let old = k
                .leaf_decor()
                .prefix()
                .and_then(|r| r.as_str())
                .unwrap_or("")
                .to_string();
            k.leaf_decor_mut().set_prefix(format!("{c}{old}"));
        }
    }
    for k in left {
        if k == "version" && moved.dynamic_version.is_some() {
            continue;
        }
        notes.push(Note {
            kind: NoteKind::NotMoved,
            text: format!("pyproject.toml: project.dynamic still lists '{k}', which headerwheel does not compute: set it in [project]"),
        });
    }
}

fn tool(
    doc: &mut DocumentMut,
    moved: &MovedMetadata,
    package_dir: &str,
    modules: &[ModulePlan],
    notes: &mut Vec<Note>,
) {
    let doc_version_dynamic = doc
        .get("project")
        .and_then(|p| p.get("dynamic"))
        .and_then(Item::as_array)
        .is_some_and(|d| d.iter().any(|v| v.as_str() == Some("version")));
    let root = doc.as_table_mut();
    if !root.contains_key("tool") {
        let mut t = Table::new();
        t.set_implicit(true);
        root.insert("tool", Item::Table(t));
    }
    let Some(Item::Table(tool)) = root.get_mut("tool") else {
        notes.push(Note {
            kind: NoteKind::Unsupported,
            text: "pyproject.toml: tool is not a table: left as it is".into(),
        });
        return;
    };
    for old in ["setuptools", "hatch"] {
        if tool.contains_key(old) {
            notes.push(Note {
                kind: NoteKind::Info,
                text: format!("pyproject.toml: [tool.{old}] is no longer read by the build; remove it when the notes are handled"),
            });
        }
    }
    if !tool.contains_key("headerwheel") {
        tool.insert("headerwheel", Item::Table(Table::new()));
    }
    let Some(Item::Table(hw)) = tool.get_mut("headerwheel") else {
        return;
    };
    if let Some(v) = &moved.dynamic_version
        && !hw.contains_key("version")
        && doc_version_dynamic
    {
        hw.insert("version", value(v.clone()));
    }
    if !package_dir.is_empty() && !hw.contains_key("package-dir") {
        hw.insert("package-dir", value(package_dir));
    }
    if modules.iter().any(|m| m.no_limited_api) && !hw.contains_key("limited-api") {
        // headerwheel's setting is per project: one module asking is enough.
        hw.insert("limited-api", value(false));
        notes.push(Note {
            kind: NoteKind::Info,
            text: "set_source(..., py_limited_api=False): limited-api = false (no abi3 wheel)"
                .into(),
        });
    }
    if !moved.python_packages.is_empty() && !hw.contains_key("python-packages") {
        hw.insert(
            "python-packages",
            value(
                moved
                    .python_packages
                    .iter()
                    .map(String::as_str)
                    .collect::<Array>(),
            ),
        );
    }
    if !hw.contains_key("modules") {
        let mut t = Table::new();
        t.set_implicit(true);
        hw.insert("modules", Item::Table(t));
    }
    let Some(Item::Table(mods)) = hw.get_mut("modules") else {
        return;
    };
    for m in modules {
        let mut t = Table::new();
        for (k, v) in &m.entries {
            let item = match v {
                ModuleValue::Str(s) => value(s.as_str()),
                ModuleValue::List(l) => value(l.iter().map(String::as_str).collect::<Array>()),
                ModuleValue::Macros(ms) => {
                    let mut it = InlineTable::new();
                    for (n, v) in ms {
                        match v {
                            Some(v) => it.insert(n, v.as_str().into()),
                            None => it.insert(n, true.into()),
                        };
                    }
                    value(it)
                }
            };
            t.insert(k, item);
        }
        if let Some(old) = mods.get(&m.name) {
            if old.to_string() != Item::Table(t.clone()).to_string() {
                notes.push(Note {
                    kind: NoteKind::Info,
                    text: format!("pyproject.toml: tool.headerwheel.modules.\"{}\" replaced by what the builder records", m.name),
                });
            }
            // Keep the table's own comments.
            if let Some(Item::Table(o)) = mods.get_mut(&m.name) {
                let decor = o.decor().clone();
                *t.decor_mut() = decor;
                t.set_position(o.position());
            }
        }
        mods.insert(&m.name, Item::Table(t));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn moved(project: Vec<(&'static str, Item)>) -> MovedMetadata {
        MovedMetadata {
            project,
            python_packages: vec!["pkg".into()],
            dynamic_version: None,
        }
    }

    #[test]
    fn an_existing_project_keeps_its_comments_and_order_and_loses_dynamic() {
        let mut doc: DocumentMut = "\
# top comment
[project]
name = \"pkg\"  # the name
# dynamic below
dynamic = [\"version\", \"description\"]
dependencies = [
    \"cffi\",  # runtime
]

[build-system]
requires = [\"setuptools\"]  # old
build-backend = \"setuptools.build_meta\"

[tool.other]
x = 1 # keep
"
        .parse()
        .unwrap();
        let mut notes = Vec::new();
        let m = moved(vec![
            ("name", value("other-name")),
            ("version", value("1.0")),
            ("description", value("d")),
        ]);
        let module = ModulePlan {
            name: "pkg._x".into(),
            abi: false,
            cdef: String::new(),
            cdef_path: "pkg/_x.cdef.txt".into(),
            preamble: None,
            entries: vec![
                ("cdef", ModuleValue::Str("pkg/_x.cdef.txt".into())),
                (
                    "define-macros",
                    ModuleValue::Macros(vec![("A".into(), Some("1".into())), ("B".into(), None)]),
                ),
            ],
            emitted: None,
            no_limited_api: false,
        };
        edit(&mut doc, &m, "", &[module], &mut notes);
        insta::assert_snapshot!(doc.to_string(), @r#"
        # top comment
        [project]
        name = "pkg"  # the name
        # dynamic below
        dependencies = [
            "cffi",  # runtime
        ]
        version = "1.0"
        description = "d"

        [build-system]
        requires = ["headerwheel"]
        build-backend = "headerwheel"

        [tool.other]
        x = 1 # keep

        [tool.headerwheel]
        python-packages = ["pkg"]

        [tool.headerwheel.modules."pkg._x"]
        cdef = "pkg/_x.cdef.txt"
        define-macros = { A = "1", B = true }
        "#);
        let texts: Vec<String> = notes.iter().map(ToString::to_string).collect();
        assert!(
            texts
                .iter()
                .any(|n| n.contains("project.name is already set: kept")),
            "{texts:?}"
        );
        assert!(
            texts
                .iter()
                .any(|n| n.contains("project.dynamic: version, description now set statically")),
            "{texts:?}"
        );
    }
}

#[cfg(test)]
mod limited_api_tests {
    use super::*;

    #[test]
    fn py_limited_api_false_turns_abi3_off_for_the_project() {
        let mut doc = DocumentMut::new();
        let module = ModulePlan {
            name: "m".into(),
            abi: false,
            cdef: String::new(),
            cdef_path: "m.cdef.txt".into(),
            preamble: None,
            entries: vec![("cdef", ModuleValue::Str("m.cdef.txt".into()))],
            emitted: None,
            no_limited_api: true,
        };
        let mut notes = Vec::new();
        edit(
            &mut doc,
            &MovedMetadata {
                project: vec![],
                python_packages: vec![],
                dynamic_version: None,
            },
            "",
            &[module],
            &mut notes,
        );
        insta::assert_snapshot!(doc.to_string(), @r#"
        [build-system]
        requires = ["headerwheel"]
        build-backend = "headerwheel"

        [project]

        [tool.headerwheel]
        limited-api = false

        [tool.headerwheel.modules.m]
        cdef = "m.cdef.txt"
        "#);
    }
}
