//! Envelopes: documents sent to recipients who sign in their browser, in ordered groups.
//!
//! - [`Core::create_envelope`] checks the documents (real PDFs), the signers and the expiry,
//!   keeps the originals as blobs and places the signature fields: by the tags found in the
//!   text (`<@signature@>`: every signer there; `<@signatureN@>`: signer N only) or as given.
//!   Every field exists before the first signature, so each signature only fills its own.
//! - [`Core::send_envelope`] gives **every** recipient an unguessable link (its SHA-256 is
//!   stored; the links are returned once, for the API reply) and mails the first group.
//! - [`Core::open_link`] enforces the order when a link is opened: a recipient whose group's
//!   turn has not come gets [`Opening::NotYourTurn`], never the signing form.
//! - [`Core::decline`], [`Core::cancel_envelope`], [`Core::expire_envelopes`] end an envelope
//!   with a reason. Every step is audited (target `envelope:<uuid>`) and sent as an event.

use base64::Engine as _;
use paraf_domain::{
    token_hash, BlobId, DomainError, Entity, Envelope, EnvelopeDocument, EnvelopeHeader,
    EnvelopeId, EnvelopeStatus, Field, FieldKind, NewEnvelope, NewEnvelopeDocument, NewField,
    NewMail, NewRecipient, OrgId, QuotaKind, Recipient, RecipientId, RecipientStatus,
    SignatureModel, Timestamp,
};
use serde_json::json;

use crate::audit::{Actor, AuditAction};
pub use crate::directory::CreditChange;
use crate::error::CoreError;
use crate::signing::{sign_file_with, FileJob, Look, PageSel, Place};
use crate::Core;

type Result<T> = std::result::Result<T, CoreError>;

/// Size of a signature field placed on a tag, in points.
pub const TAG_FIELD_SIZE: (f64, f64) = (150.0, 50.0);
/// How long a link lasts when the envelope has no expiry.
pub const DEFAULT_LINK_DAYS: i64 = 30;
/// The `idSubscriber` of the organisation seal that envelopes use.
pub const ENVELOPE_SEAL: &str = "envelopes";
/// Largest document accepted.
pub const MAX_DOCUMENT_BYTES: usize = 50 * 1024 * 1024;

/// A document to put in an envelope.
#[derive(Clone)]
pub struct DraftDocument {
    pub name: String,
    pub bytes: Vec<u8>,
}

/// What the sender gives to create an envelope.
#[derive(Clone)]
pub struct Draft {
    pub header: EnvelopeHeader,
    pub documents: Vec<DraftDocument>,
    pub recipients: Vec<NewRecipient>,
    /// Fields placed by hand; with none, fields come from the tags in the text.
    pub fields: Vec<NewField>,
    /// A logo for the mails and the signer page (already checked to be an image).
    pub logo: Option<Vec<u8>>,
}

/// A recipient's link, returned once when the envelope is sent.
#[derive(Clone)]
pub struct SigningLink {
    pub recipient: Recipient,
    pub url: String,
}

impl std::fmt::Debug for SigningLink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningLink")
            .field("recipient", &self.recipient.id)
            .field("url", &"***")
            .finish()
    }
}

/// What opening a link shows.
#[derive(Debug)]
pub enum Opening {
    /// The signing form: the envelope, the recipient, the documents and their fields.
    Ready {
        envelope: Envelope,
        recipient: Recipient,
        documents: Vec<EnvelopeDocument>,
        fields: Vec<Field>,
    },
    /// An earlier group has not finished: never the form.
    NotYourTurn {
        envelope: Envelope,
        recipient: Recipient,
    },
    /// The recipient already signed or declined.
    Done {
        envelope: Envelope,
        recipient: Recipient,
    },
    /// The envelope no longer takes signatures (completed, declined, expired, cancelled…).
    Closed {
        envelope: Envelope,
        recipient: Recipient,
    },
}

/// Where a link came from: the client, for the audit trail.
#[derive(Debug, Clone, Default)]
pub struct Visit {
    pub ip: Option<std::net::IpAddr>,
    pub user_agent: Option<String>,
}

/// Tag fields of one document: `<@signature@>` for every recipient, `<@signatureN@>` for
/// recipient N (1-based). A tag naming a signer that does not exist is an error.
fn tag_fields(
    doc: &paraf_pdf::Document,
    document: usize,
    recipients: usize,
) -> Result<Vec<NewField>> {
    let bad = |e: paraf_pdf::PdfError| CoreError::invalid("pdf", format!("cannot be read ({e})"));
    let (w, h) = TAG_FIELD_SIZE;
    // (recipient, match) in document order of the tags; numbered per recipient below so every
    // field of a document has its own name.
    let mut found: Vec<(usize, paraf_pdf::text::TextMatch)> = Vec::new();
    for m in paraf_pdf::text::find_text(doc, "<@signature@>").map_err(bad)? {
        for r in 0..recipients {
            found.push((r, m.clone()));
        }
    }
    // `<@signature1@>` …: the signers', and a few beyond to catch a tag for a signer who is
    // not there.
    for r in 0..recipients + 9 {
        let tag = format!("<@signature{}@>", r + 1);
        let hits = paraf_pdf::text::find_text(doc, &tag).map_err(bad)?;
        if hits.is_empty() {
            continue;
        }
        if r >= recipients {
            return Err(CoreError::invalid(
                "signers",
                format!("the document has a tag {tag} but there are only {recipients} signers"),
            ));
        }
        found.extend(hits.into_iter().map(|m| (r, m)));
    }
    let pages = doc.pages().map_err(bad)?;
    let mut count = vec![0usize; recipients];
    let mut out = Vec::new();
    for (recipient, m) in found {
        // The stamp is `w`×`h` as displayed: on a page turned a quarter, user space swaps them.
        let turned = m
            .page
            .checked_sub(1)
            .and_then(|i| pages.get(i))
            .is_some_and(|p| p.rotate % 180 != 0);
        let (w, h) = if turned { (h, w) } else { (w, h) };
        let Some(n) = count.get_mut(recipient) else {
            continue;
        };
        *n += 1;
        let cx = (m.rect[0] + m.rect[2]) / 2.0;
        let cy = (m.rect[1] + m.rect[3]) / 2.0;
        out.push(NewField {
            document,
            recipient,
            kind: FieldKind::Signature,
            name: format!("signature_{}_{}", recipient + 1, n),
            required: true,
            page: u32::try_from(m.page).unwrap_or(u32::MAX),
            rect: [cx - w / 2.0, cy - h / 2.0, cx + w / 2.0, cy + h / 2.0],
            unit: paraf_domain::FieldUnit::Points,
        });
    }
    Ok(out)
}

/// Fault injection for the crash tests: sleeps as long as the environment variable `name`
/// says (milliseconds; unset — always in production — nothing).
async fn fault_pause(name: &str) {
    if let Some(ms) = std::env::var(name).ok().and_then(|v| v.parse::<u64>().ok()) {
        tracing::warn!(fault = name, ms, "fault injection: pausing");
        tokio::time::sleep(std::time::Duration::from_millis(ms)).await;
    }
}

/// How many signatures group `group` needs: the envelope's `quorum` option
/// (`{"quorum": {"2": 1}}`: one signature of group 2 is enough), else all of its recipients.
pub(crate) fn quorum(e: &Envelope, recipients: &[Recipient], group: u32) -> usize {
    let size = recipients.iter().filter(|r| r.group == group).count();
    e.header
        .options
        .get("quorum")
        .and_then(|q| q.get(group.to_string()))
        .and_then(serde_json::Value::as_u64)
        .and_then(|n| usize::try_from(n).ok())
        .map_or(size, |n| n.clamp(1, size.max(1)))
}

/// Whether group `group` has the signatures it needs.
pub(crate) fn group_done(e: &Envelope, recipients: &[Recipient], group: u32) -> bool {
    let signed = recipients
        .iter()
        .filter(|r| r.group == group && r.status == RecipientStatus::Signed)
        .count();
    signed >= quorum(e, recipients, group)
}

/// A field given in percent of its page as displayed (`[left, top, width, height]`, origin
/// top-left) in points of the page's user space.
fn in_points(f: &NewField, pages: &[paraf_pdf::Page]) -> Result<NewField> {
    let page = usize::try_from(f.page)
        .ok()
        .and_then(|n| n.checked_sub(1))
        .and_then(|i| pages.get(i))
        .ok_or_else(|| CoreError::invalid("fields", format!("page {} does not exist", f.page)))?;
    let [left, top, width, height] = f.rect;
    let ok = |v: f64| (0.0..=100.0).contains(&v);
    if !(ok(left) && ok(top) && ok(width) && ok(height))
        || left + width > 100.0
        || top + height > 100.0
    {
        return Err(CoreError::invalid(
            "fields",
            format!("{}: percentages must stay within the page", f.name),
        ));
    }
    let (w, h) = paraf_sign::placement::display_size(page);
    let (x0, y1) = (left / 100.0 * w, h - top / 100.0 * h);
    let (x1, y0) = (x0 + width / 100.0 * w, y1 - height / 100.0 * h);
    let (ax, ay) = paraf_sign::placement::display_to_user(page, x0, y0);
    let (bx, by) = paraf_sign::placement::display_to_user(page, x1, y1);
    Ok(NewField {
        rect: [ax.min(bx), ay.min(by), ax.max(bx), ay.max(by)],
        unit: paraf_domain::FieldUnit::Points,
        ..f.clone()
    })
}

/// The kind of PDF field an envelope field is.
fn empty_kind(k: FieldKind) -> paraf_sign::form::EmptyKind {
    match k {
        FieldKind::Signature | FieldKind::Initials => paraf_sign::form::EmptyKind::Signature,
        FieldKind::Text | FieldKind::Date => paraf_sign::form::EmptyKind::Text,
        FieldKind::Checkbox => paraf_sign::form::EmptyKind::Checkbox,
    }
}

/// Whether recipient `r` of `e` may decline: unless the envelope's option `no_decline` lists
/// their position.
pub fn may_decline(e: &Envelope, r: &Recipient) -> bool {
    !e.header
        .options
        .get("no_decline")
        .and_then(serde_json::Value::as_array)
        .is_some_and(|l| l.iter().any(|p| p.as_u64() == Some(u64::from(r.position))))
}

/// Where the signer page sends recipient `r` after their signature: the envelope's
/// `done_url` when theirs completed it, else their entry in `return_urls` (by position), else
/// nowhere (the page shows the outcome). Only `http(s)` addresses.
pub fn return_url(e: &Envelope, r: &Recipient) -> Option<String> {
    let o = &e.header.options;
    let done = matches!(
        e.status,
        EnvelopeStatus::Sealing | EnvelopeStatus::Completed | EnvelopeStatus::SealFailed
    );
    let url = done
        .then(|| o.get("done_url").and_then(serde_json::Value::as_str))
        .flatten()
        .or_else(|| {
            o.get("return_urls")
                .and_then(|m| m.get(r.position.to_string()))
                .and_then(serde_json::Value::as_str)
        })?;
    (url.starts_with("https://") || url.starts_with("http://")).then(|| url.to_string())
}

