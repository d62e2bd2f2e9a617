//! The BSrE v2 wire format (seed 001 §6): request and reply bodies as typed structs with the
//! seed's exact field names (`signatureProperties`, `tampilan`, `tag_koordinat`,
//! `idSubscriber`, `nama`…). The OpenAPI schemas are derived from these types, so the
//! documentation cannot drift from what the handlers read and write.
//!
//! Requests are read leniently, as clients of the original service send them: numbers as JSON
//! numbers or numeric strings ([`Num`]), `file` and `signatureProperties` as one value or an
//! array ([`OneOrMany`]). A value of the wrong type is refused naming its path
//! (`signatureProperties[0].width`).

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

use crate::error::BsreError;

/// A number sent as a JSON number or as a numeric string (`"595"`).
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(untagged)]
pub enum Num {
    /// `595`.
    Number(f64),
    /// `"595"`.
    Text(String),
}

impl Num {
    /// The value; `Ok(None)` for an empty string, an error naming `field` for anything else
    /// that is not a finite number.
    pub fn value(&self, field: &str) -> Result<Option<f64>, BsreError> {
        match self {
            Num::Number(n) if n.is_finite() => Ok(Some(*n)),
            Num::Number(_) => Err(BsreError::invalid(field, "not a finite number")),
            Num::Text(s) if s.trim().is_empty() => Ok(None),
            Num::Text(s) => s
                .trim()
                .parse::<f64>()
                .ok()
                .filter(|f| f.is_finite())
                .map(Some)
                .ok_or_else(|| BsreError::invalid(field, format!("{s:?} is not a number"))),
        }
    }
}

/// The value of an optional [`Num`] field.
pub fn num(v: &Option<Num>, field: &str) -> Result<Option<f64>, BsreError> {
    match v {
        Some(n) => n.value(field),
        None => Ok(None),
    }
}

/// One value or an array of them.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(untagged)]
pub enum OneOrMany<T> {
    /// An array.
    Many(Vec<T>),
    /// A single value.
    One(T),
}

impl<T> OneOrMany<T> {
    /// As a list.
    pub fn into_vec(self) -> Vec<T> {
        match self {
            OneOrMany::Many(v) => v,
            OneOrMany::One(t) => vec![t],
        }
    }
}

/// A text field's trimmed value, `None` when absent or blank.
pub fn text(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

/// A required text field's trimmed value.
pub fn required<'a>(v: &'a Option<String>, field: &str) -> Result<&'a str, BsreError> {
    text(v).ok_or_else(|| BsreError::missing(field))
}

/// Reads a request body as `T`; a value of the wrong type is refused naming its path.
pub fn parse<T: DeserializeOwned>(body: Value) -> Result<T, BsreError> {
    if !body.is_object() {
        return Err(BsreError::invalid("body", "must be a JSON object"));
    }
    serde_path_to_error::deserialize(body).map_err(|e| {
        let path = e.path().to_string();
        let field = if path == "." {
            "body".to_string()
        } else {
            path
        };
        let reason = e.into_inner().to_string();
        BsreError::invalid(&field, reason)
    })
}

/// How one file is signed (`signatureProperties[i]`).
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct SignatureProperties {
    /// `VISIBLE` or `INVISIBLE` (case-insensitive). VISIBLE needs `width`, `height` and
    /// either `tag_koordinat` or `page` + `originX` + `originY`.
    #[schema(example = "VISIBLE")]
    pub tampilan: Option<String>,
    /// Specimen image (JPG, JPEG or PNG), base64. Without it a VISIBLE signature shows the
    /// signer's name and the date.
    #[serde(rename = "imageBase64")]
    pub image_base64: Option<String>,
    /// 1-based page number (when no `tag_koordinat`).
    pub page: Option<Num>,
    /// Left edge, in points (1/72 inch, the seed's "pixels"), from the left of the page as
    /// displayed.
    #[serde(rename = "originX")]
    pub origin_x: Option<Num>,
    /// Bottom edge, in points, from the bottom of the page as displayed.
    #[serde(rename = "originY")]
    pub origin_y: Option<Num>,
    /// Width in points (> 0).
    pub width: Option<Num>,
    /// Height in points (> 0).
    pub height: Option<Num>,
    /// Text written in the document (e.g. `$`): the specimen is centred on its first
    /// occurrence. Wins over `page`/`originX`/`originY`.
    pub tag_koordinat: Option<String>,
    /// Location stored in the signature.
    pub location: Option<String>,
    /// Reason stored in the signature.
    pub reason: Option<String>,
    /// Password of an encrypted PDF.
    #[serde(rename = "pdfPassword")]
    pub pdf_password: Option<String>,
}

