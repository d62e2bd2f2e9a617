//! The seed's bodies (seed 000), with its field names: `{"success": true, "data": …}` on
//! success, `{"success": false, "error": …, "errors": {field: [...]}}` on failure; lists
//! paginated the Laravel way (`data`, `meta`, `links`).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// `{"success": true, "data": …}`.
#[derive(Debug, Serialize)]
pub struct Success<T: Serialize> {
    pub success: bool,
    pub data: T,
}

impl<T: Serialize> Success<T> {
    pub fn of(data: T) -> Success<T> {
        Success {
            success: true,
            data,
        }
    }
}

/// A page of a list: `data` and Laravel's `meta` and `links`.
#[derive(Debug, Serialize)]
pub struct Paginated<T: Serialize> {
    pub success: bool,
    pub data: Vec<T>,
    pub meta: PageMeta,
    pub links: PageLinks,
}

/// Where a page stands.
#[derive(Debug, Serialize, ToSchema)]
pub struct PageMeta {
    pub current_page: u64,
    /// 1-based position of the first item shown (`null` on an empty page).
    pub from: Option<u64>,
    pub last_page: u64,
    pub per_page: u32,
    pub to: Option<u64>,
    pub total: u64,
    /// The list's address, without query.
    pub path: String,
}

/// Addresses of the neighbouring pages.
#[derive(Debug, Serialize, ToSchema)]
pub struct PageLinks {
    pub first: String,
    pub last: String,
    pub prev: Option<String>,
    pub next: Option<String>,
}

/// `{"success": false, "error": …, "errors": …}`.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[schema(as = AlphasignError)]
pub struct ErrorBody {
    /// Always `false`.
    pub success: bool,
    /// A human-readable message (Indonesian unless `Accept-Language: en` or `x-language: en`).
    pub error: String,
    /// Validation messages per field (422 only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub errors: Option<BTreeMap<String, Vec<String>>>,
}

/// The caller's organisation.
#[derive(Debug, Serialize, ToSchema)]
pub struct Tenant {
    /// The organisation's slug.
    pub id: String,
    pub name: String,
    /// Lontar, Prasasti, Piagam, Keraton or Nusantara.
    pub plan: String,
}

/// `GET /me`.
#[derive(Debug, Serialize, ToSchema)]
pub struct Me {
    pub id: String,
    pub name: String,
    pub email: String,
    /// `admin`, `member` or `signer`.
    pub role: String,
    pub tenant: Tenant,
}

/// One quota: what is used and the limit.
#[derive(Debug, Serialize, ToSchema)]
pub struct UsedLimit {
    pub used: u64,
    pub limit: u64,
}

/// `GET /me/quota`.
#[derive(Debug, Serialize, ToSchema)]
pub struct Quota {
    pub signatures: UsedLimit,
    pub documents: UsedLimit,
    pub storage_bytes: UsedLimit,
    pub api_requests: UsedLimit,
}

/// A signer as a document shows them.
#[derive(Debug, Serialize, ToSchema)]
pub struct Signer {
    pub name: String,
    pub email: String,
    /// `pending`, `signed` or `declined`.
    pub status: String,
    /// RFC 3339 UTC, once signed.
    pub signed_at: Option<String>,
    /// 1-based order in which they were given.
    pub order: u32,
}

/// A document (an envelope of one PDF).
#[derive(Debug, Serialize, ToSchema)]
pub struct Document {
    /// The document's uuid.
    pub id: String,
    pub title: String,
    /// `draft`, `pending`, `completed`, `declined`, `cancelled` or `expired`.
    pub status: String,
    pub signers: Vec<Signer>,
    pub created_at: String,
    pub sent_at: Option<String>,
    pub completed_at: Option<String>,
    /// The uploaded file's name (detail only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file_name: Option<String>,
    /// Pages of the current version (detail only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pages: Option<u32>,
    /// SHA-256 of the current version: what `GET /verify/{hash}` knows (detail only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
}

/// `DELETE /documents/{id}`.
#[derive(Debug, Serialize, ToSchema)]
pub struct Deleted {
    pub id: String,
    pub deleted: bool,
}

/// A signer given to `POST /documents` (`signers[0][name]`, `signers[0][email]`).
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct SignerInput {
    pub name: Option<String>,
    pub email: Option<String>,
}

/// `POST /documents` (multipart/form-data). The file is the part `file`.
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct DocumentInput {
    /// Judul dokumen.
    pub title: Option<String>,
    /// The PDF (at most 20 MB).
    #[schema(value_type = String, format = Binary)]
    #[serde(skip)]
    pub file: (),
    pub signers: Option<Vec<SignerInput>>,
}

/// `POST /contacts`.
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct ContactInput {
    pub name: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub company: Option<String>,
}

/// A contact.
#[derive(Debug, Serialize, ToSchema)]
pub struct Contact {
    pub id: String,
    pub name: String,
    pub email: String,
    pub phone: Option<String>,
    pub company: Option<String>,
    pub created_at: String,
}

/// A document as `GET /verify/{hash}` shows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct VerifiedDocument {
    pub title: String,
    pub status: String,
}

/// A signer as `GET /verify/{hash}` shows them.
#[derive(Debug, Serialize, ToSchema)]
pub struct VerifiedSigner {
    pub name: String,
    pub signed_at: Option<String>,
}

/// `GET /verify/{hash}`: whether Paraf wrote a file with this hash; `document` is `null` and
/// `signers` empty when it did not.
#[derive(Debug, Serialize, ToSchema)]
pub struct Verification {
    pub valid: bool,
    pub document: Option<VerifiedDocument>,
    pub signers: Vec<VerifiedSigner>,
}
