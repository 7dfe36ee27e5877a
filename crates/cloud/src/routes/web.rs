//! The web card, for people who scan a code with a plain camera and have no app: the card as a
//! page (Chinese or English by `Accept-Language`), a `.vcf` download, and a form to send their
//! own card back to the owner. Every value from a card is HTML-escaped; nothing in card data can
//! run as script (and the page forbids scripts outright by its Content-Security-Policy).

use std::net::SocketAddr;

use axum::extract::rejection::{FormRejection, QueryRejection};
use axum::extract::{ConnectInfo, Path, Query, State};
use axum::http::header::{
    CACHE_CONTROL, CONTENT_DISPOSITION, CONTENT_SECURITY_POLICY, CONTENT_TYPE,
};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use base64::Engine as _;
use mingpian_card::vcard::{self, Version};
use mingpian_card::{Card, Email, Media, Phone, PhoneNumber};
use serde::Deserialize;

use crate::AppState;
use crate::error::ApiError;
use crate::routes::limit::Purpose;
use crate::routes::sets::card_view;
use crate::store::{CodeState, SetRecord, StoreError, Stored};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/c/{public_id}/{set}", get(card_page))
        .route("/c/{public_id}/{set}/reply", post(reply))
}

const CSP: &str = "default-src 'none'; img-src data:; style-src 'unsafe-inline'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Lang {
    Zh,
    En,
}

fn lang(headers: &HeaderMap) -> Lang {
    let accept = headers
        .get("accept-language")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let first = accept
        .split(',')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    if first.starts_with("zh") {
        Lang::Zh
    } else {
        Lang::En
    }
}

/// The page's words in both languages.
fn t(lang: Lang, key: &str) -> &'static str {
    match (lang, key) {
        (Lang::Zh, "title") => "名片",
        (Lang::En, "title") => "Business card",
        (Lang::Zh, "save") => "保存到通讯录 (.vcf)",
        (Lang::En, "save") => "Save to contacts (.vcf)",
        (Lang::Zh, "reply") => "把我的名片发给 TA",
        (Lang::En, "reply") => "Send them your card",
        (Lang::Zh, "name") => "姓名",
        (Lang::En, "name") => "Name",
        (Lang::Zh, "phone") => "手机",
        (Lang::En, "phone") => "Phone",
        (Lang::Zh, "email") => "邮箱",
        (Lang::En, "email") => "Email",
        (Lang::Zh, "org") => "公司",
        (Lang::En, "org") => "Company",
        (Lang::Zh, "job") => "职位",
        (Lang::En, "job") => "Title",
        (Lang::Zh, "note") => "留言",
        (Lang::En, "note") => "Message",
        (Lang::Zh, "send") => "发送",
        (Lang::En, "send") => "Send",
        (Lang::Zh, "sent") => "已发送，对方会在名片夹里收到你的名片。",
        (Lang::En, "sent") => "Sent: your card is in their wallet now.",
        (Lang::Zh, "need_contact") => "请填写姓名，以及手机或邮箱。",
        (Lang::En, "need_contact") => "Please give your name and a phone number or email.",
        (Lang::Zh, "gone") => "这个二维码已停用，请向名片主人索取新的。",
        (Lang::En, "gone") => "This code is no longer in use; ask its owner for the new one.",
        (Lang::Zh, "missing") => "没有找到这张名片。",
        (Lang::En, "missing") => "There is no card behind this code.",
        (Lang::Zh, "busy") => "请求太频繁，请稍后再试。",
        (Lang::En, "busy") => "Too many requests; please try again in a minute.",
        (Lang::Zh, "full") => "对方的名片夹暂时收不下更多名片，请改用其他方式联系。",
        (Lang::En, "full") => {
            "Their card wallet cannot take more cards just now; please reach them another way."
        }
        (Lang::Zh, "app") => "用名片 App 扫码，可以一步互换名片。",
        (Lang::En, "app") => "With the Mingpian app, one scan swaps both cards.",
        _ => "",
    }
}

