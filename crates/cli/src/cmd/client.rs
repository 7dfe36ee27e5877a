//! The client commands: account, card sets and codes, scan, inbox, sync and restore — each a thin
//! call into `mingpian-wallet`.

use std::io::{BufRead as _, IsTerminal as _};
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context as _, bail};
use clap::{Args, Subcommand};
use mingpian_card::api::{CardField, LoginRequest, RegisterRequest};
use mingpian_card::qr::image as qr_image;
use mingpian_card::vcard;
use mingpian_wallet::{LinkedBy, Received, ScanResult, Wallet, WalletError, media_from_bytes};
use serde::Serialize;

use crate::Outcome;
use crate::output::Output;

#[derive(Debug, Args)]
pub struct RegisterArgs {
    /// The cloud, e.g. https://mingpian.example or http://127.0.0.1:8080.
    #[arg(long, env = "MINGPIAN_SERVER")]
    server: String,
    #[arg(long)]
    name: String,
    /// Your mobile number (set 1 of your card shows it).
    #[arg(long)]
    phone: Option<String>,
    #[arg(long)]
    email: Option<String>,
    /// Read the password from the first line of standard input.
    #[arg(long, required = true)]
    password_stdin: bool,
}

#[derive(Debug, Args)]
pub struct LoginArgs {
    #[arg(long, env = "MINGPIAN_SERVER")]
    server: String,
    /// Account name, phone number or email.
    #[arg(long)]
    name: String,
    #[arg(long, required = true)]
    password_stdin: bool,
}

#[derive(Debug, Subcommand)]
pub enum CardCommand {
    /// Publish a new card set (the next free number) from a vCard file.
    Add {
        #[command(flatten)]
        content: SetContent,
    },
    /// Replace card set N; holders get the new version on their next sync.
    Edit {
        n: u32,
        #[command(flatten)]
        content: SetContent,
    },
    /// List your card sets.
    List,
    /// Read a draft card from a photo of a paper card (and its back), on this computer.
    FromPhoto {
        front: PathBuf,
        back: Option<PathBuf>,
        /// Region for numbers printed without a country code.
        #[arg(long, default_value = "CN")]
        region: String,
        /// The front card's corners in the photo, clockwise from the top-left, in pixels:
        /// "X,Y X,Y X,Y X,Y" (default: found in the photo).
        #[arg(long, conflicts_with = "whole")]
        corners: Option<String>,
        /// Read the photos as they are: no frame, no turning.
        #[arg(long)]
        whole: bool,
    },
}

#[derive(Debug, Args)]
pub struct SetContent {
    /// The card's fields (the first card in the file).
    #[arg(long)]
    vcf: PathBuf,
    /// Avatar picture (JPEG, PNG or WebP).
    #[arg(long)]
    avatar: Option<PathBuf>,
    /// Picture of the card itself; give twice for front and back.
    #[arg(long = "image")]
    images: Vec<PathBuf>,
    /// Fields a printed code shows, comma-separated (name,org,title,phones,emails,addresses,
    /// urls,socials,note,birthday,photo,logo,card_images). Default: no mobile, no address.
    #[arg(long, value_delimiter = ',')]
    printed_fields: Option<Vec<String>>,
}

#[derive(Debug, Args)]
pub struct QrShowArgs {
    /// Which of your card sets (default: set 1, the one your first card filled).
    #[arg(long)]
    set: Option<u32>,
    /// The printed code (stable, public fields) instead of a live one (whole card, expires).
    #[arg(long)]
    printed: bool,
    /// Write the code to FILE.png or FILE.svg.
    #[arg(short, long, conflicts_with = "terminal")]
    output: Option<PathBuf>,
    /// Draw the code in the terminal.
    #[arg(long)]
    terminal: bool,
}

#[derive(Debug, Args)]
pub struct ScanArgs {
    /// A picture of a code, or the text a scanner read.
    what: String,
    /// Which of your sets to give back.
    #[arg(long, default_value_t = 1, conflicts_with = "save_only")]
    give_set: u32,
    /// Take their card and give nothing back (their inbox gets nothing).
    #[arg(long)]
    save_only: bool,
    /// Where you met (kept in the history).
    #[arg(long)]
    place: Option<String>,
}

