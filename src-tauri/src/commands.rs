//! The commands the UI invokes: one or two lines each, over `mingpian-wallet`.

use std::sync::Arc;

use base64::Engine as _;
use mingpian_card::Card;
use mingpian_card::api::{CardField, Device, LoginRequest, RegisterRequest};
use mingpian_wallet::{
    CardVersion, CodeView, Contact, ContactDetail, ErrorBody, ExportFormat, ImportReport, MySet,
    Received, ScanResult, SearchResult, SessionInfo, SyncReport, Wallet, WalletError,
};
use serde::{Deserialize, Serialize};
use tauri::{AppHandle, Emitter, Manager, State};

type W<'a> = State<'a, Arc<Wallet>>;
type Res<T> = Result<T, ErrorBody>;

fn ui(e: WalletError) -> ErrorBody {
    e.to_body()
}

fn bytes(base64: &str) -> Res<Vec<u8>> {
    base64::engine::general_purpose::STANDARD
        .decode(base64)
        .map_err(|e| ErrorBody {
            code: "invalid".into(),
            message: format!("file data: {e}"),
        })
}

#[derive(Debug, Serialize)]
pub struct Settings {
    region: String,
    last_sync: Option<i64>,
    default_server: String,
    /// The system's language (`zh-CN`, `en-US`): what the UI follows unless the user picks one.
    locale: Option<String>,
}

#[tauri::command]
pub async fn session(w: W<'_>) -> Res<Option<SessionInfo>> {
    w.session().map_err(ui)
}

#[tauri::command]
pub async fn settings(w: W<'_>) -> Res<Settings> {
    Ok(Settings {
        region: w.region().map_err(ui)?.code(),
        last_sync: w.last_sync().map_err(ui)?,
        default_server: w
            .session()
            .map_err(ui)?
            .map(|s| s.server)
            .unwrap_or_else(crate::default_server),
        locale: sys_locale::get_locale(),
    })
}

#[tauri::command]
pub async fn set_region(w: W<'_>, region: String) -> Res<()> {
    w.set_region(&region).map_err(ui)
}

#[tauri::command]
pub async fn register(
    w: W<'_>,
    server: String,
    name: String,
    phone: Option<String>,
    email: Option<String>,
    password: String,
) -> Res<SessionInfo> {
    let device_name = Some(std::env::consts::OS.to_owned());
    let req = RegisterRequest {
        name,
        phone,
        email,
        password,
        device_name,
    };
    w.register(&server, req).await.map_err(ui)
}

#[tauri::command]
pub async fn login(w: W<'_>, server: String, login: String, password: String) -> Res<SessionInfo> {
    let req = LoginRequest {
        login,
        password,
        device_name: Some(std::env::consts::OS.to_owned()),
    };
    w.login(&server, req).await.map_err(ui)
}

#[tauri::command]
pub async fn logout(w: W<'_>) -> Res<()> {
    w.logout().await.map_err(ui)
}

#[tauri::command]
pub async fn devices(w: W<'_>) -> Res<Vec<Device>> {
    w.devices().await.map_err(ui)
}

#[tauri::command]
pub async fn my_sets(w: W<'_>, refresh: bool) -> Res<Vec<MySet>> {
    if refresh {
        w.refresh_sets().await
    } else {
        w.my_sets()
    }
    .map_err(ui)
}

#[tauri::command]
pub async fn read_card(base64: String) -> Res<Card> {
    mingpian_wallet::read_first_card(&bytes(&base64)?).map_err(ui)
}

/// The OCR models, loaded on first use (~40 ms) and kept.
static OCR: std::sync::OnceLock<Result<mingpian_scan::Ocr, String>> = std::sync::OnceLock::new();

fn ocr() -> Res<&'static mingpian_scan::Ocr> {
    OCR.get_or_init(|| {
        mingpian_scan::Ocr::load(&mingpian_scan::ocr::default_model_dir())
            .map_err(|e| e.to_string())
    })
    .as_ref()
    .map_err(|e| ErrorBody {
        code: "no_models".into(),
        message: e.clone(),
    })
}

