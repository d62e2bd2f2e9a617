//! The GesDocs wire format (seed 002), field names exactly as the seed writes them. Requests
//! read every field as optional so that a missing one is reported like GesDocs does — in the
//! `errors` object under its name — instead of as a parse failure.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A signer of `POST /api/signature-requests` (`signers[]`).
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct SignerInput {
    /// Where the link goes, e.g. `alice@email.com`.
    pub email: Option<String>,
    /// e.g. `Alice`.
    pub first_name: Option<String>,
    /// e.g. `Dupont`.
    pub last_name: Option<String>,
    /// fr (default), en, id, it, es; `langue` is read too.
    #[serde(alias = "langue")]
    pub language: Option<String>,
    /// Needed for a code by SMS.
    pub mobile: Option<String>,
    /// A code before signing: `mail` or `sms` (default: the request's, else none).
    pub twofa_type: Option<String>,
}

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

/// `POST /api/signature-requests`: JSON (`pdf_url`, `logo_url`) or multipart (`pdf`, `logo`
/// files, `signers[0][email]`…; a file wins over a URL).
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct SignatureRequestInput {
    pub signers: Option<Vec<SignerInput>>,
    /// `YYYY-MM-DDTHH:mm[:ss]`, e.g. `2025-12-31T23:59` (UTC unless an offset is given).
    pub expires_at: Option<String>,
    /// Who asks for the signatures, e.g. `admin@email.com`.
    pub demandeur_email: Option<String>,
    /// The PDF to sign, fetched by Paraf (JSON), e.g. `https://exemple.com/monfichier.pdf`.
    pub pdf_url: Option<String>,
    /// A logo (PNG, JPEG, GIF, WEBP) for the mails and the signing page, fetched by Paraf.
    pub logo_url: Option<String>,
    /// Main colour, `#rrggbb`, e.g. `#4f46e5`.
    pub color: Option<String>,
    /// Returned as given, in the reply and every webhook.
    #[schema(value_type = Option<Object>)]
    pub metadata: Option<serde_json::Value>,
    /// A code before signing for every signer: `mail` or `sms`.
    pub twofa_type: Option<String>,
    /// Time zone of the dates shown to signers (see `GET /api/meta`).
    pub region: Option<String>,
}

/// A signer's state (`signataires[]`).
#[derive(Debug, Serialize, ToSchema)]
pub struct Signataire {
    pub email: String,
    pub prenom: String,
    pub nom: String,
    /// `pending`, `signed`, `declined`.
    pub statut: String,
    pub date_signature: Option<String>,
    /// This signer's personal link (in the creation reply only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signature_url: Option<String>,
}

/// The request as GesDocs shows it (first signer's fields flattened, as the seed does).
#[derive(Debug, Serialize, ToSchema)]
pub struct SignatureRequestView {
    pub id: i64,
    /// The envelope's public id (the certificate's `uuid`).
    pub token: String,
    pub email: String,
    pub signer_first_name: String,
    pub signer_last_name: String,
    pub signer_language: String,
    pub signer_2fa: bool,
    pub signer_mobile: Option<String>,
    /// `en_attente`, `signe`, `refuse`, `expire`, `annule`.
    pub statut: String,
    pub expires_at: Option<String>,
    pub requester_email: String,
    #[schema(value_type = Object)]
    pub metadata: serde_json::Value,
    pub logo_url: Option<String>,
    pub color: Option<String>,
    pub region: String,
    pub signataires: Vec<Signataire>,
}

/// `data` of the creation reply.
#[derive(Debug, Serialize, ToSchema)]
pub struct SignatureRequestData {
    pub signature_request: SignatureRequestView,
    /// The first signer's link.
    pub signature_url: String,
    /// Credits left after this request (`null`: unlimited).
    pub credits_left: Option<i64>,
}

/// The reply of `POST /api/signature-requests`.
#[derive(Debug, Serialize, ToSchema)]
pub struct SignatureRequestCreated {
    pub status: String,
    #[schema(example = "Signature request created successfully")]
    pub message: String,
    pub data: SignatureRequestData,
}

/// A file's address (`{"url": …}`).
#[derive(Debug, Serialize, ToSchema)]
pub struct FileUrl {
    pub url: String,
}

/// Who acted (`data.signataire`).
#[derive(Debug, Serialize, ToSchema)]
pub struct Personne {
    pub email: String,
    pub prenom: String,
    pub nom: String,
}

/// `data.demandeur`.
#[derive(Debug, Serialize, ToSchema)]
pub struct Demandeur {
    pub email: String,
}

/// `data.utilisateur`: the account.
#[derive(Debug, Serialize, ToSchema)]
pub struct Utilisateur {
    pub email: String,
    pub entreprise: String,
}

