//! The seed's wire formats (seed 003, "Signing Today Web"), with its exact JSON names
//! (camelCase, `_instance_id`). Replies carry JSON numbers for positions, sizes and ids;
//! requests may write them as strings, as every sample of the seed does (`"positionX":
//! "100.00"`, `"page": "1"`).

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

/// The platform's error (`ErrorResponse` of the official SDKs): `code` one of a fixed set
/// (docs/signingtoday.md), `target` the field or parameter at fault.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ErrorResponse {
    pub code: String,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
}

/// The DST named in a path (OpenAPI).
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Path)]
pub struct DstPath {
    /// The DST's UUID.
    pub id: String,
}

/// The refusals a DST's endpoints answer with (OpenAPI): all `ErrorResponse`.
#[derive(utoipa::IntoResponses)]
pub enum Refused {
    /// A bad field or parameter (`target` names it).
    #[response(status = 400)]
    Invalid(ErrorResponse),
    /// No token, or one that is unknown, expired or revoked.
    #[response(status = 401)]
    Unauthenticated(ErrorResponse),
    /// No such DST (or resource, note, form…) in the caller's organisation.
    #[response(status = 404)]
    NotFound(ErrorResponse),
    /// The DST's status does not allow it.
    #[response(status = 409)]
    IllegalStatus(ErrorResponse),
}

/// A Digital Signature Transaction (`DigitalSignatureTransaction`).
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Dst {
    pub id: String,
    pub domain: String,
    pub title: String,
    pub replaces: Option<String>,
    pub replaced_by: Option<String>,
    pub created_by_user: Option<String>,
    pub created_at: String,
    pub documents: Vec<Document>,
    pub published_at: Option<String>,
    pub expires_at: Option<String>,
    pub resources: Vec<Resource>,
    pub signatures: Vec<Signature>,
    /// draft, downloadingInDraft, downloadingInPublished, published, toFill, toSign,
    /// expired, signed, rejected, error.
    pub status: String,
    pub error_message: Option<String>,
    pub deleted_at: Option<String>,
    pub tags: Vec<String>,
    pub template: bool,
    pub public_template: bool,
    #[schema(value_type = Object)]
    pub extra_data: Value,
    pub visible_to: Vec<String>,
    pub cc_groups: Vec<String>,
    pub cc_users: Vec<String>,
    pub urgent: bool,
    pub updated_at: String,
}

/// A document of a DST with its own sign plan.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Document {
    #[serde(rename = "_instance_id")]
    pub instance_id: i64,
    pub id: i64,
    pub plain_document_uuid: Option<String>,
    pub filled_document_uuid: Option<String>,
    pub signed_document_uuid: Option<String>,
    /// plain, filled, signed.
    pub status: String,
    pub forms: Vec<Form>,
    pub signature_requests: Vec<SignatureRequest>,
    pub signer_groups: Vec<SignerGroup>,
    #[schema(value_type = Object)]
    pub extra_data: Value,
}

/// A form placed on a page, in percent of the page: `SignatureForm`, `TextForm` (its text in
/// `extraData.value`) or `ClauseForm` (accepted: `extraData.value` true).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Form {
    #[serde(rename = "_instance_id", default, deserialize_with = "opt_int")]
    pub instance_id: Option<i64>,
    #[serde(default, deserialize_with = "opt_int")]
    pub id: Option<i64>,
    #[serde(default, deserialize_with = "opt_int")]
    pub document_id: Option<i64>,
    #[serde(rename = "type", default)]
    pub kind: Option<String>,
    #[serde(default, deserialize_with = "opt_num")]
    pub position_x: Option<f64>,
    #[serde(default, deserialize_with = "opt_num")]
    pub position_y: Option<f64>,
    #[serde(default, deserialize_with = "opt_num")]
    pub width: Option<f64>,
    #[serde(default, deserialize_with = "opt_num")]
    pub height: Option<f64>,
    #[serde(default, deserialize_with = "opt_int")]
    pub page: Option<i64>,
    #[serde(default, deserialize_with = "opt_int")]
    pub signer_id: Option<i64>,
    #[serde(default, deserialize_with = "opt_bool")]
    pub to_fill: Option<bool>,
    #[serde(default, deserialize_with = "opt_bool")]
    pub filled: Option<bool>,
    #[serde(default, deserialize_with = "opt_bool")]
    pub invisible: Option<bool>,
    #[serde(default)]
    #[schema(value_type = Object)]
    pub extra_data: Option<Value>,
}

