//! The wallet commands: list, search, show, notes and tags, import and export — each a thin call
//! into `mingpian-wallet`.

use std::path::PathBuf;

use anyhow::Context as _;
use clap::Subcommand;
use mingpian_wallet::{
    Contact, ContactEdit, EventKind, ExportFormat, Progress, ShownBy, Trust, Wallet,
};

use crate::Outcome;
use crate::cmd::client::show_progress;
use crate::output::Output;
use crate::when;

#[derive(Debug, Subcommand)]
pub enum WalletCommand {
    /// Every contact, alphabetically (Chinese names by pinyin).
    List,
    /// Contacts whose name, pinyin, initials, company, title, phone digits, email or tags contain
    /// QUERY.
    Search {
        query: String,
        #[arg(long, default_value_t = 50)]
        limit: usize,
    },
    /// A contact with every card, version and meeting.
    Show { id: String },
    /// Set a contact's note.
    Note { id: String, text: String },
    /// Set a contact's tags (replacing them).
    Tag { id: String, tags: Vec<String> },
    /// Move a contact to the bin.
    Delete { id: String },
    /// Take a contact back out of the bin.
    Undelete { id: String },
    /// Give a card that was linked by phone or email a contact of its own.
    Unlink { card_id: String },
    /// Choose the card a contact shows (its name, number and email); `--rule` goes back to the
    /// rule (the full card of the set you met most often).
    Primary {
        id: String,
        #[arg(required_unless_present = "rule")]
        card_id: Option<String>,
        #[arg(long, conflicts_with = "card_id")]
        rule: bool,
    },
    /// Accept a card sent from the web page (unverified until you do).
    Accept { card_id: String },
    /// Your own edit of a contact, shown over its cards and never overwritten by one that
    /// arrives; `--clear` removes it. The cards stay as their owners gave them.
    Edit {
        id: String,
        #[arg(long)]
        name: Option<String>,
        #[arg(long)]
        org: Option<String>,
        #[arg(long)]
        title: Option<String>,
        /// Give once per number; replaces the numbers the contact shows.
        #[arg(long = "phone")]
        phones: Vec<String>,
        /// Give once per address; replaces the emails the contact shows.
        #[arg(long = "email")]
        emails: Vec<String>,
        #[arg(long, conflicts_with_all = ["name", "org", "title", "phones", "emails"])]
        clear: bool,
    },
}

/// What a history entry was, in words.
fn event_words(kind: EventKind) -> &'static str {
    match kind {
        EventKind::Scanned => "you scanned their code",
        EventKind::Received => "they scanned your code",
        EventKind::WebReply => "sent from the web page",
        EventKind::ScannedVcard => "you scanned a card code",
        EventKind::Unknown => "met",
    }
}

fn plural(n: usize, one: &str, many: &str) -> String {
    if n == 1 {
        format!("1 {one}")
    } else {
        format!("{n} {many}")
    }
}

fn line(c: &Contact) -> String {
    let mut parts = vec![c.name.clone()];
    if let Some(org) = &c.org {
        parts.push(org.clone());
    }
    if let Some(p) = c.phones.first() {
        parts.push(p.clone());
    }
    if let Some(e) = c.emails.first() {
        parts.push(e.clone());
    }
    let cards = if c.card_count > 1 {
        format!("  [{} cards]", c.card_count)
    } else {
        String::new()
    };
    format!("{}  {}{cards}", c.id, parts.join(" · "))
}

