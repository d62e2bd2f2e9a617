//! HTML building blocks of the console: escaping, the page shell (navigation, inline CSS),
//! notices and form fields. Everything printed from data goes through [`esc`].

use std::fmt::Write as _;

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

/// The console's only style sheet, inlined in every page (allowed by its hash in the CSP).
pub const CSS: &str = "\
*{box-sizing:border-box}\
body{margin:0;font:15px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;color:#1f2933;background:#f4f6f8}\
header{background:#14324f;color:#fff;display:flex;align-items:center;gap:24px;padding:0 24px;height:52px}\
header .brand{font-weight:700;font-size:17px}\
header nav{display:flex;gap:4px;flex:1}\
header nav a{color:#cfe0f1;text-decoration:none;padding:6px 10px;border-radius:4px}\
header nav a.on,header nav a:hover{background:#1f4a73;color:#fff}\
header form{margin:0}\
header .who{color:#cfe0f1;font-size:13px}\
main{max-width:1100px;margin:24px auto;padding:0 24px}\
h1{font-size:22px;margin:0 0 16px}\
h2{font-size:17px;margin:24px 0 8px}\
.card{background:#fff;border:1px solid #d9e2ec;border-radius:6px;padding:16px 20px;margin-bottom:16px}\
.cards{display:flex;gap:16px;flex-wrap:wrap}\
.cards .card{flex:1;min-width:180px}\
.big{font-size:28px;font-weight:700}\
.muted{color:#627d98;font-size:13px}\
table{border-collapse:collapse;width:100%;background:#fff}\
th,td{border-bottom:1px solid #e4e7eb;padding:7px 9px;text-align:left;vertical-align:top;font-size:14px}\
th{background:#f0f4f8;font-weight:600}\
td.num,th.num{text-align:right}\
code{font-size:13px;word-break:break-all}\
label{display:block;font-weight:600;margin:12px 0 4px}\
input[type=text],input[type=password],input[type=email],textarea{width:100%;max-width:480px;padding:7px 9px;border:1px solid #bcccdc;border-radius:4px;font:inherit}\
textarea{min-height:70px}\
.field-error input,.field-error textarea{border-color:#c81e1e}\
.err-text{color:#c81e1e;font-size:13px;margin-top:3px}\
.radio{display:inline-flex;gap:6px;align-items:center;margin-right:18px;font-weight:400}\
button,.button{display:inline-block;background:#1f6feb;color:#fff;border:0;border-radius:4px;padding:7px 14px;font:inherit;cursor:pointer;text-decoration:none}\
button.small,.button.small{padding:3px 9px;font-size:13px}\
button.danger{background:#c81e1e}\
button.plain{background:#52667a}\
.actions{display:flex;gap:6px;flex-wrap:wrap}\
.actions form{margin:0}\
.notice{padding:10px 14px;border-radius:4px;margin-bottom:16px}\
.ok{background:#e3f9e5;border:1px solid #8ede99}\
.error{background:#fde8e8;border:1px solid #f8b4b4}\
.badge{display:inline-block;padding:1px 8px;border-radius:10px;font-size:12px;font-weight:600}\
.on-badge{background:#e3f9e5;color:#05400a}\
.off-badge{background:#fde8e8;color:#9b1c1c}\
.st{background:#e6f0fa;color:#14324f}\
.login{max-width:380px;margin:80px auto}\
.pager{display:flex;gap:12px;margin-top:12px}\
svg text{font:11px system-ui,sans-serif;fill:#52667a}\
";

/// Escapes text for HTML content and quoted attribute values.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The navigation entries: path, label, key.
const NAV: [(&str, &str, Nav); 5] = [
    ("/console", "Dashboard", Nav::Dashboard),
    ("/console/credentials", "API Credentials", Nav::Credentials),
    ("/console/identities", "Identitas", Nav::Identities),
    ("/console/seals", "Segel", Nav::Seals),
    ("/console/audit", "Audit", Nav::Audit),
];

/// Which navigation entry a page belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Nav {
    /// No navigation (login page).
    None,
    /// `/console`.
    Dashboard,
    /// `/console/credentials…`.
    Credentials,
    /// `/console/identities`.
    Identities,
    /// `/console/seals`.
    Seals,
    /// `/console/audit`.
    Audit,
}

