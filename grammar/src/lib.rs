//! The grammar of `#[secure_tool]` declarations: what the macro accepts at
//! compile time and the runtime enforces, stated once. It has no dependencies,
//! so the proc-macro crate and the runtime can both depend on it, and the two
//! can never disagree on a rate, a range or a default.

/// The default bound on every string argument, in chars, unless `max_len` sets another.
pub const DEFAULT_MAX_LEN: usize = 4096;

/// The default bound on every list argument, in items, unless `max_items` sets another.
pub const DEFAULT_MAX_ITEMS: usize = 256;

/// The default bound on a call's arguments as a whole, in bytes, unless
/// `max_size` sets another.
pub const DEFAULT_MAX_SIZE: usize = 1024 * 1024;

/// How deep `#[derive(Args)]` objects may nest inside one another.
pub const MAX_DEPTH: usize = 8;

/// The integer types a parameter may have, narrowest first within each sign.
pub const INTEGER_TYPES: &[&str] = &["i8", "i16", "i32", "i64", "u8", "u16", "u32", "u64"];

/// The inclusive range of an integer parameter type, or `None` for any other name.
///
/// ```
/// assert_eq!(secure_tool_grammar::int_range("u8"), Some((0, 255)));
/// assert_eq!(secure_tool_grammar::int_range("usize"), None);
/// ```
pub fn int_range(ty: &str) -> Option<(i128, i128)> {
    Some(match ty {
        "i8" => (i8::MIN.into(), i8::MAX.into()),
        "i16" => (i16::MIN.into(), i16::MAX.into()),
        "i32" => (i32::MIN.into(), i32::MAX.into()),
        "i64" => (i64::MIN.into(), i64::MAX.into()),
        "u8" => (0, u8::MAX.into()),
        "u16" => (0, u16::MAX.into()),
        "u32" => (0, u32::MAX.into()),
        "u64" => (0, u64::MAX.into()),
        _ => return None,
    })
}

/// The forms a rate takes, for messages.
pub const RATE_FORMS: &str = "a rate such as \"10/s\", \"30/min\" or \"1000/h\"";

/// Parses `N/s`, `N/min` or `N/h` with N at least 1, exactly as written (no
/// spaces): the calls, and the period in seconds.
///
/// ```
/// use secure_tool_grammar::parse_rate;
///
/// assert_eq!(parse_rate("30/min"), Some((30, 60)));
/// assert_eq!(parse_rate("10 / s"), None);
/// assert_eq!(parse_rate("0/s"), None);
/// ```
pub fn parse_rate(text: &str) -> Option<(u32, u64)> {
    let (calls, unit) = text.split_once('/')?;
    if !calls.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let calls: u32 = calls.parse().ok().filter(|&n| n > 0)?;
    let secs = match unit {
        "s" => 1,
        "min" => 60,
        "h" => 3600,
        _ => return None,
    };
    Some((calls, secs))
}

/// Whether `c` is a character strings may not carry: a C0 or C1 control other
/// than `\n` and `\t`, or a bidirectional override or isolate.
pub fn is_forbidden_char(c: char) -> bool {
    (c.is_control() && c != '\n' && c != '\t') || is_bidi_control(c)
}

/// Whether `c` is a bidirectional embedding, override or isolate (U+202A–U+202E,
/// U+2066–U+2069), the characters behind "Trojan Source" spoofing.
pub fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_are_exactly_the_declared_forms() {
        assert_eq!(parse_rate("5/s"), Some((5, 1)));
        assert_eq!(parse_rate("1000/h"), Some((1000, 3600)));
        for bad in [
            "",
            "30",
            "0/s",
            "-1/s",
            "+1/s",
            "1/day",
            "x/min",
            "1.5/s",
            "10 / s",
            " 1/s",
            "1/s ",
            "99999999999/s",
        ] {
            assert_eq!(parse_rate(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn every_integer_type_has_a_range() {
        for ty in INTEGER_TYPES {
            let (lo, hi) = int_range(ty).unwrap();
            assert!(lo < hi, "{ty}");
        }
        assert_eq!(int_range("i64"), Some((i64::MIN.into(), i64::MAX.into())));
    }

    #[test]
    fn newline_and_tab_pass_other_controls_do_not() {
        assert!(!is_forbidden_char('\n') && !is_forbidden_char('\t') && !is_forbidden_char('é'));
        for c in [
            '\0', '\r', '\u{1b}', '\u{7f}', '\u{85}', '\u{202e}', '\u{2066}',
        ] {
            assert!(is_forbidden_char(c), "{c:?}");
        }
    }
}
