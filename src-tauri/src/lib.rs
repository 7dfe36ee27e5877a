//! The app: a thin Tauri shell. Each command is a call into `mingpian-wallet` (or, for paper
//! cards, `mingpian-scan`); errors reach the UI as `{code, message}`; events carry incoming cards
//! and import progress. No SQL, HTTP or parsing here.
//!
//! The UI's contract with the shell is generated from this crate: every command, event and type
//! in `ui/src/lib/bindings.ts` (tauri-specta). `cargo test -p mingpian-app` fails when the file
//! is stale; `MINGPIAN_WRITE_BINDINGS=1 cargo test -p mingpian-app bindings` writes it.

mod commands;
mod device;
mod events;
mod files;
mod links;

use std::path::PathBuf;
use std::sync::Arc;

use mingpian_wallet::Wallet;
use tauri::Manager;
use tauri_specta::Event as _;

#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Where the app finds its cloud before the user says otherwise: `MINGPIAN_SERVER`, else the
/// address `scripts/run.sh` serves on.
pub fn default_server() -> String {
    std::env::var("MINGPIAN_SERVER").unwrap_or_else(|_| "http://127.0.0.1:8787".into())
}

/// What this device is called in the account's device list (the list marks the current one).
pub fn device_name() -> String {
    match std::env::consts::OS {
        "android" => "Android phone",
        "ios" => "iPhone",
        "macos" => "Mac",
        "windows" => "Windows PC",
        _ => "Linux PC",
    }
    .into()
}

/// Where the OCR models are: bundled with the app (its resource directory) when they are there,
/// else `$MINGPIAN_MODELS` or the developer's cache.
pub fn model_dir(app: &tauri::AppHandle) -> PathBuf {
    app.path()
        .resource_dir()
        .map(|d| d.join("models"))
        .ok()
        .filter(|d| d.join("PP-OCRv6_det_small.onnx").is_file())
        .unwrap_or_else(mingpian_scan::ocr::default_model_dir)
}

/// The commands and events, as the UI's bindings describe them.
pub fn bindings() -> tauri_specta::Builder<tauri::Wry> {
    tauri_specta::Builder::<tauri::Wry>::new()
        .commands(tauri_specta::collect_commands![
            commands::session,
            commands::settings,
            commands::set_region,
            commands::register,
            commands::login,
            commands::logout,
            commands::devices,
            commands::carddav,
            commands::new_app_password,
            commands::revoke_app_password,
            commands::my_sets,
            commands::find_card_frame,
            commands::read_paper_card,
            commands::add_card,
            commands::save_set,
            commands::code,
            commands::rotate,
            commands::preview,
            commands::scan_text,
            commands::decode_image,
            commands::contacts,
            commands::search,
            commands::contact,
            commands::card_versions,
            commands::set_note,
            commands::set_tags,
            commands::edit_contact,
            commands::set_primary_card,
            commands::accept_card,
            commands::delete_contact,
            commands::undelete_contact,
            commands::unlink_card,
            commands::pick_pictures,
            commands::pick_card,
            commands::save_contact,
            commands::import_picked,
            commands::export_picked,
            commands::save_picture,
            commands::share,
            commands::present_code,
            commands::opened_link,
            commands::display_phones,
            commands::sync,
            commands::restore,
            commands::pull_inbox,
        ])
        .events(tauri_specta::collect_events![
            events::CardReceived,
            events::ImportProgress,
            events::LinkOpened
        ])
        .dangerously_cast_bigints_to_number()
}

/// The TypeScript the UI imports: `ui/src/lib/bindings.ts`.
pub fn typescript() -> specta_typescript::Typescript {
    specta_typescript::Typescript::default()
        .header("// Generated from src-tauri by tauri-specta: do not edit. `MINGPIAN_WRITE_BINDINGS=1 cargo test -p mingpian-app bindings` rewrites it.\n")
}

#[cfg_attr(mobile, tauri::mobile_entry_point)]
pub fn run() {
    let bindings = bindings();
    let builder = tauri::Builder::default();
    // Desktop: one running app. A second start (a `mingpian://` link opened from a browser or
    // chat) hands its link to the first through the deep-link plugin and quits. It must be the
    // first plugin registered.
    #[cfg(desktop)]
    let builder = builder.plugin(tauri_plugin_single_instance::init(|app, _argv, _cwd| {
        if let Some(window) = app.get_webview_window("main") {
            let _ = window.unminimize();
            let _ = window.set_focus();
        }
    }));
    let builder = builder
        .plugin(tauri_plugin_deep_link::init())
        .plugin(tauri_plugin_dialog::init())
        .plugin(tauri_plugin_fs::init())
        .plugin(tauri_plugin_opener::init());
    // Phones: the camera scanner (the UI drives it) and the screen, share sheet and haptics
    // (called from Rust).
    #[cfg(mobile)]
    let builder = builder
        .plugin(tauri_plugin_barcode_scanner::init())
        .plugin(tauri_plugin_mingpian_device::init());
    builder
        .invoke_handler(bindings.invoke_handler())
        .setup(move |app| {
            bindings.mount_events(app);
            app.manage(files::FileDialogs::from_env());
            links::setup(app);
            let wallet = Arc::new(Wallet::open(app.path().app_data_dir()?)?);
            app.manage(wallet.clone());
            // The live inbox: open whenever a user is logged in, so a card arrives on the QR
            // screen the moment someone scans it.
            let handle = app.handle().clone();
            tauri::async_runtime::spawn(async move {
                wallet
                    .run_live_inbox(|card| {
                        device::haptic(&handle);
                        let _ = events::CardReceived(card.clone()).emit(&handle);
                    })
                    .await;
            });
            Ok(())
        })
        .run(tauri::generate_context!())
        .expect("error while running the Mingpian app");
}

#[cfg(test)]
mod tests {
    /// The bindings in `ui/src/lib/bindings.ts` are what this crate generates: a command, event
    /// or type changed here and not there fails the test command (and the UI's type check shows
    /// every screen that no longer fits).
    #[test]
    fn bindings_are_fresh() {
        let checked_in =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../ui/src/lib/bindings.ts");
        let dir = tempfile::tempdir().expect("temp dir");
        let fresh = dir.path().join("bindings.ts");
        super::bindings()
            .export(super::typescript(), &fresh)
            .expect("export the bindings");
        let fresh = std::fs::read_to_string(&fresh).expect("read the fresh bindings");
        if std::env::var_os("MINGPIAN_WRITE_BINDINGS").is_some() {
            std::fs::write(&checked_in, &fresh).expect("write ui/src/lib/bindings.ts");
            return;
        }
        let old = std::fs::read_to_string(&checked_in).unwrap_or_default();
        assert!(
            old == fresh,
            "ui/src/lib/bindings.ts is stale: run `MINGPIAN_WRITE_BINDINGS=1 cargo test -p mingpian-app bindings` and commit it"
        );
    }
}
