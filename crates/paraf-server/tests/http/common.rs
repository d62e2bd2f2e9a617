//! Test harness: boots the real server (`Application::build_with`, port 0) on a fresh store —
//! a SQLite file in a temporary directory, or a PostgreSQL database created for the test at
//! 127.0.0.1:5432 and dropped afterwards — with a `ManualClock`, and gives tests fixtures
//! (organisations, users, credentials) and helpers for the outside tools.
//!
//! Same switches as the store's tests: `PARAF_TEST_DATABASE` = `both` (default), `sqlite` or
//! `postgres` selects the backends; `PARAF_TEST_POSTGRES_URL` overrides the admin URL. A
//! selected but unreachable PostgreSQL fails the test with a message.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use paraf_domain::{
    Email, IpAllowList, ManualClock, NewApiToken, NewAppCredential, NewOrganisation, NewUser,
    OrgId, OrgName, Organisation, OsEntropy, Password, PersonName, Plan, Role, Slug, User,
};
use paraf_server::{Config, FirstStart, Services};
use paraf_store::Store;
use sqlx::Connection;

/// Which database a test runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

pub const PG_ADMIN_URL: &str = "postgres://postgres@127.0.0.1:5432/test";

fn pg_admin_url() -> String {
    std::env::var("PARAF_TEST_POSTGRES_URL").unwrap_or_else(|_| PG_ADMIN_URL.to_string())
}

/// Whether `PARAF_TEST_DATABASE` selects `b`.
pub fn selected(b: Backend) -> bool {
    match std::env::var("PARAF_TEST_DATABASE").as_deref() {
        Ok("sqlite") => b == Backend::Sqlite,
        Ok("postgres") => b == Backend::Postgres,
        _ => true,
    }
}

/// A PostgreSQL database made for one test; dropped (forcefully) when this is dropped.
pub struct PgDb {
    pub name: String,
    pub url: String,
}

impl PgDb {
    pub async fn create() -> PgDb {
        let admin = pg_admin_url();
        let mut conn = sqlx::PgConnection::connect(&admin)
            .await
            .unwrap_or_else(|e| {
                panic!(
                    "PostgreSQL is not reachable at {admin} ({e}); the server tests run on both \
                     backends (PARAF_TEST_DATABASE=sqlite runs SQLite only)"
                )
            });
        let mut b = [0u8; 8];
        getrandom::fill(&mut b).unwrap();
        let name = format!("paraf_srv_{}", hex::encode(b));
        let base = admin
            .rsplit_once('/')
            .map(|(b, _)| b.to_string())
            .unwrap_or_else(|| admin.clone());
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&mut conn)
            .await
            .unwrap();
        let _ = conn.close().await;
        PgDb {
            url: format!("{base}/{name}"),
            name,
        }
    }
}

impl Drop for PgDb {
    fn drop(&mut self) {
        let name = self.name.clone();
        // Drop runs inside the test's runtime: use a thread with its own small runtime.
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async move {
                if let Ok(mut c) = sqlx::PgConnection::connect(&pg_admin_url()).await {
                    let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                        .execute(&mut c)
                        .await;
                    let _ = c.close().await;
                }
            })
        })
        .join();
    }
}

/// A fresh store and the data directory it belongs with.
pub struct Fresh {
    pub backend: Backend,
    pub dir: tempfile::TempDir,
    pub database_url: String,
    pub pg: Option<PgDb>,
}

pub async fn fresh(backend: Backend) -> Fresh {
    let dir = tempfile::tempdir().unwrap();
    let (database_url, pg) = match backend {
        Backend::Sqlite => (
            format!("sqlite://{}", dir.path().join("paraf.db").display()),
            None,
        ),
        Backend::Postgres => {
            let db = PgDb::create().await;
            (db.url.clone(), Some(db))
        }
    };
    Fresh {
        backend,
        dir,
        database_url,
        pg,
    }
}

/// A running server.
pub struct TestApp {
    pub url: String,
    pub port: u16,
    pub clock: Arc<ManualClock>,
    pub store: Store,
    pub config: Config,
    pub first: Option<FirstStart>,
    pub shutdown: paraf_server::shutdown::Shutdown,
    pub state: paraf_server::AppState,
    pub handle: Option<tokio::task::JoinHandle<Result<(), paraf_server::StartError>>>,
    pub http: reqwest::Client,
    pub fresh: Arc<Fresh>,
}

