//! Scoring a draft card against the fields printed on it (generated cards' JSON), for the test
//! and the evaluation example.

use mingpian_card::{Card, PhoneNumber, Region};
use serde_json::Value;

/// Counts for one field: read right, read wrong, read where nothing was printed, missed.
#[derive(Debug, Clone, Copy, Default)]
pub struct Tally {
    pub right: usize,
    pub wrong: usize,
    pub extra: usize,
    pub missed: usize,
}

impl Tally {
    pub fn add(&mut self, t: Tally) {
        self.right += t.right;
        self.wrong += t.wrong;
        self.extra += t.extra;
        self.missed += t.missed;
    }

    /// Of the values read, how many were right.
    pub fn precision(&self) -> f64 {
        let read = self.right + self.wrong + self.extra;
        if read == 0 {
            1.0
        } else {
            self.right as f64 / read as f64
        }
    }

    /// Of the values printed, how many were read right.
    pub fn recall(&self) -> f64 {
        let printed = self.right + self.wrong + self.missed;
        if printed == 0 {
            1.0
        } else {
            self.right as f64 / printed as f64
        }
    }

    pub fn f1(&self) -> f64 {
        let (p, r) = (self.precision(), self.recall());
        if p + r == 0.0 {
            0.0
        } else {
            2.0 * p * r / (p + r)
        }
    }
}

fn norm(s: &str) -> String {
    s.to_lowercase()
        .chars()
        .filter(|c| c.is_alphanumeric())
        .collect()
}

fn tally(want: Option<String>, got: Option<String>, same: impl Fn(&str, &str) -> bool) -> Tally {
    match (want, got) {
        (Some(w), Some(g)) if same(&w, &g) => Tally {
            right: 1,
            ..Tally::default()
        },
        (Some(_), Some(_)) => Tally {
            wrong: 1,
            ..Tally::default()
        },
        (Some(_), None) => Tally {
            missed: 1,
            ..Tally::default()
        },
        (None, Some(_)) => Tally {
            extra: 1,
            ..Tally::default()
        },
        (None, None) => Tally::default(),
    }
}

/// Each field's tally for one card. Text compares ignoring case, spaces and punctuation; phone
/// numbers compare in E.164.
pub fn score(card: &Card, truth: &Value) -> Vec<(&'static str, Tally)> {
    let region = Region::parse(if truth["language"] == "en" {
        "US"
    } else {
        "CN"
    })
    .expect("region");
    let t = |k: &str| truth.get(k).and_then(Value::as_str).map(str::to_owned);
    let text = |a: &str, b: &str| norm(a) == norm(b);
    let e164 = |s: &str| {
        PhoneNumber::parse(s, region)
            .map(|n| n.e164().to_owned())
            .unwrap_or_default()
    };
    let phone_same = |a: &str, b: &str| e164(a) == e164(b);
    let phone = |kind: &str| {
        card.phones
            .iter()
            .find(|p| {
                let fax = p.kinds.iter().any(|k| k == "fax");
                match kind {
                    "fax" => fax,
                    k => !fax && p.kinds.iter().any(|x| x == k),
                }
            })
            .map(|p| p.value.clone())
    };
    let non_empty = |s: &str| Some(s.to_owned()).filter(|s| !s.is_empty());
    vec![
        (
            "name",
            tally(t("name"), non_empty(&card.formatted_name), text),
        ),
        (
            "name_en",
            tally(
                t("name_en"),
                card.phonetic
                    .as_ref()
                    .map(|n| format!("{} {}", n.given, n.family)),
                text,
            ),
        ),
        ("company", tally(t("company"), card.org.clone(), text)),
        ("title", tally(t("title"), card.title.clone(), text)),
        (
            "department",
            tally(t("department"), card.departments.first().cloned(), text),
        ),
        ("mobile", tally(t("mobile"), phone("cell"), phone_same)),
        (
            "work_phone",
            tally(t("work_phone"), phone("work"), phone_same),
        ),
        ("fax", tally(t("fax"), phone("fax"), phone_same)),
        (
            "email",
            tally(
                t("email"),
                card.emails.first().map(|e| e.value.clone()),
                text,
            ),
        ),
        (
            "website",
            tally(
                t("website"),
                card.urls.first().map(|u| u.value.clone()),
                text,
            ),
        ),
        (
            "address",
            tally(
                t("address"),
                card.addresses.first().map(|a| a.display()),
                text,
            ),
        ),
        (
            "wechat",
            tally(
                t("wechat"),
                card.socials
                    .iter()
                    .find(|s| s.service == "wechat")
                    .map(|s| s.value.clone()),
                text,
            ),
        ),
    ]
}