/// Escapes text for HTML element content and attribute values.
pub fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

#[derive(Debug, Deserialize)]
struct TokenQuery {
    t: Option<String>,
}

/// The set behind a code and whether the visitor may see the whole card (a valid live token).
#[tracing::instrument(skip_all)]
async fn resolve(
    state: &AppState,
    public_id: &str,
    set: u32,
    token: Option<&str>,
) -> Result<(SetRecord, Card), StatusCode> {
    match state.store.resolve_code(public_id, i64::from(set)).await {
        Ok(CodeState::Active(record)) => {
            let full = token.is_some_and(|t| state.live_token_ok(t, public_id, set));
            let card = card_view(&record, full).map_err(|e| {
                tracing::error!(error = ?e, "web card");
                StatusCode::INTERNAL_SERVER_ERROR
            })?;
            Ok((record, card))
        }
        Ok(CodeState::Rotated) => Err(StatusCode::GONE),
        Err(StoreError::NotFound) => Err(StatusCode::NOT_FOUND),
        Err(e) => {
            tracing::error!(error = ?e, "web card");
            Err(StatusCode::INTERNAL_SERVER_ERROR)
        }
    }
}

fn page(lang: Lang, status: StatusCode, body: &str) -> Response {
    let html_lang = if lang == Lang::Zh { "zh-CN" } else { "en" };
    let html = format!(
        "<!doctype html><html lang=\"{html_lang}\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>{title}</title><style>\
         body{{font-family:system-ui,-apple-system,'PingFang SC','Noto Sans CJK SC',sans-serif;margin:0;background:#f3f4f6;color:#111}}\
         main{{max-width:28rem;margin:0 auto;padding:1rem}}.card{{background:#fff;border-radius:12px;padding:1.25rem;box-shadow:0 1px 4px #0002}}\
         h1{{font-size:1.5rem;margin:.25rem 0}}.sub{{color:#444}}img{{max-width:100%;border-radius:8px}}.avatar{{width:72px;height:72px;object-fit:cover;border-radius:50%;float:right}}\
         ul{{list-style:none;padding:0}}li{{margin:.4rem 0}}a{{color:#0a58ca}}.btn{{display:block;text-align:center;background:#c8102e;color:#fff;padding:.8rem;border-radius:8px;text-decoration:none;margin:1rem 0;border:0;width:100%;box-sizing:border-box;font-size:1rem}}\
         label{{display:block;margin:.5rem 0 .2rem}}input,textarea{{width:100%;box-sizing:border-box;padding:.6rem;border:1px solid #bbb;border-radius:6px;font-size:1rem}}\
         .note{{color:#555;font-size:.9rem}}</style></head><body><main>{body}</main></body></html>",
        title = t(lang, "title"),
    );
    let mut response = (status, Html(html)).into_response();
    let headers = response.headers_mut();
    headers.insert(CONTENT_SECURITY_POLICY, HeaderValue::from_static(CSP));
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

fn error_page(lang: Lang, status: StatusCode) -> Response {
    let key = match status {
        StatusCode::GONE => "gone",
        StatusCode::TOO_MANY_REQUESTS => "busy",
        StatusCode::CONFLICT => "full",
        _ => "missing",
    };
    page(
        lang,
        status,
        &format!("<div class=\"card\"><p>{}</p></div>", t(lang, key)),
    )
}

fn image_tag(media: &Media, class: &str) -> String {
    match media {
        Media::Inline {
            mime: Some(mime),
            data,
        } if mime.starts_with("image/") => format!(
            "<img class=\"{class}\" alt=\"\" src=\"data:{};base64,{}\">",
            escape_html(mime),
            base64::engine::general_purpose::STANDARD.encode(data)
        ),
        _ => String::new(),
    }
}

fn card_html(card: &Card) -> String {
    let mut html = String::from("<div class=\"card\">");
    if let Some(photo) = &card.photo {
        html.push_str(&image_tag(photo, "avatar"));
    }
    html.push_str(&format!("<h1>{}</h1>", escape_html(&card.display_name())));
    let sub: Vec<String> = card
        .title
        .iter()
        .chain(card.org.iter())
        .chain(card.departments.iter())
        .map(|s| escape_html(s))
        .collect();
    if !sub.is_empty() {
        html.push_str(&format!("<p class=\"sub\">{}</p>", sub.join(" · ")));
    }
    html.push_str("<ul>");
    for phone in &card.phones {
        let digits: String = phone
            .value
            .chars()
            .filter(|c| c.is_ascii_digit() || *c == '+')
            .collect();
        html.push_str(&format!(
            "<li>📞 <a href=\"tel:{}\">{}</a></li>",
            escape_html(&digits),
            escape_html(&phone.value)
        ));
    }
    for email in &card.emails {
        html.push_str(&format!(
            "<li>✉️ <a href=\"mailto:{0}\">{0}</a></li>",
            escape_html(&email.value)
        ));
    }
    for url in &card.urls {
        // Only web links become links: a `javascript:` URL in a card stays inert text.
        let lower = url.value.to_ascii_lowercase();
        if lower.starts_with("https://") || lower.starts_with("http://") {
            html.push_str(&format!(
                "<li>🔗 <a href=\"{0}\" rel=\"nofollow noopener\">{0}</a></li>",
                escape_html(&url.value)
            ));
        } else {
            html.push_str(&format!("<li>🔗 {}</li>", escape_html(&url.value)));
        }
    }
    for address in &card.addresses {
        html.push_str(&format!("<li>📍 {}</li>", escape_html(&address.display())));
    }
    for social in &card.socials {
        html.push_str(&format!(
            "<li>{}: {}</li>",
            escape_html(&social.service),
            escape_html(&social.value)
        ));
    }
    html.push_str("</ul>");
    if let Some(note) = &card.note {
        html.push_str(&format!("<p class=\"note\">{}</p>", escape_html(note)));
    }
    for image in &card.card_images {
        html.push_str(&image_tag(image, "card-image"));
    }
    html.push_str("</div>");
    html
}

#[utoipa::path(get, path = "/c/{public_id}/{set}", tag = "web card", params(("public_id" = String, Path, description = "the code's id", pattern = "^[A-Za-z0-9_-]{16,64}$"), ("set" = String, Path, description = "set number, or `N.vcf` for the vCard", pattern = "^[1-9][0-9]{0,2}(\\.vcf)?$"), ("t" = Option<String>, Query, description = "live token", pattern = "^[0-9]{1,15}\\.[A-Za-z0-9_-]{22}$")), responses((status = 200, description = "the card page (HTML) or its vCard", content_type = "text/html", body = String), (status = 404, description = "no such code", content_type = "text/html", body = String), (status = 410, description = "rotated", content_type = "text/html", body = String), (status = 429, description = "too many requests", content_type = "text/html", body = String)))]
#[tracing::instrument(skip_all)]
async fn card_page(
    State(state): State<AppState>,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    Path((public_id, set)): Path<(String, String)>,
    query: Result<Query<TokenQuery>, QueryRejection>,
    headers: HeaderMap,
) -> Response {
    // A query that does not parse (a repeated `t`) is no token: the printed view.
    let q = query.map_or(TokenQuery { t: None }, |Query(q)| q);
    let lang = lang(&headers);
    if state
        .limiter
        .check(addr, &headers, Purpose::WebCard)
        .await
        .is_err()
    {
        return error_page(lang, StatusCode::TOO_MANY_REQUESTS);
    }
    let (set_text, vcf) = match set.strip_suffix(".vcf") {
        Some(n) => (n, true),
        None => (set.as_str(), false),
    };
    let Ok(set_no) = set_text.parse::<u32>() else {
        return error_page(lang, StatusCode::NOT_FOUND);
    };
    let (_, card) = match resolve(&state, &public_id, set_no, q.t.as_deref()).await {
        Ok(found) => found,
        Err(status) => return error_page(lang, status),
    };
    if vcf {
        let text = vcard::write(&card, Version::V3);
        return (
            [
                (CONTENT_TYPE, "text/vcard; charset=utf-8".to_owned()),
                (
                    CONTENT_DISPOSITION,
                    "attachment; filename=\"card.vcf\"".to_owned(),
                ),
            ],
            text,
        )
            .into_response();
    }
    let token_query =
        q.t.as_deref()
            .map(|t| format!("?t={}", escape_html(t)))
            .unwrap_or_default();
    let base = format!("/c/{}/{set_no}", escape_html(&public_id));
    let body = format!(
        "{card}<a class=\"btn\" href=\"{base}.vcf{token_query}\">{save}</a>\
         <div class=\"card\"><h2>{reply}</h2><form method=\"post\" action=\"{base}/reply\">\
         <label for=\"name\">{name}</label><input id=\"name\" name=\"name\" required maxlength=\"64\" autocomplete=\"name\">\
         <label for=\"phone\">{phone}</label><input id=\"phone\" name=\"phone\" type=\"tel\" autocomplete=\"tel\">\
         <label for=\"email\">{email}</label><input id=\"email\" name=\"email\" type=\"email\" autocomplete=\"email\">\
         <label for=\"org\">{org}</label><input id=\"org\" name=\"org\" maxlength=\"100\" autocomplete=\"organization\">\
         <label for=\"title\">{job}</label><input id=\"title\" name=\"title\" maxlength=\"100\" autocomplete=\"organization-title\">\
         <label for=\"note\">{note}</label><textarea id=\"note\" name=\"note\" maxlength=\"500\"></textarea>\
         <button class=\"btn\" type=\"submit\">{send}</button></form></div><p class=\"note\">{app}</p>",
        card = card_html(&card),
        save = t(lang, "save"),
        reply = t(lang, "reply"),
        name = t(lang, "name"),
        phone = t(lang, "phone"),
        email = t(lang, "email"),
        org = t(lang, "org"),
        job = t(lang, "job"),
        note = t(lang, "note"),
        send = t(lang, "send"),
        app = t(lang, "app"),
    );
    page(lang, StatusCode::OK, &body)
}

/// The web page's form for sending one's card back: a name, and a phone number or an email.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct ReplyForm {
    #[schema(min_length = 1, max_length = 64, pattern = r"\S")]
    name: String,
    #[serde(default)]
    #[schema(pattern = r"^(\+86 ?)?[0-9]{3}[0-9 \-]{0,20}$")]
    phone: String,
    /// Documented as required: the form needs a phone number or an email.
    #[serde(default)]
    #[schema(required = true, format = Email, max_length = 254, pattern = r"^[a-zA-Z0-9._%+\-]+@[a-zA-Z0-9\-]+(\.[a-zA-Z0-9\-]+)+$")]
    email: String,
    #[serde(default)]
    #[schema(max_length = 100)]
    org: String,
    #[serde(default)]
    #[schema(max_length = 100)]
    title: String,
    #[serde(default)]
    #[schema(max_length = 500)]
    note: String,
}

