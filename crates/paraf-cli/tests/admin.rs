//! `paraf admin …` through the built binary: the README flow (organisation, user, token,
//! application credential), one-line errors for bad input, the audit check, and the same flow
//! on PostgreSQL (`--database-url`), selected like the store suite by `PARAF_TEST_DATABASE`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;
use std::process::{Command, Output};

use paraf_domain::{AuthFailure, Clock, SystemClock};
use paraf_store::Store;
use paraf_testkit::db::{selected, Backend, TestDb};
use sqlx::{Connection, Executor};

fn paraf(data: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_paraf"))
        .arg("admin")
        .args(args)
        .arg("--data")
        .arg(data)
        .env_remove("PARAF_DATA")
        .env_remove("PARAF_DATABASE_URL")
        .output()
        .expect("run paraf")
}

fn paraf_url(url: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_paraf"))
        .arg("admin")
        .args(["--database-url", url])
        .args(args)
        .env_remove("PARAF_DATA")
        .env_remove("PARAF_DATABASE_URL")
        .output()
        .expect("run paraf")
}

fn ok(out: &Output) -> String {
    assert!(
        out.status.success(),
        "paraf failed: {}\n{}",
        String::from_utf8_lossy(&out.stderr),
        String::from_utf8_lossy(&out.stdout)
    );
    String::from_utf8(out.stdout.clone()).unwrap()
}

/// Fails with exit 1, nothing on stdout, one line on stderr containing `needle`.
fn refused(out: &Output, needle: &str) {
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        out.status.code(),
        Some(1),
        "expected failure, stderr: {err}"
    );
    assert!(
        out.stdout.is_empty(),
        "nothing on stdout: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert_eq!(err.trim_end().lines().count(), 1, "one line: {err}");
    assert!(err.starts_with("paraf: error: "), "{err}");
    assert!(err.contains(needle), "{err:?} should mention {needle:?}");
}

/// The README flow against a database URL; returns the printed token.
async fn flow(run: &(dyn Fn(&[&str]) -> Output + Sync), url: &str) {
    let out = ok(&run(&[
        "org",
        "create",
        "--name",
        "Acme Corp",
        "--slug",
        "acme",
        "--plan",
        "prasasti",
    ]));
    assert!(out.contains("created organisation acme"), "{out}");
    ok(&run(&[
        "user",
        "create",
        "--org",
        "acme",
        "--name",
        "Budi Santoso",
        "--email",
        "budi@example.com",
        "--password",
        "budi-password",
        "--role",
        "admin",
        "--nik",
        "3201234567890001",
    ]));
    let token = ok(&run(&[
        "token",
        "create",
        "--org",
        "acme",
        "--user",
        "budi@example.com",
        "--name",
        "Backend ERP",
    ]));
    // The token, alone, once.
    assert_eq!(token.lines().count(), 1, "{token:?}");
    let token = token.trim_end();
    assert!(
        token.starts_with("paraf_pat_") && token.len() == 74,
        "{token}"
    );
    ok(&run(&[
        "app-credential",
        "create",
        "--org",
        "acme",
        "--username",
        "erp",
        "--password",
        "app-password",
        "--allow-ip",
        "10.0.0.0/8",
        "--allow-ip",
        "192.0.2.7",
    ]));
    let audit = ok(&run(&["audit", "verify", "--org", "acme"]));
    assert!(audit.contains("intact: 4 records"), "{audit}");

    // What the CLI wrote is what the server reads.
    let store = Store::connect(url).await.unwrap();
    let now = SystemClock.now();
    let p = store.authenticate_api_token(token, now).await.unwrap();
    let org = store.organisation_by_slug("acme").await.unwrap();
    assert_eq!(p.org, org.id);
    assert_eq!(org.plan, paraf_domain::Plan::Prasasti);
    let user = store.user(org.id, p.user.unwrap()).await.unwrap();
    assert_eq!(user.nik.unwrap().as_str(), "3201234567890001");
    store
        .verify_user_password(org.id, &user.email, "budi-password")
        .await
        .unwrap();
    store
        .verify_app_credential("erp", "app-password", "10.9.8.7".parse().unwrap(), now)
        .await
        .unwrap();
    let outside = store
        .verify_app_credential("erp", "app-password", "192.0.2.8".parse().unwrap(), now)
        .await
        .unwrap_err();
    assert_eq!(outside.auth_failure(), Some(AuthFailure::IpNotAllowed));
    store.close().await;
}

