//! A DST's sign plan on the envelope core, both ways.
//!
//! **In**: a [`DstInput`] becomes a core [`Draft`]: one envelope document per DST document,
//! one recipient per distinct signer (by e-mail, a user of the organisation given by
//! `userUUID` or e-mail), whose group is the signer group's rank; `SignatureForm` → a
//! signature field, `TextForm` → a text field (required when `toFill`), `ClauseForm` → a
//! check box to accept; positions in percent of the page (a form that overflows the page is
//! moved back inside, as the seed's own samples overflow). Paraf runs **one** sign plan per
//! DST: a signer must sit in the same group rank in every document that names them.
//!
//! **Out**: the stored [`Plan`] (kept in the envelope's options under `signingtoday`) and the
//! envelope's live state (status, recipients, field values, documents) make the seed's
//! `DigitalSignatureTransaction`.

use std::collections::HashMap;

use base64::Engine as _;
use paraf_core::domain::{
    Email, Envelope, EnvelopeDocument, EnvelopeHeader, EnvelopeStatus, Field, FieldKind, FieldUnit,
    NewField, NewRecipient, OrgId, Recipient, RecipientStatus, SecondFactor, SignatureModel,
    UserId,
};
use paraf_core::envelopes::{Draft, DraftDocument};
use paraf_http::state::AppState;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::error::StError;
use crate::wire::{
    Document, DocumentInput, Dst, DstInput, Form, Resource, Signature, SignatureRequest,
    SignerGroup,
};
use crate::{time, user_of_uuid, user_uuid};

/// The key of the plan in the envelope's options.
pub const PLAN_KEY: &str = "signingtoday";
/// Largest PDF a DST document may have.
pub const MAX_PDF: u64 = 20 * 1024 * 1024;
/// Most documents in one DST.
pub const MAX_DOCUMENTS: usize = 20;
/// Most signers in one DST.
pub const MAX_SIGNERS: usize = 100;

/// The DST's own data, kept with its envelope.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Plan {
    pub documents: Vec<PlanDocument>,
    #[serde(default)]
    pub tags: Vec<String>,
    #[serde(default)]
    pub extra_data: Value,
    #[serde(default)]
    pub public_template: bool,
    #[serde(default)]
    pub visible_to: Vec<String>,
    #[serde(default)]
    pub cc_groups: Vec<String>,
    #[serde(default)]
    pub cc_users: Vec<String>,
    #[serde(default)]
    pub urgent: bool,
    #[serde(default)]
    pub replaces: Option<String>,
    #[serde(default)]
    pub replaced_by: Option<String>,
}

/// One document's part of the plan.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PlanDocument {
    pub id: i64,
    pub title: String,
    pub size: u64,
    #[serde(default)]
    pub extra_data: Value,
    pub forms: Vec<Form>,
    /// The core field each form became (`None`: an invisible signature form).
    pub fields: Vec<Option<String>>,
    pub signature_requests: Vec<SignatureRequest>,
    pub signer_groups: Vec<SignerGroup>,
    /// The recipient (1-based position) of each signer, by signer id.
    pub recipients: Vec<(i64, u32)>,
}

/// What an input makes: the draft for the core and the plan to keep.
pub struct Made {
    pub draft: Draft,
    pub publish: bool,
}

fn at(i: usize, rest: &str) -> String {
    format!("documents[{i}].{rest}")
}

