//! Constants: `#define`s, integer constants and enumerator values, and
//! CFFI's evaluation of constant expressions (`_parse_constant`).

use super::{ConstVal, Cx, R_INT_LITERAL};
use crate::cdef::pycparser::{ConstKind, Expr};
use crate::cdef::{CdefError, CffiErrorKind, Ffi};
use crate::model::{DeclKind, DeclValue};

impl Ffi {
    pub(super) fn process_macros(
        &mut self,
        cx: &mut Cx<'_>,
        macros: &[(String, String)],
    ) -> Result<(), CdefError> {
        for (key, value) in macros {
            let value = value.trim();
            if R_INT_LITERAL.is_match(value) {
                self.add_integer_constant(cx, key, value)?;
            } else if value == "..." {
                self.declare(cx, DeclKind::Macro, key, DeclValue::MacroDots, false, 0)?;
            } else {
                let message = format!(
                    "only supports one of the following syntax:\n  #define {key} ...     (literally dot-dot-dot)\n  #define {key} NUMBER  (with NUMBER an integer constant, decimal/hex/octal)\ngot:\n  #define {key} {value}"
                );
                return Err(match cx.find_define(key) {
                    Some(offset) => CdefError::at_offset(
                        CffiErrorKind::CDefError,
                        message,
                        cx.file.clone(),
                        offset,
                        cx.text,
                    ),
                    None => cx.error(CffiErrorKind::CDefError, message, None),
                });
            }
        }
        Ok(())
    }

    pub(super) fn add_constant(
        &mut self,
        cx: &Cx<'_>,
        key: &str,
        val: i128,
    ) -> Result<(), CdefError> {
        if let Some(&prev) = self.int_constants.get(key) {
            if prev == val {
                return Ok(());
            }
            return Err(cx.error(
                CffiErrorKind::FfiError,
                format!("multiple declarations of constant: {key}"),
                None,
            ));
        }
        self.int_constants.insert(key.to_string(), val);
        Ok(())
    }

    pub(super) fn add_integer_constant(
        &mut self,
        cx: &mut Cx<'_>,
        name: &str,
        int_str: &str,
    ) -> Result<(), CdefError> {
        let lower = int_str.to_lowercase();
        let mut s = lower.trim_end_matches(['u', 'l']);
        let neg = s.starts_with('-');
        if neg {
            s = &s[1..];
        }
        let parsed = if let Some(h) = s.strip_prefix("0x") {
            i128::from_str_radix(h, 16).ok()
        } else if s.starts_with('0') && s != "0" {
            i128::from_str_radix(&s[1..], 8).ok()
        } else if s.bytes().all(|b| b.is_ascii_digit()) && !s.is_empty() {
            s.parse::<i128>().ok()
        } else {
            None
        };
        let Some(mut v) = parsed else {
            return Err(cx.error(
                CffiErrorKind::CDefError,
                format!("invalid integer constant for {name}: {int_str:?}"),
                None,
            ));
        };
        if neg {
            v = -v;
        }
        self.add_constant(cx, name, v)?;
        self.declare(cx, DeclKind::Macro, name, DeclValue::MacroInt(v), false, 0)
    }
}

