//! The user's own card sets (claims 3, 5, 6): fetching, publishing and editing them, and the codes
//! that lead to them.

use mingpian_card::api::{CardField, CardSet, CardSetInput, Codes};
use mingpian_card::{Card, CardSetNo};
use serde::{Deserialize, Serialize};

use crate::Wallet;
use crate::error::{Result, WalletError};

impl Wallet {
    /// Saves a card set and returns it: set `n` replaced, or with `None` a new one (the first
    /// card a new user adds fills set 1; see [`Wallet::publish_set`]).
    pub async fn save_set(
        &self,
        n: Option<u32>,
        card: Card,
        printed_fields: Option<Vec<CardField>>,
    ) -> Result<MySet> {
        let saved = match n {
            Some(n) => self.edit_set(n, card, printed_fields).await?,
            None => self.publish_set(card, printed_fields).await?,
        };
        self.my_sets()?
            .into_iter()
            .find(|s| s.set_no == saved.set_no.get())
            .ok_or_else(|| WalletError::NotFound(format!("set {}", saved.set_no)))
    }

    /// Fetches the user's card sets from the cloud.
    pub async fn refresh_sets(&self) -> Result<Vec<MySet>> {
        let sets = self.cloud()?.sets().await?;
        self.store_sets(&sets, true)?;
        self.my_sets()
    }

    /// Publishes a card set: the first card a new user adds fills set 1, which registration
    /// made from their name alone and which their code shares; after that, the next free number.
    pub async fn publish_set(
        &self,
        card: Card,
        printed_fields: Option<Vec<CardField>>,
    ) -> Result<CardSet> {
        let sets = self.refresh_sets().await?;
        if let [only] = sets.as_slice()
            && only.set_no == 1
            && only.version == 1
        {
            return self.edit_set(1, card, printed_fields).await;
        }
        let set = self
            .cloud()?
            .create_set(&CardSetInput {
                card,
                printed_fields,
            })
            .await?;
        self.store_sets(std::slice::from_ref(&set), false)?;
        Ok(set)
    }

    /// Replaces set `n`; everyone holding it sees the new version on their next sync.
    pub async fn edit_set(
        &self,
        n: u32,
        card: Card,
        printed_fields: Option<Vec<CardField>>,
    ) -> Result<CardSet> {
        let set = self
            .cloud()?
            .replace_set(
                set_no(n)?,
                &CardSetInput {
                    card,
                    printed_fields,
                },
            )
            .await?;
        self.store_sets(std::slice::from_ref(&set), false)?;
        Ok(set)
    }

    /// What to draw for set `n`: the printed URL and a fresh live URL.
    pub async fn codes(&self, n: u32) -> Result<Codes> {
        self.cloud()?.codes(set_no(n)?).await
    }

    /// Issues set `n` a new public code; printed codes of the old one stop working.
    pub async fn rotate(&self, n: u32) -> Result<Codes> {
        self.cloud()?.rotate(set_no(n)?).await
    }

    /// Set `n`'s printed or live code, drawn.
    pub async fn code_view(&self, n: u32, printed: bool) -> Result<CodeView> {
        let codes = self.codes(n).await?;
        let (url, expires_at) = if printed {
            (codes.printed_url, None)
        } else {
            (codes.live_url, Some(codes.live_expires_at))
        };
        let svg = mingpian_card::qr::image::encode_svg(&url)
            .map_err(|e| WalletError::Invalid(e.to_string()))?;
        Ok(CodeView {
            url,
            svg,
            printed,
            expires_at,
        })
    }
}
/// A code ready to draw: its URL and an SVG of it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct CodeView {
    pub url: String,
    pub svg: String,
    pub printed: bool,
    /// When a live code stops working (Unix milliseconds); `None` for a printed code.
    pub expires_at: Option<i64>,
}

/// The first card of a vCard file, for filling the card editor.
pub fn read_first_card(bytes: &[u8]) -> Result<Card> {
    let report = mingpian_card::vcard::read(bytes);
    report.cards.into_iter().next().ok_or_else(|| {
        WalletError::Invalid(
            report
                .errors
                .first()
                .map(|e| e.to_string())
                .unwrap_or_else(|| "no card in the file".into()),
        )
    })
}
pub(crate) fn set_no(n: u32) -> Result<CardSetNo> {
    CardSetNo::new(n).map_err(|e| WalletError::Invalid(e.to_string()))
}

impl Wallet {
    /// The user's own card sets as last fetched.
    pub fn my_sets(&self) -> Result<Vec<MySet>> {
        self.read(|c| {
            let mut stmt = c.prepare_cached(
                "SELECT set_no, card, printed_fields, version, updated_at FROM my_sets
                 ORDER BY set_no",
            )?;
            let rows = stmt.query_map([], |r| {
                Ok((
                    r.get::<_, u32>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get(3)?,
                    r.get(4)?,
                ))
            })?;
            let mut out = Vec::new();
            for row in rows {
                let (set_no, card, fields, version, updated_at) = row?;
                out.push(MySet {
                    set_no,
                    card: serde_json::from_str(&card)?,
                    printed_fields: serde_json::from_str(&fields)?,
                    version,
                    updated_at,
                });
            }
            Ok(out)
        })
    }

    fn store_sets(&self, sets: &[CardSet], replace_all: bool) -> Result<()> {
        self.write(|c, _| {
            if replace_all {
                c.execute("DELETE FROM my_sets", [])?;
            }
            for s in sets {
                c.prepare_cached(
                    "INSERT INTO my_sets (set_no, card, printed_fields, version, updated_at)
                     VALUES (?1, ?2, ?3, ?4, ?5)
                     ON CONFLICT (set_no) DO UPDATE SET card = excluded.card,
                        printed_fields = excluded.printed_fields, version = excluded.version,
                        updated_at = excluded.updated_at",
                )?
                .execute(rusqlite::params![
                    s.set_no.get(),
                    serde_json::to_string(&s.card)?,
                    serde_json::to_string(&s.printed_fields)?,
                    s.version,
                    s.updated_at
                ])?;
            }
            Ok(())
        })
    }
}
/// One of the user's own card sets as the wallet last saw it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct MySet {
    pub set_no: u32,
    pub card: Card,
    pub printed_fields: Vec<CardField>,
    pub version: i64,
    pub updated_at: i64,
}