pub fn run(w: &Wallet, command: WalletCommand, out: &Output) -> anyhow::Result<Outcome> {
    match command {
        WalletCommand::List => list(w, out)?,
        WalletCommand::Search { query, limit } => {
            let found = w.search(&query, limit)?;
            if out.json() {
                out.value(&found)?;
            } else {
                for c in &found.contacts {
                    out.line(line(c))?;
                }
                out.line(format!("{} found", found.total))?;
            }
        }
        WalletCommand::Show { id } => show(w, &id, out)?,
        WalletCommand::Note { id, text } => {
            w.set_note(&id, &text)?;
            changed(w, &id, "note saved", out)?;
        }
        WalletCommand::Tag { id, tags } => {
            w.set_tags(&id, &tags)?;
            changed(w, &id, "tags saved", out)?;
        }
        WalletCommand::Delete { id } => {
            w.delete_contact(&id)?;
            if out.json() {
                out.value(&serde_json::json!({ "deleted": id }))?;
            }
            out.line(format!(
                "moved to the bin (undo: mingpian wallet undelete {id})"
            ))?;
        }
        WalletCommand::Undelete { id } => {
            w.undelete_contact(&id)?;
            changed(w, &id, "restored from the bin", out)?;
        }
        WalletCommand::Primary { id, card_id, rule } => {
            let card = if rule { None } else { card_id.as_deref() };
            w.set_primary_card(&id, card)?;
            changed(w, &id, "the contact now shows that card", out)?;
        }
        WalletCommand::Accept { card_id } => {
            w.accept_card(&card_id)?;
            let contact = w.card(&card_id)?.contact_id;
            changed(w, &contact, "accepted", out)?;
        }
        WalletCommand::Edit {
            id,
            name,
            org,
            title,
            phones,
            emails,
            clear,
        } => {
            let edit = if clear {
                ContactEdit::default()
            } else {
                own_edit(w, &id, name, org, title, phones, emails)?
            };
            w.edit_contact(&id, &edit)?;
            changed(w, &id, "saved", out)?;
        }
        WalletCommand::Unlink { card_id } => {
            let contact = w.unlink_card(&card_id)?;
            if out.json() {
                out.value(&serde_json::json!({ "contact_id": contact }))?;
            } else {
                out.line(format!("the card is now contact {contact}"))?;
            }
        }
    }
    Ok(Outcome::Ok)
}

/// Every contact, A–Z with section letters.
fn list(w: &Wallet, out: &Output) -> anyhow::Result<()> {
    if out.json() {
        out.value(&w.contacts_with_cards()?)?;
    } else {
        let contacts = w.contacts()?;
        let mut section = String::new();
        for c in &contacts {
            if c.section != section {
                section = c.section.clone();
                out.line(format!("— {section} —"))?;
            }
            out.line(line(c))?;
        }
        out.line(plural(contacts.len(), "contact", "contacts"))?;
    }
    Ok(())
}

/// One contact: what it shows and why, each card with its marks, and when they met.
fn show(w: &Wallet, id: &str, out: &Output) -> anyhow::Result<()> {
    let detail = w.contact(id)?;
    if out.json() {
        out.value(&detail)?;
    } else {
        let c = &detail.contact;
        out.line(format!("{}  ({})", c.name, c.id))?;
        if !c.tags.is_empty() {
            out.line(format!("tags: {}", c.tags.join(", ")))?;
        }
        if !c.note.is_empty() {
            out.line(format!("note: {}", c.note))?;
        }
        let shown = detail
            .cards
            .iter()
            .find(|k| Some(&k.id) == c.shown_card_id.as_ref())
            .map(|k| format!("card {} ({})", k.id, k.card.display_name()));
        out.line(match (c.shown_by, shown) {
            (ShownBy::Own, _) => "shown from: your own edit".to_owned(),
            (ShownBy::Primary, Some(card)) => {
                format!("shown from: {card}, which you chose")
            }
            (_, Some(card)) => format!(
                "shown from: {card}, the full card you met most often (`mingpian wallet primary` to choose)"
            ),
            (_, None) => "shown from: no card".to_owned(),
        })?;
        for card in &detail.cards {
            let mut marks = Vec::new();
            if card.trust == Trust::Unverified {
                marks.push("unverified: sent from the web page".to_owned());
            }
            if !card.full {
                marks.push("printed fields only".to_owned());
            }
            marks.push(format!("received {}", when::local(card.received_at)));
            out.line(format!(
                "card {} — {} ({}, linked by {}, {})  [{}]",
                card.id,
                card.card.display_name(),
                serde_json::to_value(card.source)?.as_str().unwrap_or(""),
                card.linked_by.as_str(),
                plural(card.versions as usize, "version", "versions"),
                marks.join("; ")
            ))?;
            let text = mingpian_card::vcard::write(&card.card, mingpian_card::vcard::Version::V3);
            for l in text.lines() {
                if !l.starts_with("BEGIN")
                    && !l.starts_with("END")
                    && !l.starts_with("VERSION")
                    && !l.starts_with("PHOTO")
                    && !l.starts_with(' ')
                {
                    out.line(format!("    {l}"))?;
                }
            }
        }
        for e in &detail.history {
            out.line(format!(
                "met: {}, {}{}",
                when::local(e.at),
                event_words(e.kind),
                e.place
                    .as_deref()
                    .map(|p| format!(", in {p}"))
                    .unwrap_or_default()
            ))?;
        }
    }
    Ok(())
}

