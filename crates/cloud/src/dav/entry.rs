//! One address-book entry: what a wallet contact publishes (every number and email of its
//! verified cards, the shown card's company and title, the photo, the user's note and tags), and
//! how an edit made in the phone's address book becomes the user's own edit of that contact.

use mingpian_card::vcard::{self, Version};
use mingpian_card::wallet::{Candidate, ContactEdit, Trust, records, shown};
use mingpian_card::{Card, Email, Media, Phone, limits};

use crate::store::ContactParts;

/// Largest inline photo published: address books show a thumbnail.
const MAX_PHOTO_BYTES: usize = 256 * 1024;
/// Most cards of one contact an entry is made from (the ones held longest).
const MAX_CARDS: usize = 50;

/// The card a contact publishes, as JSON; `None` when it is not published: in the bin, or
/// made only of unverified cards (web replies the user has not accepted).
pub fn build(parts: &ContactParts) -> Option<String> {
    let contact = parts.contact.as_ref()?;
    if contact.deleted_at.is_some() {
        return None;
    }
    let own = contact.own.clone().unwrap_or_default();
    // Records arrive by sync, where only their size was checked: a card past the card limits
    // (thousands of numbers, say) is not published rather than weighed.
    let candidates: Vec<Candidate> = parts
        .cards
        .iter()
        .filter(|c| c.card.trust() == Trust::Verified)
        .filter(|c| {
            c.content
                .as_ref()
                .is_some_and(|card| limits::check(card).is_ok())
        })
        .take(MAX_CARDS)
        .filter_map(|c| {
            Some(Candidate {
                id: c.id.clone(),
                card: c.content.clone()?,
                full: c.card.full,
                verified: true,
                uses: c.uses,
                received_at: c.first_at,
            })
        })
        .collect();
    if candidates.is_empty() && own.name.is_none() {
        return None;
    }
    let shown = shown(&candidates, &own, contact.primary_card_id.as_deref());
    let base = shown.card.map(|i| &candidates[i].card);
    let pool: Vec<&Card> = shown.pool.iter().map(|&i| &candidates[i].card).collect();
    let mut card = Card {
        formatted_name: shown.name,
        org: shown.org,
        title: shown.title,
        note: Some(contact.note.trim().to_owned()).filter(|n| !n.is_empty()),
        categories: contact.tags.clone(),
        ..Card::default()
    };
    if let Some(base) = base {
        if own.name.is_none() {
            card.name = base.name.clone();
            card.phonetic = base.phonetic.clone();
        }
        if card.org == base.org {
            card.departments = base.departments.clone();
        }
        card.nicknames = base.nicknames.clone();
        card.addresses = base.addresses.clone();
        card.urls = base.urls.clone();
        card.socials = base.socials.clone();
        card.birthday = base.birthday.clone();
    }
    card.phones = with_kinds(
        &shown.phones,
        &pool,
        |c| &c.phones,
        |p| &p.value,
        |value| Phone {
            value,
            ..Phone::default()
        },
    );
    card.emails = with_kinds(
        &shown.emails,
        &pool,
        |c| &c.emails,
        |e| &e.value,
        |value| Email {
            value,
            ..Email::default()
        },
    );
    card.photo = pool.iter().find_map(|c| match &c.photo {
        Some(Media::Inline { data, .. }) if data.len() > MAX_PHOTO_BYTES => None,
        other => other.clone(),
    });
    serde_json::to_string(&card).ok()
}

/// Each shown value as the first card of `pool` that has it writes it (its kinds, label,
/// preference), or plain when none does (the user's own edit).
fn with_kinds<T: Clone>(
    shown: &[String],
    pool: &[&Card],
    of: fn(&Card) -> &Vec<T>,
    value: fn(&T) -> &String,
    plain: fn(String) -> T,
) -> Vec<T> {
    shown
        .iter()
        .map(|v| {
            pool.iter()
                .flat_map(|c| of(c))
                .find(|item| value(item) == v)
                .cloned()
                .unwrap_or_else(|| plain(v.clone()))
        })
        .collect()
}

/// An entry as a vCard, its UID the contact's id (stable for as long as the contact lives).
pub fn render(contact_id: &str, card_json: &str, version: Version) -> String {
    let mut card: Card = serde_json::from_str(card_json).unwrap_or_default();
    card.uid = Some(contact_id.to_owned());
    vcard::write(&card, version)
}

fn text(v: &Option<String>) -> Option<String> {
    v.as_deref()
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(str::to_owned)
}

/// A number reduced for comparison: its digits and a leading `+`.
fn phone_key(v: &str) -> String {
    let t = v.trim();
    let digits: String = t.chars().filter(char::is_ascii_digit).collect();
    if t.starts_with('+') {
        format!("+{digits}")
    } else {
        digits
    }
}

fn same_set(a: &[String], b: &[String], key: fn(&str) -> String) -> bool {
    let mut a: Vec<String> = a.iter().map(|v| key(v)).filter(|v| !v.is_empty()).collect();
    let mut b: Vec<String> = b.iter().map(|v| key(v)).filter(|v| !v.is_empty()).collect();
    a.sort();
    a.dedup();
    b.sort();
    b.dedup();
    a == b
}

