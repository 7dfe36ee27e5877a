//! [`Card`] → vCard 3.0 or 4.0 text: CRLF line ends, folded at 75 octets on character boundaries.

use std::fmt::Write as _;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use super::Version;
use super::text::escape;
use crate::card::{Card, Media, Name, Property};

pub(crate) fn write(card: &Card, version: Version, out: &mut String) {
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
    for phone in &card.phones {
        let params = w.type_params(&phone.kinds, phone.pref, &[]);
        let value = match version {
            Version::V4 => format!("tel:{}", phone.value.replace(' ', "-")),
            Version::V3 => escape(&phone.value).into_owned(),
        };
        let params = if version == Version::V4 {
            with(params, "VALUE", "uri")
        } else {
            params
        };
        w.labelled("TEL", &params, &value, phone.label.as_deref());
    }
    for email in &card.emails {
        let extra: &[&str] = if version == Version::V3 {
            &["INTERNET"]
        } else {
            &[]
        };
        let params = w.type_params(&email.kinds, email.pref, extra);
        w.labelled(
            "EMAIL",
            &params,
            &escape(&email.value),
            email.label.as_deref(),
        );
    }
    for adr in &card.addresses {
        let params = w.type_params(&adr.kinds, adr.pref, &[]);
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
        w.labelled("ADR", &params, &value, adr.label.as_deref());
    }
    for url in &card.urls {
        let params = w.type_params(&url.kinds, false, &[]);
        w.labelled("URL", &params, &escape(&url.value), url.label.as_deref());
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
        w.labelled(
            name,
            &params,
            &escape(&social.value),
            social.label.as_deref(),
        );
    }
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
    for Property {
        group,
        name,
        params,
        value,
    } in &card.extra
    {
        w.line(group.as_deref(), name, params, value);
    }
    w.line(None, "END", &[], "VCARD");
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
}

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
