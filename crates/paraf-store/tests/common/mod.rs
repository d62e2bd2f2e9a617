//! Test harness: every store test body runs against SQLite (a fresh file in a temporary
//! directory) and PostgreSQL (a fresh database `paraf_test_<random>` created through the
//! `test` database and dropped afterwards).
//!
//! `PARAF_TEST_DATABASE` selects: unset or `both` → both backends (each test has a `sqlite`
//! and a `postgres` case); `sqlite` → SQLite only; `postgres` → PostgreSQL only.
//! `PARAF_TEST_POSTGRES_URL` overrides the admin URL (default
//! `postgres://postgres@127.0.0.1:5432/test`). If PostgreSQL is selected but unreachable,
//! the PostgreSQL cases **fail** with a message saying so.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::future::Future;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use paraf_domain::{
    Email, NewOrganisation, NewUser, OrgName, Organisation, Password, PersonName, Plan, Role,
    SeededEntropy, Slug, Timestamp, User,
};
use paraf_store::{Backend, Store};
use sqlx::{Connection, Executor};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Sqlite,
    Postgres,
}

/// A fresh database for one test case.
pub struct TestDb {
    pub store: Store,
    pub url: String,
    pub kind: Kind,
    _dir: Option<tempfile::TempDir>,
}

impl TestDb {
    /// A second, independent `Store` (its own pool) on the same database: what a second
    /// server instance would have.
    pub async fn another_store(&self) -> Store {
        Store::connect(&self.url).await.expect("second store")
    }

    /// Executes raw SQL behind the store's back (tamper tests).
    pub async fn raw(&self, sql: &str) {
        match self.kind {
            Kind::Sqlite => {
                let mut c = sqlx::SqliteConnection::connect(&self.url)
                    .await
                    .expect("raw sqlite");
                c.execute(sql).await.expect("raw sql");
            }
            Kind::Postgres => {
                let mut c = sqlx::PgConnection::connect(&self.url)
                    .await
                    .expect("raw pg");
                c.execute(sql).await.expect("raw sql");
            }
        }
    }

    /// Like [`TestDb::raw`] but returns the error text instead of failing.
    pub async fn try_raw(&self, sql: &str) -> Result<(), String> {
        match self.kind {
            Kind::Sqlite => {
                let mut c = sqlx::SqliteConnection::connect(&self.url)
                    .await
                    .expect("raw sqlite");
                c.execute(sql).await.map(|_| ()).map_err(|e| e.to_string())
            }
            Kind::Postgres => {
                let mut c = sqlx::PgConnection::connect(&self.url)
                    .await
                    .expect("raw pg");
                c.execute(sql).await.map(|_| ()).map_err(|e| e.to_string())
            }
        }
    }
}

fn selected(kind: Kind) -> bool {
    match std::env::var("PARAF_TEST_DATABASE").as_deref() {
        Ok("sqlite") => kind == Kind::Sqlite,
        Ok("postgres") | Ok("postgresql") => kind == Kind::Postgres,
        Ok("both") | Ok("") | Err(_) => true,
        Ok(other) => panic!("PARAF_TEST_DATABASE={other:?}: expected sqlite, postgres or both"),
    }
}

pub fn admin_url() -> String {
    std::env::var("PARAF_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_owned())
}

fn random_suffix() -> String {
    let mut b = [0u8; 8];
    getrandom_fill(&mut b);
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn getrandom_fill(b: &mut [u8]) {
    use paraf_domain::Entropy;
    paraf_domain::OsEntropy.fill(b).expect("randomness");
}

/// Runs `body` on a fresh database of `kind` (or returns at once if `kind` is not selected).
pub async fn run<F, Fut>(kind: Kind, body: F)
where
    F: FnOnce(TestDb) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    if !selected(kind) {
        eprintln!("({kind:?} not selected by PARAF_TEST_DATABASE)");
        return;
    }
    match kind {
        Kind::Sqlite => {
            let dir = tempfile::tempdir().expect("tempdir");
            let url = format!("sqlite://{}", dir.path().join("paraf.db").display());
            let store = Store::connect(&url).await.expect("connect sqlite");
            assert_eq!(store.backend(), Backend::Sqlite);
            let store = store.with_entropy(Arc::new(SeededEntropy::new(7)));
            let db = TestDb {
                store,
                url,
                kind,
                _dir: Some(dir),
            };
            let res = tokio::spawn(body(db)).await;
            if let Err(e) = res {
                std::panic::resume_unwind(e.into_panic());
            }
        }
        Kind::Postgres => {
            let admin = admin_url();
            let mut conn = match sqlx::PgConnection::connect(&admin).await {
                Ok(c) => c,
                Err(e) => panic!(
                    "PostgreSQL is not reachable at {admin} ({e}); the PostgreSQL half of the store \
                     tests needs it. Start PostgreSQL, set PARAF_TEST_POSTGRES_URL, or run with \
                     PARAF_TEST_DATABASE=sqlite."
                ),
            };
            let name = format!("paraf_test_{}", random_suffix());
            sqlx::raw_sql(&format!("CREATE DATABASE {name}"))
                .execute(&mut conn)
                .await
                .expect("create test database");
            let url = match admin.rfind('/') {
                Some(i) => format!("{}/{name}", &admin[..i]),
                None => panic!("bad PARAF_TEST_POSTGRES_URL {admin}"),
            };
            let res = match Store::connect(&url).await {
                Ok(store) => {
                    assert_eq!(store.backend(), Backend::Postgres);
                    let store = store.with_entropy(Arc::new(SeededEntropy::new(7)));
                    let db = TestDb {
                        store,
                        url,
                        kind,
                        _dir: None,
                    };
                    tokio::spawn(body(db)).await
                }
                Err(e) => {
                    let _ = sqlx::raw_sql(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                        .execute(&mut conn)
                        .await;
                    panic!("connecting to {url}: {e}");
                }
            };
            sqlx::raw_sql(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                .execute(&mut conn)
                .await
                .expect("drop test database");
            if let Err(e) = res {
                std::panic::resume_unwind(e.into_panic());
            }
        }
    }
}

/// Declares, for each `async fn NAME(db: TestDb)`, a module `NAME` with the test cases
/// `NAME::sqlite` and `NAME::postgres`.
#[macro_export]
macro_rules! store_tests {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn sqlite() {
                $crate::common::run($crate::common::Kind::Sqlite, super::$name).await
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn postgres() {
                $crate::common::run($crate::common::Kind::Postgres, super::$name).await
            }
        }
    )*};
}

/// 2024-05-01T10:00:00Z plus `secs`.
pub fn t(secs: i64) -> Timestamp {
    DateTime::<Utc>::from_timestamp(1_714_557_600 + secs, 0).expect("time")
}

pub async fn org(store: &Store, slug: &str) -> Organisation {
    store
        .create_organisation(
            &NewOrganisation {
                slug: Slug::parse(slug).unwrap(),
                name: OrgName::parse(&format!("Org {slug}")).unwrap(),
                plan: Plan::Lontar,
            },
            t(0),
        )
        .await
        .expect("create organisation")
}

pub async fn user(store: &Store, org: &Organisation, email: &str, password: Option<&str>) -> User {
    store
        .create_user(
            &NewUser {
                org: org.id,
                name: PersonName::parse("Budi Santoso").unwrap(),
                email: Email::parse(email).unwrap(),
                nik: None,
                role: Role::Signer,
                robot: false,
                password: password.map(|p| Password::parse(p).unwrap()),
            },
            t(0),
        )
        .await
        .expect("create user")
}
