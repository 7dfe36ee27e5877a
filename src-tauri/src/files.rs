//! Files the phone way: the system's own pickers (`tauri-plugin-dialog`) and reads and writes
//! through `tauri-plugin-fs`, which opens Android's `content://` URIs and iOS's security-scoped
//! file URLs as well as plain paths. The dialogs run here, in Rust: no path ever comes from the
//! web view, and the web view holds no file-system permission at all.
//!
//! **Test seam (debug builds only).** With `MINGPIAN_FAKE_FILE_DIALOG` naming a JSON file, the
//! native dialog is replaced by [`FakeFileDialog`], which answers each dialog with what that file
//! says then (`{"open": ["/path", …] | null, "save": "/path" | null}`; `null` is a cancel).
//! Everything after the dialog (reading, importing, exporting, writing) is the real code. Release
//! builds do not contain the seam.

use std::io::{Read as _, Write as _};
use std::path::PathBuf;

use tauri::{AppHandle, Manager};
use tauri_plugin_dialog::{DialogExt as _, FilePath};
use tauri_plugin_fs::{FsExt as _, OpenOptions};

use crate::commands::{ErrorBody, ErrorCode, error};

/// The largest card file an import reads (a 10,000-card vCard with photos fits).
pub const MAX_CARD_FILE: u64 = mingpian_card::limits::MAX_CARD_FILE_BYTES;
/// The most an import reads in all (the files are held in memory while they import).
pub const MAX_CARD_FILES_TOTAL: u64 = mingpian_card::limits::MAX_CARD_FILES_TOTAL_BYTES;
/// The largest picture read (an avatar, a card image, a photo of a paper card).
pub const MAX_PICTURE: u64 = 32 * 1024 * 1024;

/// What a file picker is for: its filters and how many files it takes.
#[derive(Debug, Clone, Copy)]
pub enum Pick {
    /// vCard and CSV files to import (several at once).
    CardFiles,
    /// One picture (avatar, card image).
    Picture,
    /// One or two photos of a paper card (front and back).
    Photos,
}

impl Pick {
    fn filter(self) -> (&'static str, &'static [&'static str]) {
        match self {
            Pick::CardFiles => ("vCard / CSV", &["vcf", "vcard", "csv", "txt"]),
            Pick::Picture | Pick::Photos => {
                ("Image", &["png", "jpg", "jpeg", "webp", "gif", "bmp"])
            }
        }
    }

    fn multiple(self) -> bool {
        !matches!(self, Pick::Picture)
    }

    fn limit(self) -> u64 {
        match self {
            Pick::CardFiles => MAX_CARD_FILE,
            Pick::Picture | Pick::Photos => MAX_PICTURE,
        }
    }
}

/// The file dialogs: the system's, or in debug builds the named test seam.
pub enum FileDialogs {
    Native,
    #[cfg(debug_assertions)]
    Fake(FakeFileDialog),
}

/// The test seam that stands in for the native file dialog (see the module docs).
#[cfg(debug_assertions)]
pub struct FakeFileDialog {
    answers: PathBuf,
}

#[cfg(debug_assertions)]
impl FakeFileDialog {
    fn answer(&self, key: &str) -> Option<serde_json::Value> {
        let text = std::fs::read_to_string(&self.answers).ok()?;
        let value: serde_json::Value = serde_json::from_str(&text).ok()?;
        value.get(key).filter(|v| !v.is_null()).cloned()
    }
}

impl FileDialogs {
    /// The native dialogs, unless a debug build runs with `MINGPIAN_FAKE_FILE_DIALOG`.
    pub fn from_env() -> FileDialogs {
        #[cfg(debug_assertions)]
        if let Some(answers) = std::env::var_os("MINGPIAN_FAKE_FILE_DIALOG") {
            eprintln!("mingpian: file dialogs answered by the test seam FakeFileDialog");
            return FileDialogs::Fake(FakeFileDialog {
                answers: answers.into(),
            });
        }
        FileDialogs::Native
    }

    /// The files the user picked; empty when they cancelled.
    pub async fn open(&self, app: &AppHandle, pick: Pick) -> Vec<FilePath> {
        match self {
            #[cfg(debug_assertions)]
            FileDialogs::Fake(fake) => fake
                .answer("open")
                .and_then(|v| serde_json::from_value::<Vec<PathBuf>>(v).ok())
                .unwrap_or_default()
                .into_iter()
                .map(FilePath::Path)
                .collect(),
            FileDialogs::Native => {
                let (name, extensions) = pick.filter();
                let dialog = app.dialog().file().add_filter(name, extensions);
                let (tx, rx) = tokio::sync::oneshot::channel();
                if pick.multiple() {
                    dialog.pick_files(move |files| {
                        let _ = tx.send(files.unwrap_or_default());
                    });
                } else {
                    dialog.pick_file(move |file| {
                        let _ = tx.send(file.into_iter().collect());
                    });
                }
                rx.await.unwrap_or_default()
            }
        }
    }

