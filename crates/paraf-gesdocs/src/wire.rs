//! The GesDocs wire format (seed 002), field names exactly as the seed writes them. Requests
//! read every field as optional so that a missing one is reported like GesDocs does — in the
//! `errors` object under its name — instead of as a parse failure.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Every error: `{"status": "error", "message", "errors"?, "field"?}`.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = GesDocsError)]
pub struct ErrorBody {
    /// Always `error`.
    #[schema(example = "error")]
    pub status: String,
    #[schema(example = "Validation error")]
    pub message: String,
    /// Messages per field (validation errors, HTTP 422).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub errors: Option<BTreeMap<String, Vec<String>>>,
    /// The one failing input (`files.0.url`, `logo_url`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

/// `POST /api/login`.
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct LoginRequest {
    #[schema(example = "admin@email.com")]
    pub email: Option<String>,
    #[schema(example = "motdepasse")]
    pub password: Option<String>,
}

/// The reply of `POST /api/login`.
#[derive(Debug, Serialize, ToSchema)]
pub struct LoginReply {
    /// A bearer token for the API (an access token: it expires, see `docs/gesdocs.md`).
    pub token: String,
}

/// `POST /api/register`.
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct RegisterRequest {
    /// Display name.
    #[schema(example = "John Doe")]
    pub name: Option<String>,
    #[schema(example = "john.doe@example.com")]
    pub email: Option<String>,
    #[schema(example = "password123")]
    pub password: Option<String>,
    #[schema(example = "password123")]
    pub password_confirmation: Option<String>,
}

/// The reply of `POST /api/register`.
#[derive(Debug, Serialize, ToSchema)]
pub struct RegisterReply {
    /// `success`.
    pub status: String,
    #[schema(example = "User created successfully.")]
    pub message: String,
    /// A bearer token for the API.
    pub token: String,
}

/// A language of `GET /api/meta`.
#[derive(Debug, Serialize, ToSchema)]
pub struct Language {
    #[schema(example = "fr")]
    pub code: &'static str,
    #[schema(example = "Français")]
    pub label: &'static str,
}

/// The reply of `GET /api/meta`.
#[derive(Debug, Serialize, ToSchema)]
pub struct MetaReply {
    /// Time zones (IANA names) a request may name as its `region`.
    pub regions: Vec<&'static str>,
    /// Languages of the signer page and the mails.
    pub languages: Vec<Language>,
}

/// `POST /api/tokens`: a personal API token (the account page's "Mes tokens API", as an API).
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct TokenRequest {
    /// A name to recognise it by.
    #[schema(example = "ERP")]
    pub name: Option<String>,
}

/// A personal API token, without its secret.
#[derive(Debug, Serialize, ToSchema)]
pub struct TokenInfo {
    pub id: i64,
    pub name: String,
    /// The secret's first characters.
    pub prefix: String,
    pub created_at: String,
    pub last_used_at: Option<String>,
    pub revoked_at: Option<String>,
}

/// The reply of `POST /api/tokens`: the secret, shown this once.
#[derive(Debug, Serialize, ToSchema)]
pub struct TokenCreated {
    pub status: String,
    pub message: String,
    /// Use as `Authorization: Bearer <token>`; it is not shown again.
    pub token: String,
    pub data: TokenInfo,
}

/// The reply of `GET /api/tokens`.
#[derive(Debug, Serialize, ToSchema)]
pub struct TokenList {
    pub status: String,
    pub data: Vec<TokenInfo>,
}

/// The reply of `DELETE /api/tokens/{id}`.
#[derive(Debug, Serialize, ToSchema)]
pub struct Done {
    pub status: String,
    pub message: String,
}
