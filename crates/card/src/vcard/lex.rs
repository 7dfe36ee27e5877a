//! From bytes to content lines: line splitting, unfolding, and the `group.NAME;params:value`
//! grammar, tolerant of what real exporters write.
//!
//! Terms: a *physical line* is what sits between two line breaks in the file; a *logical line*
//! is one property after unfolding (RFC 6350 §3.2 folding, vCard 2.1 quoted-printable soft line
//! breaks, and 2.1 base64 blocks); a *content line* is a logical line split into its parts.

use std::borrow::Cow;
use std::collections::HashMap;

/// The file's bytes as UTF-8-compatible bytes: UTF-16 (with or without a byte-order mark) is
/// transcoded, a UTF-8 byte-order mark is dropped. Any other bytes are returned as they are:
/// legacy character sets are decoded per value, where the `CHARSET` parameter says which.
pub(crate) fn normalise_container(data: &[u8]) -> Cow<'_, [u8]> {
    if let Some(rest) = data.strip_prefix(b"\xEF\xBB\xBF") {
        return Cow::Borrowed(rest);
    }
    let utf16 = if data.starts_with(b"\xFF\xFE") {
        Some(encoding_rs::UTF_16LE)
    } else if data.starts_with(b"\xFE\xFF") {
        Some(encoding_rs::UTF_16BE)
    } else if data.len() >= 4 && data[1] == 0 && data[3] == 0 && data[0] != 0 {
        Some(encoding_rs::UTF_16LE)
    } else if data.len() >= 4 && data[0] == 0 && data[2] == 0 && data[1] != 0 {
        Some(encoding_rs::UTF_16BE)
    } else {
        None
    };
    match utf16 {
        Some(encoding) => {
            let (text, _, _) = encoding.decode(data);
            Cow::Owned(text.into_owned().into_bytes())
        }
        None => Cow::Borrowed(data),
    }
}

/// Physical lines with their 1-based numbers. Accepts CRLF, LF, and (for old Mac exports with
/// no LF at all) CR.
pub(crate) struct PhysicalLines<'a> {
    data: &'a [u8],
    /// Where the next line starts; past the end when every line was given.
    start: usize,
    number: usize,
    separator: u8,
}

impl<'a> PhysicalLines<'a> {
    pub(crate) fn new(data: &'a [u8]) -> Self {
        let separator = if memchr::memchr(b'\n', data).is_some() {
            b'\n'
        } else {
            b'\r'
        };
        PhysicalLines {
            data,
            start: 0,
            number: 0,
            separator,
        }
    }
}

impl<'a> Iterator for PhysicalLines<'a> {
    type Item = (usize, &'a [u8]);

    fn next(&mut self) -> Option<(usize, &'a [u8])> {
        let rest = self.data.get(self.start..)?;
        let line = match memchr::memchr(self.separator, rest) {
            Some(i) => {
                self.start += i + 1;
                &rest[..i]
            }
            None => {
                self.start = self.data.len() + 1;
                rest
            }
        };
        self.number += 1;
        Some((self.number, line.strip_suffix(b"\r").unwrap_or(line)))
    }
}

/// One property after unfolding.
#[derive(Debug)]
pub(crate) struct LogicalLine<'a> {
    pub line: usize,
    pub bytes: Cow<'a, [u8]>,
}

/// What the header of a logical line says about how its value continues on later lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Transfer {
    Plain,
    QuotedPrintable,
    Base64,
}

fn transfer_of(line: &[u8]) -> Transfer {
    let header = &line[..find_value_colon(line).unwrap_or(line.len())];
    // Each name below has one of these bytes: a header without any (most lines: `FN:…`,
    // `NOTE:…`) is plain.
    // (A plain loop: headers are a few bytes, too short for memchr to pay for its setup.)
    if !header.iter().any(|b| matches!(b, b'-' | b'6' | b'=')) {
        return Transfer::Plain;
    }
    if contains_ignore_case(header, b"QUOTED-PRINTABLE") {
        Transfer::QuotedPrintable
    } else if contains_ignore_case(header, b"BASE64") || contains_ignore_case(header, b"ENCODING=B")
    {
        Transfer::Base64
    } else {
        Transfer::Plain
    }
}

