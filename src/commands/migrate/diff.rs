//! Unified diffs of the files a migration would write (`--dry-run`).

use super::PlannedFile;

/// The unified diff of `f` (`/dev/null` for a new file), or an empty
/// string when nothing changes.
pub fn unified(f: &PlannedFile) -> String {
    let old = f.old.as_deref().unwrap_or("");
    if f.old.as_deref() == Some(f.new.as_str()) {
        return String::new();
    }
    let path = f.path.to_string_lossy().replace('\\', "/");
    let a = if f.old.is_some() {
        format!("a/{path}")
    } else {
        "/dev/null".to_string()
    };
    let b = format!("b/{path}");
    similar::TextDiff::from_lines(old, f.new.as_str())
        .unified_diff()
        .context_radius(3)
        .missing_newline_hint(true)
        .header(&a, &b)
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_and_changed_files() {
        let f = PlannedFile {
            path: "x.txt".into(),
            old: None,
            new: "a\n".into(),
        };
        insta::assert_snapshot!(unified(&f), @r"
        --- /dev/null
        +++ b/x.txt
        @@ -0,0 +1 @@
        +a
        ");
        let f = PlannedFile {
            path: "x.txt".into(),
            old: Some("a\nb\n".into()),
            new: "a\nc\n".into(),
        };
        insta::assert_snapshot!(unified(&f), @r"
        --- a/x.txt
        +++ b/x.txt
        @@ -1,2 +1,2 @@
         a
        -b
        +c
        ");
        let same = PlannedFile {
            path: "x.txt".into(),
            old: Some("a\n".into()),
            new: "a\n".into(),
        };
        assert_eq!(unified(&same), "");
    }
}
