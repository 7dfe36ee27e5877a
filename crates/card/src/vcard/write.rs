//! [`Card`] → vCard 3.0 or 4.0 text: CRLF line ends, folded at 75 octets on character boundaries.
//!
//! Only what the target version allows is written. The modelled fields are written in each
//! version's own form; the unmodelled properties a card keeps from its source (a 2.1 file, a 4.0
//! file, another app's extensions) are brought into the target version's form: `CHARSET` and
//! transfer encodings go (values are already decoded and written as UTF-8), binary values
//! become `ENCODING=b` (3.0) or a `data:` URI (4.0), links become `VALUE=uri`, 4.0's
//! `MEDIATYPE` and `PREF` become 3.0's `TYPE`. What cannot be written validly (a property name
//! no version allows, a binary value that is neither base64 nor a link, a property 4.0 removed)
//! is left out and said in a [`WriteNote`].

use std::fmt::Write as _;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use super::Version;
use super::text::escape;
use crate::card::{Card, Media, Name, Property};

/// Something the writer changed or left out to write valid vCard of the target version.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct WriteNote {
    /// The property, as the card had it (`X-MESSAGING/IRC-ALL`, `PHOTO`).
    pub property: String,
    /// Left out entirely (`false`: written, but with a parameter left out).
    pub dropped: bool,
    pub why: String,
}

pub(crate) fn write(card: &Card, version: Version, out: &mut String, notes: &mut Vec<WriteNote>) {
    let taken_groups = card
        .extra
        .iter()
        .filter_map(|p| p.group.as_deref())
        .map(str::to_ascii_lowercase)
        .collect();
    let mut w = Writer {
        out,
        version,
        item: 0,
        taken_groups,
        notes,
    };
    w.line(None, "BEGIN", &[], "VCARD");
    w.line(None, "VERSION", &[], version.as_str());
    let fn_value = card.display_name();
    w.line(None, "FN", &[], &escape(&fn_value));
    let name = card.name.clone().unwrap_or_default();
    if version == Version::V3 || !name.is_empty() {
        w.line(None, "N", &[], &structured_name(&name));
    }
    if let Some(phonetic) = card.phonetic.as_ref().filter(|p| !p.is_empty()) {
        for (prop, value) in [
            ("X-PHONETIC-LAST-NAME", &phonetic.family),
            ("X-PHONETIC-FIRST-NAME", &phonetic.given),
            ("X-PHONETIC-MIDDLE-NAME", &phonetic.additional),
        ] {
            if !value.is_empty() {
                w.line(None, prop, &[], &escape(value));
            }
        }
    }
    if !card.nicknames.is_empty() {
        w.line(None, "NICKNAME", &[], &list(&card.nicknames));
    }
    if card.org.is_some() || !card.departments.is_empty() {
        let mut parts = vec![escape(card.org.as_deref().unwrap_or_default()).into_owned()];
        parts.extend(card.departments.iter().map(|d| escape(d).into_owned()));
        w.line(None, "ORG", &[], &parts.join(";"));
    }
    if let Some(title) = &card.title {
        w.line(None, "TITLE", &[], &escape(title));
    }
    if let Some(role) = &card.role {
        w.line(None, "ROLE", &[], &escape(role));
    }
    w.contact_points(card);
    if let Some(note) = &card.note {
        w.line(None, "NOTE", &[], &escape(note));
    }
    if let Some(bday) = &card.birthday {
        w.line(None, "BDAY", &[], &escape(bday));
    }
    if !card.categories.is_empty() {
        w.line(None, "CATEGORIES", &[], &list(&card.categories));
    }
    for (prop, media) in card
        .photo
        .iter()
        .map(|m| ("PHOTO", m))
        .chain(card.logo.iter().map(|m| ("LOGO", m)))
        .chain(card.card_images.iter().map(|m| ("X-MINGPIAN-CARDIMAGE", m)))
    {
        w.media(prop, media);
    }
    if let Some(uid) = &card.uid {
        w.line(None, "UID", &[], &escape(uid));
    }
    if let Some(rev) = &card.revision {
        w.line(None, "REV", &[], rev);
    }
    for property in &card.extra {
        w.extra(property);
    }
    w.line(None, "END", &[], "VCARD");
}