    /// Where the user chose to save `file_name`; `None` when they cancelled.
    pub async fn save(
        &self,
        app: &AppHandle,
        file_name: &str,
        filter: (&str, &[&str]),
    ) -> Option<FilePath> {
        match self {
            #[cfg(debug_assertions)]
            FileDialogs::Fake(fake) => fake
                .answer("save")
                .and_then(|v| serde_json::from_value::<PathBuf>(v).ok())
                .map(FilePath::Path),
            FileDialogs::Native => {
                let (tx, rx) = tokio::sync::oneshot::channel();
                app.dialog()
                    .file()
                    .set_file_name(file_name)
                    .add_filter(filter.0, filter.1)
                    .save_file(move |file| {
                        let _ = tx.send(file);
                    });
                rx.await.ok().flatten()
            }
        }
    }
}

/// What a picked file is called: the path's file name, or the last segment of a content URI
/// (`…/document/primary%3ADownload%2Fcards.vcf` → `cards.vcf`).
pub fn display_name(path: &FilePath) -> String {
    let raw = match path {
        FilePath::Path(p) => p.file_name().map(|n| n.to_string_lossy().into_owned()),
        FilePath::Url(u) => u.path_segments().and_then(|mut s| s.next_back()).map(|s| {
            let decoded: String = percent_decode(s);
            decoded
                .rsplit(['/', ':'])
                .next()
                .unwrap_or_default()
                .to_owned()
        }),
    };
    raw.filter(|n| !n.is_empty())
        .unwrap_or_else(|| "file".into())
}

fn percent_decode(s: &str) -> String {
    url::form_urlencoded::parse(format!("x={}", s.replace('+', "%2B")).as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_else(|| s.to_owned())
}

/// Reads a picked file, at most `limit` bytes (a bigger one is refused, not cut).
pub fn read(app: &AppHandle, path: FilePath, limit: u64) -> Result<(String, Vec<u8>), ErrorBody> {
    let name = display_name(&path);
    let mut options = OpenOptions::new();
    options.read(true);
    let file = app
        .fs()
        .open(path, options)
        .map_err(|e| error(ErrorCode::Io, format!("{name}: {e}")))?;
    let mut bytes = Vec::new();
    file.take(limit + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| error(ErrorCode::Io, format!("{name}: {e}")))?;
    if bytes.len() as u64 > limit {
        return Err(error(
            ErrorCode::TooLarge,
            format!("{name} is over {} MB", limit / (1024 * 1024)),
        ));
    }
    Ok((name, bytes))
}

/// Reads every picked file for `pick`, each within its limit and all of them within
/// [`MAX_CARD_FILES_TOTAL`].
pub fn read_all(
    app: &AppHandle,
    paths: Vec<FilePath>,
    pick: Pick,
) -> Result<Vec<(String, Vec<u8>)>, ErrorBody> {
    let mut left = MAX_CARD_FILES_TOTAL;
    let mut out = Vec::with_capacity(paths.len());
    for path in paths {
        let (name, bytes) = read(app, path, pick.limit().min(left))?;
        left -= bytes.len() as u64;
        out.push((name, bytes));
    }
    Ok(out)
}

/// Writes `data` where the user chose. A plain path is written whole or not at all (a
/// temporary file renamed into place); a content URI is written through the system.
pub fn write(app: &AppHandle, path: FilePath, data: &[u8]) -> Result<String, ErrorBody> {
    let shown = match &path {
        FilePath::Path(p) => p.display().to_string(),
        FilePath::Url(_) => display_name(&path),
    };
    let io = |e: std::io::Error| error(ErrorCode::Io, format!("{shown}: {e}"));
    match path {
        FilePath::Path(p) => {
            let part = p.with_file_name(format!(
                ".{}.{}.part",
                p.file_name()
                    .map(|n| n.to_string_lossy())
                    .unwrap_or_default(),
                std::process::id()
            ));
            write_new(&part, data)
                .and_then(|()| std::fs::rename(&part, &p))
                .map_err(|e| {
                    let _ = std::fs::remove_file(&part);
                    io(e)
                })?;
        }
        url @ FilePath::Url(_) => {
            let mut options = OpenOptions::new();
            options.write(true).create(true).truncate(true);
            let mut file = app.fs().open(url, options).map_err(io)?;
            file.write_all(data).map_err(io)?;
            file.sync_all().map_err(io)?;
        }
    }
    Ok(shown)
}

/// Writes a new file (never through a link or over a file already there), readable by this
/// user only: an export holds everyone's numbers.
fn write_new(path: &std::path::Path, data: &[u8]) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path)?;
    file.write_all(data)?;
    file.sync_all()
}

