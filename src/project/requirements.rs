//! The standards of `[project]`'s strings, through the crates that own them:
//! PEP 440 versions and specifiers (`pep440_rs`), PEP 508 requirements and
//! their markers (`pep508_rs`). The caller places the message at its key.

use super::metadata::normalize_name;

/// Normalizes a PEP 440 version (`1.0-Alpha.1` → `1.0a1`), or `None` if it
/// is not one: parsed by `pep440_rs`, whose `Display` is the normal form.
pub fn normalize_version(v: &str) -> Option<String> {
    v.parse::<pep440_rs::Version>().ok().map(|v| v.to_string())
}

/// A PEP 508 requirement, parsed by `pep508_rs`; its error names the input
/// and what the parser expected where.
fn parse_requirement(r: &str) -> Result<pep508_rs::Requirement, String> {
    r.parse::<pep508_rs::Requirement>().map_err(|e| {
        let at = e.input.get(e.start..e.start + e.len.max(1)).unwrap_or("");
        if at.is_empty() || e.start >= e.input.len() {
            format!("'{r}' is not a valid requirement (PEP 508): {}", e.message)
        } else {
            format!(
                "'{r}' is not a valid requirement (PEP 508): {} (at '{at}', column {})",
                e.message,
                e.start + 1
            )
        }
    })
}

/// The normalized project name a PEP 508 requirement names (`CFFI>=1; ...`
/// → `cffi`); the leading name-like word of text that is not a requirement.
pub fn requirement_name(req: &str) -> String {
    match req.parse::<pep508_rs::Requirement>() {
        Ok(r) => r.name.to_string(),
        Err(_) => normalize_name(
            req.trim()
                .split(|c: char| !(c.is_alphanumeric() || "-_.".contains(c)))
                .next()
                .unwrap_or(""),
        ),
    }
}

/// Checks a version specifier set (`>=3.9,<4`), each specifier parsed by
/// `pep440_rs` (one at a time, so the message names the one that is wrong).
pub fn check_specifiers(s: &str) -> Result<(), String> {
    if s.trim().is_empty() {
        return Ok(());
    }
    for part in s.split(',') {
        if let Err(e) = part.trim().parse::<pep440_rs::VersionSpecifier>() {
            return Err(format!(
                "'{}' is not a valid version specifier (PEP 440): {e}",
                part.trim()
            ));
        }
    }
    Ok(())
}

/// The lowest `3.N` that a `requires-python` specifier set allows through a
/// `>=`, `~=` or `==` on a `3.N` release, if it says (or parses).
pub fn min_python(requires: &str) -> Option<u32> {
    use pep440_rs::{Operator, VersionSpecifiers};
    let specifiers: VersionSpecifiers = requires.parse().ok()?;
    specifiers
        .iter()
        .filter(|s| {
            matches!(
                s.operator(),
                Operator::GreaterThanEqual
                    | Operator::TildeEqual
                    | Operator::Equal
                    | Operator::EqualStar
            )
        })
        .filter_map(|s| match s.version().release() {
            [3, minor, ..] => u32::try_from(*minor).ok(),
            _ => None,
        })
        .max()
}

/// Checks a PEP 508 requirement (name, extras, version or URL, and marker,
/// whose variables, operators and values `pep508_rs` checks).
pub fn check_requirement(r: &str) -> Result<(), String> {
    parse_requirement(r).map(|_| ())
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
        for bad in [
            "",
            ">=1",
            "foo >= one",
            "foo; bogus == '1'",
            "foo[b@d]",
            // Words a marker may hold, but not a marker: no operator.
            "foo; python_version \"3\"",
            "foo; python_version < \"3\" and",
            "foo ;",
        ] {
            assert!(check_requirement(bad).is_err(), "{bad} accepted");
        }
    }

    #[test]
    fn requirement_errors_say_where() {
        let e = check_requirement("foo; python_version \"3\"").unwrap_err();
        assert!(
            e.starts_with("'foo; python_version \"3\"' is not a valid requirement (PEP 508): "),
            "{e}"
        );
        let e = check_requirement("foo >= one").unwrap_err();
        assert!(!e.contains('\n'), "{e}");
    }

    #[test]
    fn specifier_errors_name_the_specifier() {
        check_specifiers(">=3.9, <4").unwrap();
        check_specifiers("==3.*").unwrap();
        let e = check_specifiers(">=3.9,>=three").unwrap_err();
        assert!(
            e.starts_with("'>=three' is not a valid version specifier (PEP 440): "),
            "{e}"
        );
        assert!(check_specifiers(">=3.*").is_err());
        assert!(check_specifiers("3.9").is_err());
    }

    #[test]
    fn min_python_is_the_highest_floor() {
        assert_eq!(min_python(">=3.9"), Some(9));
        assert_eq!(min_python(">=3.8, !=3.9.1, >=3.10"), Some(10));
        assert_eq!(min_python("~=3.11"), Some(11));
        assert_eq!(min_python("==3.12.*"), Some(12));
        assert_eq!(min_python("==3.*"), None);
        assert_eq!(min_python("<4"), None);
        assert_eq!(min_python(">3.8"), None);
        assert_eq!(min_python("bogus"), None);
    }
}