impl Writer<'_> {
    /// TEL, EMAIL, ADR, URL and IMPP / X-SOCIALPROFILE: every way to reach the card's owner.
    fn contact_points(&mut self, card: &Card) {
        for phone in &card.phones {
            let params = self.type_params(&phone.kinds, phone.pref, &[]);
            let value = match self.version {
                Version::V4 => format!("tel:{}", phone.value.replace(' ', "-")),
                Version::V3 => escape(&phone.value).into_owned(),
            };
            let params = if self.version == Version::V4 {
                with(params, "VALUE", "uri")
            } else {
                params
            };
            self.labelled("TEL", &params, &value, phone.label.as_deref());
        }
        for email in &card.emails {
            let extra: &[&str] = if self.version == Version::V3 {
                &["INTERNET"]
            } else {
                &[]
            };
            let params = self.type_params(&email.kinds, email.pref, extra);
            self.labelled(
                "EMAIL",
                &params,
                &escape(&email.value),
                email.label.as_deref(),
            );
        }
        for adr in &card.addresses {
            let params = self.type_params(&adr.kinds, adr.pref, &[]);
            let value = [
                &adr.po_box,
                &adr.extended,
                &adr.street,
                &adr.locality,
                &adr.region,
                &adr.postal_code,
                &adr.country,
            ]
            .map(|p| escape(p).into_owned())
            .join(";");
            self.labelled("ADR", &params, &value, adr.label.as_deref());
        }
        for url in &card.urls {
            let params = self.type_params(&url.kinds, false, &[]);
            self.labelled("URL", &params, &escape(&url.value), url.label.as_deref());
        }
        for social in &card.socials {
            let (name, params) = if social.im {
                (
                    "IMPP",
                    vec![("X-SERVICE-TYPE".to_owned(), vec![social.service.clone()])],
                )
            } else {
                (
                    "X-SOCIALPROFILE",
                    vec![("TYPE".to_owned(), vec![social.service.clone()])],
                )
            };
            let params = if social.service.is_empty() {
                Vec::new()
            } else {
                params
            };
            self.labelled(
                name,
                &params,
                &escape(&social.value),
                social.label.as_deref(),
            );
        }
    }
}

/// The format a binary property's TYPE names (3.0's `TYPE=JPEG`), if any.
fn format_type(params: &[(String, Vec<String>)]) -> Option<String> {
    const FORMATS: [&str; 10] = [
        "JPEG", "JPG", "PNG", "GIF", "WEBP", "BMP", "WAV", "MP3", "PGP", "X509",
    ];
    params
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("TYPE"))
        .and_then(|(_, v)| {
            v.iter()
                .find(|t| FORMATS.contains(&t.to_ascii_uppercase().as_str()))
                .cloned()
        })
}

fn with(
    mut params: Vec<(String, Vec<String>)>,
    name: &str,
    value: &str,
) -> Vec<(String, Vec<String>)> {
    params.push((name.to_owned(), vec![value.to_owned()]));
    params
}

fn structured_name(name: &Name) -> String {
    [
        &name.family,
        &name.given,
        &name.additional,
        &name.prefixes,
        &name.suffixes,
    ]
    .map(|p| escape(p).into_owned())
    .join(";")
}

fn list(values: &[String]) -> String {
    values
        .iter()
        .map(|v| escape(v).into_owned())
        .collect::<Vec<_>>()
        .join(",")
}

struct Writer<'a> {
    out: &'a mut String,
    version: Version,
    /// Counter for Apple `itemN.` groups that carry labels.
    item: usize,
    /// Groups already used by kept properties, which our labels must not reuse.
    taken_groups: std::collections::HashSet<String>,
    notes: &'a mut Vec<WriteNote>,
}