pub fn rt() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")
}

fn password_from_stdin() -> anyhow::Result<String> {
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .context("reading the password from standard input")?;
    let password = line.trim_end_matches(['\n', '\r']).to_owned();
    if password.is_empty() {
        bail!("no password on standard input");
    }
    Ok(password)
}

fn device_name() -> String {
    let host = std::fs::read_to_string("/etc/hostname")
        .ok()
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "this computer".into());
    format!("mingpian CLI on {host}")
}

pub fn register(w: &Wallet, args: RegisterArgs, out: &Output) -> anyhow::Result<Outcome> {
    let password = password_from_stdin()?;
    let session = rt()?.block_on(w.register(
        &args.server,
        RegisterRequest {
            name: args.name,
            phone: args.phone,
            email: args.email,
            password,
            device_name: Some(device_name()),
        },
    ))?;
    signed_in(
        &session,
        "registered {name} on {server}; your card is set 1 (`mingpian qr show` to share it)",
        out,
    )
}

/// The session (JSON), or one line for people: `said` with `{name}` and `{server}` filled in.
fn signed_in(
    session: &mingpian_wallet::SessionInfo,
    said: &str,
    out: &Output,
) -> anyhow::Result<Outcome> {
    if out.json() {
        out.value(session)?;
    } else {
        out.line(
            said.replace("{name}", &session.account.name)
                .replace("{server}", &session.server),
        )?;
    }
    Ok(Outcome::Ok)
}

pub fn login(w: &Wallet, args: LoginArgs, out: &Output) -> anyhow::Result<Outcome> {
    let password = password_from_stdin()?;
    let session = rt()?.block_on(w.login(
        &args.server,
        LoginRequest {
            login: args.name,
            password,
            device_name: Some(device_name()),
        },
    ))?;
    signed_in(
        &session,
        "logged in as {name} on {server} (`mingpian restore` brings back a lost phone's wallet)",
        out,
    )
}

fn read_image(path: &Path) -> anyhow::Result<mingpian_card::Media> {
    let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    media_from_bytes(bytes).with_context(|| path.display().to_string())
}

fn parse_fields(names: &[String]) -> anyhow::Result<Vec<CardField>> {
    names
        .iter()
        .map(|n| {
            serde_json::from_value(serde_json::Value::String(n.trim().to_owned()))
                .map_err(|_| anyhow::anyhow!("unknown printed field {n:?}"))
        })
        .collect()
}

fn set_input(
    content: &SetContent,
) -> anyhow::Result<(mingpian_card::Card, Option<Vec<CardField>>)> {
    let bytes = std::fs::read(&content.vcf)
        .with_context(|| format!("reading {}", content.vcf.display()))?;
    let report = vcard::read(&bytes);
    let Some(mut card) = report.cards.into_iter().next() else {
        let why = report
            .errors
            .first()
            .map(|e| e.to_string())
            .unwrap_or_else(|| "no card in the file".into());
        bail!("{}: {why}", content.vcf.display());
    };
    if let Some(avatar) = &content.avatar {
        card.photo = Some(read_image(avatar)?);
    }
    if !content.images.is_empty() {
        card.card_images = content
            .images
            .iter()
            .map(|p| read_image(p))
            .collect::<anyhow::Result<_>>()?;
    }
    let fields = content
        .printed_fields
        .as_deref()
        .map(parse_fields)
        .transpose()?;
    Ok((card, fields))
}

/// The draft card as `--json card from-photo` prints it.
#[derive(Debug, Serialize)]
struct Draft {
    #[serde(rename = "fn")]
    name: String,
    title: Option<String>,
    org: Option<String>,
    department: Vec<String>,
    tel: Vec<String>,
    email: Vec<String>,
    url: Vec<String>,
    adr: Vec<String>,
    social: Vec<String>,
    /// Every line read, top to bottom (front, then back).
    lines: Vec<String>,
    /// Where the front card was in its photo (clockwise from the top-left), if found or given.
    frame: Option<[[f32; 2]; 4]>,
    /// How far the front photo was turned to read the card upright (degrees clockwise).
    turned: u16,
}

