//! The commands the UI invokes, each a call into a library: `mingpian-wallet` for the wallet and
//! the cloud, `mingpian-scan` for paper cards. Errors reach the UI as the wallet's [`ErrorBody`]
//! (`{code, message}`, the code a typed union in the generated bindings). No SQL, HTTP or
//! parsing here.

use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use mingpian_card::Card;
use mingpian_card::api::{
    CardDavAccess, CardField, Device, LoginRequest, NewAppPassword, RegisterRequest,
};
use mingpian_card::phone::PhoneNumber;
use mingpian_wallet::{
    CardVersion, CodeView, Contact, ContactDetail, ContactEdit, ExportFormat, Exported,
    ImportReport, MySet, Preview, Received, ScanResult, SearchResult, SessionInfo, SyncReport,
    Wallet, WalletError,
};
pub use mingpian_wallet::{ErrorBody, ErrorCode};
use serde::{Deserialize, Serialize};
use tauri::{AppHandle, State};
use tauri_specta::Event as _;

use crate::events::ImportProgress;
use crate::files::{self, FileDialogs, Pick};

type W<'a> = State<'a, Arc<Wallet>>;
type Res<T> = Result<T, ErrorBody>;

fn ui(e: WalletError) -> ErrorBody {
    e.to_body()
}

pub fn error(code: ErrorCode, message: impl ToString) -> ErrorBody {
    ErrorBody {
        code,
        message: message.to_string(),
    }
}

/// A picture the UI sends (base64), bounded before it is decoded: no larger than a picture the
/// shell itself would read from a file.
fn bytes(base64: &str) -> Res<Vec<u8>> {
    if base64.len() as u64 > files::MAX_PICTURE * 4 / 3 + 4 {
        return Err(error(ErrorCode::TooLarge, "the picture is too large"));
    }
    STANDARD
        .decode(base64)
        .map_err(|e| error(ErrorCode::Invalid, format!("file data: {e}")))
}

fn ocr_error(e: mingpian_scan::OcrError) -> ErrorBody {
    use mingpian_scan::OcrError as E;
    match e {
        E::NoModels(_) | E::Load(..) | E::NoCharset => error(ErrorCode::NoModels, e),
        E::Image(_) => error(ErrorCode::Invalid, e),
        E::Run(_) => error(ErrorCode::Internal, e),
    }
}

/// Runs heavy work (OCR, imports) on the blocking pool.
async fn blocking<T: Send + 'static>(f: impl FnOnce() -> Res<T> + Send + 'static) -> Res<T> {
    tauri::async_runtime::spawn_blocking(f)
        .await
        .map_err(|e| error(ErrorCode::Internal, e))?
}

/// Where the app runs: the UI lays out and offers actions (share sheet, camera) by it.
#[derive(Debug, Clone, Copy, Serialize, specta::Type)]
#[serde(rename_all = "snake_case")]
pub enum Platform {
    Desktop,
    Android,
    Ios,
}

impl Platform {
    pub fn current() -> Platform {
        match std::env::consts::OS {
            "android" => Platform::Android,
            "ios" => Platform::Ios,
            _ => Platform::Desktop,
        }
    }
}

/// What the settings screen shows.
#[derive(Debug, Serialize, specta::Type)]
pub struct Settings {
    region: String,
    last_sync: Option<i64>,
    default_server: String,
    /// The system's language (`zh-CN`, `en-US`): what the UI follows unless the user picks one.
    locale: Option<String>,
    platform: Platform,
    /// This device's name in the account's device list.
    device_name: String,
    /// The camera is the end-to-end test's fake (a debug build started with
    /// `MINGPIAN_FAKE_CAMERA`); never in a release build.
    fake_camera: bool,
}

#[tauri::command]
#[specta::specta]
pub async fn session(w: W<'_>) -> Res<Option<SessionInfo>> {
    w.session().map_err(ui)
}

