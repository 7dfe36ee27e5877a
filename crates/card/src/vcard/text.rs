//! Value decoding and encoding: quoted-printable, character sets, backslash escapes.

use std::borrow::Cow;

use encoding_rs::Encoding;

/// Decodes quoted-printable. Soft line breaks were already removed while unfolding; a stray `=`
/// that does not start a hex pair is kept as it is.
pub(crate) fn decode_quoted_printable(input: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(input.len());
    let mut i = 0;
    while i < input.len() {
        if input[i] == b'='
            && i + 2 < input.len()
            && let (Some(h), Some(l)) = (hex(input[i + 1]), hex(input[i + 2]))
        {
            out.push(h << 4 | l);
            i += 3;
            continue;
        }
        out.push(input[i]);
        i += 1;
    }
    out
}

fn hex(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// What happened while turning bytes into text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum CharsetNote {
    /// The named character set is unknown; the bytes were decoded by guessing.
    UnknownCharset(String),
    /// Some bytes were not valid in the character set and became U+FFFD.
    Malformed(&'static str),
}

/// Decodes `bytes` as `charset` (a `CHARSET` parameter), or, without one, as UTF-8 when valid and
/// else as the most likely legacy set: GB18030 when the bytes look like GB2312 hanzi, otherwise
/// Windows-1252.
pub(crate) fn decode_charset<'a>(
    bytes: &'a [u8],
    charset: Option<&str>,
    fallback: Option<&'static Encoding>,
) -> (Cow<'a, str>, Option<CharsetNote>) {
    let mut note = None;
    let named = match charset {
        Some(label) => match Encoding::for_label(label.trim().as_bytes()) {
            Some(e) => Some(e),
            None => {
                note = Some(CharsetNote::UnknownCharset(label.to_owned()));
                None
            }
        },
        None => None,
    };
    let encoding = match named {
        Some(e) => e,
        None => match std::str::from_utf8(bytes) {
            Ok(text) => return (Cow::Borrowed(text), note),
            Err(_) => fallback.unwrap_or_else(|| guess_legacy(bytes)),
        },
    };
    let (text, malformed) = encoding.decode_without_bom_handling(bytes);
    if malformed && note.is_none() {
        note = Some(CharsetNote::Malformed(encoding.name()));
    }
    (text, note)
}

/// Chinese phones that do not write `CHARSET` use GBK; Western ones Windows-1252. GBK pairs of
/// common hanzi have both bytes ≥ 0xA1, while accented Latin letters are mostly followed by ASCII.
fn guess_legacy(bytes: &[u8]) -> &'static Encoding {
    let (mut pairs, mut hanzi) = (0usize, 0usize);
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b < 0x80 {
            i += 1;
            continue;
        }
        let Some(&next) = bytes.get(i + 1) else {
            return encoding_rs::WINDOWS_1252;
        };
        if !(0x81..=0xFE).contains(&b) || !(0x40..=0xFE).contains(&next) || next == 0x7F {
            return encoding_rs::WINDOWS_1252;
        }
        pairs += 1;
        if (0xB0..=0xF7).contains(&b) && next >= 0xA1 {
            hanzi += 1;
        }
        i += 2;
    }
    if pairs > 0 && hanzi * 2 >= pairs {
        encoding_rs::GB18030
    } else {
        encoding_rs::WINDOWS_1252
    }
}

/// Undoes vCard text escapes: `\n` `\N` → newline, `\\` `\,` `\;` `\:` → the character. An
/// unknown escape keeps its backslash (what vobject and most clients do).
pub(crate) fn unescape(text: &str) -> Cow<'_, str> {
    let bytes = text.as_bytes();
    let Some(mut at) = memchr::memchr(b'\\', bytes) else {
        return Cow::Borrowed(text);
    };
    let mut out = String::with_capacity(text.len());
    let mut copied = 0;
    loop {
        out.push_str(&text[copied..at]);
        copied = match bytes.get(at + 1) {
            Some(b'n' | b'N') => {
                out.push('\n');
                at + 2
            }
            Some(&e @ (b'\\' | b',' | b';' | b':')) => {
                out.push(char::from(e));
                at + 2
            }
            // An unknown escape keeps its backslash; what follows is copied as it is.
            _ => {
                out.push('\\');
                at + 1
            }
        };
        match memchr::memchr(b'\\', &bytes[copied..]) {
            Some(i) => at = copied + i,
            None => break,
        }
    }
    out.push_str(&text[copied..]);
    Cow::Owned(out)
}

