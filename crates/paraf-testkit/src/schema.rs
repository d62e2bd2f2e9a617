//! Schema conformance for the Signing Today dialect (seed 003): would the official generated
//! SDKs (Python and Java, v2.0.0) deserialize this JSON reply without throwing?
//!
//! Tests call [`conforms`] (or [`assert_conforms`]) with an SDK model name on every JSON reply:
//!
//! ```text
//! schema::assert_conforms("DigitalSignatureTransaction", &body);
//! schema::assert_conforms("AuditRecord[]", &body); // a bare JSON array of the model
//! ```
//!
//! The models are a hand-written table ([`MODELS`]) taken from `docs/signingtoday-seed.md` §3 and
//! §6 (seed lines there), cross-checked against the SDKs' model classes. What the SDKs do, and
//! hence the rules here:
//!
//! - **Null or absent is fine** for every field (the Python SDK skips `None`, Java leaves
//!   `null`), except the few marked required ([`Field::required`]), which our replies must
//!   always carry. Inside arrays and maps, `null` is reported: the SDKs pass it through, but a
//!   null tag or UUID is always a server bug.
//! - **Unknown keys are allowed** (both SDKs ignore them); [`conforms_strict`] reports them too,
//!   to catch a misspelt key (`signerGroup` for `signerGroups`).
//! - **JSON types are strict**: [`Ty::Int`] is a JSON integer (not `1.0`, not `"1"`; Java reads a
//!   `Long`), [`Ty::Num`] any JSON number (not `"10.1"`), [`Ty::Str`] a string. The SDKs would
//!   coerce some of these; our replies must not depend on it (issue 13 asks for numbers).
//! - **Enums** are closed lists (Python raises `ValueError`, Java `IllegalArgumentException`).
//! - **UUIDs** are canonical `8-4-4-4-12` hex strings (Java types them `java.util.UUID`).
//! - **Date-times** carry an offset (Java parses `OffsetDateTime` with `ISO_OFFSET_DATE_TIME`):
//!   see [`check_date_time`].
//!
//! Not validated: the contents of free-form objects (`extraData`, [`Ty::Object`]), string formats
//! other than UUID and date-time (e-mail, URL), and cross-references between ids.

use serde_json::Value;

