//! Test harness of the server's HTTP tests: the running server and its fixtures are
//! `paraf_testkit::app`'s (boot on port 0 on a fresh SQLite or PostgreSQL database with a
//! `ManualClock`), the databases `paraf_testkit::db`'s. Same switches as every store test:
//! `PARAF_TEST_DATABASE` = `both` (default), `sqlite` or `postgres`; `PARAF_TEST_POSTGRES_URL`
//! overrides the admin URL; a selected but unreachable PostgreSQL fails the test.
#![allow(unused_imports)]

pub use paraf_testkit::app::*;
pub use paraf_testkit::clock::now_utc;
pub use paraf_testkit::db::{selected, Backend, TestDb};
pub use paraf_testkit::pdf::{pages as pdf_with_pages, simple_pdf, PNG};
pub use paraf_testkit::tools::{
    eventually, output_text as text, pyhanko_validate as pyhanko_verdict, require_tool, run_ok,
    write,
};
