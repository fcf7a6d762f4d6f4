//! Glob patterns over project-relative, `/`-separated paths (`*`, `?`,
//! `**`, `[...]`), as PEP 639 `license-files` and the sdist include/exclude
//! lists use them.

use std::path::Path;

use regex::Regex;

/// Directories never walked when globbing a project.
pub const SKIPPED_DIRS: &[&str] = &[
    ".git", ".hg", ".svn", ".venv", "venv", "__pycache__", ".tox", ".nox",
    ".pytest_cache", ".mypy_cache", "node_modules",
];

/// Translates a glob into an anchored regex over a relative path.
pub fn glob_regex(glob: &str) -> Result<Regex, String> {
    let mut re = String::from("^");
    let chars: Vec<char> = glob.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match c {
            '*' if chars.get(i + 1) == Some(&'*') => {
                let at_start = i == 0 || chars[i - 1] == '/';
                if at_start && chars.get(i + 2) == Some(&'/') {
                    re.push_str("(?:.*/)?");
                    i += 3;
                } else {
                    re.push_str(".*");
                    i += 2;
                }
                continue;
            }
            '*' => re.push_str("[^/]*"),
            '?' => re.push_str("[^/]"),
            '[' => {
                let end = chars[i + 1..]
                    .iter()
                    .position(|&d| d == ']')
                    .ok_or_else(|| format!("`{glob}`: missing `]`"))?;
                let mut class: String = chars[i + 1..i + 1 + end].iter().collect();
                if let Some(rest) = class.strip_prefix('!') {
                    class = format!("^{rest}");
                }
                re.push('[');
                re.push_str(&class.replace('\\', "\\\\"));
                re.push(']');
                i += end + 2;
                continue;
            }
            _ => re.push_str(&regex::escape(&c.to_string())),
        }
        i += 1;
    }
    re.push('$');
    Regex::new(&re).map_err(|e| format!("`{glob}` is not a valid glob: {e}"))
}

/// Every file under `root` (relative, `/`-separated, sorted), skipping
/// [`SKIPPED_DIRS`].
pub fn walk_files(root: &Path) -> std::io::Result<Vec<String>> {
    let mut out = Vec::new();
    let mut stack = vec![String::new()];
    while let Some(rel) = stack.pop() {
        let dir = if rel.is_empty() { root.to_path_buf() } else { root.join(&rel) };
        for entry in std::fs::read_dir(&dir)? {
            let entry = entry?;
            let name = entry.file_name().to_string_lossy().into_owned();
            let path = if rel.is_empty() { name.clone() } else { format!("{rel}/{name}") };
            let ft = entry.file_type()?;
            if ft.is_dir() {
                if !SKIPPED_DIRS.contains(&name.as_str()) {
                    stack.push(path);
                }
            } else if ft.is_file() || (ft.is_symlink() && entry.path().is_file()) {
                out.push(path);
            }
        }
    }
    out.sort();
    Ok(out)
}

/// The files under `root` matching `glob` (relative, sorted).
pub fn glob_files(root: &Path, glob: &str) -> Result<Vec<String>, String> {
    let re = glob_regex(glob)?;
    let files = walk_files(root).map_err(|e| format!("cannot list {}: {e}", root.display()))?;
    Ok(files.into_iter().filter(|f| re.is_match(f)).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs() {
        let re = glob_regex("LICEN[CS]E*").unwrap();
        assert!(re.is_match("LICENSE"));
        assert!(re.is_match("LICENCE.txt"));
        assert!(!re.is_match("sub/LICENSE"));
        let re = glob_regex("**/*.h").unwrap();
        assert!(re.is_match("a.h"));
        assert!(re.is_match("x/y/a.h"));
        assert!(!re.is_match("a.c"));
        let re = glob_regex("licenses/**").unwrap();
        assert!(re.is_match("licenses/a/b"));
        assert!(glob_regex("[abc").is_err());
    }
}