/// "X,Y X,Y X,Y X,Y" → four corners.
fn parse_corners(text: &str) -> anyhow::Result<mingpian_scan::Quad> {
    let bad = || {
        anyhow::Error::new(WalletError::Invalid(format!(
            "--corners wants four X,Y points separated by spaces, got {text:?}"
        )))
    };
    let points = text
        .split_whitespace()
        .map(|p| {
            let (x, y) = p.split_once(',').ok_or_else(bad)?;
            Ok([
                x.trim().parse::<f32>().map_err(|_| bad())?,
                y.trim().parse::<f32>().map_err(|_| bad())?,
            ])
        })
        .collect::<anyhow::Result<Vec<[f32; 2]>>>()?;
    let corners: [[f32; 2]; 4] = points.try_into().map_err(|_| bad())?;
    mingpian_scan::Quad(corners).ordered().ok_or_else(|| {
        anyhow::Error::new(WalletError::Invalid(format!(
            "--corners {text:?} do not make a four-sided card"
        )))
    })
}

fn from_photo(
    front: &Path,
    back: Option<&Path>,
    region: &str,
    frame: mingpian_scan::Frame,
    out: &Output,
) -> anyhow::Result<Outcome> {
    let region = mingpian_card::Region::parse(region)?;
    let ocr = mingpian_scan::shared_ocr(&mingpian_scan::ocr::default_model_dir())?;
    let photos = std::iter::once(front)
        .chain(back)
        .map(|path| std::fs::read(path).with_context(|| format!("reading {}", path.display())))
        .collect::<anyhow::Result<Vec<_>>>()?;
    // The corners given are the front's; the back's outline is looked for.
    let sides: Vec<mingpian_scan::Side<'_>> = photos
        .iter()
        .enumerate()
        .map(|(i, photo)| mingpian_scan::Side {
            photo,
            frame: match (i, frame) {
                (1, mingpian_scan::Frame::Corners(_)) => mingpian_scan::Frame::Find,
                (_, frame) => frame,
            },
        })
        .collect();
    let paper = mingpian_scan::read_paper_card(ocr, &sides, region)?;
    let (card, lines, frame, turned) = (paper.card, paper.lines, paper.frame, paper.turned);
    let draft = Draft {
        name: card.formatted_name.clone(),
        title: card.title.clone(),
        org: card.org.clone(),
        department: card.departments.clone(),
        tel: card.phones.iter().map(|p| p.value.clone()).collect(),
        email: card.emails.iter().map(|e| e.value.clone()).collect(),
        url: card.urls.iter().map(|u| u.value.clone()).collect(),
        adr: card.addresses.iter().map(|a| a.display()).collect(),
        social: card
            .socials
            .iter()
            .map(|s| format!("{}:{}", s.service, s.value))
            .collect(),
        lines: lines.iter().map(|l| l.text.clone()).collect(),
        frame: frame.map(|q| q.0),
        turned,
    };
    if out.json() {
        out.value(&draft)?;
    } else {
        out.line(vcard::write(&card, vcard::Version::V3))?;
    }
    Ok(if card.has_content() {
        Outcome::Ok
    } else {
        Outcome::Problems
    })
}

