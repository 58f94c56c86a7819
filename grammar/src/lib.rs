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

/// Whether `c` never shows and can hide text or reorder it for a reader:
/// zero-width space, soft hyphen, directional marks (LRM, RLM, ALM), word
/// joiner and invisible operators, BOM, line and paragraph separators,
/// Hangul and Khmer fillers, interlinear annotation, shorthand-format and
/// musical format controls, and the whole tag and variation-selector
/// supplement plane (U+E0000–U+E0FFF). Zero-width joiners, variation
/// selectors and tag characters are judged in context by [`first_invisible`].
pub fn is_invisible(c: char) -> bool {
    matches!(c,
        '\u{00ad}' | '\u{034f}' | '\u{061c}' | '\u{115f}' | '\u{1160}' | '\u{17b4}' | '\u{17b5}'
        | '\u{180b}'..='\u{180f}' | '\u{200b}' | '\u{200e}' | '\u{200f}' | '\u{2028}' | '\u{2029}'
        | '\u{2060}'..='\u{2064}' | '\u{206a}'..='\u{206f}' | '\u{3164}' | '\u{feff}' | '\u{ffa0}'
        | '\u{fff9}'..='\u{fffb}' | '\u{1bca0}'..='\u{1bca3}' | '\u{1d173}'..='\u{1d17a}'
        | '\u{e0000}'..='\u{e0fff}')
}

/// The tag characters a subdivision flag may carry after U+1F3F4 (🏴), at most.
const FLAG_TAGS: usize = 7;

/// The first character of `s` that hides text from a reader: one that
/// [`is_invisible`], or a zero-width joiner or non-joiner, or a variation
/// selector, out of the places ordinary text puts them. Allowed: one ZWJ or
/// ZWNJ between two visible characters (emoji sequences, Persian and Indic
/// scripts), a variation selector U+FE00–U+FE0F after a visible character
/// (emoji presentation), and the tag characters of a subdivision flag (🏴
/// followed by up to seven tags and U+E007F).
pub fn first_invisible(s: &str) -> Option<char> {
    if s.is_ascii() {
        return None;
    }
    let visible = |c: Option<char>| {
        c.is_some_and(|c| {
            !c.is_whitespace()
                && !c.is_control()
                && !is_invisible(c)
                && !matches!(c, '\u{200c}' | '\u{200d}')
        })
    };
    // A visible character that is not itself a variation selector.
    let base = |c: Option<char>| visible(c) && !matches!(c, Some('\u{fe00}'..='\u{fe0f}'));
    let mut prev = None;
    // Tags seen since a 🏴, while a subdivision flag is open, and the first.
    let mut flag: Option<usize> = None;
    let mut first_tag = None;
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        let tag = matches!(c, '\u{e0020}'..='\u{e007e}');
        // A flag's tags end with U+E007F, or they were not a flag.
        if !tag && c != '\u{e007f}' && flag.is_some_and(|n| n > 0) {
            return first_tag;
        }
        let ok = match c {
            '\u{e0020}'..='\u{e007e}' => match flag {
                Some(n) if n < FLAG_TAGS => {
                    flag = Some(n + 1);
                    first_tag.get_or_insert(c);
                    true
                }
                _ => false,
            },
            '\u{e007f}' => flag.take().is_some_and(|n| n > 0),
            // Between two visible characters, and not between two ASCII ones
            // (where it only splits a word to slip it past a filter).
            '\u{200c}' | '\u{200d}' => {
                let next = chars.peek().copied();
                visible(prev)
                    && base(next)
                    && !(prev.is_some_and(|p| p.is_ascii()) && next.is_some_and(|n| n.is_ascii()))
            }
            '\u{fe00}'..='\u{fe0f}' => base(prev),
            c => !is_invisible(c),
        };
        if !ok {
            return Some(c);
        }
        if c == '\u{1f3f4}' {
            flag = Some(0);
            first_tag = None;
        } else if !tag {
            flag = None;
        }
        prev = Some(c);
    }
    if flag.is_some_and(|n| n > 0) {
        return first_tag;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_that_hides_text_is_found_and_ordinary_text_with_emoji_is_not() {
        for ordinary in [
            "plain ASCII",
            "café, naïve, Ελληνικά, русский, 日本語",
            "family 👨\u{200d}👩\u{200d}👧 and rainbow flag 🏳\u{fe0f}\u{200d}🌈",
            "flags 🇫🇷🇯🇵 and England 🏴\u{e0067}\u{e0062}\u{e0065}\u{e006e}\u{e0067}\u{e007f}",
            "thumbs 👍🏽 and heart ❤\u{fe0f}",
            "Persian می\u{200c}خواهم",
            "Devanagari क्\u{200d}ष",
        ] {
            assert_eq!(first_invisible(ordinary), None, "{ordinary:?}");
        }
        for (hidden, at) in [
            ("a\u{200b}b", '\u{200b}'),
            ("pay\u{00ad}ment", '\u{00ad}'),
            ("\u{feff}start", '\u{feff}'),
            ("left\u{200e}right", '\u{200e}'),
            ("arabic\u{061c}mark", '\u{061c}'),
            ("word\u{2060}joiner", '\u{2060}'),
            ("line\u{2028}sep", '\u{2028}'),
            ("tags \u{e0049}\u{e0067}\u{e006e}", '\u{e0049}'),
            ("smuggled a\u{e0100}\u{e0101}", '\u{e0100}'),
            ("filler \u{3164} here", '\u{3164}'),
            ("space\u{200d} joiner", '\u{200d}'),
            ("two a\u{200c}\u{200c}b", '\u{200c}'),
            ("end joiner a\u{200d}", '\u{200d}'),
            ("lone selector \u{fe0f}", '\u{fe0f}'),
            ("selector chain a\u{fe00}\u{fe01}", '\u{fe01}'),
            ("a word split ig\u{200c}nore", '\u{200c}'),
            ("unended flag 🏴\u{e0061}\u{e0062} tail", '\u{e0061}'),
            ("unended flag at the end 🏴\u{e0061}", '\u{e0061}'),
        ] {
            assert_eq!(first_invisible(hidden), Some(at), "{hidden:?}");
        }
        // A black flag carries a subdivision code, not a hidden message.
        let long = format!("🏴{}\u{e007f}", "\u{e0061}".repeat(FLAG_TAGS + 1));
        assert_eq!(first_invisible(&long), Some('\u{e0061}'));
    }

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