/// Whether invitations (and reminders) of `e` go out by mail: unless its option
/// `mail_invitations` is `false`.
pub(crate) fn mails_invitations(e: &Envelope) -> bool {
    e.header.options.get("mail_invitations") != Some(&serde_json::Value::Bool(false))
}

/// Whether a field takes a signature.
fn is_signature(k: FieldKind) -> bool {
    matches!(k, FieldKind::Signature | FieldKind::Initials)
}

/// The organisation's certification (DocMDP P=2, invisible, B-LT) of a prepared document.
fn certify(
    pki: &crate::PkiService,
    seal: &(dyn paraf_pki::Signer + Send + Sync),
    pdf: Vec<u8>,
    when: std::time::SystemTime,
) -> Result<Vec<u8>> {
    let ca = pki.current().map_err(CoreError::internal)?;
    let doc = paraf_pdf::Document::load(pdf, None).map_err(stored)?;
    let mut opts = paraf_sign::SignOptions::new(when);
    opts.level = paraf_sign::Level::BLT;
    opts.certify = Some(paraf_sign::DocMdp::from_level(2).map_err(CoreError::internal)?);
    opts.reason = Some("Prepared for signature (form filling and signatures allowed)".into());
    opts.field_name = Some("certification".into());
    let services = paraf_sign::Services {
        timestamper: Some(ca.tsa()),
        revocation: Some(&*ca),
    };
    paraf_sign::sign_owned(doc, seal, &opts, services)
        .map(|s| s.pdf)
        .map_err(CoreError::internal)
}

/// What recipient `r` filled in, checked against their fillable fields: per field, the
/// stored text and the value written into the PDF. Dates are the signing date.
fn filled_values(
    r: &Recipient,
    fields: &[Field],
    given: &[(String, String)],
    now: paraf_domain::Timestamp,
) -> Result<Vec<(Field, String, paraf_sign::form::FillValue)>> {
    use paraf_sign::form::FillValue;
    // What the recipient gives, else what was filled in before (by the sender's API).
    let value_of = |f: &Field| {
        given
            .iter()
            .find(|(n, _)| *n == f.name)
            .map(|(_, v)| v.trim().to_string())
            .or_else(|| f.value.clone())
            .unwrap_or_default()
    };
    let mut out = Vec::new();
    for f in fields.iter().filter(|f| f.recipient == r.id) {
        let (text, value) = match f.kind {
            FieldKind::Signature | FieldKind::Initials => continue,
            FieldKind::Date => {
                let format = if r.language == "en" {
                    "%Y-%m-%d"
                } else {
                    "%d/%m/%Y"
                };
                let d = now.format(format).to_string();
                (d.clone(), FillValue::Text(d))
            }
            FieldKind::Text => {
                let v = value_of(f);
                if f.required && v.is_empty() {
                    return Err(CoreError::invalid(
                        "fields",
                        format!("{} is required", f.name),
                    ));
                }
                if v.chars().count() > 500 {
                    return Err(CoreError::invalid(
                        "fields",
                        format!("{} is longer than 500 characters", f.name),
                    ));
                }
                (v.clone(), FillValue::Text(v))
            }
            FieldKind::Checkbox => {
                let on = matches!(
                    value_of(f).to_ascii_lowercase().as_str(),
                    "on" | "true" | "1" | "yes"
                );
                if f.required && !on {
                    return Err(CoreError::invalid(
                        "fields",
                        format!("{} must be checked", f.name),
                    ));
                }
                (on.to_string(), FillValue::Checkbox(on))
            }
        };
        out.push((f.clone(), text, value));
    }
    Ok(out)
}

/// The suffix of a summary page's signature field names (`signature_2_summary`).
const SUMMARY_SUFFIX: &str = "_summary";

/// Whether a field is on a summary page.
fn is_summary_field(name: &str) -> bool {
    name.ends_with(SUMMARY_SUFFIX)
}

/// The summary pages' signature fields of document `document` (`pages` long): one per
/// recipient, on the pages that will follow the last one. Returns how many pages are added.
fn summary_fields(document: usize, pages: u32, recipients: usize) -> (u32, Vec<NewField>) {
    let mut extra = 0;
    let fields = (0..recipients)
        .map(|r| {
            let (page, _, rect) = paraf_sign::pages::summary_slot(r);
            let page = u32::try_from(page).unwrap_or(u32::MAX);
            extra = extra.max(page + 1);
            NewField {
                document,
                recipient: r,
                kind: FieldKind::Signature,
                name: format!("signature_{}{SUMMARY_SUFFIX}", r + 1),
                required: true,
                page: pages.saturating_add(page + 1),
                rect,
                unit: paraf_domain::FieldUnit::Points,
            }
        })
        .collect();
    (extra, fields)
}

/// The `placement` option asking, for documents without tags, a signature per recipient at
/// the foot of the last page (at most [`LAST_PAGE_MAX`] recipients; more get summary pages).
pub const PLACE_ON_LAST_PAGE: &str = "last_page";
/// The `placement` option for fields exactly as given, even none (no tags, no summary page;
/// a recipient without a field on a document signs it invisibly).
pub const PLACE_AS_GIVEN: &str = "given";
/// How many signatures fit at the foot of a last page (two rows of three).
pub const LAST_PAGE_MAX: usize = 6;

/// Signature fields at the foot of the last page (`page` = the page count), in percent of
/// the displayed page: rows of three boxes 28 % wide and 9 % high, the first row lowest.
fn last_page_fields(document: usize, page: u32, recipients: usize) -> Vec<NewField> {
    (0..recipients)
        .map(|r| {
            let (col, row) = ((r % 3) as f64, (r / 3) as f64);
            NewField {
                document,
                recipient: r,
                kind: FieldKind::Signature,
                name: format!("signature_{}", r + 1),
                required: true,
                page,
                rect: [4.0 + 32.0 * col, 88.0 - 11.0 * row, 28.0, 9.0],
                unit: paraf_domain::FieldUnit::Percent,
            }
        })
        .collect()
}

/// The title of a summary page.
fn summary_title(lang: &str) -> &'static str {
    match lang {
        "fr" => "Page récapitulative des signatures",
        "id" => "Halaman ringkasan tanda tangan",
        "it" => "Riepilogo delle firme",
        "es" => "Resumen de las firmas",
        _ => "Signature summary",
    }
}

/// A stored document that no longer parses (it did when it was accepted): an internal error.
pub(crate) fn stored(e: paraf_pdf::PdfError) -> CoreError {
    CoreError::internal(format!("a stored document: {e}"))
}

/// What each of a recipient's signature fields on one document shows, and the field it fills
/// (pre-created when the envelope was sent: it keeps its place). A document without any of
/// their fields gets one invisible signature.
fn field_looks(
    pdf: &[u8],
    mine: &[Field],
    image: Option<&Vec<u8>>,
    typed: Option<&String>,
    name_and_date: &str,
) -> Result<Vec<(Look, Option<String>)>> {
    if mine.is_empty() {
        return Ok(vec![(Look::Invisible, None)]);
    }
    let doc = paraf_pdf::Document::load(pdf.to_vec(), None).map_err(stored)?;
    let pages = doc.pages().map_err(stored)?;
    let mut out = Vec::new();
    for f in mine {
        let n = usize::try_from(f.page).unwrap_or(1);
        // Fields are kept in user space; the fallback placement (a field missing from the
        // file) is on the page as displayed.
        let (x, y, width, height) = match n.checked_sub(1).and_then(|i| pages.get(i)) {
            Some(p) => {
                let (ax, ay) = paraf_sign::placement::user_to_display(p, f.rect[0], f.rect[1]);
                let (bx, by) = paraf_sign::placement::user_to_display(p, f.rect[2], f.rect[3]);
                (ax.min(bx), ay.min(by), (ax - bx).abs(), (ay - by).abs())
            }
            None => (
                f.rect[0],
                f.rect[1],
                f.rect[2] - f.rect[0],
                f.rect[3] - f.rect[1],
            ),
        };
        let look = Look::Visible {
            place: Place::Rect {
                page: PageSel::Number(n),
                x,
                y,
                width,
                height,
            },
            image: image.cloned(),
            qr: None,
            // A summary row shows who signed and when beside a drawn signature (without an
            // image the stamp shows them already).
            text: if is_summary_field(&f.name) && image.is_some() {
                Some(name_and_date.to_string())
            } else {
                typed.cloned()
            },
        };
        out.push((look, Some(f.name.clone())));
    }
    Ok(out)
}

/// Validity of a per-signer certificate, in days: it signs once, the signature is
/// timestamped, and validation data is embedded, so it need not outlive the signing.
pub const SIGNER_CERT_DAYS: u32 = 1;

/// What the recipient signs with.
#[derive(Debug, Clone, Default)]
pub struct SignatureInput {
    /// A drawn or uploaded signature (PNG or JPEG).
    pub image: Option<Vec<u8>>,
    /// What they filled in, by field name: text (and dates, which Paraf fills itself with the
    /// signing date), check boxes `on`/`true`/`1`/`yes`.
    pub values: Vec<(String, String)>,
    /// A typed signature (their name as they wrote it).
    pub typed: Option<String>,
    /// Use the signer's saved signature (the appearance of the user with their e-mail) when
    /// they neither draw nor upload one; without one saved, the typed name is used.
    pub saved: bool,
}

/// A recipient acting through their link, from where they are.
pub(crate) fn recipient_actor(r: &Recipient, visit: &Visit) -> Actor {
    let mut actor = Actor::new(format!("recipient:{}", r.id), crate::audit::Face::Page);
    actor.ip = visit.ip;
    actor.user_agent.clone_from(&visit.user_agent);
    actor
}

/// The caption above the signer's name on a stamp without image.
fn signed_by(lang: &str) -> &'static str {
    match lang {
        "fr" => "Signé électroniquement par :",
        "id" => "Ditandatangani secara elektronik oleh:",
        "it" => "Firmato elettronicamente da:",
        "es" => "Firmado electrónicamente por:",
        _ => "Electronically signed by:",
    }
}

/// A refused document (the `pdf` field).
fn not_pdf(detail: String) -> CoreError {
    CoreError::Document(crate::error::DocumentRefusal::NotAPdf {
        field: "pdf".into(),
        detail,
    })
}