pub fn now_utc() -> DateTime<Utc> {
    let t: DateTime<Utc> = std::time::SystemTime::now().into();
    DateTime::from_timestamp_micros(t.timestamp_micros()).unwrap()
}

pub fn config_for(fresh: &Fresh) -> Config {
    let mut c = Config::for_tests(fresh.dir.path()).unwrap();
    c.database_url = Some(fresh.database_url.clone());
    c
}

pub async fn spawn(backend: Backend) -> TestApp {
    spawn_with(backend, |_| {}).await
}

pub async fn spawn_with(backend: Backend, tweak: impl FnOnce(&mut Config)) -> TestApp {
    let f = Arc::new(fresh(backend).await);
    let clock = Arc::new(ManualClock::new(now_utc()));
    let mut config = config_for(&f);
    tweak(&mut config);
    start(f, clock, config).await
}

/// Starts a server on an existing store and data directory (restarts).
pub async fn start(fresh: Arc<Fresh>, clock: Arc<ManualClock>, config: Config) -> TestApp {
    let store = Store::connect(&fresh.database_url).await.unwrap();
    let services = Services {
        clock: clock.clone(),
        entropy: Arc::new(OsEntropy),
        store: Some(store.clone()),
    };
    let app = paraf_server::build_with(config.clone(), services)
        .await
        .unwrap();
    let port = app.port();
    let url = app.public_url().to_string();
    let first = app.first_start().cloned();
    let shutdown = app.shutdown_handle();
    let state = app.state().clone();
    let handle = tokio::spawn(app.run_until_stopped());
    TestApp {
        url,
        port,
        clock,
        store,
        config,
        first,
        shutdown,
        state,
        handle: Some(handle),
        http: reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap(),
        fresh,
    }
}

impl TestApp {
    pub fn at(&self, path: &str) -> String {
        format!("{}{path}", self.url)
    }

    pub fn get(&self, path: &str) -> reqwest::RequestBuilder {
        self.http.get(self.at(path))
    }

    pub fn post(&self, path: &str) -> reqwest::RequestBuilder {
        self.http.post(self.at(path))
    }

    /// Graceful stop; waits for the server to finish.
    pub async fn stop(mut self) {
        self.shutdown.trigger();
        if let Some(h) = self.handle.take() {
            tokio::time::timeout(Duration::from_secs(30), h)
                .await
                .expect("server did not stop within 30 s")
                .unwrap()
                .unwrap();
        }
    }

    /// Simulates `kill -9`: the server's task (its listener and job workers) is aborted with
    /// no chance to release anything.
    pub async fn kill(mut self) -> (Arc<Fresh>, Arc<ManualClock>, Config) {
        if let Some(h) = self.handle.take() {
            h.abort();
            let _ = h.await;
        }
        (self.fresh.clone(), self.clock.clone(), self.config.clone())
    }

    pub fn ca_dir(&self) -> PathBuf {
        self.config.ca_dir()
    }
}

/// An organisation with an admin (password + API token) and a signer.
pub struct Tenant {
    pub org: Organisation,
    pub admin: User,
    pub admin_password: String,
    pub admin_token: String,
    pub signer: User,
    pub signer_token: String,
}

pub const PASSWORD: &str = "kata sandi rahasia";

pub async fn tenant(app: &TestApp, slug: &str, plan: Plan) -> Tenant {
    let now = app.clock.now_ts();
    let store = &app.store;
    let org = store
        .create_organisation(
            &NewOrganisation {
                slug: Slug::parse(slug).unwrap(),
                name: OrgName::parse(&format!("Org {slug}")).unwrap(),
                plan,
            },
            now,
        )
        .await
        .unwrap();
    let user = |name: &str, role: Role| NewUser {
        org: org.id,
        name: PersonName::parse(name).unwrap(),
        email: Email::parse(&format!("{}@{slug}.example", name.to_lowercase())).unwrap(),
        nik: None,
        role,
        robot: false,
        password: Some(Password::parse(PASSWORD).unwrap()),
    };
    let admin = store
        .create_user(&user("Admin", Role::Admin), now)
        .await
        .unwrap();
    let signer = store
        .create_user(&user("Signer", Role::Signer), now)
        .await
        .unwrap();
    let token = |u: &User| NewApiToken {
        org: org.id,
        user: u.id,
        name: "test".into(),
        expires_at: None,
    };
    let (_, admin_token) = store.create_api_token(&token(&admin), now).await.unwrap();
    let (_, signer_token) = store.create_api_token(&token(&signer), now).await.unwrap();
    Tenant {
        org,
        admin,
        admin_password: PASSWORD.into(),
        admin_token: admin_token.expose().to_string(),
        signer,
        signer_token: signer_token.expose().to_string(),
    }
}

