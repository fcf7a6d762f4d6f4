//! The writer's warnings as a build log shows them: a big header (OpenSSL's
//! `evp.h`: hundreds of deprecated functions left out) would bury the log,
//! so warnings of one kind are counted, the first few named, and the whole
//! list is shown only when asked for (`-C verbose=true`).

/// How many of one kind are said one by one; more are summarised.
const SHOWN: usize = 3;

/// One line per warning when `verbose` or when a kind has at most
/// [`SHOWN`] of them; otherwise, per kind (what is left out and why, the
/// names and quoted or bracketed parts aside), one line with the count, the
/// first one's reason and the first names with their locations. In the
/// order the kinds first appear.
pub fn summarise(warnings: &[String], verbose: bool) -> Vec<String> {
    if verbose {
        return warnings.to_vec();
    }
    let parsed: Vec<Option<Parsed<'_>>> = warnings.iter().map(|w| parse(w)).collect();
    let mut kinds: Vec<(String, Vec<usize>)> = Vec::new();
    for (i, p) in parsed.iter().enumerate() {
        let key = match p {
            Some(p) => format!("{} {}", p.what, kind_of(p.rest)),
            None => format!("\0{i}"),
        };
        match kinds.iter_mut().find(|(k, _)| *k == key) {
            Some((_, v)) => v.push(i),
            None => kinds.push((key, vec![i])),
        }
    }
    let mut out = Vec::new();
    for (_, members) in kinds {
        if members.len() <= SHOWN {
            out.extend(members.iter().map(|&i| warnings[i].clone()));
            continue;
        }
        let first = parsed[members[0]]
            .as_ref()
            .expect("a kind of several parsed");
        let named: Vec<String> = members
            .iter()
            .take(SHOWN)
            .filter_map(|&i| parsed[i].as_ref())
            .map(|p| format!("{} ({})", p.name, p.loc))
            .collect();
        out.push(format!(
            "{} {}s {}; the first: {}, ... (-C verbose=true lists every one)",
            members.len(),
            first.what,
            first.rest,
            named.join(", ")
        ));
    }
    out
}

/// A warning of the writer's shape: `LOC: WHAT NAME REST` (`f.h:3:
/// function f left out: ...`, `f.h:9: field x of struct s left out: ...`).
struct Parsed<'a> {
    loc: &'a str,
    what: &'a str,
    name: &'a str,
    rest: &'a str,
}

fn parse(w: &str) -> Option<Parsed<'_>> {
    // `file:line: ` — the first `: ` after a `:digits`.
    let mut at = None;
    for (i, _) in w.match_indices(": ") {
        let head = &w[..i];
        if let Some((_, line)) = head.rsplit_once(':')
            && !line.is_empty()
            && line.bytes().all(|b| b.is_ascii_digit())
        {
            at = Some(i);
            break;
        }
    }
    let at = at?;
    let (loc, body) = (&w[..at], &w[at + 2..]);
    let (what, body) = body.split_once(' ')?;
    let (name, rest) = body.split_once(' ')?;
    if !what.chars().all(|c| c.is_ascii_lowercase()) {
        return None;
    }
    // `field x of struct s left out`: the record is part of the name.
    let (name, rest) = match rest.strip_prefix("of ") {
        Some(r) => {
            let cut = r.find(" left out").unwrap_or(r.len());
            (&body[..name.len() + 4 + cut], &r[cut..])
        }
        None => (name, rest),
    };
    Some(Parsed {
        loc,
        what,
        name,
        rest: rest.trim_start(),
    })
}

/// `rest` with every quoted ('…', `…`, "…") or bracketed ((…)) part
/// replaced by `_`: what differs from one declaration to the next.
fn kind_of(rest: &str) -> String {
    let mut out = String::new();
    let mut chars = rest.chars();
    while let Some(c) = chars.next() {
        match c {
            '\'' | '`' | '"' => {
                for d in chars.by_ref() {
                    if d == c {
                        break;
                    }
                }
                out.push('_');
            }
            '(' => {
                let mut depth = 1;
                for d in chars.by_ref() {
                    match d {
                        '(' => depth += 1,
                        ')' => {
                            depth -= 1;
                            if depth == 0 {
                                break;
                            }
                        }
                        _ => {}
                    }
                }
                out.push('_');
            }
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn deprecated(n: usize) -> Vec<String> {
        (0..n)
            .map(|i| {
                format!(
                    "/usr/include/openssl/evp.h:{}: function EVP_f{i} left out: deprecated by the header (keep_deprecated = true keeps it)",
                    100 + i
                )
            })
            .collect()
    }

    #[test]
    fn many_of_one_kind_are_counted_and_the_first_named() {
        let mut w = deprecated(5);
        w.insert(
            2,
            "/usr/include/openssl/evp.h:7: field x of struct s left out: CFFI cannot express the type 'va_list' (the struct is partial)".into(),
        );
        w.push("'nope' is declared by none of the headers".into());
        assert_eq!(
            summarise(&w, false),
            vec![
                "5 functions left out: deprecated by the header (keep_deprecated = true keeps it); the first: EVP_f0 (/usr/include/openssl/evp.h:100), EVP_f1 (/usr/include/openssl/evp.h:101), EVP_f2 (/usr/include/openssl/evp.h:102), ... (-C verbose=true lists every one)".to_string(),
                w[2].clone(),
                w[6].clone(),
            ]
        );
        assert_eq!(summarise(&w, true), w);
    }

    #[test]
    fn a_few_are_said_one_by_one_and_kinds_ignore_quoted_parts() {
        let w = deprecated(3);
        assert_eq!(summarise(&w, false), w);
        let types: Vec<String> = ["'__int128'", "'va_list'", "'__m128'", "'_Float128'"]
            .iter()
            .enumerate()
            .map(|(i, t)| {
                format!("a.h:{i}: function g{i} left out: CFFI cannot express the type {t}")
            })
            .collect();
        let s = summarise(&types, false);
        assert_eq!(s.len(), 1, "{s:?}");
        assert!(
            s[0].starts_with("4 functions left out: CFFI cannot express the type '__int128'; the first: g0 (a.h:0), g1 (a.h:1), g2 (a.h:2)"),
            "{s:?}"
        );
        let fields: Vec<String> = (0..4)
            .map(|i| format!("b.h:9: field f{i} of struct big left out: it needs 'secret_t', left out by exclude_patterns (the struct is partial)"))
            .collect();
        let s = summarise(&fields, false);
        assert!(
            s[0].starts_with("4 fields left out: it needs 'secret_t'")
                && s[0].contains("f0 of struct big (b.h:9)"),
            "{s:?}"
        );
    }
}