/// The PDF of a document input: embedded (base64), fetched from its URL (through the
/// outbound guard: no private address, size and time limits) or an existing resource of the
/// organisation.
async fn document_bytes(
    state: &AppState,
    org: OrgId,
    creator: UserId,
    i: usize,
    d: &DocumentInput,
) -> Result<(String, String, Vec<u8>), StError> {
    if let Some(r) = &d.resource {
        let kind = r.resource_type.as_ref().map(|v| match v {
            Value::Array(a) if a.len() == 1 => a[0].as_str().unwrap_or_default().to_string(),
            Value::String(s) => s.clone(),
            _ => String::new(),
        });
        if kind.as_deref().is_some_and(|k| k != "PDF_Document") {
            return Err(StError::invalid(
                &at(i, "resource.resourceType"),
                "resourceType must be PDF_Document",
            ));
        }
        let filename = r
            .filename
            .clone()
            .filter(|f| !f.trim().is_empty())
            .unwrap_or_else(|| format!("document-{}.pdf", i + 1));
        let title = r.title.clone().unwrap_or_else(|| filename.clone());
        let src = r.source.as_ref().ok_or_else(|| {
            StError::invalid(&at(i, "resource.source"), "the resource has no source")
        })?;
        let bytes = match src.kind.as_deref() {
            Some("Embedded") => {
                let data = src.embedded_data.as_deref().unwrap_or_default();
                let data: String = data.chars().filter(|c| !c.is_whitespace()).collect();
                base64::engine::general_purpose::STANDARD
                    .decode(data.as_bytes())
                    .map_err(|_| {
                        StError::invalid(
                            &at(i, "resource.source.embeddedData"),
                            "embeddedData is not base64",
                        )
                    })?
            }
            Some("URL") => {
                let url = src.source_url.as_deref().unwrap_or_default();
                let target = at(i, "resource.source.sourceURL");
                // With the robot's headers and credentials (its settings), if it has some.
                let headers = state
                    .core
                    .robot_config(org, creator)
                    .await
                    .map(|c| c.headers())
                    .unwrap_or_default();
                state
                    .outbound
                    .fetch_with(url, MAX_PDF, &headers)
                    .await
                    .map_err(|e| {
                        StError::invalid(&target, format!("the document could not be fetched: {e}"))
                    })?
                    .bytes
            }
            _ => {
                return Err(StError::invalid(
                    &at(i, "resource.source.type"),
                    "type must be Embedded or URL",
                ))
            }
        };
        return Ok((filename, title, bytes));
    }
    let Some(uuid) = d.plain_document_uuid.as_deref() else {
        return Err(StError::invalid(
            &at(i, "resource"),
            "a document needs its PDF: a resource (Embedded or URL) or the plainDocumentUuid of an existing resource",
        ));
    };
    if !crate::is_uuid(uuid) {
        return Err(StError::invalid(
            &at(i, "plainDocumentUuid"),
            "plainDocumentUuid is not a UUID",
        ));
    }
    let (_, doc, _, bytes) = state.core.document_by_uuid(org, uuid).await.map_err(|_| {
        StError::invalid(
            &at(i, "plainDocumentUuid"),
            format!("no resource {uuid} in this organisation"),
        )
    })?;
    Ok((doc.name.clone(), doc.name, bytes))
}

/// A signer as a recipient: a user of the organisation (by `userUUID`, or their e-mail) or a
/// one-shot signer.
pub(crate) async fn recipient_of(
    state: &AppState,
    org: OrgId,
    target: &str,
    s: &crate::wire::Signer,
    group: u32,
) -> Result<NewRecipient, StError> {
    // A `userUUID` names a user of the organisation; one that names none is refused unless
    // an e-mail says who signs (the seed's samples carry foreign UUIDs next to e-mails).
    let uuid = s.user_uuid.as_deref().filter(|u| !u.is_empty());
    let user = match uuid.and_then(user_of_uuid) {
        Some(id) => state.core.user(org, id).await.ok(),
        None => None,
    };
    if uuid.is_some() && user.is_none() && s.email.is_none() {
        return Err(StError::invalid(
            &format!("{target}.userUUID"),
            "no such user in this organisation",
        ));
    }
    let email = match (&user, s.email.as_deref()) {
        (Some(u), None) => u.email.clone(),
        (_, Some(e)) => Email::parse(e.trim()).map_err(|_| {
            StError::invalid(
                &format!("{target}.email"),
                format!("{e:?} is not an e-mail address"),
            )
        })?,
        (None, None) => {
            return Err(StError::invalid(
                &format!("{target}.email"),
                "a signer needs an email or a userUUID",
            ))
        }
    };
    let (first, last) = match (&s.name, &s.surname, &user) {
        (Some(n), surname, _) => (n.trim().to_string(), surname.clone().unwrap_or_default()),
        (None, _, Some(u)) => (u.name.as_str().to_string(), String::new()),
        (None, surname, None) => (String::new(), surname.clone().unwrap_or_default()),
    };
    Ok(NewRecipient {
        email,
        first_name: first,
        last_name: last.trim().to_string(),
        group,
        language: "en".into(),
        mobile: s.phone.clone().filter(|p| !p.trim().is_empty()),
        second_factor: SecondFactor::None,
    })
}