#[tauri::command]
#[specta::specta]
pub async fn settings(w: W<'_>) -> Res<Settings> {
    let session = w.session().map_err(ui)?;
    Ok(Settings {
        region: w.region().map_err(ui)?.code(),
        last_sync: w.last_sync().map_err(ui)?,
        default_server: session.map_or_else(crate::default_server, |s| s.server),
        locale: sys_locale::get_locale(),
        platform: Platform::current(),
        device_name: crate::device_name(),
        fake_camera: cfg!(debug_assertions) && std::env::var_os("MINGPIAN_FAKE_CAMERA").is_some(),
    })
}

#[tauri::command]
#[specta::specta]
pub async fn set_region(w: W<'_>, region: String) -> Res<()> {
    w.set_region(&region).map_err(ui)
}

#[tauri::command]
#[specta::specta]
pub async fn register(w: W<'_>, server: String, mut request: RegisterRequest) -> Res<SessionInfo> {
    request.device_name.get_or_insert_with(crate::device_name);
    w.register(&server, request).await.map_err(ui)
}

#[tauri::command]
#[specta::specta]
pub async fn login(w: W<'_>, server: String, mut request: LoginRequest) -> Res<SessionInfo> {
    request.device_name.get_or_insert_with(crate::device_name);
    w.login(&server, request).await.map_err(ui)
}

#[tauri::command]
#[specta::specta]
pub async fn logout(w: W<'_>) -> Res<()> {
    w.logout().await.map_err(ui)
}

#[tauri::command]
#[specta::specta]
pub async fn devices(w: W<'_>) -> Res<Vec<Device>> {
    w.devices().await.map_err(ui)
}

/// The phone's address book over CardDAV: where it is and the app passwords that open it.
#[tauri::command]
#[specta::specta]
pub async fn carddav(w: W<'_>) -> Res<CardDavAccess> {
    w.carddav().await.map_err(ui)
}

#[tauri::command]
#[specta::specta]
pub async fn new_app_password(w: W<'_>, label: String) -> Res<NewAppPassword> {
    w.new_app_password(&label).await.map_err(ui)
}

#[tauri::command]
#[specta::specta]
pub async fn revoke_app_password(w: W<'_>, id: i64) -> Res<()> {
    w.revoke_app_password(id).await.map_err(ui)
}

#[tauri::command]
#[specta::specta]
pub async fn my_sets(w: W<'_>, refresh: bool) -> Res<Vec<MySet>> {
    if refresh {
        w.refresh_sets().await.map_err(ui)
    } else {
        w.my_sets().map_err(ui)
    }
}

/// Where the card is in a photo, to draw the four-corner frame the user can then drag.
#[derive(Debug, Serialize, specta::Type)]
pub struct FoundFrame {
    /// Top-left, top-right, bottom-right, bottom-left, in the photo's pixels as shown; `None`
    /// when no outline shows.
    corners: Option<[[f32; 2]; 4]>,
    width: u32,
    height: u32,
}

#[tauri::command]
#[specta::specta]
pub async fn find_card_frame(app: AppHandle, base64: String) -> Res<FoundFrame> {
    let dir = crate::model_dir(&app);
    blocking(move || {
        let ocr = mingpian_scan::shared_ocr(&dir).map_err(ocr_error)?;
        let found = mingpian_scan::find_frame(ocr, &bytes(&base64)?).map_err(ocr_error)?;
        Ok(FoundFrame {
            corners: found.corners.map(|q| q.0),
            width: found.width,
            height: found.height,
        })
    })
    .await
}

/// One side of a paper card: the photo and the corners the user left the frame at.
#[derive(Debug, Deserialize, specta::Type)]
pub struct PaperSide {
    base64: String,
    corners: Option<[[f32; 2]; 4]>,
}

/// A draft card read from paper, and each side's picture straightened (JPEG, base64).
#[derive(Debug, Serialize, specta::Type)]
pub struct PaperCard {
    card: Card,
    pictures: Vec<String>,
}

/// A draft card read from photos of a paper card, on the device: nothing leaves the phone.
#[tauri::command]
#[specta::specta]
pub async fn read_paper_card(app: AppHandle, w: W<'_>, sides: Vec<PaperSide>) -> Res<PaperCard> {
    let (region, dir) = (w.region().map_err(ui)?, crate::model_dir(&app));
    blocking(move || read_sides(&dir, region, &sides)).await
}

