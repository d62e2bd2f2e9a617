//! The account (`/me`, `/me/quota`) and the address book (`/contacts`); the shared
//! pagination of lists.

use std::collections::{BTreeMap, HashMap};

use axum::extract::{FromRequest, FromRequestParts, Query, Request, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use paraf_core::domain::{Email, Role};
use paraf_core::library::Paging;
use paraf_http::state::AppState;
use serde::Serialize;

use crate::error::{AlphasignError, Msg};
use crate::wire::{
    Contact, ContactInput, Me, PageLinks, PageMeta, Paginated, Quota, Success, Tenant, UsedLimit,
};
use crate::Caller;

/// Routes without authentication.
pub fn public() -> Router<AppState> {
    Router::new().route("/api/v1/verify/{hash}", get(crate::verify::verify))
}

/// Routes behind a bearer API token.
pub fn private() -> Router<AppState> {
    use crate::documents as d;
    Router::new()
        .route("/api/v1/me", get(me))
        .route("/api/v1/me/quota", get(quota))
        .route("/api/v1/documents", get(d::list).post(d::create))
        .route(
            "/api/v1/documents/{document}",
            get(d::show).delete(d::delete),
        )
        .route(
            "/api/v1/documents/{document}/send",
            axum::routing::post(d::send),
        )
        .route("/api/v1/documents/{document}/download", get(d::download))
        .route("/api/v1/contacts", get(contacts).post(create_contact))
}

/// Messages per field, collected for every field at once as Laravel reports them.
#[derive(Default)]
pub struct Checks(pub(crate) BTreeMap<String, Vec<Msg>>);

impl Checks {
    pub(crate) fn fail(&mut self, field: &str, m: Msg) {
        self.0.entry(field.to_string()).or_default().push(m);
    }

    /// The trimmed value of a required text field (at most `max` characters), or an error.
    pub(crate) fn required(&mut self, field: &str, v: Option<&str>, max: usize) -> String {
        match v.map(str::trim) {
            Some(s) if !s.is_empty() => {
                if s.chars().count() > max {
                    self.fail(
                        field,
                        Msg::new(
                            format!("Kolom {field} maksimal {max} karakter."),
                            format!("The {field} field must not be greater than {max} characters."),
                        ),
                    );
                }
                s.to_string()
            }
            _ => {
                self.fail(
                    field,
                    Msg::new(
                        format!("Kolom {field} wajib diisi."),
                        format!("The {field} field is required."),
                    ),
                );
                String::new()
            }
        }
    }

    /// A required, valid e-mail address.
    pub(crate) fn email(&mut self, field: &str, v: Option<&str>) -> String {
        let s = self.required(field, v, 254);
        if !s.is_empty() && Email::parse(&s).is_err() {
            self.fail(
                field,
                Msg::new(
                    format!("Kolom {field} harus berupa alamat email yang valid."),
                    format!("The {field} field must be a valid email address."),
                ),
            );
        }
        s
    }

    pub(crate) fn done(self) -> Result<(), AlphasignError> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(AlphasignError::validation(self.0))
        }
    }
}

/// A list request: its query, the page asked (`page` ≥ 1, default 1; `per_page` 1 … 100,
/// default 20) with the checks so far (the handler adds its filters' and calls `done`), and the
/// list's address for the page links.
pub struct Listing {
    pub(crate) query: HashMap<String, String>,
    pub(crate) paging: Paging,
    pub(crate) checks: Checks,
    pub(crate) base: String,
}

impl FromRequestParts<AppState> for Listing {
    type Rejection = AlphasignError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &AppState,
    ) -> Result<Self, AlphasignError> {
        let Query(query) = Query::<HashMap<String, String>>::from_request_parts(parts, state)
            .await
            .map_err(|_| AlphasignError::for_status(StatusCode::BAD_REQUEST, None))?;
        let mut checks = Checks::default();
        let paging = read_paging(&query, &mut checks);
        let base = format!("{}{}", base_url(state, &parts.headers), parts.uri.path());
        Ok(Listing {
            query,
            paging,
            checks,
            base,
        })
    }
}