pub fn card(w: &Wallet, command: CardCommand, out: &Output) -> anyhow::Result<Outcome> {
    let rt = rt()?;
    match command {
        CardCommand::FromPhoto {
            front,
            back,
            region,
            corners,
            whole,
        } => {
            let frame = match (corners, whole) {
                (Some(text), _) => mingpian_scan::Frame::Corners(parse_corners(&text)?),
                (None, true) => mingpian_scan::Frame::Whole,
                (None, false) => mingpian_scan::Frame::Find,
            };
            return from_photo(&front, back.as_deref(), &region, frame, out);
        }
        CardCommand::Add { content } => {
            let (card, fields) = set_input(&content)?;
            let set = rt.block_on(w.publish_set(card, fields))?;
            if out.json() {
                out.value(&set)?;
            } else if set.set_no.get() == 1 {
                out.line(format!(
                    "your card is set 1: {} (`mingpian qr show` shares it)",
                    set.card.display_name()
                ))?;
            } else {
                out.line(format!(
                    "published set {}: {} (`mingpian qr show --set {}` shares it)",
                    set.set_no.get(),
                    set.card.display_name(),
                    set.set_no.get()
                ))?;
            }
        }
        CardCommand::Edit { n, content } => {
            let (card, fields) = set_input(&content)?;
            let set = rt.block_on(w.edit_set(n, card, fields))?;
            if out.json() {
                out.value(&set)?;
            } else {
                out.line(format!("set {n} is now version {}", set.version))?;
            }
        }
        CardCommand::List => {
            // Fresh from the cloud when it answers; the last known sets otherwise.
            let sets = match rt.block_on(w.refresh_sets()) {
                Ok(sets) => sets,
                Err(e) if e.is_transient() => w.my_sets()?,
                Err(e) => return Err(e.into()),
            };
            if out.json() {
                out.value(&sets)?;
            } else if sets.is_empty() {
                out.line("no card sets: register or log in first")?;
            } else {
                for s in sets {
                    let c = &s.card;
                    let extra: Vec<&str> = [c.title.as_deref(), c.org.as_deref()]
                        .into_iter()
                        .flatten()
                        .collect();
                    out.line(format!(
                        "set {}  {}  {}  (version {})",
                        s.set_no,
                        c.display_name(),
                        extra.join(", "),
                        s.version
                    ))?;
                }
            }
        }
    }
    Ok(Outcome::Ok)
}

#[derive(Debug, Serialize)]
struct Shown {
    set: u32,
    printed: bool,
    url: String,
    /// Unix milliseconds; `None` for a printed code.
    expires_at: Option<i64>,
    output: Option<String>,
}

pub fn qr_show(w: &Wallet, args: QrShowArgs, out: &Output) -> anyhow::Result<Outcome> {
    let set = args.set.unwrap_or(1);
    let codes = rt()?.block_on(w.codes(set))?;
    if args.set.is_none() {
        // Say whose card the code shares, so a user with several sets is never surprised.
        let card = w
            .my_sets()?
            .into_iter()
            .find(|s| s.set_no == set)
            .map(|s| {
                [Some(s.card.display_name()), s.card.org.clone()]
                    .into_iter()
                    .flatten()
                    .collect::<Vec<_>>()
                    .join(" · ")
            })
            .unwrap_or_default();
        out.line(format!(
            "set {set}: {card} (`--set N` for another of your sets)"
        ))?;
    }
    let (url, expires_at) = if args.printed {
        (codes.printed_url, None)
    } else {
        (codes.live_url, Some(codes.live_expires_at))
    };
    if let Some(path) = &args.output {
        let ext = path
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase);
        let bytes = match ext.as_deref() {
            Some("png") => qr_image::encode_png(&url, 10)?,
            Some("svg") => qr_image::encode_svg(&url)?.into_bytes(),
            _ => bail!("{}: the output must end in .png or .svg", path.display()),
        };
        std::fs::write(path, bytes).with_context(|| format!("writing {}", path.display()))?;
    }
    if args.terminal && !out.json() {
        let code = qr_image::encode(&url)?;
        let drawn = code
            .render::<qrcode::render::unicode::Dense1x2>()
            .dark_color(qrcode::render::unicode::Dense1x2::Light)
            .light_color(qrcode::render::unicode::Dense1x2::Dark)
            .quiet_zone(true)
            .build();
        out.line(drawn)?;
    }
    if out.json() {
        out.value(&Shown {
            set,
            printed: args.printed,
            url,
            expires_at,
            output: args.output.map(|p| p.display().to_string()),
        })?;
    } else {
        out.line(&url)?;
        if let Some(path) = &args.output {
            out.line(format!("wrote {}", path.display()))?;
        }
        if let Some(at) = expires_at {
            let secs = (at - mingpian_wallet::now_ms()) / 1000;
            out.line(format!(
                "live code: valid for {secs} s; it shows your whole card"
            ))?;
        }
    }
    Ok(Outcome::Ok)
}

