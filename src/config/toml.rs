//! A spanned view of a TOML document: every value and key remembers its byte
//! range, so validation errors can point at `file:line:col` with a caret.

use std::ops::Range;
use std::path::{Path, PathBuf};

use super::ConfigError;

/// A TOML value with the byte range it was written at.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    /// Where the value is in the file.
    pub span: Range<usize>,
    /// The value.
    pub value: Value,
}

/// A TOML value; tables and inline tables are one kind here.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// A string.
    Str(String),
    /// An integer.
    Int(i64),
    /// A float.
    Float(f64),
    /// A boolean.
    Bool(bool),
    /// A date or time (kept as written).
    Datetime(String),
    /// An array (or array of tables).
    Array(Vec<Node>),
    /// A table, in document order.
    Table(Vec<Entry>),
}

/// One `key = value` of a table.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    /// The key as written.
    pub key: String,
    /// Where the key is in the file.
    pub key_span: Range<usize>,
    /// The value.
    pub node: Node,
}

impl Value {
    /// The TOML type name, for "expected X, found Y" messages.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Str(_) => "a string",
            Value::Int(_) => "an integer",
            Value::Float(_) => "a float",
            Value::Bool(_) => "a boolean",
            Value::Datetime(_) => "a date-time",
            Value::Array(_) => "an array",
            Value::Table(_) => "a table",
        }
    }
}

/// A parsed file plus what is needed to point into it.
#[derive(Debug, Clone)]
pub struct Source {
    /// The file (as shown in messages).
    pub path: PathBuf,
    /// Its text.
    pub text: String,
}

impl Source {
    /// 1-based line and column (in characters) of byte offset `at`.
    pub fn line_col(&self, at: usize) -> (usize, usize) {
        let at = at.min(self.text.len());
        let before = &self.text[..at];
        let line = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        let col = self.text[line_start..at].chars().count() + 1;
        (line, col)
    }

    /// An error at `span` about `key` (a dotted path such as `project.license`).
    pub fn error(&self, span: &Range<usize>, key: &str, message: impl Into<String>) -> ConfigError {
        let (line, col) = self.line_col(span.start);
        let line_start = self.text[..span.start.min(self.text.len())]
            .rfind('\n')
            .map_or(0, |i| i + 1);
        let line_end = self.text[line_start..]
            .find('\n')
            .map_or(self.text.len(), |i| line_start + i);
        let line_text = self.text[line_start..line_end].trim_end_matches('\r');
        // The caret covers the span, clipped to its first line.
        let end = span.end.clamp(span.start, line_end);
        let width = self.text[span.start.min(line_end)..end].chars().count().max(1);
        let gutter = " ".repeat(line.to_string().len());
        let snippet = format!(
            "{gutter} |\n{line} | {line_text}\n{gutter} | {}{}",
            " ".repeat(col - 1),
            "^".repeat(width)
        );
        ConfigError::Invalid {
            file: self.path.clone(),
            line,
            col,
            key: key.to_string(),
            message: message.into(),
            snippet,
        }
    }
}

/// Parses `text` (read from `path`) into a spanned tree.
pub fn parse(path: &Path, text: String) -> Result<(Source, Node), ConfigError> {
    let source = Source {
        path: path.to_path_buf(),
        text,
    };
    let doc = match toml_edit::Document::parse(source.text.clone()) {
        Ok(doc) => doc,
        Err(e) => {
            let span = e.span().unwrap_or(0..0);
            let message = e.message().trim().to_string();
            return Err(source.error(&span, "", format!("invalid TOML: {message}")));
        }
    };
    let root = table_node(doc.as_table(), 0..source.text.len());
    Ok((source, root))
}

fn table_entries<'a>(
    iter: impl Iterator<Item = (&'a toml_edit::Key, Node)>,
) -> Vec<Entry> {
    iter.map(|(k, node)| Entry {
        key: k.get().to_string(),
        key_span: k.span().unwrap_or(node.span.clone()),
        node,
    })
    .collect()
}

