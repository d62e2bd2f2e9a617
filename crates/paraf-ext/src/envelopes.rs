//! Envelopes through `/ext/v1`: the envelope core's resource model — documents, recipients in
//! ordered groups, fields — made, edited while a draft, sent, cancelled, reminded, downloaded
//! and audited. Every call needs a signed-in session (access token and `x-user-token`) of an
//! `admin` (every envelope of the organisation made through this API) or an `instructor` (the
//! envelopes they made); a `signer` is refused. Another organisation's envelope, or another
//! instructor's, is "not found".

use axum::body::Bytes;
use axum::extract::{FromRequestParts, Query, RawPathParams, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use paraf_core::domain::{
    Email, Envelope, EnvelopeFilter, EnvelopeHeader, EnvelopeId, EnvelopeOrder, EnvelopeQuery,
    EnvelopeStatus, FieldKind, FieldUnit, NewField, NewRecipient, Recipient, Role, SecondFactor,
    SignatureModel, Timestamp,
};
use paraf_core::envelopes::{Draft, DraftDocument, LANGUAGES, MAX_DOCUMENT_BYTES};
use paraf_core::CoreError;
use paraf_http::outbound::OutboundError;
use paraf_http::state::AppState;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::auth::{session, Session};
use crate::conventions::Ext;
use crate::reply::{Lang, Msg, Reply};
use crate::wire::*;

/// The face recorded on envelopes made here (lists show only these).
pub const FACE: &str = "ext";

/// A refusal, ready to answer.
pub(crate) type Refusal = Response;

/// `400 INVALID_FIELD` naming `field`.
pub(crate) fn invalid(lang: Lang, field: &str, reason: impl Into<String>) -> Reply {
    Reply::err(lang, Msg::InvalidField).with_data(json!({"field": field, "reason": reason.into()}))
}

/// The JSON body as `T` (an empty body is `T::default()`); a syntax error or an unknown
/// field is `400` naming the body.
pub(crate) fn body_of<T: DeserializeOwned + Default>(lang: Lang, body: &Bytes) -> Result<T, Reply> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(T::default());
    }
    serde_json::from_slice(body).map_err(|e| invalid(lang, "body", e.to_string()))
}

/// A core refusal, with the core's field names in the API's words.
pub(crate) fn core_refusal(lang: Lang, e: CoreError) -> Refusal {
    let mut r = Reply::from_core(lang, e);
    if let Some(field) = r.data.get("field").and_then(Value::as_str) {
        let renamed = match field {
            "signers" => "recipients",
            "pdf" => "documents",
            other => other,
        };
        r.data["field"] = json!(renamed);
    }
    r.into_response()
}

/// `data` of type `T` in the envelope.
pub(crate) fn ok<T: Serialize>(lang: Lang, data: &T) -> Response {
    match serde_json::to_value(data) {
        Ok(v) => Reply::ok(lang, v).into_response(),
        Err(e) => core_refusal(lang, CoreError::internal(e)),
    }
}

/// The session of someone who sends envelopes (admin or instructor).
pub(crate) async fn sender(
    state: &AppState,
    ext: &Ext,
    headers: &HeaderMap,
) -> Result<Session, Refusal> {
    let s = session(state, ext, headers).await?;
    if s.role == Role::Signer {
        return Err(Reply::err(ext.lang, Msg::Forbidden).into_response());
    }
    Ok(s)
}

/// The envelope `uuid` of the caller's organisation that the caller may see, with its
/// recipients.
pub(crate) async fn load(
    state: &AppState,
    s: &Session,
    lang: Lang,
    uuid: &str,
) -> Result<(Envelope, Vec<Recipient>), Refusal> {
    let (e, r) = state
        .core
        .envelope_by_uuid(s.p.org, uuid)
        .await
        .map_err(|e| core_refusal(lang, e))?;
    // Envelopes of this API only: another face's (the console, a dialect) keeps its own
    // rules there.
    let mine = s.role == Role::Admin || e.header.created_by == Some(s.user);
    if e.deleted_at.is_some() || !mine || e.header.face != FACE {
        return Err(Reply::err(lang, Msg::NotFound).into_response());
    }
    Ok((e, r))
}

/// Extractor: the request's signed-in sender (admin or instructor) — or the refusal.
pub struct Sender {
    pub s: Session,
    pub lang: Lang,
}

impl FromRequestParts<AppState> for Sender {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let Some(ext) = parts.extensions.get::<Ext>().cloned() else {
            return Err(Reply::err(Lang::Id, Msg::Internal).into_response());
        };
        let s = sender(state, &ext, &parts.headers).await?;
        Ok(Sender { s, lang: ext.lang })
    }
}

/// Extractor: the sender and the envelope `{id}` of the path that they may see, with its
/// recipients.
pub struct Owned {
    pub s: Session,
    pub lang: Lang,
    pub e: Envelope,
    pub recipients: Vec<Recipient>,
}

impl FromRequestParts<AppState> for Owned {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let Sender { s, lang } = Sender::from_request_parts(parts, state).await?;
        let params = RawPathParams::from_request_parts(parts, state)
            .await
            .map_err(IntoResponse::into_response)?;
        let Some((_, id)) = params.iter().find(|(k, _)| *k == "id") else {
            return Err(Reply::err(lang, Msg::NotFound).into_response());
        };
        let (e, recipients) = load(state, &s, lang, id).await?;
        Ok(Owned {
            s,
            lang,
            e,
            recipients,
        })
    }
}

