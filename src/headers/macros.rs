//! Integer values of object-like macros, from their tokens: literals, other
//! macros, enum constants, casts to integer types, and C's operators.

use std::collections::HashMap;

const INT_TYPE_WORDS: &[&str] = &[
    "int", "long", "short", "char", "signed", "unsigned", "_Bool", "const", "volatile",
];

/// The value of a macro whose replacement is `tokens`, or `None` if it is
/// not an integer constant expression.
pub fn evaluate(
    tokens: &[String],
    macros: &HashMap<String, Vec<String>>,
    enums: &HashMap<String, i128>,
) -> Option<i128> {
    let mut e = Eval {
        macros,
        enums,
        depth: 0,
    };
    e.eval_tokens(tokens)
}

struct Eval<'a> {
    macros: &'a HashMap<String, Vec<String>>,
    enums: &'a HashMap<String, i128>,
    depth: u32,
}

impl Eval<'_> {
    fn eval_tokens(&mut self, tokens: &[String]) -> Option<i128> {
        if tokens.is_empty() || self.depth > 32 {
            return None;
        }
        let mut p = P {
            toks: tokens,
            pos: 0,
        };
        let v = self.ternary(&mut p)?;
        (p.pos == tokens.len()).then_some(v)
    }

    fn ternary(&mut self, p: &mut P<'_>) -> Option<i128> {
        let c = self.binary(p, 0)?;
        if p.eat("?") {
            let a = self.ternary(p)?;
            if !p.eat(":") {
                return None;
            }
            let b = self.ternary(p)?;
            return Some(if c != 0 { a } else { b });
        }
        Some(c)
    }

    fn binary(&mut self, p: &mut P<'_>, min: u8) -> Option<i128> {
        let mut lhs = self.unary(p)?;
        while let Some(op) = p.peek() {
            let prec = match op {
                "||" => 1,
                "&&" => 2,
                "|" => 3,
                "^" => 4,
                "&" => 5,
                "==" | "!=" => 6,
                "<" | ">" | "<=" | ">=" => 7,
                "<<" | ">>" => 8,
                "+" | "-" => 9,
                "*" | "/" | "%" => 10,
                _ => break,
            };
            if prec < min {
                break;
            }
            let op = op.to_string();
            p.pos += 1;
            let rhs = self.binary(p, prec + 1)?;
            lhs = match op.as_str() {
                "||" => i128::from(lhs != 0 || rhs != 0),
                "&&" => i128::from(lhs != 0 && rhs != 0),
                "|" => lhs | rhs,
                "^" => lhs ^ rhs,
                "&" => lhs & rhs,
                "==" => i128::from(lhs == rhs),
                "!=" => i128::from(lhs != rhs),
                "<" => i128::from(lhs < rhs),
                ">" => i128::from(lhs > rhs),
                "<=" => i128::from(lhs <= rhs),
                ">=" => i128::from(lhs >= rhs),
                "<<" => lhs.checked_shl(u32::try_from(rhs).ok()?)?,
                ">>" => lhs.checked_shr(u32::try_from(rhs).ok()?)?,
                "+" => lhs.checked_add(rhs)?,
                "-" => lhs.checked_sub(rhs)?,
                "*" => lhs.checked_mul(rhs)?,
                "/" => lhs.checked_div(rhs)?,
                "%" => lhs.checked_rem(rhs)?,
                _ => return None,
            };
        }
        Some(lhs)
    }

    fn unary(&mut self, p: &mut P<'_>) -> Option<i128> {
        let t = p.peek()?.to_string();
        match t.as_str() {
            "-" => {
                p.pos += 1;
                self.unary(p)?.checked_neg()
            }
            "+" => {
                p.pos += 1;
                self.unary(p)
            }
            "~" => {
                p.pos += 1;
                Some(!self.unary(p)?)
            }
            "!" => {
                p.pos += 1;
                Some(i128::from(self.unary(p)? == 0))
            }
            "(" => {
                // A cast to an integer type, or a parenthesised expression.
                let start = p.pos;
                p.pos += 1;
                let mut words = 0;
                while let Some(w) = p.peek() {
                    if INT_TYPE_WORDS.contains(&w) || is_int_typedef(w) {
                        words += 1;
                        p.pos += 1;
                    } else {
                        break;
                    }
                }
                if words > 0 && p.eat(")") {
                    return self.unary(p);
                }
                p.pos = start + 1;
                let v = self.ternary(p)?;
                p.eat(")").then_some(v)
            }
            _ => {
                p.pos += 1;
                self.primary(&t)
            }
        }
    }

    fn primary(&mut self, t: &str) -> Option<i128> {
        let first = t.chars().next()?;
        if first.is_ascii_digit() {
            return parse_int(t);
        }
        if first == '\'' {
            let inner = t.strip_prefix('\'')?.strip_suffix('\'')?;
            return match inner {
                s if s.chars().count() == 1 => Some(s.chars().next()? as i128),
                "\\n" => Some(10),
                "\\t" => Some(9),
                "\\r" => Some(13),
                "\\0" => Some(0),
                "\\\\" => Some(92),
                "\\'" => Some(39),
                _ => None,
            };
        }
        if let Some(v) = self.enums.get(t) {
            return Some(*v);
        }
        let body = self.macros.get(t)?.clone();
        self.depth += 1;
        let v = self.eval_tokens(&body);
        self.depth -= 1;
        v
    }
}