/// The invitation mail, in the recipient's language.
fn invitation(lang: &str, sender: &str, title: &str, url: &str) -> (String, String) {
    match lang {
        "fr" => (
            format!("Document à signer : {title}"),
            format!("Bonjour,\n\n{sender} vous invite à signer « {title} ».\n\nOuvrez ce lien pour le lire et le signer :\n{url}\n\nCe lien vous est personnel : ne le transférez pas.\n"),
        ),
        "id" => (
            format!("Dokumen untuk ditandatangani: {title}"),
            format!("Halo,\n\n{sender} meminta Anda menandatangani \"{title}\".\n\nBuka tautan ini untuk membaca dan menandatanganinya:\n{url}\n\nTautan ini khusus untuk Anda: jangan diteruskan.\n"),
        ),
        "it" => (
            format!("Documento da firmare: {title}"),
            format!("Buongiorno,\n\n{sender} la invita a firmare «{title}».\n\nApra questo link per leggerlo e firmarlo:\n{url}\n\nIl link è personale: non lo inoltri.\n"),
        ),
        "es" => (
            format!("Documento para firmar: {title}"),
            format!("Hola,\n\n{sender} le invita a firmar «{title}».\n\nAbra este enlace para leerlo y firmarlo:\n{url}\n\nEl enlace es personal: no lo reenvíe.\n"),
        ),
        _ => (
            format!("Document to sign: {title}"),
            format!("Hello,\n\n{sender} invites you to sign \"{title}\".\n\nOpen this link to read and sign it:\n{url}\n\nThe link is yours alone: do not forward it.\n"),
        ),
    }
}

/// The mail of a share: who shares what, the link, and that a code will be asked.
fn share_invitation(lang: &str, sender: &str, title: &str, url: &str) -> (String, String) {
    match lang {
        "fr" => (
            format!("Documents partagés avec vous : {title}"),
            format!("Bonjour,\n\n{sender} partage avec vous « {title} ».\n\nTéléchargez les documents avec ce lien (un code de vérification vous sera demandé) :\n{url}\n\nLe lien vous est personnel et expire : ne le transférez pas.\n"),
        ),
        "id" => (
            format!("Dokumen dibagikan kepada Anda: {title}"),
            format!("Halo,\n\n{sender} membagikan \"{title}\" kepada Anda.\n\nUnduh dokumen melalui tautan ini (kode verifikasi akan diminta):\n{url}\n\nTautan ini khusus untuk Anda dan akan kedaluwarsa: jangan diteruskan.\n"),
        ),
        "it" => (
            format!("Documenti condivisi con lei: {title}"),
            format!("Buongiorno,\n\n{sender} condivide con lei \"{title}\".\n\nScarichi i documenti con questo link (le sarà chiesto un codice di verifica):\n{url}\n\nIl link è personale e scade: non lo inoltri.\n"),
        ),
        "es" => (
            format!("Documentos compartidos con usted: {title}"),
            format!("Hola:\n\n{sender} comparte con usted \"{title}\".\n\nDescargue los documentos con este enlace (se le pedirá un código de verificación):\n{url}\n\nEl enlace es personal y caduca: no lo reenvíe.\n"),
        ),
        _ => (
            format!("Documents shared with you: {title}"),
            format!("Hello,\n\n{sender} shares \"{title}\" with you.\n\nDownload the documents with this link (you will be asked for a verification code):\n{url}\n\nThe link is yours alone and expires: do not forward it.\n"),
        ),
    }
}

/// The languages of the signer page and mails.
pub const LANGUAGES: [&str; 5] = ["fr", "en", "id", "it", "es"];

impl Core {
    /// Audits what recipient `r` did through their link.
    pub(crate) fn envelope_audit(
        &self,
        e: &Envelope,
        r: &Recipient,
        visit: &Visit,
        action: AuditAction,
        details: serde_json::Value,
    ) {
        self.envelope_event(e, &recipient_actor(r, visit), action, details);
    }

    pub(crate) fn envelope_event(
        &self,
        e: &Envelope,
        actor: &Actor,
        action: AuditAction,
        details: serde_json::Value,
    ) {
        let event = self.audit_event(
            e.org,
            actor,
            action,
            Some(format!("envelope:{}", e.uuid)),
            details,
        );
        self.record_later(event);
    }

    /// Sends `event` about `e` (done by recipient `actor`, if one acted) to the organisation's
    /// endpoints, in the shape of the dialect `e` was made through if it has one (never fails
    /// the caller: an event that cannot be queued is logged).
    pub(crate) async fn envelope_webhook(
        &self,
        e: &Envelope,
        event: &str,
        actor: Option<&Recipient>,
        extra: serde_json::Value,
    ) {
        if let Err(err) = self
            .envelope_webhook_once(e, event, actor, extra, None)
            .await
        {
            tracing::error!(error = %err, envelope = %e.uuid, event, "could not queue the event");
        }
    }

    /// [`Core::envelope_webhook`], failing instead of logging; with `once`, the event is
    /// queued at most once under that key, whoever announces it.
    async fn envelope_webhook_once(
        &self,
        e: &Envelope,
        event: &str,
        actor: Option<&Recipient>,
        extra: serde_json::Value,
        once: Option<&str>,
    ) -> Result<()> {
        let body = match self.payloads.get(&e.header.face) {
            Some(shape) => crate::events::Body::Shaped(
                self.envelope_event_context(e, event, actor, shape).await?,
            ),
            None => {
                let mut data = json!({
                    "envelope": {"id": e.uuid, "title": e.header.title, "status": e.status.as_str(),
                                 "status_reason": e.status_reason, "metadata": e.header.metadata},
                });
                if let (Some(d), Some(x)) = (data.as_object_mut(), extra.as_object()) {
                    d.extend(x.clone());
                }
                crate::events::Body::Standard(data)
            }
        };
        self.emit_body(e.org, event, body, once).await?;
        Ok(())
    }

    /// Gathers what a dialect's payload may show and has `shape` make the body.
    async fn envelope_event_context(
        &self,
        e: &Envelope,
        event: &str,
        actor: Option<&Recipient>,
        shape: crate::events::PayloadFn,
    ) -> Result<serde_json::Value> {
        let recipients = self.store.recipients(e.id).await?;
        let organisation = self.store.organisation(e.org).await?;
        let creator = match e.header.created_by {
            Some(u) => self.store.user(e.org, u).await.ok(),
            None => None,
        };
        let credits_left = self.store.credits(e.org).await?;
        let document_hash = match self.store.envelope_documents(e.id).await?.first() {
            Some(d) => Some(crate::proof::sha256_hex(&self.current_file(d).await?)),
            None => None,
        };
        let proof = match &e.proof {
            Some(p) => serde_json::from_slice(&self.stored_file(&p.json).await?).ok(),
            None => None,
        };
        // The acting recipient as stored now (signed_at, ip…).
        let actor = actor.and_then(|a| recipients.iter().find(|r| r.id == a.id));
        let links = self.file_links(&e.uuid);
        Ok(shape(&crate::events::EnvelopeEvent {
            event,
            envelope: e,
            recipients: &recipients,
            actor,
            organisation: &organisation,
            creator: creator.as_ref(),
            credits_left,
            document_hash,
            links: &links,
            proof: proof.as_ref(),
        }))
    }

    /// A new random UUID (version 4).
    pub(crate) fn new_uuid(&self) -> Result<String> {
        let bytes: [u8; 16] = paraf_domain::random_bytes(&*self.entropy)?;
        Ok(paraf_domain::uuid_v4(bytes))
    }

    /// Creates an envelope in `draft`.
    pub async fn create_envelope(&self, org: OrgId, d: Draft, actor: &Actor) -> Result<Envelope> {
        self.make_envelope(org, d, actor, None).await
    }

    /// Creates an envelope from `d`, or (`into`) puts `d` in the place of a draft's contents.
    pub(crate) async fn make_envelope(
        &self,
        org: OrgId,
        d: Draft,
        actor: &Actor,
        into: Option<EnvelopeId>,
    ) -> Result<Envelope> {
        let now = self.now();
        if let Some(exp) = d.header.expires_at {
            if exp <= now {
                return Err(CoreError::invalid("expires_at", "must be in the future"));
            }
        }
        for r in &d.recipients {
            if !LANGUAGES.contains(&r.language.as_str()) {
                return Err(CoreError::invalid(
                    "signers",
                    format!("language {:?} is not one of fr, en, id, it, es", r.language),
                ));
            }
        }
        if let Some(q) = d.header.options.get("quorum") {
            let ok = q.as_object().is_some_and(|m| {
                m.iter().all(|(g, n)| {
                    let size = d
                        .recipients
                        .iter()
                        .filter(|r| g.parse::<u32>() == Ok(r.group))
                        .count();
                    n.as_u64()
                        .and_then(|n| usize::try_from(n).ok())
                        .is_some_and(|n| n >= 1 && n <= size)
                })
            });
            if !ok {
                return Err(CoreError::invalid(
                    "quorum",
                    "must map groups to 1 … the group's size",
                ));
            }
        }
        let n_recipients = d.recipients.len();
        let placement = d
            .header
            .options
            .get("placement")
            .and_then(serde_json::Value::as_str);
        let last_page = placement == Some(PLACE_ON_LAST_PAGE);
        let mut given_fields = d.fields;
        // A share has no fields at all: nothing is signed.
        let hand_placed = !given_fields.is_empty()
            || crate::sharing::is_sharing(&d.header)
            || placement == Some(PLACE_AS_GIVEN);
        let docs = d.documents;
        let percent: Vec<NewField> = given_fields
            .iter()
            .filter(|f| f.unit == paraf_domain::FieldUnit::Percent)
            .cloned()
            .collect();
        given_fields.retain(|f| f.unit != paraf_domain::FieldUnit::Percent);
        // Parse every PDF (and find its tags, convert fields given in percent) off the async
        // threads.
        let parsed = tokio::task::spawn_blocking(
            move || -> Result<Vec<(DraftDocument, u32, Vec<NewField>)>> {
                let mut out = Vec::new();
                for (i, doc) in docs.into_iter().enumerate() {
                    if doc.bytes.len() > MAX_DOCUMENT_BYTES {
                        return Err(CoreError::invalid("pdf", "is larger than 50 MB"));
                    }
                    if !crate::documents::has_pdf_header(&doc.bytes) {
                        return Err(not_pdf("is not a PDF file".into()));
                    }
                    let DraftDocument { name, bytes } = doc;
                    let pdf = paraf_pdf::Document::load(bytes, None)
                        .map_err(|e| not_pdf(format!("cannot be read ({e})")))?;
                    let pages = pdf
                        .pages()
                        .map_err(|e| not_pdf(format!("has no readable pages ({e})")))?
                        .len();
                    if pages == 0 {
                        return Err(not_pdf("has no pages".into()));
                    }
                    let mut fields = if hand_placed {
                        let page_list = pdf
                            .pages()
                            .map_err(|e| not_pdf(format!("has no readable pages ({e})")))?;
                        percent
                            .iter()
                            .filter(|f| f.document == i)
                            .map(|f| in_points(f, &page_list))
                            .collect::<Result<Vec<_>>>()?
                    } else {
                        tag_fields(&pdf, i, n_recipients)?
                    };
                    let mut pages = u32::try_from(pages).unwrap_or(u32::MAX);
                    if !hand_placed
                        && fields.is_empty()
                        && last_page
                        && n_recipients <= LAST_PAGE_MAX
                    {
                        // No tag: one signature per recipient at the foot of the last page.
                        let page_list = pdf
                            .pages()
                            .map_err(|e| not_pdf(format!("has no readable pages ({e})")))?;
                        fields = last_page_fields(i, pages, n_recipients)
                            .iter()
                            .map(|f| in_points(f, &page_list))
                            .collect::<Result<Vec<_>>>()?;
                    }
                    if !hand_placed && fields.is_empty() {
                        // No tag: summary pages (appended at send) carry every signature.
                        let (extra, summary) = summary_fields(i, pages, n_recipients);
                        pages += extra;
                        fields = summary;
                    }
                    let doc = DraftDocument {
                        name,
                        bytes: pdf.into_data(),
                    };
                    out.push((doc, pages, fields));
                }
                Ok(out)
            },
        )
        .await
        .map_err(CoreError::internal)??;
        // The organisation's quotas: documents and their bytes (given back if nothing is
        // made).
        let n_docs = parsed.len() as u64;
        let n_bytes: u64 = parsed.iter().map(|(d, _, _)| d.bytes.len() as u64).sum();
        self.take_document_quota(org, n_docs, n_bytes).await?;
        let made = self
            .store_draft(
                org,
                d.header,
                d.logo,
                d.recipients,
                given_fields,
                parsed,
                now,
                actor,
                into,
            )
            .await;
        if made.is_err() {
            self.give_back_quota(org, QuotaKind::Documents, n_docs, now)
                .await;
            self.give_back_quota(org, QuotaKind::StorageBytes, n_bytes, now)
                .await;
        }
        made
    }