/// `e` read again and shown whole.
pub(crate) async fn shown(state: &AppState, lang: Lang, e: &Envelope) -> Response {
    let (e, recipients) = match state.core.envelope(e.org, e.id).await {
        Ok(x) => x,
        Err(err) => return core_refusal(lang, err),
    };
    match view(state, lang, &e, &recipients).await {
        Ok(v) => ok(lang, &v),
        Err(r) => r,
    }
}

/// The whole envelope as the API shows it.
pub(crate) async fn view(
    state: &AppState,
    lang: Lang,
    e: &Envelope,
    recipients: &[Recipient],
) -> Result<EnvelopeOut, Refusal> {
    let (docs, fields) = state
        .core
        .envelope_contents(e)
        .await
        .map_err(|err| core_refusal(lang, err))?;
    Ok(EnvelopeOut::of(e, recipients, &docs, &fields))
}

/// `reminder_days`: 1–365, or 0 / absent for none.
fn reminder_days(lang: Lang, v: Option<u32>) -> Result<Option<u32>, Reply> {
    match v {
        None | Some(0) => Ok(None),
        Some(d) if d <= 365 => Ok(Some(d)),
        Some(_) => Err(invalid(lang, "reminder_days", "from 0 (none) to 365")),
    }
}

pub(crate) fn parse_time(
    lang: Lang,
    field: &str,
    raw: &str,
    now: Timestamp,
) -> Result<Timestamp, Reply> {
    let t = chrono::DateTime::parse_from_rfc3339(raw.trim())
        .map_err(|_| invalid(lang, field, "must be an RFC 3339 date-time"))?
        .with_timezone(&chrono::Utc);
    if t <= now {
        return Err(invalid(lang, field, "must be in the future"));
    }
    Ok(t)
}

fn metadata_of(lang: Lang, m: Option<Value>) -> Result<Value, Reply> {
    match m {
        None | Some(Value::Null) => Ok(json!({})),
        Some(v @ Value::Object(_)) => {
            if v.to_string().len() > 16 * 1024 {
                return Err(invalid(lang, "metadata", "at most 16 KiB of JSON"));
            }
            Ok(v)
        }
        Some(_) => Err(invalid(lang, "metadata", "must be a JSON object")),
    }
}

/// Documents an envelope may hold.
pub const MAX_DOCUMENTS: usize = 20;
/// Bytes fetched from URLs for one request, all documents together.
const MAX_FETCHED_BYTES: usize = 100 * 1024 * 1024;

/// A fetch failure in words that never reveal where a name resolved to.
fn fetch_reason(e: &OutboundError) -> String {
    match e {
        OutboundError::Refused(_) => {
            "the address is not allowed (private, loopback, link-local or not http/https)".into()
        }
        OutboundError::TooLarge(n) => format!("larger than {n} bytes"),
        OutboundError::Timeout => "no answer in time".into(),
        OutboundError::Status(code) => format!("the server answered HTTP {code}"),
        OutboundError::Transport(_) => "cannot be fetched".into(),
    }
}

/// The name of a file at `url`: its last path segment when it is a `.pdf`, without query or
/// fragment.
fn name_in_url(url: &str) -> Option<String> {
    let path = url.split(['?', '#']).next()?;
    let last = path.rsplit('/').next()?.trim();
    let ok = last.to_ascii_lowercase().ends_with(".pdf")
        && last.len() > 4
        && last.chars().count() <= 200
        && !last.contains('%');
    ok.then(|| last.to_string())
}

/// The documents given — base64 content, or a URL fetched through the outbound guard —
/// named `documents[i]` in refusals; `have` documents are in the envelope already.
pub(crate) async fn documents_of(
    state: &AppState,
    lang: Lang,
    list: Vec<DocumentIn>,
    have: usize,
) -> Result<Vec<DraftDocument>, Refusal> {
    if have + list.len() > MAX_DOCUMENTS {
        return Err(invalid(
            lang,
            "documents",
            format!("an envelope holds at most {MAX_DOCUMENTS} documents"),
        )
        .into());
    }
    let mut out = Vec::with_capacity(list.len());
    let mut fetched = 0usize;
    for (i, d) in list.into_iter().enumerate() {
        let f = |n: &str| format!("documents[{i}].{n}");
        let default_name = format!("document-{}.pdf", have + i + 1);
        let source = if d.url.is_some() { "url" } else { "content" };
        let (bytes, default_name) = match (d.content, d.url) {
            (Some(c), None) => {
                let bytes = base64::engine::general_purpose::STANDARD
                    .decode(c.trim())
                    .map_err(|_| invalid(lang, &f("content"), "must be base64"))?;
                (bytes, default_name)
            }
            (None, Some(url)) => {
                let room = MAX_FETCHED_BYTES
                    .saturating_sub(fetched)
                    .min(MAX_DOCUMENT_BYTES);
                let got = state
                    .outbound
                    .fetch(url.trim(), room as u64)
                    .await
                    .map_err(|e| invalid(lang, &f("url"), fetch_reason(&e)))?;
                fetched += got.bytes.len();
                (got.bytes, name_in_url(url.trim()).unwrap_or(default_name))
            }
            _ => {
                return Err(invalid(
                    lang,
                    &f("content"),
                    "give either content (base64 PDF) or url",
                )
                .into())
            }
        };
        if bytes.len() > MAX_DOCUMENT_BYTES {
            return Err(invalid(lang, &f(source), "larger than 50 MB").into());
        }
        if !paraf_core::documents::has_pdf_header(&bytes) {
            return Err(invalid(lang, &f(source), "is not a PDF").into());
        }
        let name = d
            .name
            .map(|n| n.trim().to_string())
            .filter(|n| !n.is_empty())
            .unwrap_or(default_name);
        if name.chars().count() > 200 {
            return Err(invalid(lang, &f("name"), "at most 200 characters").into());
        }
        out.push(DraftDocument { name, bytes });
    }
    Ok(out)
}

