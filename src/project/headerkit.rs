//! `[tool.headerkit]`, read as headerkit documents it, so a headerkit user
//! switches backends by changing one line:
//!
//! ```toml
//! [tool.headerkit]
//! backend = "libclang"
//! writers = ["cffi"]
//! include_dirs = ["${NNG_INCLUDE_DIR}"]      # ${VAR}: an error when unset
//!
//! [[tool.headerkit.headers]]
//! pattern = "include/nng/nng.h"              # glob; per-header include_dirs/defines
//!
//! [tool.headerkit.writer.cffi]
//! define_patterns = ["NNG_FLAG_\\w+"]        # regex, re.search semantics
//! extra_cdef = ['extern "Python" void cb(void *);']
//! keep_deprecated = true                     # headerwheel's: deprecated declarations too
//!
//! [tool.headerkit.output]
//! cffi = "src/nng/_nng.cdef.txt"
//! ```

use std::path::{Path, PathBuf};

use super::paths::{Expect, PathError, ProjectDir};
use super::toml::{ConfigError, Node};

/// One `[[tool.headerkit.headers]]` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeaderEntry {
    /// The pattern (a path or glob).
    pub pattern: String,
    /// Code to parse instead of the file (an umbrella of `#include` lines).
    pub code: Option<String>,
    /// Extra include directories.
    pub include_dirs: Vec<String>,
    /// Extra defines.
    pub defines: Vec<String>,
    /// Extra compiler arguments.
    pub backend_args: Vec<String>,
    /// The key, for messages.
    pub key: String,
}

/// `[tool.headerkit]`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HeaderkitConfig {
    /// `include_dirs`.
    pub include_dirs: Vec<String>,
    /// `defines`.
    pub defines: Vec<String>,
    /// `backend_args`.
    pub backend_args: Vec<String>,
    /// The headers.
    pub headers: Vec<HeaderEntry>,
    /// `exclude` globs.
    pub exclude: Vec<String>,
    /// `writer.cffi.define_patterns`.
    pub define_patterns: Vec<String>,
    /// `writer.cffi.macros`: `"all-library"` or `"patterns"`; `None`: the
    /// default ([`HeaderkitConfig::macro_selection`]).
    pub macros: Option<String>,
    /// `writer.cffi.extra_cdef`.
    pub extra_cdef: Vec<String>,
    /// `writer.cffi.exclude_patterns`: names to leave out (regex).
    pub exclude_patterns: Vec<String>,
    /// `writer.cffi.keep_deprecated`: write the declarations the headers
    /// mark deprecated (left out by default).
    pub keep_deprecated: bool,
    /// `output.cffi`: where the cdef goes (the module reading it is built
    /// from the headers).
    pub output_cffi: Option<PathBuf>,
    /// `store_dir`: the cache directory (default `.headerkit`).
    pub store_dir: Option<String>,
}

impl HeaderkitConfig {
    /// Which macros the cdef declares: `writer.cffi.macros`, else every
    /// macro of the library's headers, or only those `define_patterns`
    /// names when it names any (headerkit's meaning of the key).
    pub fn macro_selection(&self) -> crate::cdef::writer::MacroSelection {
        use crate::cdef::writer::MacroSelection;
        match self.macros.as_deref().and_then(MacroSelection::parse) {
            Some(m) => m,
            None if self.define_patterns.is_empty() => MacroSelection::AllLibrary,
            None => MacroSelection::Patterns,
        }
    }
}