fn table_node(table: &toml_edit::Table, fallback: Range<usize>) -> Node {
    let span = table.span().unwrap_or(fallback.clone());
    let entries = table_entries(table.iter().filter_map(|(k, item)| {
        let key = table.key(k)?;
        item_node(item, span.clone()).map(|n| (key, n))
    }));
    Node {
        span,
        value: Value::Table(entries),
    }
}

fn item_node(item: &toml_edit::Item, fallback: Range<usize>) -> Option<Node> {
    match item {
        toml_edit::Item::None => None,
        toml_edit::Item::Value(v) => Some(value_node(v, fallback)),
        toml_edit::Item::Table(t) => Some(table_node(t, fallback)),
        toml_edit::Item::ArrayOfTables(a) => {
            let span = a.span().unwrap_or(fallback.clone());
            let items = a.iter().map(|t| table_node(t, span.clone())).collect();
            Some(Node {
                span,
                value: Value::Array(items),
            })
        }
    }
}

fn value_node(v: &toml_edit::Value, fallback: Range<usize>) -> Node {
    let span = v.span().unwrap_or(fallback);
    let value = match v {
        toml_edit::Value::String(s) => Value::Str(s.value().clone()),
        toml_edit::Value::Integer(i) => Value::Int(*i.value()),
        toml_edit::Value::Float(f) => Value::Float(*f.value()),
        toml_edit::Value::Boolean(b) => Value::Bool(*b.value()),
        toml_edit::Value::Datetime(d) => Value::Datetime(d.value().to_string()),
        toml_edit::Value::Array(a) => {
            Value::Array(a.iter().map(|x| value_node(x, span.clone())).collect())
        }
        toml_edit::Value::InlineTable(t) => {
            let entries = table_entries(t.iter().filter_map(|(k, v)| {
                let key = t.key(k)?;
                Some((key, value_node(v, span.clone())))
            }));
            Value::Table(entries)
        }
    };
    Node { span, value }
}

/// Typed access to a table's entries, erroring with the key's path.
#[derive(Debug, Clone)]
pub struct TableView<'a> {
    /// The file, for errors.
    pub source: &'a Source,
    /// Dotted path of this table (`project`, `tool.headerwheel`).
    pub path: String,
    /// The table node.
    pub node: &'a Node,
    /// Its entries.
    pub entries: &'a [Entry],
}

impl<'a> TableView<'a> {
    /// Views `node` (which must be a table) at `path`.
    pub fn new(source: &'a Source, path: &str, node: &'a Node) -> Result<Self, ConfigError> {
        match &node.value {
            Value::Table(entries) => Ok(TableView {
                source,
                path: path.to_string(),
                node,
                entries,
            }),
            other => Err(source.error(
                &node.span,
                path,
                format!("expected a table, found {}", other.type_name()),
            )),
        }
    }

