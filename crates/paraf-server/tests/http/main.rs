//! The server's HTTP tests: one binary booting the real server on port 0 per test, on SQLite
//! and on PostgreSQL (each store-backed test runs once per backend; see `common.rs`).

use paraf_testkit::both_backends;

mod alphasign;
mod alphasign_browser;
mod archive;
mod auth;
mod bsre;
mod bsre_verify;
mod ca_database;
mod common;
mod console;
mod console_app_keys;
mod downloads;
mod envelopes;
mod ext;
mod ext_envelopes;
mod fill;
mod fsck;
mod gesdocs;
mod gesdocs_proof;
mod gesdocs_share;
mod isolation;
mod jobs;
mod limits;
mod openapi;
mod pki;
mod proof;
mod recipients;
mod recovery;
mod signer_page;
mod signingtoday;
mod signingtoday_browser;
mod signingtoday_people;
mod signingtoday_saml;
mod webhooks;