/// Splits on `sep` (an ASCII character) where it is not escaped, then unescapes each part.
pub(crate) fn split_unescaped(text: &str, sep: char) -> Vec<Cow<'_, str>> {
    debug_assert!(sep.is_ascii());
    let sep = sep as u8;
    let bytes = text.as_bytes();
    let mut parts = Vec::new();
    let (mut start, mut i) = (0, 0);
    while i < bytes.len() {
        if bytes[i] == b'\\' {
            // The escaped character is never a separator. Skipping one byte of a multi-byte
            // character is safe: its other bytes are never ASCII.
            i += 2;
            continue;
        }
        if bytes[i] == sep {
            parts.push(unescape(&text[start..i]));
            start = i + 1;
        }
        i += 1;
    }
    parts.push(unescape(&text[start.min(text.len())..]));
    parts
}

/// Escapes text for a vCard value.
pub(crate) fn escape(text: &str) -> Cow<'_, str> {
    if !text.contains(['\\', ',', ';', '\n', '\r']) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => out.push_str("\\\\"),
            ',' => out.push_str("\\,"),
            ';' => out.push_str("\\;"),
            '\r' => {
                if chars.peek() == Some(&'\n') {
                    chars.next();
                }
                out.push_str("\\n");
            }
            '\n' => out.push_str("\\n"),
            _ => out.push(c),
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoted_printable_decodes_pairs_and_keeps_stray_equals() {
        assert_eq!(
            decode_quoted_printable(b"F=C3=BChrung"),
            "Führung".as_bytes()
        );
        assert_eq!(decode_quoted_printable(b"a=zz="), b"a=zz=");
        assert_eq!(decode_quoted_printable(b"=0D=0A"), b"\r\n");
    }

    #[test]
    fn charset_parameter_wins_then_utf8_then_a_guess() {
        let (gbk, _, _) = encoding_rs::GBK.encode("张伟");
        assert_eq!(decode_charset(&gbk, Some("GB2312"), None).0, "张伟");
        assert_eq!(
            decode_charset(&gbk, None, None).0,
            "张伟",
            "GBK bytes without CHARSET are guessed"
        );
        assert_eq!(decode_charset("Zoë".as_bytes(), None, None).0, "Zoë");
        assert_eq!(decode_charset(b"L\xe4mmerweg", None, None).0, "Lämmerweg");
        let (sjis, _, _) = encoding_rs::SHIFT_JIS.encode("山田");
        assert_eq!(decode_charset(&sjis, Some("SHIFT_JIS"), None).0, "山田");
        let (text, note) = decode_charset(b"abc", Some("blabla"), None);
        assert_eq!(text, "abc");
        assert_eq!(note, Some(CharsetNote::UnknownCharset("blabla".into())));
    }

    #[test]
    fn escapes_round_trip() {
        let original = "a,b;c\\d\nnext";
        assert_eq!(escape(original), "a\\,b\\;c\\\\d\\nnext");
        assert_eq!(unescape(&escape(original)), original);
        assert_eq!(
            unescape("A;B\\C\\;D:E\\\\"),
            "A;B\\C;D:E\\",
            "unknown escapes keep the backslash"
        );
        assert_eq!(split_unescaped("a\\;b;c;;", ';'), vec!["a;b", "c", "", ""]);
        assert_eq!(
            split_unescaped("张\\伟;李\\;四;end\\", ';'),
            vec!["张\\伟", "李;四", "end\\"],
            "an escaped multi-byte character, an escaped separator, a trailing backslash"
        );
        assert_eq!(unescape("\\x\\n\\"), "\\x\n\\");
        assert!(matches!(unescape("plain"), Cow::Borrowed("plain")));
    }
}
