//! Resources: the files of DSTs by their UUIDs (`GET /resource/{id}`: a document's original,
//! or its signed version once the DST is signed).

use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use paraf_http::state::AppState;

use crate::dsts::Found;
use crate::error::StError;
use crate::wire::{DstPath, Refused};
use crate::{is_uuid, Caller};

/// The `Content-Disposition` of a download named `name` (quotes and controls dropped).
fn attachment(name: &str) -> HeaderValue {
    let clean: String = name
        .chars()
        .filter(|c| !c.is_control() && *c != '"' && *c != '\\')
        .collect();
    HeaderValue::from_str(&format!("attachment; filename=\"{clean}\""))
        .unwrap_or_else(|_| HeaderValue::from_static("attachment"))
}

/// The bytes of a resource of the organisation.
#[utoipa::path(get, path = "/api/resource/{id}", tag = "signingtoday",
    params(("id" = String, Path, description = "The resource's UUID")),
    responses((status = 200, description = "The file", content_type = "application/pdf", body = Vec<u8>), Refused))]
pub async fn download(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Response, StError> {
    if !is_uuid(&id) {
        return Err(StError::not_found("id", "resource"));
    }
    let (e, doc, signed) = state.core.document_named(caller.org, &id).await?;
    visible(&state, &caller, &e).await?;
    let file = state.core.document_reader(&doc, signed).await?;
    let name = if signed {
        format!("signed-{}", doc.name)
    } else {
        doc.name.clone()
    };
    Ok((
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/pdf"),
            ),
            (header::CONTENT_DISPOSITION, attachment(&name)),
        ],
        paraf_http::files::streamed(file),
    )
        .into_response())
}

/// Refuses a resource whose DST the caller may not see (another face's or a deleted one is
/// "not found").
async fn visible(
    state: &AppState,
    caller: &Caller,
    e: &paraf_core::domain::Envelope,
) -> Result<(), StError> {
    match crate::dsts::find(state, caller, &e.uuid).await {
        Ok(_) => Ok(()),
        Err(err) if err.status == axum::http::StatusCode::NOT_FOUND => {
            Err(StError::not_found("id", "resource"))
        }
        Err(err) => Err(err),
    }
}

/// A zip (stored: PDFs are compressed already) of `files` (name, bytes).
fn zip_of(files: Vec<(String, Vec<u8>)>) -> Result<Vec<u8>, StError> {
    use std::io::Write as _;
    let mut out = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let opts =
        zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    let mut names: Vec<String> = Vec::new();
    for (name, bytes) in files {
        // One entry per name: a repeated name gets its position in front.
        let name = if names.contains(&name) {
            format!("{}-{name}", names.len() + 1)
        } else {
            name
        };
        out.start_file(name.clone(), opts)
            .map_err(StError::internal)?;
        out.write_all(&bytes).map_err(StError::internal)?;
        names.push(name);
    }
    Ok(out.finish().map_err(StError::internal)?.into_inner())
}

fn zip_response(name: &str, bytes: Vec<u8>) -> Response {
    (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/zip"),
            ),
            (header::CONTENT_DISPOSITION, attachment(name)),
        ],
        bytes,
    )
        .into_response()
}

/// The files of a DST: each document's original, and its signed version once signed.
async fn files_of(
    state: &AppState,
    e: &paraf_core::domain::Envelope,
) -> Result<Vec<(String, Vec<u8>)>, StError> {
    let completed = e.status == paraf_core::domain::EnvelopeStatus::Completed;
    let mut out = Vec::new();
    let (documents, _) = state.core.envelope_contents(e).await?;
    for d in documents {
        out.push((d.name.clone(), state.core.document_file(&d, false).await?));
        if completed {
            let signed = state.core.document_file(&d, true).await?;
            out.push((format!("signed-{}", d.name), signed));
        }
    }
    Ok(out)
}

/// Every resource of a DST in a zip file.
#[utoipa::path(get, path = "/api/DST/{id}/resources", tag = "signingtoday", params(DstPath),
    responses((status = 200, description = "A zip file", content_type = "application/zip", body = Vec<u8>), Refused))]