/// What a signer is asked to sign, how.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SignatureRequest {
    #[serde(rename = "_instance_id", default, deserialize_with = "opt_int")]
    pub instance_id: Option<i64>,
    #[serde(default, deserialize_with = "opt_int")]
    pub id: Option<i64>,
    #[serde(default)]
    pub reason: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default, deserialize_with = "opt_int")]
    pub signer_id: Option<i64>,
    /// CAdES, PAdES (Paraf signs PAdES either way: one PDF per document).
    #[serde(default)]
    pub sign_profile: Option<String>,
    #[serde(default, deserialize_with = "opt_bool")]
    pub with_timestamp: Option<bool>,
    #[serde(default, deserialize_with = "opt_bool")]
    pub declinable: Option<bool>,
    #[serde(default)]
    pub restrictions: Option<Vec<Restriction>>,
    #[serde(default)]
    #[schema(value_type = Object)]
    pub extra_data: Option<Value>,
}

/// A restriction on who may sign (kept as given).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Restriction {
    #[serde(default)]
    pub rule: Option<String>,
    #[serde(default)]
    pub operator: Option<String>,
    #[serde(default)]
    pub value: Option<String>,
}

/// A group of signers: the groups sign in order, the signers of a group in any order.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SignerGroup {
    #[serde(rename = "_instance_id", default, deserialize_with = "opt_int")]
    pub instance_id: Option<i64>,
    #[serde(default)]
    pub label: Option<String>,
    #[serde(default)]
    pub signers: Vec<Signer>,
}

/// A signer: a user of the organisation (`userUUID` or their `email`) or a one-shot signer.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Signer {
    #[serde(rename = "_instance_id", default, deserialize_with = "opt_int")]
    pub instance_id: Option<i64>,
    #[serde(default, deserialize_with = "opt_int")]
    pub id: Option<i64>,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub surname: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default, deserialize_with = "opt_text")]
    pub phone: Option<String>,
    #[serde(default)]
    pub role: Option<String>,
    #[serde(rename = "userUUID", default)]
    pub user_uuid: Option<String>,
    #[serde(default)]
    pub template_label: Option<String>,
}

/// A file of a DST (`LFResource`).
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Resource {
    pub id: String,
    pub domain: String,
    #[serde(rename = "type")]
    pub kind: String,
    /// The DST the resource belongs to (none for an appearance).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dst_uuid: Option<String>,
    pub title: String,
    pub filename: String,
    pub url: String,
    pub size: Option<u64>,
    pub created_at: String,
    pub mimetype: String,
    pub pages: u32,
    #[schema(value_type = Object)]
    pub extra_data: Value,
}

/// A signature made or declined.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Signature {
    #[serde(rename = "_instance_id")]
    pub instance_id: i64,
    pub document_id: i64,
    pub signature_request_id: i64,
    pub signed_at: Option<String>,
    pub declined_reason: Option<String>,
    /// signed, declined.
    pub status: String,
    #[schema(value_type = Object)]
    pub extra_data: Value,
}

/// `GET /DSTs`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DstList {
    pub count: Option<u64>,
    pub values: Vec<Dst>,
}

/// `GET /DST/{id}/sign/{docId}/{signId}`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SigningAddress {
    pub url: String,
}

/// A user (`GET /auth/user`).
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct User {
    pub id: String,
    pub username: String,
    pub domain: String,
    /// it, en, es, fr.
    pub language: String,
    pub name: String,
    pub surname: String,
    pub email: String,
    pub phone: Option<String>,
    /// admin, instructor, signer.
    pub role: String,
    pub groups: Vec<UserGroup>,
    pub capabilities: Option<Vec<String>>,
    pub created_by: Option<String>,
    pub created_at: String,
    pub deleted_at: Option<String>,
    pub automatic: bool,
    #[schema(value_type = Object)]
    pub extra_data: Value,
    #[schema(value_type = Object)]
    pub template_data: Value,
}