#[tokio::test]
async fn admin_flow_sqlite() {
    if !selected(Backend::Sqlite) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("paraf-data");
    let url = paraf_store::sqlite_url_for_data_dir(&data);
    flow(&|args| paraf(&data, args), &url).await;
    assert!(data.join("paraf.db").is_file());
}

#[tokio::test]
async fn admin_flow_postgres() {
    if !selected(Backend::Postgres) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let db = TestDb::create(Backend::Postgres, dir.path()).await;
    let url = db.url.clone();
    let result = tokio::spawn(async move { flow(&|args| paraf_url(&url, args), &url).await }).await;
    drop(db);
    if let Err(e) = result {
        std::panic::resume_unwind(e.into_panic());
    }
}

#[test]
fn bad_input_gets_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    ok(&paraf(
        d,
        &[
            "org", "create", "--name", "Acme", "--slug", "acme", "--plan", "lontar",
        ],
    ));
    ok(&paraf(
        d,
        &[
            "user",
            "create",
            "--org",
            "acme",
            "--name",
            "Siti",
            "--email",
            "siti@example.com",
            "--role",
            "signer",
        ],
    ));

    refused(
        &paraf(
            d,
            &[
                "org", "create", "--name", "Acme", "--slug", "acme", "--plan", "lontar",
            ],
        ),
        "already exists",
    );
    refused(
        &paraf(
            d,
            &[
                "org", "create", "--name", "X", "--slug", "x y", "--plan", "lontar",
            ],
        ),
        "invalid --slug",
    );
    refused(
        &paraf(
            d,
            &[
                "org", "create", "--name", "X", "--slug", "xy", "--plan", "gold",
            ],
        ),
        "unknown plan \"gold\"",
    );
    // Another plan: its rate limits and quotas.
    let out = ok(&paraf(
        d,
        &["org", "plan", "--org", "acme", "--plan", "nusantara"],
    ));
    assert!(out.contains("acme is on plan Nusantara"), "{out}");
    assert!(ok(&paraf(d, &["org", "list"])).contains("acme\tnusantara"));
    refused(
        &paraf(d, &["org", "plan", "--org", "acme", "--plan", "gold"]),
        "unknown plan \"gold\"",
    );
    let user = |extra: &[&str]| {
        let mut a = vec![
            "user",
            "create",
            "--org",
            "acme",
            "--name",
            "Budi",
            "--email",
            "budi@example.com",
            "--role",
            "signer",
        ];
        a.extend_from_slice(extra);
        paraf(d, &a)
    };
    refused(
        &user(&["--nik", "320123456789000"]),
        "invalid --nik: a NIK is exactly 16 digits",
    );
    refused(&user(&["--password", "short"]), "invalid --password");
    refused(
        &paraf(
            d,
            &[
                "user",
                "create",
                "--org",
                "nope",
                "--name",
                "B",
                "--email",
                "b@example.com",
                "--role",
                "signer",
            ],
        ),
        "unknown organisation \"nope\"",
    );
    refused(
        &paraf(
            d,
            &[
                "user", "create", "--org", "acme", "--name", "B", "--email", "b@", "--role",
                "signer",
            ],
        ),
        "invalid --email",
    );
    refused(
        &paraf(
            d,
            &[
                "user",
                "create",
                "--org",
                "acme",
                "--name",
                "B",
                "--email",
                "b@example.com",
                "--role",
                "owner",
            ],
        ),
        "unknown role",
    );
    refused(
        &paraf(
            d,
            &[
                "user",
                "create",
                "--org",
                "acme",
                "--name",
                "S",
                "--email",
                "SITI@example.com",
                "--role",
                "signer",
            ],
        ),
        "already exists",
    );
    refused(
        &paraf(
            d,
            &[
                "token",
                "create",
                "--org",
                "acme",
                "--user",
                "nobody@example.com",
                "--name",
                "x",
            ],
        ),
        "no user nobody@example.com",
    );
    let app = |ip: &str| {
        paraf(
            d,
            &[
                "app-credential",
                "create",
                "--org",
                "acme",
                "--username",
                "erp",
                "--password",
                "app-password",
                "--allow-ip",
                ip,
            ],
        )
    };
    refused(&app("10.0.0.0/33"), "invalid --allow-ip");
    refused(&app("localhost"), "invalid --allow-ip");
    ok(&app("::1"));
    refused(&app("10.0.0.1"), "already exists");
    refused(
        &paraf(d, &["audit", "verify", "--org", "nope"]),
        "unknown organisation",
    );
}

