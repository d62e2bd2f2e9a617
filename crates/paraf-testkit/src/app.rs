//! The running server for tests: [`spawn`] boots the real server (`paraf_server::build_with`,
//! port 0) on a fresh database of either backend ([`crate::db`]) with a `ManualClock`;
//! [`tenant`] and [`app_credential`] make fixtures; the rest reads replies and the server's CA.
//! Behind the `app` feature (it links the whole server).

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use paraf_domain::{
    Email, IpAllowList, ManualClock, NewApiToken, NewAppCredential, NewOrganisation, NewUser,
    OrgId, OrgName, Organisation, OsEntropy, Password, PersonName, Plan, Role, Slug, User,
};
use paraf_server::{Config, FirstStart, Services};
use paraf_store::Store;

use crate::clock::now_utc;
use crate::db::{Backend, TestDb};
use crate::tools::{pyhanko_validate as pyhanko_verdict, write};

/// A fresh store and the data directory it belongs with.
pub struct Fresh {
    pub backend: Backend,
    pub dir: tempfile::TempDir,
    pub database_url: String,
    pub db: TestDb,
}

pub async fn fresh(backend: Backend) -> Fresh {
    let dir = tempfile::tempdir().unwrap();
    let db = TestDb::create(backend, dir.path()).await;
    Fresh {
        backend,
        database_url: db.url.clone(),
        dir,
        db,
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

/// The test configuration of a fresh store (the CA in the database on PostgreSQL). With `PARAF_TEST_BLOB_STORE=s3://bucket[/prefix]`
/// (and the `AWS_*` variables: the S3 pass of `scripts/test.sh`), blobs go to that bucket,
/// each server under a prefix of its own.
pub fn config_for(fresh: &Fresh) -> Config {
    let mut c = Config::for_tests(fresh.dir.path()).unwrap();
    c.database_url = Some(fresh.database_url.clone());
    // SQLite servers keep the CA in `DATA/ca`, PostgreSQL servers in the database: every
    // server test exercises both (`ca_store`).
    if fresh.backend == Backend::Postgres {
        c.ca_store = paraf_server::config::CaLocation::Database;
    }
    if let Ok(v) = std::env::var("PARAF_TEST_BLOB_STORE") {
        use paraf_server::config::BlobLocation;
        match BlobLocation::parse(Some(&v)).expect("PARAF_TEST_BLOB_STORE") {
            BlobLocation::S3 { bucket, prefix } => {
                let own = fresh
                    .dir
                    .path()
                    .file_name()
                    .map(|n| n.to_string_lossy().trim_start_matches('.').to_string())
                    .unwrap_or_default();
                c.blob_store = BlobLocation::S3 {
                    bucket,
                    prefix: format!("{prefix}/{own}").trim_matches('/').to_string(),
                };
            }
            BlobLocation::File => {}
        }
    }
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

/// Sends mail through the SMTP server on 127.0.0.1:`port` (a test sink), no TLS.
pub fn smtp_to(config: &mut Config, port: u16) {
    config.smtp = Some(paraf_server::config::SmtpConfig {
        host: "127.0.0.1".into(),
        port,
        tls: paraf_server::config::SmtpTls::None,
        credentials: None,
    });
}

/// A test SMTP server (`crate::smtp`) and a server on `backend` sending its mail there.
pub async fn spawn_mailing(backend: Backend) -> (crate::smtp::Smtpd, TestApp) {
    let smtpd = crate::smtp::start_smtpd();
    let port = smtpd.port;
    let app = spawn_with(backend, |c| smtp_to(c, port)).await;
    (smtpd, app)
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

    /// The body of `GET path` as text (whatever the status).
    pub async fn text(&self, path: &str) -> String {
        self.get(path).send().await.unwrap().text().await.unwrap()
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

    /// Replaces the stored bytes of blob `id` behind the server's back — on disk, or in the
    /// bucket of the S3 pass —, as a failing disk or an intruder would.
    pub async fn forge_blob(&self, id: &paraf_domain::BlobId, bytes: Vec<u8>) {
        use paraf_server::config::BlobLocation;
        match &self.config.blob_store {
            BlobLocation::File => {
                let at = paraf_store::FsBlobStore::new(self.config.blob_dir()).path(id);
                std::fs::write(at, bytes).unwrap();
            }
            BlobLocation::S3 { bucket, prefix } => {
                use object_store::ObjectStoreExt as _;
                let key = paraf_store::S3BlobStore::from_env(bucket, prefix)
                    .unwrap()
                    .key(id);
                let raw = paraf_store::AmazonS3Builder::from_env()
                    .with_bucket_name(bucket)
                    .build()
                    .unwrap();
                raw.put(&key, bytes.into()).await.unwrap();
            }
        }
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
        profile: Default::default(),
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

/// Adds a user with `email` and the test password to `org`.
pub async fn add_user(app: &TestApp, org: OrgId, email: &str, role: Role) -> User {
    app.store
        .create_user(
            &NewUser {
                org,
                name: PersonName::parse("Test User").unwrap(),
                email: Email::parse(email).unwrap(),
                nik: None,
                role,
                robot: false,
                password: Some(Password::parse(PASSWORD).unwrap()),
                profile: Default::default(),
            },
            app.clock.now_ts(),
        )
        .await
        .unwrap()
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

/// `name=value` of the first `Set-Cookie` of a reply.
pub fn first_cookie(r: &reqwest::Response) -> String {
    r.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_string()
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

// ---------------------------------------------------------------- the server's CA and validators

pub async fn fetch(app: &TestApp, path: &str) -> (u16, String, Vec<u8>) {
    fetch_with(app, path, None).await
}

/// `GET path` (with a bearer `token` when given): status, content type, body.
pub async fn fetch_with(app: &TestApp, path: &str, token: Option<&str>) -> (u16, String, Vec<u8>) {
    let mut r = app.get(path);
    if let Some(t) = token {
        r = r.header("authorization", bearer(t));
    }
    let r = r.send().await.unwrap();
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
    crate::tools::nss_db(f.tmp.path(), &f.root)
}

pub fn pdfsig(pdf: &Path, nss: &Path) -> String {
    crate::tools::pdfsig(pdf, nss, None)
}

pub fn pyhanko_validate(pdf: &Path, root: &Path) -> (bool, String) {
    let v = pyhanko_verdict(pdf, root, None);
    (v.ok, v.stdout)
}
