//! The console's page shell: navigation, the inline style sheet, the layout template every
//! page body goes into, and time formatting. Page bodies are templates (`templates/`);
//! everything printed from data is escaped by askama.

use askama::Template;
use axum::http::StatusCode;
use axum::response::Response;

/// The console's only style sheet, inlined in every page (allowed by its hash in the CSP).
pub const CSS: &str = include_str!("../../static/console.css");

/// The navigation entries: path, label, key.
const NAV: [(&str, &str, Nav); 10] = [
    ("/console", "Dashboard", Nav::Dashboard),
    ("/console/documents", "Dokumen", Nav::Documents),
    ("/console/credentials", "API Credentials", Nav::Credentials),
    ("/console/identities", "Identitas", Nav::Identities),
    ("/console/seals", "Segel", Nav::Seals),
    ("/console/webhooks", "Webhooks", Nav::Webhooks),
    ("/console/app-keys", "Kunci aplikasi", Nav::AppKeys),
    ("/console/tokens", "Token API", Nav::Tokens),
    ("/console/members", "Anggota", Nav::Members),
    ("/console/audit", "Audit", Nav::Audit),
];

/// Which navigation entry a page belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Nav {
    /// No navigation (login page).
    None,
    /// `/console`.
    Dashboard,
    /// `/console/documents` (and contacts).
    Documents,
    /// `/console/credentials…`.
    Credentials,
    /// `/console/identities`.
    Identities,
    /// `/console/seals`.
    Seals,
    /// `/console/webhooks…`.
    Webhooks,
    /// `/console/app-keys…`.
    AppKeys,
    /// `/console/tokens…`.
    Tokens,
    /// `/console/members`.
    Members,
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

/// One navigation link of the page header.
pub struct NavItem {
    pub path: &'static str,
    pub label: &'static str,
    pub on: bool,
}

#[derive(Template)]
#[template(path = "layout.html")]
struct Layout<'a> {
    title: &'a str,
    css: &'static str,
    nav: Vec<NavItem>,
    who: Option<&'a Header<'a>>,
    body: &'a str,
}

/// A complete page around `body` (rendered HTML from a page template).
pub fn page(
    status: StatusCode,
    title: &str,
    nav: Nav,
    who: Option<&Header<'_>>,
    body: &str,
) -> Response {
    let items = NAV
        .iter()
        .map(|(path, label, key)| NavItem {
            path,
            label,
            on: *key == nav,
        })
        .collect();
    let layout = Layout {
        title,
        css: CSS,
        nav: items,
        who,
        body,
    };
    crate::render::html(status, &layout)
}

/// The message page (403, 404, 500) with a link back.
#[derive(Template)]
#[template(path = "message.html")]
pub struct Message<'a> {
    pub heading: &'a str,
    pub message: &'a str,
    pub back: bool,
}

/// A button of a row's actions cell (`macros.html` `action_cell`): a POST to `path`.
pub struct RowAction {
    pub path: String,
    pub name: &'static str,
    pub class: &'static str,
}

/// The actions of a row that can be switched on and off, rotated and deleted (webhooks,
/// application keys): `POST {base}/{id}/{enable|disable, rotate, delete}`.
pub fn toggle_rotate_delete(base: &str, id: i64, enabled: bool) -> Vec<RowAction> {
    let toggle = if enabled { "disable" } else { "enable" };
    [(toggle, ""), ("rotate", ""), ("delete", "danger")]
        .into_iter()
        .map(|(name, class)| RowAction {
            path: format!("{base}/{id}/{name}"),
            name,
            class,
        })
        .collect()
}

/// A time as `YYYY-MM-DD HH:MM UTC`.
pub fn time(t: paraf_core::domain::Timestamp) -> String {
    t.format("%Y-%m-%d %H:%M UTC").to_string()
}

/// An optional time, `-` when absent.
pub fn time_opt(t: Option<paraf_core::domain::Timestamp>) -> String {
    t.map_or_else(|| "-".to_string(), time)
}