fn read_paging(q: &HashMap<String, String>, c: &mut Checks) -> Paging {
    let per_page = match q.get("per_page").map(|s| s.trim()) {
        None | Some("") => 20,
        Some(s) => match s.parse::<u32>() {
            Ok(n) if (1..=100).contains(&n) => n,
            _ => {
                c.fail(
                    "per_page",
                    Msg::new(
                        "Kolom per_page harus bilangan bulat antara 1 dan 100.",
                        "The per_page field must be an integer between 1 and 100.",
                    ),
                );
                20
            }
        },
    };
    let page = match q.get("page").map(|s| s.trim()) {
        None | Some("") => 1,
        Some(s) => match s.parse::<u64>() {
            Ok(n) if (1..=1_000_000).contains(&n) => n,
            _ => {
                c.fail(
                    "page",
                    Msg::new(
                        "Kolom page harus bilangan bulat minimal 1.",
                        "The page field must be an integer of at least 1.",
                    ),
                );
                1
            }
        },
    };
    Paging { page, per_page }
}

/// The address of this server as the client reached it (the configured public URL, else the
/// `Host` the request named).
pub(crate) fn base_url(state: &AppState, headers: &HeaderMap) -> String {
    if let Some(u) = state.config.public_url.as_deref() {
        return u.trim_end_matches('/').to_string();
    }
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .filter(|h| {
            h.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b".-:[]".contains(&b))
        })
        .unwrap_or("localhost");
    format!("http://{host}")
}

/// A page of `items` (of `total`) in Laravel's paginated shape; `query` is kept in the
/// links (besides `page`).
pub(crate) fn paginated<T: Serialize>(
    items: Vec<T>,
    total: u64,
    ask: &Paging,
    path: String,
    query: &[(&str, String)],
) -> Response {
    let per = u64::from(ask.per_page);
    let last_page = total.div_ceil(per).max(1);
    let link = |page: u64| {
        let mut q: Vec<String> = query.iter().map(|(k, v)| format!("{k}={v}")).collect();
        q.push(format!("per_page={}", ask.per_page));
        q.push(format!("page={page}"));
        format!("{path}?{}", q.join("&"))
    };
    let n = items.len() as u64;
    let from = (n > 0).then(|| ask.offset() + 1);
    let to = (n > 0).then(|| ask.offset() + n);
    let body = Paginated {
        success: true,
        data: items,
        meta: PageMeta {
            current_page: ask.page,
            from,
            last_page,
            per_page: ask.per_page,
            to,
            total,
            path: path.clone(),
        },
        links: PageLinks {
            first: link(1),
            last: link(last_page),
            prev: (ask.page > 1).then(|| link(ask.page - 1)),
            next: (ask.page < last_page).then(|| link(ask.page + 1)),
        },
    };
    Json(body).into_response()
}

fn role_word(r: Role) -> &'static str {
    match r {
        Role::Admin => "admin",
        Role::Instructor => "member",
        Role::Signer => "signer",
    }
}

/// The authenticated user and their organisation.
#[utoipa::path(get, path = "/api/v1/me", tag = "alphasign",
    responses(
        (status = 200, description = "`{\"success\": true, \"data\": Me}`", body = Me),
        (status = 401, body = crate::wire::ErrorBody),
        (status = 429, description = "Rate limited (Retry-After)", body = crate::wire::ErrorBody),
    ))]
pub async fn me(State(state): State<AppState>, caller: Caller) -> Result<Response, AlphasignError> {
    let user = state.core.user(caller.org, caller.user).await?;
    let org = state.core.organisation(caller.org).await?;
    Ok(Json(Success::of(Me {
        id: user.id.0.to_string(),
        name: user.name.as_str().to_string(),
        email: user.email.as_str().to_string(),
        role: role_word(user.role).into(),
        tenant: Tenant {
            id: org.slug.as_str().to_string(),
            name: org.name.as_str().to_string(),
            plan: org.plan.display_name().into(),
        },
    }))
    .into_response())
}

/// What the organisation used this month against its plan's quotas.
#[utoipa::path(get, path = "/api/v1/me/quota", tag = "alphasign",
    responses(
        (status = 200, description = "`{\"success\": true, \"data\": Quota}`", body = Quota),
        (status = 401, body = crate::wire::ErrorBody),
    ))]
