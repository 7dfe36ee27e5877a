//! The app: a thin Tauri shell. Each command is a call into `mingpian-wallet`; errors reach the
//! UI as `{code, message}`; events carry incoming cards (`card-received`) and import progress
//! (`import-progress`). No SQL, HTTP or parsing here.

mod commands;

use std::sync::Arc;
use std::time::Duration;

use mingpian_wallet::Wallet;
use tauri::{Emitter, Manager};

#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Where the app finds its cloud before the user says otherwise: `MINGPIAN_SERVER`, else the
/// address `scripts/run.sh` serves on.
pub fn default_server() -> String {
    std::env::var("MINGPIAN_SERVER").unwrap_or_else(|_| "http://127.0.0.1:8787".into())
}

#[cfg_attr(mobile, tauri::mobile_entry_point)]
pub fn run() {
    let builder = tauri::Builder::default().plugin(tauri_plugin_opener::init());
    #[cfg(mobile)]
    let builder = builder.plugin(tauri_plugin_barcode_scanner::init());
    builder
        .setup(|app| {
            let dir = app.path().app_data_dir()?;
            let wallet = Arc::new(Wallet::open(&dir)?);
            app.manage(wallet.clone());
            // The live inbox: open whenever a user is logged in, so a card arrives on the QR
            // screen the moment someone scans it.
            let handle = app.handle().clone();
            tauri::async_runtime::spawn(async move {
                loop {
                    let _ = wallet
                        .keep_listening(|card| {
                            let _ = handle.emit("card-received", card);
                        })
                        .await;
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
            });
            Ok(())
        })
        .invoke_handler(tauri::generate_handler![
            commands::session,
            commands::settings,
            commands::set_region,
            commands::register,
            commands::login,
            commands::logout,
            commands::devices,
            commands::my_sets,
            commands::read_card,
            commands::find_card_frame,
            commands::read_paper_card,
            commands::add_card,
            commands::save_set,
            commands::code,
            commands::rotate,
            commands::scan_text,
            commands::scan_image,
            commands::contacts,
            commands::search,
            commands::contact,
            commands::card_versions,
            commands::set_note,
            commands::set_tags,
            commands::delete_contact,
            commands::undelete_contact,
            commands::unlink_card,
            commands::import_files,
            commands::export_wallet,
            commands::sync,
            commands::restore,
            commands::pull_inbox,
        ])
        .run(tauri::generate_context!())
        .expect("error while running the Mingpian app");
}
