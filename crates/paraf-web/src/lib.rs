//! Paraf's server-rendered pages: the admin console (`/console`), the certificate
//! activation page a signer reaches from the activation mail (`/aktivasi/{secret}`), the
//! signer page, the invitation page and the public verification page (`/verify`).
//!
//! Pages are askama templates (`templates/`, checked at compile time, HTML-escaped by
//! default: the one escaping path); the style sheets are embedded (`static/`). JavaScript only where a page needs it (the signer page, the verification page), allowed by hash in
//! their Content-Security-Policy.
//! Business rules are `paraf-core`'s.

#![forbid(unsafe_code)]

pub mod activation;
pub mod console;
pub mod invitation;
pub mod password;
pub mod render;
pub mod signer;
pub mod verify;

/// The web pages as the server registers them (the console is not in the OpenAPI document:
/// it is for people; the activation page is, being a link mailed to them).
pub fn dialect() -> paraf_http::Dialect {
    paraf_http::Dialect {
        name: "web",
        routes: |state| {
            console::router(state)
                .merge(activation::routes())
                .merge(invitation::routes())
                .merge(password::routes())
                .merge(signer::routes())
                .merge(verify::routes())
        },
        openapi: activation::add_to,
        wrap: None,
        payload: None,
    }
}