pub async fn dst_zip(
    State(state): State<AppState>,
    Found { dst: e, .. }: Found,
) -> Result<Response, StError> {
    let files = files_of(&state, &e).await?;
    Ok(zip_response(&format!("{}.zip", e.uuid), zip_of(files)?))
}

/// Every resource of the DSTs of an instantiation group in a zip file (one folder per DST).
#[utoipa::path(get, path = "/api/DSTs/instantiationGroup/{id}/resources", tag = "signingtoday",
    params(("id" = String, Path, description = "The instantiation group's id")),
    responses((status = 200, description = "A zip file", content_type = "application/zip", body = Vec<u8>), Refused))]
pub async fn group_zip(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Response, StError> {
    let list = state
        .core
        .batch_envelopes(caller.org, id.trim())
        .await
        .map_err(|_| StError::not_found("id", "instantiation group"))?;
    let mut files = Vec::new();
    for e in &list {
        // The DSTs of the group the caller may see.
        if crate::dsts::find(&state, &caller, &e.uuid).await.is_err() {
            continue;
        }
        for (name, bytes) in files_of(&state, e).await? {
            files.push((format!("{}/{name}", e.uuid), bytes));
        }
    }
    Ok(zip_response(&format!("{}.zip", id.trim()), zip_of(files)?))
}

/// `?page=…&width=…`.
#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
pub struct ThumbQuery {
    /// The page (from 1; default 1).
    pub page: Option<String>,
    /// The image's width in pixels (16 … 1200; default the rendering's).
    pub width: Option<String>,
}

/// A page of a resource as a JPEG thumbnail (rendered on the server, cached).
#[utoipa::path(get, path = "/api/pdfResource/{id}/thumbs", tag = "signingtoday",
    params(("id" = String, Path, description = "The resource's UUID"), ThumbQuery),
    responses((status = 200, description = "The page", content_type = "image/jpeg", body = Vec<u8>), Refused))]
pub async fn thumbs(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Query(q): Query<ThumbQuery>,
) -> Result<Response, StError> {
    let number = |v: &Option<String>, target: &str, range: std::ops::RangeInclusive<u32>| {
        v.as_deref()
            .map(|s| {
                s.trim()
                    .parse::<u32>()
                    .ok()
                    .filter(|n| range.contains(n))
                    .ok_or_else(|| {
                        StError::invalid(
                            target,
                            format!(
                                "{target} must be a number from {} to {}",
                                range.start(),
                                range.end()
                            ),
                        )
                    })
            })
            .transpose()
    };
    let page = number(&q.page, "page", 1..=100_000)?.unwrap_or(1);
    let width = number(&q.width, "width", 16..=1200)?;
    if !is_uuid(&id) {
        return Err(StError::not_found("id", "resource"));
    }
    let (e, doc, _) = state.core.document_named(caller.org, &id).await?;
    visible(&state, &caller, &e).await?;
    if page > doc.pages {
        return Err(StError::invalid(
            "page",
            format!("the document has {} pages", doc.pages),
        ));
    }
    let png = state.core.page_image(&doc, page).await?;
    let jpeg = tokio_blocking(move || {
        let img = image::load_from_memory_with_format(&png, image::ImageFormat::Png)
            .map_err(|e| e.to_string())?;
        let img = match width {
            Some(w) if w < img.width() => {
                let h =
                    (u64::from(img.height()) * u64::from(w) / u64::from(img.width().max(1))).max(1);
                img.resize_exact(
                    w,
                    u32::try_from(h).unwrap_or(u32::MAX),
                    image::imageops::FilterType::Triangle,
                )
            }
            _ => img,
        };
        let mut out = std::io::Cursor::new(Vec::new());
        img.to_rgb8()
            .write_to(&mut out, image::ImageFormat::Jpeg)
            .map_err(|e| e.to_string())?;
        Ok::<_, String>(out.into_inner())
    })
    .await?
    .map_err(StError::internal)?;
    Ok((
        [(header::CONTENT_TYPE, HeaderValue::from_static("image/jpeg"))],
        jpeg,
    )
        .into_response())
}

/// Runs `f` off the async threads.
async fn tokio_blocking<T: Send + 'static>(
    f: impl FnOnce() -> T + Send + 'static,
) -> Result<T, StError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(StError::internal)
}