pub(crate) fn recipients_of(
    lang: Lang,
    list: Vec<RecipientIn>,
) -> Result<Vec<NewRecipient>, Reply> {
    let mut out = Vec::with_capacity(list.len());
    for (i, r) in list.into_iter().enumerate() {
        let f = |n: &str| format!("recipients[{i}].{n}");
        let email = r.email.unwrap_or_default();
        let email = Email::parse(email.trim())
            .map_err(|_| invalid(lang, &f("email"), "not an e-mail address"))?;
        let name = |v: Option<String>, n: &str| -> Result<String, Reply> {
            let v = v.unwrap_or_default().trim().to_string();
            if v.chars().count() > 100 {
                return Err(invalid(lang, &f(n), "at most 100 characters"));
            }
            Ok(v)
        };
        let first_name = name(r.first_name, "first_name")?;
        let last_name = name(r.last_name, "last_name")?;
        if first_name.is_empty() && last_name.is_empty() {
            return Err(invalid(lang, &f("first_name"), "a name is needed"));
        }
        let language = r
            .language
            .unwrap_or_else(|| "id".into())
            .trim()
            .to_ascii_lowercase();
        if !LANGUAGES.contains(&language.as_str()) {
            return Err(invalid(lang, &f("language"), "one of id, en, fr, it, es"));
        }
        let second_factor = match r.second_factor.as_deref().map(str::trim) {
            None | Some("") | Some("none") => SecondFactor::None,
            Some("mail") => SecondFactor::Mail,
            Some("sms") => SecondFactor::Sms,
            Some(_) => return Err(invalid(lang, &f("second_factor"), "one of none, mail, sms")),
        };
        let mobile = r
            .mobile
            .map(|m| m.trim().to_string())
            .filter(|m| !m.is_empty());
        if second_factor == SecondFactor::Sms && mobile.is_none() {
            return Err(invalid(
                lang,
                &f("mobile"),
                "needed for the sms second factor",
            ));
        }
        let group = r.group.unwrap_or(1);
        if group == 0 {
            return Err(invalid(lang, &f("group"), "groups are numbered from 1"));
        }
        out.push(NewRecipient {
            email,
            first_name,
            last_name,
            group,
            language,
            mobile,
            second_factor,
        });
    }
    Ok(out)
}

/// The fields given, for an envelope of `docs` documents and `recipients` recipients.
pub(crate) fn fields_of(
    lang: Lang,
    list: Vec<FieldIn>,
    docs: usize,
    recipients: usize,
) -> Result<Vec<NewField>, Reply> {
    let mut out = Vec::with_capacity(list.len());
    let mut counts: std::collections::HashMap<(usize, &'static str), u32> = Default::default();
    for (i, x) in list.into_iter().enumerate() {
        let f = |n: &str| format!("fields[{i}].{n}");
        let pos = |v: Option<u32>, n: &str| -> Result<usize, Reply> {
            v.filter(|p| *p >= 1)
                .map(|p| p as usize - 1)
                .ok_or_else(|| invalid(lang, &f(n), "a position from 1 is needed"))
        };
        let document = pos(x.document, "document")?;
        let recipient = pos(x.recipient, "recipient")?;
        if document >= docs {
            return Err(invalid(
                lang,
                &f("document"),
                format!("the envelope has {docs} documents"),
            ));
        }
        if recipient >= recipients {
            return Err(invalid(
                lang,
                &f("recipient"),
                format!("the envelope has {recipients} recipients"),
            ));
        }
        let kind = match x.kind.as_deref().map(str::trim) {
            None | Some("") => FieldKind::Signature,
            Some(k) => FieldKind::from_db(k).ok_or_else(|| {
                invalid(
                    lang,
                    &f("kind"),
                    "one of signature, initials, text, date, checkbox",
                )
            })?,
        };
        let page = x
            .page
            .filter(|p| *p >= 1)
            .ok_or_else(|| invalid(lang, &f("page"), "a page from 1 is needed"))?;
        let num = |v: Option<f64>, n: &str| -> Result<f64, Reply> {
            v.filter(|v| v.is_finite())
                .ok_or_else(|| invalid(lang, &f(n), "a number is needed"))
        };
        let (x0, y0, w, h) = (
            num(x.x, "x")?,
            num(x.y, "y")?,
            num(x.width, "width")?,
            num(x.height, "height")?,
        );
        if w <= 0.0 || h <= 0.0 {
            return Err(invalid(
                lang,
                &f("width"),
                "width and height must be positive",
            ));
        }
        // PDF pages are at most 14 400 points a side.
        let inside = |v: f64, n: &str| -> Result<(), Reply> {
            if (0.0..=14_400.0).contains(&v) {
                Ok(())
            } else {
                Err(invalid(lang, &f(n), "must be on the page (0 to 14400)"))
            }
        };
        inside(x0, "x")?;
        inside(y0, "y")?;
        inside(x0 + w, "width")?;
        inside(y0 + h, "height")?;
        let (unit, rect) = match x.unit.as_deref().map(str::trim) {
            None | Some("") | Some("pt") => (FieldUnit::Points, [x0, y0, x0 + w, y0 + h]),
            Some("percent") => (FieldUnit::Percent, [x0, y0, w, h]),
            Some(_) => return Err(invalid(lang, &f("unit"), "pt or percent")),
        };
        let n = counts.entry((document, kind.as_str())).or_insert(0);
        *n += 1;
        let name = x
            .name
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| format!("{}{}", kind.as_str(), n));
        out.push(NewField {
            document,
            recipient,
            kind,
            name,
            required: x.required.unwrap_or(true),
            page,
            rect,
            unit,
        });
    }
    Ok(out)
}