/// An `http(s)` address (where a signer is sent back), or a 400 naming `target`.
fn http_url(target: &str, url: &str) -> Result<String, StError> {
    let url = url.trim();
    let ok = (url.starts_with("https://") || url.starts_with("http://"))
        && url.len() <= 2000
        && !url.chars().any(|c| c.is_control() || c.is_whitespace());
    if !ok {
        return Err(StError::invalid(target, "must be an http(s) address"));
    }
    Ok(url.to_string())
}

/// Percentages kept on the page: a form that overflows is moved back inside.
fn inside(target: &str, f: &Form) -> Result<[f64; 4], StError> {
    let w = f.width.unwrap_or(20.0);
    let h = f.height.unwrap_or(5.0);
    if !(0.0..=100.0).contains(&w) || !(0.0..=100.0).contains(&h) {
        return Err(StError::invalid(
            &format!("{target}.width"),
            "width and height are percentages of the page (0 … 100)",
        ));
    }
    let x = f.position_x.unwrap_or(0.0).clamp(0.0, 100.0 - w);
    let y = f.position_y.unwrap_or(0.0).clamp(0.0, 100.0 - h);
    Ok([x, y, w, h])
}

/// Turns an input into a draft for the core and the plan kept with it.
pub async fn make(
    state: &AppState,
    org: OrgId,
    creator: UserId,
    input: &DstInput,
    robot: bool,
) -> Result<Made, StError> {
    let title = input
        .title
        .as_deref()
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .ok_or_else(|| StError::invalid("title", "title is required"))?
        .to_string();
    let publish = match input.status.as_deref() {
        None | Some("draft") => false,
        Some("published") => true,
        Some(other) => {
            return Err(StError::invalid(
                "status",
                format!("status {other:?} is not draft or published"),
            ))
        }
    };
    if input.documents.len() > MAX_DOCUMENTS {
        return Err(StError::invalid(
            "documents",
            format!("a DST has at most {MAX_DOCUMENTS} documents"),
        ));
    }
    let expires_at = match input.expires_at.as_deref().filter(|s| !s.trim().is_empty()) {
        Some(s) => Some(crate::parse_time(s).ok_or_else(|| {
            StError::invalid("expiresAt", format!("{s:?} is not a date-time (RFC 3339)"))
        })?),
        None => None,
    };
    let user = state.core.user(org, creator).await?;

    let mut recipients: Vec<NewRecipient> = Vec::new();
    // Who may decline (a signature request of theirs says `declinable: true`) and where each
    // is sent after signing (`sign_urlback`).
    let mut declinable = std::collections::HashSet::new();
    let mut return_urls = std::collections::BTreeMap::new();
    let mut fields: Vec<NewField> = Vec::new();
    let mut documents = Vec::new();
    let mut plan_docs = Vec::new();
    for (i, d) in input.documents.iter().enumerate() {
        let (filename, doc_title, bytes) = document_bytes(state, org, creator, i, d).await?;
        let mut plan_doc = PlanDocument {
            id: d.id.unwrap_or(i as i64),
            title: doc_title,
            size: bytes.len() as u64,
            extra_data: d.extra_data.clone().unwrap_or_else(|| json!({})),
            forms: d.forms.clone(),
            fields: Vec::new(),
            signature_requests: d.signature_requests.clone(),
            signer_groups: d.signer_groups.clone(),
            recipients: Vec::new(),
        };
        // Signers → recipients (one per e-mail across the DST).
        let mut by_signer: HashMap<i64, usize> = HashMap::new();
        let mut n = 0i64;
        for (g, group) in d.signer_groups.iter().enumerate() {
            let rank = u32::try_from(g + 1).unwrap_or(u32::MAX);
            for (j, s) in group.signers.iter().enumerate() {
                let target = at(i, &format!("signerGroups[{g}].signers[{j}]"));
                let r = recipient_of(state, org, &target, s, rank).await?;
                let sid = s.id.unwrap_or(n);
                n += 1;
                let found = recipients
                    .iter()
                    .position(|x| x.email.as_str().eq_ignore_ascii_case(r.email.as_str()));
                let idx = match found {
                    Some(k) if recipients[k].group != rank => {
                        return Err(StError::invalid(
                            &target,
                            format!(
                                "{} signs in group {} of another document: a DST has one sign plan, a signer keeps the same group in every document",
                                r.email.as_str(),
                                recipients[k].group
                            ),
                        ))
                    }
                    Some(k) => k,
                    None => {
                        recipients.push(r);
                        recipients.len() - 1
                    }
                };
                if by_signer.insert(sid, idx).is_some() {
                    return Err(StError::invalid(
                        &format!("{target}.id"),
                        format!("signer id {sid} is used twice in this document"),
                    ));
                }
                plan_doc
                    .recipients
                    .push((sid, u32::try_from(idx + 1).unwrap_or(u32::MAX)));
            }
        }
        if recipients.len() > MAX_SIGNERS {
            return Err(StError::invalid(
                "signerGroups",
                format!("a DST has at most {MAX_SIGNERS} signers"),
            ));
        }
        for (k, r) in d.signature_requests.iter().enumerate() {
            let target = at(i, &format!("signatureRequests[{k}]"));
            let sid = r.signer_id.unwrap_or(0);
            if !by_signer.contains_key(&sid) {
                return Err(StError::invalid(
                    &format!("{target}.signerId"),
                    format!("no signer {sid} in this document's signerGroups"),
                ));
            }
            let idx = by_signer[&sid];
            if r.declinable == Some(true) {
                declinable.insert(idx);
            }
            let back = r
                .extra_data
                .as_ref()
                .and_then(|x| x.get("sign_urlback"))
                .and_then(Value::as_str)
                .filter(|u| !u.trim().is_empty());
            if let Some(url) = back {
                let url = http_url(&format!("{target}.extraData.sign_urlback"), url)?;
                return_urls.entry(idx + 1).or_insert(url);
            }
            if let Some(p) = r.sign_profile.as_deref() {
                if p != "PAdES" && p != "CAdES" {
                    return Err(StError::invalid(
                        &format!("{target}.signProfile"),
                        "signProfile must be PAdES or CAdES",
                    ));
                }
            }
        }
        // Forms → fields.
        for (k, f) in d.forms.iter().enumerate() {
            let target = at(i, &format!("forms[{k}]"));
            let kind = match f.kind.as_deref().unwrap_or("SignatureForm") {
                "SignatureForm" => FieldKind::Signature,
                "TextForm" => FieldKind::Text,
                "ClauseForm" => FieldKind::Checkbox,
                other => {
                    return Err(StError::invalid(
                        &format!("{target}.type"),
                        format!("type {other:?} is not SignatureForm, TextForm or ClauseForm"),
                    ))
                }
            };
            let sid = f.signer_id.unwrap_or(0);
            let recipient = *by_signer.get(&sid).ok_or_else(|| {
                StError::invalid(
                    &format!("{target}.signerId"),
                    format!("no signer {sid} in this document's signerGroups"),
                )
            })?;
            let page = f.page.unwrap_or(1);
            let page = u32::try_from(page)
                .ok()
                .filter(|p| *p >= 1)
                .ok_or_else(|| StError::invalid(&format!("{target}.page"), "page starts at 1"))?;
            let fid = f.id.unwrap_or(k as i64);
            if kind == FieldKind::Signature && f.invisible == Some(true) {
                // An invisible signature: no field (the core signs a document without the
                // signer's fields invisibly).
                plan_doc.fields.push(None);
                continue;
            }
            let name = match kind {
                FieldKind::Signature => format!("Signature{fid}"),
                FieldKind::Text => format!("Text{fid}"),
                _ => format!("Clause{fid}"),
            };
            if plan_doc.fields.iter().flatten().any(|x| *x == name) {
                return Err(StError::invalid(
                    &format!("{target}.id"),
                    format!("form id {fid} is used twice in this document"),
                ));
            }
            fields.push(NewField {
                document: i,
                recipient,
                kind,
                name: name.clone(),
                required: kind != FieldKind::Text || f.to_fill != Some(false),
                page,
                rect: inside(&target, f)?,
                unit: FieldUnit::Percent,
            });
            plan_doc.fields.push(Some(name));
        }
        documents.push(DraftDocument {
            name: filename,
            bytes,
        });
        plan_docs.push(plan_doc);
    }
    let extra = input.extra_data.clone().unwrap_or_else(|| json!({}));
    let mut options = serde_json::Map::new();
    // The plan's forms exactly (tags in the PDF are not the DST's).
    options.insert(
        "placement".into(),
        json!(paraf_core::envelopes::PLACE_AS_GIVEN),
    );
    let no_decline: Vec<usize> = (1..=recipients.len())
        .filter(|p| !declinable.contains(&(p - 1)))
        .collect();
    options.insert("no_decline".into(), json!(no_decline));
    if !return_urls.is_empty() {
        let urls: serde_json::Map<String, Value> = return_urls
            .into_iter()
            .map(|(p, u)| (p.to_string(), json!(u)))
            .collect();
        options.insert("return_urls".into(), Value::Object(urls));
    }
    if let Some(url) = extra
        .get("dst_urlback")
        .and_then(Value::as_str)
        .filter(|u| !u.trim().is_empty())
    {
        options.insert(
            "done_url".into(),
            json!(http_url("extraData.dst_urlback", url)?),
        );
    }
    if extra.get("email_disabled").and_then(Value::as_bool) == Some(true) {
        options.insert("mail_invitations".into(), json!(false));
    }
    let plan = Plan {
        documents: plan_docs,
        tags: input.tags.clone().unwrap_or_default(),
        extra_data: extra,
        public_template: input.public_template.unwrap_or(false),
        visible_to: input.visible_to.clone().unwrap_or_default(),
        cc_groups: input.cc_groups.clone().unwrap_or_default(),
        cc_users: input.cc_users.clone().unwrap_or_default(),
        urgent: input.urgent.unwrap_or(false),
        replaces: None,
        replaced_by: None,
    };
    options.insert(
        PLAN_KEY.into(),
        serde_json::to_value(&plan).map_err(StError::internal)?,
    );
    // POST /DSTs: `template` marks a template; the robot's `template` only says the DST came
    // from one.
    let template = !robot && input.template == Some(true);
    Ok(Made {
        draft: Draft {
            header: EnvelopeHeader {
                title,
                model: SignatureModel::SignerCertificate,
                sender_email: user.email.clone(),
                created_by: Some(creator),
                face: crate::FACE.into(),
                metadata: json!({}),
                options: Value::Object(options),
                expires_at,
                reminder_days: None,
                template,
            },
            documents,
            recipients,
            fields,
            logo: None,
        },
        publish,
    })
}