/// `POST /api/v2/sign/pdf`: sign `file` as the identity named by `nik` or `email`, unlocked
/// by `passphrase` or by a one-time code (`totp`; `otp` is accepted too).
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct SignRequest {
    /// The signer's NIK (16 digits), or
    pub nik: Option<String>,
    /// the signer's e-mail.
    pub email: Option<String>,
    /// The passphrase sealing the signer's key.
    pub passphrase: Option<String>,
    /// A code from `POST /api/v2/sign/get/totp`, instead of the passphrase.
    pub totp: Option<String>,
    /// The same as `totp`.
    #[schema(ignore)]
    pub otp: Option<String>,
    /// The PDFs, base64 (one string or an array; at most 1000).
    #[schema(value_type = Vec<String>)]
    pub file: Option<OneOrMany<Value>>,
    /// One for every file, or one per file.
    #[serde(rename = "signatureProperties")]
    #[schema(value_type = Vec<SignatureProperties>)]
    pub signature_properties: Option<OneOrMany<Value>>,
}

/// `POST /api/v2/seal/pdf`: seal `file` with the organisation seal `idSubscriber`.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct SealRequest {
    /// The seal.
    #[serde(rename = "idSubscriber")]
    pub id_subscriber: Option<String>,
    /// A sealing code from `POST /api/v2/seal/get/totp`.
    pub totp: Option<String>,
    /// The PDFs, base64 (one string or an array; at most 1000).
    #[schema(value_type = Vec<String>)]
    pub file: Option<OneOrMany<Value>>,
    /// One for every file, or one per file.
    #[serde(rename = "signatureProperties")]
    #[schema(value_type = Vec<SignatureProperties>)]
    pub signature_properties: Option<OneOrMany<Value>>,
}

/// `POST /api/v2/sign/get/totp`: mail the identity a code for `data` files.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct SignCodeRequest {
    /// The signer's NIK, or
    pub nik: Option<String>,
    /// the signer's e-mail.
    pub email: Option<String>,
    /// How many files the code may sign (1…1000).
    pub data: Option<Num>,
}

/// `POST /api/v2/seal/get/activation` (without `totp`: mail a new activation code; with
/// the current one: extend it), `POST /api/v2/seal/revoke/activation` (`totp` required).
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct SealActivationRequest {
    /// The seal.
    #[serde(rename = "idSubscriber")]
    pub id_subscriber: Option<String>,
    /// The current activation code.
    pub totp: Option<String>,
}

/// `POST /api/v2/seal/get/totp`: a sealing code for `data` files.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct SealCodeRequest {
    /// The seal.
    #[serde(rename = "idSubscriber")]
    pub id_subscriber: Option<String>,
    /// The current activation code.
    pub totp: Option<String>,
    /// How many files the code may seal (1…1000).
    pub data: Option<Num>,
}

/// `POST /api/v2/user/check/status`.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct UserRef {
    /// The user's NIK, or
    pub nik: Option<String>,
    /// the user's e-mail.
    pub email: Option<String>,
}

/// `POST /api/v2/user/registration`.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct RegistrationRequest {
    /// Full name.
    pub nama: Option<String>,
    /// E-mail (the activation mail goes there).
    pub email: Option<String>,
    /// NIK (16 digits), optional.
    pub nik: Option<String>,
}

/// The signed (or sealed) files, base64, in request order.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SignedFiles {
    /// Processing time, milliseconds.
    pub time: u64,
    /// The signed PDFs, base64.
    pub file: Vec<String>,
}