/// The UI's sides (base64 photos, corners where the user set them) for `mingpian-scan`.
fn read_sides(
    models: &std::path::Path,
    region: mingpian_card::Region,
    sides: &[PaperSide],
) -> Res<PaperCard> {
    if sides.len() > 2 {
        return Err(error(ErrorCode::Invalid, "a paper card has two sides"));
    }
    let photos = sides
        .iter()
        .map(|s| bytes(&s.base64))
        .collect::<Res<Vec<_>>>()?;
    let sides: Vec<_> = photos
        .iter()
        .zip(sides)
        .map(|(photo, s)| mingpian_scan::Side {
            photo,
            frame: s.corners.map_or(mingpian_scan::Frame::Find, |c| {
                mingpian_scan::Frame::Corners(mingpian_scan::Quad(c))
            }),
        })
        .collect();
    let ocr = mingpian_scan::shared_ocr(models).map_err(ocr_error)?;
    let paper = mingpian_scan::read_paper_card(ocr, &sides, region).map_err(ocr_error)?;
    let pictures = paper.pictures.iter().map(|p| STANDARD.encode(p)).collect();
    Ok(PaperCard {
        card: paper.card,
        pictures,
    })
}

#[tauri::command]
#[specta::specta]
pub async fn add_card(w: W<'_>, card: Card) -> Res<Received> {
    w.add_card(card).map_err(ui)
}

#[tauri::command]
#[specta::specta]
pub async fn save_set(
    w: W<'_>,
    set_no: Option<u32>,
    card: Card,
    printed_fields: Option<Vec<CardField>>,
) -> Res<MySet> {
    w.save_set(set_no, card, printed_fields).await.map_err(ui)
}

#[tauri::command]
#[specta::specta]
pub async fn code(w: W<'_>, set_no: u32, printed: bool) -> Res<CodeView> {
    w.code_view(set_no, printed).await.map_err(ui)
}

#[tauri::command]
#[specta::specta]
pub async fn rotate(w: W<'_>, set_no: u32) -> Res<()> {
    w.rotate(set_no).await.map(|_| ()).map_err(ui)
}

#[tauri::command]
#[specta::specta]
pub async fn preview(w: W<'_>, text: String) -> Res<Preview> {
    w.preview(&text).await.map_err(ui)
}

/// Handles scanned text: an exchange giving `give_set`, or with `None` taking the card only.
#[tauri::command]
#[specta::specta]
pub async fn scan_text(w: W<'_>, text: String, give_set: Option<u32>) -> Res<ScanResult> {
    w.scan(&text, give_set, None).await.map_err(ui)
}

/// The text of the first card code in a picture (for the "whose card is this" step).
#[tauri::command]
#[specta::specta]
pub async fn decode_image(base64: String) -> Res<String> {
    blocking(move || mingpian_wallet::code_in_image(&bytes(&base64)?).map_err(ui)).await
}

#[tauri::command]
#[specta::specta]
pub async fn contacts(w: W<'_>) -> Res<Vec<Contact>> {
    w.contacts().map_err(ui)
}

#[tauri::command]
#[specta::specta]
pub async fn search(w: W<'_>, query: String) -> Res<SearchResult> {
    w.search(&query, 200).map_err(ui)
}

#[tauri::command]
#[specta::specta]
pub async fn contact(w: W<'_>, id: String) -> Res<ContactDetail> {
    w.contact(&id).map_err(ui)
}

#[tauri::command]
#[specta::specta]
pub async fn card_versions(w: W<'_>, card_id: String) -> Res<Vec<CardVersion>> {
    w.card_versions(&card_id).map_err(ui)
}

#[tauri::command]
#[specta::specta]
pub async fn set_note(w: W<'_>, id: String, note: String) -> Res<()> {
    w.set_note(&id, &note).map_err(ui)
}

#[tauri::command]
#[specta::specta]
pub async fn set_tags(w: W<'_>, id: String, tags: Vec<String>) -> Res<()> {
    w.set_tags(&id, &tags).map_err(ui)
}