/// A group of users.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct UserGroup {
    pub id: i64,
    pub name: String,
    pub domain: String,
}

/// An identity of a user (`GET /user/{id}/identities`).
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Identity {
    pub id: String,
    pub provider: String,
    pub label: String,
    /// `paraf` (a certificate issued for each signature) or `certificate` (the user's own).
    pub provider_type: String,
    pub subject_common_name: Option<String>,
    pub issuer_common_name: Option<String>,
    pub expire_date: Option<String>,
    /// The certificate in PEM, when the identity has one of its own.
    pub raw_certificate: Option<String>,
    pub appearance: Option<Resource>,
    #[schema(value_type = Object)]
    pub provider_data: Value,
    pub valid: bool,
    pub tags: Option<Vec<String>>,
}

/// A trusted device (`TrustedDevice`).
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TrustedDevice {
    pub user_id: String,
    pub device_id: String,
    pub name: String,
    pub registered_at: String,
}

/// `GET /devices` (SDK `TrustedDevicesGetResponse`).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DeviceList {
    pub count: Option<u64>,
    pub values: Vec<TrustedDevice>,
}

/// `GET /device/authorization` (SDK `DeviceAuthorizationResponse`).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DeviceAuthorization {
    #[serde(rename = "userId")]
    pub user_id: String,
    /// Where the app sends the challenge (`POST {baseURL}/device/authorization`).
    #[serde(rename = "baseURL")]
    pub base_url: String,
    pub challenge: String,
}

/// `POST /device/authorization`.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PairInput {
    pub challenge: Option<String>,
    pub device_id: Option<String>,
    pub name: Option<String>,
}

/// `POST /notifications/push-token`.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PushTokenInput {
    pub device_id: Option<String>,
    pub token: Option<String>,
}

/// A notification (SDK `NotificationEvent`; the seed shows `dstTitle`, `username`, `email`:
/// the DST's author).
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct NotificationEvent {
    pub id: i64,
    pub time: String,
    pub dst_id: String,
    pub user_id: String,
    /// dst_alert_sign, dst_status_signed, dst_status_rejected, dst_status_expired.
    pub event: String,
    pub dst_title: String,
    pub username: String,
    pub email: String,
}

/// `GET /notifications/dsts` (SDK `NotificationsResponse`).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct NotificationList {
    pub count: Option<u64>,
    pub values: Vec<NotificationEvent>,
}

/// `POST /auth/passwordReset`.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PasswordChange {
    pub current_password: Option<String>,
    pub new_password: Option<String>,
}

/// The paging and OData-style parameters of the users' and groups' lists (read from the
/// raw query; this type documents them).
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct ListParams {
    /// A number of results to return (1-100), applied after `$skip`.
    #[serde(rename = "$top")]
    pub top: Option<u32>,
    /// An offset into the results.
    #[serde(rename = "$skip")]
    pub skip: Option<u64>,
    /// Include the count of all the items.
    #[serde(rename = "$count")]
    pub count: Option<bool>,
    /// An ordering definition (e.g. `surname,desc`).
    #[serde(rename = "$orderBy")]
    pub order_by: Option<String>,
    /// A filter definition (e.g. `name == "Milk" or surname == "Bread"`).
    #[serde(rename = "$filter")]
    pub filter: Option<String>,
}

/// The paging parameters of a list (read from the raw query; this type documents them).
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct PageParams {
    /// A number of results to return (1-100), applied after `$skip`.
    #[serde(rename = "$top")]
    pub top: Option<u32>,
    /// An offset into the results.
    #[serde(rename = "$skip")]
    pub skip: Option<u64>,
    /// Include the count of all the items.
    #[serde(rename = "$count")]
    pub count: Option<bool>,
}

/// `GET /users` (SDK `UsersGetResponse`).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct UserList {
    pub count: Option<u64>,
    pub values: Vec<User>,
}