/// The seed's acknowledgement: `{"success": true, "message": …, "data": …}`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Ack<T> {
    /// Always `true` (errors have the `BsreError` shape).
    pub success: bool,
    /// What happened (Indonesian; English with `x-language: en`), or null.
    pub message: Option<String>,
    /// The result, or null.
    pub data: Option<T>,
}

impl<T> Ack<T> {
    /// A success with `message` and `data`.
    pub fn new(message: Option<&str>, data: Option<T>) -> Ack<T> {
        Ack {
            success: true,
            message: message.map(str::to_string),
            data,
        }
    }
}

/// A mailed one-time code: until when it is valid and for how many files.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CodeSent {
    /// `2023-08-07T04:24:40.927+0000`.
    pub expires: String,
    /// Files the code may sign.
    pub data: u64,
}

/// A code in the reply: a seal activation extended (the same code, valid longer), or a
/// sealing code (returned, not mailed: the caller proved the activation code).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CodeReply {
    /// What happened.
    pub message: String,
    /// The six-digit code.
    pub totp: String,
    /// Its expiry (`2023-08-07T04:24:40.927+0000`).
    pub expires: String,
    /// Always `true`.
    pub result: bool,
}

/// A user's status (seed §6.7).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct UserStatus {
    /// ISSUE, EXPIRED, RENEW, WAITING_FOR_VERIFICATION, NEW, NO_CERTIFICATE, NOT_REGISTERED,
    /// SUSPEND or REVOKE.
    pub status: String,
    /// What the status means.
    pub message: String,
    /// NIK, when known.
    pub nik: Option<String>,
    /// E-mail, when known.
    pub email: Option<String>,
    /// End of the certificate's validity, when there is one.
    pub certificate_expires: Option<String>,
}

/// A registration received.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Registered {
    /// WAITING_FOR_VERIFICATION.
    pub status: String,
    /// Full name.
    pub nama: String,
    /// E-mail.
    pub email: Option<String>,
}

/// The BSrE error body (documented as `BsreError`, whose `status_code` lists every code).
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = BsreError)]
pub struct BsreErrorBody {
    /// The message: Indonesian, English with `x-language: en`.
    pub error: String,
    /// The dialect's error code (the table in docs/bsre.md).
    pub status_code: u16,
}

/// The errors every authenticated v2 route can give, in the BSrE shape.
#[derive(utoipa::IntoResponses)]
pub enum Errors {
    /// Invalid request: `status_code` names the problem (see docs/bsre.md).
    #[response(status = 400)]
    BadRequest(BsreErrorBody),
    /// Missing or wrong application credential, or client IP not allowed.
    #[response(status = 401)]
    Unauthorized(BsreErrorBody),
    /// The body is larger than the server's limit.
    #[response(status = 413)]
    TooLarge(BsreErrorBody),
    /// The body is not `application/json`.
    #[response(status = 415)]
    NotJson(BsreErrorBody),
    /// Internal error; the message carries the request id.
    #[response(status = 500)]
    Internal(BsreErrorBody),
}

/// The reply language.
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Header)]
pub struct Language {
    /// `en` for English messages; Indonesian otherwise.
    #[param(rename = "x-language")]
    pub x_language: Option<String>,
}