#[tauri::command]
#[specta::specta]
pub async fn edit_contact(w: W<'_>, id: String, edit: ContactEdit) -> Res<()> {
    w.edit_contact(&id, &edit).map_err(ui)
}

/// Chooses the card a contact shows; `None`: back to the rule.
#[tauri::command]
#[specta::specta]
pub async fn set_primary_card(w: W<'_>, id: String, card_id: Option<String>) -> Res<()> {
    w.set_primary_card(&id, card_id.as_deref()).map_err(ui)
}

#[tauri::command]
#[specta::specta]
pub async fn accept_card(w: W<'_>, card_id: String) -> Res<()> {
    w.accept_card(&card_id).map_err(ui)
}

#[tauri::command]
#[specta::specta]
pub async fn delete_contact(w: W<'_>, id: String) -> Res<()> {
    w.delete_contact(&id).map_err(ui)
}

#[tauri::command]
#[specta::specta]
pub async fn undelete_contact(w: W<'_>, id: String) -> Res<()> {
    w.undelete_contact(&id).map_err(ui)
}

#[tauri::command]
#[specta::specta]
pub async fn unlink_card(w: W<'_>, card_id: String) -> Res<String> {
    w.unlink_card(&card_id).map_err(ui)
}

/// A picture the user picked (an avatar, a card image, a photo of a paper card).
#[derive(Debug, Serialize, specta::Type)]
pub struct PickedFile {
    name: String,
    base64: String,
}

/// What a picture is picked for.
#[derive(Debug, Clone, Copy, Deserialize, specta::Type)]
#[serde(rename_all = "snake_case")]
pub enum PictureUse {
    Avatar,
    CardImage,
    /// The front and, optionally, the back of a paper card.
    PaperCard,
}

impl PictureUse {
    /// What the picker offers, and how many of the chosen pictures are taken.
    fn pick(self) -> (Pick, usize) {
        match self {
            PictureUse::PaperCard => (Pick::Photos, 2),
            PictureUse::Avatar | PictureUse::CardImage => (Pick::Picture, 1),
        }
    }
}

type Dialogs<'a> = State<'a, FileDialogs>;

/// Asks where to save `name`, then makes the file's bytes and writes them there, off the async
/// workers; `None` when the user cancelled.
async fn save_file(
    app: AppHandle,
    dialogs: &FileDialogs,
    name: &str,
    filter: (&str, &[&str]),
    make: impl FnOnce() -> Res<Vec<u8>> + Send + 'static,
) -> Res<Option<Exported>> {
    let Some(path) = dialogs.save(&app, name, filter).await else {
        return Ok(None);
    };
    blocking(move || {
        let data = make()?;
        let path = files::write(&app, path, &data)?;
        Ok(Some(Exported {
            path,
            bytes: u32::try_from(data.len()).unwrap_or(u32::MAX),
        }))
    })
    .await
}

/// Pictures through the system's picker; empty when the user cancelled.
#[tauri::command]
#[specta::specta]
pub async fn pick_pictures(
    app: AppHandle,
    dialogs: Dialogs<'_>,
    purpose: PictureUse,
) -> Res<Vec<PickedFile>> {
    let (pick, limit) = purpose.pick();
    let paths = dialogs.open(&app, pick).await;
    blocking(move || {
        let files = files::read_all(&app, paths.into_iter().take(limit).collect(), pick)?;
        Ok(files.into_iter().map(PickedFile::from).collect())
    })
    .await
}

impl From<(String, Vec<u8>)> for PickedFile {
    fn from((name, bytes): (String, Vec<u8>)) -> PickedFile {
        PickedFile {
            name,
            base64: STANDARD.encode(bytes),
        }
    }
}

/// Imports vCard and CSV files the user picks; `None` when they cancelled. Progress arrives as
/// `import-progress` events.
#[tauri::command]
#[specta::specta]
pub async fn import_picked(
    app: AppHandle,
    dialogs: Dialogs<'_>,
    w: W<'_>,
) -> Res<Option<ImportReport>> {
    let paths = dialogs.open(&app, Pick::CardFiles).await;
    let wallet = w.inner().clone();
    blocking(move || import_files(&app, &wallet, paths)).await
}