/// Sets or clears the placement option: hand-placed fields kept as given (`true`), or tags
/// and summary pages placed anew from the text (`false`).
pub(crate) fn set_placement(options: &mut Value, given: bool) {
    if !options.is_object() {
        *options = json!({});
    }
    if let Some(o) = options.as_object_mut() {
        o.remove("summary_page");
        if given {
            o.insert(
                "placement".into(),
                json!(paraf_core::envelopes::PLACE_AS_GIVEN),
            );
        } else {
            o.remove("placement");
        }
    }
}

fn given_placement(e: &Envelope) -> bool {
    e.header.options.get("placement").and_then(Value::as_str)
        == Some(paraf_core::envelopes::PLACE_AS_GIVEN)
}

/// A draft (or template) from a request body.
pub(crate) async fn draft_from(
    state: &AppState,
    lang: Lang,
    s: &Session,
    b: EnvelopeIn,
    template: bool,
) -> Result<Draft, Refusal> {
    let now = state.core.now();
    let documents = documents_of(state, lang, b.documents, 0).await?;
    let recipients = recipients_of(lang, b.recipients)?;
    // No fields, or an empty list: tags (or summary pages) place them.
    let given = b.fields.as_ref().is_some_and(|f| !f.is_empty());
    let fields = fields_of(
        lang,
        b.fields.unwrap_or_default(),
        documents.len(),
        recipients.len(),
    )?;
    let model = match b.model.as_deref().map(str::trim) {
        None | Some("") | Some("signer_certificate") => SignatureModel::SignerCertificate,
        Some("seal") => SignatureModel::Seal,
        Some(_) => return Err(invalid(lang, "model", "signer_certificate or seal").into()),
    };
    let expires_at = match b.expires_at.as_deref() {
        Some(raw) => Some(parse_time(lang, "expires_at", raw, now)?),
        None => None,
    };
    let title = b
        .title
        .map(|t| t.trim().to_string())
        .filter(|t| !t.is_empty())
        .or_else(|| {
            documents
                .first()
                .map(|d| d.name.trim_end_matches(".pdf").to_string())
        })
        .unwrap_or_else(|| "Envelope".into());
    if title.chars().count() > 200 {
        return Err(invalid(lang, "title", "at most 200 characters").into());
    }
    let mut options = json!({});
    set_placement(&mut options, given);
    if b.mail_invitations == Some(false) {
        options["mail_invitations"] = json!(false);
    }
    let me = state
        .core
        .user(s.p.org, s.user)
        .await
        .map_err(|e| core_refusal(lang, e))?;
    Ok(Draft {
        header: EnvelopeHeader {
            title,
            model,
            sender_email: me.email,
            created_by: Some(s.user),
            face: FACE.into(),
            metadata: metadata_of(lang, b.metadata)?,
            options,
            expires_at,
            reminder_days: reminder_days(lang, b.reminder_days)?,
            template,
        },
        documents,
        recipients,
        fields,
        logo: None,
    })
}

/// `GET /ext/v1/envelopes` query.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// Comma-separated statuses (`draft`, `sent`, `in_progress`, `completed`, …).
    pub status: Option<String>,
    /// Text the title contains (case-insensitive).
    pub q: Option<String>,
    /// At most this many (1–100, default 20).
    pub limit: Option<u32>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// The cursor after envelope `id` (opaque to clients; it stays valid when that envelope is
/// deleted).
fn cursor_of(id: EnvelopeId) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("after:{}", id.0))
}

fn cursor_id(c: &str) -> Option<EnvelopeId> {
    let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(c.trim())
        .ok()?;
    let n: i64 = std::str::from_utf8(&raw)
        .ok()?
        .strip_prefix("after:")?
        .parse()
        .ok()?;
    (n > 0).then_some(EnvelopeId(n))
}