/// `POST /api/sign/pdf` (v1, `multipart/form-data`): `file` and `imageTTD` are file parts,
/// everything else text. Invisible (`tampilan=invisible`), or visible with the specimen image
/// `imageTTD` (`image=true`) or a QR code of `linkQR` (`image=false`) with the signer's name
/// and the date. Placement: `tag_koordinat`, or `page` (or `halaman`) + `xAxis` + `yAxis`;
/// always `width` + `height`. Of repeated names the first counts.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct V1SignForm {
    /// The PDF (a file part).
    #[serde(skip)]
    #[schema(value_type = String, format = Binary)]
    pub file: Option<(String, Vec<u8>)>,
    /// The signer's 16-digit NIK.
    pub nik: Option<String>,
    /// The signer's passphrase. Wrong ones are counted: after 5 in a row
    /// (`PARAF_BSRE_LOCK_AFTER`) the identity is locked for 30 minutes.
    pub passphrase: Option<String>,
    /// `visible` or `invisible` (case-insensitive).
    pub tampilan: Option<String>,
    /// `true`: the specimen image `imageTTD`; `false`: a QR code of `linkQR` (also 1/0,
    /// yes/no). Default: true when `imageTTD` is given or `linkQR` is not.
    pub image: Option<String>,
    /// Specimen image: JPG, JPEG or PNG (a file part).
    #[serde(skip)]
    #[schema(value_type = Option<String>, format = Binary)]
    pub image_ttd: Option<Vec<u8>>,
    /// Width in points (> 0); required when visible.
    pub width: Option<Num>,
    /// Height in points (> 0); required when visible.
    pub height: Option<Num>,
    /// Address the QR code points to (required when `image=false`).
    #[serde(rename = "linkQR")]
    pub link_qr: Option<String>,
    /// Text in the document (e.g. `$` or `#`): the specimen is centred on its first
    /// occurrence; wins over `page`/`xAxis`/`yAxis`.
    pub tag_koordinat: Option<String>,
    /// Reason stored in the signature.
    pub reason: Option<String>,
    /// Location stored in the signature.
    pub location: Option<String>,
    /// 1-based page of the specimen (when no `tag_koordinat`).
    pub page: Option<String>,
    /// `first` or `last` (also `pertama`/`awal`, `terakhir`/`akhir`), when `page` is not given.
    pub halaman: Option<String>,
    /// Left edge in points (the seed's "pixels", 72 per inch) from the left of the page as
    /// displayed.
    #[serde(rename = "xAxis")]
    pub x_axis: Option<Num>,
    /// Bottom edge in points from the bottom of the page as displayed.
    #[serde(rename = "yAxis")]
    pub y_axis: Option<Num>,

    /// An extra line of text in the visible specimen.
    pub text: Option<String>,
}

/// The errors of the v1 download route, in the BSrE shape.
#[derive(utoipa::IntoResponses)]
pub enum DownloadErrors {
    /// Missing or wrong application credential.
    #[response(status = 401)]
    Unauthorized(BsreErrorBody),
    /// No such document in the caller's organisation (2051).
    #[response(status = 404)]
    NotFound(BsreErrorBody),
    /// Already downloaded: a document is downloadable once (2052).
    #[response(status = 410)]
    Gone(BsreErrorBody),
    /// Internal error.
    #[response(status = 500)]
    Internal(BsreErrorBody),
}

/// `POST /api/sign/verify` (v1, `multipart/form-data`).
#[derive(Debug, Clone, Default, ToSchema)]
#[allow(dead_code)] // documents the form; the handler reads the parts as they stream in
pub struct V1VerifyForm {
    /// The signed PDF (a file part; its file name is echoed as `nama_dokumen`).
    #[schema(value_type = String, format = Binary)]
    pub signed_file: Vec<u8>,
    /// The password of an encrypted PDF.
    pub password: Option<String>,
}

/// The v1 verification reply (seed §5.4).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct V1VerifyReply {
    /// The file name.
    pub nama_dokumen: String,
    /// Number of signatures (document timestamps excluded).
    pub jumlah_signature: usize,
    /// The conclusion in words (Indonesian; English with `x-language: en`).
    pub notes: String,
    /// One entry per signature.
    pub details: Vec<V1Signature>,
    /// VALID, WARNING or INVALID (docs/bsre-verify.md).
    pub summary: String,
}

/// One signature in the v1 reply.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct V1Signature {
    /// The signature time-stamp's authority.
    pub info_tsa: V1Tsa,
    /// The signature field's name.
    pub signature_field: Option<String>,
    /// The signer's certificate.
    pub info_signer: V1Signer,
    /// The signature itself.
    pub signature_document: V1SignatureDocument,
}

