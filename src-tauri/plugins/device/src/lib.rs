//! The phone's own side of Mingpian, for what no maintained plugin does:
//! - `keep_awake` / `release`: while the user shows their QR code the screen stays on and goes
//!   to full brightness; afterwards the user's own brightness comes back.
//! - `share`: the system share sheet for a file the app wrote into its cache (`share/`) or for
//!   a text.
//! - `haptic`: one short confirming tap (a card arrived).
//!
//! Android and iOS only: `android/src/main/java/DevicePlugin.kt` and
//! `ios/Sources/DevicePlugin.swift` answer the commands. The app calls them from Rust through
//! [`DeviceExt::device`]; the web view has no permission for them.

#![cfg(mobile)]

use serde::Serialize;
use tauri::plugin::{Builder, PluginHandle, TauriPlugin};
use tauri::{Manager, Runtime};

#[cfg(target_os = "ios")]
tauri::ios_plugin_binding!(init_plugin_mingpian_device);

/// What to share: a file (its path inside the app's cache `share/` folder and its MIME type)
/// and/or a text.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Share {
    pub path: Option<String>,
    pub mime: Option<String>,
    pub text: Option<String>,
    /// The share sheet's title (Android's chooser shows it).
    pub title: Option<String>,
}

/// The plugin's handle, managed by the app.
pub struct Device<R: Runtime>(PluginHandle<R>);

impl<R: Runtime> Device<R> {
    pub fn keep_awake(&self) -> tauri::Result<()> {
        self.run("keepAwake", ())
    }

    pub fn release(&self) -> tauri::Result<()> {
        self.run("release", ())
    }

    pub fn share(&self, share: Share) -> tauri::Result<()> {
        self.run("share", share)
    }

    pub fn haptic(&self) -> tauri::Result<()> {
        self.run("haptic", ())
    }

    fn run(&self, command: &str, payload: impl Serialize) -> tauri::Result<()> {
        self.0
            .run_mobile_plugin::<serde::de::IgnoredAny>(command, payload)
            .map(|_| ())
            .map_err(tauri::Error::from)
    }
}

/// `app.device()`.
pub trait DeviceExt<R: Runtime> {
    fn device(&self) -> &Device<R>;
}

impl<R: Runtime, T: Manager<R>> DeviceExt<R> for T {
    fn device(&self) -> &Device<R> {
        self.state::<Device<R>>().inner()
    }
}

/// Registers the plugin with the phone's side.
pub fn init<R: Runtime>() -> TauriPlugin<R> {
    Builder::new("mingpian-device")
        .setup(|app, api| {
            #[cfg(target_os = "android")]
            let handle = api.register_android_plugin("cn.mingpian.device", "DevicePlugin")?;
            #[cfg(target_os = "ios")]
            let handle = api.register_ios_plugin(init_plugin_mingpian_device)?;
            app.manage(Device(handle));
            Ok(())
        })
        .build()
}