/// Who is signed in, for the page header.
pub struct Header<'a> {
    /// The organisation's name.
    pub org: &'a str,
    /// The user's e-mail.
    pub email: &'a str,
    /// The CSRF token of the session (for the logout form).
    pub csrf: &'a str,
}

/// A complete page.
pub fn page(
    status: StatusCode,
    title: &str,
    nav: Nav,
    who: Option<&Header<'_>>,
    body: &str,
) -> Response {
    let mut out = String::with_capacity(body.len() + CSS.len() + 1024);
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"id\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{} · Paraf</title><style>{CSS}</style></head><body>",
        esc(title)
    );
    if let Some(h) = who {
        out.push_str("<header><span class=\"brand\">Paraf</span><nav>");
        for (path, label, key) in NAV {
            let on = if key == nav { " class=\"on\"" } else { "" };
            let _ = write!(out, "<a href=\"{path}\"{on}>{label}</a>");
        }
        let _ = write!(
            out,
            "</nav><span class=\"who\">{} · {}</span>\
             <form method=\"post\" action=\"/console/logout\">{}\
             <button class=\"small plain\" type=\"submit\">Logout</button></form></header>",
            esc(h.org),
            esc(h.email),
            csrf_field(h.csrf)
        );
    }
    out.push_str("<main>");
    out.push_str(body);
    out.push_str("</main></body></html>\n");
    let mut resp = (status, out).into_response();
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    resp
}

/// The hidden CSRF input of a form.
pub fn csrf_field(token: &str) -> String {
    format!(
        "<input type=\"hidden\" name=\"csrf\" value=\"{}\">",
        esc(token)
    )
}

/// A success notice.
pub fn ok(msg: &str) -> String {
    format!(
        "<div class=\"notice ok\" role=\"status\">{}</div>",
        esc(msg)
    )
}

/// An error notice.
pub fn error(msg: &str) -> String {
    format!(
        "<div class=\"notice error\" role=\"alert\">{}</div>",
        esc(msg)
    )
}

/// A labelled text input; `error` marks the field and prints the message under it.
pub fn input(
    kind: &str,
    name: &str,
    label: &str,
    value: &str,
    error: Option<&str>,
    extra: &str,
) -> String {
    let control = format!(
        "<input type=\"{kind}\" id=\"f-{name}\" name=\"{name}\" value=\"{}\"{extra}>",
        esc(value)
    );
    field(name, label, &control, error)
}

/// A labelled text area.
pub fn textarea(name: &str, label: &str, value: &str, error: Option<&str>) -> String {
    let control = format!(
        "<textarea id=\"f-{name}\" name=\"{name}\">{}</textarea>",
        esc(value)
    );
    field(name, label, &control, error)
}

/// A form control with its label and, when `error` is given, the field marked and the
/// message under it.
fn field(name: &str, label: &str, control: &str, error: Option<&str>) -> String {
    let class = if error.is_some() {
        " class=\"field-error\""
    } else {
        ""
    };
    let mut out = format!(
        "<div{class}><label for=\"f-{name}\">{}</label>{control}",
        esc(label)
    );
    if let Some(e) = error {
        let _ = write!(
            out,
            "<div class=\"err-text\" id=\"err-{name}\">{}</div>",
            esc(e)
        );
    }
    out.push_str("</div>");
    out
}

/// A one-button form posting to `action` (an action button in a table row).
pub fn button_form(action: &str, csrf: &str, label: &str, class: &str) -> String {
    format!(
        "<form method=\"post\" action=\"{}\">{}<button type=\"submit\" class=\"small {class}\">{}</button></form>",
        esc(action),
        csrf_field(csrf),
        esc(label)
    )
}

/// A time as `YYYY-MM-DD HH:MM UTC`.
pub fn time(t: paraf_domain::Timestamp) -> String {
    t.format("%Y-%m-%d %H:%M UTC").to_string()
}

/// An optional time, `-` when absent.
pub fn time_opt(t: Option<paraf_domain::Timestamp>) -> String {
    t.map_or_else(|| "-".to_string(), time)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup_and_quotes() {
        assert_eq!(
            esc("<a href=\"x\">'&'</a>"),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;"
        );
    }
}