    /// Stores a parsed draft: its blobs, then its rows.
    #[allow(clippy::too_many_arguments)]
    async fn store_draft(
        &self,
        org: OrgId,
        header: EnvelopeHeader,
        logo: Option<Vec<u8>>,
        recipients: Vec<NewRecipient>,
        given_fields: Vec<NewField>,
        parsed: Vec<(DraftDocument, u32, Vec<NewField>)>,
        now: Timestamp,
        actor: &Actor,
        into: Option<EnvelopeId>,
    ) -> Result<Envelope> {
        let mut documents = Vec::new();
        let mut fields = given_fields;
        let mut summarised = false;
        for (doc, pages, tag_fields) in parsed {
            let blob: BlobId = self
                .blobs
                .put(&doc.bytes)
                .await
                .map_err(CoreError::internal)?;
            summarised |= tag_fields.iter().any(|f| is_summary_field(&f.name));
            fields.extend(tag_fields);
            documents.push(NewEnvelopeDocument {
                name: doc.name,
                blob,
                pages,
                uuid: self.new_uuid()?,
                signed_uuid: self.new_uuid()?,
            });
        }
        let mut header = header;
        let options = &mut header.options;
        if let Some(logo) = &logo {
            let blob = self.blobs.put(logo).await.map_err(CoreError::internal)?;
            if !options.is_object() {
                *options = json!({});
            }
            if let Some(o) = options.as_object_mut() {
                o.insert("logo".into(), json!(blob.as_str()));
            }
        }
        if summarised {
            // A document without tags: summary pages carry its signatures.
            if let Some(o) = options.as_object_mut() {
                o.insert("summary_page".into(), json!(true));
            } else {
                *options = json!({"summary_page": true});
            }
        }
        let new = NewEnvelope {
            org,
            uuid: self.new_uuid()?,
            header,
            documents,
            recipients,
            fields,
        };
        let (e, action) = match into {
            None => (
                self.store.create_envelope(&new, now).await?,
                AuditAction::EnvelopeCreated,
            ),
            Some(id) => {
                if !self
                    .store
                    .replace_draft_envelope(org, id, &new, now)
                    .await?
                {
                    return Err(CoreError::Domain(DomainError::Conflict {
                        reason: "the envelope is no longer a draft".into(),
                    }));
                }
                (
                    self.store.envelope(org, id).await?,
                    AuditAction::EnvelopeChanged,
                )
            }
        };
        self.envelope_event(
            &e,
            actor,
            action,
            json!({"documents": new.documents.len(), "recipients": new.recipients.len(), "fields": new.fields.len()}),
        );
        Ok(e)
    }

    /// An envelope of the organisation with its recipients.
    pub async fn envelope(&self, org: OrgId, id: EnvelopeId) -> Result<(Envelope, Vec<Recipient>)> {
        let e = self.store.envelope(org, id).await?;
        let r = self.store.recipients(e.id).await?;
        Ok((e, r))
    }

    /// The envelope's documents and fields.
    pub async fn envelope_contents(
        &self,
        e: &Envelope,
    ) -> Result<(Vec<EnvelopeDocument>, Vec<Field>)> {
        Ok((
            self.store.envelope_documents(e.id).await?,
            self.store.fields(e.id).await?,
        ))
    }

    /// Sends a draft: a link for every recipient (returned once), mails to the first group.
    pub async fn send_envelope(
        &self,
        org: OrgId,
        id: EnvelopeId,
        actor: &Actor,
    ) -> Result<Vec<SigningLink>> {
        let now = self.now();
        let e = self.store.envelope(org, id).await?;
        if e.status != EnvelopeStatus::Draft {
            return Err(CoreError::Domain(DomainError::Conflict {
                reason: format!("the envelope is {}, not draft", e.status),
            }));
        }
        if e.header.template {
            return Err(CoreError::Domain(DomainError::Conflict {
                reason: "a template is never sent: instantiate it".into(),
            }));
        }
        if self.store.envelope_documents(id).await?.is_empty() {
            return Err(CoreError::invalid("documents", "at least one is needed"));
        }
        let recipients = self.store.recipients(id).await?;
        if recipients.is_empty() {
            return Err(CoreError::invalid("signers", "at least one is needed"));
        }
        // One signature per recipient is counted when the envelope goes out (a share has
        // nothing to sign).
        let signatures = if crate::sharing::is_sharing(&e.header) {
            0
        } else {
            recipients.len() as u64
        };
        self.take_quota(org, QuotaKind::Signatures, signatures)
            .await?;
        let moved = async {
            self.create_empty_fields(&e).await?;
            self.store
                .set_envelope_status(
                    org,
                    id,
                    &[EnvelopeStatus::Draft],
                    EnvelopeStatus::Sent,
                    None,
                    now,
                )
                .await
                .map_err(CoreError::from)
        }
        .await;
        if !matches!(moved, Ok(true)) {
            self.give_back_quota(org, QuotaKind::Signatures, signatures, now)
                .await;
            moved?;
            return Err(CoreError::Domain(DomainError::Conflict {
                reason: "the envelope is no longer a draft".into(),
            }));
        }
        let e = self.store.envelope(org, id).await?;
        self.follow_send(&e, actor).await
    }

    /// What follows the sending of `e`, safe to run again (the housekeeping does when the
    /// process that sent it died in between): a link for every recipient who has none, the
    /// `envelope.sent` record (once), the first group invited (each mail queued once), the
    /// `envelope.sent` events (queued once); then the sending is marked announced. Returns
    /// every recipient's link.
    async fn follow_send(&self, e: &Envelope, actor: &Actor) -> Result<Vec<SigningLink>> {
        let expires = self.links_expire(e);
        let mut links = Vec::new();
        for r in self.store.recipients(e.id).await? {
            let url = match self.store.recipient_token_sealed(r.id).await? {
                Some(_) => self.link_of(&r).await?,
                None => self.first_link(&r, expires).await?,
            };
            links.push(SigningLink { recipient: r, url });
        }
        self.audit_once(
            e,
            actor,
            AuditAction::EnvelopeSent,
            json!({"recipients": links.len()}),
            e.sent_at,
        )
        .await?;
        self.invite_group(e, 1).await?;
        let key = format!("envelope.sent:{}", e.uuid);
        self.envelope_webhook_once(e, "envelope.sent", None, json!({}), Some(&key))
            .await?;
        self.store.mark_status_announced(e.id).await?;
        Ok(links)
    }

    /// Creates every signature field of the envelope, empty, in one incremental update of each
    /// original, before anybody signs: each signature then only fills its own field, so no
    /// signature adds a form field after an earlier one (what viewers such as Adobe's flag).
    /// Idempotent: it starts again from the original.
    async fn create_empty_fields(&self, e: &Envelope) -> Result<()> {
        let fields = self.store.fields(e.id).await?;
        let recipients = self.store.recipients(e.id).await?;
        let labels: Vec<String> = recipients
            .iter()
            .map(|r| format!("{}. {} — {}", r.position, r.full_name(), r.email.as_str()))
            .collect();
        let lang = recipients.first().map_or("en", |r| r.language.as_str());
        let title = summary_title(lang).to_string();
        for d in self.store.envelope_documents(e.id).await? {
            let summary = fields
                .iter()
                .any(|f| f.document == d.id && is_summary_field(&f.name));
            let new_pages = if summary {
                let subtitle = format!("{} — {} — {}", e.header.title, d.name, e.uuid);
                paraf_sign::pages::summary_pages(&title, &subtitle, &labels)
            } else {
                Vec::new()
            };
            let empty: Vec<paraf_sign::fields::EmptyField> = fields
                .iter()
                .filter(|f| f.document == d.id)
                .map(|f| paraf_sign::fields::EmptyField {
                    name: f.name.clone(),
                    page: usize::try_from(f.page).unwrap_or(usize::MAX),
                    rect: f.rect,
                    kind: empty_kind(f.kind),
                })
                .collect();
            if empty.is_empty() {
                continue;
            }
            // Fillable fields are filled after earlier signatures: the organisation certifies
            // the document first (DocMDP P=2: form filling and signing allowed), so every
            // validator accepts the filling.
            let certifier = if empty
                .iter()
                .any(|f| f.kind != paraf_sign::form::EmptyKind::Signature)
            {
                Some(self.organisation_seal(e).await?)
            } else {
                None
            };
            let pki = self.pki.clone();
            let when: std::time::SystemTime = self.now().into();
            let original = self.stored_file(&d.original).await?;
            let prepared = tokio::task::spawn_blocking(move || {
                let doc = paraf_pdf::Document::load(original, None).map_err(stored)?;
                let pdf = paraf_sign::fields::add_empty_signature_fields(&doc, &new_pages, &empty)
                    .map_err(|e| CoreError::invalid("fields", e.message))?;
                match certifier {
                    None => Ok(pdf),
                    Some(seal) => certify(&pki, seal.as_ref(), pdf, when),
                }
            })
            .await
            .map_err(CoreError::internal)??;
            let blob = self
                .blobs
                .put(&prepared)
                .await
                .map_err(CoreError::internal)?;
            self.store
                .set_document_current(d.id, &blob, None, self.now())
                .await?;
        }
        Ok(())
    }

