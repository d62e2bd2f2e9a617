//! Resources: the files of DSTs by their UUIDs (`GET /resource/{id}`: a document's original,
//! or its signed version once the DST is signed).

use axum::extract::{Path, State};
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use paraf_http::state::AppState;

use crate::error::StError;
use crate::wire::Refused;
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
    let (e, doc, signed, bytes) = state.core.document_by_uuid(caller.org, &id).await?;
    if e.header.face != crate::FACE || e.deleted_at.is_some() {
        return Err(StError::not_found("id", "resource"));
    }
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
        bytes,
    )
        .into_response())
}
