//! Paraf's server-rendered pages: the admin console (`/console`) and the certificate
//! activation page a signer reaches from the activation mail (`/aktivasi/{secret}`).
//!
//! Pages are askama templates (`templates/`, checked at compile time, HTML-escaped by
//! default: the one escaping path); the style sheets are embedded (`static/`). No JavaScript.
//! Business rules are `paraf-core`'s.

#![forbid(unsafe_code)]

pub mod activation;
pub mod console;
pub mod invitation;
pub mod render;
pub mod signer;

/// The web pages as the server registers them (the console is not in the OpenAPI document:
/// it is for people; the activation page is, being a link mailed to them).
pub fn dialect() -> paraf_http::Dialect {
    paraf_http::Dialect {
        name: "web",
        routes: |state| {
            console::router(state)
                .merge(activation::routes())
                .merge(invitation::routes())
                .merge(signer::routes())
        },
        openapi: activation::add_to,
        wrap: None,
        payload: None,
    }
}