/// Reads the picked card files and imports them, reporting progress as events.
fn import_files(
    app: &AppHandle,
    wallet: &Wallet,
    paths: Vec<tauri_plugin_dialog::FilePath>,
) -> Res<Option<ImportReport>> {
    if paths.is_empty() {
        return Ok(None);
    }
    let files = files::read_all(app, paths, Pick::CardFiles)?;
    let mut progress = |p| {
        let _ = ImportProgress(p).emit(app);
    };
    wallet
        .import_many(&files, &mut progress)
        .map(Some)
        .map_err(ui)
}

fn export_filter(format: ExportFormat) -> (&'static str, &'static [&'static str]) {
    match format {
        ExportFormat::Csv => ("CSV", &["csv"]),
        ExportFormat::Vcf3 | ExportFormat::Vcf4 => ("vCard", &["vcf"]),
    }
}

/// Exports every card where the user chooses (a save dialog: Files on iOS, any document
/// provider on Android); `None` when they cancelled.
#[tauri::command]
#[specta::specta]
pub async fn export_picked(
    app: AppHandle,
    dialogs: Dialogs<'_>,
    w: W<'_>,
    format: ExportFormat,
    file_name: String,
) -> Res<Option<Exported>> {
    let name = files::file_name(&file_name, format.extension(), "mingpian-cards");
    let wallet = w.inner().clone();
    save_file(app, &dialogs, &name, export_filter(format), move || {
        wallet.export(format, None, &mut |_| {}).map_err(ui)
    })
    .await
}

/// Saves a picture the UI drew (the code with the owner's name, PNG) where the user chooses.
#[tauri::command]
#[specta::specta]
pub async fn save_picture(
    app: AppHandle,
    dialogs: Dialogs<'_>,
    file_name: String,
    base64: String,
) -> Res<Option<Exported>> {
    let data = png(&base64)?;
    let name = files::file_name(&file_name, "png", "mingpian");
    save_file(app, &dialogs, &name, ("PNG", &["png"]), move || Ok(data)).await
}

/// A PNG from the UI, checked to be one (and bounded) before it is written anywhere.
fn png(base64: &str) -> Res<Vec<u8>> {
    let data = bytes(base64)?;
    if !data.starts_with(b"\x89PNG\r\n\x1a\n") {
        return Err(error(ErrorCode::Invalid, "not a PNG picture"));
    }
    Ok(data)
}

/// The first card of a vCard file the user picks (the card editor's "import a .vcf");
/// `None` when they cancelled.
#[tauri::command]
#[specta::specta]
pub async fn pick_card(app: AppHandle, dialogs: Dialogs<'_>) -> Res<Option<Card>> {
    let Some(path) = dialogs.open(&app, Pick::CardFiles).await.into_iter().next() else {
        return Ok(None);
    };
    blocking(move || {
        let (_, data) = files::read(&app, path, files::MAX_CARD_FILE)?;
        mingpian_wallet::read_first_card(&data)
            .map(Some)
            .map_err(ui)
    })
    .await
}

/// One contact's cards as a vCard 3.0 file (what phones' contacts apps read) and its name.
fn contact_vcard(wallet: &Wallet, id: &str) -> Res<(String, Vec<u8>)> {
    let name = wallet.contact(id).map_err(ui)?.contact.name;
    let data = wallet
        .export(ExportFormat::Vcf3, Some(&[id.to_owned()]), &mut |_| {})
        .map_err(ui)?;
    Ok((files::file_name(&name, "vcf", "contact"), data))
}

/// Saves one contact as a .vcf where the user chooses (desktop: to open it with the system's
/// address book); `None` when they cancelled.
#[tauri::command]
#[specta::specta]
pub async fn save_contact(
    app: AppHandle,
    dialogs: Dialogs<'_>,
    w: W<'_>,
    id: String,
) -> Res<Option<Exported>> {
    let (name, data) = contact_vcard(&w, &id)?;
    save_file(app, &dialogs, &name, ("vCard", &["vcf"]), move || Ok(data)).await
}

/// What to hand to the system's share sheet (phones).
#[derive(Debug, Deserialize, specta::Type)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ShareItem {
    /// One contact as a .vcf: the phone offers its contacts app among the targets.
    Contact { id: String },
    /// The wallet's cards as a file.
    Export {
        format: ExportFormat,
        file_name: String,
    },
    /// A picture the UI drew (PNG).
    Picture { file_name: String, base64: String },
    /// A text (a card link).
    Text { text: String },
}