#[tokio::test]
async fn audit_verify_reports_a_tampered_record() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_path_buf();
    ok(&paraf(
        &d,
        &[
            "org", "create", "--name", "Acme", "--slug", "acme", "--plan", "lontar",
        ],
    ));
    ok(&paraf(
        &d,
        &[
            "user",
            "create",
            "--org",
            "acme",
            "--name",
            "Siti",
            "--email",
            "siti@example.com",
            "--role",
            "signer",
        ],
    ));
    ok(&paraf(
        &d,
        &[
            "user",
            "create",
            "--org",
            "acme",
            "--name",
            "Budi",
            "--email",
            "budi@example.com",
            "--role",
            "signer",
        ],
    ));
    assert!(ok(&paraf(&d, &["audit", "verify", "--org", "acme"])).contains("intact: 3 records"));

    // Someone with write access to the database file rewrites history.
    let url = paraf_store::sqlite_url_for_data_dir(&d);
    let mut c = sqlx::SqliteConnection::connect(&url).await.unwrap();
    c.execute("DROP TRIGGER audit_log_no_update").await.unwrap();
    c.execute("UPDATE audit_log SET details = replace(details, 'siti@', 'eve@') WHERE seq = 2")
        .await
        .unwrap();
    c.close().await.unwrap();

    refused(
        &paraf(&d, &["audit", "verify", "--org", "acme"]),
        "audit chain of acme is broken at record 2: the record was modified",
    );
}

#[test]
fn env_selects_the_data_directory() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_paraf"))
        .args([
            "admin",
            "org",
            "create",
            "--name",
            "Env",
            "--slug",
            "env",
            "--plan",
            "nusantara",
        ])
        .env("PARAF_DATA", dir.path().join("from-env"))
        .env_remove("PARAF_DATABASE_URL")
        .output()
        .unwrap();
    ok(&out);
    assert!(dir.path().join("from-env/paraf.db").is_file());
}

