//! The store test suite: every case runs on SQLite and on PostgreSQL (see `common`).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

#[path = "store/audit.rs"]
mod audit;
#[path = "store/blob_connect.rs"]
mod blob_connect;
#[path = "store/blob_s3.rs"]
mod blob_s3;
#[path = "store/credentials.rs"]
mod credentials;
#[path = "store/envelopes.rs"]
mod envelopes;
#[path = "store/jobs.rs"]
mod jobs;
#[path = "store/limits.rs"]
mod limits;
#[path = "store/orgs.rs"]
mod orgs;
#[path = "store/outbox.rs"]
mod outbox;
#[path = "store/tokens.rs"]
mod tokens;