/// `GET /users/groups` (SDK `UserGroupGetResponse`).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct GroupList {
    pub count: Option<u64>,
    pub values: Vec<UserGroup>,
}

/// A user as a request gives one (`POST /users`' `user`, `PUT /user/{id}`): the `User`
/// model's fields, each optional; read-only ones (`id`, `createdBy`, `createdAt`,
/// `deletedAt`) are ignored. Texts may be given as numbers (`phone`).
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UserInput {
    #[schema(value_type = Option<String>)]
    pub username: Option<Value>,
    #[schema(value_type = Option<String>)]
    pub domain: Option<Value>,
    /// it, en, es, fr.
    #[schema(value_type = Option<String>)]
    pub language: Option<Value>,
    #[schema(value_type = Option<String>)]
    pub name: Option<Value>,
    #[schema(value_type = Option<String>)]
    pub surname: Option<Value>,
    #[schema(value_type = Option<String>)]
    pub email: Option<Value>,
    #[schema(value_type = Option<String>)]
    pub phone: Option<Value>,
    /// admin, instructor, signer.
    #[schema(value_type = Option<String>)]
    pub role: Option<Value>,
    /// `{id}` or `{name, domain}` of existing groups.
    #[schema(value_type = Option<Vec<Object>>)]
    pub groups: Option<Value>,
    #[schema(value_type = Option<Vec<String>>)]
    pub capabilities: Option<Value>,
    #[schema(value_type = Option<bool>)]
    pub automatic: Option<Value>,
    #[schema(value_type = Option<Object>)]
    pub extra_data: Option<Value>,
    #[schema(value_type = Option<Object>)]
    pub template_data: Option<Value>,
}

/// `POST /users` (SDK `CreateUserRequest`).
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct NewUserInput {
    pub user: Option<UserInput>,
    /// Without it, the user is mailed a link to choose one.
    #[schema(value_type = Option<String>)]
    pub password: Option<Value>,
}

/// An item of `POST /users/groups`.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct GroupInput {
    pub id: Option<i64>,
    pub name: Option<String>,
    pub domain: Option<String>,
}

/// `?enabled=true|false`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct EnabledQuery {
    /// If true the user is enabled, else disabled.
    pub enabled: Option<String>,
}

/// `?newRole=admin|instructor|signer`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct RoleQuery {
    /// admin, instructor or signer.
    #[serde(rename = "newRole")]
    pub new_role: Option<String>,
}

/// The `{id}` of `/user/{id}…`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Path)]
pub struct UserPath {
    /// The user's UUID.
    pub id: String,
}

/// A note on a DST (`DSTNote`).
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DstNote {
    pub id: i64,
    pub dst_id: String,
    pub user_id: Option<String>,
    pub created_at: String,
    pub text: String,
}

/// A note to write (`POST`) or its new text (`PUT`, the whole `DSTNote`: only `text` counts).
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct NoteInput {
    #[serde(default)]
    pub text: Option<String>,
}

/// An event of a DST's trail (`AuditRecord`).
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AuditRecord {
    #[serde(rename = "_instance_id")]
    pub instance_id: i64,
    pub at: String,
    /// One of the SDK's 15 event names (event_published, event_signature, stage_signed…).
    pub event: String,
    pub signer: Option<SignerRecord>,
    pub value: String,
    pub dst_id: String,
    pub document_id: Option<i64>,
    pub fillable_form_id: Option<i64>,
    pub signature_request_id: Option<i64>,
    pub note_id: Option<i64>,
}

/// Who an audit record is about.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SignerRecord {
    pub name: String,
    pub surname: String,
    pub email: String,
    pub role: Option<String>,
    #[serde(rename = "userUUID")]
    pub user_uuid: Option<String>,
}

