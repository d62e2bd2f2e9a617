//! Files streamed from the blob store to the client: the body flows chunk by chunk (a large
//! PDF is never held whole), with its `Content-Length`. The store checks the content hash as
//! the chunks pass and holds the last one back until it matched, so an altered blob ends the
//! body short of its length (the client sees a failed transfer, never the forged file whole).

use axum::body::Body;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::Response;
use paraf_core::BlobReader;

/// A `200` whose body is `file`, with its length; the caller adds the type and disposition.
pub fn streamed(file: BlobReader) -> Response {
    let size = file.size;
    let mut r = Response::new(Body::from_stream(file.stream));
    *r.status_mut() = StatusCode::OK;
    r.headers_mut()
        .insert(header::CONTENT_LENGTH, HeaderValue::from(size));
    r
}