    /// The link of a recipient who has one (their sealed token, opened).
    async fn link_of(&self, r: &Recipient) -> Result<String> {
        let sealed = self
            .store
            .recipient_token_sealed(r.id)
            .await?
            .ok_or_else(|| CoreError::internal("a recipient to invite has no link"))?;
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(sealed)
            .map_err(CoreError::internal)?;
        let token = self.master_key.open(&bytes).map_err(CoreError::internal)?;
        let token = String::from_utf8(token.to_vec()).map_err(CoreError::internal)?;
        Ok(self.link_url(r, &token))
    }

    /// Mails recipient `r` of `e` their link, the subject starting with `prefix` (a reminder's).
    pub(crate) async fn mail_link(&self, e: &Envelope, r: &Recipient, prefix: &str) -> Result<()> {
        self.mail_link_keyed(e, r, prefix, false).await
    }

    /// The invitation of [`Core::mail_link`], queued at most once per link.
    async fn mail_link_once(&self, e: &Envelope, r: &Recipient) -> Result<()> {
        self.mail_link_keyed(e, r, "", true).await
    }

    async fn mail_link_keyed(
        &self,
        e: &Envelope,
        r: &Recipient,
        prefix: &str,
        once: bool,
    ) -> Result<()> {
        let url = self.link_of(r).await?;
        let key = once.then(|| {
            format!(
                "invitation:{}",
                &crate::proof::sha256_hex(url.as_bytes())[..32]
            )
        });
        let (subject, text) = if crate::sharing::is_sharing(&e.header) {
            share_invitation(
                &r.language,
                e.header.sender_email.as_str(),
                &e.header.title,
                &url,
            )
        } else {
            invitation(
                &r.language,
                e.header.sender_email.as_str(),
                &e.header.title,
                &url,
            )
        };
        self.store
            .queue_message_once(
                &NewMail {
                    org: Some(e.org),
                    to: r.email.as_str().to_string(),
                    subject: format!("{prefix}{subject}"),
                    text,
                    html: None,
                },
                paraf_store::MAIL_QUEUE,
                self.now(),
                key.as_deref(),
            )
            .await?;
        Ok(())
    }

    /// Gives recipient `r` a new link (any earlier one stops working), valid until `expires`;
    /// returns it.
    pub(crate) async fn new_link(
        &self,
        r: &Recipient,
        expires: paraf_domain::Timestamp,
    ) -> Result<String> {
        let (token, sealed) = self.fresh_token()?;
        self.store
            .set_recipient_token(r.id, &token_hash(&token), &sealed, expires)
            .await?;
        Ok(self.link_url(r, &token))
    }

    /// A recipient's first link, unless a concurrent sender gave them one meanwhile (then
    /// theirs).
    async fn first_link(&self, r: &Recipient, expires: paraf_domain::Timestamp) -> Result<String> {
        let (token, sealed) = self.fresh_token()?;
        if self
            .store
            .set_recipient_token_if_none(r.id, &token_hash(&token), &sealed, expires)
            .await?
        {
            Ok(self.link_url(r, &token))
        } else {
            self.link_of(r).await
        }
    }

    /// A new link token and its sealed form (stored to mail the link again).
    fn fresh_token(&self) -> Result<(String, String)> {
        let secret: [u8; 32] = paraf_domain::random_bytes(&*self.entropy)?;
        let token = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(secret);
        let sealed = self
            .master_key
            .seal_text(token.as_bytes())
            .map_err(CoreError::internal)?;
        Ok((token, sealed))
    }

    /// The signing address of token `token` of `r`.
    fn link_url(&self, r: &Recipient, token: &str) -> String {
        format!("{}/{}/sign/{token}", self.public_url, r.language)
    }

    /// When the links of `e` stop working.
    pub(crate) fn links_expire(&self, e: &Envelope) -> paraf_domain::Timestamp {
        e.header
            .expires_at
            .unwrap_or(self.now() + chrono::Duration::days(DEFAULT_LINK_DAYS))
    }

    /// Mails the recipients of `group` their links and marks them invited (no mail when the
    /// envelope's option `mail_invitations` is `false`: the integrator hands out the links).
    pub(crate) async fn invite_group(&self, e: &Envelope, group: u32) -> Result<()> {
        let now = self.now();
        for r in self.store.recipients(e.id).await? {
            if r.group != group || r.status != RecipientStatus::Waiting {
                continue;
            }
            // The mail first, queued once per link: a process dying before the mark below
            // leaves it queued, and whoever invites again queues no second one.
            if mails_invitations(e) {
                self.mail_link_once(e, &r).await?;
            }
            if !self.store.mark_recipient_invited(r.id, now).await? {
                continue;
            }
            self.push_invitation(e, &r.email).await;
            let event = self.audit_event(
                e.org,
                &Actor::system(),
                AuditAction::RecipientInvited,
                Some(format!("envelope:{}", e.uuid)),
                json!({"recipient": r.position, "email": r.email.as_str(), "group": group}),
            );
            self.record_later(event);
        }
        Ok(())
    }

    /// The signing address of recipient `recipient` of envelope `id` of `org`, for an API
    /// caller who hands it out: only while the envelope takes signatures and once the
    /// recipient's group has its turn (a conflict otherwise); the same link as mailed.
    pub async fn recipient_link(
        &self,
        org: OrgId,
        id: EnvelopeId,
        recipient: RecipientId,
        actor: &Actor,
    ) -> Result<String> {
        let e = self.store.envelope(org, id).await?;
        let r = self
            .store
            .recipients(id)
            .await?
            .into_iter()
            .find(|r| r.id == recipient)
            .ok_or(DomainError::not_found(Entity::Recipient))?;
        let conflict = |reason: String| CoreError::Domain(DomainError::Conflict { reason });
        if !e.status.is_open_for_signing() {
            return Err(conflict(format!("the envelope is {}", e.status)));
        }
        match r.status {
            RecipientStatus::Waiting => {
                return Err(conflict(format!(
                    "signer {} waits for group {} to finish",
                    r.position,
                    r.group.saturating_sub(1)
                )))
            }
            RecipientStatus::Signed | RecipientStatus::Declined => {
                return Err(conflict(format!("signer {} already answered", r.position)))
            }
            RecipientStatus::Invited | RecipientStatus::Opened => {}
        }
        let url = self.link_of(&r).await?;
        let event = self.audit_event(
            org,
            actor,
            AuditAction::RecipientLinkIssued,
            Some(format!("envelope:{}", e.uuid)),
            json!({"recipient": r.position}),
        );
        self.record(event).await;
        Ok(url)
    }

    /// The recipient of a live link (for the signer page's own decisions).
    pub async fn link_recipient_of(&self, token: &str) -> Result<Recipient> {
        Ok(self.link_recipient(token).await?.1)
    }

    /// The envelope and recipient of a live link; unknown and expired links are "not found".
    pub(crate) async fn link_recipient(&self, token: &str) -> Result<(Envelope, Recipient)> {
        let (envelope, recipient, until) = self
            .store
            .recipient_by_token_hash(&token_hash(token))
            .await?;
        if self.now() >= until {
            return Err(CoreError::Domain(DomainError::not_found(Entity::Recipient)));
        }
        Ok((envelope, recipient))
    }

    /// Opens a link: what the recipient may see. Unknown and expired links are "not found".
    pub async fn open_link(&self, token: &str, visit: &Visit) -> Result<Opening> {
        let (envelope, recipient) = self.link_recipient(token).await?;
        if !envelope.status.is_open_for_signing() {
            return Ok(Opening::Closed {
                envelope,
                recipient,
            });
        }
        match recipient.status {
            RecipientStatus::Waiting => Ok(Opening::NotYourTurn {
                envelope,
                recipient,
            }),
            RecipientStatus::Signed | RecipientStatus::Declined => Ok(Opening::Done {
                envelope,
                recipient,
            }),
            RecipientStatus::Invited | RecipientStatus::Opened
                if group_done(
                    &envelope,
                    &self.store.recipients(envelope.id).await?,
                    recipient.group,
                ) =>
            {
                // Their group has the signatures it needs ("n of m") without theirs.
                Ok(Opening::Closed {
                    envelope,
                    recipient,
                })
            }
            RecipientStatus::Invited | RecipientStatus::Opened => {
                if recipient.status == RecipientStatus::Invited {
                    self.store
                        .mark_recipient_opened(recipient.id, self.now())
                        .await?;
                    let actor = recipient_actor(&recipient, visit);
                    self.envelope_event(
                        &envelope,
                        &actor,
                        AuditAction::RecipientOpened,
                        json!({"recipient": recipient.position}),
                    );
                }
                let documents = self.store.envelope_documents(envelope.id).await?;
                let fields = self
                    .store
                    .fields(envelope.id)
                    .await?
                    .into_iter()
                    .filter(|f| f.recipient == recipient.id)
                    .collect();
                Ok(Opening::Ready {
                    envelope,
                    recipient,
                    documents,
                    fields,
                })
            }
        }
    }

    /// The documents a link may show or download: any valid link whose recipient's turn has
    /// come (before, during or after their answer; never a waiting recipient's). Nothing is
    /// recorded: page images and downloads call this on every request.
    pub async fn link_documents(
        &self,
        token: &str,
    ) -> Result<(Envelope, Recipient, Vec<EnvelopeDocument>)> {
        let (envelope, recipient) = self.link_recipient(token).await?;
        if recipient.status == RecipientStatus::Waiting {
            return Err(CoreError::Domain(DomainError::Forbidden {
                reason: "it is not your turn yet".into(),
            }));
        }
        if crate::sharing::is_sharing(&envelope.header) && !self.second_factor_done(&recipient) {
            return Err(CoreError::Domain(DomainError::Forbidden {
                reason: "confirm the one-time code first".into(),
            }));
        }
        let documents = self.store.envelope_documents(envelope.id).await?;
        Ok((envelope, recipient, documents))
    }