/// A form value trimmed, without control characters (line breaks kept), at most `max` long.
fn clip(text: &str, max: usize) -> Option<String> {
    let text: String = text
        .trim()
        .chars()
        .filter(|c| !c.is_control() || *c == '\n')
        .take(max)
        .collect();
    (!text.trim().is_empty()).then(|| text.trim().to_owned())
}

#[utoipa::path(post, path = "/c/{public_id}/{set}/reply", tag = "web card", params(("public_id" = String, Path, description = "the code's id", pattern = "^[A-Za-z0-9_-]{16,64}$"), ("set" = u32, Path, minimum = 1, maximum = 999)), request_body(content = ReplyForm, content_type = "application/x-www-form-urlencoded"), responses((status = 200, description = "sent", content_type = "text/html", body = String), (status = 422, description = "a name and a phone or email are needed", content_type = "text/html", body = String), (status = 404, content_type = "text/html", body = String), (status = 409, description = "their inbox is full", content_type = "text/html", body = String), (status = 410, content_type = "text/html", body = String), (status = 429, description = "too many requests", content_type = "text/html", body = String)))]
#[tracing::instrument(skip_all)]
async fn reply(
    State(state): State<AppState>,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    Path((public_id, set)): Path<(String, u32)>,
    headers: HeaderMap,
    form: Result<Form<ReplyForm>, FormRejection>,
) -> Response {
    let lang = lang(&headers);
    let need_contact = || {
        page(
            lang,
            StatusCode::UNPROCESSABLE_ENTITY,
            &format!(
                "<div class=\"card\"><p>{}</p></div>",
                t(lang, "need_contact")
            ),
        )
    };
    // A form that is not a form (another content type, missing fields) gets the page too.
    let Ok(Form(form)) = form else {
        return need_contact();
    };
    if state
        .limiter
        .check(addr, &headers, Purpose::WebReply)
        .await
        .is_err()
    {
        return error_page(lang, StatusCode::TOO_MANY_REQUESTS);
    }
    let (record, _) = match resolve(&state, &public_id, set, None).await {
        Ok(found) => found,
        Err(status) => return error_page(lang, status),
    };
    let name = clip(&form.name, 64);
    let phone =
        clip(&form.phone, 40).and_then(|p| PhoneNumber::parse(&p, state.region).ok().map(|_| p));
    let email =
        clip(&form.email, 254).filter(|e| e.contains('@') && !e.contains(char::is_whitespace));
    let Some(name) = name.filter(|_| phone.is_some() || email.is_some()) else {
        return need_contact();
    };
    let card = Card {
        formatted_name: name,
        phones: phone
            .into_iter()
            .map(|value| Phone {
                value,
                kinds: vec!["cell".into()],
                ..Phone::default()
            })
            .collect(),
        emails: email
            .into_iter()
            .map(|value| Email {
                value,
                ..Email::default()
            })
            .collect(),
        org: clip(&form.org, 100),
        title: clip(&form.title, 100),
        note: clip(&form.note, 500),
        ..Card::default()
    };
    let stored = match Stored::new(&card) {
        Ok(json) => state
            .store
            .deliver_web_card(record.user_id, &json, state.inbox_caps())
            .await
            .map_err(ApiError::from),
        Err(e) => Err(ApiError::from(e)),
    };
    match stored {
        Ok(None) => error_page(lang, StatusCode::CONFLICT),
        Ok(Some(_)) => {
            state.hub.delivered(record.user_id).await;
            page(
                lang,
                StatusCode::OK,
                &format!("<div class=\"card\"><p>{}</p></div>", t(lang, "sent")),
            )
        }
        Err(e) => e.into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_neutralises_markup_in_every_position() {
        assert_eq!(
            escape_html("<script>alert('x')</script>"),
            "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;"
        );
        assert_eq!(
            escape_html("\" onmouseover=\"x"),
            "&quot; onmouseover=&quot;x"
        );
        let card = Card {
            formatted_name: "<img src=x onerror=alert(1)>".into(),
            urls: vec![mingpian_card::Url {
                value: "javascript:alert(1)".into(),
                ..Default::default()
            }],
            ..Card::default()
        };
        let html = card_html(&card);
        assert!(!html.contains("<img src=x"), "{html}");
        assert!(
            !html.contains("href=\"javascript:"),
            "script URLs are not links: {html}"
        );
    }
}