/// A DST to create or replace (`POST /DSTs`, `PUT /DST/{id}`, `POST /robot/DSTs`): the DST's
/// own fields; the read-only ones (`id`, `status`, dates, `signatures`…) are ignored.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DstInput {
    #[serde(default)]
    pub title: Option<String>,
    #[serde(default)]
    pub documents: Vec<DocumentInput>,
    /// draft (default) or published (publish at once).
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub expires_at: Option<String>,
    #[serde(default)]
    pub tags: Option<Vec<String>>,
    #[serde(default, deserialize_with = "opt_bool")]
    pub template: Option<bool>,
    #[serde(default, deserialize_with = "opt_bool")]
    pub public_template: Option<bool>,
    #[serde(default)]
    #[schema(value_type = Object)]
    pub extra_data: Option<Value>,
    #[serde(default)]
    pub visible_to: Option<Vec<String>>,
    #[serde(default)]
    pub cc_groups: Option<Vec<String>>,
    #[serde(default)]
    pub cc_users: Option<Vec<String>>,
    #[serde(default, deserialize_with = "opt_bool")]
    pub urgent: Option<bool>,
}

/// A document to create: its PDF given by `resource` (embedded or by URL, as
/// `CreateDocumentResource`) or by `plainDocumentUuid` (a resource of the organisation).
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DocumentInput {
    #[serde(default, deserialize_with = "opt_int")]
    pub id: Option<i64>,
    #[serde(default)]
    pub plain_document_uuid: Option<String>,
    #[serde(default)]
    pub resource: Option<ResourceInput>,
    #[serde(default)]
    pub forms: Vec<Form>,
    #[serde(default)]
    pub signature_requests: Vec<SignatureRequest>,
    #[serde(default)]
    pub signer_groups: Vec<SignerGroup>,
    #[serde(default)]
    #[schema(value_type = Object)]
    pub extra_data: Option<Value>,
}

/// `CreateDocumentResource`.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ResourceInput {
    #[serde(default)]
    pub filename: Option<String>,
    /// PDF_Document (the SDK's model sends it as a one-element list).
    #[serde(default)]
    #[schema(value_type = Object)]
    pub resource_type: Option<Value>,
    #[serde(default)]
    pub title: Option<String>,
    #[serde(default)]
    pub source: Option<SourceInput>,
}

/// `CreateDocumentSource`: `Embedded` (`embeddedData`, base64) or `URL` (`sourceURL`).
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct SourceInput {
    #[serde(rename = "type", default)]
    pub kind: Option<String>,
    #[serde(rename = "embeddedData", default)]
    pub embedded_data: Option<String>,
    #[serde(rename = "sourceURL", default)]
    pub source_url: Option<String>,
}

/// `InstantiateDSTTemplate` (`POST /robot/DST/{id}/instantiate`): changes to the template's
/// DST and who plays each of its roles.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct InstantiateInput {
    #[serde(default)]
    pub template_patches: Option<DstInput>,
    #[serde(default)]
    pub roles_mapping: Vec<RoleMapping>,
}

/// A role of a template (a signer's `templateLabel`) and who plays it.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RoleMapping {
    #[serde(default)]
    pub role_name: Option<String>,
    pub signer: Signer,
}

/// `POST /DST/{id}/instantiate/byFile`: the group made and its DSTs; the rows that could
/// not be used in `errors` (not in the seed: the SDKs ignore keys they do not know).
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct InstantiatedByFile {
    pub instantiation_group: Option<String>,
    pub title: String,
    #[serde(rename = "dstIDs")]
    pub dst_ids: Vec<String>,
    pub errors: Vec<RowError>,
}

/// A row of a spreadsheet that could not be used.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RowError {
    /// 1-based, the header being row 1.
    pub row: usize,
    pub column: Option<String>,
    pub message: String,
}

/// An item of `GET /DSTs/byFile`.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct InstantiationGroup {
    pub instantiation_group_id: String,
    pub template_id: Option<String>,
    pub title: String,
    pub generated_at: String,
    pub group_size: u64,
    pub in_state_signed: u64,
    pub in_state_error: u64,
    pub in_state_rejected: u64,
    pub in_state_expired: u64,
}

/// `GET /DSTs/byFile`: `values` first, as in the seed.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct InstantiationGroups {
    pub values: Vec<InstantiationGroup>,
    pub count: Option<u64>,
}

/// `RobotAuthenticationToken`.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RobotToken {
    pub access_token: String,
}

