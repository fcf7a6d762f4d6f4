//! PEP 639 license expressions: SPDX, through the `spdx` crate and its
//! license list.

/// Checks and canonicalizes an SPDX license expression (PEP 639): the
/// identifiers are matched case-insensitively against the `spdx` crate's
/// license list and written in their canonical case, operators in upper
/// case; the expression is then parsed by `spdx` (deprecated identifiers
/// allowed, as in packaging's list).
pub fn check_license_expression(expr: &str) -> Result<String, String> {
    let canonical = canonical_license_case(expr)?;
    let mode = spdx::ParseMode {
        allow_deprecated: true,
        ..spdx::ParseMode::STRICT
    };
    let unknown = |term: &str, what: &str| {
        format!("'{term}' is not a known SPDX {what} identifier (see https://spdx.org/licenses/)")
    };
    spdx::Expression::parse_mode(&canonical, mode).map_err(|e| {
        let term = canonical.get(e.span.clone()).unwrap_or("");
        // The lexer calls any unknown word a term: after WITH it is an exception.
        let after_with = canonical[..e.span.start].trim_end().ends_with("WITH");
        match e.reason {
            spdx::error::Reason::UnknownException => unknown(term, "exception"),
            spdx::error::Reason::UnknownLicense | spdx::error::Reason::UnknownTerm => {
                unknown(term, if after_with { "exception" } else { "license" })
            }
            spdx::error::Reason::Empty => "the license expression is empty".to_string(),
            ref reason => {
                format!("'{expr}' is not a valid SPDX license expression ({reason} at '{term}')")
            }
        }
    })?;
    Ok(canonical)
}

/// `expr` with every word that names an SPDX license or exception (ignoring
/// case) in its canonical spelling, operators in upper case, one space
/// between words and none inside parentheses. A word after `WITH` is looked
/// up among the exceptions, any other among the licenses (a trailing `+`
/// kept); `LicenseRef-`/`DocumentRef-` words stay as written.
fn canonical_license_case(expr: &str) -> Result<String, String> {
    let mut words: Vec<String> = Vec::new();
    let mut after_with = false;
    for word in expr
        .replace('(', " ( ")
        .replace(')', " ) ")
        .split_whitespace()
    {
        let upper = word.to_ascii_uppercase();
        let canonical = match upper.as_str() {
            "(" | ")" => word.to_string(),
            "AND" | "OR" | "WITH" => upper.clone(),
            _ if upper.starts_with("LICENSEREF-") || upper.starts_with("DOCUMENTREF-") => {
                word.to_string()
            }
            _ if after_with => spdx::identifiers::EXCEPTIONS
                .iter()
                .find(|e| e.name.eq_ignore_ascii_case(word))
                .map_or_else(|| word.to_string(), |e| e.name.to_string()),
            _ => {
                let (base, plus) = match word.strip_suffix('+') {
                    Some(b) => (b, "+"),
                    None => (word, ""),
                };
                spdx::identifiers::LICENSES
                    .iter()
                    .find(|l| l.name.eq_ignore_ascii_case(base))
                    .map_or_else(|| word.to_string(), |l| format!("{}{plus}", l.name))
            }
        };
        after_with = upper == "WITH";
        words.push(canonical);
    }
    if words.is_empty() {
        return Err("the license expression is empty".into());
    }
    Ok(words.join(" ").replace("( ", "(").replace(" )", ")"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn license_expressions() {
        assert_eq!(check_license_expression("mit").unwrap(), "MIT");
        assert_eq!(
            check_license_expression(
                "(apache-2.0 or mit) AND GPL-2.0-or-later WITH classpath-exception-2.0"
            )
            .unwrap(),
            "(Apache-2.0 OR MIT) AND GPL-2.0-or-later WITH Classpath-exception-2.0"
        );
        assert_eq!(
            check_license_expression("MIT-ish").unwrap_err(),
            "'MIT-ish' is not a known SPDX license identifier (see https://spdx.org/licenses/)"
        );
        assert_eq!(
            check_license_expression("MIT WITH not-an-exception").unwrap_err(),
            "'not-an-exception' is not a known SPDX exception identifier (see https://spdx.org/licenses/)"
        );
        assert!(check_license_expression("MIT OR").is_err());
        assert!(check_license_expression("(MIT").is_err());
        assert!(check_license_expression("MIT)").is_err());
        assert!(check_license_expression(" ").is_err());
        assert_eq!(
            check_license_expression("LicenseRef-Mine or apache-2.0+").unwrap(),
            "LicenseRef-Mine OR Apache-2.0+"
        );
    }
}