pub async fn app_credential(app: &TestApp, org: OrgId, username: &str, allow: &[&str]) {
    app.store
        .create_app_credential(
            &NewAppCredential {
                org,
                username: username.into(),
                password: Password::parse(PASSWORD).unwrap(),
                description: "test".into(),
                allowed_ips: IpAllowList::parse(allow).unwrap(),
            },
            app.clock.now_ts(),
        )
        .await
        .unwrap();
}

pub trait ClockExt {
    fn now_ts(&self) -> paraf_domain::Timestamp;
}

impl ClockExt for ManualClock {
    fn now_ts(&self) -> paraf_domain::Timestamp {
        paraf_domain::Clock::now(self)
    }
}

pub fn bearer(t: &str) -> String {
    format!("Bearer {t}")
}

pub fn basic(u: &str, p: &str) -> String {
    use base64::Engine;
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{u}:{p}"))
    )
}

pub async fn json(resp: reqwest::Response) -> (u16, serde_json::Value) {
    let status = resp.status().as_u16();
    let text = resp.text().await.unwrap();
    let v = serde_json::from_str(&text).unwrap_or(serde_json::Value::String(text));
    (status, v)
}

/// Polls `f` every 20 ms until it returns `Some`, or panics after `secs`.
pub async fn eventually<T, F, Fut>(secs: u64, what: &str, mut f: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + Duration::from_secs(secs);
    loop {
        if let Some(v) = f().await {
            return v;
        }
        if tokio::time::Instant::now() > deadline {
            panic!("timed out after {secs} s waiting for {what}");
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

// ---------------------------------------------------------------- outside tools

pub fn require_tool(name: &str, package: &str) {
    let ok = Command::new("sh")
        .arg("-c")
        .arg(format!("command -v {name}"))
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    assert!(
        ok,
        "`{name}` is not installed: run scripts/install-test-deps.sh ({package})"
    );
}

pub fn run_ok(cmd: &mut Command) -> Output {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    if !out.status.success() {
        panic!(
            "{cmd:?} failed ({}):\nstdout: {}\nstderr: {}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    out
}

pub fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

pub fn write(dir: &Path, name: &str, data: &[u8]) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, data).unwrap();
    p
}

/// A small one-page PDF.
pub fn simple_pdf() -> Vec<u8> {
    pdf_with_pages(&["Perjanjian Kerja Sama"])
}

/// A PDF with one A4 page per entry, each showing that text in Helvetica.
pub fn pdf_with_pages(texts: &[&str]) -> Vec<u8> {
    let n = texts.len();
    let font = 3;
    let kids: Vec<String> = (0..n).map(|i| format!("{} 0 R", 4 + 2 * i)).collect();
    let mut objs = vec![
        "<< /Type /Catalog /Pages 2 0 R >>".to_string(),
        format!("<< /Type /Pages /Kids [{}] /Count {n} >>", kids.join(" ")),
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>"
            .to_string(),
    ];
    for (i, t) in texts.iter().enumerate() {
        let content = format!("BT /F1 14 Tf 72 770 Td ({t}) Tj ET\n");
        objs.push(format!(
            "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 {font} 0 R >> >> /Contents {} 0 R >>",
            5 + 2 * i
        ));
        objs.push(format!(
            "<< /Length {} >>\nstream\n{}\nendstream",
            content.len() + 1,
            content
        ));
    }
    let mut out = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n".to_vec();
    let mut offsets = Vec::new();
    for (i, o) in objs.iter().enumerate() {
        offsets.push(out.len());
        out.extend_from_slice(format!("{} 0 obj\n{}\nendobj\n", i + 1, o).as_bytes());
    }
    let xref = out.len();
    out.extend_from_slice(format!("xref\n0 {}\n0000000000 65535 f\r\n", objs.len() + 1).as_bytes());
    for o in offsets {
        out.extend_from_slice(format!("{o:010} 00000 n\r\n").as_bytes());
    }
    out.extend_from_slice(
        format!(
            "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{}\n%%EOF\n",
            objs.len() + 1,
            xref
        )
        .as_bytes(),
    );
    out
}

/// A 4×2 RGB PNG (a signature specimen for tests).
pub const PNG: &[u8] = &[
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52,
    0x00, 0x00, 0x00, 0x04, 0x00, 0x00, 0x00, 0x02, 0x08, 0x02, 0x00, 0x00, 0x00, 0xf0, 0xca, 0xea,
    0x34, 0x00, 0x00, 0x00, 0x10, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9c, 0x63, 0x50, 0x70, 0x58, 0x00,
    0x47, 0x0c, 0xc8, 0x1c, 0x00, 0x64, 0x1a, 0x08, 0x01, 0x8a, 0xc4, 0x74, 0xd3, 0x00, 0x00, 0x00,
    0x00, 0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82,
];

// ---------------------------------------------------------------- the server's CA and validators

pub async fn fetch(app: &TestApp, path: &str) -> (u16, String, Vec<u8>) {
    let r = app.get(path).send().await.unwrap();
    let ct = r
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    (r.status().as_u16(), ct, r.bytes().await.unwrap().to_vec())
}

pub struct Files {
    pub tmp: tempfile::TempDir,
    pub root: PathBuf,
    pub issuing: PathBuf,
    pub chain: PathBuf,
}

pub async fn ca_files(app: &TestApp) -> Files {
    let tmp = tempfile::tempdir().unwrap();
    let (s, ct, root) = fetch(app, "/pki/ca/root.pem").await;
    assert_eq!((s, ct.as_str()), (200, "application/x-pem-file"));
    let (_, _, issuing) = fetch(app, "/pki/ca/issuing.pem").await;
    let mut chain = root.clone();
    chain.extend_from_slice(&issuing);
    Files {
        root: write(tmp.path(), "root.pem", &root),
        issuing: write(tmp.path(), "issuing.pem", &issuing),
        chain: write(tmp.path(), "chain.pem", &chain),
        tmp,
    }
}

pub fn nss_db(f: &Files) -> PathBuf {
    require_tool("certutil", "libnss3-tools");
    let nss = f.tmp.path().join("nss");
    std::fs::create_dir_all(&nss).unwrap();
    let db = format!("sql:{}", nss.display());
    run_ok(Command::new("certutil").args(["-N", "--empty-password", "-d", &db]));
    run_ok(
        Command::new("certutil")
            .args([
                "-A",
                "-n",
                "paraf-server-root",
                "-t",
                "CT,C,C",
                "-d",
                &db,
                "-i",
            ])
            .arg(&f.root),
    );
    nss
}

pub fn pdfsig(pdf: &Path, nss: &Path) -> String {
    require_tool("pdfsig", "poppler-utils");
    let out = Command::new("pdfsig")
        .arg("-nssdir")
        .arg(format!("sql:{}", nss.display()))
        .arg(pdf)
        .output()
        .unwrap();
    text(&out)
}

pub fn pyhanko_validate(pdf: &Path, root: &Path) -> (bool, String) {
    require_tool("pyhanko", "pip install pyhanko pyhanko-cli");
    let out = Command::new("pyhanko")
        .args(["sign", "validate", "--trust-replace", "--trust"])
        .arg(root)
        .arg(pdf)
        .output()
        .unwrap();
    (out.status.success(), text(&out))
}

/// Declares `$name` as one test per backend: `sqlite::$name` and `postgres::$name`.
#[macro_export]
macro_rules! both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    if $crate::common::selected($crate::common::Backend::Sqlite) {
                        super::$name($crate::common::Backend::Sqlite).await
                    }
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    if $crate::common::selected($crate::common::Backend::Postgres) {
                        super::$name($crate::common::Backend::Postgres).await
                    }
                }
            )*
        }
    };
}