/// `RobotConfiguration`: headers and credentials for the files the robot names by URL (and
/// its webhook deliveries), and its webhook URL. The password is never shown back.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RobotConfiguration {
    #[serde(default)]
    pub request_headers: std::collections::BTreeMap<String, Vec<String>>,
    #[serde(default)]
    pub authentication: Option<RobotAuthentication>,
    #[serde(default)]
    pub webhooks: Option<RobotWebhooks>,
}

/// The robot's HTTP credentials (`authMode` basic; digest is refused).
#[derive(Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RobotAuthentication {
    #[serde(default)]
    pub username: Option<String>,
    #[serde(default)]
    pub password: Option<String>,
    #[serde(default)]
    pub auth_mode: Option<String>,
    #[serde(default)]
    pub client_key: Option<String>,
    #[serde(default)]
    pub client_cert: Option<String>,
}

impl std::fmt::Debug for RobotAuthentication {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RobotAuthentication")
            .field("username", &self.username)
            .field("auth_mode", &self.auth_mode)
            .finish_non_exhaustive()
    }
}

/// Where the robot's DST status changes go.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
pub struct RobotWebhooks {
    #[serde(default)]
    pub dst: Option<String>,
}

/// `DSTStatusChangedNotification`: the body of a robot's webhook.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DstStatusChanged {
    /// toFill, toSign, expired, performed, error.
    pub status: String,
    pub dst: String,
    pub reason: Option<String>,
}

/// A number or a numeric string (`10`, `"10.14"`); anything else is refused.
fn opt_num<'de, D: Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
    match Option::<Value>::deserialize(d)? {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => Ok(n.as_f64()),
        Some(Value::String(s)) => s
            .trim()
            .parse::<f64>()
            .ok()
            .filter(|f| f.is_finite())
            .map(Some)
            .ok_or_else(|| serde::de::Error::custom(format!("{s:?} is not a number"))),
        Some(other) => Err(serde::de::Error::custom(format!("{other} is not a number"))),
    }
}

/// An integer or an integer string (`1`, `"1"`).
fn opt_int<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    match Option::<Value>::deserialize(d)? {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => n
            .as_i64()
            .or_else(|| n.as_f64().filter(|f| f.fract() == 0.0).map(|f| f as i64))
            .map(Some)
            .ok_or_else(|| serde::de::Error::custom(format!("{n} is not an integer"))),
        Some(Value::String(s)) => s
            .trim()
            .parse::<i64>()
            .map(Some)
            .map_err(|_| serde::de::Error::custom(format!("{s:?} is not an integer"))),
        Some(other) => Err(serde::de::Error::custom(format!(
            "{other} is not an integer"
        ))),
    }
}

/// A boolean or `"true"`/`"false"` (any case).
fn opt_bool<'de, D: Deserializer<'de>>(d: D) -> Result<Option<bool>, D::Error> {
    match Option::<Value>::deserialize(d)? {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(b)),
        Some(Value::String(s)) if s.eq_ignore_ascii_case("true") => Ok(Some(true)),
        Some(Value::String(s)) if s.eq_ignore_ascii_case("false") => Ok(Some(false)),
        Some(other) => Err(serde::de::Error::custom(format!(
            "{other} is not a boolean"
        ))),
    }
}

/// A string, or a number written as one (a phone number given as a JSON number).
fn opt_text<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    match Option::<Value>::deserialize(d)? {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(Value::Number(n)) => Ok(Some(n.to_string())),
        Some(other) => Err(serde::de::Error::custom(format!("{other} is not a text"))),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn numbers_may_be_written_as_strings() {
        let f: Form = serde_json::from_value(serde_json::json!({
            "id": 1, "positionX": "10.00", "positionY": 10.14, "width": "10.1",
            "page": "1", "toFill": "False", "extraData": {"signatureRequestId": 1}
        }))
        .unwrap();
        assert_eq!(f.position_x, Some(10.0));
        assert_eq!(f.page, Some(1));
        assert_eq!(f.to_fill, Some(false));
        let bad = serde_json::from_value::<Form>(serde_json::json!({"positionX": "left"}));
        assert!(bad.unwrap_err().to_string().contains("not a number"));
    }
}