/// `paraf admin identity …` and `seal …` on the data directory's CA: create (ISSUE at once),
/// list, suspend, reinstate, revoke (in the CA's state), seals; bad input in one line.
#[test]
fn identities_and_seals() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("paraf-data");
    // Without a CA there is nothing to issue with.
    ok(&paraf(
        &data,
        &[
            "org",
            "create",
            "--name",
            "Dinas Kominfo",
            "--slug",
            "kominfo",
            "--plan",
            "piagam",
        ],
    ));
    let create = [
        "identity",
        "create",
        "--org",
        "kominfo",
        "--name",
        "Budi Santoso",
        "--email",
        "budi@kominfo.go.id",
        "--nik",
        "3171012345678901",
        "--passphrase",
        "rahasia-budi-1",
    ];
    refused(&paraf(&data, &create), "no CA");
    let ca = Command::new(env!("CARGO_BIN_EXE_paraf"))
        .args(["ca", "init", "--dir"])
        .arg(data.join("ca"))
        .args(["--public-url", "http://127.0.0.1:9"])
        .env_remove("PARAF_CA_PASSPHRASE")
        .output()
        .unwrap();
    ok(&ca);
    let out = ok(&paraf(&data, &create));
    assert!(out.contains("status ISSUE"), "{out}");
    let serial = out.trim().rsplit(' ').next().unwrap().to_string();
    refused(&paraf(&data, &create), "already registered");
    let mut short = create;
    short[7] = "budi2@kominfo.go.id";
    short[9] = "123";
    refused(&paraf(&data, &short), "invalid --nik");
    let by_nik = ["--org", "kominfo", "--nik", "3171012345678901"];
    let run = |verb: &str| {
        let mut a = vec!["identity", verb];
        a.extend_from_slice(&by_nik);
        paraf(&data, &a)
    };
    assert!(ok(&run("suspend")).contains("SUSPEND"));
    assert!(ok(&paraf(&data, &["identity", "list", "--org", "kominfo"]))
        .starts_with("SUSPEND\t3171012345678901"));
    assert!(ok(&run("reinstate")).contains("ISSUE"));
    assert!(ok(&run("revoke")).contains("REVOKE"));
    refused(&run("revoke"), "REVOKE");
    let state = std::fs::read_to_string(data.join("ca/state.json")).unwrap();
    let v: serde_json::Value = serde_json::from_str(&state).unwrap();
    let rec = v["issued"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["serial"].as_str() == Some(serial.as_str()))
        .unwrap_or_else(|| panic!("serial {serial} in {state}"));
    assert!(!rec["revoked"].is_null(), "{rec}");
    // Seals.
    let out = ok(&paraf(
        &data,
        &[
            "seal",
            "create",
            "--org",
            "kominfo",
            "--id-subscriber",
            "SEGEL-01",
            "--email",
            "segel@kominfo.go.id",
        ],
    ));
    assert!(out.contains("seal SEGEL-01"), "{out}");
    refused(
        &paraf(
            &data,
            &[
                "seal",
                "create",
                "--org",
                "kominfo",
                "--id-subscriber",
                "SEGEL-01",
                "--email",
                "segel@kominfo.go.id",
            ],
        ),
        "already exists",
    );
    refused(
        &paraf(
            &data,
            &[
                "seal",
                "create",
                "--org",
                "kominfo",
                "--id-subscriber",
                "bad id!",
                "--email",
                "segel@kominfo.go.id",
            ],
        ),
        "idSubscriber",
    );
    let out = ok(&paraf(&data, &["seal", "list", "--org", "kominfo"]));
    assert!(out.starts_with("SEGEL-01\tnot-activated"), "{out}");
    // A key type of their own (the server tests check the keys); an unknown one is refused.
    let seal = |id: &str, kt: &str| {
        paraf(
            &data,
            &[
                "seal",
                "create",
                "--org",
                "kominfo",
                "--id-subscriber",
                id,
                "--email",
                "segel@kominfo.go.id",
                "--key-type",
                kt,
            ],
        )
    };
    refused(&seal("SEGEL-02", "dsa1024"), "invalid --key-type");
    assert!(ok(&seal("SEGEL-02", "p384")).contains("seal SEGEL-02"));
    let mut siti = create;
    siti[5] = "Siti Rahayu";
    siti[7] = "siti@kominfo.go.id";
    siti[9] = "3171012345678902";
    let with = |kt: &str| {
        let mut a = siti.to_vec();
        a.extend_from_slice(&["--key-type", kt]);
        paraf(&data, &a)
    };
    refused(&with("rsa1024"), "invalid --key-type");
    assert!(ok(&with("rsa3072")).contains("status ISSUE"));
}

/// `paraf admin` resolves its settings with the server's loader: a `database_url` written only
/// in `DATA/paraf.toml` is the database it writes (not `DATA/paraf.db`).
#[tokio::test]
async fn admin_reads_the_data_directorys_paraf_toml() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("paraf-data");
    std::fs::create_dir_all(&data).unwrap();
    let elsewhere = dir.path().join("elsewhere").join("shared.db");
    let url = format!("sqlite://{}", elsewhere.display());
    std::fs::write(data.join("paraf.toml"), format!("database_url = {url:?}\n")).unwrap();
    let out = ok(&paraf(
        &data,
        &[
            "org",
            "create",
            "--name",
            "Dinas Toml",
            "--slug",
            "toml",
            "--plan",
            "lontar",
        ],
    ));
    assert!(out.contains("created organisation toml"), "{out}");
    assert!(
        elsewhere.is_file(),
        "the configured database was not written"
    );
    assert!(
        !data.join("paraf.db").exists(),
        "wrote DATA/paraf.db instead"
    );
    let store = Store::connect(&url).await.unwrap();
    let org = store.organisation_by_slug("toml").await.unwrap();
    assert_eq!(org.name.as_str(), "Dinas Toml");
    store.close().await;
    // A broken paraf.toml is a one-line error naming the file, not a silent default.
    std::fs::write(data.join("paraf.toml"), "database_ur = 1\n").unwrap();
    refused(&paraf(&data, &["org", "list"]), "paraf.toml");
}

