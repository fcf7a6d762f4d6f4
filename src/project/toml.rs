//! Reading `pyproject.toml` with positions: every value keeps its span, so
//! a wrong value is reported with its file, line, column, key and a caret.

use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};

use toml_edit::{Item, TableLike, Value};

/// A configuration error: what is wrong, at which key, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    /// The file, as shown to the user.
    pub file: PathBuf,
    /// 1-based line and column, when the position is known.
    pub position: Option<(usize, usize)>,
    /// The dotted key (`project.version`), empty for file-level errors.
    pub key: String,
    /// The message.
    pub message: String,
    /// The source line and the width of the caret under it (boxed: errors
    /// travel by value through every `Result` of the configuration).
    pub snippet: Option<Box<(String, usize)>>,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file.display())?;
        if let Some((l, c)) = self.position {
            write!(f, ":{l}:{c}")?;
        }
        if self.key.is_empty() {
            write!(f, ": {}", self.message)?;
        } else {
            write!(f, ": {}: {}", self.key, self.message)?;
        }
        if let (Some(snippet), Some((l, c))) = (&self.snippet, self.position) {
            let (line_text, width) = &**snippet;
            let gutter = l.to_string().len();
            let pad: String = line_text
                .chars()
                .take(c.saturating_sub(1))
                .map(|ch| if ch == '\t' { '\t' } else { ' ' })
                .collect();
            write!(
                f,
                "\n{:gutter$} |\n{l} | {line_text}\n{:gutter$} | {pad}{}",
                "",
                "",
                "^".repeat((*width).max(1)),
                gutter = gutter
            )?;
        }
        Ok(())
    }
}

impl std::error::Error for ConfigError {}

/// A parsed TOML file with its text, for located errors.
#[derive(Debug)]
pub struct TomlFile {
    /// The file as shown in messages.
    pub display: PathBuf,
    /// Its text.
    pub text: String,
    /// The document.
    pub doc: toml_edit::Document<String>,
}

impl TomlFile {
    /// Reads and parses `path`; `display` is how messages name it.
    pub fn read(path: &Path, display: &Path) -> Result<TomlFile, ConfigError> {
        let bytes = std::fs::read(path).map_err(|e| ConfigError {
            file: display.to_path_buf(),
            position: None,
            key: String::new(),
            message: format!("cannot read: {e}"),
            snippet: None,
        })?;
        let text = crate::text::utf8(bytes, display).map_err(|e| ConfigError {
            file: e.file.clone(),
            position: Some((e.line, e.col)),
            key: String::new(),
            message: e.message(),
            snippet: Some(Box::new((e.line_text.clone(), 1))),
        })?;
        Self::parse(text, display)
    }

    /// Parses `text`.
    pub fn parse(text: String, display: &Path) -> Result<TomlFile, ConfigError> {
        match toml_edit::Document::parse(text.clone()) {
            Ok(doc) => Ok(TomlFile {
                display: display.to_path_buf(),
                text,
                doc,
            }),
            Err(e) => {
                let span = e.span();
                let msg = e.message().trim().to_string();
                let tmp = TomlFile {
                    display: display.to_path_buf(),
                    text: text.clone(),
                    doc: toml_edit::Document::parse(String::new()).expect("empty TOML parses"),
                };
                Err(tmp.error(span, "", format!("invalid TOML: {msg}")))
            }
        }
    }

