//! Paraf's own external API, `/ext/v1`, under the seed-004 client-gateway conventions
//! (docs/external-api.md):
//!
//! - `x-app-key` on every request (401 when missing, unknown or disabled): an application key
//!   made with `paraf admin app-key create`; where the key requires it, `x-signature` (base64
//!   Ed25519 over `METHOD\nPATH?QUERY\nx-request-id\nhex(sha256(body))`, 401 on a mismatch);
//! - `x-request-id` on every request (400 when missing): the same id with the same request
//!   replays the first reply (`x-idempotent-replay: true`), with another request 409; replies
//!   carrying tokens are never recorded (a repeated id there is 409: tokens are shown once);
//! - `x-language`: `id` (default), `en`, `fr`, `it` or `es`;
//! - the token chain: `POST auth/login` → access, refresh and user token; `POST auth/token`
//!   with the refresh token → new access + refresh (rotation; reuse revokes the chain);
//!   `POST auth/refresh-token` with the user token → a new refresh token; `POST auth/logout`;
//!   user data (`GET me`) needs the access token and the same session's `x-user-token`;
//! - every reply `{code, message, data}` ([`reply`]).
//!
//! Resources: envelopes with their documents, recipients in groups and fields (`envelopes`,
//! `parts`), templates and webhooks (`manage`), `GET /ext/v1/me`, `POST /ext/v1/verify`; the
//! typed bodies in `wire`, the OpenAPI document in `openapi`.

#![forbid(unsafe_code)]

pub mod auth;
pub mod conventions;
pub mod envelopes;
pub mod manage;
pub mod openapi;
pub mod parts;
pub mod reply;
pub mod verify;
pub mod wire;

use axum::routing::{get, post};
use axum::Router;
use paraf_http::state::AppState;

/// The path prefix of the API.
pub const PREFIX: &str = "/ext/v1";

/// Every `/ext/v1` route, behind the conventions.
pub fn router(state: AppState) -> Router<AppState> {
    Router::new()
        .route("/ext/v1/auth/login", post(auth::login))
        .route("/ext/v1/auth/token", post(auth::token))
        .route("/ext/v1/auth/refresh-token", post(auth::refresh_token))
        .route("/ext/v1/auth/logout", post(auth::logout))
        .route("/ext/v1/me", get(auth::me))
        .route("/ext/v1/verify", post(verify::verify))
        .route(
            "/ext/v1/envelopes",
            get(envelopes::list).post(envelopes::create),
        )
        .route(
            "/ext/v1/envelopes/{id}",
            get(envelopes::get_one)
                .patch(envelopes::patch)
                .delete(envelopes::delete),
        )
        .route("/ext/v1/envelopes/{id}/send", post(envelopes::send))
        .route("/ext/v1/envelopes/{id}/cancel", post(envelopes::cancel))
        .route("/ext/v1/envelopes/{id}/remind", post(envelopes::remind))
        .route("/ext/v1/envelopes/{id}/download", get(envelopes::download))
        .route(
            "/ext/v1/envelopes/{id}/certificate",
            get(envelopes::certificate),
        )
        .route("/ext/v1/envelopes/{id}/audit", get(envelopes::audit))
        .route(
            "/ext/v1/envelopes/{id}/documents",
            get(parts::documents).post(parts::add_documents),
        )
        .route(
            "/ext/v1/envelopes/{id}/documents/{position}",
            get(parts::document).delete(parts::remove_document),
        )
        .route(
            "/ext/v1/envelopes/{id}/recipients",
            get(parts::recipients).put(parts::put_recipients),
        )
        .route(
            "/ext/v1/envelopes/{id}/recipients/{position}/link",
            post(parts::link),
        )
        .route(
            "/ext/v1/envelopes/{id}/fields",
            get(parts::fields).put(parts::put_fields),
        )
        .route(
            "/ext/v1/templates",
            get(manage::templates).post(manage::create_template),
        )
        .route(
            "/ext/v1/templates/{id}",
            get(manage::template).delete(manage::delete_template),
        )
        .route(
            "/ext/v1/templates/{id}/envelopes",
            post(manage::instantiate),
        )
        .route(
            "/ext/v1/webhooks",
            get(manage::webhooks).post(manage::create_webhook),
        )
        .route(
            "/ext/v1/webhooks/{id}",
            get(manage::webhook).delete(manage::delete_webhook),
        )
        .route("/ext/v1/webhooks/{id}/rotate", post(manage::rotate_webhook))
        .route("/ext/v1/webhooks/{id}/enable", post(manage::enable_webhook))
        .route(
            "/ext/v1/webhooks/{id}/disable",
            post(manage::disable_webhook),
        )
        .route("/ext/v1/webhooks/{id}/deliveries", get(manage::deliveries))
        .route(
            "/ext/v1/webhooks/deliveries/{delivery}/redeliver",
            post(manage::redeliver),
        )
        .route_layer(axum::middleware::from_fn_with_state(
            state,
            conventions::enforce,
        ))
}

/// The external API as the server registers it.
pub fn dialect() -> paraf_http::Dialect {
    paraf_http::Dialect {
        name: "ext",
        routes: router,
        openapi: openapi::add_to,
        wrap: Some(|state, app| {
            app.layer(axum::middleware::from_fn_with_state(
                state,
                conventions::envelope,
            ))
        }),
        payload: None,
    }
}
