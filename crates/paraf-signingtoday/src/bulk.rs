//! DSTs by the hundred: a template instantiated once per row of a CSV or XLSX file
//! (`POST /DST/{id}/instantiate/byFile`), the groups so made (`GET /DSTs/byFile`), and a
//! template made from an uploaded PDF (`POST /DSTs/byFile`).
//!
//! The file's first row names the columns: for each role of the template (a signer's
//! `templateLabel`, else its `role`) `<role>.email` (required), `<role>.name`,
//! `<role>.surname`, `<role>.phone`; a `title` column, when present, titles each row's DST.
//! A row with an error is reported by row and column; the others are made.

use std::io::Cursor;

use axum::extract::{Query, Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use paraf_core::domain::Email;
use paraf_http::state::AppState;

use crate::dsts::{dst_of, Found};
use crate::error::StError;
use crate::plan::plan_of;
use crate::wire::{
    Dst, DstInput, DstPath, InstantiateInput, InstantiatedByFile, InstantiationGroup,
    InstantiationGroups, Refused, RoleMapping, RowError, Signer,
};
use crate::{time, Caller};

/// Most rows one file may hold.
pub const MAX_ROWS: usize = 5000;
/// Largest file accepted.
pub const MAX_FILE: usize = 10 * 1024 * 1024;

/// A spreadsheet's rows as text, the header first: XLSX (read with calamine) or CSV
/// (comma or semicolon separated).
pub fn read_sheet(bytes: &[u8]) -> Result<Vec<Vec<String>>, String> {
    if bytes.starts_with(b"PK\x03\x04") {
        use calamine::Reader as _;
        let mut book = calamine::open_workbook_auto_from_rs(Cursor::new(bytes.to_vec()))
            .map_err(|e| format!("not a readable XLSX file ({e})"))?;
        let range = book
            .worksheet_range_at(0)
            .ok_or("the workbook has no sheet")?
            .map_err(|e| format!("the first sheet cannot be read ({e})"))?;
        return Ok(range
            .rows()
            .map(|r| r.iter().map(|c| c.to_string().trim().to_string()).collect())
            .collect());
    }
    let text =
        std::str::from_utf8(bytes).map_err(|_| "not a CSV file in UTF-8 nor an XLSX file")?;
    let first = text.lines().next().unwrap_or_default();
    let delimiter = if first.matches(';').count() > first.matches(',').count() {
        b';'
    } else {
        b','
    };
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(delimiter)
        .from_reader(text.trim_start_matches('\u{feff}').as_bytes());
    let mut rows = Vec::new();
    for rec in reader.records() {
        let rec = rec.map_err(|e| format!("not a readable CSV file ({e})"))?;
        rows.push(rec.iter().map(|c| c.trim().to_string()).collect());
    }
    Ok(rows)
}

/// The roles of a template, in the order its signers appear.
fn roles_of(e: &paraf_core::domain::Envelope) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for d in plan_of(e).documents {
        for s in d.signer_groups.iter().flat_map(|g| &g.signers) {
            if let Some(r) = s.template_label.clone().or_else(|| s.role.clone()) {
                if !out.contains(&r) {
                    out.push(r);
                }
            }
        }
    }
    out
}

/// What a row says: the roles mapping and its DST's title, or the row's error.
fn row_mapping(
    header: &[String],
    roles: &[String],
    row: &[String],
    n: usize,
) -> Result<(Vec<RoleMapping>, Option<String>), RowError> {
    let cell = |name: &str| {
        header
            .iter()
            .position(|h| h.eq_ignore_ascii_case(name))
            .and_then(|k| row.get(k))
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty())
    };
    let mut mapping = Vec::new();
    for role in roles {
        let column = format!("{role}.email");
        let email = cell(&column).ok_or_else(|| RowError {
            row: n,
            column: Some(column.clone()),
            message: "an e-mail address is required".into(),
        })?;
        if Email::parse(&email).is_err() {
            return Err(RowError {
                row: n,
                column: Some(column),
                message: format!("{email:?} is not an e-mail address"),
            });
        }
        mapping.push(RoleMapping {
            role_name: Some(role.clone()),
            signer: Signer {
                name: cell(&format!("{role}.name")),
                surname: cell(&format!("{role}.surname")),
                email: Some(email),
                phone: cell(&format!("{role}.phone")),
                ..Signer::default()
            },
        });
    }
    Ok((mapping, cell("title")))
}