/// The JSON shape a field must have, as the SDKs read it.
#[derive(Debug, Clone, Copy)]
pub enum Ty {
    /// A JSON string.
    Str,
    /// A string holding a canonical UUID (`8-4-4-4-12` hex digits, either case).
    Uuid,
    /// A string holding an RFC 3339 date-time with an offset ([`check_date_time`]).
    DateTime,
    /// A JSON integer (Java `Integer`/`Long`): not a float, not a string.
    Int,
    /// Any JSON number (Java `Float`/`BigDecimal`): not a string.
    Num,
    /// `true` or `false`.
    Bool,
    /// Any JSON object, contents unchecked (`extraData`: `dict(str, object)`).
    Object,
    /// Anything at all.
    Any,
    /// A string from a closed list.
    Enum(&'static [&'static str]),
    /// A JSON array whose every item has this shape (no `null` items).
    Array(&'static Ty),
    /// A JSON object whose every value has this shape (`dict(str, T)`, e.g. request headers).
    Map(&'static Ty),
    /// An object of the named model in [`MODELS`].
    Model(&'static str),
}

/// One field of a model.
#[derive(Debug, Clone, Copy)]
pub struct Field {
    /// The JSON key, as written on the wire (`_instance_id`, `userUUID`).
    pub name: &'static str,
    /// Its shape when present and not null.
    pub ty: Ty,
    /// Must be present and not null. The seed and the SDKs mark nothing required (SDK
    /// `CreateUserRequest.user` aside); this marks only what a reply of ours is useless without.
    pub required: bool,
}

/// A model: its SDK name and its fields.
#[derive(Debug)]
pub struct Model {
    /// The SDK class name (`DigitalSignatureTransaction`, `LFResource`), or ours where the SDK has
    /// none (noted on the entry).
    pub name: &'static str,
    /// The known fields; others are unknown keys (allowed unless strict).
    pub fields: &'static [Field],
}

const fn opt(name: &'static str, ty: Ty) -> Field {
    Field {
        name,
        ty,
        required: false,
    }
}

const fn req(name: &'static str, ty: Ty) -> Field {
    Field {
        name,
        ty,
        required: true,
    }
}

/// `DigitalSignatureTransaction.status` (seed L1247–1256 = SDK).
const DST_STATUS: &[&str] = &[
    "draft",
    "downloadingInDraft",
    "downloadingInPublished",
    "published",
    "toFill",
    "toSign",
    "expired",
    "signed",
    "rejected",
    "error",
];

/// `Document.status` (seed L1132–1134 = SDK).
const DOCUMENT_STATUS: &[&str] = &["plain", "filled", "signed"];

/// `Signature.status` (seed L1237 prose = SDK enum).
const SIGNATURE_STATUS: &[&str] = &["signed", "declined"];

/// `SignatureRequest.signProfile` (SDK; the seed shows only `PAdES`).
const SIGN_PROFILE: &[&str] = &["CAdES", "PAdES"];

/// `AuditRecord.event` (SDK, in its order; the seed shows only `stage_signed`).
const AUDIT_EVENT: &[&str] = &[
    "event_published",
    "event_form_fill",
    "event_signature",
    "event_rejection",
    "event_replacement",
    "event_note_add",
    "event_note_modify",
    "event_note_delete",
    "event_solicitation",
    "stage_to_fill",
    "stage_to_sign",
    "stage_expired",
    "stage_signed",
    "stage_rejected",
    "event_upload_alfresco",
];

/// `NotificationEvent.event` (SDK only).
const NOTIFICATION_EVENT: &[&str] = &[
    "dst_status_published",
    "dst_status_expired",
    "dst_status_rejected",
    "dst_status_signed",
    "dst_status_error",
    "dst_alert_fill",
    "dst_alert_sign",
    "dst_alert_note_added",
    "dst_alert_note_modified",
    "dst_alert_note_deleted",
];

/// `DSTStatusChangedNotification.status` (SDK only): `performed`, not `signed`.
const WEBHOOK_STATUS: &[&str] = &["toFill", "toSign", "expired", "performed", "error"];

/// `User.language` (seed L8446–8449 = SDK).
const LANGUAGE: &[&str] = &["it", "en", "es", "fr"];

/// `User.role` (seed L8470–8472 = SDK).
const USER_ROLE: &[&str] = &["admin", "instructor", "signer"];

/// `User.capabilities[]` (seed L8493–8502 = SDK).
const CAPABILITY: &[&str] = &[
    "user.pwd.clear",
    "user.create.all",
    "user.access.all",
    "user.delete.all",
    "dst.list.all",
    "dst.delete.all",
    "dst.create.modify_all",
    "devices.list.all",
    "devices.delete.all",
    "organizations.access.write.user",
];

/// `RobotConfiguration.authentication.authMode` (SDK; the seed shows only `basic`).
const AUTH_MODE: &[&str] = &["basic", "digest"];

/// Seed §3.1 (L1071–1299) = SDK. Required: `id` (every other endpoint addresses the DST by it)
/// and `status` (the SDKs' callers branch on it); the seed's canonical example lacks both.
const DIGITAL_SIGNATURE_TRANSACTION: &[Field] = &[
    req("id", Ty::Uuid),
    opt("domain", Ty::Str),
    opt("title", Ty::Str),
    opt("replaces", Ty::Uuid),
    opt("replacedBy", Ty::Uuid),
    opt("createdByUser", Ty::Uuid),
    opt("createdAt", Ty::DateTime),
    opt("documents", Ty::Array(&Ty::Model("Document"))),
    opt("publishedAt", Ty::DateTime),
    opt("expiresAt", Ty::DateTime),
    opt("resources", Ty::Array(&Ty::Model("LFResource"))),
    opt("signatures", Ty::Array(&Ty::Model("Signature"))),
    req("status", Ty::Enum(DST_STATUS)),
    opt("errorMessage", Ty::Str),
    opt("deletedAt", Ty::DateTime),
    opt("tags", Ty::Array(&Ty::Str)),
    opt("template", Ty::Bool),
    opt("publicTemplate", Ty::Bool),
    opt("extraData", Ty::Object),
    opt("visibleTo", Ty::Array(&Ty::Uuid)),
    opt("ccGroups", Ty::Array(&Ty::Str)),
    opt("ccUsers", Ty::Array(&Ty::Uuid)),
    opt("urgent", Ty::Bool),
    opt("updatedAt", Ty::DateTime),
];

/// Seed §3.2 (L1104–1149). Required: `id` (the target of `documentId`, `docId`) and `status`.
/// `extraData` is in the seed only (L1147), not in the SDK.
const DOCUMENT: &[Field] = &[
    opt("_instance_id", Ty::Int),
    req("id", Ty::Int),
    opt("plainDocumentUuid", Ty::Uuid),
    opt("filledDocumentUuid", Ty::Uuid),
    opt("signedDocumentUuid", Ty::Uuid),
    req("status", Ty::Enum(DOCUMENT_STATUS)),
    opt("forms", Ty::Array(&Ty::Model("FillableForm"))),
    opt(
        "signatureRequests",
        Ty::Array(&Ty::Model("SignatureRequest")),
    ),
    opt("signerGroups", Ty::Array(&Ty::Model("SignersGroup"))),
    opt("extraData", Ty::Object),
];

/// Seed §3.4 (L4165–4219), SDK `FillableForm`. `type` has no enum in the seed or the SDK.
const FILLABLE_FORM: &[Field] = &[
    opt("_instance_id", Ty::Int),
    opt("id", Ty::Int),
    opt("documentId", Ty::Int),
    opt("type", Ty::Str),
    opt("positionX", Ty::Num),
    opt("positionY", Ty::Num),
    opt("width", Ty::Num),
    opt("height", Ty::Num),
    opt("page", Ty::Int),
    opt("signerId", Ty::Int),
    opt("toFill", Ty::Bool),
    opt("filled", Ty::Bool),
    opt("invisible", Ty::Bool),
    opt("extraData", Ty::Object),
];

/// Seed §3.5 (examples L1398–1415) = SDK.
const SIGNATURE_REQUEST: &[Field] = &[
    opt("_instance_id", Ty::Int),
    opt("id", Ty::Int),
    opt("reason", Ty::Str),
    opt("description", Ty::Str),
    opt("signerId", Ty::Int),
    opt("signProfile", Ty::Enum(SIGN_PROFILE)),
    opt("withTimestamp", Ty::Bool),
    opt("declinable", Ty::Bool),
    opt(
        "restrictions",
        Ty::Array(&Ty::Model("SignatureRestriction")),
    ),
    opt("extraData", Ty::Object),
];

/// Item of `SignatureRequest.restrictions` (seed L1406–1412 = SDK).
const SIGNATURE_RESTRICTION: &[Field] = &[
    opt("rule", Ty::Str),
    opt("operator", Ty::Str),
    opt("value", Ty::Str),
];

/// Seed §3.3. `label` is in the seed (L1420) but not in the SDK.
const SIGNERS_GROUP: &[Field] = &[
    opt("_instance_id", Ty::Int),
    opt("label", Ty::Str),
    opt("signers", Ty::Array(&Ty::Model("Signer"))),
];

/// Seed §3.3 = SDK `Signer` (Java `userUUID: UUID`).
const SIGNER: &[Field] = &[
    opt("_instance_id", Ty::Int),
    opt("id", Ty::Int),
    opt("name", Ty::Str),
    opt("surname", Ty::Str),
    opt("email", Ty::Str),
    opt("phone", Ty::Str),
    opt("role", Ty::Str),
    opt("userUUID", Ty::Uuid),
    opt("templateLabel", Ty::Str),
];

/// Seed §3.6 (L1159–1209), SDK `LFResource`.
const LF_RESOURCE: &[Field] = &[
    opt("id", Ty::Uuid),
    opt("domain", Ty::Str),
    opt("type", Ty::Str),
    opt("dstUuid", Ty::Uuid),
    opt("title", Ty::Str),
    opt("filename", Ty::Str),
    opt("url", Ty::Str),
    opt("size", Ty::Int),
    opt("createdAt", Ty::DateTime),
    opt("mimetype", Ty::Str),
    opt("pages", Ty::Int),
    opt("extraData", Ty::Object),
];

/// Seed §3.7 (L1211–1241) = SDK.
const SIGNATURE: &[Field] = &[
    opt("_instance_id", Ty::Int),
    opt("documentId", Ty::Int),
    opt("signatureRequestId", Ty::Int),
    opt("signedAt", Ty::DateTime),
    opt("declinedReason", Ty::Str),
    opt("status", Ty::Enum(SIGNATURE_STATUS)),
    opt("extraData", Ty::Object),
];

/// Seed §3.8 (example L2827–2845), SDK types (Java `dstId: UUID`).
const AUDIT_RECORD: &[Field] = &[
    opt("_instance_id", Ty::Int),
    opt("at", Ty::DateTime),
    opt("event", Ty::Enum(AUDIT_EVENT)),
    opt("signer", Ty::Model("SignerRecord")),
    opt("value", Ty::Str),
    opt("dstId", Ty::Uuid),
    opt("documentId", Ty::Int),
    opt("fillableFormId", Ty::Int),
    opt("signatureRequestId", Ty::Int),
    opt("noteId", Ty::Int),
];

/// `AuditRecord.signer` (SDK; Java `userUUID: UUID`).
const SIGNER_RECORD: &[Field] = &[
    opt("name", Ty::Str),
    opt("surname", Ty::Str),
    opt("email", Ty::Str),
    opt("role", Ty::Str),
    opt("userUUID", Ty::Uuid),
];

/// Seed L508–531 = SDK (Java `dstId`, `userId: UUID`, `createdAt: OffsetDateTime`).
const DST_NOTE: &[Field] = &[
    opt("id", Ty::Int),
    opt("dstId", Ty::Uuid),
    opt("userId", Ty::Uuid),
    opt("createdAt", Ty::DateTime),
    opt("text", Ty::Str),
];

/// `GET /DST/{id}/sign/{docId}/{signId}` (seed L3186–3188).
const DST_SIGNING_ADDRESS_RESPONSE: &[Field] = &[opt("url", Ty::Str)];

/// Item of `GET /DSTs/byFile` (seed L4680–4690); no SDK model.
const INSTANTIATION_GROUP: &[Field] = &[
    opt("instantiationGroupId", Ty::Str),
    opt("templateId", Ty::Uuid),
    opt("title", Ty::Str),
    opt("generatedAt", Ty::DateTime),
    opt("groupSize", Ty::Int),
    opt("inStateSigned", Ty::Int),
    opt("inStateError", Ty::Int),
    opt("inStateRejected", Ty::Int),
    opt("inStateExpired", Ty::Int),
];

/// `POST /DST/{id}/instantiate/byFile` reply (seed L2487–2494); no SDK model.
const INSTANTIATE_BY_FILE_RESPONSE: &[Field] = &[
    opt("instantiationGroup", Ty::Str),
    opt("title", Ty::Str),
    opt("dstIDs", Ty::Array(&Ty::Uuid)),
];

/// `GET /robot/authentication` (seed L6329–6331).
const ROBOT_AUTHENTICATION_TOKEN: &[Field] = &[opt("accessToken", Ty::Str)];

/// Seed §3.12 (L6431–6447); SDK `requestHeaders: dict(str, list[str])`.
const ROBOT_CONFIGURATION: &[Field] = &[
    opt("requestHeaders", Ty::Map(&Ty::Array(&Ty::Str))),
    opt(
        "authentication",
        Ty::Model("RobotConfigurationAuthentication"),
    ),
    opt("webhooks", Ty::Model("RobotConfigurationWebhooks")),
];

/// `RobotConfiguration.authentication`.
const ROBOT_CONFIGURATION_AUTHENTICATION: &[Field] = &[
    opt("username", Ty::Str),
    opt("password", Ty::Str),
    opt("authMode", Ty::Enum(AUTH_MODE)),
    opt("clientKey", Ty::Str),
    opt("clientCert", Ty::Str),
];

/// `RobotConfiguration.webhooks`.
const ROBOT_CONFIGURATION_WEBHOOKS: &[Field] = &[opt("dst", Ty::Str)];

/// `POST /oauth/token` (seed L7811–7821; SDK `InlineResponse200`). Required: `access_token` and
/// `token_type`, which RFC 6749 §5.1 makes REQUIRED. The seed writes `bearer`; RFC 6749
/// §5.1 makes the value case-insensitive and the SDKs type it as a plain string, so the
/// shared endpoint's `Bearer` is accepted.
const OAUTH_TOKEN: &[Field] = &[
    req("access_token", Ty::Str),
    req("token_type", Ty::Enum(&["bearer", "Bearer"])),
    opt("refresh_token", Ty::Str),
    opt("expires_in", Ty::Int),
    opt("scope", Ty::Str),
];

/// SDK only (the seed has no error body).
const ERROR_RESPONSE: &[Field] = &[
    opt("code", Ty::Str),
    opt("message", Ty::Str),
    opt("target", Ty::Str),
];

/// Seed §3.13 (L8425–8525). `phone` is typed BigDecimal by the SDK, yet every seed sample is a
/// string (`"+013392213450"`); the Python SDK v2.0.0 raises on any non-null `phone` whatever its
/// type, so this accepts a string (or null). `templateData` is seed v2.4.0 only.
const USER: &[Field] = &[
    opt("id", Ty::Uuid),
    opt("username", Ty::Str),
    opt("domain", Ty::Str),
    opt("language", Ty::Enum(LANGUAGE)),
    opt("name", Ty::Str),
    opt("surname", Ty::Str),
    opt("email", Ty::Str),
    opt("phone", Ty::Str),
    opt("role", Ty::Enum(USER_ROLE)),
    opt("groups", Ty::Array(&Ty::Model("UserGroup"))),
    opt("capabilities", Ty::Array(&Ty::Enum(CAPABILITY))),
    opt("createdBy", Ty::Uuid),
    opt("createdAt", Ty::DateTime),
    opt("deletedAt", Ty::DateTime),
    opt("automatic", Ty::Bool),
    opt("extraData", Ty::Object),
    opt("templateData", Ty::Object),
];

/// Seed L8477–8487 = SDK.
const USER_GROUP: &[Field] = &[
    opt("id", Ty::Int),
    opt("name", Ty::Str),
    opt("domain", Ty::Str),
];

/// Seed §3.14 (example L9450–9491); SDK adds `actions: dict(str, str)`.
const IDENTITY: &[Field] = &[
    opt("id", Ty::Uuid),
    opt("actions", Ty::Map(&Ty::Str)),
    opt("provider", Ty::Str),
    opt("label", Ty::Str),
    opt("providerType", Ty::Str),
    opt("subjectCommonName", Ty::Str),
    opt("issuerCommonName", Ty::Str),
    opt("expireDate", Ty::DateTime),
    opt("rawCertificate", Ty::Str),
    opt("appearance", Ty::Model("LFResource")),
    opt("providerData", Ty::Model("IdentityProviderData")),
    opt("valid", Ty::Bool),
    opt("tags", Ty::Array(&Ty::Str)),
];

/// `Identity.providerData` (SDK; numbers are Python `float`, Java `BigDecimal`).
const IDENTITY_PROVIDER_DATA: &[Field] = &[
    opt("smartcardID", Ty::Num),
    opt("middlewareID", Ty::Str),
    opt("ATR", Ty::Str),
    opt("tokenInfo", Ty::Model("IdentityProviderDataTokenInfo")),
    opt("reader", Ty::Str),
];

/// `Identity.providerData.tokenInfo` (SDK).
const IDENTITY_PROVIDER_DATA_TOKEN_INFO: &[Field] = &[
    opt("ulMinPinLen", Ty::Num),
    opt("manufacturerID", Ty::Str),
    opt("ulFreePublicMemory", Ty::Num),
    opt("serialNumber", Ty::Str),
    opt("ulTotalPublicMemory", Ty::Num),
    opt("label", Ty::Str),
    opt("flags", Ty::Num),
    opt("ulTotalPrivateMemory", Ty::Num),
    opt("model", Ty::Str),
    opt("ulFreePrivateMemory", Ty::Num),
    opt("ulMaxPinLen", Ty::Num),
];

/// Item of `GET /devices` (seed L881–886); SDK adds `_instance_id` (Java `userId: UUID`).
const TRUSTED_DEVICE: &[Field] = &[
    opt("_instance_id", Ty::Int),
    opt("userId", Ty::Uuid),
    opt("deviceId", Ty::Str),
    opt("name", Ty::Str),
    opt("registeredAt", Ty::DateTime),
];

/// `GET /device/authorization` (seed L931–935; Java `userId: UUID`).
const DEVICE_AUTHORIZATION_RESPONSE: &[Field] = &[
    opt("userId", Ty::Uuid),
    opt("baseURL", Ty::Str),
    opt("challenge", Ty::Str),
];

/// Item of `GET /notifications/dsts` (seed L4914–4918 has the last three keys; the rest SDK).
const NOTIFICATION_EVENT_FIELDS: &[Field] = &[
    opt("id", Ty::Int),
    opt("time", Ty::DateTime),
    opt("dstId", Ty::Uuid),
    opt("userId", Ty::Uuid),
    opt("dstTitle", Ty::Str),
    opt("username", Ty::Str),
    opt("email", Ty::Str),
    opt("event", Ty::Enum(NOTIFICATION_EVENT)),
];

/// The webhook payload (SDK only; the seed has none).
const DST_STATUS_CHANGED_NOTIFICATION: &[Field] = &[
    opt("status", Ty::Enum(WEBHOOK_STATUS)),
    opt("dst", Ty::Uuid),
    opt("reason", Ty::Str),
];

/// A list reply `{count, values}` (seed §1.6): `count` is null unless `$count` was asked;
/// `values` is required (a list reply without its list is broken).
macro_rules! list_of {
    ($item:literal) => {
        &[
            opt("count", Ty::Int),
            req("values", Ty::Array(&Ty::Model($item))),
        ]
    };
}

const fn m(name: &'static str, fields: &'static [Field]) -> Model {
    Model { name, fields }
}

/// Every model, by SDK name (or ours where the SDK has none).
pub static MODELS: &[Model] = &[
    m("DigitalSignatureTransaction", DIGITAL_SIGNATURE_TRANSACTION),
    m("Document", DOCUMENT),
    m("FillableForm", FILLABLE_FORM),
    m("SignatureRequest", SIGNATURE_REQUEST),
    m("SignatureRestriction", SIGNATURE_RESTRICTION),
    m("SignersGroup", SIGNERS_GROUP),
    m("Signer", SIGNER),
    m("LFResource", LF_RESOURCE),
    m("Signature", SIGNATURE),
    m("AuditRecord", AUDIT_RECORD),
    m("SignerRecord", SIGNER_RECORD),
    m("DSTNote", DST_NOTE),
    m("DSTsGetResponse", list_of!("DigitalSignatureTransaction")),
    m("DSTSigningAddressResponse", DST_SIGNING_ADDRESS_RESPONSE),
    // Ours: no SDK model for `GET /DSTs/byFile`.
    m("InstantiationGroup", INSTANTIATION_GROUP),
    m(
        "InstantiationGroupsGetResponse",
        list_of!("InstantiationGroup"),
    ),
    // Ours: no SDK model for `POST /DST/{id}/instantiate/byFile`.
    m("InstantiateByFileResponse", INSTANTIATE_BY_FILE_RESPONSE),
    m("RobotAuthenticationToken", ROBOT_AUTHENTICATION_TOKEN),
    m("RobotConfiguration", ROBOT_CONFIGURATION),
    m(
        "RobotConfigurationAuthentication",
        ROBOT_CONFIGURATION_AUTHENTICATION,
    ),
    m("RobotConfigurationWebhooks", ROBOT_CONFIGURATION_WEBHOOKS),
    // Ours: the SDK calls it `InlineResponse200`.
    m("OAuthToken", OAUTH_TOKEN),
    m("ErrorResponse", ERROR_RESPONSE),
    m("User", USER),
    m("UsersGetResponse", list_of!("User")),
    m("UserGroup", USER_GROUP),
    m("UserGroupGetResponse", list_of!("UserGroup")),
    m("Identity", IDENTITY),
    m("IdentityProviderData", IDENTITY_PROVIDER_DATA),
    m(
        "IdentityProviderDataTokenInfo",
        IDENTITY_PROVIDER_DATA_TOKEN_INFO,
    ),
    m("TrustedDevice", TRUSTED_DEVICE),
    m("TrustedDevicesGetResponse", list_of!("TrustedDevice")),
    m("DeviceAuthorizationResponse", DEVICE_AUTHORIZATION_RESPONSE),
    m("NotificationEvent", NOTIFICATION_EVENT_FIELDS),
    m("NotificationsResponse", list_of!("NotificationEvent")),
    m(
        "DSTStatusChangedNotification",
        DST_STATUS_CHANGED_NOTIFICATION,
    ),
];

/// The model of that name in [`MODELS`].
pub fn model(name: &str) -> Option<&'static Model> {
    MODELS.iter().find(|m| m.name == name)
}

/// Does `value` deserialize as the model `model` in the SDKs? `Err` lists every problem, each
/// starting with its JSON path (`DigitalSignatureTransaction.documents[0].forms[1].positionX:
/// expected number, got string "10.0"`). `model` may end in `[]` for a bare JSON array of the
/// model (`AuditRecord[]`, `DSTNote[]`, `Identity[]` replies). Unknown keys are allowed.
pub fn conforms(model: &str, value: &Value) -> Result<(), Vec<String>> {
    check_named(model, value, false)
}

/// [`conforms`], and also reports keys no model declares (`…documents[0].signerGroup: unknown
/// field`), which the SDKs would silently drop.
pub fn conforms_strict(model: &str, value: &Value) -> Result<(), Vec<String>> {
    check_named(model, value, true)
}

/// Does `value` have the shape `ty` (e.g. `Ty::Array(&Ty::Uuid)` for `POST /users`)? Paths start
/// at `$`. Unknown keys are allowed.
pub fn conforms_to(ty: &Ty, value: &Value) -> Result<(), Vec<String>> {
    let mut c = Checker::new(false);
    c.value("$", ty, value);
    c.finish()
}

/// [`conforms`], panicking with every problem and the value.
pub fn assert_conforms(model: &str, value: &Value) {
    if let Err(problems) = conforms(model, value) {
        fail(model, value, &problems);
    }
}

/// [`conforms_strict`], panicking with every problem and the value.
pub fn assert_conforms_strict(model: &str, value: &Value) {
    if let Err(problems) = conforms_strict(model, value) {
        fail(model, value, &problems);
    }
}

fn fail(model: &str, value: &Value, problems: &[String]) -> ! {
    let mut shown = serde_json::to_string_pretty(value).unwrap_or_default();
    if shown.len() > 4000 {
        let cut = (0..=4000)
            .rev()
            .find(|&i| shown.is_char_boundary(i))
            .unwrap_or(0);
        shown.truncate(cut);
        shown.push_str("\n…");
    }
    panic!(
        "not a valid Signing Today {model} ({} problem(s)):\n  {}\nvalue:\n{shown}",
        problems.len(),
        problems.join("\n  ")
    );
}

fn check_named(name: &str, value: &Value, strict: bool) -> Result<(), Vec<String>> {
    let (base, list) = match name.strip_suffix("[]") {
        Some(base) => (base, true),
        None => (name, false),
    };
    let Some(m) = model(base) else {
        return Err(vec![format!(
            "{name}: no such model in paraf_testkit::schema"
        )]);
    };
    let mut c = Checker::new(strict);
    if !list {
        c.model(base, m, value);
    } else if let Value::Array(items) = value {
        for (i, item) in items.iter().enumerate() {
            c.model(&format!("{base}[{i}]"), m, item);
        }
    } else {
        c.mismatch(name, "array", value, None);
    }
    c.finish()
}

/// Walks a value and collects problems.
struct Checker {
    strict: bool,
    problems: Vec<String>,
}

impl Checker {
    fn new(strict: bool) -> Self {
        Checker {
            strict,
            problems: Vec::new(),
        }
    }

    fn finish(self) -> Result<(), Vec<String>> {
        if self.problems.is_empty() {
            Ok(())
        } else {
            Err(self.problems)
        }
    }

    fn mismatch(&mut self, path: &str, expected: &str, got: &Value, why: Option<&str>) {
        let why = why.map(|w| format!(" ({w})")).unwrap_or_default();
        self.problems.push(format!(
            "{path}: expected {expected}, got {}{why}",
            describe(got)
        ));
    }

    /// An object of model `m`: every declared field (null allowed unless required), then the
    /// unknown keys when strict.
    fn model(&mut self, path: &str, m: &Model, value: &Value) {
        let Value::Object(obj) = value else {
            self.mismatch(path, &format!("{} object", m.name), value, None);
            return;
        };
        for f in m.fields {
            let at = format!("{path}.{}", f.name);
            match obj.get(f.name) {
                None if f.required => self.problems.push(format!("{at}: required, missing")),
                Some(Value::Null) if f.required => {
                    self.problems.push(format!("{at}: required, got null"))
                }
                None | Some(Value::Null) => {}
                Some(v) => self.value(&at, &f.ty, v),
            }
        }
        if self.strict {
            for key in obj.keys() {
                if !m.fields.iter().any(|f| f.name == key) {
                    self.problems
                        .push(format!("{path}.{key}: unknown field of {}", m.name));
                }
            }
        }
    }

    /// A present value of shape `ty` (null is a mismatch here: callers decide nullability).
    fn value(&mut self, path: &str, ty: &Ty, v: &Value) {
        match ty {
            Ty::Any => {}
            Ty::Str => {
                if !v.is_string() {
                    self.mismatch(path, "string", v, None);
                }
            }
            Ty::Uuid => {
                if !v.as_str().is_some_and(is_uuid) {
                    self.mismatch(path, "UUID (8-4-4-4-12 hex)", v, None);
                }
            }
            Ty::DateTime => match v.as_str().map(check_date_time) {
                Some(Ok(())) => {}
                Some(Err(why)) => {
                    self.mismatch(path, "RFC 3339 date-time with offset", v, Some(why))
                }
                None => self.mismatch(path, "RFC 3339 date-time with offset", v, None),
            },
            Ty::Int => {
                if !(v.is_i64() || v.is_u64()) {
                    self.mismatch(path, "integer", v, None);
                }
            }
            Ty::Num => {
                if !v.is_number() {
                    self.mismatch(path, "number", v, None);
                }
            }
            Ty::Bool => {
                if !v.is_boolean() {
                    self.mismatch(path, "boolean", v, None);
                }
            }
            Ty::Object => {
                if !v.is_object() {
                    self.mismatch(path, "object", v, None);
                }
            }
            Ty::Enum(allowed) => {
                if !v.as_str().is_some_and(|s| allowed.contains(&s)) {
                    self.mismatch(path, &format!("one of {}", allowed.join("|")), v, None);
                }
            }
            Ty::Array(item) => match v {
                Value::Array(items) => {
                    for (i, x) in items.iter().enumerate() {
                        self.value(&format!("{path}[{i}]"), item, x);
                    }
                }
                _ => self.mismatch(path, "array", v, None),
            },
            Ty::Map(item) => match v {
                Value::Object(map) => {
                    for (k, x) in map {
                        let key = Value::String(k.clone());
                        self.value(&format!("{path}[{key}]"), item, x);
                    }
                }
                _ => self.mismatch(path, "object", v, None),
            },
            Ty::Model(name) => match model(name) {
                Some(m) => self.model(path, m, v),
                None => self
                    .problems
                    .push(format!("{path}: schema bug: no model named {name}")),
            },
        }
    }
}

/// `null`, `boolean true`, `number 1.5`, `string "10.0"` (cut at 60 characters), `array`,
/// `object`.
fn describe(v: &Value) -> String {
    match v {
        Value::Null => "null".into(),
        Value::Bool(b) => format!("boolean {b}"),
        Value::Number(n) => format!("number {n}"),
        Value::String(s) => {
            let cut: String = s.chars().take(60).collect();
            let more = if cut.len() < s.len() { "…" } else { "" };
            format!("string {}{more}", Value::String(cut))
        }
        Value::Array(a) => format!("array of {}", a.len()),
        Value::Object(_) => "object".into(),
    }
}

/// A canonical UUID: 36 characters, hyphens at 8, 13, 18 and 23, hex digits (either case)
/// elsewhere. `java.util.UUID.fromString` is laxer; our replies are not.
fn is_uuid(s: &str) -> bool {
    s.len() == 36
        && s.bytes().enumerate().all(|(i, b)| match i {
            8 | 13 | 18 | 23 => b == b'-',
            _ => b.is_ascii_hexdigit(),
        })
}

/// An RFC 3339 date-time with an offset, as Java's `ISO_OFFSET_DATE_TIME` reads it:
/// `YYYY-MM-DDThh:mm[:ss[.f{1,9}]](Z|±hh:mm)`. Seconds are optional (`2021-10-17T07:26Z`, seed
/// L1452; Java accepts it too); the fraction takes 1 to 9 digits (nanoseconds); the offset is
/// at most ±18:00 (Java's `ZoneOffset` range). Stricter than both SDKs on purpose: upper-case
/// `T` and `Z` only, no `+hhmm`, no leap second. Returns what is wrong.
pub fn check_date_time(s: &str) -> Result<(), &'static str> {
    let mut p = Cursor {
        b: s.as_bytes(),
        i: 0,
    };
    let year = p.digits(4).ok_or("date is not YYYY-MM-DD")?;
    let (month, day) = p
        .eat(b'-')
        .and_then(|()| p.pair(b'-'))
        .ok_or("date is not YYYY-MM-DD")?;
    if chrono::NaiveDate::from_ymd_opt(year as i32, month, day).is_none() {
        return Err("no such date");
    }
    match p.next() {
        Some(b'T') => {}
        Some(b' ') => return Err("space instead of 'T'"),
        None => return Err("no time"),
        _ => return Err("no 'T' after the date"),
    }
    let (hour, minute) = p.pair(b':').ok_or("time is not hh:mm")?;
    if hour > 23 || minute > 59 {
        return Err("no such time");
    }
    if p.peek() == Some(b':') {
        p.i += 1;
        let second = p.digits(2).ok_or("seconds are not ss")?;
        if second > 59 {
            return Err("no such second");
        }
        if p.peek() == Some(b'.') {
            p.i += 1;
            let start = p.i;
            while p.peek().is_some_and(|b| b.is_ascii_digit()) {
                p.i += 1;
            }
            if !(1..=9).contains(&(p.i - start)) {
                return Err("fraction of a second is not 1 to 9 digits");
            }
        }
    }
    match p.next() {
        Some(b'Z') => {}
        Some(b'+' | b'-') => {
            let (h, m) = p.pair(b':').ok_or("offset is not Z or ±hh:mm")?;
            if m > 59 || h * 60 + m > 18 * 60 {
                return Err("offset out of range");
            }
        }
        None => return Err("no offset"),
        _ => return Err("offset is not Z or ±hh:mm"),
    }
    if p.i != p.b.len() {
        return Err("trailing characters");
    }
    Ok(())
}