    /// The current version of document `position` (1-based) of a link's envelope: its name and
    /// bytes (signed so far; final once completed).
    pub async fn link_download(
        &self,
        token: &str,
        position: u32,
    ) -> Result<(String, paraf_store::BlobReader)> {
        let (envelope, recipient, documents) = self.link_documents(token).await?;
        if crate::sharing::is_sharing(&envelope.header) {
            self.envelope_event(
                &envelope,
                &Actor::new(
                    format!("recipient:{}", recipient.email.as_str()),
                    crate::audit::Face::Page,
                ),
                AuditAction::DocumentDownloaded,
                json!({"recipient": recipient.position, "document": position}),
            );
        }
        let d = documents
            .into_iter()
            .find(|d| d.position == position)
            .ok_or(CoreError::Domain(DomainError::not_found(Entity::Blob)))?;
        let file = self.open_file(&d.current).await?;
        Ok((d.name, file))
    }

    /// The signing form's parts of a link whose recipient may answer now; otherwise a conflict
    /// ("not your turn yet", or the envelope no longer takes `what`).
    pub(crate) async fn ready_link(
        &self,
        token: &str,
        visit: &Visit,
        what: &str,
    ) -> Result<(Envelope, Recipient, Vec<EnvelopeDocument>, Vec<Field>)> {
        match self.open_link(token, visit).await? {
            Opening::Ready {
                envelope,
                recipient,
                documents,
                fields,
            } => Ok((envelope, recipient, documents, fields)),
            Opening::NotYourTurn { .. } => Err(CoreError::Domain(DomainError::Conflict {
                reason: "it is not your turn yet".into(),
            })),
            Opening::Done { .. } | Opening::Closed { .. } => {
                Err(CoreError::Domain(DomainError::Conflict {
                    reason: format!("this envelope no longer takes {what}"),
                }))
            }
        }
    }

    /// The recipient of a link declines: the envelope ends `declined` with the reason.
    pub async fn decline(&self, token: &str, reason: &str, visit: &Visit) -> Result<Envelope> {
        let reason = reason.trim();
        if reason.is_empty() || reason.chars().count() > 1000 {
            return Err(CoreError::invalid("reason", "must be 1 to 1000 characters"));
        }
        let (envelope, recipient, _, _) = self.ready_link(token, visit, "answers").await?;
        if !may_decline(&envelope, &recipient) {
            return Err(CoreError::Domain(DomainError::Forbidden {
                reason: "this signer may not decline".into(),
            }));
        }
        if crate::sharing::is_sharing(&envelope.header) {
            return Err(CoreError::Domain(DomainError::Conflict {
                reason: "these documents are shared for download, not for signature".into(),
            }));
        }
        let now = self.now();
        let ip = visit.ip.map(|i| i.to_string());
        if !self
            .store
            .answer_recipient(
                recipient.id,
                paraf_store::Answer::Declined(reason),
                (ip.as_deref(), visit.user_agent.as_deref()),
                now,
            )
            .await?
        {
            return Err(CoreError::Domain(DomainError::Conflict {
                reason: "already answered".into(),
            }));
        }
        let mut answered = recipient.clone();
        answered.decline_reason = Some(reason.to_string());
        answered.declined_at = Some(now);
        let actor = recipient_actor(&recipient, visit);
        match self.follow_refusal(&envelope, &answered, &actor).await {
            Ok(e) => Ok(e),
            Err(err) => {
                // The refusal is recorded: the housekeeping finishes the rest.
                tracing::error!(error = %err, envelope = %envelope.uuid, "could not follow up a refusal");
                Ok(self.store.envelope(envelope.org, envelope.id).await?)
            }
        }
    }

    /// One recipient's signatures on the current version of each document: (document, the
    /// version signed, the new version).
    #[allow(clippy::too_many_arguments)]
    async fn sign_documents(
        &self,
        envelope: &Envelope,
        recipient: &Recipient,
        documents: &[EnvelopeDocument],
        fields: &[Field],
        filled: &[(Field, String, paraf_sign::form::FillValue)],
        input: &SignatureInput,
        now: Timestamp,
    ) -> Result<Vec<(paraf_domain::EnvelopeDocumentId, BlobId, Vec<u8>)>> {
        let image = input.image.clone();
        let typed = input.typed.clone().filter(|t| !t.trim().is_empty());
        let mut jobs = Vec::new();
        for d in documents {
            let pdf = self.current_file(d).await?;
            let mine: Vec<Field> = fields
                .iter()
                .filter(|f| f.document == d.id && is_signature(f.kind))
                .cloned()
                .collect();
            let fills: Vec<(String, paraf_sign::form::FillValue)> = filled
                .iter()
                .filter(|(f, _, _)| f.document == d.id)
                .map(|(f, _, v)| (f.name.clone(), v.clone()))
                .collect();
            jobs.push((d.id, d.current.clone(), pdf, mine, fills));
        }
        let req = paraf_pki::IssueRequest {
            common_name: recipient.full_name().chars().take(64).collect(),
            email: Some(recipient.email.as_str().to_string()),
            nik: None,
            key_type: paraf_pki::KeyType::P256,
            validity_days: SIGNER_CERT_DAYS,
            not_before: now.into(),
        };
        let seal = match envelope.header.model {
            SignatureModel::Seal => Some(self.organisation_seal(envelope).await?),
            SignatureModel::SignerCertificate => None,
        };
        let pki = self.pki.clone();
        let caption = signed_by(&recipient.language).to_string();
        let when: std::time::SystemTime = now.into();
        let name_and_date = format!(
            "{}\n{}",
            recipient.full_name(),
            paraf_sign::human_date(when)
        );
        let signed: Vec<(paraf_domain::EnvelopeDocumentId, BlobId, Vec<u8>)> =
            tokio::task::spawn_blocking(move || -> Result<_> {
                let signer: crate::signing::SealSigner = match seal {
                    Some(seal) => seal,
                    None => {
                        let key = paraf_pki::PrivateKey::generate(req.key_type)
                            .map_err(CoreError::internal)?;
                        let cert = pki
                            .modify(|ca| ca.issue_for_public_key(&req, &key.public_key_der()))
                            .map_err(CoreError::internal)?;
                        let chain = pki.current().map_err(CoreError::internal)?.chain_of(&cert);
                        std::sync::Arc::new(
                            paraf_pki::SoftSigner::new(key, cert, chain, None)
                                .map_err(CoreError::internal)?,
                        )
                    }
                };
                let ca = pki.current().map_err(CoreError::internal)?;
                let signer = signer.as_ref();
                let mut out = Vec::new();
                for (doc, expected, mut pdf, mine, fills) in jobs {
                    if !fills.is_empty() {
                        // Their values, in an update of their own, under their signature.
                        let d = paraf_pdf::Document::load(pdf, None).map_err(stored)?;
                        pdf = paraf_sign::form::fill_fields(&d, &fills)
                            .map_err(|e| CoreError::invalid("fields", e.message))?;
                    }
                    let looks =
                        field_looks(&pdf, &mine, image.as_ref(), typed.as_ref(), &name_and_date)?;
                    for (look, field_name) in looks {
                        let job = FileJob {
                            pdf,
                            field: "pdf".into(),
                            pdf_password: None,
                            look,
                            reason: Some("Signature".into()),
                            location: None,
                            field_name,
                        };
                        pdf = sign_file_with(
                            &ca,
                            signer,
                            job,
                            when,
                            paraf_sign::Level::BLT,
                            &caption,
                        )?;
                    }
                    out.push((doc, expected, pdf));
                }
                // The key goes with `signer` here: it never leaves this function.
                Ok(out)
            })
            .await
            .map_err(CoreError::internal)??;
        Ok(signed)
    }

    /// The recipient of a link signs: a certificate in their name is issued by the
    /// organisation's CA (they proved control of the address the link went to), each of their
    /// signature fields gets a PAdES signature (B-LT: the chain and revocation data in the DSS)
    /// in its own incremental update, and the key is dropped. When their group is done the
    /// next is invited; after the last signature the envelope is sealed (document timestamp:
    /// B-LTA) and completed.
    pub async fn sign(
        &self,
        token: &str,
        input: SignatureInput,
        visit: &Visit,
    ) -> Result<Envelope> {
        let (envelope, recipient, documents, fields) =
            self.ready_link(token, visit, "signatures").await?;
        if crate::sharing::is_sharing(&envelope.header) {
            return Err(CoreError::Domain(DomainError::Conflict {
                reason: "these documents are shared for download, not for signature".into(),
            }));
        }
        if !self.second_factor_done(&recipient) {
            return Err(CoreError::Domain(DomainError::Forbidden {
                reason: "this signer must confirm a one-time code first".into(),
            }));
        }
        let mut input = input;
        let typed_blank = input.typed.as_deref().is_none_or(|t| t.trim().is_empty());
        if input.image.is_none() && (input.saved || typed_blank) {
            if let Some(saved) = self.saved_signature(envelope.org, &recipient.email).await? {
                input.image = Some(saved);
                input.typed = None;
            }
        }
        if input.image.is_none() && input.typed.as_deref().is_none_or(|t| t.trim().is_empty()) {
            return Err(CoreError::invalid(
                "signature",
                "draw, type or upload a signature",
            ));
        }
        let filled = filled_values(&recipient, &fields, &input.values, self.now())?;
        let values: Vec<(paraf_domain::FieldId, String)> = filled
            .iter()
            .map(|(f, text, _)| (f.id, text.clone()))
            .collect();

        // Every document of the envelope, signed by this recipient at each of their fields (a
        // document without any of their fields gets one invisible signature). Recorded only if
        // no other signature landed on a document meanwhile (signers of one group may sign at
        // once): otherwise signed again on the newer versions.
        let now = self.now();
        let mut documents = documents;
        let mut attempt = 0;
        loop {
            attempt += 1;
            let signed = self
                .sign_documents(
                    &envelope, &recipient, &documents, &fields, &filled, &input, now,
                )
                .await?;
            let mut versions = Vec::new();
            for (doc, expected, pdf) in &signed {
                let blob = self.blobs.put(pdf).await.map_err(CoreError::internal)?;
                versions.push((*doc, expected.clone(), blob));
            }
            let ip = visit.ip.map(|i| i.to_string());
            match self
                .store
                .record_signature(
                    recipient.id,
                    (ip.as_deref(), visit.user_agent.as_deref()),
                    &versions,
                    &values,
                    now,
                )
                .await?
            {
                paraf_store::SignatureRecord::Recorded => break,
                paraf_store::SignatureRecord::AlreadyAnswered => {
                    return Err(CoreError::Domain(DomainError::Conflict {
                        reason: "already signed".into(),
                    }))
                }
                paraf_store::SignatureRecord::Stale if attempt < 5 => {
                    documents = self.store.envelope_documents(envelope.id).await?;
                }
                paraf_store::SignatureRecord::Stale => {
                    return Err(CoreError::Domain(DomainError::Conflict {
                        reason: "the document keeps changing; sign again".into(),
                    }))
                }
            }
        }
        fault_pause("PARAF_FAULT_ANSWER_PAUSE_MS").await;
        let actor = recipient_actor(&recipient, visit);
        let e = self.store.envelope(envelope.org, envelope.id).await?;
        match self.follow_signature(&e, &recipient, &actor).await {
            Ok(e) => Ok(e),
            Err(err) => {
                // The signature is recorded: the housekeeping finishes the rest.
                tracing::error!(error = %err, envelope = %e.uuid, "could not follow up a signature");
                Ok(self.store.envelope(e.org, e.id).await?)
            }
        }
    }