fn contains_ignore_case(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.len() >= needle.len()
        && haystack
            .windows(needle.len())
            .any(|w| w.eq_ignore_ascii_case(needle))
}

fn is_base64_line(line: &[u8]) -> bool {
    !line.is_empty()
        && line
            .iter()
            .all(|&b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'=' | b' ' | b'\t'))
}

/// Joins physical lines into logical lines. Blank lines are dropped.
#[cfg(test)]
pub(crate) fn logical_lines(data: &[u8]) -> Vec<LogicalLine<'_>> {
    LogicalLines::new(data).collect()
}

/// Logical lines one at a time, so that a large file is never held as a list of lines.
pub(crate) struct LogicalLines<'a> {
    physical: std::iter::Peekable<PhysicalLines<'a>>,
    /// How the line being joined continues on later lines.
    transfer: Transfer,
}

impl<'a> LogicalLines<'a> {
    pub(crate) fn new(data: &'a [u8]) -> Self {
        LogicalLines {
            physical: PhysicalLines::new(data).peekable(),
            transfer: Transfer::Plain,
        }
    }
}

impl<'a> Iterator for LogicalLines<'a> {
    type Item = LogicalLine<'a>;

    fn next(&mut self) -> Option<LogicalLine<'a>> {
        // The first line that is not blank starts the logical line.
        let mut current = loop {
            let (number, line) = self.physical.next()?;
            if line.iter().all(u8::is_ascii_whitespace) {
                self.transfer = Transfer::Plain;
                continue;
            }
            self.transfer = transfer_of(line);
            break LogicalLine {
                line: number,
                bytes: Cow::Borrowed(line),
            };
        };
        // Then every physical line that continues it.
        while let Some(&(_, line)) = self.physical.peek() {
            let folded = matches!(line.first(), Some(b' ' | b'\t'));
            if folded {
                if self.transfer == Transfer::QuotedPrintable && current.bytes.ends_with(b"=") {
                    // A soft line break that was also folded: drop both markers.
                    current.bytes.to_mut().pop();
                    current
                        .bytes
                        .to_mut()
                        .extend_from_slice(line.trim_ascii_start());
                } else {
                    current.bytes.to_mut().extend_from_slice(&line[1..]);
                }
            } else if self.transfer == Transfer::QuotedPrintable
                && current.bytes.ends_with(b"=")
                && !line.is_empty()
            {
                current.bytes.to_mut().pop();
                current.bytes.to_mut().extend_from_slice(line);
            } else if self.transfer == Transfer::Base64
                && find_value_colon(line).is_none()
                && is_base64_line(line)
            {
                // vCard 2.1 base64 blocks run until a blank line; some writers do not indent
                // them.
                current.bytes.to_mut().extend_from_slice(line.trim_ascii());
            } else if line.iter().all(u8::is_ascii_whitespace) {
                // A blank line ends any transfer block, yet a folded line after it still
                // continues this one.
                self.transfer = Transfer::Plain;
            } else {
                break;
            }
            self.physical.next();
        }
        Some(current)
    }
}

/// Position of the colon that ends the property's name and parameters: the first one outside
/// double quotes. Falls back to the first colon when quotes are unbalanced.
pub(crate) fn find_value_colon(line: &[u8]) -> Option<usize> {
    // Quotes matter only before the first colon.
    // Plain loops: the colon is a few bytes in, where memchr's setup costs more than it saves.
    let first = line.iter().position(|&b| b == b':')?;
    if !line[..first].contains(&b'"') {
        return Some(first);
    }
    let mut quoted = false;
    for (i, &b) in line.iter().enumerate() {
        match b {
            b'"' => quoted = !quoted,
            b':' if !quoted => return Some(i),
            _ => {}
        }
    }
    if quoted {
        line.iter().position(|&b| b == b':')
    } else {
        None
    }
}

/// A property split into its parts. Names are upper-cased; parameter values are kept as written.
#[derive(Debug)]
pub(crate) struct ContentLine<'a> {
    pub group: Option<String>,
    pub name: String,
    pub params: Vec<(String, Vec<String>)>,
    pub value: &'a [u8],
}

/// Why a logical line is not a property.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum LineError {
    NoColon,
    BadName,
}