fn is_int_typedef(w: &str) -> bool {
    matches!(
        w,
        "size_t" | "ssize_t" | "ptrdiff_t" | "intptr_t" | "uintptr_t" | "intmax_t" | "uintmax_t"
    ) || (w.starts_with("int") || w.starts_with("uint"))
        && w.ends_with("_t")
        && w[w.find(|c: char| c.is_ascii_digit()).unwrap_or(0)..]
            .trim_end_matches("_t")
            .chars()
            .all(|c| c.is_ascii_digit())
}

/// A C integer literal (with `u`/`l` suffixes, hex, octal, binary).
pub fn parse_int(t: &str) -> Option<i128> {
    let s = t.trim_end_matches(['u', 'U', 'l', 'L']);
    let lower = s.to_ascii_lowercase();
    if let Some(h) = lower.strip_prefix("0x") {
        i128::from_str_radix(h, 16).ok()
    } else if let Some(b) = lower.strip_prefix("0b") {
        i128::from_str_radix(b, 2).ok()
    } else if lower.len() > 1 && lower.starts_with('0') {
        i128::from_str_radix(&lower[1..], 8).ok()
    } else {
        lower.parse().ok()
    }
}

struct P<'a> {
    toks: &'a [String],
    pos: usize,
}

impl P<'_> {
    fn peek(&self) -> Option<&str> {
        self.toks.get(self.pos).map(String::as_str)
    }

    fn eat(&mut self, s: &str) -> bool {
        if self.peek() == Some(s) {
            self.pos += 1;
            true
        } else {
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toks(s: &str) -> Vec<String> {
        s.split_whitespace().map(str::to_string).collect()
    }

    #[test]
    fn macros_through_macros_casts_and_expressions() {
        let mut m = HashMap::new();
        m.insert("A".to_string(), toks("( 1 << 4 )"));
        m.insert("B".to_string(), toks("( ( uint32_t ) A | 0x3 )"));
        m.insert("S".to_string(), toks("\"text\""));
        let e = HashMap::from([("E1".to_string(), 7i128)]);
        assert_eq!(evaluate(&toks("B"), &m, &e), Some(19));
        assert_eq!(evaluate(&toks("E1 * 2 + - 1"), &m, &e), Some(13));
        assert_eq!(evaluate(&toks("0755"), &m, &e), Some(493));
        assert_eq!(evaluate(&toks("10UL"), &m, &e), Some(10));
        assert_eq!(evaluate(&toks("S"), &m, &e), None);
        assert_eq!(evaluate(&toks("1.5"), &m, &e), None);
        assert_eq!(evaluate(&toks("A ? 2 : 3"), &m, &e), Some(2));
    }
}