/// Reads a multipart body: its fields and its `file` (at most [`MAX_FILE`]).
async fn multipart(
    state: &AppState,
    req: Request,
) -> Result<(Vec<(String, String)>, paraf_http::forms::Upload), StError> {
    let (pairs, file) = crate::documents::file_part(state, req).await?;
    if file.bytes.len() > MAX_FILE {
        return Err(StError::invalid("file", "the file is larger than 10 MB"));
    }
    Ok((pairs, file))
}

/// `?publish=true`.
#[derive(Debug, serde::Deserialize)]
pub struct PublishQuery {
    #[serde(default)]
    pub publish: Option<String>,
}

/// One DST per row of a CSV or XLSX file, made from the template and grouped; published at
/// once with `?publish=true`. Rows with an error are listed in `errors`; 400 when no row
/// could be used.
#[utoipa::path(post, path = "/api/DST/{id}/instantiate/byFile", tag = "signingtoday",
    params(DstPath, ("publish" = Option<bool>, Query, description = "Publish each DST at once")),
    request_body(content_type = "multipart/form-data", description = "file (CSV or XLSX), title, tags (JSON array)"),
    responses((status = 200, body = InstantiatedByFile), Refused))]
pub async fn instantiate_by_file(
    State(state): State<AppState>,
    Found {
        caller,
        dst: template,
    }: Found,
    Query(q): Query<PublishQuery>,
    req: Request,
) -> Result<Response, StError> {
    caller.sends()?;
    if !template.header.template {
        return Err(StError::illegal_status("the DST is not a template"));
    }
    let publish = match q.publish.as_deref().map(str::to_ascii_lowercase).as_deref() {
        None | Some("false") => false,
        Some("true") => true,
        Some(_) => return Err(StError::invalid("publish", "publish must be true or false")),
    };
    let (pairs, file) = multipart(&state, req).await?;
    let field = |k: &str| {
        pairs
            .iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.trim().to_string())
    };
    let tags: Option<Vec<String>> = match field("tags").filter(|t| !t.is_empty()) {
        None => None,
        Some(t) if t.starts_with('[') => Some(
            serde_json::from_str(&t)
                .map_err(|_| StError::invalid("tags", "tags must be a JSON array of strings"))?,
        ),
        Some(t) => Some(t.split(',').map(|x| x.trim().to_string()).collect()),
    };
    let rows = read_sheet(&file.bytes).map_err(|m| StError::invalid("file", m))?;
    let Some((header, body)) = rows.split_first() else {
        return Err(StError::invalid("file", "the file is empty"));
    };
    if body.len() > MAX_ROWS {
        return Err(StError::invalid(
            "file",
            format!("the file has more than {MAX_ROWS} rows"),
        ));
    }
    let roles = roles_of(&template);
    if roles.is_empty() {
        return Err(StError::illegal_status(
            "the template has no roles (signers with a templateLabel)",
        ));
    }
    for role in &roles {
        let column = format!("{role}.email");
        if !header.iter().any(|h| h.eq_ignore_ascii_case(&column)) {
            return Err(StError::invalid(
                "file",
                format!(
                    "the first row has no column {column:?} (roles: {})",
                    roles.join(", ")
                ),
            ));
        }
    }
    let title = field("title")
        .filter(|t| !t.is_empty())
        .unwrap_or_else(|| file.name.clone());
    let (batch, name) = state
        .core
        .create_batch(caller.org, template.id, &title)
        .await?;
    let mut made = Vec::new();
    let mut errors = Vec::new();
    for (k, row) in body.iter().enumerate() {
        let n = k + 2;
        if row.iter().all(|c| c.is_empty()) {
            continue;
        }
        let (mapping, row_title) = match row_mapping(header, &roles, row, n) {
            Ok(m) => m,
            Err(e) => {
                errors.push(e);
                continue;
            }
        };
        let patches = DstInput {
            title: row_title,
            tags: tags.clone(),
            ..DstInput::default()
        };
        let input = InstantiateInput {
            template_patches: None,
            roles_mapping: mapping,
        };
        let result = async {
            let e = crate::lifecycle::instantiate_template(
                &state, &caller, &template, &patches, &input,
            )
            .await?;
            state.core.add_to_batch(caller.org, e.id, batch).await?;
            if publish {
                state
                    .core
                    .send_envelope(caller.org, e.id, &caller.actor)
                    .await?;
            }
            Ok::<_, StError>(e.uuid)
        }
        .await;
        match result {
            Ok(id) => made.push(id),
            Err(e) => errors.push(RowError {
                row: n,
                column: e.body.target.clone(),
                message: e.body.message,
            }),
        }
    }
    if made.is_empty() {
        let detail = errors
            .iter()
            .take(5)
            .map(|e| format!("row {}: {}", e.row, e.message))
            .collect::<Vec<_>>()
            .join("; ");
        return Err(StError::invalid(
            "file",
            format!("no row could be used ({detail})"),
        ));
    }
    Ok(Json(InstantiatedByFile {
        instantiation_group: Some(name),
        title,
        dst_ids: made,
        errors,
    })
    .into_response())
}

