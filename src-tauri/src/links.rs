//! Card links that open the app: `https://{cloud}/c/…` on phones (App Links, Universal Links)
//! and `mingpian://…` on desktop, where a second start with a link hands it to the running app
//! (`tauri-plugin-single-instance`) and quits. The link the app was started with waits for the
//! UI to ask (`opened_link`); later ones arrive as `link-opened` events. Either way the UI takes
//! them to the same "whose card is this" step as a scan.

use std::sync::Mutex;

use tauri::{App, AppHandle, Manager};
use tauri_plugin_deep_link::DeepLinkExt as _;
use tauri_specta::Event as _;

use crate::events::LinkOpened;

/// The link the app was started with, until the UI takes it.
struct StartLink(Mutex<Option<String>>);

pub fn setup(app: &mut App) {
    let first = app
        .deep_link()
        .get_current()
        .ok()
        .flatten()
        .and_then(|urls| urls.into_iter().next())
        .map(String::from);
    app.manage(StartLink(Mutex::new(first)));
    let handle = app.handle().clone();
    app.deep_link().on_open_url(move |event| {
        for url in event.urls() {
            let _ = LinkOpened(url.into()).emit(&handle);
        }
    });
}

/// The start link, once.
pub fn take_opened(app: &AppHandle) -> Option<String> {
    let start = app.state::<StartLink>();
    let mut link = start
        .0
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    link.take()
}
