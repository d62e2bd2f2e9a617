//! BSrE API v1 (seed 001 §5): `POST /api/sign/pdf` (multipart, the signed PDF as the body and
//! its id in the `id_dokumen` header) and `GET /api/sign/download/{id_dokumen}` (once).
//! `POST /api/sign/verify` is in [`crate::verify`].

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{Multipart, Path, State};
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Extension, Router};
use paraf_core::domain::Principal;

use crate::error::{BsreError, Code};
use crate::wire::{self, num, required, text, DownloadErrors, Errors, Language, Num, V1SignForm};
use paraf_core::audit::AuditAction;
use paraf_core::signing::{self as sign, FileJob, Look, PageSel, Place, Proof};
use paraf_http::state::AppState;

/// The routes of v1's signing and download.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/sign/pdf", post(sign_pdf))
        .route("/api/sign/download/{id_dokumen}", get(download))
}

/// A multipart form: text fields and files by name (the first of each name wins).
#[derive(Default)]
pub struct Form {
    /// Text fields.
    pub fields: HashMap<String, String>,
    /// Files: (file name, bytes).
    pub files: HashMap<String, (String, Vec<u8>)>,
}

impl Form {
    /// Reads the whole multipart body; a part with a file name is a file.
    pub async fn read(mut m: Multipart) -> Result<Form, BsreError> {
        let mut form = Form::default();
        loop {
            let field = match m.next_field().await {
                Ok(Some(f)) => f,
                Ok(None) => break,
                Err(e) => return Err(multipart_error(e)),
            };
            let name = field.name().unwrap_or("").to_string();
            let file_name = field.file_name().map(str::to_string);
            let bytes = field.bytes().await.map_err(multipart_error)?;
            match file_name {
                Some(f) => {
                    form.files.entry(name).or_insert((f, bytes.to_vec()));
                }
                None => {
                    let text = String::from_utf8(bytes.to_vec())
                        .map_err(|_| BsreError::invalid(&name, "not UTF-8 text"))?;
                    form.fields.entry(name).or_insert(text);
                }
            }
        }
        Ok(form)
    }

    /// A non-empty text field.
    pub fn text(&self, name: &str) -> Option<&str> {
        self.fields
            .get(name)
            .map(|s| s.trim())
            .filter(|s| !s.is_empty())
    }

    /// A required text field.
    pub fn required(&self, name: &str) -> Result<&str, BsreError> {
        self.text(name).ok_or_else(|| BsreError::missing(name))
    }

    /// A number field, if given.
    pub fn number(&self, name: &str) -> Result<Option<f64>, BsreError> {
        match self.text(name) {
            None => Ok(None),
            Some(v) => v
                .parse::<f64>()
                .ok()
                .filter(|n| n.is_finite())
                .map(Some)
                .ok_or_else(|| BsreError::invalid(name, format!("{v:?} is not a number"))),
        }
    }

    /// A required number field.
    pub fn required_number(&self, name: &str) -> Result<f64, BsreError> {
        self.number(name)?.ok_or_else(|| BsreError::missing(name))
    }

    /// A file given (even empty text fields of the same name count as absent).
    pub fn file(&self, name: &str) -> Option<&(String, Vec<u8>)> {
        self.files.get(name).filter(|(_, b)| !b.is_empty())
    }
}

fn multipart_error(e: axum::extract::multipart::MultipartError) -> BsreError {
    if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
        BsreError::new(Code::PayloadTooLarge).cause(e.body_text())
    } else {
        BsreError::invalid("body", e.body_text())
    }
}

/// Whether these bytes are a JPEG or PNG image.
pub fn is_jpeg_or_png(b: &[u8]) -> bool {
    b.starts_with(&[0xFF, 0xD8, 0xFF]) || b.starts_with(b"\x89PNG\r\n\x1a\n")
}

fn boolean(v: &Option<String>, name: &str) -> Result<Option<bool>, BsreError> {
    match text(v).map(str::to_ascii_lowercase).as_deref() {
        None => Ok(None),
        Some("true" | "1" | "yes") => Ok(Some(true)),
        Some("false" | "0" | "no") => Ok(Some(false)),
        Some(v) => Err(BsreError::invalid(
            name,
            format!("{v:?}: expected true or false"),
        )),
    }
}