    /// The root table.
    pub fn root(&self) -> Node<'_> {
        Node {
            file: self,
            item: NodeItem::Item(self.doc.as_item()),
            key: String::new(),
            span: None,
        }
    }

    /// An error at `span` for `key`.
    pub fn error(
        &self,
        span: Option<Range<usize>>,
        key: &str,
        message: impl Into<String>,
    ) -> ConfigError {
        let (position, snippet) = match span {
            Some(r) => {
                let start = r.start.min(self.text.len());
                let line_start = self.text[..start].rfind('\n').map_or(0, |i| i + 1);
                let line_end = self.text[start..]
                    .find('\n')
                    .map_or(self.text.len(), |i| i + start);
                let line_no = self.text[..start].matches('\n').count() + 1;
                let col = self.text[line_start..start].chars().count() + 1;
                let end = r.end.min(line_end).max(start);
                let width = self.text[start..end].chars().count();
                (
                    Some((line_no, col)),
                    Some(Box::new((
                        self.text[line_start..line_end]
                            .trim_end_matches('\r')
                            .to_string(),
                        width,
                    ))),
                )
            }
            None => (None, None),
        };
        ConfigError {
            file: self.display.clone(),
            position,
            key: key.to_string(),
            message: message.into(),
            snippet,
        }
    }
}