/// A list of envelopes or templates.
pub(crate) async fn list_of(
    state: &AppState,
    lang: Lang,
    s: &Session,
    q: ListQuery,
    template: bool,
) -> Response {
    let mut filters = Vec::new();
    if let Some(st) = q.status.as_deref().filter(|v| !v.trim().is_empty()) {
        let mut list = Vec::new();
        for name in st.split(',').map(str::trim).filter(|n| !n.is_empty()) {
            match EnvelopeStatus::from_db(name) {
                Some(v) => list.push(v),
                None => {
                    return invalid(lang, "status", format!("unknown status {name:?}"))
                        .into_response()
                }
            }
        }
        filters.push(EnvelopeFilter::Status(true, list));
    }
    if let Some(text) = q.q.as_deref().map(str::trim).filter(|v| !v.is_empty()) {
        filters.push(EnvelopeFilter::TitleContains(true, text.to_string()));
    }
    if let Some(c) = q.cursor.as_deref().filter(|c| !c.is_empty()) {
        match cursor_id(c) {
            Some(id) => filters.push(EnvelopeFilter::Before(id)),
            None => return invalid(lang, "cursor", "not a cursor of this list").into_response(),
        }
    }
    let limit = q.limit.unwrap_or(20);
    if !(1..=100).contains(&limit) {
        return invalid(lang, "limit", "from 1 to 100").into_response();
    }
    let query = EnvelopeQuery {
        org: s.p.org,
        face: FACE.into(),
        template: Some(template),
        created_by: (s.role != Role::Admin).then_some(s.user),
        filter: Some(EnvelopeFilter::All(filters)),
        order: EnvelopeOrder::Created,
        descending: true,
        offset: 0,
        limit: limit + 1,
    };
    let (mut items, _) = match state.core.envelope_query(&query, false).await {
        Ok(x) => x,
        Err(e) => return core_refusal(lang, e),
    };
    let more = items.len() > limit as usize;
    items.truncate(limit as usize);
    let next_cursor = more
        .then(|| items.last())
        .flatten()
        .map(|e| cursor_of(e.id));
    ok(
        lang,
        &EnvelopeList {
            items: items.iter().map(EnvelopeSummary::of).collect(),
            next_cursor,
        },
    )
}

/// Lists envelopes, newest first.
#[utoipa::path(get, path = "/ext/v1/envelopes", tag = "ext", params(ListQuery),
    responses((status = 200, description = "data: a page of envelopes", body = EnvelopeList),
        (status = 400, description = "INVALID_FIELD: status, limit or cursor"),
        (status = 401, description = "MISSING_TOKEN, MISSING_USER_TOKEN, INVALID_TOKEN"),
        (status = 403, description = "FORBIDDEN: a signer")))]
pub async fn list(
    State(state): State<AppState>,
    caller: Sender,
    Query(q): Query<ListQuery>,
) -> Response {
    list_of(&state, caller.lang, &caller.s, q, false).await
}

/// Creates an envelope (a draft, or sent at once with `send: true`).
#[utoipa::path(post, path = "/ext/v1/envelopes", tag = "ext", request_body = EnvelopeIn,
    responses((status = 201, description = "data: the envelope (a draft)", body = EnvelopeOut),
        (status = 200, description = "with send: the envelope and every recipient's link", body = SentOut),
        (status = 400, description = "INVALID_FIELD naming the field (e.g. recipients[0].email)"),
        (status = 401, description = "MISSING_TOKEN, MISSING_USER_TOKEN, INVALID_TOKEN"),
        (status = 403, description = "FORBIDDEN: a signer")))]
pub async fn create(State(state): State<AppState>, caller: Sender, body: Bytes) -> Response {
    let (lang, s) = (caller.lang, &caller.s);
    let b: EnvelopeIn = match body_of(lang, &body) {
        Ok(b) => b,
        Err(r) => return r.into_response(),
    };
    let send = b.send;
    if send && (b.documents.is_empty() || b.recipients.is_empty()) {
        let field = if b.documents.is_empty() {
            "documents"
        } else {
            "recipients"
        };
        return invalid(lang, field, "at least one is needed to send").into_response();
    }
    let draft = match draft_from(&state, lang, s, b, false).await {
        Ok(d) => d,
        Err(r) => return r,
    };
    let e = match state.core.create_envelope(s.p.org, draft, &s.actor).await {
        Ok(e) => e,
        Err(e) => return core_refusal(lang, e),
    };
    if send {
        return send_now(&state, lang, s, e, true).await;
    }
    created(&state, lang, &e).await
}

pub(crate) async fn created(state: &AppState, lang: Lang, e: &Envelope) -> Response {
    let mut r = shown(state, lang, e).await;
    if r.status() == StatusCode::OK {
        *r.status_mut() = StatusCode::CREATED;
    }
    r
}

/// Whether `e`, a draft before this request, is one no longer (it was sent by it).
async fn went_out(state: &AppState, e: &Envelope) -> bool {
    e.status == EnvelopeStatus::Draft
        && !e.header.template
        && matches!(state.core.envelope(e.org, e.id).await, Ok((now, _)) if now.status != EnvelopeStatus::Draft)
}

