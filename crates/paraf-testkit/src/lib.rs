//! Test helpers shared by every crate's tests (a dev-dependency only, never shipped):
//!
//! - [`db`]: a fresh database per test on SQLite and PostgreSQL, selected by
//!   `PARAF_TEST_DATABASE` (`both` by default, `sqlite`, `postgres`); `PARAF_TEST_POSTGRES_URL`
//!   overrides the admin URL. A selected but unreachable PostgreSQL fails with a message.
//! - [`pdf`]: the one minimal-PDF builder (classic xref table) and the fixtures built on it.
//! - [`tools`]: running outside programs and the validators (pyHanko, pdfsig with NSS, qpdf).
//! - [`clock`]: fixed instants.
//! - [`schema`]: would the Signing Today SDKs deserialize this JSON reply
//!   (`schema::assert_conforms("DigitalSignatureTransaction", &body)`)?
//! - [`smtp`]: a real SMTP sink (aiosmtpd); [`browser`]: headless Chromium over WebDriver.
//! - [`saml`]: a SAML identity provider (openssl keys, responses signed by `xmlsec1`).
//!
//! - [`app`] (feature `app`): the running server (`spawn`, `TestApp`) and its fixtures;
//!   [`webhook`]: a receiver that checks Standard Webhooks signatures.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#![forbid(unsafe_code)]

#[cfg(feature = "app")]
pub mod app;
pub mod browser;
pub mod clock;
pub mod corpus;
pub mod db;
pub mod docs;
pub mod pdf;
pub mod rng;
pub mod s3;
pub mod saml;
pub mod schema;
pub mod smtp;
pub mod tools;
#[cfg(feature = "app")]
pub mod webhook;