    /// The dotted path of `key` in this table.
    pub fn key_path(&self, key: &str) -> String {
        let quoted = if key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            key.to_string()
        } else {
            format!("\"{key}\"")
        };
        if self.path.is_empty() {
            quoted
        } else {
            format!("{}.{quoted}", self.path)
        }
    }

    /// The entry for `key`, if present.
    pub fn entry(&self, key: &str) -> Option<&'a Entry> {
        self.entries.iter().find(|e| e.key == key)
    }

    /// The value of `key`, if present.
    pub fn get(&self, key: &str) -> Option<&'a Node> {
        self.entry(key).map(|e| &e.node)
    }

    /// Errors on the first key not in `allowed`.
    pub fn deny_unknown(&self, allowed: &[&str]) -> Result<(), ConfigError> {
        for e in self.entries {
            if !allowed.contains(&e.key.as_str()) {
                let mut known: Vec<&str> = allowed.to_vec();
                known.sort_unstable();
                return Err(self.source.error(
                    &e.key_span,
                    &self.key_path(&e.key),
                    format!(
                        "unknown key `{}` in [{}] (expected one of: {})",
                        e.key,
                        self.path,
                        known.join(", ")
                    ),
                ));
            }
        }
        Ok(())
    }

    /// An error at `node`, about `key` of this table.
    pub fn error_at(&self, node: &Node, key: &str, message: impl Into<String>) -> ConfigError {
        self.source.error(&node.span, &self.key_path(key), message)
    }

    fn wrong_type(&self, key: &str, node: &Node, expected: &str) -> ConfigError {
        self.error_at(
            node,
            key,
            format!("expected {expected}, found {}", node.value.type_name()),
        )
    }

    /// The string at `key`, if present.
    pub fn str(&self, key: &str) -> Result<Option<(&'a str, &'a Node)>, ConfigError> {
        match self.get(key) {
            None => Ok(None),
            Some(n) => match &n.value {
                Value::Str(s) => Ok(Some((s.as_str(), n))),
                _ => Err(self.wrong_type(key, n, "a string")),
            },
        }
    }

    /// The boolean at `key`, if present.
    pub fn bool(&self, key: &str) -> Result<Option<bool>, ConfigError> {
        match self.get(key) {
            None => Ok(None),
            Some(n) => match &n.value {
                Value::Bool(b) => Ok(Some(*b)),
                _ => Err(self.wrong_type(key, n, "a boolean")),
            },
        }
    }

    /// The array of strings at `key` (empty if absent), each with its node.
    pub fn str_array(&self, key: &str) -> Result<Vec<(&'a str, &'a Node)>, ConfigError> {
        match self.get(key) {
            None => Ok(Vec::new()),
            Some(n) => match &n.value {
                Value::Array(items) => items
                    .iter()
                    .map(|item| match &item.value {
                        Value::Str(s) => Ok((s.as_str(), item)),
                        _ => Err(self.wrong_type(key, item, "a string")),
                    })
                    .collect(),
                _ => Err(self.wrong_type(key, n, "an array of strings")),
            },
        }
    }

    /// The sub-table at `key`, if present.
    pub fn table(&self, key: &str) -> Result<Option<TableView<'a>>, ConfigError> {
        match self.get(key) {
            None => Ok(None),
            Some(n) => match &n.value {
                Value::Table(entries) => Ok(Some(TableView {
                    source: self.source,
                    path: self.key_path(key),
                    node: n,
                    entries,
                })),
                _ => Err(self.wrong_type(key, n, "a table")),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_col_counts_characters() {
        let s = Source {
            path: "p.toml".into(),
            text: "a = 1\nbé = \"x\"\n".into(),
        };
        assert_eq!(s.line_col(0), (1, 1));
        assert_eq!(s.line_col(6), (2, 1));
        // `=` after the two-byte é is column 4.
        assert_eq!(s.line_col(10), (2, 4));
    }

    #[test]
    fn syntax_error_points_at_the_line() {
        let err = parse(Path::new("pyproject.toml"), "[project]\nname = \n".into()).unwrap_err();
        let text = err.to_string();
        assert!(text.starts_with("pyproject.toml:2:"), "{text}");
        assert!(text.contains("invalid TOML"), "{text}");
        assert!(text.contains("2 | name = "), "{text}");
    }

    #[test]
    fn spans_of_nested_values() {
        let text = "[project]\nname = \"x\"\ndeps = [\"a\", \"b\"]\n";
        let (src, root) = parse(Path::new("p.toml"), text.into()).unwrap();
        let top = TableView::new(&src, "", &root).unwrap();
        let project = top.table("project").unwrap().unwrap();
        assert_eq!(project.path, "project");
        let deps = project.str_array("deps").unwrap();
        assert_eq!(deps[1].0, "b");
        assert_eq!(src.line_col(deps[1].1.span.start), (3, 14));
    }
}