/// The plan kept with an envelope.
pub fn plan_of(e: &Envelope) -> Plan {
    e.header
        .options
        .get(PLAN_KEY)
        .and_then(|v| Plan::deserialize(v).ok())
        .unwrap_or_default()
}

/// The DST status of an envelope: open ones are `toFill` while a required text or clause
/// has no value, else `toSign`.
pub fn status_of(e: &Envelope, fields: &[Field]) -> &'static str {
    match e.status {
        EnvelopeStatus::Draft => "draft",
        EnvelopeStatus::Sent | EnvelopeStatus::InProgress => {
            if fields
                .iter()
                .any(|f| f.kind != FieldKind::Signature && f.required && f.value.is_none())
            {
                "toFill"
            } else {
                "toSign"
            }
        }
        EnvelopeStatus::Sealing => "toSign",
        EnvelopeStatus::Completed => "signed",
        EnvelopeStatus::Declined | EnvelopeStatus::Cancelled => "rejected",
        EnvelopeStatus::Expired => "expired",
        EnvelopeStatus::SealFailed => "error",
    }
}

/// Everything a DST view reads.
pub struct Live<'a> {
    pub envelope: &'a Envelope,
    pub recipients: &'a [Recipient],
    pub documents: &'a [EnvelopeDocument],
    pub fields: &'a [Field],
    pub domain: &'a str,
    pub public_url: &'a str,
}