    /// What follows a recorded signature, safe to run again (the housekeeping does when the
    /// process that recorded it died in between): its audit record (stored before the reply,
    /// and, the queue being in order, every earlier record of the envelope with it: the proof
    /// reads them), its `recipient.signed` events (queued once), then the next group's
    /// invitations or the sealing; then the answer is marked announced.
    async fn follow_signature(
        &self,
        e: &Envelope,
        recipient: &Recipient,
        actor: &Actor,
    ) -> Result<Envelope> {
        self.audit_once(
            e,
            actor,
            AuditAction::RecipientSigned,
            json!({"recipient": recipient.position}),
            None,
        )
        .await?;
        let key = format!("recipient.signed:{}:{}", e.uuid, recipient.position);
        self.envelope_webhook_once(
            e,
            "recipient.signed",
            Some(recipient),
            json!({"recipient": {"email": recipient.email.as_str()}}),
            Some(&key),
        )
        .await?;
        // Next group, or the end — unless the envelope was ended meanwhile (cancelled,
        // expired: a follow-up run late by the housekeeping invites nobody).
        let all = self.store.recipients(e.id).await?;
        let now = self.store.envelope(e.org, e.id).await?;
        let done = if !now.status.is_open_for_signing() || !group_done(e, &all, recipient.group) {
            now
        } else if all.iter().any(|r| r.group == recipient.group + 1) {
            self.invite_group(e, recipient.group + 1).await?;
            e.clone()
        } else {
            self.complete(e).await?
        };
        self.store.mark_answer_announced(recipient.id).await?;
        Ok(done)
    }

    /// What follows a recorded refusal, safe to run again: the envelope `declined` (if it
    /// still took answers), its audit record, its `envelope.declined` events (queued once);
    /// then the answer is marked announced.
    async fn follow_refusal(
        &self,
        envelope: &Envelope,
        recipient: &Recipient,
        actor: &Actor,
    ) -> Result<Envelope> {
        let reason = recipient.decline_reason.clone().unwrap_or_default();
        self.store
            .set_envelope_status(
                envelope.org,
                envelope.id,
                &[EnvelopeStatus::Sent, EnvelopeStatus::InProgress],
                EnvelopeStatus::Declined,
                Some(&format!(
                    "declined by {}: {reason}",
                    recipient.email.as_str()
                )),
                recipient.declined_at.unwrap_or_else(|| self.now()),
            )
            .await?;
        let e = self.store.envelope(envelope.org, envelope.id).await?;
        self.audit_once(
            &e,
            actor,
            AuditAction::RecipientDeclined,
            json!({"recipient": recipient.position, "reason": reason}),
            None,
        )
        .await?;
        // The envelope's event only if this refusal ended it (not one completed or cancelled
        // meanwhile).
        if e.status == EnvelopeStatus::Declined {
            let key = format!("envelope.declined:{}:{}", e.uuid, recipient.position);
            self.envelope_webhook_once(
                &e,
                "envelope.declined",
                Some(recipient),
                json!({"recipient": {"email": recipient.email.as_str(), "reason": reason}}),
                Some(&key),
            )
            .await?;
        }
        self.store.mark_answer_announced(recipient.id).await?;
        Ok(e)
    }

    /// Appends `action` about `e` with `details` to the audit trail unless that very record
    /// is there already (a follow-up run again), and waits until it is stored. With `since`,
    /// any record of `action` about `e` made since then counts as that record (the first
    /// run's actor may have been another than the follow-up's).
    async fn audit_once(
        &self,
        e: &Envelope,
        actor: &Actor,
        action: AuditAction,
        details: serde_json::Value,
        since: Option<paraf_domain::Timestamp>,
    ) -> Result<()> {
        let target = format!("envelope:{}", e.uuid);
        let event = self.audit_event(e.org, actor, action, Some(target.clone()), details);
        let text = event.details.to_string();
        let details = since.is_none().then_some(text.as_str());
        if self
            .store
            .audit_exists(e.org, &target, &event.action, details, since)
            .await?
        {
            return Ok(());
        }
        self.audit
            .append(event)
            .await
            .map_err(CoreError::internal)?;
        Ok(())
    }

    /// Seals a fully signed envelope: a document timestamp over each document (B-LTA), then
    /// `completed`. A failure leaves it `seal_failed` with the reason (retried by
    /// [`Core::complete`] again), never stuck.
    pub async fn complete(&self, e: &Envelope) -> Result<Envelope> {
        let now = self.now();
        let recipients = self.store.recipients(e.id).await?;
        if recipients
            .iter()
            .any(|r| !group_done(e, &recipients, r.group))
        {
            return Err(CoreError::Domain(DomainError::Conflict {
                reason: "not every recipient has signed".into(),
            }));
        }
        let lease = chrono::Duration::from_std(self.config.sealing_lease)
            .unwrap_or(chrono::Duration::minutes(5));
        if !self
            .store
            .start_sealing(e.org, e.id, now, now + lease)
            .await?
        {
            return Ok(self.store.envelope(e.org, e.id).await?);
        }
        let sealed = async {
            // Until when the document timestamps made now hold (their TSA certificate's end).
            let mut archive_until: Option<std::time::SystemTime> = None;
            for d in self.store.envelope_documents(e.id).await? {
                let pdf = self.current_file(&d).await?;
                let pki = self.pki.clone();
                let (out, tsa_until) = tokio::task::spawn_blocking(move || -> Result<_> {
                    let ca = pki.current().map_err(CoreError::internal)?;
                    let doc = paraf_pdf::Document::load(pdf, None).map_err(CoreError::internal)?;
                    let out = paraf_sign::document_timestamp(&doc, ca.tsa())
                        .map_err(CoreError::internal)?;
                    let cert = ca.tsa().certificate();
                    Ok((out, cert.tbs_certificate.validity.not_after.to_system_time()))
                })
                .await
                .map_err(CoreError::internal)??;
                archive_until = Some(archive_until.map_or(tsa_until, |t| t.min(tsa_until)));
                let blob = self.blobs.put(&out).await.map_err(CoreError::internal)?;
                self.store
                    .set_document_current(d.id, &blob, None, self.now())
                    .await?;
            }
            fault_pause("PARAF_FAULT_SEAL_PAUSE_MS").await;
            // The proof names the completion time, which the status records below.
            let at = self.now();
            self.make_proof(e, at).await?;
            // Every document now ends with a document timestamp: the archive holds until its
            // TSA certificate ends (`ltv refresh`, archive.rs). Not recorded, the housekeeping
            // reads it later.
            if let Some(t) = archive_until {
                if let Err(err) = self.store.set_archive_until(e.id, Timestamp::from(t)).await {
                    tracing::warn!(error = %err, envelope = %e.uuid, "could not record until when the archive holds");
                }
            }
            Ok::<_, CoreError>(at)
        }
        .await;
        let (to, reason, at) = match &sealed {
            Ok(at) => (EnvelopeStatus::Completed, None, *at),
            Err(err) => {
                tracing::error!(error = %err, envelope = %e.uuid, "sealing failed");
                (
                    EnvelopeStatus::SealFailed,
                    Some(format!("sealing failed: {err}")),
                    self.now(),
                )
            }
        };
        let moved = self
            .store
            .set_envelope_status(
                e.org,
                e.id,
                &[EnvelopeStatus::Sealing],
                to,
                reason.as_deref(),
                at,
            )
            .await?;
        let done = self.store.envelope(e.org, e.id).await?;
        if !moved {
            // Another process took over (this one outlived its lease) and finished first: the
            // event is theirs.
            return Ok(done);
        }
        if to == EnvelopeStatus::Completed {
            if let Err(err) = self.announce_completion(&done).await {
                // The housekeeping announces it once the sealing lease has run out.
                tracing::error!(error = %err, envelope = %e.uuid, "could not announce the completion");
            }
        } else {
            self.envelope_event(
                &done,
                &Actor::system(),
                AuditAction::EnvelopeSealFailed,
                json!({"reason": reason}),
            );
            self.envelope_webhook(&done, "envelope.seal_failed", None, json!({}))
                .await;
        }
        Ok(done)
    }

    /// Announces a completed envelope: its audit record (written before going on) and its
    /// `envelope.completed` events, queued at most once whoever calls this — the process that
    /// sealed it, or the housekeeping after that process died in between — then marks it
    /// announced.
    async fn announce_completion(&self, e: &Envelope) -> Result<()> {
        // Written before going on: a failure leaves the envelope unannounced, retried.
        self.audit_once(
            e,
            &Actor::system(),
            AuditAction::EnvelopeCompleted,
            json!({"reason": null}),
            None,
        )
        .await?;
        let key = format!("envelope.completed:{}", e.uuid);
        self.envelope_webhook_once(e, "envelope.completed", None, json!({}), Some(&key))
            .await?;
        self.store.mark_announced(e.org, e.id, self.now()).await?;
        Ok(())
    }

    /// The organisation's envelopes, newest first (of `status` if given), at most `limit`.
    pub async fn envelopes(
        &self,
        org: OrgId,
        status: Option<EnvelopeStatus>,
        limit: u32,
    ) -> Result<Vec<Envelope>> {
        Ok(self.store.envelopes_of(org, status, limit).await?)
    }

    /// An operator resumes the sealing of an envelope that is `seal_failed` (or `sealing`
    /// past its lease) now, instead of waiting for the housekeeping task.
    pub async fn reseal(&self, org: OrgId, id: EnvelopeId) -> Result<Envelope> {
        let e = self.store.envelope(org, id).await?;
        if !matches!(
            e.status,
            EnvelopeStatus::SealFailed | EnvelopeStatus::Sealing
        ) {
            return Err(CoreError::Domain(DomainError::Conflict {
                reason: format!("the envelope is {}, not seal_failed", e.status),
            }));
        }
        self.complete(&e).await
    }