/// A property or parameter name every version allows: letters, digits and `-`.
fn valid_name(name: &str) -> bool {
    !name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
}

/// A link in a scheme that binary values are linked with (`https://…`, `cid:…`); a value that
/// merely has a colon in it is not one.
fn is_uri(value: &str) -> bool {
    value.split_once(':').is_some_and(|(scheme, rest)| {
        !rest.is_empty()
            && matches!(
                scheme.to_ascii_lowercase().as_str(),
                "http" | "https" | "ftp" | "file" | "cid" | "urn" | "ldap" | "data" | "content"
            )
    })
}

/// The bytes of a base64 value (whitespace from folding ignored), if it is base64: as leniently
/// as the reader takes it, so what one writes the other reads the same.
fn base64_bytes(value: &str) -> Option<Vec<u8>> {
    use base64::Engine as _;
    let compact: Vec<u8> = value.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
    if compact.is_empty() {
        return None;
    }
    let unpadded = compact.iter().take_while(|&&b| b != b'=').count();
    super::read::LENIENT_B64
        .decode(&compact)
        .or_else(|_| super::read::LENIENT_B64.decode(&compact[..unpadded]))
        .ok()
        .filter(|d| !d.is_empty())
}

/// Properties vCard 4.0 removed (RFC 6350 appendix A).
const GONE_IN_V4: &[&str] = &[
    "AGENT",
    "CLASS",
    "LABEL",
    "MAILER",
    "NAME",
    "PROFILE",
    "SORT-STRING",
];
/// Properties whose value is binary or a link.
const BINARY: &[&str] = &["PHOTO", "LOGO", "SOUND", "KEY"];