/// Sends `e`; `fresh`: it was made by this request, so a refusal deletes it (nothing half
/// made stays behind).
pub(crate) async fn send_now(
    state: &AppState,
    lang: Lang,
    s: &Session,
    e: Envelope,
    fresh: bool,
) -> Response {
    let links = match state.core.send_envelope(s.p.org, e.id, &s.actor).await {
        Ok(l) => l,
        Err(err) if went_out(state, &e).await => {
            // It went out and then something failed (a mail, say): the envelope is
            // answered without links — each is at …/recipients/{n}/link.
            tracing::warn!(error = %err, envelope = %e.uuid, "ext: sent, then a failure");
            Vec::new()
        }
        Err(err) => {
            if fresh {
                if let Err(del) = state.core.delete_draft(s.p.org, e.id, &s.actor).await {
                    tracing::warn!(error = %del, "ext: an unsent new draft could not be deleted");
                }
            }
            return core_refusal(lang, err);
        }
    };
    let (e, recipients) = match state.core.envelope(s.p.org, e.id).await {
        Ok(x) => x,
        Err(err) => return core_refusal(lang, err),
    };
    let envelope = match view(state, lang, &e, &recipients).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    crate::reply::given_once(ok(
        lang,
        &SentOut {
            envelope,
            links: links
                .into_iter()
                .map(|l| LinkOut {
                    recipient: l.recipient.position,
                    email: l.recipient.email.as_str().into(),
                    url: l.url,
                })
                .collect(),
        },
    ))
}

/// An envelope.
#[utoipa::path(get, path = "/ext/v1/envelopes/{id}", tag = "ext",
    params(("id" = String, Path, description = "The envelope's public id")),
    responses((status = 200, description = "data: the envelope", body = EnvelopeOut),
        (status = 404, description = "NOT_FOUND")))]
pub async fn get_one(State(state): State<AppState>, o: Owned) -> Response {
    let lang = o.lang;
    let (e, r) = (&o.e, &o.recipients);
    match view(&state, lang, e, r).await {
        Ok(v) => ok(lang, &v),
        Err(r) => r,
    }
}

/// Deletes an envelope: a draft is gone; one being signed is cancelled first; a finished one
/// leaves every list (its trail and files are kept).
#[utoipa::path(delete, path = "/ext/v1/envelopes/{id}", tag = "ext",
    params(("id" = String, Path, description = "The envelope's public id")),
    responses((status = 200, description = "Deleted"), (status = 404, description = "NOT_FOUND")))]
pub async fn delete(State(state): State<AppState>, o: Owned) -> Response {
    let (lang, s) = (o.lang, &o.s);
    let e = &o.e;
    let done = if e.status == EnvelopeStatus::Draft {
        state.core.delete_draft(s.p.org, e.id, &s.actor).await
    } else {
        state.core.delete_envelope(s.p.org, e.id, &s.actor).await
    };
    match done {
        Ok(()) => Reply::ok(lang, Value::Null).into_response(),
        Err(err) => core_refusal(lang, err),
    }
}

/// `409 CONFLICT` unless the envelope of the path is a draft (or a template).
pub(crate) fn draft_only(o: &Owned) -> Result<(), Reply> {
    if o.e.status == EnvelopeStatus::Draft {
        return Ok(());
    }
    Err(Reply::err(o.lang, Msg::Conflict)
        .with_data(json!({"reason": format!("the envelope is {}, not draft", o.e.status)})))
}

/// Changes a draft with `edit` (its current contents as a [`Draft`]) and answers the draft.
pub(crate) async fn edit_draft(
    state: &AppState,
    o: &Owned,
    edit: impl FnOnce(&mut Draft, &Envelope) -> Result<(), Reply>,
) -> Response {
    let (lang, s, e) = (o.lang, &o.s, &o.e);
    if let Err(r) = draft_only(o) {
        return r.into_response();
    }
    let (e, mut d) = match state.core.draft_of(s.p.org, e.id).await {
        Ok(x) => x,
        Err(err) => return core_refusal(lang, err),
    };
    if !given_placement(&e) {
        // Fields came from tags or summary pages: placed anew for the new contents.
        d.fields.clear();
        set_placement(&mut d.header.options, false);
    }
    if let Err(r) = edit(&mut d, &e) {
        return r.into_response();
    }
    match state.core.replace_draft(s.p.org, e.id, d, &s.actor).await {
        Ok(e) => shown(state, lang, &e).await,
        Err(err) => core_refusal(lang, err),
    }
}

/// Changes a draft's title, expiry, reminders, metadata or invitations.
#[utoipa::path(patch, path = "/ext/v1/envelopes/{id}", tag = "ext", request_body = EnvelopePatch,
    params(("id" = String, Path, description = "The envelope's public id")),
    responses((status = 200, description = "data: the draft", body = EnvelopeOut),
        (status = 409, description = "CONFLICT: not a draft")))]