/// `paraf admin webhook …`: the secret printed once and sealed in the database, rotation,
/// enable/disable/delete, the delivery log, and bad input in one line (a private address is
/// refused: the data directory does not allow them).
#[test]
fn webhook_endpoints() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("paraf-data");
    ok(&paraf(
        &data,
        &[
            "org", "create", "--name", "Koperasi", "--slug", "kop", "--plan", "piagam",
        ],
    ));
    let create = [
        "webhook",
        "create",
        "--org",
        "kop",
        "--url",
        "https://erp.example.com/paraf",
        "--events",
        "envelope.*,document.signed",
    ];
    refused(&paraf(&data, &create), "no CA");
    init_ca(&data);
    let out = ok(&paraf(&data, &create));
    let (id, secret) = out.trim().split_once('\t').unwrap();
    assert_eq!(id, "1");
    assert!(
        secret.starts_with("whsec_") && secret.len() > 40,
        "{secret}"
    );
    // Sealed at rest: the database file never holds the secret.
    let db = std::fs::read(data.join("paraf.db")).unwrap();
    let key = secret.trim_start_matches("whsec_").as_bytes();
    assert!(!db.windows(key.len()).any(|w| w == key));

    let list = ok(&paraf(&data, &["webhook", "list", "--org", "kop"]));
    assert_eq!(
        list.trim_end_matches('\n'),
        "1\tenabled\thttps://erp.example.com/paraf\tenvelope.*,document.signed\t"
    );
    let rotated = ok(&paraf(
        &data,
        &["webhook", "rotate", "--org", "kop", "--id", "1"],
    ));
    assert!(rotated.trim().starts_with("whsec_") && rotated.trim() != secret);
    assert!(ok(&paraf(
        &data,
        &["webhook", "disable", "--org", "kop", "--id", "1"]
    ))
    .contains("disabled"));
    assert!(ok(&paraf(&data, &["webhook", "list", "--org", "kop"])).contains("\tdisabled\t"));
    assert!(ok(&paraf(
        &data,
        &["webhook", "enable", "--org", "kop", "--id", "1"]
    ))
    .contains("enabled"));
    assert_eq!(
        ok(&paraf(&data, &["webhook", "deliveries", "--org", "kop"])),
        ""
    );

    // Bad input: one line naming the flag.
    let mut private = create;
    private[5] = "http://169.254.169.254/latest/meta-data/";
    refused(&paraf(&data, &private), "invalid --url");
    let mut not_http = create;
    not_http[5] = "ftp://erp.example.com/";
    refused(&paraf(&data, &not_http), "invalid --url");
    let mut bad_events = create;
    bad_events[7] = "Envelope Completed";
    refused(&paraf(&data, &bad_events), "invalid --events");
    let mut other_org = create;
    other_org[3] = "nobody";
    refused(&paraf(&data, &other_org), "unknown organisation");
    refused(
        &paraf(
            &data,
            &["webhook", "redeliver", "--org", "kop", "--delivery", "99"],
        ),
        "not found",
    );
    ok(&paraf(
        &data,
        &["webhook", "delete", "--org", "kop", "--id", "1"],
    ));
    refused(
        &paraf(&data, &["webhook", "delete", "--org", "kop", "--id", "1"]),
        "webhook endpoint not found",
    );
    assert_eq!(ok(&paraf(&data, &["webhook", "list", "--org", "kop"])), "");
}

/// `paraf admin org credits`: unlimited by default, set, add, back to unlimited; bad input in
/// one line.
#[test]
fn org_credits() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("paraf-data");
    ok(&paraf(
        &data,
        &[
            "org", "create", "--name", "Cabinet", "--slug", "cab", "--plan", "lontar",
        ],
    ));
    let credits = |extra: &[&str]| {
        let mut a = vec!["org", "credits", "--org", "cab"];
        a.extend_from_slice(extra);
        paraf(&data, &a)
    };
    assert_eq!(ok(&credits(&[])), "cab: unlimited credits\n");
    refused(&credits(&["--add", "5"]), "invalid --add");
    assert_eq!(ok(&credits(&["--set", "3"])), "cab: 3 credits\n");
    assert_eq!(ok(&credits(&["--add", "5"])), "cab: 8 credits\n");
    assert_eq!(ok(&credits(&[])), "cab: 8 credits\n");
    refused(&credits(&["--set=-1"]), "invalid --set");
    assert_eq!(ok(&credits(&["--unlimited"])), "cab: unlimited credits\n");
}

