//! A fresh database per test, on both backends: a SQLite file in a temporary directory, or a
//! PostgreSQL database `paraf_t_<random>` created through the admin URL and dropped (with
//! `FORCE`) when the [`TestDb`] is dropped.

use std::path::Path;

use paraf_domain::Entropy;
use sqlx::{Connection, Executor};

/// Which database a test runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// The default PostgreSQL admin URL (this machine's server, trust authentication).
pub const PG_ADMIN_URL: &str = "postgres://postgres@127.0.0.1:5432/test";

/// The PostgreSQL admin URL in effect (`PARAF_TEST_POSTGRES_URL` overrides it).
pub fn pg_admin_url() -> String {
    std::env::var("PARAF_TEST_POSTGRES_URL").unwrap_or_else(|_| PG_ADMIN_URL.to_string())
}

/// Whether `PARAF_TEST_DATABASE` selects `backend` (`both`/unset: every backend).
pub fn selected(backend: Backend) -> bool {
    match std::env::var("PARAF_TEST_DATABASE").as_deref() {
        Ok("sqlite") => backend == Backend::Sqlite,
        Ok("postgres") | Ok("postgresql") => backend == Backend::Postgres,
        Ok("both") | Ok("") | Err(_) => true,
        Ok(other) => panic!("PARAF_TEST_DATABASE={other:?}: expected sqlite, postgres or both"),
    }
}

/// A database made for one test, with its URL; dropped with it.
pub struct TestDb {
    /// The backend.
    pub backend: Backend,
    /// The URL to connect to.
    pub url: String,
    pg_name: Option<String>,
}

impl TestDb {
    /// A fresh database of `backend`; a SQLite file lives in `dir`.
    pub async fn create(backend: Backend, dir: &Path) -> TestDb {
        match backend {
            Backend::Sqlite => TestDb {
                backend,
                url: format!("sqlite://{}", dir.join("paraf.db").display()),
                pg_name: None,
            },
            Backend::Postgres => {
                let admin = pg_admin_url();
                let mut conn = sqlx::PgConnection::connect(&admin)
                    .await
                    .unwrap_or_else(|e| {
                        panic!(
                            "PostgreSQL is not reachable at {admin} ({e}); the tests run on both \
                             backends: start PostgreSQL, set PARAF_TEST_POSTGRES_URL, or run \
                             with PARAF_TEST_DATABASE=sqlite"
                        )
                    });
                let mut b = [0u8; 8];
                paraf_domain::OsEntropy.fill(&mut b).expect("randomness");
                let name = format!("paraf_t_{}", hex::encode(b));
                conn.execute(format!("CREATE DATABASE {name}").as_str())
                    .await
                    .expect("create test database");
                let _ = conn.close().await;
                let base = admin.rsplit_once('/').map_or(admin.as_str(), |(b, _)| b);
                TestDb {
                    backend,
                    url: format!("{base}/{name}"),
                    pg_name: Some(name),
                }
            }
        }
    }

    /// Executes raw SQL behind the application's back (tamper tests); returns the error text.
    pub async fn try_raw(&self, sql: &str) -> Result<(), String> {
        let r = match self.backend {
            Backend::Sqlite => {
                let mut c = sqlx::SqliteConnection::connect(&self.url)
                    .await
                    .expect("raw sqlite");
                c.execute(sql).await.map(|_| ())
            }
            Backend::Postgres => {
                let mut c = sqlx::PgConnection::connect(&self.url)
                    .await
                    .expect("raw pg");
                c.execute(sql).await.map(|_| ())
            }
        };
        r.map_err(|e| e.to_string())
    }

    /// Like [`TestDb::try_raw`], failing the test on an error.
    pub async fn raw(&self, sql: &str) {
        self.try_raw(sql).await.expect("raw sql");
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let Some(name) = self.pg_name.take() else {
            return;
        };
        // Drop may run inside the test's runtime: use a thread with a small runtime of its own.
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            rt.block_on(async move {
                if let Ok(mut c) = sqlx::PgConnection::connect(&pg_admin_url()).await {
                    let _ = c
                        .execute(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)").as_str())
                        .await;
                    let _ = c.close().await;
                }
            })
        })
        .join();
    }
}

/// Declares, for each `async fn NAME(backend: Backend)` of the enclosing module, the tests
/// `sqlite::NAME` and `postgres::NAME` (each skipped when `PARAF_TEST_DATABASE` deselects it).
#[macro_export]
macro_rules! both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    if $crate::db::selected($crate::db::Backend::Sqlite) {
                        super::$name($crate::db::Backend::Sqlite).await
                    }
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    if $crate::db::selected($crate::db::Backend::Postgres) {
                        super::$name($crate::db::Backend::Postgres).await
                    }
                }
            )*
        }
    };
}