/// Parameter values that vCard 2.1 writes bare (`TEL;CELL;PREF:`), by the parameter they
/// belong to.
fn bare_param_name(value: &str) -> &'static str {
    let upper = value.to_ascii_uppercase();
    match upper.as_str() {
        "QUOTED-PRINTABLE" | "BASE64" | "B" | "8BIT" | "7BIT" => "ENCODING",
        "INLINE" | "URL" | "URI" | "CONTENT-ID" | "CID" => "VALUE",
        _ => "TYPE",
    }
}

pub(crate) fn parse_content_line(line: &[u8]) -> Result<ContentLine<'_>, LineError> {
    let colon = find_value_colon(line).ok_or(LineError::NoColon)?;
    let (header, value) = (&line[..colon], &line[colon + 1..]);
    let mut parts = split_params(header);
    let full_name = parts.next().unwrap_or_default().trim_ascii();
    let (group, name) = match full_name.iter().rposition(|&b| b == b'.') {
        Some(dot) => (Some(&full_name[..dot]), &full_name[dot + 1..]),
        None => (None, full_name),
    };
    let valid_name = !name.is_empty()
        && name
            .iter()
            .all(|&b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'/');
    if !valid_name {
        return Err(LineError::BadName);
    }
    let mut params: Vec<(String, Vec<String>)> = Vec::new();
    // Where each name is in `params`, once there are many (a hostile header can carry
    // thousands of names: looking each up in the list would be quadratic).
    let mut index: HashMap<String, usize> = HashMap::new();
    for raw in parts {
        let raw = raw.trim_ascii();
        if raw.is_empty() {
            continue;
        }
        let text = String::from_utf8_lossy(raw);
        let (pname, pvalue) = match text.split_once('=') {
            Some((n, v)) => (n.trim().to_ascii_uppercase(), v.trim()),
            None => (bare_param_name(&text).to_owned(), text.as_ref()),
        };
        let mut values = split_param_values(pvalue);
        if pname == "TYPE" && values.iter().any(|v| v.contains(',')) {
            // RFC 6350 writes `TYPE="voice,home"` for two types.
            values = values
                .iter()
                .flat_map(|v| v.split(','))
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
                .collect();
        }
        let at = if params.len() < 16 {
            params.iter().position(|(n, _)| *n == pname)
        } else {
            if index.is_empty() {
                index.extend(params.iter().enumerate().map(|(i, (n, _))| (n.clone(), i)));
            }
            index.get(&pname).copied()
        };
        match at {
            Some(at) => params[at].1.extend(values),
            None => {
                if !index.is_empty() {
                    index.insert(pname.clone(), params.len());
                }
                params.push((pname, values));
            }
        }
    }
    Ok(ContentLine {
        group: group.map(|g| String::from_utf8_lossy(g).into_owned()),
        name: String::from_utf8_lossy(name).to_ascii_uppercase(),
        params,
        value,
    })
}

/// Splits `NAME;P1=a;P2="b;c"` on semicolons outside quotes.
fn split_params(header: &[u8]) -> impl Iterator<Item = &[u8]> {
    let mut start = Some(0);
    std::iter::from_fn(move || {
        let from = start?;
        let mut quoted = false;
        for (i, &b) in header[from..].iter().enumerate() {
            match b {
                b'"' => quoted = !quoted,
                b';' if !quoted => {
                    start = Some(from + i + 1);
                    return Some(&header[from..from + i]);
                }
                _ => {}
            }
        }
        start = None;
        Some(&header[from..])
    })
}