/// A required number field of the form.
fn need(v: &Option<Num>, name: &str) -> Result<f64, BsreError> {
    num(v, name)?.ok_or_else(|| BsreError::missing(name))
}

/// The look of a v1 request (§5.2's three variants).
fn look_of(form: &V1SignForm) -> Result<Look, BsreError> {
    let tampilan = required(&form.tampilan, "tampilan")?.to_ascii_lowercase();
    match tampilan.as_str() {
        "invisible" => return Ok(Look::Invisible),
        "visible" => {}
        other => {
            return Err(BsreError::invalid(
                "tampilan",
                format!("{other:?}: expected visible or invisible"),
            ))
        }
    }
    let image_flag = boolean(&form.image, "image")?;
    let image_file = form.image_ttd.as_ref();
    let link = text(&form.link_qr);
    let use_image = match image_flag {
        Some(v) => v,
        None => image_file.is_some() || link.is_none(),
    };
    let (image, qr) = if use_image {
        let Some(bytes) = image_file else {
            return Err(BsreError::missing("imageTTD"));
        };
        if !is_jpeg_or_png(bytes) {
            return Err(BsreError::new(Code::InvalidImage)
                .arg("field", "imageTTD")
                .arg("detail", "not a JPG, JPEG or PNG image"));
        }
        (Some(bytes.clone()), None)
    } else {
        let Some(link) = link else {
            return Err(BsreError::new(Code::MissingLinkQr));
        };
        (None, Some(link.to_string()))
    };
    let width = need(&form.width, "width")?;
    let height = need(&form.height, "height")?;
    for (n, v) in [("width", width), ("height", height)] {
        if v <= 0.0 {
            return Err(BsreError::invalid(n, "must be greater than 0"));
        }
    }
    let place = if let Some(tag) = text(&form.tag_koordinat) {
        Place::Tag {
            tag: tag.to_string(),
            width,
            height,
        }
    } else {
        let page =
            match (text(&form.page), text(&form.halaman)) {
                (Some(p), _) => PageSel::Number(p.parse::<usize>().map_err(|_| {
                    BsreError::invalid("page", format!("{p:?} is not a page number"))
                })?),
                (None, Some(h)) => match h.to_ascii_lowercase().as_str() {
                    "first" | "pertama" | "awal" => PageSel::First,
                    "last" | "terakhir" | "akhir" => PageSel::Last,
                    other => {
                        return Err(BsreError::invalid(
                            "halaman",
                            format!("{other:?}: expected first or last"),
                        ))
                    }
                },
                (None, None) => return Err(BsreError::missing("page")),
            };
        Place::Rect {
            page,
            x: need(&form.x_axis, "xAxis")?,
            y: need(&form.y_axis, "yAxis")?,
            width,
            height,
        }
    };
    Ok(Look::Visible {
        place,
        image,
        qr,
        text: text(&form.text).map(str::to_string),
    })
}

impl V1SignForm {
    /// The typed form: the text parts read as the wire struct, the file parts added.
    fn of(form: &Form) -> Result<V1SignForm, BsreError> {
        let fields = form
            .fields
            .iter()
            .map(|(k, v)| (k.clone(), serde_json::Value::String(v.clone())))
            .collect();
        let mut typed: V1SignForm = wire::parse(serde_json::Value::Object(fields))?;
        typed.file = form.file("file").cloned();
        typed.image_ttd = form.file("imageTTD").map(|(_, b)| b.clone());
        Ok(typed)
    }
}

/// `POST /api/sign/pdf`.
#[utoipa::path(post, path = "/api/sign/pdf", tag = "BSrE v1", params(Language),
    summary = "Sign a PDF (multipart)",
    description = "Signs `file` with the identity `nik`, unlocked by `passphrase`, at PAdES B-T. The reply is the signed PDF; its `id_dokumen` header names it for one later download.",
    request_body(content = V1SignForm, content_type = "multipart/form-data"),
    responses(Errors, (status = 200, description = "The signed PDF (PAdES B-T).", content_type = "application/pdf", body = Vec<u8>,
        headers(("id_dokumen" = String, description = "The document id for `GET /api/sign/download/{id_dokumen}` (32 hex characters)."),
                ("Content-Disposition" = String, description = "`attachment; filename=\"<name>_signed.pdf\"`.")))))]