fn photo(base64: &str) -> Res<image::RgbImage> {
    mingpian_scan::ocr::decode_image(&bytes(base64)?).map_err(|e| ErrorBody {
        code: "invalid".into(),
        message: e.to_string(),
    })
}

fn internal(e: impl std::fmt::Display) -> ErrorBody {
    ErrorBody {
        code: "internal".into(),
        message: e.to_string(),
    }
}

/// Where the card is in a photo, to draw the four-corner frame the user can then drag.
#[derive(Debug, Serialize)]
pub struct FoundFrame {
    /// Top-left, top-right, bottom-right, bottom-left, in the photo's pixels (as shown, EXIF
    /// orientation applied); `None` when no outline shows.
    corners: Option<[[f32; 2]; 4]>,
    width: u32,
    height: u32,
}

#[tauri::command]
pub async fn find_card_frame(base64: String) -> Res<FoundFrame> {
    tauri::async_runtime::spawn_blocking(move || {
        let ocr = ocr()?;
        let image = photo(&base64)?;
        Ok(FoundFrame {
            corners: ocr.find_frame(&image).map(|q| q.0),
            width: image.width(),
            height: image.height(),
        })
    })
    .await
    .map_err(internal)?
}

/// One side of a paper card: the photo and the corners the user left the frame at.
#[derive(Debug, Deserialize)]
pub struct PaperSide {
    base64: String,
    corners: Option<[[f32; 2]; 4]>,
}

/// A draft card read from paper, and each side's picture straightened (JPEG, base64).
#[derive(Debug, Serialize)]
pub struct PaperCard {
    card: Card,
    pictures: Vec<String>,
}

/// A draft card read from photos of a paper card (front, and back if there is one), on the
/// device: nothing leaves the phone.
#[tauri::command]
pub async fn read_paper_card(w: W<'_>, sides: Vec<PaperSide>) -> Res<PaperCard> {
    let region = w.region().map_err(ui)?;
    tauri::async_runtime::spawn_blocking(move || {
        let ocr = ocr()?;
        let (mut lines, mut pictures) = (Vec::new(), Vec::new());
        for side in sides.iter().take(2) {
            let image = photo(&side.base64)?;
            let frame = match side.corners {
                Some(c) => mingpian_scan::Frame::Corners(mingpian_scan::Quad(c)),
                None => mingpian_scan::Frame::Find,
            };
            let reading = ocr.read_card(&image, frame).map_err(internal)?;
            lines.extend(reading.lines);
            let jpeg = mingpian_scan::ocr::encode_jpeg(&reading.picture, CARD_PICTURE_SIDE)
                .map_err(internal)?;
            pictures.push(base64::engine::general_purpose::STANDARD.encode(jpeg));
        }
        Ok(PaperCard {
            card: mingpian_scan::card_from_lines(&lines, region),
            pictures,
        })
    })
    .await
    .map_err(internal)?
}

/// The longest a paper card's kept picture is (pixels): sharp on a phone, ~100–200 KB.
const CARD_PICTURE_SIDE: u32 = 1200;

#[tauri::command]
pub async fn add_card(w: W<'_>, card: Card) -> Res<Received> {
    w.add_card(card).map_err(ui)
}

#[tauri::command]
pub async fn save_set(
    w: W<'_>,
    set_no: Option<u32>,
    card: Card,
    printed_fields: Option<Vec<CardField>>,
) -> Res<MySet> {
    match set_no {
        Some(n) => w.edit_set(n, card, printed_fields).await,
        None => w.publish_set(card, printed_fields).await,
    }
    .map_err(ui)?;
    let sets = w.my_sets().map_err(ui)?;
    let wanted = set_no.unwrap_or_else(|| sets.iter().map(|s| s.set_no).max().unwrap_or(1));
    sets.into_iter()
        .find(|s| s.set_no == wanted)
        .ok_or_else(|| ui(WalletError::NotFound("set".into())))
}

#[tauri::command]
pub async fn code(w: W<'_>, set_no: u32, printed: bool) -> Res<CodeView> {
    w.code_view(set_no, printed).await.map_err(ui)
}