impl Writer<'_> {
    fn type_params(
        &self,
        kinds: &[String],
        pref: bool,
        extra: &[&str],
    ) -> Vec<(String, Vec<String>)> {
        let mut types: Vec<String> = extra.iter().map(|s| (*s).to_owned()).collect();
        types.extend(kinds.iter().map(|k| match self.version {
            Version::V3 => k.to_ascii_uppercase(),
            Version::V4 => k.to_ascii_lowercase(),
        }));
        let mut params = Vec::new();
        if pref && self.version == Version::V3 {
            types.push("pref".to_owned());
        }
        if !types.is_empty() {
            params.push(("TYPE".to_owned(), types));
        }
        if pref && self.version == Version::V4 {
            params.push(("PREF".to_owned(), vec!["1".to_owned()]));
        }
        params
    }

    fn labelled(
        &mut self,
        name: &str,
        params: &[(String, Vec<String>)],
        value: &str,
        label: Option<&str>,
    ) {
        match label {
            Some(label) => {
                let group = loop {
                    self.item += 1;
                    let group = format!("item{}", self.item);
                    if !self.taken_groups.contains(&group) {
                        break group;
                    }
                };
                self.line(Some(&group), name, params, value);
                self.line(Some(&group), "X-ABLabel", &[], &escape(label));
            }
            None => self.line(None, name, params, value),
        }
    }

    fn note(&mut self, property: &str, dropped: bool, why: impl Into<String>) {
        self.notes.push(WriteNote {
            property: property.to_owned(),
            dropped,
            why: why.into(),
        });
    }

    /// Writes an unmodelled property in the target version's form (see the module docs).
    fn extra(&mut self, p: &Property) {
        let upper = p.name.to_ascii_uppercase();
        if !valid_name(&p.name) {
            self.note(&p.name, true, "not a valid vCard property name");
            return;
        }
        if self.version == Version::V4 && GONE_IN_V4.contains(&upper.as_str()) {
            self.note(&p.name, true, "not part of vCard 4.0");
            return;
        }
        let group = p.group.as_deref().filter(|g| valid_name(g));
        let mut params: Vec<(String, Vec<String>)> = Vec::new();
        let mut base64 = false;
        let mut media_type: Option<String> = None;
        for (key, values) in &p.params {
            let key_upper = key.to_ascii_uppercase();
            let first = values
                .first()
                .map(|v| v.to_ascii_uppercase())
                .unwrap_or_default();
            match key_upper.as_str() {
                // Values were decoded from their character set and transfer encoding on reading.
                "CHARSET" => {}
                "ENCODING" => match first.as_str() {
                    "B" | "BASE64" => base64 = true,
                    "QUOTED-PRINTABLE" | "8BIT" | "7BIT" => {}
                    _ => self.note(&p.name, false, format!("left out ENCODING={first}")),
                },
                "MEDIATYPE" => media_type = values.first().cloned(),
                "PREF" if self.version == Version::V3 => {
                    params.push(("TYPE".to_owned(), vec!["pref".to_owned()]));
                }
                _ if !valid_name(key) => {
                    self.note(&p.name, false, format!("left out the parameter {key:?}"));
                }
                _ => params.push((key.clone(), values.clone())),
            }
        }
        let binary = BINARY.contains(&upper.as_str());
        let value = p.value.as_str();
        let data = if base64 {
            base64_bytes(value)
        } else if let Some((head, payload)) = value
            .strip_prefix("data:")
            .and_then(|rest| rest.split_once(','))
            && head.ends_with(";base64")
        {
            // A 4.0 data URI: `data:image/png;base64,…`.
            media_type = media_type.or_else(|| Some(head.trim_end_matches(";base64").to_owned()));
            base64_bytes(payload)
        } else if binary && !is_uri(value) {
            base64_bytes(value)
        } else {
            None
        };
        if binary || base64 {
            if let Some(bytes) = data {
                self.inline_binary(p, group, params, media_type, &bytes);
                return;
            }
            let linked = params.iter().any(|(k, v)| {
                k.eq_ignore_ascii_case("VALUE")
                    && v.iter()
                        .any(|x| matches!(x.to_ascii_lowercase().as_str(), "uri" | "url"))
            });
            if !base64 && (linked || is_uri(value)) && !value.trim().is_empty() {
                params.retain(|(k, _)| !k.eq_ignore_ascii_case("VALUE"));
                params.push(("VALUE".to_owned(), vec!["uri".to_owned()]));
                if let (Version::V4, Some(m)) = (self.version, media_type) {
                    params.push(("MEDIATYPE".to_owned(), vec![m]));
                }
                self.kept(p, group, &params, value);
                return;
            }
            let why = if value.trim().is_empty() {
                "its value is empty"
            } else if base64 {
                "its value is marked base64 but is not"
            } else {
                "its value is neither base64 nor a link"
            };
            self.note(&p.name, true, why);
            return;
        }
        if let (Version::V4, Some(m)) = (self.version, media_type) {
            params.push(("MEDIATYPE".to_owned(), vec![m]));
        }
        self.kept(p, group, &params, value);
    }

    /// A binary property (a key, a sound, a picture the card does not model) inline, in the
    /// target version's only valid form: 3.0 `ENCODING=b` with the subtype as TYPE, 4.0 a data URI.
    fn inline_binary(
        &mut self,
        p: &Property,
        group: Option<&str>,
        mut params: Vec<(String, Vec<String>)>,
        media_type: Option<String>,
        bytes: &[u8],
    ) {
        let encoded = STANDARD.encode(bytes);
        match self.version {
            Version::V3 => {
                params.retain(|(k, _)| !k.eq_ignore_ascii_case("VALUE"));
                if let Some(subtype) = media_type.as_deref().and_then(|m| m.split('/').nth(1))
                    && format_type(&params).is_none()
                {
                    params.push(("TYPE".to_owned(), vec![subtype.to_ascii_uppercase()]));
                }
                params.insert(0, ("ENCODING".to_owned(), vec!["b".to_owned()]));
                self.kept(p, group, &params, &encoded);
            }
            Version::V4 => {
                let mime = media_type.or_else(|| {
                    format_type(&params).map(|t| match t.to_ascii_lowercase().as_str() {
                        "jpg" | "jpeg" => "image/jpeg".to_owned(),
                        "png" | "gif" | "webp" | "bmp" => {
                            format!("image/{}", t.to_ascii_lowercase())
                        }
                        "wav" => "audio/wav".to_owned(),
                        "mp3" => "audio/mpeg".to_owned(),
                        "pgp" => "application/pgp-keys".to_owned(),
                        _ => "application/pkix-cert".to_owned(),
                    })
                });
                let format = format_type(&params);
                // The format now lives in the data URI; VALUE has no place beside one.
                let format_param = |k: &str, v: &[String]| {
                    k.eq_ignore_ascii_case("TYPE") && format.as_ref().is_some_and(|f| v.contains(f))
                };
                params.retain(|(k, v)| !k.eq_ignore_ascii_case("VALUE") && !format_param(k, v));
                let mime = mime.unwrap_or_else(|| "application/octet-stream".to_owned());
                self.kept(p, group, &params, &format!("data:{mime};base64,{encoded}"));
            }
        }
    }

    /// Writes a kept property, noting when its form had to change for the target version.
    fn kept(
        &mut self,
        p: &Property,
        group: Option<&str>,
        params: &[(String, Vec<String>)],
        value: &str,
    ) {
        if params != p.params.as_slice() || value != p.value || group != p.group.as_deref() {
            self.note(
                &p.name,
                false,
                format!("written in vCard {} form", self.version.as_str()),
            );
        }
        self.line(group, &p.name, params, value);
    }

    fn media(&mut self, name: &str, media: &Media) {
        match media {
            Media::Uri { uri } => {
                let params = [("VALUE".to_owned(), vec!["uri".to_owned()])];
                self.line(None, name, &params, uri);
            }
            Media::Inline { mime, data } => {
                let encoded = STANDARD.encode(data);
                match self.version {
                    Version::V3 => {
                        let mut params = vec![("ENCODING".to_owned(), vec!["b".to_owned()])];
                        if let Some(subtype) =
                            mime.as_deref().and_then(|m| m.strip_prefix("image/"))
                        {
                            params.push(("TYPE".to_owned(), vec![subtype.to_ascii_uppercase()]));
                        }
                        self.line(None, name, &params, &encoded);
                    }
                    Version::V4 => {
                        let mime = mime.as_deref().unwrap_or("application/octet-stream");
                        self.line(None, name, &[], &format!("data:{mime};base64,{encoded}"));
                    }
                }
            }
        }
    }

    /// Writes one property, folded.
    fn line(
        &mut self,
        group: Option<&str>,
        name: &str,
        params: &[(String, Vec<String>)],
        value: &str,
    ) {
        let mut line = String::with_capacity(name.len() + value.len() + 16);
        if let Some(group) = group {
            line.push_str(group);
            line.push('.');
        }
        line.push_str(name);
        for (pname, values) in params {
            let _ = write!(line, ";{pname}");
            if !values.is_empty() {
                line.push('=');
                let joined: Vec<String> = values.iter().map(|v| quote_param(v)).collect();
                line.push_str(&joined.join(","));
            }
        }
        // A line break in any part would end the property early (and could start a forged
        // `BEGIN:VCARD`): header parts lose them, values carry them as `\n`.
        if line.contains(['\r', '\n']) {
            line = line.replace(['\r', '\n'], " ");
        }
        line.push(':');
        if value.contains(['\r', '\n']) {
            line.push_str(&value.replace("\r\n", "\\n").replace(['\r', '\n'], "\\n"));
        } else {
            line.push_str(value);
        }
        fold_into(self.out, &line);
    }
}