pub(crate) async fn sign_pdf(
    State(state): State<AppState>,
    Extension(p): Extension<Principal>,
    m: Multipart,
) -> Result<Response, BsreError> {
    let form = V1SignForm::of(&Form::read(m).await?)?;
    let (file_name, pdf) = form
        .file
        .clone()
        .ok_or_else(|| BsreError::missing("file"))?;
    let nik = required(&form.nik, "nik")?;
    let passphrase = form
        .passphrase
        .as_deref()
        .filter(|s| !s.is_empty())
        .ok_or_else(|| BsreError::missing("passphrase"))?;
    let look = look_of(&form)?;
    let identity = crate::find_identity(&state, &p, Some(nik), None).await?;
    let (signer, _) =
        sign::unlock_identity(&state, &identity, Proof::Passphrase(passphrase)).await?;
    let job = FileJob {
        pdf,
        field: "file".to_string(),
        pdf_password: None,
        look,
        reason: text(&form.reason).map(str::to_string),
        location: text(&form.location).map(str::to_string),
        field_name: None,
    };
    let mut signed = sign::sign_all(&state, p.org, Arc::new(signer), vec![job]).await?;
    let pdf = signed
        .pop()
        .ok_or_else(|| BsreError::internal("no output"))?;
    let signed_name = signed_file_name(&file_name);
    let id = state
        .keep_signed_document(p.org, &pdf, &signed_name)
        .await?;
    crate::audit_signature(
        &state,
        &p,
        AuditAction::DocumentSigned,
        format!("identity:{}", identity.id),
        serde_json::json!({"id_dokumen": id, "files": 1}),
    )
    .await;
    Ok(crate::with_signatures(
        pdf_response(pdf, &signed_name, Some(&id)),
        1,
    ))
}

/// `name.pdf` → `name_signed.pdf`, without characters that break a header.
pub fn signed_file_name(original: &str) -> String {
    let base = original
        .rsplit(['/', '\\'])
        .next()
        .unwrap_or("document.pdf")
        .trim_end_matches(".pdf")
        .trim_end_matches(".PDF");
    let clean: String = base
        .chars()
        .filter(|c| c.is_alphanumeric() || " -_.()".contains(*c))
        .take(100)
        .collect();
    let clean = if clean.trim().is_empty() {
        "document".to_string()
    } else {
        clean
    };
    format!("{clean}_signed.pdf")
}

/// A PDF reply (with the `id_dokumen` header when given).
pub fn pdf_response(pdf: Vec<u8>, file_name: &str, id: Option<&str>) -> Response {
    pdf_headers(pdf.into_response(), file_name, id)
}

/// `resp` (a PDF's `200`) with its type, name and `id_dokumen` when given.
fn pdf_headers(mut resp: Response, file_name: &str, id: Option<&str>) -> Response {
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/pdf"),
    );
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{file_name}\"")) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    if let Some(id) = id.and_then(|i| HeaderValue::from_str(i).ok()) {
        h.insert("id_dokumen", id);
        h.insert(
            header::ACCESS_CONTROL_EXPOSE_HEADERS,
            HeaderValue::from_static("id_dokumen"),
        );
    }
    resp
}

/// `GET /api/sign/download/{id_dokumen}`: once.
#[utoipa::path(get, path = "/api/sign/download/{id_dokumen}", tag = "BSrE v1",
    params(("id_dokumen" = String, Path, description = "The `id_dokumen` header of the `POST /api/sign/pdf` reply."), Language),
    summary = "Download a signed document, once",
    responses(DownloadErrors, (status = 200, description = "The signed PDF; the id is used up.", content_type = "application/pdf", body = Vec<u8>)))]
pub(crate) async fn download(
    State(state): State<AppState>,
    Extension(p): Extension<Principal>,
    Path(id): Path<String>,
) -> Result<Response, BsreError> {
    let (doc, pdf) = state.take_signed_document(p.org, &id).await.map_err(|e| {
        if e.is_not_found() {
            BsreError::new(Code::DocumentNotFound).arg("id", &id)
        } else if paraf_core::documents::already_taken(&e) {
            BsreError::new(Code::AlreadyDownloaded).arg("id", &id)
        } else {
            e.into()
        }
    })?;
    crate::audit(
        &state,
        &p,
        AuditAction::DocumentDownloaded,
        format!("document:{id}"),
        serde_json::json!({}),
    );
    Ok(pdf_headers(
        paraf_http::files::streamed(pdf),
        &doc.file_name,
        Some(&doc.id),
    ))
}