/// `paraf admin org signing`: B-LTA and RSA-2048 by default, each changed alone, the change
/// audited; unknown values refused in one line, nothing changed.
#[test]
fn org_signing() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("paraf-data");
    ok(&paraf(
        &data,
        &[
            "org", "create", "--name", "Dinas", "--slug", "dinas", "--plan", "lontar",
        ],
    ));
    let signing = |extra: &[&str]| {
        let mut a = vec!["org", "signing", "--org", "dinas"];
        a.extend_from_slice(extra);
        paraf(&data, &a)
    };
    assert_eq!(ok(&signing(&[])), "dinas: level B-LTA, key type rsa2048\n");
    assert_eq!(
        ok(&signing(&["--level", "b-t"])),
        "dinas: level B-T, key type rsa2048\n"
    );
    assert_eq!(
        ok(&signing(&["--key-type", "P384"])),
        "dinas: level B-T, key type p384\n"
    );
    refused(&signing(&["--level", "B-LTX"]), "unknown signature level");
    refused(&signing(&["--key-type", "rsa1024"]), "unknown key type");
    assert_eq!(ok(&signing(&[])), "dinas: level B-T, key type p384\n");
    // Created, then two changes: three records, the chain intact.
    let audit = ok(&paraf(&data, &["audit", "verify", "--org", "dinas"]));
    assert!(audit.contains("intact: 3 records"), "{audit}");
}

/// Organisation `kop` and the data directory's CA (the commands through the core need it).
fn org_with_ca(data: &Path) {
    ok(&paraf(
        data,
        &[
            "org", "create", "--name", "Koperasi", "--slug", "kop", "--plan", "piagam",
        ],
    ));
    init_ca(data);
}

fn init_ca(data: &Path) {
    ok(&Command::new(env!("CARGO_BIN_EXE_paraf"))
        .args(["ca", "init", "--dir"])
        .arg(data.join("ca"))
        .args(["--public-url", "http://127.0.0.1:9"])
        .env_remove("PARAF_CA_PASSPHRASE")
        .output()
        .unwrap());
}