/// The webhook body (seed 002, "Exemple de payload JSON envoyé"), POSTed on every status
/// change: `document_sent`, `document_signed` (a signer signed), `document_completed` (every
/// signer signed and the proof is ready), `document_refused`, `document_expired`,
/// `document_cancelled`, `document_seal_failed`.
#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookPayload {
    pub event: String,
    pub data: WebhookData,
    /// The account's credits at the time of the event (`null`: unlimited).
    pub credits_left: Option<i64>,
}

/// `data` of the webhook body.
#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookData {
    pub id: i64,
    /// The envelope's uuid (the certificate's `uuid`).
    pub token: String,
    /// SHA-256 (hex) of the document as it is now.
    pub document_hash: Option<String>,
    /// The signer who acted (signed or refused); `null` for other events.
    pub signataire: Option<Personne>,
    pub signataires: Vec<Signataire>,
    /// `en_attente`, `signe`, `refuse`, `expire`, `annule`.
    pub statut: String,
    pub date_creation: String,
    pub date_expiration: Option<String>,
    /// When the acting signer signed, or when the document was completed.
    pub date_signature: Option<String>,
    pub demandeur: Demandeur,
    pub utilisateur: Utilisateur,
    pub document_signe: FileUrl,
    /// Once completed (`null` before).
    pub certificat_pdf: Option<FileUrl>,
    pub certificat_json: Option<FileUrl>,
    /// Address and browser of the signer who acted.
    pub ip: Option<String>,
    pub navigateur: Option<String>,
    /// The refusal's reason (`document_refused`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub motif_refus: Option<String>,
    /// The proof (the certificate's JSON) once completed, else `null`.
    pub preuve: Option<serde_json::Value>,
    pub metadata: serde_json::Value,
}

/// `POST /api/verify-document`'s form (multipart/form-data).
#[derive(Debug, ToSchema)]
#[allow(dead_code)]
pub struct VerifyDocumentForm {
    /// The signed PDF to check.
    #[schema(value_type = String, format = Binary)]
    pub document: Vec<u8>,
    /// The certificate PDF Paraf made when the request was completed.
    #[schema(value_type = String, format = Binary)]
    pub certificate: Vec<u8>,
}

/// `POST /api/verify-document`'s reply (success and failure have the same shape).
#[derive(Debug, Serialize, ToSchema)]
pub struct VerifyDocumentReply {
    pub valid: bool,
    pub message: String,
    pub debug: VerifyDebug,
}

/// What was compared.
#[derive(Debug, Serialize, ToSchema)]
pub struct VerifyDebug {
    pub hash_from_cert: Option<String>,
    pub hash_of_doc: String,
    pub uuid_from_cert: Option<String>,
    /// `dd/mm/yyyy HH:MM:SS` (UTC).
    pub date_from_cert: Option<String>,
    pub date_in_db: Option<String>,
}

/// A file of `POST /api/secure-downloads` (`files[]`): the `path` of an upload (wins) or the
/// `url` of a PDF Paraf fetches.
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct SecureFileInput {
    /// The name shown to recipients, e.g. `Document.pdf`.
    pub name: Option<String>,
    /// From `POST /api/uploads`, e.g. `secure_downloads/abc123_Autre.pdf`.
    pub path: Option<String>,
    /// e.g. `https://example.com/file.pdf`.
    pub url: Option<String>,
}

/// `POST /api/secure-downloads` (JSON, form or multipart with a `logo` file).
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct SecureDownloadInput {
    pub files: Option<Vec<SecureFileInput>>,
    /// The recipients (`email`, `first_name`, `last_name`, `language`, `mobile` for SMS).
    pub signers: Option<Vec<SignerInput>>,
    pub demandeur_email: Option<String>,
    /// `YYYY-MM-DD` (the end of that day) or `YYYY-MM-DDTHH:mm[:ss]`, UTC.
    pub expires_at: Option<String>,
    pub logo_url: Option<String>,
    /// `mail` (default) or `sms`.
    pub twofa_type: Option<String>,
}

/// The reply to `POST /api/secure-downloads` (201).
#[derive(Debug, Serialize, ToSchema)]
pub struct SecureDownloadCreated {
    /// `success`.
    pub status: String,
    /// `Lien envoyé aux destinataires.`
    pub message: String,
    pub data: SecureDownloadData,
}

/// `data` of the reply.
#[derive(Debug, Serialize, ToSchema)]
pub struct SecureDownloadData {
    pub secure_download_id: i64,
    /// The share's public id.
    pub token: String,
    pub expires_at: Option<String>,
    /// The first recipient's link (each recipient is mailed their own: `signataires[]`).
    pub link: String,
    /// Every recipient with their link (`signature_url`).
    pub signataires: Vec<Signataire>,
}

/// The reply to `POST /api/uploads` (201).
#[derive(Debug, Serialize, ToSchema)]
pub struct UploadCreated {
    /// `success`.
    pub status: String,
    pub message: String,
    /// Give it as `files[].path`.
    pub path: String,
    pub name: String,
    pub size: u64,
}