/// The time-stamp authority of a v1 signature entry.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct V1Tsa {
    /// Its common name.
    pub name: Option<String>,
    /// `2023-10-06 12:56:15.00 to 2024-10-06 12:56:15.00`.
    pub tsa_cert_validity: Option<String>,
}

/// The signer of a v1 signature entry.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct V1Signer {
    /// Issuer DN.
    pub issuer_dn: Option<String>,
    /// Common name.
    pub signer_name: Option<String>,
    /// `<from> to <to>`.
    pub signer_cert_validity: Option<String>,
    /// Subject DN.
    pub signer_dn: Option<String>,
    /// Whether the certificate chains to the trust anchor.
    pub cert_user_certified: bool,
}

/// The signature of a v1 entry.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct V1SignatureDocument {
    /// Whether an intact signature time-stamp is attached.
    pub signed_using_tsa: bool,
    /// `/Reason`.
    pub reason: Option<String>,
    /// Whether the signed bytes are unchanged.
    pub document_integrity: bool,
    /// The signature value, hex.
    pub signature_value: Option<String>,
    /// When it was signed (the time-stamp's time when intact, else the claimed time).
    pub signed_in: Option<String>,
    /// `/Location`.
    pub location: Option<String>,
    /// The digest of the signed byte ranges, hex.
    pub hash_value: Option<String>,
}

/// `POST /api/v2/verify/pdf`.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct V2VerifyRequest {
    /// The signed PDF, base64.
    pub file: Option<String>,
    /// The password of an encrypted PDF.
    pub password: Option<String>,
}

/// The v2 verification reply (seed §6.9).
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct V2VerifyReply {
    /// TOTAL_PASSED, TOTAL_FAILED, INDETERMINATE or NO_SIGNATURE (docs/bsre-verify.md).
    pub conclusion: String,
    /// The conclusion in words.
    pub description: String,
    /// One entry per signature.
    pub signature_informations: Vec<V2Signature>,
    /// Number of signatures.
    pub signature_count: usize,
}

/// One signature in the v2 reply.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct V2Signature {
    /// `S-` + SHA-256 of the CMS.
    pub id: String,
    /// PAdES level (`PAdES-BASELINE-T`…).
    pub signature_format: Option<String>,
    /// The signer's common name.
    pub signer_name: Option<String>,
    /// The claimed signing time.
    pub signature_date: Option<String>,
    /// The signature field's name.
    pub field_name: Option<String>,
    /// `/Reason`.
    pub reason: Option<String>,
    /// `/Location`.
    pub location: Option<String>,
    /// DocMDP level (0: not a certification signature).
    pub cert_level_code: u8,
    /// `RSA with SHA256`…
    pub signature_algorithm: Option<String>,
    /// `SHA256`…
    pub digest_algorithm: Option<String>,
    /// The signature time-stamp, when there is one.
    pub timestamp_information: Option<V2Timestamp>,
    /// The signer's chain, signer first.
    pub certificate_details: Vec<V2Certificate>,
    /// Whether the signed bytes are unchanged.
    pub integrity_valid: bool,
    /// Whether the certificate chains to the trust anchor.
    pub certificate_trusted: bool,
    /// Whether this is the document's last signature.
    pub last_signature: bool,
}

/// The signature time-stamp of a v2 entry.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct V2Timestamp {
    /// `T-` + SHA-256 of the token.
    pub id: String,
    /// The TSA's common name.
    pub signer_name: Option<String>,
    /// `2023-07-11T02:41:23.000+00:00`.
    pub timestamp_date: Option<String>,
}

/// A certificate of a v2 entry's chain.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct V2Certificate {
    /// `C-` + SHA-256 of the certificate.
    pub id: String,
    /// Common name.
    pub common_name: Option<String>,
    /// Issuer DN.
    pub issuer_name: String,
    /// Serial number, decimal.
    pub serial_number: String,
    /// End of validity.
    pub not_after_date: Option<String>,
    /// Start of validity.
    pub not_before_date: Option<String>,
    /// `RSA with SHA256`…
    pub signature_algorithm: String,
    /// `digitalSignature`, `crlSign`…
    pub key_usages: Vec<String>,
}