/// `paraf admin saml`: set (the relay secret printed once, sealed at rest), show (never the
/// secret), set again (the secret kept), rotate, remove; bad metadata refused in one line.
#[test]
fn saml_identity_provider() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("paraf-data");
    org_with_ca(&data);
    let idp = paraf_testkit::saml::Idp::new(
        "https://idp.kop.test/metadata",
        paraf_testkit::saml::KeyAlg::EcP256,
    );
    let md = dir.path().join("idp.xml");
    std::fs::write(&md, idp.metadata()).unwrap();
    let md = md.to_str().unwrap();
    let saml = |args: &[&str]| paraf(&data, &[&["saml"], args].concat());
    let field = |out: &str, name: &str| -> Option<String> {
        out.lines()
            .find_map(|l| l.strip_prefix(&format!("{name}:\t")))
            .map(str::to_string)
    };

    refused(&saml(&["show", "--org", "kop"]), "not set up");
    let bad = dir.path().join("bad.xml");
    std::fs::write(&bad, "<x/>").unwrap();
    refused(
        &saml(&["set", "--org", "kop", "--metadata", bad.to_str().unwrap()]),
        "invalid --metadata",
    );
    refused(
        &saml(&[
            "set",
            "--org",
            "kop",
            "--metadata",
            md,
            "--redirect-url",
            "ftp://x",
        ]),
        "invalid --redirect-url",
    );
    refused(
        &saml(&["set", "--org", "nope", "--metadata", md]),
        "unknown organisation",
    );

    let out = ok(&saml(&[
        "set",
        "--org",
        "kop",
        "--metadata",
        md,
        "--redirect-url",
        "https://front.kop.test/",
    ]));
    assert_eq!(field(&out, "idp-entity-id").unwrap(), idp.entity_id);
    assert_eq!(field(&out, "idp-certificates").unwrap(), "1");
    assert_eq!(
        field(&out, "sp-entity-id").unwrap(),
        "http://127.0.0.1:8080/saml/kop",
        "{out}"
    );
    assert_eq!(
        field(&out, "redirect-url").unwrap(),
        "https://front.kop.test/"
    );
    let secret = field(&out, "relay-secret").unwrap();
    assert_eq!(secret.len(), 64);
    let db = std::fs::read(data.join("paraf.db")).unwrap();
    assert!(
        !db.windows(64).any(|w| w == secret.as_bytes()),
        "sealed at rest"
    );

    let shown = ok(&saml(&["show", "--org", "kop"]));
    assert_eq!(
        field(&shown, "redirect-url").unwrap(),
        "https://front.kop.test/"
    );
    assert!(field(&shown, "relay-secret").is_none() && !shown.contains(&secret));
    // A new certificate (metadata) keeps the secret and the choices; rotation makes a new one.
    let again = ok(&saml(&["set", "--org", "kop", "--metadata", md]));
    assert!(field(&again, "relay-secret").is_none());
    assert_eq!(
        field(&again, "redirect-url").unwrap(),
        "https://front.kop.test/"
    );
    let rotated = ok(&saml(&[
        "set",
        "--org",
        "kop",
        "--metadata",
        md,
        "--rotate-secret",
    ]));
    assert_ne!(field(&rotated, "relay-secret").unwrap(), secret);

    ok(&saml(&["remove", "--org", "kop"]));
    refused(&saml(&["remove", "--org", "kop"]), "not set up");

    // By URL, through the outbound guard: a loopback address is refused unless the operator
    // allows private addresses.
    let url = paraf_testkit::tools::serve_bytes(idp.metadata().into_bytes(), "application/xml");
    let by_url = ["set", "--org", "kop", "--metadata", url.as_str()];
    refused(&saml(&by_url), "refused");
    let out = ok(&Command::new(env!("CARGO_BIN_EXE_paraf"))
        .args(["admin", "saml"])
        .args(by_url)
        .arg("--data")
        .arg(&data)
        .env_remove("PARAF_DATA")
        .env_remove("PARAF_DATABASE_URL")
        .env("PARAF_OUTBOUND_ALLOW_PRIVATE", "true")
        .output()
        .unwrap());
    assert_eq!(field(&out, "idp-entity-id").unwrap(), idp.entity_id);
    assert_eq!(field(&out, "relay-secret").unwrap().len(), 64);
}