pub async fn quota(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Response, AlphasignError> {
    let (q, u) = state.core.quota(caller.org).await?;
    let ul = |used, limit| UsedLimit { used, limit };
    Ok(Json(Success::of(Quota {
        signatures: ul(u.signatures, q.signatures),
        documents: ul(u.documents, q.documents),
        storage_bytes: ul(u.storage_bytes, q.storage_bytes),
        api_requests: ul(u.api_requests, q.api_requests),
    }))
    .into_response())
}

fn contact_view(c: paraf_core::domain::Contact) -> Contact {
    Contact {
        id: c.id.0.to_string(),
        name: c.name.as_str().to_string(),
        email: c.email.as_str().to_string(),
        phone: c.phone,
        company: c.company,
        created_at: crate::time(c.created_at),
    }
}

/// The organisation's contacts (paginated: `page`, `per_page` 1 … 100, default 20).
#[utoipa::path(get, path = "/api/v1/contacts", tag = "alphasign",
    params(
        ("per_page" = Option<u32>, Query, description = "1-100, default 20"),
        ("page" = Option<u64>, Query, description = "default 1"),
    ),
    responses(
        (status = 200, description = "`{\"success\": true, \"data\": [Contact], \"meta\": …, \"links\": …}`", body = [Contact]),
        (status = 401, body = crate::wire::ErrorBody),
        (status = 422, body = crate::wire::ErrorBody),
    ))]
pub async fn contacts(
    State(state): State<AppState>,
    caller: Caller,
    list: Listing,
) -> Result<Response, AlphasignError> {
    list.checks.done()?;
    let page = state.core.contact_page(caller.org, list.paging).await?;
    let items = page.items.into_iter().map(contact_view).collect();
    Ok(paginated(items, page.total, &list.paging, list.base, &[]))
}

/// Add a contact (JSON: `name*`, `email*`, `phone`, `company`); one per e-mail address.
#[utoipa::path(post, path = "/api/v1/contacts", tag = "alphasign",
    request_body(content = ContactInput, content_type = "application/json"),
    responses(
        (status = 201, description = "`{\"success\": true, \"data\": Contact}`", body = Contact),
        (status = 401, body = crate::wire::ErrorBody),
        (status = 422, description = "A field is missing or invalid, or the e-mail is already a contact", body = crate::wire::ErrorBody),
    ))]
pub async fn create_contact(
    State(state): State<AppState>,
    caller: Caller,
    req: Request,
) -> Result<Response, AlphasignError> {
    let input: ContactInput = json_body(req, &state).await?;
    let mut c = Checks::default();
    let name = c.required("name", input.name.as_deref(), 200);
    let email = c.email("email", input.email.as_deref());
    for (field, v) in [("phone", &input.phone), ("company", &input.company)] {
        if v.as_deref().is_some_and(|s| s.chars().count() > 200) {
            c.fail(
                field,
                Msg::new(
                    format!("Kolom {field} maksimal 200 karakter."),
                    format!("The {field} field must not be greater than 200 characters."),
                ),
            );
        }
    }
    c.done()?;
    let contact = state
        .core
        .create_contact(
            caller.org,
            &name,
            &email,
            input.phone.as_deref(),
            input.company.as_deref(),
            &caller.actor,
        )
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(Success::of(contact_view(contact))),
    )
        .into_response())
}

/// A JSON body (a form is read too); an empty body is an empty object, so every required
/// field is reported.
pub(crate) async fn json_body<T: serde::de::DeserializeOwned + Default>(
    req: Request,
    state: &AppState,
) -> Result<T, AlphasignError> {
    let ct = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    let unreadable = || {
        AlphasignError::new(
            StatusCode::BAD_REQUEST,
            Msg::new(
                "Isi permintaan tidak dapat dibaca.",
                "The request body could not be read.",
            ),
        )
    };
    if ct.starts_with("application/x-www-form-urlencoded") {
        let axum::Form(pairs) = axum::Form::<Vec<(String, String)>>::from_request(req, state)
            .await
            .map_err(|_| unreadable())?;
        let v = paraf_http::forms::bracketed_to_json(pairs, &[]);
        return serde_json::from_value(v).map_err(|_| unreadable());
    }
    let bytes = axum::body::Bytes::from_request(req, state)
        .await
        .map_err(|_| unreadable())?;
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(T::default());
    }
    let v: serde_json::Value = serde_json::from_slice(&bytes).map_err(|e| {
        AlphasignError::new(
            StatusCode::BAD_REQUEST,
            Msg::new(
                format!("Isi permintaan bukan JSON yang valid: {e}."),
                format!("The body is not valid JSON: {e}."),
            ),
        )
    })?;
    // Wrong types (a number for a name) are validation errors, as Laravel reports them.
    serde_json::from_value(v).map_err(AlphasignError::unexpected_fields)
}