#[tauri::command]
pub async fn rotate(w: W<'_>, set_no: u32) -> Res<()> {
    w.rotate(set_no).await.map(|_| ()).map_err(ui)
}

#[tauri::command]
pub async fn scan_text(w: W<'_>, text: String, give_set: Option<u32>) -> Res<ScanResult> {
    w.scan(&text, give_set, None).await.map_err(ui)
}

#[tauri::command]
pub async fn scan_image(w: W<'_>, base64: String, give_set: Option<u32>) -> Res<ScanResult> {
    w.scan_image(&bytes(&base64)?, give_set, None)
        .await
        .map_err(ui)
}

#[tauri::command]
pub async fn contacts(w: W<'_>) -> Res<Vec<Contact>> {
    w.contacts().map_err(ui)
}

#[tauri::command]
pub async fn search(w: W<'_>, query: String) -> Res<SearchResult> {
    w.search(&query, 200).map_err(ui)
}

#[tauri::command]
pub async fn contact(w: W<'_>, id: String) -> Res<ContactDetail> {
    w.contact(&id).map_err(ui)
}

#[tauri::command]
pub async fn card_versions(w: W<'_>, card_id: String) -> Res<Vec<CardVersion>> {
    w.card_versions(&card_id).map_err(ui)
}

#[tauri::command]
pub async fn set_note(w: W<'_>, id: String, note: String) -> Res<()> {
    w.set_note(&id, &note).map_err(ui)
}

#[tauri::command]
pub async fn set_tags(w: W<'_>, id: String, tags: Vec<String>) -> Res<()> {
    w.set_tags(&id, &tags).map_err(ui)
}

#[tauri::command]
pub async fn delete_contact(w: W<'_>, id: String) -> Res<()> {
    w.delete_contact(&id).map_err(ui)
}

#[tauri::command]
pub async fn undelete_contact(w: W<'_>, id: String) -> Res<()> {
    w.undelete_contact(&id).map_err(ui)
}

#[tauri::command]
pub async fn unlink_card(w: W<'_>, card_id: String) -> Res<String> {
    w.unlink_card(&card_id).map_err(ui)
}

#[derive(Debug, Deserialize)]
pub struct PickedFile {
    name: String,
    base64: String,
}

#[tauri::command]
pub async fn import_files(app: AppHandle, w: W<'_>, files: Vec<PickedFile>) -> Res<ImportReport> {
    let files = files
        .into_iter()
        .map(|f| Ok((f.name, bytes(&f.base64)?)))
        .collect::<Res<Vec<_>>>()?;
    let wallet = w.inner().clone();
    tauri::async_runtime::spawn_blocking(move || {
        wallet.import_many(&files, &mut |p| {
            let _ = app.emit("import-progress", p);
        })
    })
    .await
    .map_err(|e| ErrorBody {
        code: "internal".into(),
        message: e.to_string(),
    })?
    .map_err(ui)
}

#[derive(Debug, Serialize)]
pub struct Exported {
    path: String,
    bytes: usize,
}

#[tauri::command]
pub async fn export_wallet(app: AppHandle, w: W<'_>, format: String) -> Res<Exported> {
    let format = ExportFormat::parse(&format).map_err(ui)?;
    let data = w.export(format, None, &mut |_| {}).map_err(ui)?;
    let dir = app
        .path()
        .download_dir()
        .or_else(|_| app.path().document_dir())
        .map_err(|e| ErrorBody {
            code: "io".into(),
            message: e.to_string(),
        })?;
    let path = dir.join(format!("mingpian-cards.{}", format.extension()));
    std::fs::write(&path, &data).map_err(|e| ui(e.into()))?;
    Ok(Exported {
        path: path.display().to_string(),
        bytes: data.len(),
    })
}

#[tauri::command]
pub async fn sync(w: W<'_>) -> Res<SyncReport> {
    w.sync().await.map_err(ui)
}

#[tauri::command]
pub async fn restore(w: W<'_>) -> Res<SyncReport> {
    w.restore().await.map_err(ui)
}

#[tauri::command]
pub async fn pull_inbox(w: W<'_>) -> Res<Vec<Received>> {
    w.pull_inbox().await.map_err(ui)
}