/// Applies what changed between the entry as published and the card the address book sent to
/// the contact: a different name, company, title, set of numbers or of emails becomes the
/// user's own edit of that field; the note and the tags (CATEGORIES) are the contact's own.
/// What did not change stays as it was, so an address book that sends back what it got changes
/// nothing, and the cards themselves are never touched. Photo and address edits are not taken.
pub fn apply_edit(published: &Card, sent: &Card, contact: &mut records::Contact) {
    let mut own: ContactEdit = contact.own.clone().unwrap_or_default();
    let name = sent.display_name();
    if !name.trim().is_empty() && name.trim() != published.formatted_name.trim() {
        own.name = Some(name.trim().to_owned());
    }
    if text(&sent.org) != text(&published.org) {
        own.org = text(&sent.org);
    }
    if text(&sent.title) != text(&published.title) {
        own.title = text(&sent.title);
    }
    let values = |c: &Card| c.phones.iter().map(|p| p.value.clone()).collect::<Vec<_>>();
    let (sent_phones, published_phones) = (values(sent), values(published));
    if !same_set(&sent_phones, &published_phones, phone_key) {
        own.phones = Some(sent_phones);
    }
    let values = |c: &Card| c.emails.iter().map(|e| e.value.clone()).collect::<Vec<_>>();
    let (sent_emails, published_emails) = (values(sent), values(published));
    if !same_set(&sent_emails, &published_emails, |v| v.trim().to_lowercase()) {
        own.emails = Some(sent_emails);
    }
    let note = sent.note.as_deref().unwrap_or_default().trim();
    if note != published.note.as_deref().unwrap_or_default().trim() {
        contact.note = note.to_owned();
    }
    if sent.categories != published.categories {
        contact.tags = sent
            .categories
            .iter()
            .map(|t| t.trim().to_owned())
            .filter(|t| !t.is_empty())
            .collect();
    }
    let own = own.cleaned();
    contact.own = (!own.is_empty()).then_some(own);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::CardParts;

    fn phone(v: &str) -> Phone {
        Phone {
            value: v.into(),
            ..Phone::default()
        }
    }

    fn parts(cards: Vec<(&str, &str, Card)>) -> ContactParts {
        ContactParts {
            contact: Some(records::Contact {
                note: "met at the fair".into(),
                tags: vec!["client".into()],
                created_at: 1,
                deleted_at: None,
                primary_card_id: None,
                own: None,
            }),
            cards: cards
                .into_iter()
                .enumerate()
                .map(|(i, (id, source, content))| CardParts {
                    id: id.into(),
                    card: serde_json::from_value(serde_json::json!({
                        "contact_id": "c1", "source": source
                    }))
                    .expect("card record"),
                    content: Some(content),
                    uses: 0,
                    first_at: i as i64,
                })
                .collect(),
        }
    }

    #[test]
    fn an_entry_carries_every_verified_number_and_no_unverified_one() {
        let li = Card {
            formatted_name: "Li Lei".into(),
            org: Some("Acme".into()),
            phones: vec![phone("+86 138 0013 8000")],
            ..Card::default()
        };
        let li_new_job = Card {
            formatted_name: "Li Lei".into(),
            org: Some("Beta".into()),
            phones: vec![phone("+86 139 0000 0001")],
            ..Card::default()
        };
        let forged = Card {
            formatted_name: "Someone Else".into(),
            phones: vec![phone("+86 170 0000 0000")],
            ..Card::default()
        };
        let json = build(&parts(vec![
            ("k1", "exchange", li),
            ("k2", "exchange", li_new_job),
            ("k3", "web", forged),
        ]))
        .expect("published");
        let card: Card = serde_json::from_str(&json).expect("card");
        assert_eq!(card.formatted_name, "Li Lei");
        assert_eq!(card.org.as_deref(), Some("Acme"), "the card held longest");
        let numbers: Vec<&str> = card.phones.iter().map(|p| p.value.as_str()).collect();
        assert_eq!(numbers, ["+86 138 0013 8000", "+86 139 0000 0001"]);
        assert_eq!(card.note.as_deref(), Some("met at the fair"));
        assert_eq!(card.categories, ["client"]);
        let only_web = parts(vec![("k3", "web", Card::default())]);
        assert_eq!(build(&only_web), None, "web replies wait for the user");
    }

    #[test]
    fn an_unchanged_card_sent_back_changes_nothing_and_an_edit_is_the_users_own() {
        let published = Card {
            formatted_name: "Li Lei".into(),
            org: Some("Acme".into()),
            phones: vec![phone("+86 138 0013 8000")],
            note: Some("met at the fair".into()),
            categories: vec!["client".into()],
            ..Card::default()
        };
        let mut contact = parts(vec![]).contact.expect("contact");
        let before = contact.clone();
        // The same card, written the way an address book does: spaces and order differ.
        let mut same = published.clone();
        same.phones = vec![phone("+8613800138000")];
        apply_edit(&published, &same, &mut contact);
        assert_eq!(contact, before);
        let mut edited = published.clone();
        edited.formatted_name = "Li Lei (Acme)".into();
        edited.phones.push(phone("+86 139 0000 0001"));
        edited.note = Some("call after 6".into());
        apply_edit(&published, &edited, &mut contact);
        let own = contact.own.clone().expect("own edit");
        assert_eq!(own.name.as_deref(), Some("Li Lei (Acme)"));
        assert_eq!(
            own.phones,
            Some(vec!["+86 138 0013 8000".into(), "+86 139 0000 0001".into()])
        );
        assert_eq!(own.org, None, "the company was not edited");
        assert_eq!(contact.note, "call after 6");
    }
}