    /// The organisation seal that signs envelopes (on recipients' behalf in the seal model, and
    /// the proof certificate): the organisation's seal `envelopes`, created on first use in the
    /// organisation's name with the sender's address.
    pub(crate) async fn organisation_seal(
        &self,
        e: &Envelope,
    ) -> Result<crate::signing::SealSigner> {
        let seal = match self.store.seal_by_subscriber(e.org, ENVELOPE_SEAL).await {
            Ok(s) => s,
            Err(err) if err.is_not_found() => {
                let org = self.store.organisation(e.org).await?;
                // The seal's address: the account of whoever made the envelope, else the
                // sender's.
                let email = match e.header.created_by {
                    Some(u) => self.store.user(e.org, u).await.ok().map(|u| u.email),
                    None => None,
                }
                .unwrap_or_else(|| e.header.sender_email.clone());
                let made = self
                    .identities()
                    .create_seal(
                        e.org,
                        ENVELOPE_SEAL,
                        org.name.as_str(),
                        email.as_str(),
                        &Actor::system(),
                    )
                    .await;
                match made {
                    Ok(s) => s,
                    // Made meanwhile by a concurrent request.
                    Err(_) => self.store.seal_by_subscriber(e.org, ENVELOPE_SEAL).await?,
                }
            }
            Err(err) => return Err(err.into()),
        };
        self.seal_keys.signer(self, &seal).await
    }

    /// Seals again every envelope whose sealing failed, or whose sealing process died (its
    /// lease ran out) — the housekeeping task calls this at start and every minute; returns
    /// how many are completed now.
    pub async fn retry_sealing(&self) -> Result<usize> {
        let lease = chrono::Duration::from_std(self.config.sealing_lease)
            .unwrap_or(chrono::Duration::minutes(5));
        // Sendings whose process died before following them up (links, invitations,
        // events): followed up now.
        let before = self.now() - lease;
        for e in self.store.statuses_unannounced(before, 100).await? {
            // Another instance's housekeeping may be at it: one takes it.
            if !self
                .store
                .claim_status_followup(e.id, before, self.now())
                .await?
            {
                continue;
            }
            let followed = match e.status {
                EnvelopeStatus::Cancelled | EnvelopeStatus::Expired => {
                    self.follow_end(&e, &Actor::system()).await
                }
                // Signed meanwhile by someone invited before the process died: the rest of
                // the sending (other invitations, the record, the events) is still owed.
                EnvelopeStatus::Sent | EnvelopeStatus::InProgress => {
                    self.follow_send(&e, &Actor::system()).await.map(|_| ())
                }
                // Answered or ended meanwhile (recalled: a draft again): nothing left to do.
                _ => self
                    .store
                    .mark_status_announced(e.id)
                    .await
                    .map_err(Into::into),
            };
            if let Err(err) = followed {
                tracing::error!(error = %err, envelope = %e.uuid, "could not follow up a status");
            }
        }
        // Answers whose process died before following them up (the status, the record, the
        // events, the next group or the sealing): followed up now.
        for (e, r) in self.store.answers_unannounced(before, 100).await? {
            if !self
                .store
                .claim_answer_followup(r.id, before, self.now())
                .await?
            {
                continue;
            }
            let visit = Visit {
                ip: r.ip.as_deref().and_then(|ip| ip.parse().ok()),
                user_agent: r.user_agent.clone(),
            };
            let actor = recipient_actor(&r, &visit);
            let followed = match r.status {
                RecipientStatus::Declined => self.follow_refusal(&e, &r, &actor).await,
                _ => self.follow_signature(&e, &r, &actor).await,
            };
            // One that cannot be followed up now does not hold up the others.
            if let Err(err) = followed {
                tracing::error!(error = %err, envelope = %e.uuid, "could not follow up an answer");
            }
        }
        let mut n = 0;
        for e in self.store.envelopes_to_reseal(self.now(), 100).await? {
            if self.complete(&e).await?.status == EnvelopeStatus::Completed {
                n += 1;
            }
        }
        // Completed by a process that died before announcing it: announced now, once.
        for e in self
            .store
            .completed_unannounced(self.now() - lease, 100)
            .await?
        {
            // One that cannot be announced now does not hold up the others.
            if let Err(err) = self.announce_completion(&e).await {
                tracing::error!(error = %err, envelope = %e.uuid, "could not announce the completion");
            }
        }
        Ok(n)
    }

    /// The current version of a document's file.
    pub(crate) async fn current_file(&self, d: &EnvelopeDocument) -> Result<Vec<u8>> {
        self.stored_file(&d.current).await
    }

    /// A document file the database refers to as a stream, checked as it passes (missing:
    /// an internal error): what downloads hand out without holding the file whole.
    pub async fn open_file(&self, blob: &paraf_domain::BlobId) -> Result<paraf_store::BlobReader> {
        self.blobs
            .get_stream(blob)
            .await
            .map_err(CoreError::internal)?
            .ok_or_else(|| CoreError::internal("a document's file is missing"))
    }

    /// A document file the database refers to (missing: an internal error).
    pub(crate) async fn stored_file(&self, blob: &paraf_domain::BlobId) -> Result<Vec<u8>> {
        self.blobs
            .get(blob)
            .await
            .map_err(CoreError::internal)?
            .ok_or_else(|| CoreError::internal("a document's file is missing"))
    }

    /// The current (signed) version of each document.
    pub async fn envelope_files(&self, e: &Envelope) -> Result<Vec<(EnvelopeDocument, Vec<u8>)>> {
        let mut out = Vec::new();
        for d in self.store.envelope_documents(e.id).await? {
            let bytes = self.current_file(&d).await?;
            out.push((d, bytes));
        }
        Ok(out)
    }

    /// The sender cancels an envelope that is not finished.
    pub async fn cancel_envelope(
        &self,
        org: OrgId,
        id: EnvelopeId,
        reason: &str,
        actor: &Actor,
    ) -> Result<Envelope> {
        let from = [
            EnvelopeStatus::Draft,
            EnvelopeStatus::Sent,
            EnvelopeStatus::InProgress,
        ];
        let reason = if reason.trim().is_empty() {
            "cancelled by the sender"
        } else {
            reason.trim()
        };
        if !self
            .store
            .set_envelope_status(
                org,
                id,
                &from,
                EnvelopeStatus::Cancelled,
                Some(reason),
                self.now(),
            )
            .await?
        {
            let e = self.store.envelope(org, id).await?;
            return Err(CoreError::Domain(DomainError::Conflict {
                reason: format!("the envelope is {}", e.status),
            }));
        }
        let e = self.store.envelope(org, id).await?;
        if !crate::sharing::is_sharing(&e.header) && e.sent_at.is_some() {
            let unsigned = self
                .store
                .recipients(id)
                .await?
                .iter()
                .filter(|r| r.status != RecipientStatus::Signed)
                .count() as u64;
            let sent = e.sent_at.unwrap_or(e.created_at);
            self.give_back_quota(org, QuotaKind::Signatures, unsigned, sent)
                .await;
        }
        if let Err(err) = self.follow_end(&e, actor).await {
            // The housekeeping announces it.
            tracing::error!(error = %err, envelope = %e.uuid, "could not announce a cancellation");
        }
        Ok(e)
    }

    /// What follows the end of `e` by cancellation or expiry, safe to run again: its record
    /// (`envelope.cancelled` / `envelope.expired`, once: an envelope ends once) and its events
    /// (queued once); then the envelope is marked announced.
    async fn follow_end(&self, e: &Envelope, actor: &Actor) -> Result<()> {
        let (action, event, details) = match e.status {
            EnvelopeStatus::Cancelled => (
                AuditAction::EnvelopeCancelled,
                "envelope.cancelled",
                json!({"reason": e.status_reason}),
            ),
            EnvelopeStatus::Expired => {
                (AuditAction::EnvelopeExpired, "envelope.expired", json!({}))
            }
            _ => return Ok(()),
        };
        self.audit_once(e, actor, action, details, Some(e.created_at))
            .await?;
        let key = format!("{event}:{}", e.uuid);
        self.envelope_webhook_once(e, event, None, json!({}), Some(&key))
            .await?;
        self.store.mark_status_announced(e.id).await?;
        Ok(())
    }

    /// Creates and sends an envelope in one step, for one credit of the organisation (none
    /// taken from an organisation without a limit; given back if anything fails). Returns the
    /// envelope, every recipient's link and the credits left (`None`: unlimited).
    pub async fn request_signatures(
        &self,
        org: OrgId,
        d: Draft,
        actor: &Actor,
    ) -> Result<(Envelope, Vec<SigningLink>, Option<i64>)> {
        let left = match self.store.take_credit(org).await? {
            paraf_store::CreditTake::NoneLeft => return Err(CoreError::NoCredits),
            paraf_store::CreditTake::Unlimited => None,
            paraf_store::CreditTake::Left(n) => Some(n),
        };
        let done = async {
            let e = self.create_envelope(org, d, actor).await?;
            let links = match self.send_envelope(org, e.id, actor).await {
                Ok(links) => links,
                Err(err) => {
                    // Nothing was asked of anyone: the draft goes (and its quota with it).
                    if let Err(e) = self.delete_draft(org, e.id, actor).await {
                        tracing::error!(error = %e, "could not delete an unsent draft");
                    }
                    return Err(err);
                }
            };
            let e = self.store.envelope(org, e.id).await?;
            Ok::<_, CoreError>((e, links))
        }
        .await;
        match done {
            Ok((e, links)) => Ok((e, links, left)),
            Err(err) => {
                if left.is_some() {
                    if let Err(e) = self.store.return_credit(org).await {
                        tracing::error!(error = %e, "could not give a credit back");
                    }
                }
                Err(err)
            }
        }
    }

    /// The organisation's credits (`None`: unlimited).
    pub async fn credits(&self, org: OrgId) -> Result<Option<i64>> {
        Ok(self.store.credits(org).await?)
    }

    /// Changes the organisation's credits (see [`crate::directory::change_credits`]).
    pub async fn change_credits(
        &self,
        org: OrgId,
        change: CreditChange,
        actor: &Actor,
    ) -> Result<Option<i64>> {
        crate::directory::change_credits(&self.store, self.now(), org, change, actor).await
    }

    /// Ends every envelope past its expiry (the housekeeping task calls this); returns how many.
    pub async fn expire_envelopes(&self) -> Result<usize> {
        let now = self.now();
        let mut n = 0;
        for e in self.store.envelopes_to_expire(now, 500).await? {
            let from = [EnvelopeStatus::Sent, EnvelopeStatus::InProgress];
            if self
                .store
                .set_envelope_status(
                    e.org,
                    e.id,
                    &from,
                    EnvelopeStatus::Expired,
                    Some("expired before every signature"),
                    now,
                )
                .await?
            {
                let e = self.store.envelope(e.org, e.id).await?;
                if let Err(err) = self.follow_end(&e, &Actor::system()).await {
                    // The housekeeping announces it.
                    tracing::error!(error = %err, envelope = %e.uuid, "could not announce an expiry");
                }
                n += 1;
            }
        }
        Ok(n)
    }
}
