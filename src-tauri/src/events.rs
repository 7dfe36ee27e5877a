//! What the shell tells the UI without being asked: a card arrived (someone scanned the user's
//! code; the QR screen shows it at once) and how far an import has got.

use mingpian_wallet::{Progress, Received};
use serde::{Deserialize, Serialize};

/// `card-received`: a card reached the wallet through the live inbox.
#[derive(Debug, Clone, Serialize, Deserialize, specta::Type, tauri_specta::Event)]
pub struct CardReceived(pub Received);

/// `import-progress`: cards read so far of a running import.
#[derive(Debug, Clone, Serialize, Deserialize, specta::Type, tauri_specta::Event)]
pub struct ImportProgress(pub Progress);

/// `link-opened`: a card link opened the running app (a second start with the link on desktop,
/// an App Link / Universal Link on phones).
#[derive(Debug, Clone, Serialize, Deserialize, specta::Type, tauri_specta::Event)]
pub struct LinkOpened(pub String);