/// Expands `${VAR}` in `s`; an unset variable is an error at `node`.
pub fn expand(
    s: &str,
    node: &Node<'_>,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<String, ConfigError> {
    let mut out = String::new();
    let mut rest = s;
    while let Some(i) = rest.find("${") {
        out.push_str(&rest[..i]);
        let after = &rest[i + 2..];
        let Some(end) = after.find('}') else {
            return Err(node.error(format!("unterminated '${{' in '{s}'")));
        };
        let var = &after[..end];
        match env(var) {
            Some(v) => out.push_str(&v),
            None => {
                return Err(node.error(format!(
                    "the environment variable '{var}' is not set (referenced as ${{{var}}})"
                )));
            }
        }
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

fn strs(
    n: Option<Node<'_>>,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Vec<String>, ConfigError> {
    let Some(n) = n else { return Ok(Vec::new()) };
    n.str_array()?
        .into_iter()
        .map(|(s, node)| expand(&s, &node, env))
        .collect()
}

/// `include_dirs`: expanded, then absolute (the system's) or inside the
/// project (normalised).
fn dirs(
    n: Option<Node<'_>>,
    dir: &ProjectDir,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Vec<String>, ConfigError> {
    let Some(n) = n else { return Ok(Vec::new()) };
    n.str_array()?
        .into_iter()
        .map(|(s, node)| {
            let v = expand(&s, &node, env)?;
            let p = dir.search_dir(&v).map_err(|e| node.error(e.to_string()))?;
            Ok(p.to_string_lossy().to_string())
        })
        .collect()
}

/// A path `what` goes to (`the store`, `the output`): expanded, inside the
/// project (it may not exist yet), normalised.
fn inside(
    n: &Node<'_>,
    what: &str,
    dir: &ProjectDir,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<PathBuf, ConfigError> {
    let v = string(n, env)?;
    dir.resolve(&v, Expect::Any).map_err(|e| match e {
        PathError::Outside(_) => n.error(format!(
            "'{v}' is outside the project: {what} goes inside it, relative to the directory of pyproject.toml"
        )),
        e => n.error(e.to_string()),
    })
}

fn string(n: &Node<'_>, env: &dyn Fn(&str) -> Option<String>) -> Result<String, ConfigError> {
    expand(n.str()?, n, env)
}

/// A header pattern is a path or glob under the project, an include
/// directory or the system's (absolute for a system header); a relative one
/// may not climb out through `..`.
fn check_pattern(pattern: &str, n: &Node<'_>) -> Result<(), ConfigError> {
    let p = Path::new(pattern);
    if !p.is_absolute() && super::paths::normalize(p).is_none_or(|n| n.as_os_str().is_empty()) {
        return Err(n.error(format!(
            "the header pattern '{pattern}' climbs out of the directory it is found in: give a path under the project or an include directory, or an absolute path"
        )));
    }
    Ok(())
}

impl HeaderkitConfig {
    /// Reads `[tool.headerkit]`; `dir` confines the paths it names (the
    /// output and the store go inside the project), `env` looks up
    /// environment variables.
    pub fn from_node(
        t: &Node<'_>,
        dir: &ProjectDir,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<HeaderkitConfig, ConfigError> {
        t.only_keys(&[
            "backend",
            "writers",
            "include_dirs",
            "defines",
            "backend_args",
            "plugins",
            "target",
            "store_dir",
            "exclude",
            "headers",
            "output",
            "cache",
            "rename",
            "writer",
        ])?;
        let mut c = HeaderkitConfig::default();
        if let Some(b) = t.get("backend")? {
            let v = string(&b, env)?;
            if v != "libclang" {
                return Err(b.error(format!(
                    "backend '{v}' is not supported: headerwheel parses headers with libclang"
                )));
            }
        }
        if let Some(w) = t.get("writers")? {
            for (name, n) in w.str_array()? {
                if name.contains(':') {
                    return Err(n.error(format!(
                        "writers must be bare names (no :path syntax), got '{name}'"
                    )));
                }
            }
        }
        c.include_dirs = dirs(t.get("include_dirs")?, dir, env)?;
        c.defines = strs(t.get("defines")?, env)?;
        c.backend_args = strs(t.get("backend_args")?, env)?;
        c.exclude = strs(t.get("exclude")?, env)?;
        if let Some(s) = t.get("store_dir")? {
            let rel = inside(&s, "the store", dir, env)?;
            c.store_dir = Some(rel.to_string_lossy().to_string());
        }
        if let Some(h) = t.get("headers")? {
            let entry = |n: &Node<'_>, pattern: String| -> Result<HeaderEntry, ConfigError> {
                n.only_keys(&["pattern", "include_dirs", "defines", "backend_args", "code"])?;
                Ok(HeaderEntry {
                    pattern,
                    code: n.get("code")?.map(|c| string(&c, env)).transpose()?,
                    include_dirs: dirs(n.get("include_dirs")?, dir, env)?,
                    defines: strs(n.get("defines")?, env)?,
                    backend_args: strs(n.get("backend_args")?, env)?,
                    key: n.key.clone(),
                })
            };
            match h.tables() {
                Ok(list) => {
                    for n in list {
                        let p = n
                            .get("pattern")?
                            .ok_or_else(|| n.error("each headers entry needs a 'pattern' key"))?;
                        let pattern = string(&p, env)?;
                        check_pattern(&pattern, &p)?;
                        c.headers.push(entry(&n, pattern)?);
                    }
                }
                Err(_) => {
                    for (path, n) in h.table()? {
                        let pattern = expand(&path, &n, env)?;
                        check_pattern(&pattern, &n)?;
                        c.headers.push(entry(&n, pattern)?);
                    }
                }
            }
        }
        if let Some(o) = t.get("output")? {
            for (writer, n) in o.table()? {
                let rel = inside(&n, "the output", dir, env)?;
                if writer == "cffi" {
                    c.output_cffi = Some(rel);
                }
            }
        }
        if let Some(w) = t.get("writer")? {
            for (name, n) in w.table()? {
                if name != "cffi" {
                    continue;
                }
                n.only_keys(&[
                    "define_patterns",
                    "extra_cdef",
                    "exclude_patterns",
                    "keep_deprecated",
                    "macros",
                ])?;
                if let Some(k) = n.get("keep_deprecated")? {
                    c.keep_deprecated = k.bool()?;
                }
                if let Some(m) = n.get("macros")? {
                    let v = m.str()?;
                    if crate::cdef::writer::MacroSelection::parse(v).is_none() {
                        return Err(m.error(format!(
                            "expected \"all-library\" or \"patterns\", found {v:?}"
                        )));
                    }
                    c.macros = Some(v.to_string());
                }
                for (p, pn) in n
                    .get("define_patterns")?
                    .map(|x| x.str_array())
                    .transpose()?
                    .unwrap_or_default()
                {
                    regex::Regex::new(&p)
                        .map_err(|e| pn.error(format!("invalid regular expression: {e}")))?;
                    c.define_patterns.push(p);
                }
                for (p, pn) in n
                    .get("exclude_patterns")?
                    .map(|x| x.str_array())
                    .transpose()?
                    .unwrap_or_default()
                {
                    regex::Regex::new(&p)
                        .map_err(|e| pn.error(format!("invalid regular expression: {e}")))?;
                    c.exclude_patterns.push(p);
                }
                c.extra_cdef = strs(n.get("extra_cdef")?, env)?;
            }
        }
        Ok(c)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::project::toml::TomlFile;
    use std::path::Path;

    fn load(
        text: &str,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<HeaderkitConfig, ConfigError> {
        let f = TomlFile::parse(text.to_string(), Path::new("pyproject.toml")).unwrap();
        let t = f
            .root()
            .get("tool")
            .unwrap()
            .unwrap()
            .get("headerkit")
            .unwrap()
            .unwrap();
        HeaderkitConfig::from_node(&t, &ProjectDir::new(Path::new(".")), env)
    }

    #[test]
    fn macros_default_to_the_librarys_unless_patterns_name_them() {
        use crate::cdef::writer::MacroSelection;
        let none = |_: &str| None;
        let c = load("[tool.headerkit]\n", &none).unwrap();
        assert_eq!(c.macro_selection(), MacroSelection::AllLibrary);
        let c = load(
            "[tool.headerkit.writer.cffi]\ndefine_patterns = [\"^X_\"]\n",
            &none,
        )
        .unwrap();
        assert_eq!(c.macro_selection(), MacroSelection::Patterns);
        let c = load(
            "[tool.headerkit.writer.cffi]\ndefine_patterns = [\"^X_\"]\nmacros = \"all-library\"\n",
            &none,
        )
        .unwrap();
        assert_eq!(c.macro_selection(), MacroSelection::AllLibrary);
        let e = load("[tool.headerkit.writer.cffi]\nmacros = \"some\"\n", &none).unwrap_err();
        assert!(
            e.to_string()
                .contains("expected \"all-library\" or \"patterns\", found \"some\""),
            "{e}"
        );
    }

    #[test]
    fn keep_deprecated_is_a_boolean_off_by_default() {
        let none = |_: &str| None;
        assert!(!load("[tool.headerkit]\n", &none).unwrap().keep_deprecated);
        let c = load(
            "[tool.headerkit.writer.cffi]\nkeep_deprecated = true\n",
            &none,
        )
        .unwrap();
        assert!(c.keep_deprecated);
        assert!(
            load(
                "[tool.headerkit.writer.cffi]\nkeep_deprecated = \"yes\"\n",
                &none
            )
            .is_err()
        );
    }

    #[test]
    fn the_documented_nng_example() {
        let text = r#"
[tool.headerkit]
backend = "libclang"
writers = ["cffi"]

[[tool.headerkit.headers]]
pattern = "include/nng/nng.h"
include_dirs = ["${NNG_INCLUDE_DIR}"]

[tool.headerkit.writer.cffi]
define_patterns = ["NNG_FLAG_\\w+", "NNG_\\w+_VERSION", "NNG_MAXADDRLEN"]
extra_cdef = ['extern "Python" void _async_complete(void *);']

[tool.headerkit.output]
cffi = "nng/_nng.cdef.txt"
"#;
        let env = |v: &str| (v == "NNG_INCLUDE_DIR").then(|| "/opt/nng/include".to_string());
        let c = load(text, &env).unwrap();
        assert_eq!(c.headers[0].include_dirs, vec!["/opt/nng/include"]);
        assert_eq!(c.define_patterns.len(), 3);
        assert_eq!(
            c.output_cffi.as_deref(),
            Some(Path::new("nng/_nng.cdef.txt"))
        );
        let e = load(text, &|_| None).unwrap_err().to_string();
        assert!(
            e.contains("pyproject.toml:8:") && e.contains("'NNG_INCLUDE_DIR' is not set"),
            "{e}"
        );
    }
}