/// Opens the system's share sheet (Android, iOS). The desktop has none: the UI offers "save"
/// and "copy" there instead.
#[tauri::command]
#[specta::specta]
pub async fn share(app: AppHandle, w: W<'_>, item: ShareItem) -> Res<()> {
    let wallet = w.inner().clone();
    let app2 = app.clone();
    let share = blocking(move || share_payload(&app2, &wallet, item)).await?;
    crate::device::share(&app, share)
}

fn share_payload(app: &AppHandle, wallet: &Wallet, item: ShareItem) -> Res<crate::device::Share> {
    let file = |name: String, mime: &str, data: &[u8]| -> Res<crate::device::Share> {
        let path = files::write_for_share(app, &name, data)?;
        Ok(crate::device::Share {
            path: Some(path.display().to_string()),
            mime: Some(mime.into()),
            ..Default::default()
        })
    };
    match item {
        ShareItem::Export { format, file_name } => {
            let data = wallet.export(format, None, &mut |_| {}).map_err(ui)?;
            let name = files::file_name(&file_name, format.extension(), "mingpian-cards");
            let mime = if format == ExportFormat::Csv {
                "text/csv"
            } else {
                "text/vcard"
            };
            file(name, mime, &data)
        }
        ShareItem::Picture { file_name, base64 } => file(
            files::file_name(&file_name, "png", "mingpian"),
            "image/png",
            &png(&base64)?,
        ),
        ShareItem::Contact { id } => {
            let (name, data) = contact_vcard(wallet, &id)?;
            file(name, "text/vcard", &data)
        }
        ShareItem::Text { text } => Ok(crate::device::Share {
            text: Some(text.chars().take(2_000).collect()),
            ..Default::default()
        }),
    }
}

/// The code is shown full-screen (`on`) or no longer: on phones the screen stays awake at full
/// brightness meanwhile and the user's brightness comes back after; on desktop the window goes
/// full-screen.
#[tauri::command]
#[specta::specta]
pub async fn present_code(app: AppHandle, on: bool) -> Res<()> {
    crate::device::present(&app, on)
}

/// The card link the app was opened with, once (later links arrive as `link-opened` events).
#[tauri::command]
#[specta::specta]
pub async fn opened_link(app: AppHandle) -> Res<Option<String>> {
    Ok(crate::links::take_opened(&app))
}

/// Phone numbers as people write them here (`138 0013 8000` in China, `+49 1512 3456789` for a
/// German number): stored numbers stay E.164, this is for showing them.
#[tauri::command]
#[specta::specta]
pub async fn display_phones(w: W<'_>, values: Vec<String>) -> Res<Vec<String>> {
    let region = w.region().map_err(ui)?;
    Ok(values
        .iter()
        .take(1_000)
        .map(|v| PhoneNumber::parse(v, region).map_or_else(|_| v.clone(), |p| p.display_in(region)))
        .collect())
}

#[tauri::command]
#[specta::specta]
pub async fn sync(w: W<'_>) -> Res<SyncReport> {
    w.sync().await.map_err(ui)
}

#[tauri::command]
#[specta::specta]
pub async fn restore(w: W<'_>) -> Res<SyncReport> {
    w.restore().await.map_err(ui)
}

#[tauri::command]
#[specta::specta]
pub async fn pull_inbox(w: W<'_>) -> Res<Vec<Received>> {
    w.pull_inbox().await.map_err(ui)
}