/// `paraf admin app-key`: the private key printed once is a PKCS#8 Ed25519 key that
/// `openssl` signs with, and the core verifies that signature with the public key it kept;
/// list, disable, rotate (the old key's signatures stop verifying) and delete.
#[tokio::test]
async fn app_keys() {
    use paraf_core::app_keys::{signing_string, verify_request, SignatureRefusal};
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("paraf-data");
    org_with_ca(&data);
    let key = |args: &[&str]| paraf(&data, &[&["app-key"], args].concat());
    refused(
        &key(&["create", "--org", "kop", "--name", " "]),
        "invalid --name",
    );
    refused(
        &key(&["create", "--org", "nope", "--name", "ERP"]),
        "unknown organisation",
    );
    let out = ok(&key(&[
        "create",
        "--org",
        "kop",
        "--name",
        "ERP Keuangan",
        "--require-signature",
    ]));
    let (first, pem) = out.split_once('\n').unwrap();
    let app_key = first.strip_prefix("x-app-key:\t").unwrap().to_string();
    assert!(app_key.starts_with("paraf_gak_"), "{out}");
    assert!(
        pem.starts_with("-----BEGIN PRIVATE KEY-----\n")
            && pem.ends_with("-----END PRIVATE KEY-----\n")
    );
    let pem_path = dir.path().join("erp.pem");
    std::fs::write(&pem_path, pem).unwrap();
    // The private key is not in the database.
    let db = std::fs::read(data.join("paraf.db")).unwrap();
    let body_line = pem.lines().nth(1).unwrap().as_bytes();
    assert!(!db.windows(body_line.len()).any(|w| w == body_line));

    // A signature by openssl with the printed key verifies against the kept public key.
    let sign = |pem: &std::path::Path, msg: &[u8]| -> String {
        paraf_testkit::tools::ed25519_sign(&std::fs::read_to_string(pem).unwrap(), msg)
    };
    let msg = signing_string("POST", "/ext/v1/envelopes", "req-1", b"{\"a\":1}");
    let sig = sign(&pem_path, &msg);
    let url = paraf_store::sqlite_url_for_data_dir(&data);
    let store = paraf_store::Store::connect(&url).await.unwrap();
    let app = store.gateway_app_by_key(&app_key).await.unwrap();
    assert!(app.require_signature);
    let check = |app: &paraf_domain::GatewayApp, body: &[u8], sig: &str| {
        verify_request(app, "POST", "/ext/v1/envelopes", "req-1", body, Some(sig))
    };
    assert_eq!(check(&app, b"{\"a\":1}", &sig), Ok(()));
    assert_eq!(
        check(&app, b"{\"a\":2}", &sig),
        Err(SignatureRefusal::Mismatch)
    );

    let list = ok(&key(&["list", "--org", "kop"]));
    assert_eq!(
        list,
        format!("1\t{app_key}\tenabled\tsignature required\tERP Keuangan\n")
    );
    ok(&key(&["disable", "--org", "kop", "--id", "1"]));
    assert!(ok(&key(&["list", "--org", "kop"])).contains("\tdisabled\t"));
    assert!(store.gateway_app_by_key(&app_key).await.is_err());
    ok(&key(&["enable", "--org", "kop", "--id", "1"]));
    refused(&key(&["disable", "--org", "kop", "--id", "9"]), "not found");

    // Rotation: the same x-app-key, a new private key; the old one's signatures stop.
    let rotated = ok(&key(&["rotate", "--org", "kop", "--id", "1"]));
    let (first, new_pem) = rotated.split_once('\n').unwrap();
    assert_eq!(first, format!("x-app-key:\t{app_key}"));
    assert_ne!(new_pem, pem);
    let app = store.gateway_app_by_key(&app_key).await.unwrap();
    assert_eq!(
        check(&app, b"{\"a\":1}", &sig),
        Err(SignatureRefusal::Mismatch)
    );
    let new_path = dir.path().join("erp2.pem");
    std::fs::write(&new_path, new_pem).unwrap();
    let sig2 = sign(&new_path, &msg);
    assert_eq!(check(&app, b"{\"a\":1}", &sig2), Ok(()));

    ok(&key(&["delete", "--org", "kop", "--id", "1"]));
    assert!(store.gateway_app_by_key(&app_key).await.is_err());
    assert_eq!(ok(&key(&["list", "--org", "kop"])), "");
    refused(&key(&["delete", "--org", "kop", "--id", "1"]), "not found");
    let trail = store
        .audit_records(store.organisation_by_slug("kop").await.unwrap().id, 0, 100)
        .await
        .unwrap();
    let actions: Vec<&str> = trail.iter().map(|r| r.action.as_str()).collect();
    for a in [
        "app_key.created",
        "app_key.updated",
        "app_key.rotated",
        "app_key.deleted",
    ] {
        assert!(actions.contains(&a), "{a} not in {actions:?}");
    }
    store.close().await;
}

/// `paraf admin ca show|renew` on the data directory's CA: the new issuing CA issues, the first
/// is still listed.
#[test]
fn admin_ca_show_and_renew() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("paraf-data");
    init_ca(&data);
    let show = ok(&paraf(&data, &["ca", "show"]));
    let lines: Vec<&str> = show.lines().collect();
    assert_eq!(lines.len(), 2, "{show}");
    assert!(
        lines[0].starts_with("root\t") && !lines[0].ends_with("issues"),
        "{show}"
    );
    assert!(
        lines[1].starts_with("issuing\t") && lines[1].ends_with("\tissues"),
        "{show}"
    );
    let renewed = ok(&paraf(&data, &["ca", "renew"]));
    assert!(
        renewed.starts_with("renewed: issuing-2 (and its TSA) issue from now on\n"),
        "{renewed}"
    );
    let show = ok(&paraf(&data, &["ca", "show"]));
    let lines: Vec<&str> = show.lines().collect();
    assert_eq!(lines.len(), 3, "{show}");
    assert!(
        lines[1].starts_with("issuing\t") && !lines[1].ends_with("issues"),
        "{show}"
    );
    assert!(
        lines[2].starts_with("issuing-2\t") && lines[2].contains("Issuing CA 2"),
        "{show}"
    );
    assert!(lines[2].ends_with("\tissues"), "{show}");
    assert!(data.join("ca/issuing-2.pem").exists());
}