/// A byte cursor for [`check_date_time`].
struct Cursor<'a> {
    b: &'a [u8],
    i: usize,
}

impl Cursor<'_> {
    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }

    fn next(&mut self) -> Option<u8> {
        let b = self.peek()?;
        self.i += 1;
        Some(b)
    }

    fn eat(&mut self, want: u8) -> Option<()> {
        (self.next()? == want).then_some(())
    }

    /// Exactly `n` ASCII digits as a number.
    fn digits(&mut self, n: usize) -> Option<u32> {
        let mut v = 0u32;
        for _ in 0..n {
            let b = self.next().filter(u8::is_ascii_digit)?;
            v = v * 10 + u32::from(b - b'0');
        }
        Some(v)
    }

    /// Two digits, `sep`, two digits (`07:26`, `10-17`).
    fn pair(&mut self, sep: u8) -> Option<(u32, u32)> {
        let a = self.digits(2)?;
        self.eat(sep)?;
        Some((a, self.digits(2)?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// The seed's canonical DST reply, verbatim (seed L2158–2257; 23 replies use it).
    const SEED_DST: &str = r#"{
  "domain": "bit4id",
  "title": "Real estate sales contract transaction",
  "documents": [
    {
      "id": 1,
      "plainDocumentUuid": "737dc132-a3f0-11e9-a2a3-2a2ae2dbcce4",
      "forms": [
        {
          "id": 0,
          "documentId": 0,
          "type": "SignatureForm",
          "positionX": "100.00",
          "positionY": "58.14",
          "width": "10.1",
          "height": "5.66",
          "page": 1,
          "signerId": 0,
          "toFill": true,
          "filled": false,
          "invisible": true,
          "extraData": {
            "signatureRequestId": 0
          }
        }
      ],
      "signatureRequests": [
        {
          "id": 0,
          "reason": "As the Buyer",
          "description": "The proponent",
          "signerId": 0,
          "signProfile": "PAdES",
          "withTimestamp": true,
          "declinable": false,
          "restrictions": [
            {
              "rule": "",
              "operator": "",
              "value": ""
            }
          ],
          "extraData": {
            "st_ticketUrl": "http://signing.today/ticket/8bd4aead-ad37-42bc-b3b0-22ce3d1c9e79"
          }
        }
      ],
      "signerGroups": [
        {
          "label": "Group 1",
          "signers": [
            {
              "id": 0,
              "name": "Adam",
              "surname": "Smith",
              "email": "adam.smith@email.com"
            }
          ]
        }
      ],
      "extraData": {
        "additionalProperty": {}
      }
    }
  ],
  "resources": [
    {
      "id": "05a80817-a3a5-48fe-83c0-0df0f48a2a26",
      "domain": "bit4id",
      "title": "Sales Contract",
      "filename": "contract.pdf",
      "pages": 3,
      "extraData": {
        "toSign": true
      }
    }
  ],
  "signatures": [
    {
      "documentId": 3,
      "signatureRequestId": 0,
      "signedAt": "2021-10-17T07:26Z",
      "declinedReason": "Reason of declination",
      "extraData": {
        "st_uuid": "d6ebb1ed-73a4-45ba-b33a-7db8a6cdd882"
      }
    }
  ],
  "errorMessage": null,
  "tags": null,
  "template": false,
  "publicTemplate": false,
  "extraData": {
    "st_uuid": "d6ebb1ed-73a4-45ba-b33a-7db8a6cdd882"
  },
  "visibleTo": null,
  "ccGroups": null,
  "ccUsers": null,
  "urgent": false
}"#;

    fn seed_dst() -> Value {
        serde_json::from_str(SEED_DST).unwrap()
    }

    /// `v` with the value at JSON pointer `at` set (an object key is added if absent).
    fn with(mut v: Value, at: &str, new: Value) -> Value {
        let (parent, last) = at.rsplit_once('/').unwrap();
        match v.pointer_mut(parent).unwrap() {
            Value::Object(o) => {
                o.insert(last.to_owned(), new);
            }
            Value::Array(a) => a[last.parse::<usize>().unwrap()] = new,
            other => panic!("{parent} is {other}"),
        }
        v
    }

    /// The seed's DST as our replies must be: an `id`, a `status`, positions as numbers.
    fn corrected_dst() -> Value {
        let form = "/documents/0/forms/0";
        let mut v = with(
            seed_dst(),
            "/id",
            json!("f220030c-e8dd-4d77-9e70-ae3f5f67fda3"),
        );
        v = with(v, "/status", json!("published"));
        v = with(v, "/documents/0/status", json!("plain"));
        for (k, n) in [
            ("positionX", 100.0),
            ("positionY", 58.14),
            ("width", 10.1),
            ("height", 5.66),
        ] {
            v = with(v, &format!("{form}/{k}"), json!(n));
        }
        v
    }

    fn dst_errors(v: &Value) -> Vec<String> {
        conforms("DigitalSignatureTransaction", v).unwrap_err()
    }

    const DST: &str = "DigitalSignatureTransaction";
    const FORM: &str = "DigitalSignatureTransaction.documents[0].forms[0]";

    #[test]
    fn seed_canonical_dst_fails_exactly_where_the_seed_deviates() {
        // Positions are strings (the SDKs would coerce them; issue 13 asks for numbers), and the
        // example has no `id` nor `status` on the DST and no `status` on its document.
        assert_eq!(
            dst_errors(&seed_dst()),
            [
                format!("{DST}.id: required, missing"),
                format!("{DST}.documents[0].status: required, missing"),
                format!("{FORM}.positionX: expected number, got string \"100.00\""),
                format!("{FORM}.positionY: expected number, got string \"58.14\""),
                format!("{FORM}.width: expected number, got string \"10.1\""),
                format!("{FORM}.height: expected number, got string \"5.66\""),
                format!("{DST}.status: required, missing"),
            ]
        );
    }

    #[test]
    fn corrected_seed_dst_conforms_even_strictly() {
        assert_conforms(DST, &corrected_dst());
        assert_conforms_strict(DST, &corrected_dst());
        let list = json!({"count": null, "values": [corrected_dst()]});
        assert_conforms_strict("DSTsGetResponse", &list);
        assert_conforms("DigitalSignatureTransaction[]", &json!([corrected_dst()]));
    }

    #[test]
    fn string_position_is_reported_with_its_path() {
        let v = with(
            corrected_dst(),
            "/documents/0/forms/0/positionX",
            json!("10.0"),
        );
        assert_eq!(
            dst_errors(&v),
            [format!(
                "{FORM}.positionX: expected number, got string \"10.0\""
            )]
        );
    }

    #[test]
    fn status_outside_the_enum_fails() {
        let v = with(corrected_dst(), "/status", json!("cancelled"));
        assert_eq!(
            dst_errors(&v),
            [format!(
                "{DST}.status: expected one of draft|downloadingInDraft|downloadingInPublished|\
                 published|toFill|toSign|expired|signed|rejected|error, got string \"cancelled\""
            )]
        );
        let v = with(corrected_dst(), "/documents/0/status", json!("SIGNED"));
        assert_eq!(
            dst_errors(&v),
            [format!(
                "{DST}.documents[0].status: expected one of plain|filled|signed, \
                 got string \"SIGNED\""
            )]
        );
    }

    #[test]
    fn non_uuid_ids_fail() {
        let v = with(corrected_dst(), "/id", json!("42"));
        assert_eq!(
            dst_errors(&v),
            [format!(
                "{DST}.id: expected UUID (8-4-4-4-12 hex), got string \"42\""
            )]
        );
        let v = with(corrected_dst(), "/id", json!(42));
        assert_eq!(
            dst_errors(&v),
            [format!(
                "{DST}.id: expected UUID (8-4-4-4-12 hex), got number 42"
            )]
        );
        let v = with(corrected_dst(), "/visibleTo", json!(["jdo@bit4id"]));
        assert_eq!(
            dst_errors(&v),
            [format!(
                "{DST}.visibleTo[0]: expected UUID (8-4-4-4-12 hex), got string \"jdo@bit4id\""
            )]
        );
    }

    #[test]
    fn date_without_offset_fails() {
        let v = with(
            corrected_dst(),
            "/signatures/0/signedAt",
            json!("2018-12-19 09:26:03.478039"),
        );
        assert_eq!(
            dst_errors(&v),
            [format!(
                "{DST}.signatures[0].signedAt: expected RFC 3339 date-time with offset, \
                 got string \"2018-12-19 09:26:03.478039\" (space instead of 'T')"
            )]
        );
        let v = with(
            corrected_dst(),
            "/updatedAt",
            json!("2018-12-19T09:26:03.478039"),
        );
        assert_eq!(
            dst_errors(&v),
            [format!(
                "{DST}.updatedAt: expected RFC 3339 date-time with offset, \
                 got string \"2018-12-19T09:26:03.478039\" (no offset)"
            )]
        );
    }

    #[test]
    fn float_or_string_page_fails() {
        let v = with(corrected_dst(), "/documents/0/forms/0/page", json!(1.0));
        assert_eq!(
            dst_errors(&v),
            [format!("{FORM}.page: expected integer, got number 1.0")]
        );
        // Quick Start 3.3 sends `"page": "1"` (seed L316); fine in a request, not in a reply.
        let v = with(corrected_dst(), "/documents/0/forms/0/page", json!("1"));
        assert_eq!(
            dst_errors(&v),
            [format!("{FORM}.page: expected integer, got string \"1\"")]
        );
    }

    #[test]
    fn every_problem_is_collected() {
        let mut v = with(corrected_dst(), "/urgent", json!("false"));
        v = with(v, "/tags", json!("a"));
        v = with(
            v,
            "/documents/0/signatureRequests/0/signProfile",
            json!("XAdES"),
        );
        v = with(
            v,
            "/documents/0/signerGroups/0/signers/0/userUUID",
            json!(""),
        );
        v = with(v, "/resources/0/extraData", json!([]));
        let errors = dst_errors(&v);
        assert_eq!(errors.len(), 5, "{errors:#?}");
        let doc = "DigitalSignatureTransaction.documents[0]";
        for want in [
            format!("{doc}.signatureRequests[0].signProfile: expected one of CAdES|PAdES"),
            format!("{doc}.signerGroups[0].signers[0].userUUID: expected UUID"),
            format!("{DST}.resources[0].extraData: expected object, got array of 0"),
            format!("{DST}.tags: expected array, got string \"a\""),
            format!("{DST}.urgent: expected boolean, got string \"false\""),
        ] {
            assert!(
                errors.iter().any(|e| e.starts_with(&want)),
                "{want}: {errors:#?}"
            );
        }
    }

    #[test]
    fn null_is_fine_except_where_required_and_inside_arrays() {
        let mut v = corrected_dst();
        for k in [
            "domain",
            "createdAt",
            "documents",
            "signatures",
            "extraData",
            "urgent",
        ] {
            v = with(v, &format!("/{k}"), Value::Null);
        }
        assert_conforms(DST, &v);
        let v = with(corrected_dst(), "/status", Value::Null);
        assert_eq!(
            dst_errors(&v),
            [format!("{DST}.status: required, got null")]
        );
        let v = with(corrected_dst(), "/tags", json!(["a", null]));
        assert_eq!(
            dst_errors(&v),
            [format!("{DST}.tags[1]: expected string, got null")]
        );
        let list = json!({"count": 3});
        assert_eq!(
            conforms("DSTsGetResponse", &list).unwrap_err(),
            ["DSTsGetResponse.values: required, missing"]
        );
    }

    #[test]
    fn strict_mode_reports_unknown_keys_lenient_mode_ignores_them() {
        let mut v = corrected_dst();
        let doc = v
            .pointer_mut("/documents/0")
            .unwrap()
            .as_object_mut()
            .unwrap();
        let groups = doc.remove("signerGroups").unwrap();
        doc.insert("signerGroup".into(), groups);
        assert_conforms(DST, &v);
        assert_eq!(
            conforms_strict(DST, &v).unwrap_err(),
            [format!(
                "{DST}.documents[0].signerGroup: unknown field of Document"
            )]
        );
        // Free-form objects are not walked.
        let v = with(corrected_dst(), "/extraData/anything", json!({"x": [1]}));
        assert_conforms_strict(DST, &v);
    }

    #[test]
    fn top_level_shape_and_unknown_model_are_reported() {
        assert_eq!(
            conforms(DST, &json!([])).unwrap_err(),
            [format!(
                "{DST}: expected DigitalSignatureTransaction object, got array of 0"
            )]
        );
        assert_eq!(
            conforms("AuditRecord[]", &json!({})).unwrap_err(),
            ["AuditRecord[]: expected array, got object"]
        );
        assert_eq!(
            conforms("Dst", &json!({})).unwrap_err(),
            ["Dst: no such model in paraf_testkit::schema"]
        );
    }

    #[test]
    #[should_panic(expected = "DigitalSignatureTransaction.status: required, missing")]
    fn assert_conforms_panics_with_the_paths() {
        assert_conforms(DST, &seed_dst());
    }

    #[test]
    fn conforms_to_checks_bare_shapes() {
        // `POST /users` replies `["<uuid>"]` (seed L8840–8842).
        let ty = Ty::Array(&Ty::Uuid);
        assert!(conforms_to(&ty, &json!(["7e49d963-544e-407e-ba57-049785ef3760"])).is_ok());
        assert_eq!(
            conforms_to(&ty, &json!(["7e49d963"])).unwrap_err(),
            ["$[0]: expected UUID (8-4-4-4-12 hex), got string \"7e49d963\""]
        );
    }

    #[test]
    fn date_times() {
        for ok in [
            "2021-10-17T07:26Z",
            "2030-04-25T12:00:00Z",
            "2022-12-13T23:59:59Z",
            "2018-12-19T09:26:03.478Z",
            "2018-12-19T09:26:03.478039+01:00",
            "2020-02-29T00:00:00.123456789-05:30",
            "2020-01-01T00:00+18:00",
        ] {
            assert_eq!(check_date_time(ok), Ok(()), "{ok}");
        }
        for (bad, why) in [
            ("2018-12-19 09:26:03.478039", "space instead of 'T'"),
            ("2018-12-19T09:26:03", "no offset"),
            ("2018-12-19T09:26:03.478039", "no offset"),
            ("2018-12-19", "no time"),
            ("2018-12-19T09Z", "time is not hh:mm"),
            ("2021-02-29T00:00Z", "no such date"),
            ("2021-13-01T00:00Z", "no such date"),
            ("2021-10-17T24:00Z", "no such time"),
            ("2021-10-17T07:26:60Z", "no such second"),
            (
                "2021-10-17T07:26:03.Z",
                "fraction of a second is not 1 to 9 digits",
            ),
            (
                "2021-10-17T07:26:03.1234567890Z",
                "fraction of a second is not 1 to 9 digits",
            ),
            ("2021-10-17T07:26.5Z", "offset is not Z or ±hh:mm"),
            ("2021-10-17T07:26+0100", "offset is not Z or ±hh:mm"),
            ("2021-10-17T07:26+19:00", "offset out of range"),
            ("2021-10-17t07:26z", "no 'T' after the date"),
            ("2021-10-17T07:26z", "offset is not Z or ±hh:mm"),
            ("2021-10-17T07:26Z ", "trailing characters"),
            ("17/10/2021", "date is not YYYY-MM-DD"),
            ("", "date is not YYYY-MM-DD"),
        ] {
            assert_eq!(check_date_time(bad), Err(why), "{bad}");
        }
    }

    #[test]
    fn uuids() {
        assert!(is_uuid("737dc132-a3f0-11e9-a2a3-2a2ae2dbcce4"));
        assert!(is_uuid("737DC132-A3F0-11E9-A2A3-2A2AE2DBCCE4"));
        for bad in [
            "",
            "737dc132a3f011e9a2a32a2ae2dbcce4",
            "{737dc132-a3f0-11e9-a2a3-2a2ae2dbcce4}",
            "737dc132-a3f0-11e9-a2a3-2a2ae2dbcce",
            "737dc132-a3f0-11e9-a2a3-2a2ae2dbcceg",
            "737dc132-a3f011e9-a2a3-2a2ae2dbcce4-",
            "8df173c3bcd4274715491fc196705da8",
        ] {
            assert!(!is_uuid(bad), "{bad}");
        }
    }

    /// The seed's other reply samples (verbatim but for line breaks) conform, even strictly.
    #[test]
    fn seed_samples_conform() {
        let samples = [
            // L2827–2845 (value shortened).
            (
                "AuditRecord[]",
                r#"[{"at": "2020-01-17T07:26Z", "event": "stage_signed",
                    "signer": {"name": "Adam", "surname": "Smith", "email": "adam.smith@email.com",
                               "role": "buyer", "userUUID": "737dc132-a3f0-11e9-a2a3-2a2ae2dbcce4"},
                    "value": "utente registrato John Doe (jdo@bit4id.com) ha pubblicato la DST",
                    "dstId": "00f462e8-333c-45d6-bdef-95797cc1a2a9", "documentId": 2,
                    "fillableFormId": 3, "signatureRequestId": 0, "noteId": 2}]"#,
            ),
            // L2487–2494.
            (
                "InstantiateByFileResponse",
                r#"{"instantiationGroup": null, "title": "Test DSTs",
                    "dstIDs": ["cfb5d919-5c40-40fd-b7cf-6ca5d51a4ff6",
                               "e6661cbd-52e8-4b39-86e7-0c5600c18eef"]}"#,
            ),
            // L3186–3188.
            (
                "DSTSigningAddressResponse",
                r#"{"url":
                    "https://web.sandbox.signingtoday.com/dst/da789cfe-4a8f-42d1-a34e-adc6908d6956"}"#,
            ),
            // L4678–4693.
            (
                "InstantiationGroupsGetResponse",
                r#"{"values": [{"instantiationGroupId": "Partners",
                    "templateId": "bcbde8fe-8739-4f27-9215-bf6aaae8172c",
                    "title": "Partnership Agreement", "generatedAt": "2021-01-17T07:26Z",
                    "groupSize": 2, "inStateSigned": 1, "inStateError": 0,
                    "inStateRejected": 0, "inStateExpired": 0}], "count": 1}"#,
            ),
            // L878–886.
            (
                "TrustedDevicesGetResponse",
                r#"{"count": 1, "values": [{"userId": "737dc132-a3f0-11e9-a2a3-2a2ae2dbcce4",
                    "deviceId": "e6419924-fd1d-4c42-9fa2-88023461f5df",
                    "name": "John Doe\"s Iphone", "registeredAt": "2021-10-17T07:26Z"}]}"#,
            ),
            // L931–935.
            (
                "DeviceAuthorizationResponse",
                r#"{"userId": "737dc132-a3f0-11e9-a2a3-2a2ae2dbcce4",
                    "baseURL": "https://web.sandbox.signingtoday.com/api/challenge",
                    "challenge": "8df173c3bcd4274715491fc196705da8"}"#,
            ),
            // L4911–4919.
            (
                "NotificationsResponse",
                r#"{"count": 1, "values": [{"dstTitle": "Contract", "username": "johndoe",
                    "email": "jdo@bit4id.com"}]}"#,
            ),
            // L6329–6331.
            (
                "RobotAuthenticationToken",
                r#"{"accessToken": "19a6f7b6-e558-46c7-ac1c-ed4fea78e644"}"#,
            ),
            // L6431–6447.
            (
                "RobotConfiguration",
                r#"{"requestHeaders":
                        {"Authorization": ["Token eed3fc66-cfc8-4b11-9bf9-33493d95411b"]},
                    "authentication": {"username": "jdo", "password": "A12345678z",
                        "authMode": "basic", "clientKey": "clientKey", "clientCert": ""},
                    "webhooks": {"dst": "https://web.sandbox.signingtoday.com"}}"#,
            ),
            // L7815–7821.
            (
                "OAuthToken",
                r#"{"access_token": "5c7fe85e-5ccd-4ae7-9629-ed49f969eee9", "token_type": "bearer",
                    "refresh_token": "ef1185f4-2af7-4bf2-acd5-3c4b2e7dad72",
                    "expires_in": 30623, "scope": "all"}"#,
            ),
            // L7901–7923 (a string `phone`: see `USER`).
            (
                "User",
                r#"{"username": "jdo", "domain": "bit4id", "language": "en", "name": "John",
                    "surname": "Doe", "email": "john.doe@email.com", "phone": "+013392213450",
                    "role": "signer", "groups": [{"name": "Marketing BU", "domain": "bit4id"}],
                    "capabilities": null, "extraData": {"additionalProperty": {}},
                    "templateData": {"taxNumber": "RSSMRA30A01H501I"}}"#,
            ),
            // L8903–8911.
            (
                "UserGroupGetResponse",
                r#"{"count": 1, "values": [{"name": "Marketing BU", "domain": "bit4id"}]}"#,
            ),
            // L9450–9491.
            (
                "Identity[]",
                r#"[{"id": "abd562ae-e8ab-4cfd-a688-395e06eea9ff",
                    "provider": "Approval Signing Today", "label": "Token John Doe",
                    "providerType": "token", "subjectCommonName": "John Doe",
                    "issuerCommonName": "Emicert", "expireDate": "2022-12-13T23:59:59Z",
                    "rawCertificate": null,
                    "appearance": {"id": "05a80817-a3a5-48fe-83c0-0df0f48a2a26", "domain": "bit4id",
                        "title": "Sales Contract", "filename": "contract.pdf", "pages": 3,
                        "extraData": {"toSign": true}},
                    "providerData": {"smartcardID": -1121978858, "middlewareID": "bit4xpki",
                        "ATR": "3bff1800008131fe55006b02090403010101434e5310318065",
                        "tokenInfo": {"ulMinPinLen": 4, "manufacturerID": "Bit4id",
                            "ulFreePublicMemory": 41168, "serialNumber": "7430010005961358",
                            "ulTotalPublicMemory": 80000, "label": "CNS", "flags": 1037,
                            "ulTotalPrivateMemory": 80000, "model": "JS2048 (LB)",
                            "ulFreePrivateMemory": 41168, "ulMaxPinLen": 8},
                        "reader": "Generic Smart Card Reader Interface 0"},
                    "valid": true, "tags": null}]"#,
            ),
        ];
        for (model, text) in samples {
            let v: Value = serde_json::from_str(text).unwrap_or_else(|e| panic!("{model}: {e}"));
            assert_conforms_strict(model, &v);
        }
    }

    #[test]
    fn seed_note_date_breaks_java() {
        // L576–584: `createdAt` has a space and no zone; Java's OffsetDateTime parse throws.
        let note = json!([{"id": 32, "dstId": "737dc132-a3f0-11e9-a2a3-2a2ae2dbcce4",
            "userId": "123e4567-e89b-12d3-a456-426655440000",
            "createdAt": "2018-12-19 09:26:03.478039", "text": "This a DSTNote sample"}]);
        assert_eq!(
            conforms("DSTNote[]", &note).unwrap_err(),
            [
                "DSTNote[0].createdAt: expected RFC 3339 date-time with offset, \
              got string \"2018-12-19 09:26:03.478039\" (space instead of 'T')"
            ]
        );
        let fixed = with(note, "/0/createdAt", json!("2018-12-19T09:26:03.478039Z"));
        assert_conforms_strict("DSTNote[]", &fixed);
    }

    #[test]
    fn other_models_enforce_their_enums_and_maps() {
        let cases = [
            (
                "OAuthToken",
                json!({"access_token": "t", "token_type": "mac"}),
                "OAuthToken.token_type: expected one of bearer|Bearer, got string \"mac\"",
            ),
            (
                "OAuthToken",
                json!({"token_type": "bearer"}),
                "OAuthToken.access_token: required, missing",
            ),
            (
                "OAuthToken",
                json!({"access_token": "t", "token_type": "bearer", "expires_in": "3600"}),
                "OAuthToken.expires_in: expected integer, got string \"3600\"",
            ),
            (
                "RobotConfiguration",
                json!({"requestHeaders": {"Authorization": "Token x"}}),
                "RobotConfiguration.requestHeaders[\"Authorization\"]: expected array, \
                 got string \"Token x\"",
            ),
            (
                "RobotConfiguration",
                json!({"authentication": {"authMode": "bearer"}}),
                "RobotConfiguration.authentication.authMode: expected one of basic|digest",
            ),
            (
                "User",
                json!({"capabilities": ["dst.list.all", "dst.sign"]}),
                "User.capabilities[1]: expected one of user.pwd.clear|",
            ),
            (
                "User",
                json!({"language": "de"}),
                "User.language: expected one of it|en|es|fr",
            ),
            (
                "Signature",
                json!({"status": "pending"}),
                "Signature.status: expected one of signed|declined",
            ),
            (
                "DSTStatusChangedNotification",
                json!({"status": "signed"}),
                "DSTStatusChangedNotification.status: expected one of \
                 toFill|toSign|expired|performed|error",
            ),
            (
                "NotificationEvent",
                json!({"event": "stage_signed"}),
                "NotificationEvent.event: expected one of dst_status_published|",
            ),
            (
                "AuditRecord",
                json!({"event": "dst_status_signed"}),
                "AuditRecord.event: expected one of event_published|",
            ),
            (
                "InstantiationGroup",
                json!({"groupSize": "2"}),
                "InstantiationGroup.groupSize: expected integer",
            ),
            (
                "ErrorResponse",
                json!({"code": 404}),
                "ErrorResponse.code: expected string, got number 404",
            ),
        ];
        for (model, v, want) in cases {
            let errors = conforms(model, &v).unwrap_err();
            assert!(errors[0].starts_with(want), "{model}: {errors:#?}");
            assert_eq!(errors.len(), 1, "{errors:#?}");
        }
    }

    #[test]
    fn the_table_is_consistent() {
        fn refs(ty: &Ty, out: &mut Vec<&'static str>) {
            match ty {
                Ty::Model(n) => out.push(n),
                Ty::Array(t) | Ty::Map(t) => refs(t, out),
                _ => {}
            }
        }
        for (i, m) in MODELS.iter().enumerate() {
            assert!(
                MODELS[..i].iter().all(|o| o.name != m.name),
                "{} twice",
                m.name
            );
            for (j, f) in m.fields.iter().enumerate() {
                assert!(
                    m.fields[..j].iter().all(|g| g.name != f.name),
                    "{}.{} twice",
                    m.name,
                    f.name
                );
                let mut names = Vec::new();
                refs(&f.ty, &mut names);
                for n in names {
                    assert!(model(n).is_some(), "{}.{} refers to {n}", m.name, f.name);
                }
            }
        }
    }
}
