//! The phone's own abilities through the `mingpian-device` plugin (keep the screen awake and
//! bright while the code shows, the share sheet, a haptic tap), and what stands in for them on
//! desktop: a full-screen window, no share sheet (the UI offers save and copy there), no tap.

use tauri::AppHandle;
#[cfg(mobile)]
use tauri_plugin_mingpian_device::DeviceExt as _;
#[cfg(mobile)]
pub use tauri_plugin_mingpian_device::Share;

use crate::commands::{ErrorBody, ErrorCode, error};

/// What to share (the desktop twin of the plugin's type).
#[cfg(desktop)]
#[derive(Debug, Clone, Default)]
#[expect(
    dead_code,
    reason = "the desktop has no share sheet; the fields mirror the phone plugin's"
)]
pub struct Share {
    pub path: Option<String>,
    pub mime: Option<String>,
    pub text: Option<String>,
    pub title: Option<String>,
}

/// The code is on screen full-size (`on`) or no longer.
pub fn present(app: &AppHandle, on: bool) -> Result<(), ErrorBody> {
    #[cfg(mobile)]
    {
        let device = app.device();
        let done = if on {
            device.keep_awake()
        } else {
            device.release()
        };
        done.map_err(|e| error(ErrorCode::Internal, e))
    }
    #[cfg(desktop)]
    {
        use tauri::Manager as _;
        match app.get_webview_window("main") {
            Some(window) => window
                .set_fullscreen(on)
                .map_err(|e| error(ErrorCode::Internal, e)),
            None => Ok(()),
        }
    }
}

/// Opens the share sheet.
pub fn share(app: &AppHandle, share: Share) -> Result<(), ErrorBody> {
    #[cfg(mobile)]
    {
        app.device()
            .share(share)
            .map_err(|e| error(ErrorCode::Internal, e))
    }
    #[cfg(desktop)]
    {
        let _ = (app, share);
        Err(error(
            ErrorCode::Invalid,
            "this device has no share sheet: save the file or copy the link",
        ))
    }
}

/// One short tap when a card arrives (phones).
pub fn haptic(app: &AppHandle) {
    #[cfg(mobile)]
    {
        let _ = app.device().haptic();
    }
    #[cfg(desktop)]
    let _ = app;
}