/// Describes a received card for people: `Zhang Wei (Huawei, Product Manager) — new contact`.
fn describe(r: &Received) -> String {
    let c = &r.card;
    let extra: Vec<&str> = [c.org.as_deref(), c.title.as_deref()]
        .into_iter()
        .flatten()
        .collect();
    let what = match r.outcome {
        mingpian_wallet::Outcome::Added => "new contact".to_owned(),
        mingpian_wallet::Outcome::Linked => format!(
            "linked to {} by {}",
            r.contact_name,
            r.linked_by.map_or("phone", LinkedBy::as_str)
        ),
        mingpian_wallet::Outcome::Updated => "a newer version of a card you hold".to_owned(),
        mingpian_wallet::Outcome::Unchanged => "already in your wallet".to_owned(),
    };
    if extra.is_empty() {
        format!("{} — {what}", c.display_name())
    } else {
        format!("{} ({}) — {what}", c.display_name(), extra.join(", "))
    }
}

/// Completes scans that waited for the network; tells about them on stderr.
async fn flush(w: &Wallet, out: &Output) {
    if w.outbox().map(|o| o.is_empty()).unwrap_or(true) {
        return;
    }
    if let Ok(results) = w.flush_outbox().await {
        for r in results {
            match r {
                Ok(ScanResult::Saved { received, .. }) if !out.json() => {
                    eprintln!("a waiting scan completed: {}", describe(&received))
                }
                Err(e) => eprintln!("a waiting scan failed: {e}"),
                _ => {}
            }
        }
    }
}

pub fn scan(w: &Wallet, args: ScanArgs, out: &Output) -> anyhow::Result<Outcome> {
    let path = Path::new(&args.what);
    let text = if path.is_file() {
        let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
        mingpian_wallet::code_in_image(&bytes).with_context(|| path.display().to_string())?
    } else {
        args.what.clone()
    };
    let rt = rt()?;
    rt.block_on(flush(w, out));
    let give = (!args.save_only).then_some(args.give_set);
    let result = rt.block_on(w.scan(&text, give, args.place))?;
    if out.json() {
        out.value(&result)?;
    } else {
        match &result {
            ScanResult::Saved { received, full, .. } => {
                out.line(describe(received))?;
                if !full {
                    out.line("(a printed code: only the fields its owner chose to print)")?;
                }
                if let Some(p) = received.card.phones.first() {
                    out.line(format!("  tel   {}", p.value))?;
                }
                if let Some(e) = received.card.emails.first() {
                    out.line(format!("  email {}", e.value))?;
                }
            }
            ScanResult::Pending(_) => out.line(
                "no network: the scan waits and completes by itself on the next `mingpian scan`, \
                 `inbox` or `sync`",
            )?,
        }
    }
    Ok(Outcome::Ok)
}

pub fn inbox(w: &Wallet, wait: u64, out: &Output) -> anyhow::Result<Outcome> {
    let rt = rt()?;
    rt.block_on(flush(w, out));
    let got = rt.block_on(w.wait_for_cards(Duration::from_secs(wait)))?;
    if out.json() {
        out.value(&got)?;
    } else if got.is_empty() {
        out.line("no new cards")?;
    } else {
        for r in &got {
            out.line(format!(
                "{} sent you their card: {}",
                r.card.display_name(),
                describe(r)
            ))?;
        }
    }
    Ok(Outcome::Ok)
}

pub fn sync(w: &Wallet, restore: bool, out: &Output) -> anyhow::Result<Outcome> {
    let rt = rt()?;
    rt.block_on(flush(w, out));
    let report = if restore {
        rt.block_on(w.restore())?
    } else {
        rt.block_on(w.sync())?
    };
    if out.json() {
        out.value(&report)?;
    } else {
        let contacts = w.contacts()?.len();
        out.line(format!(
            "{}: pushed {}, pulled {}, {} card update(s); {contacts} contacts in the wallet",
            if restore { "restored" } else { "synced" },
            report.pushed,
            report.pulled,
            report.card_updates
        ))?;
        if report.overridden > 0 {
            out.line(format!(
                "{} change(s) made here lost to later changes from another device",
                report.overridden
            ))?;
        }
    }
    Ok(Outcome::Ok)
}

/// Whether progress lines go to stderr (a person is watching).
pub fn show_progress(out: &Output) -> bool {
    !out.json() && std::io::stderr().is_terminal()
}