/// `work,"voice,x"` → [`work`, `voice,x`].
fn split_param_values(value: &str) -> Vec<String> {
    if !value.contains(['"', ',']) {
        // One plain value (almost every parameter).
        let value = value.trim();
        return if value.is_empty() {
            Vec::new()
        } else {
            vec![value.to_owned()]
        };
    }
    let mut out = Vec::new();
    let mut current = String::new();
    let mut quoted = false;
    for c in value.chars() {
        match c {
            '"' => quoted = !quoted,
            ',' if !quoted => out.push(std::mem::take(&mut current)),
            _ => current.push(c),
        }
    }
    out.push(current);
    out.into_iter()
        .map(|v| v.trim().to_owned())
        .filter(|v| !v.is_empty())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn logical(text: &str) -> Vec<(usize, String)> {
        logical_lines(text.as_bytes())
            .into_iter()
            .map(|l| (l.line, String::from_utf8_lossy(&l.bytes).into_owned()))
            .collect()
    }

    #[test]
    fn unfolds_rfc_folding_and_quoted_printable_soft_breaks() {
        let lines = logical(
            "BEGIN:VCARD\r\nNOTE:abc\r\n def\r\n\tghi\r\nNOTE;ENCODING=QUOTED-PRINTABLE:a=\r\nb=\r\n=3Dc\r\nEND:VCARD\r\n",
        );
        assert_eq!(
            lines,
            vec![
                (1, "BEGIN:VCARD".to_owned()),
                (2, "NOTE:abcdefghi".to_owned()),
                (5, "NOTE;ENCODING=QUOTED-PRINTABLE:ab=3Dc".to_owned()),
                (8, "END:VCARD".to_owned()),
            ],
            "folded lines join their predecessor; QP soft breaks join without the '='"
        );
    }

    #[test]
    fn blank_lines_end_transfer_blocks_but_not_folding() {
        let lines =
            logical("NOTE:abc\r\n\r\n def\r\nLABEL;QUOTED-PRINTABLE:a=\r\n\r\nb\r\n\n\n\nTEL:1");
        assert_eq!(
            lines,
            vec![
                (1, "NOTE:abcdef".to_owned()),
                (4, "LABEL;QUOTED-PRINTABLE:a=".to_owned()),
                (6, "b".to_owned()),
                (10, "TEL:1".to_owned()),
            ],
            "a folded line after a blank one still continues; a soft break does not cross it"
        );
        assert_eq!(
            logical("A:1\rB:2\r\r C"),
            vec![(1, "A:1".to_owned()), (2, "B:2C".to_owned())],
            "bare CR line ends"
        );
        assert!(logical("").is_empty() && logical("\r\n\r\n").is_empty());
    }

    #[test]
    fn unindented_base64_continues_until_blank_line() {
        let lines = logical("PHOTO;BASE64:AAAA\nBBBB\nCC==\n\nTEL:1\n");
        assert_eq!(
            lines,
            vec![
                (1, "PHOTO;BASE64:AAAABBBBCC==".to_owned()),
                (5, "TEL:1".to_owned())
            ]
        );
    }

    #[test]
    fn content_line_parts_and_bare_params() {
        let line =
            parse_content_line(b"item1.tel;CELL;pref;TYPE=\"work,voice\":+1 555").expect("parses");
        assert_eq!(line.group.as_deref(), Some("item1"));
        assert_eq!(line.name, "TEL");
        assert_eq!(
            line.params,
            vec![(
                "TYPE".to_owned(),
                vec!["CELL".into(), "pref".into(), "work".into(), "voice".into()]
            )]
        );
        assert_eq!(line.value, b"+1 555");
        let qp = parse_content_line(b"N;QUOTED-PRINTABLE;CHARSET=UTF-8:=E5").expect("parses");
        assert_eq!(
            qp.params[0],
            ("ENCODING".to_owned(), vec!["QUOTED-PRINTABLE".to_owned()])
        );
        assert_eq!(
            parse_content_line(b"no colon here").err(),
            Some(LineError::NoColon)
        );
        assert_eq!(
            parse_content_line(b"# comment: x").err(),
            Some(LineError::BadName)
        );
    }

    #[test]
    fn quoted_colon_in_parameter_is_not_the_value_separator() {
        let line = parse_content_line(b"ADR;LABEL=\"a: b\":;;street").expect("parses");
        assert_eq!(line.params[0].1, vec!["a: b".to_owned()]);
        assert_eq!(line.value, b";;street");
    }

    #[test]
    fn utf16_with_and_without_bom_is_transcoded() {
        let mut bytes = vec![0xFF, 0xFE];
        for unit in "BEGIN:VCARD".encode_utf16() {
            bytes.extend_from_slice(&unit.to_le_bytes());
        }
        assert_eq!(normalise_container(&bytes).as_ref(), b"BEGIN:VCARD");
        assert_eq!(normalise_container(&bytes[2..]).as_ref(), b"BEGIN:VCARD");
    }
}