/// A file name the user will see, safe to offer in a save dialog or to write into the share
/// folder, always ending in `.{extension}`: no path separators, no control, format or
/// direction characters (which can disguise `gpj.exe` as `exe.jpg`), not hidden, no Windows
/// device name, and at most 100 bytes before the extension (a file name has 255).
pub fn file_name(name: &str, extension: &str, fallback: &str) -> String {
    let stem = match name.rsplit_once('.') {
        Some((stem, ext)) if ext.eq_ignore_ascii_case(extension) => stem,
        _ => name,
    };
    let mut cleaned = String::new();
    for c in stem
        .chars()
        .filter(|c| !c.is_control() && !is_format_char(*c))
    {
        let c = if matches!(c, '/' | '\\' | ':' | '*' | '?' | '"' | '<' | '>' | '|') {
            ' '
        } else {
            c
        };
        if cleaned.len() + c.len_utf8() > 100 {
            break;
        }
        cleaned.push(c);
    }
    let cleaned = cleaned.trim_matches(|c: char| c.is_whitespace() || c == '.');
    let device = cleaned
        .split('.')
        .next()
        .unwrap_or_default()
        .to_ascii_uppercase();
    let reserved = matches!(device.as_str(), "CON" | "PRN" | "AUX" | "NUL")
        || (device.len() == 4
            && (device.starts_with("COM") || device.starts_with("LPT"))
            && device.as_bytes()[3].is_ascii_digit());
    let stem = if cleaned.is_empty() || reserved {
        fallback
    } else {
        cleaned
    };
    format!("{stem}.{extension}")
}

/// Unicode format characters (category Cf) that change how a name reads without showing:
/// direction marks and overrides, zero-width joiners and spaces, the BOM.
fn is_format_char(c: char) -> bool {
    matches!(c as u32,
        0x00AD | 0x061C | 0x180E | 0x200B..=0x200F | 0x202A..=0x202E | 0x2060..=0x2064
        | 0x2066..=0x206F | 0xFEFF | 0xFFF9..=0xFFFB)
}

/// Writes a file to hand to the share sheet: `{app cache}/share/{random}/{name}` (the Android
/// FileProvider and the iOS side accept only files in a folder of `share/`). Each share gets a
/// folder of its own, so an app still holding an earlier share cannot read a later one by its
/// name; folders older than a day go.
pub fn write_for_share(app: &AppHandle, name: &str, data: &[u8]) -> Result<PathBuf, ErrorBody> {
    let io = |e: std::io::Error| error(ErrorCode::Io, e);
    let root = app
        .path()
        .app_cache_dir()
        .map_err(|e| error(ErrorCode::Io, e))?
        .join("share");
    if let Ok(entries) = std::fs::read_dir(&root) {
        let day = std::time::Duration::from_secs(24 * 3600);
        for entry in entries.flatten() {
            let old = entry
                .metadata()
                .and_then(|m| m.modified())
                .ok()
                .and_then(|t| t.elapsed().ok());
            if old.is_some_and(|age| age > day) {
                let _ = std::fs::remove_dir_all(entry.path());
            }
        }
    }
    let random: [u8; 12] = rand::random();
    let folder = root.join(
        random
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>(),
    );
    std::fs::create_dir_all(&folder).map_err(io)?;
    let path = folder.join(name);
    write_new(&path, data).map_err(io)?;
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn picked_files_are_named_as_the_user_knows_them() {
        let uri = "content://com.android.externalstorage.documents/document/primary%3ADownload%2Fcards.vcf";
        let url = url::Url::parse(uri).expect("uri");
        assert_eq!(display_name(&FilePath::Url(url)), "cards.vcf");
        assert_eq!(
            display_name(&FilePath::Path("/home/a/名片.csv".into())),
            "名片.csv"
        );
        let bare = url::Url::parse("content://media/external/images/media/31").expect("uri");
        assert_eq!(display_name(&FilePath::Url(bare)), "31");
    }

    #[test]
    fn file_names_cannot_leave_their_folder_or_disguise_themselves() {
        assert_eq!(file_name("../../etc/passwd", "vcf", "x"), "etc passwd.vcf");
        assert_eq!(
            file_name("名片夹 2026-11-30.vcf", "vcf", "x"),
            "名片夹 2026-11-30.vcf"
        );
        assert_eq!(file_name("..", "vcf", "cards"), "cards.vcf");
        assert_eq!(file_name("a\u{0}b\nc.png", "png", "x"), "abc.png");
        // A received name ending in another extension keeps ours; direction overrides go.
        assert_eq!(file_name("invoice.html", "vcf", "x"), "invoice.html.vcf");
        assert_eq!(
            file_name("Anna\u{202E}fdp.exe", "vcf", "x"),
            "Annafdp.exe.vcf"
        );
        assert_eq!(file_name("CON", "vcf", "contact"), "contact.vcf");
        assert_eq!(file_name("lpt1.txt", "vcf", "contact"), "contact.vcf");
        // Long names are cut before the extension, on a character boundary, within 100 bytes.
        let long = file_name(&"张".repeat(200), "vcf", "x");
        assert!(
            long.ends_with(".vcf") && long.len() <= 104,
            "{} bytes",
            long.len()
        );
        assert!(long.trim_end_matches(".vcf").chars().all(|c| c == '张'));
    }
}