#[derive(Debug, Clone, Copy)]
enum NodeItem<'a> {
    Item(&'a Item),
    Value(&'a Value),
    Table(&'a toml_edit::Table),
}

/// A value in the file, with its dotted key and span.
#[derive(Debug, Clone)]
pub struct Node<'a> {
    file: &'a TomlFile,
    item: NodeItem<'a>,
    /// The dotted key.
    pub key: String,
    span: Option<Range<usize>>,
}

impl<'a> Node<'a> {
    fn value(&self) -> Option<&'a Value> {
        match self.item {
            NodeItem::Item(i) => i.as_value(),
            NodeItem::Value(v) => Some(v),
            NodeItem::Table(_) => None,
        }
    }

    fn span(&self) -> Option<Range<usize>> {
        self.span.clone().or_else(|| match self.item {
            NodeItem::Item(i) => i.span(),
            NodeItem::Value(v) => v.span(),
            NodeItem::Table(t) => t.span(),
        })
    }

    /// An error located at this value.
    pub fn error(&self, message: impl Into<String>) -> ConfigError {
        self.file.error(self.span(), &self.key, message)
    }

    fn kind(&self) -> &'static str {
        match self.item {
            NodeItem::Item(Item::Table(_)) | NodeItem::Table(_) => "a table",
            NodeItem::Item(Item::ArrayOfTables(_)) => "an array of tables",
            NodeItem::Item(Item::None) => "nothing",
            _ => match self.value() {
                Some(Value::String(_)) => "a string",
                Some(Value::Integer(_)) => "an integer",
                Some(Value::Float(_)) => "a float",
                Some(Value::Boolean(_)) => "a boolean",
                Some(Value::Datetime(_)) => "a date-time",
                Some(Value::Array(_)) => "an array",
                Some(Value::InlineTable(_)) => "a table",
                None => "a value",
            },
        }
    }

    fn table_like(&self) -> Option<&'a dyn TableLike> {
        match self.item {
            NodeItem::Item(i) => i.as_table_like(),
            NodeItem::Value(Value::InlineTable(t)) => Some(t as &dyn TableLike),
            NodeItem::Value(_) => None,
            NodeItem::Table(t) => Some(t as &dyn TableLike),
        }
    }

    fn child_key(&self, k: &str) -> String {
        let needs_quotes = k.is_empty()
            || !k
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
        let k = if needs_quotes {
            format!("\"{k}\"")
        } else {
            k.to_string()
        };
        if self.key.is_empty() {
            k
        } else {
            format!("{}.{k}", self.key)
        }
    }

    /// This value as a table, or an error.
    pub fn table(&self) -> Result<Vec<(String, Node<'a>)>, ConfigError> {
        let Some(t) = self.table_like() else {
            return Err(self.error(format!("expected a table, found {}", self.kind())));
        };
        Ok(t.iter()
            .map(|(k, item)| {
                let key_span = t.get_key_value(k).and_then(|(key, _)| key.span());
                (
                    k.to_string(),
                    Node {
                        file: self.file,
                        item: NodeItem::Item(item),
                        key: self.child_key(k),
                        span: item.span().or(key_span),
                    },
                )
            })
            .collect())
    }

    /// The member `k` of this table (an error if this is not a table).
    pub fn get(&self, k: &str) -> Result<Option<Node<'a>>, ConfigError> {
        Ok(self
            .table()?
            .into_iter()
            .find(|(name, _)| name == k)
            .map(|(_, n)| n))
    }

    /// Rejects keys of this table outside `allowed`, suggesting the closest.
    pub fn only_keys(&self, allowed: &[&str]) -> Result<(), ConfigError> {
        for (k, n) in self.table()? {
            if !allowed.contains(&k.as_str()) {
                let hint = closest(&k, allowed)
                    .map(|c| format!(" (did you mean '{c}'?)"))
                    .unwrap_or_default();
                let key_span = self
                    .table_like()
                    .and_then(|t| t.get_key_value(&k))
                    .and_then(|(key, _)| key.span());
                let mut e = n.error(format!(
                    "unknown key '{k}'{hint}; expected one of: {}",
                    allowed.join(", ")
                ));
                if let Some(s) = key_span {
                    e = self.file.error(Some(s), &n.key, e.message);
                }
                return Err(e);
            }
        }
        Ok(())
    }

    /// This value as a string.
    pub fn str(&self) -> Result<&'a str, ConfigError> {
        match self.value() {
            Some(Value::String(s)) => Ok(s.value().as_str()),
            _ => Err(self.error(format!("expected a string, found {}", self.kind()))),
        }
    }

    /// This value as a boolean.
    pub fn bool(&self) -> Result<bool, ConfigError> {
        match self.value() {
            Some(Value::Boolean(b)) => Ok(*b.value()),
            _ => Err(self.error(format!("expected true or false, found {}", self.kind()))),
        }
    }

    /// This value as an array of values.
    pub fn array(&self) -> Result<Vec<Node<'a>>, ConfigError> {
        match self.item {
            NodeItem::Item(Item::ArrayOfTables(a)) => Ok(a
                .iter()
                .enumerate()
                .map(|(i, t)| Node {
                    file: self.file,
                    item: NodeItem::Table(t),
                    key: format!("{}[{i}]", self.key),
                    span: t.span(),
                })
                .collect()),
            _ => match self.value() {
                Some(Value::Array(a)) => Ok(a
                    .iter()
                    .enumerate()
                    .map(|(i, v)| Node {
                        file: self.file,
                        item: NodeItem::Value(v),
                        key: format!("{}[{i}]", self.key),
                        span: v.span(),
                    })
                    .collect()),
                _ => Err(self.error(format!("expected an array, found {}", self.kind()))),
            },
        }
    }

    /// This value as an array of tables (`[[x]]` or an inline array).
    pub fn tables(&self) -> Result<Vec<Node<'a>>, ConfigError> {
        self.array()
    }

    /// This value as an array of strings.
    pub fn str_array(&self) -> Result<Vec<(String, Node<'a>)>, ConfigError> {
        self.array()?
            .into_iter()
            .map(|n| Ok((n.str()?.to_string(), n)))
            .collect()
    }
}

/// The allowed word closest to `word` (edit distance ≤ 2), for hints.
pub fn closest<'s>(word: &str, allowed: &[&'s str]) -> Option<&'s str> {
    fn dist(a: &str, b: &str) -> usize {
        let a: Vec<char> = a.chars().collect();
        let b: Vec<char> = b.chars().collect();
        let mut prev: Vec<usize> = (0..=b.len()).collect();
        for i in 1..=a.len() {
            let mut cur = vec![i; b.len() + 1];
            for j in 1..=b.len() {
                let cost = usize::from(a[i - 1] != b[j - 1]);
                cur[j] = (prev[j] + 1).min(cur[j - 1] + 1).min(prev[j - 1] + cost);
            }
            prev = cur;
        }
        prev[b.len()]
    }
    allowed
        .iter()
        .map(|a| (dist(word, a), *a))
        .filter(|(d, _)| *d <= (word.chars().count() / 3 + 1).max(2))
        .min()
        .map(|(_, a)| a)
}