pub async fn patch(State(state): State<AppState>, o: Owned, body: Bytes) -> Response {
    let lang = o.lang;
    let p: EnvelopePatch = match body_of(lang, &body) {
        Ok(b) => b,
        Err(r) => return r.into_response(),
    };
    let now = state.core.now();
    let expires = match p.expires_at {
        Some(Some(raw)) => match parse_time(lang, "expires_at", &raw, now) {
            Ok(t) => Some(Some(t)),
            Err(r) => return r.into_response(),
        },
        Some(None) => Some(None),
        None => None,
    };
    let metadata = match p.metadata {
        Some(m) => match metadata_of(lang, Some(m)) {
            Ok(m) => Some(m),
            Err(r) => return r.into_response(),
        },
        None => None,
    };
    edit_draft(&state, &o, move |d, _| {
        if let Some(t) = p.title.map(|t| t.trim().to_string()) {
            if t.is_empty() || t.chars().count() > 200 {
                return Err(invalid(lang, "title", "1 to 200 characters"));
            }
            d.header.title = t;
        }
        if let Some(x) = expires {
            d.header.expires_at = x;
        }
        if p.reminder_days.is_some() {
            d.header.reminder_days = reminder_days(lang, p.reminder_days)?;
        }
        if let Some(m) = metadata {
            d.header.metadata = m;
        }
        if let Some(mail) = p.mail_invitations {
            if let Some(o) = d.header.options.as_object_mut() {
                if mail {
                    o.remove("mail_invitations");
                } else {
                    o.insert("mail_invitations".into(), json!(false));
                }
            }
        }
        Ok(())
    })
    .await
}

/// Sends a draft: every recipient gets a link (answered here, once); the first group is
/// invited by mail unless `mail_invitations` is `false`.
#[utoipa::path(post, path = "/ext/v1/envelopes/{id}/send", tag = "ext",
    params(("id" = String, Path, description = "The envelope's public id")),
    responses((status = 200, description = "data: the envelope and the links", body = SentOut),
        (status = 400, description = "INVALID_FIELD: no documents or no recipients"),
        (status = 409, description = "CONFLICT: not a draft, or a template")))]
pub async fn send(State(state): State<AppState>, o: Owned) -> Response {
    let (lang, s) = (o.lang, &o.s);
    send_now(&state, lang, s, o.e.clone(), false).await
}

/// Cancels an envelope not yet finished.
#[utoipa::path(post, path = "/ext/v1/envelopes/{id}/cancel", tag = "ext", request_body = CancelIn,
    params(("id" = String, Path, description = "The envelope's public id")),
    responses((status = 200, description = "data: the envelope", body = EnvelopeOut),
        (status = 409, description = "CONFLICT: already finished")))]
pub async fn cancel(State(state): State<AppState>, o: Owned, body: Bytes) -> Response {
    let (lang, s) = (o.lang, &o.s);
    let c: CancelIn = match body_of(lang, &body) {
        Ok(b) => b,
        Err(r) => return r.into_response(),
    };
    let reason = c.reason.unwrap_or_default();
    if reason.chars().count() > 500 {
        return invalid(lang, "reason", "at most 500 characters").into_response();
    }
    match state
        .core
        .cancel_envelope(s.p.org, o.e.id, &reason, &s.actor)
        .await
    {
        Ok(e) => shown(&state, lang, &e).await,
        Err(err) => core_refusal(lang, err),
    }
}

/// Reminds now everyone whose turn it is and who has not answered.
#[utoipa::path(post, path = "/ext/v1/envelopes/{id}/remind", tag = "ext",
    params(("id" = String, Path, description = "The envelope's public id")),
    responses((status = 200, description = "data: how many were reminded", body = RemindedOut),
        (status = 409, description = "CONFLICT: the envelope does not take signatures")))]
pub async fn remind(State(state): State<AppState>, o: Owned) -> Response {
    let (lang, s) = (o.lang, &o.s);
    let e = &o.e;
    match state.core.remind_now(s.p.org, e.id, &s.actor).await {
        Ok(n) => ok(lang, &RemindedOut { reminded: n as u64 }),
        Err(err) => core_refusal(lang, err),
    }
}

/// `GET …/download` query.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DownloadQuery {
    /// Only this document (1-based position).
    pub document: Option<u32>,
    /// `current` (default: signed as far as the signing has gone) or `original`.
    pub version: Option<String>,
}

/// A file reply (never recorded for replay: a repeated request id is refused).
fn file(bytes: Vec<u8>, content_type: &'static str, name: &str, e: &Envelope) -> Response {
    file_reply(
        (StatusCode::OK, bytes).into_response(),
        content_type,
        name,
        e,
    )
}

/// `r` (a file's `200`) with the file's type, name and the envelope's status.
fn file_reply(mut r: Response, content_type: &'static str, name: &str, e: &Envelope) -> Response {
    let safe: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || ".-_ ".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{safe}\"")) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    if let Ok(v) = HeaderValue::from_str(e.status.as_str()) {
        h.insert("x-envelope-status", v);
    }
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

/// The documents: one as its PDF, several as a ZIP of PDFs — signed (once the envelope is
/// completed, with every signature and the seal) or, with `version=original`, as uploaded.
#[utoipa::path(get, path = "/ext/v1/envelopes/{id}/download", tag = "ext",
    params(("id" = String, Path, description = "The envelope's public id"), DownloadQuery),
    responses((status = 200, description = "application/pdf (one document) or application/zip (several)", content_type = "application/pdf"),
        (status = 404, description = "NOT_FOUND: the envelope or the document")))]