/// The organisation's instantiation groups, newest first (`$top` 1 … 100, `$skip`,
/// `$count`).
#[utoipa::path(get, path = "/api/DSTs/byFile", tag = "signingtoday",
    params(
        ("$top" = Option<u32>, Query, description = "1-100, default 100"),
        ("$skip" = Option<u64>, Query, description = "An offset into the groups"),
        ("$count" = Option<bool>, Query, description = "Include the count of all the groups"),
    ),
    responses((status = 200, body = InstantiationGroups), Refused))]
pub async fn groups(
    State(state): State<AppState>,
    caller: Caller,
    Query(params): Query<Vec<(String, String)>>,
) -> Result<Response, StError> {
    caller.sends()?;
    let paging = crate::dsts::Paging::of(&params)?;
    let (list, total) = state
        .core
        .batches(caller.org, (paging.skip, paging.top), paging.count)
        .await?;
    let values = list
        .into_iter()
        .map(|b| InstantiationGroup {
            instantiation_group_id: b.name,
            template_id: b.template,
            title: b.title,
            generated_at: time(b.created_at),
            group_size: b.size,
            in_state_signed: b.completed,
            in_state_error: b.failed,
            in_state_rejected: b.declined,
            in_state_expired: b.expired,
        })
        .collect();
    Ok(Json(InstantiationGroups {
        values,
        count: total,
    })
    .into_response())
}

/// A template from an uploaded PDF (`file`, and `title`): one document, no signers yet (add
/// them with `PUT /DST/{id}`).
#[utoipa::path(post, path = "/api/DSTs/byFile", tag = "signingtoday",
    request_body(content_type = "multipart/form-data", description = "file (a PDF), title"),
    responses((status = 200, body = Dst), Refused))]
pub async fn template_by_file(
    State(state): State<AppState>,
    caller: Caller,
    req: Request,
) -> Result<Response, StError> {
    caller.sends()?;
    let (pairs, file) = multipart(&state, req).await?;
    let title = pairs
        .iter()
        .find(|(k, _)| k == "title")
        .map(|(_, v)| v.trim().to_string())
        .filter(|t| !t.is_empty())
        .unwrap_or_else(|| file.name.clone());
    let input = DstInput {
        title: Some(title),
        template: Some(true),
        documents: vec![crate::wire::DocumentInput {
            resource: Some(crate::wire::ResourceInput {
                filename: Some(file.name.clone()),
                source: Some(crate::wire::SourceInput {
                    kind: Some("Embedded".into()),
                    embedded_data: Some(base64::Engine::encode(
                        &base64::engine::general_purpose::STANDARD,
                        &file.bytes,
                    )),
                    source_url: None,
                }),
                ..crate::wire::ResourceInput::default()
            }),
            ..crate::wire::DocumentInput::default()
        }],
        ..DstInput::default()
    };
    let made = crate::plan::make(&state, caller.org, caller.user, &input, false).await?;
    let e = state
        .core
        .create_envelope(caller.org, made.draft, &caller.actor)
        .await?;
    Ok((StatusCode::OK, Json(dst_of(&state, &e).await?)).into_response())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn csv_with_either_separator_and_a_bom() {
        let rows = read_sheet("\u{feff}Buyer.email;Buyer.name\na@x.com;Ann\n".as_bytes()).unwrap();
        assert_eq!(
            rows,
            vec![vec!["Buyer.email", "Buyer.name"], vec!["a@x.com", "Ann"]]
        );
        let rows = read_sheet(b"Buyer.email,Buyer.name\n\"b@x.com\",\"Bo, Jr\"\n").unwrap();
        assert_eq!(rows[1], vec!["b@x.com", "Bo, Jr"]);
        assert!(read_sheet(&[0xff, 0xfe, 0x00]).is_err());
    }

    #[test]
    fn a_row_names_its_bad_column() {
        let header: Vec<String> = vec!["Buyer.email".into(), "Buyer.name".into()];
        let roles = vec!["Buyer".to_string()];
        let e = row_mapping(&header, &roles, &["nope".into(), "Ann".into()], 3).unwrap_err();
        assert_eq!((e.row, e.column.as_deref()), (3, Some("Buyer.email")));
        let (m, _) = row_mapping(&header, &roles, &["a@x.com".into(), "Ann".into()], 2).unwrap();
        assert_eq!(m[0].signer.name.as_deref(), Some("Ann"));
    }
}