/// The user's edit of a contact with the given fields changed (the others kept).
fn own_edit(
    w: &Wallet,
    id: &str,
    name: Option<String>,
    org: Option<String>,
    title: Option<String>,
    phones: Vec<String>,
    emails: Vec<String>,
) -> anyhow::Result<ContactEdit> {
    let mut edit = w.contact(id)?.contact.own.unwrap_or_default();
    edit.name = name.or(edit.name);
    edit.org = org.or(edit.org);
    edit.title = title.or(edit.title);
    if !phones.is_empty() {
        edit.phones = Some(phones);
    }
    if !emails.is_empty() {
        edit.emails = Some(emails);
    }
    Ok(edit)
}

/// After a change: the contact as it now is (JSON), or a word (text).
fn changed(w: &Wallet, id: &str, said: &str, out: &Output) -> anyhow::Result<()> {
    if out.json() {
        out.value(&w.contact(id)?)
    } else {
        out.line(said)
    }
}

fn progress_printer(out: &Output, verb: &'static str) -> impl FnMut(Progress) {
    let show = show_progress(out);
    move |p: Progress| {
        if show {
            eprint!("\r{verb} {}/{}", p.done, p.total);
            if p.done == p.total {
                eprintln!();
            }
        }
    }
}

pub fn import(w: &Wallet, files: &[PathBuf], out: &Output) -> anyhow::Result<Outcome> {
    let mut progress = progress_printer(out, "importing");
    let report = w.import_files(files, &mut progress)?;
    if out.json() {
        out.value(&report)?;
    } else {
        out.line(format!(
            "read {} card(s) from {} file(s): {} new, {} linked to existing contacts, {} updated, {} unchanged",
            report.read, report.files, report.added, report.linked, report.updated, report.unchanged
        ))?;
        for e in &report.errors {
            eprintln!("mingpian: {e}");
        }
    }
    Ok(if report.errors.is_empty() {
        Outcome::Ok
    } else {
        Outcome::Problems
    })
}

pub fn export(
    w: &Wallet,
    format: &str,
    output: &PathBuf,
    contacts: &[String],
    out: &Output,
) -> anyhow::Result<Outcome> {
    let format = ExportFormat::parse(format)?;
    let mut progress = progress_printer(out, "exporting");
    let selection = (!contacts.is_empty()).then_some(contacts);
    let bytes = w.export(format, selection, &mut progress)?;
    std::fs::write(output, &bytes).with_context(|| format!("writing {}", output.display()))?;
    if out.json() {
        out.value(&serde_json::json!({
            "format": format,
            "file": output.display().to_string(),
            "bytes": bytes.len(),
        }))?;
    } else {
        out.line(format!(
            "wrote {} ({} bytes)",
            output.display(),
            bytes.len()
        ))?;
    }
    Ok(Outcome::Ok)
}