pub async fn download(
    State(state): State<AppState>,
    o: Owned,
    Query(q): Query<DownloadQuery>,
) -> Response {
    let lang = o.lang;
    let e = &o.e;
    let current = match q.version.as_deref().map(str::trim) {
        None | Some("") | Some("current") => true,
        Some("original") => false,
        Some(_) => return invalid(lang, "version", "current or original").into_response(),
    };
    let docs = match state.core.envelope_contents(e).await {
        Ok((d, _)) => d,
        Err(err) => return core_refusal(lang, err),
    };
    let chosen: Vec<_> = match q.document {
        Some(n) => docs.into_iter().filter(|d| d.position == n).collect(),
        None => docs,
    };
    if chosen.is_empty() {
        return Reply::err(lang, Msg::NotFound).into_response();
    }
    if let [one] = &chosen[..] {
        // One document: streamed from the store.
        return match state.core.document_reader(one, current).await {
            Ok(f) => file_reply(
                paraf_http::files::streamed(f),
                "application/pdf",
                &one.name,
                e,
            ),
            Err(err) => core_refusal(lang, err),
        };
    }
    let mut files = Vec::with_capacity(chosen.len());
    for d in &chosen {
        match state.core.document_file(d, current).await {
            Ok(b) => files.push((d.name.clone(), b)),
            Err(err) => return core_refusal(lang, err),
        }
    }
    match zip_of(files) {
        Ok(z) => file(z, "application/zip", &format!("{}.zip", e.uuid), e),
        Err(err) => core_refusal(lang, CoreError::internal(err)),
    }
}

/// The PDFs in a ZIP (stored: PDFs are compressed already), names made unique.
fn zip_of(files: Vec<(String, Vec<u8>)>) -> Result<Vec<u8>, zip::result::ZipError> {
    use std::io::Write as _;
    let mut out = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let opts =
        zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    let mut seen = std::collections::HashSet::new();
    for (name, bytes) in files {
        let base = name.replace(['/', '\\'], "_");
        let mut name = base.clone();
        let mut n = 1;
        while !seen.insert(name.clone()) {
            n += 1;
            name = format!("{n}-{base}");
        }
        out.start_file(name, opts)?;
        out.write_all(&bytes)?;
    }
    Ok(out.finish()?.into_inner())
}

/// `GET …/certificate` query.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CertificateQuery {
    /// `pdf` (default: the sealed audit certificate) or `json` (its data).
    pub format: Option<String>,
}

/// The audit certificate of a completed envelope: who signed what, when, from where, the
/// documents' hashes; a PDF sealed by the server's CA (or its JSON).
#[utoipa::path(get, path = "/ext/v1/envelopes/{id}/certificate", tag = "ext",
    params(("id" = String, Path, description = "The envelope's public id"), CertificateQuery),
    responses((status = 200, description = "application/pdf, or application/json with format=json", content_type = "application/pdf"),
        (status = 409, description = "CONFLICT: the envelope is not completed")))]
pub async fn certificate(
    State(state): State<AppState>,
    o: Owned,
    Query(q): Query<CertificateQuery>,
) -> Response {
    let lang = o.lang;
    let e = &o.e;
    let json = match q.format.as_deref().map(str::trim) {
        None | Some("") | Some("pdf") => false,
        Some("json") => true,
        Some(_) => return invalid(lang, "format", "pdf or json").into_response(),
    };
    if e.status != EnvelopeStatus::Completed || e.proof.is_none() {
        return Reply::err(lang, Msg::Conflict)
            .with_data(json!({"reason": format!("the envelope is {}, not completed", e.status)}))
            .into_response();
    }
    match state.core.envelope_proof(e).await {
        Ok((_, j)) if json => match serde_json::from_slice::<Value>(&j) {
            Ok(v) => Reply::ok(lang, v).into_response(),
            Err(err) => core_refusal(lang, CoreError::internal(err)),
        },
        Ok((pdf, _)) => file(
            pdf,
            "application/pdf",
            &format!("{}-certificate.pdf", e.uuid),
            e,
        ),
        Err(err) => core_refusal(lang, err),
    }
}

/// The envelope's audit trail, oldest first.
#[utoipa::path(get, path = "/ext/v1/envelopes/{id}/audit", tag = "ext",
    params(("id" = String, Path, description = "The envelope's public id")),
    responses((status = 200, description = "data: the records", body = Vec<AuditOut>)))]
pub async fn audit(State(state): State<AppState>, o: Owned) -> Response {
    let (lang, s) = (o.lang, &o.s);
    let e = &o.e;
    match state.core.envelope_trail(s.p.org, e.id).await {
        Ok(list) => ok(
            lang,
            &list
                .into_iter()
                .map(|a| AuditOut {
                    seq: a.seq,
                    at: time(a.at),
                    actor: a.actor,
                    action: a.action,
                    ip: a.ip,
                    details: serde_json::from_str(&a.details).unwrap_or(Value::Null),
                    hash: a.hash,
                    prev_hash: a.prev_hash,
                })
                .collect::<Vec<_>>(),
        ),
        Err(err) => core_refusal(lang, err),
    }
}