/// The seed's DST of an envelope.
pub fn view(l: &Live<'_>) -> Dst {
    let e = l.envelope;
    let plan = plan_of(e);
    let by_position: HashMap<u32, &Recipient> =
        l.recipients.iter().map(|r| (r.position, r)).collect();
    let mut signatures = Vec::new();
    let mut resources = Vec::new();
    let mut documents = Vec::new();
    let completed = e.status == EnvelopeStatus::Completed;
    for (i, pd) in plan.documents.iter().enumerate() {
        let Some(doc) = l.documents.iter().find(|d| d.position as usize == i + 1) else {
            continue;
        };
        let fields: Vec<&Field> = l.fields.iter().filter(|f| f.document == doc.id).collect();
        let recipient_of = |sid: i64| {
            pd.recipients
                .iter()
                .find(|(s, _)| *s == sid)
                .and_then(|(_, p)| by_position.get(p).copied())
        };
        let forms = pd
            .forms
            .iter()
            .enumerate()
            .map(|(k, f)| {
                let field = pd
                    .fields
                    .get(k)
                    .and_then(|n| n.as_ref())
                    .and_then(|n| fields.iter().find(|x| &x.name == n));
                let signer = recipient_of(f.signer_id.unwrap_or(0));
                let signed = signer.is_some_and(|r| r.status == RecipientStatus::Signed);
                let mut extra = f.extra_data.clone().unwrap_or_else(|| json!({}));
                if let (Some(v), Some(o)) =
                    (field.and_then(|x| x.value.clone()), extra.as_object_mut())
                {
                    let v = match f.kind.as_deref() {
                        Some("ClauseForm") => json!(v == "true"),
                        _ => json!(v),
                    };
                    o.insert("value".into(), v);
                }
                Form {
                    instance_id: Some(field.map_or(k as i64, |x| x.id.0)),
                    id: Some(f.id.unwrap_or(k as i64)),
                    document_id: Some(pd.id),
                    kind: Some(f.kind.clone().unwrap_or_else(|| "SignatureForm".into())),
                    position_x: f.position_x,
                    position_y: f.position_y,
                    width: f.width,
                    height: f.height,
                    page: Some(f.page.unwrap_or(1)),
                    signer_id: Some(f.signer_id.unwrap_or(0)),
                    to_fill: Some(
                        f.to_fill
                            .unwrap_or(f.kind.as_deref() != Some("SignatureForm")),
                    ),
                    filled: Some(signed || field.is_some_and(|x| x.value.is_some())),
                    invisible: Some(f.invisible.unwrap_or(false)),
                    extra_data: Some(extra),
                }
            })
            .collect::<Vec<_>>();
        let requests = pd
            .signature_requests
            .iter()
            .enumerate()
            .map(|(k, r)| {
                let mut r = r.clone();
                let id = r.id.unwrap_or(k as i64);
                r.instance_id = Some(id);
                r.id = Some(id);
                r.signer_id = Some(r.signer_id.unwrap_or(0));
                r.sign_profile = Some(r.sign_profile.unwrap_or_else(|| "PAdES".into()));
                r.with_timestamp = Some(r.with_timestamp.unwrap_or(true));
                r.declinable = Some(r.declinable.unwrap_or(false));
                r.extra_data = Some(r.extra_data.unwrap_or_else(|| json!({})));
                if let Some(rec) = recipient_of(r.signer_id.unwrap_or(0)) {
                    let (status, at, reason) = match rec.status {
                        RecipientStatus::Signed => ("signed", rec.signed_at, None),
                        RecipientStatus::Declined => {
                            ("declined", rec.declined_at, rec.decline_reason.clone())
                        }
                        _ => ("", None, None),
                    };
                    if !status.is_empty() {
                        signatures.push(Signature {
                            instance_id: rec.id.0,
                            document_id: pd.id,
                            signature_request_id: id,
                            signed_at: at.map(time),
                            declined_reason: reason,
                            status: status.into(),
                            extra_data: json!({}),
                        });
                    }
                }
                r
            })
            .collect::<Vec<_>>();
        // Signers without an id are numbered across the document's groups, as in `make`.
        let mut n = 0i64;
        let mut groups = pd.signer_groups.clone();
        for (g, group) in groups.iter_mut().enumerate() {
            group.instance_id = Some(g as i64);
            for s in &mut group.signers {
                let sid = s.id.unwrap_or(n);
                n += 1;
                s.id = Some(sid);
                if let Some(r) = recipient_of(sid) {
                    s.instance_id = Some(r.id.0);
                    s.email = Some(r.email.as_str().to_string());
                    if s.name.is_none() {
                        s.name = Some(r.first_name.clone());
                    }
                }
            }
        }
        let fillable: Vec<&&Field> = fields
            .iter()
            .filter(|f| f.kind != FieldKind::Signature)
            .collect();
        let status = if completed {
            "signed"
        } else if e.status != EnvelopeStatus::Draft
            && fillable.iter().all(|f| !f.required || f.value.is_some())
        {
            "filled"
        } else {
            "plain"
        };
        let resource = |id: &str, title: String| Resource {
            id: id.to_string(),
            domain: l.domain.to_string(),
            kind: "PDF_Document".into(),
            dst_uuid: Some(e.uuid.clone()),
            title,
            filename: doc.name.clone(),
            url: format!("{}/api/resource/{id}", l.public_url),
            size: (id == doc.uuid).then_some(pd.size),
            created_at: time(e.created_at),
            mimetype: "application/pdf".into(),
            pages: doc.pages,
            extra_data: json!({}),
        };
        resources.push(resource(&doc.uuid, pd.title.clone()));
        if completed {
            resources.push(resource(&doc.signed_uuid, format!("{} (signed)", pd.title)));
        }
        documents.push(Document {
            instance_id: doc.id.0,
            id: pd.id,
            plain_document_uuid: Some(doc.uuid.clone()),
            filled_document_uuid: None,
            signed_document_uuid: completed.then(|| doc.signed_uuid.clone()),
            status: status.into(),
            forms,
            signature_requests: requests,
            signer_groups: groups,
            extra_data: pd.extra_data.clone(),
        });
    }
    let updated = l
        .recipients
        .iter()
        .filter_map(|r| r.signed_at.or(r.declined_at))
        .chain(
            [Some(e.created_at), e.sent_at, e.completed_at]
                .into_iter()
                .flatten(),
        )
        .max()
        .unwrap_or(e.created_at);
    let creator = e.header.created_by.map(user_uuid);
    let status = status_of(e, l.fields);
    Dst {
        id: e.uuid.clone(),
        domain: l.domain.to_string(),
        title: e.header.title.clone(),
        replaces: plan.replaces,
        replaced_by: plan.replaced_by,
        created_by_user: creator.clone(),
        created_at: time(e.created_at),
        documents,
        published_at: e.sent_at.map(time),
        expires_at: e.header.expires_at.map(time),
        resources,
        signatures,
        status: status.into(),
        error_message: match status {
            "error" | "rejected" | "expired" => e.status_reason.clone(),
            _ => None,
        },
        deleted_at: e.deleted_at.map(time),
        tags: plan.tags,
        template: e.header.template,
        public_template: plan.public_template,
        extra_data: plan.extra_data,
        visible_to: if plan.visible_to.is_empty() {
            creator.into_iter().collect()
        } else {
            plan.visible_to
        },
        cc_groups: plan.cc_groups,
        cc_users: plan.cc_users,
        urgent: plan.urgent,
        updated_at: time(updated),
    }
}
