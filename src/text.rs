//! Text read from files: UTF-8, or an error that says where it is not, and
//! the caret under a character of a quoted line.

use std::fmt;
use std::path::{Path, PathBuf};

/// A file that is not UTF-8: where its first invalid byte is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidUtf8 {
    /// The file, as shown to the user.
    pub file: PathBuf,
    /// 1-based line of the invalid byte.
    pub line: usize,
    /// 1-based column of the invalid byte, in characters (what comes before
    /// it on its line is valid UTF-8).
    pub col: usize,
    /// The invalid byte.
    pub byte: u8,
    /// The line, invalid bytes shown as U+FFFD.
    pub line_text: String,
}

impl InvalidUtf8 {
    /// The message without the location.
    pub fn message(&self) -> String {
        format!(
            "invalid UTF-8 (byte 0x{:02x}): the file must be UTF-8 text",
            self.byte
        )
    }
}

impl fmt::Display for InvalidUtf8 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = self.line_text.trim_end();
        write!(
            f,
            "{}:{}:{}: {}\n    {text}\n    {}^",
            self.file.display(),
            self.line,
            self.col,
            self.message(),
            caret_pad(text, self.col)
        )
    }
}

impl std::error::Error for InvalidUtf8 {}

/// `bytes` (the content of `file`) as text, or where in it the first byte
/// that is not UTF-8 is.
pub fn utf8(bytes: Vec<u8>, file: &Path) -> Result<String, InvalidUtf8> {
    let err = match String::from_utf8(bytes) {
        Ok(text) => return Ok(text),
        Err(e) => e,
    };
    let at = err.utf8_error().valid_up_to();
    let bytes = err.as_bytes();
    // Everything before `at` is valid: it can be sliced as text.
    let before = std::str::from_utf8(&bytes[..at]).expect("valid up to `at`");
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let line_end = bytes[at..]
        .iter()
        .position(|&b| b == b'\n')
        .map_or(bytes.len(), |i| i + at);
    Err(InvalidUtf8 {
        file: file.to_path_buf(),
        line: before.matches('\n').count() + 1,
        col: before[line_start..].chars().count() + 1,
        byte: bytes[at],
        line_text: String::from_utf8_lossy(&bytes[line_start..line_end]).into_owned(),
    })
}

/// What goes before a caret under 1-based character column `col` of `line`:
/// a space per character (a tab for a tab, so that the caret lines up).
pub fn caret_pad(line: &str, col: usize) -> String {
    line.chars()
        .take(col.saturating_sub(1))
        .map(|c| if c == '\t' { '\t' } else { ' ' })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bad(bytes: &[u8]) -> String {
        utf8(bytes.to_vec(), Path::new("src/m.cdef"))
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn valid_text_is_returned() {
        assert_eq!(
            utf8(b"int x;\n".to_vec(), Path::new("m")).unwrap(),
            "int x;\n"
        );
        assert_eq!(
            utf8("é\u{feff}".into(), Path::new("m")).unwrap(),
            "é\u{feff}"
        );
    }

    #[test]
    fn the_first_invalid_byte_is_located() {
        assert_eq!(
            bad(b"int x;\nint \xff y;\n"),
            "src/m.cdef:2:5: invalid UTF-8 (byte 0xff): the file must be UTF-8 text\n    int \u{fffd} y;\n        ^"
        );
        // Columns count characters; a truncated sequence is invalid at its
        // first byte.
        assert_eq!(
            bad("/* é */ int \t"
                .bytes()
                .chain(*b"\xc3(")
                .collect::<Vec<_>>()
                .as_slice()),
            "src/m.cdef:1:14: invalid UTF-8 (byte 0xc3): the file must be UTF-8 text\n    /* é */ int \t\u{fffd}(\n                \t^"
        );
        assert_eq!(
            bad(b"\xfe"),
            "src/m.cdef:1:1: invalid UTF-8 (byte 0xfe): the file must be UTF-8 text\n    \u{fffd}\n    ^"
        );
    }
}