impl Ffi {
    /// CFFI's `_parse_constant`.
    pub(super) fn parse_constant(
        &mut self,
        cx: &mut Cx<'_>,
        e: &Expr,
        partial_length_ok: bool,
    ) -> Result<ConstVal, CdefError> {
        let c = e.coord();
        match e {
            Expr::Const { kind, text, .. } => {
                let s = text.as_str();
                if s.starts_with(|ch: char| ch.is_ascii_digit()) && *kind != ConstKind::Str {
                    let t = s.trim_end_matches(['u', 'U', 'l', 'L']);
                    let lower = t.to_ascii_lowercase();
                    let v = if t.starts_with('0') {
                        i128::from_str_radix(t, 8).ok().or_else(|| {
                            if let Some(h) = lower.strip_prefix("0x") {
                                i128::from_str_radix(h, 16).ok()
                            } else if let Some(b) = lower.strip_prefix("0b") {
                                i128::from_str_radix(b, 2).ok()
                            } else {
                                None
                            }
                        })
                    } else {
                        t.parse::<i128>().ok()
                    };
                    return v.map(ConstVal::Int).ok_or_else(|| {
                        cx.error(
                            CffiErrorKind::CDefError,
                            format!("invalid constant '{t}'"),
                            Some(c),
                        )
                    });
                }
                let chars: Vec<char> = s.chars().collect();
                if chars.len() >= 3
                    && chars[0] == '\''
                    && chars[chars.len() - 1] == '\''
                    && (chars.len() == 3 || (chars.len() == 4 && chars[1] == '\\'))
                {
                    return Ok(ConstVal::Int(chars[chars.len() - 2] as i128));
                }
                Err(cx.error(
                    CffiErrorKind::CDefError,
                    format!("invalid constant '{s}'"),
                    Some(c),
                ))
            }
            Expr::Unary(op, inner, _) if op == "+" => self.parse_constant(cx, inner, false),
            Expr::Unary(op, inner, _) if op == "-" => {
                match self.parse_constant(cx, inner, false)? {
                    ConstVal::Int(n) => Ok(ConstVal::Int(-n)),
                    ConstVal::Dots => Err(cx.unsupported_expr(c)),
                }
            }
            Expr::Id(n, _) if self.int_constants.contains_key(n) => {
                Ok(ConstVal::Int(self.int_constants[n]))
            }
            Expr::Id(n, _) if n == "__dotdotdotarray__" => {
                if partial_length_ok {
                    cx.partial_length = true;
                    return Ok(ConstVal::Dots);
                }
                Err(cx.error(
                    CffiErrorKind::FfiError,
                    format!(
                        ":{}: unsupported '[...]' here, cannot derive the actual array length in this context",
                        c.line
                    ),
                    Some(c),
                ))
            }
            Expr::Binary(op, l, r, _) => {
                let l = self.parse_constant(cx, l, false)?;
                let r = self.parse_constant(cx, r, false)?;
                let (ConstVal::Int(a), ConstVal::Int(b)) = (l, r) else {
                    return Err(cx.unsupported_expr(c));
                };
                let overflow = || {
                    cx.error(
                        CffiErrorKind::CDefError,
                        "constant expression overflows".into(),
                        Some(c),
                    )
                };
                let v = match op.as_str() {
                    "+" => a.checked_add(b),
                    "-" => a.checked_sub(b),
                    "*" => a.checked_mul(b),
                    "/" | "%" => {
                        if b == 0 {
                            return Err(cx.error(
                                CffiErrorKind::CDefError,
                                "division by zero in a constant".into(),
                                Some(c),
                            ));
                        }
                        let q = c_div(a, b);
                        if op == "/" {
                            Some(q)
                        } else {
                            q.checked_mul(b).and_then(|m| a.checked_sub(m))
                        }
                    }
                    "<<" => u32::try_from(b).ok().and_then(|s| {
                        if s >= 127 || (a.abs().leading_zeros() as i64) <= s as i64 + 1 {
                            None
                        } else {
                            Some(a << s)
                        }
                    }),
                    ">>" => u32::try_from(b).ok().map(|s| {
                        if s >= 127 {
                            if a < 0 { -1 } else { 0 }
                        } else {
                            a >> s
                        }
                    }),
                    "&" => Some(a & b),
                    "|" => Some(a | b),
                    "^" => Some(a ^ b),
                    _ => return Err(cx.unsupported_expr(c)),
                };
                v.map(ConstVal::Int).ok_or_else(overflow)
            }
            _ => Err(cx.unsupported_expr(c)),
        }
    }
}

/// CFFI's `_c_div`: Python's floor division corrected to round towards
/// zero, which is Rust's `/`.
fn c_div(a: i128, b: i128) -> i128 {
    a / b
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn c_division_rounds_towards_zero() {
        assert_eq!(c_div(7, 2), 3);
        assert_eq!(c_div(-7, 2), -3);
        assert_eq!(c_div(7, -2), -3);
        assert_eq!(c_div(-7, -2), 3);
    }
}
