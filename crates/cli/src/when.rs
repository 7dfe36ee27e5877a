//! Dates and times for people: in the computer's time zone and written the way its locale
//! writes them (`2026年11月30日 20:15`, `Nov 30, 2026, 8:15 PM`, `30 Nov 2026, 20:15`), never as
//! raw Unix milliseconds. JSON output keeps the milliseconds.

use jiff::Timestamp;
use jiff::tz::TimeZone;

/// How the locale writes a date and time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Style {
    /// `2026年11月30日 20:15` (zh, ja).
    Cjk,
    /// `Nov 30, 2026, 8:15 PM` (en_US and the other month-first locales).
    MonthFirst,
    /// `30 Nov 2026, 20:15` (en_GB and most of the world).
    DayFirst,
    /// `2026-11-30 20:15` (C/POSIX, unknown).
    Iso,
}

/// The locale that decides how times are written: `LC_ALL`, then `LC_TIME`, then `LANG`.
fn locale(env: impl Fn(&str) -> Option<String>) -> String {
    ["LC_ALL", "LC_TIME", "LANG"]
        .iter()
        .filter_map(|k| env(k))
        .find(|v| !v.is_empty())
        .unwrap_or_default()
}

fn style(locale: &str) -> Style {
    let lang = locale.split(['.', '@']).next().unwrap_or_default();
    let (language, region) = lang.split_once(['_', '-']).unwrap_or((lang, ""));
    match (language, region) {
        ("zh" | "ja", _) => Style::Cjk,
        ("en", "US" | "PH" | "CA") => Style::MonthFirst,
        ("" | "C" | "POSIX", _) => Style::Iso,
        _ => Style::DayFirst,
    }
}

fn format(ms: i64, style: Style, tz: TimeZone) -> String {
    let Ok(at) = Timestamp::from_millisecond(ms) else {
        return ms.to_string();
    };
    let zoned = at.to_zoned(tz);
    let pattern = match style {
        Style::Cjk => "%Y年%-m月%-d日 %H:%M",
        Style::MonthFirst => "%b %-d, %Y, %-I:%M %p",
        Style::DayFirst => "%-d %b %Y, %H:%M",
        Style::Iso => "%Y-%m-%d %H:%M",
    };
    zoned.strftime(pattern).to_string()
}

/// `ms` (Unix milliseconds) as this computer's locale and time zone write it.
pub fn local(ms: i64) -> String {
    format(
        ms,
        style(&locale(|k| std::env::var(k).ok())),
        TimeZone::system(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const AT: i64 = 1_796_066_384_543; // 2026-11-30 19:19:44 UTC

    #[test]
    fn each_locale_writes_it_its_way() {
        let utc = TimeZone::UTC;
        assert_eq!(
            format(AT, style("zh_CN.UTF-8"), utc.clone()),
            "2026年11月30日 19:19"
        );
        assert_eq!(
            format(AT, style("en_US.UTF-8"), utc.clone()),
            "Nov 30, 2026, 7:19 PM"
        );
        assert_eq!(
            format(AT, style("en_GB.UTF-8"), utc.clone()),
            "30 Nov 2026, 19:19"
        );
        assert_eq!(format(AT, style("C"), utc.clone()), "2026-11-30 19:19");
        let shanghai = TimeZone::get("Asia/Shanghai").expect("tz database");
        assert_eq!(
            format(AT, style("zh_CN.UTF-8"), shanghai),
            "2026年12月1日 03:19",
            "in the computer's time zone"
        );
    }

    #[test]
    fn lc_all_wins_over_lang() {
        let env = |k: &str| match k {
            "LC_ALL" => Some("zh_CN.UTF-8".to_owned()),
            "LANG" => Some("en_US.UTF-8".to_owned()),
            _ => None,
        };
        assert_eq!(style(&locale(env)), Style::Cjk);
        assert_eq!(style(&locale(|_| None)), Style::Iso);
    }
}