fn quote_param(value: &str) -> String {
    if value.contains([':', ';', ',']) {
        format!("\"{}\"", value.replace('"', "'"))
    } else {
        value.to_owned()
    }
}

/// Appends `line` folded at 75 octets without splitting a UTF-8 character, then CRLF.
fn fold_into(out: &mut String, line: &str) {
    const LIMIT: usize = 75;
    let mut start = 0;
    let mut first = true;
    while start < line.len() {
        let room = if first { LIMIT } else { LIMIT - 1 };
        let mut end = (start + room).min(line.len());
        while !line.is_char_boundary(end) {
            end -= 1;
        }
        if !first {
            out.push(' ');
        }
        out.push_str(&line[start..end]);
        out.push_str("\r\n");
        start = end;
        first = false;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_extra(extra: Vec<Property>) -> Card {
        Card {
            formatted_name: "Kept".into(),
            extra,
            ..Card::default()
        }
    }

    fn prop(name: &str, params: &[(&str, &str)], value: &str) -> Property {
        Property {
            group: None,
            name: name.into(),
            params: params
                .iter()
                .map(|(k, v)| ((*k).to_owned(), vec![(*v).to_owned()]))
                .collect(),
            value: value.into(),
        }
    }

    fn written(card: &Card, version: Version) -> (String, Vec<WriteNote>) {
        let mut out = String::new();
        let mut notes = Vec::new();
        write(card, version, &mut out, &mut notes);
        (out, notes)
    }

    #[test]
    fn only_what_the_target_version_allows_is_written_and_drops_are_said() {
        let card = with_extra(vec![
            prop("PHOTO", &[("ENCODING", "8bit")], "\u{1}\u{2}raw bytes"),
            prop(
                "KEY",
                &[("MEDIATYPE", "application/pgp-keys")],
                "https://example.com/k.asc",
            ),
            prop("X-MESSAGING/IRC-ALL", &[], "konqui"),
            prop(
                "SOUND",
                &[("ENCODING", "BASE64"), ("TYPE", "WAV")],
                "UklGRg==",
            ),
            prop("LABEL", &[("CHARSET", "UTF-8")], "1 Main St"),
        ]);
        let (v3, notes) = written(&card, Version::V3);
        assert!(!v3.to_ascii_uppercase().contains("8BIT"), "{v3}");
        assert!(!v3.contains("MEDIATYPE"), "MEDIATYPE is 4.0: {v3}");
        assert!(
            v3.contains("KEY;VALUE=uri:https://example.com/k.asc"),
            "{v3}"
        );
        assert!(v3.contains("SOUND;ENCODING=b;TYPE=WAV:UklGRg=="), "{v3}");
        assert!(v3.contains("LABEL:1 Main St"), "no CHARSET in 3.0: {v3}");
        let dropped: Vec<&str> = notes
            .iter()
            .filter(|n| n.dropped)
            .map(|n| n.property.as_str())
            .collect();
        assert_eq!(dropped, ["PHOTO", "X-MESSAGING/IRC-ALL"], "{notes:?}");

        let (v4, notes) = written(&card, Version::V4);
        assert!(v4.contains("SOUND:data:audio/wav;base64,UklGRg=="), "{v4}");
        assert!(
            v4.contains("KEY;VALUE=uri;MEDIATYPE=application/pgp-keys:https://example.com/k.asc"),
            "{v4}"
        );
        assert!(!v4.contains("LABEL"), "4.0 has no LABEL property: {v4}");
        assert!(!v4.contains("ENCODING"), "{v4}");
        assert!(
            notes
                .iter()
                .any(|n| n.dropped && n.property == "LABEL" && n.why.contains("4.0")),
            "{notes:?}"
        );
    }

    #[test]
    fn folds_on_character_boundaries_within_75_octets() {
        let mut out = String::new();
        let line = format!("NOTE:{}", "名片交换".repeat(20));
        fold_into(&mut out, &line);
        for physical in out.split("\r\n").filter(|l| !l.is_empty()) {
            assert!(
                physical.len() <= 75,
                "line of {} octets: {physical}",
                physical.len()
            );
        }
        let unfolded: String = out
            .split("\r\n")
            .enumerate()
            .map(|(i, l)| {
                if i == 0 {
                    l
                } else {
                    l.strip_prefix(' ').unwrap_or(l)
                }
            })
            .collect();
        assert_eq!(unfolded, line, "unfolding gives back the line");
    }
}
