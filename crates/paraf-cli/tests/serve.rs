//! The README's first command: `paraf serve` starts with embedded defaults, prints the admin
//! password and an API token once, answers with that token, and stops cleanly on SIGTERM.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod serving;

use std::process::Stdio;

use serving::{free_port, start, start_with, stop, value};

#[test]
fn serve_starts_with_embedded_defaults_and_prints_the_token_once() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("paraf-data");
    let port = free_port();
    let (server, lines) = start(&data, port);
    let token =
        value(&lines, "API token:").unwrap_or_else(|| panic!("no API token printed: {lines:?}"));
    assert!(value(&lines, "admin password:").is_some(), "{lines:?}");
    assert!(
        data.join("paraf.db").exists(),
        "no SQLite database in the data directory"
    );
    assert!(
        data.join("ca").join("root.pem").exists(),
        "no built-in CA in the data directory"
    );

    let me = ureq::get(&format!("http://127.0.0.1:{port}/api/me"))
        .header("Authorization", &format!("Bearer {token}"))
        .call()
        .unwrap()
        .into_body()
        .read_to_string()
        .unwrap();
    assert!(me.contains("default"), "{me}");
    let root = ureq::get(&format!("http://127.0.0.1:{port}/pki/ca/root.pem"))
        .call()
        .unwrap()
        .into_body()
        .read_to_string()
        .unwrap();
    assert_eq!(
        root,
        std::fs::read_to_string(data.join("ca").join("root.pem")).unwrap()
    );

    stop(server);

    // A second start on the same data prints no secret again.
    let port = free_port();
    let (_server, lines) = start(&data, port);
    assert!(
        value(&lines, "API token:").is_none(),
        "the token was printed twice: {lines:?}"
    );
}

/// Secrets given in the environment (CA passphrase, SMTP password, PKCS#11 PIN), the
/// first start's password and token, and passwords presented by clients never reach the log,
/// even at debug level.
#[test]
fn secrets_never_reach_the_log_at_debug_level() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("paraf-data");
    let log_path = tmp.path().join("stderr.log");
    let log = std::fs::File::create(&log_path).unwrap();
    let port = free_port();
    let smtp_port = free_port().to_string();
    let secrets = [
        ("PARAF_CA_PASSPHRASE", "ca-passphrase-Zq81xK"),
        ("PARAF_SMTP_PASSWORD", "smtp-password-Wp42vM"),
        ("PARAF_PKCS11_PIN", "pkcs11-pin-Hy77tB"),
    ];
    let mut env: Vec<(&str, &str)> = secrets.to_vec();
    env.extend([
        ("PARAF_LOG", "debug"),
        ("PARAF_SMTP_HOST", "127.0.0.1"),
        ("PARAF_SMTP_PORT", smtp_port.as_str()),
        ("PARAF_SMTP_USERNAME", "mailer"),
        ("PARAF_PKCS11_MODULE", "/nonexistent/libsofthsm2.so"),
    ]);
    let (server, lines) = start_with(&data, port, &env, Stdio::from(log));
    let token = value(&lines, "API token:").expect("API token printed");
    let password = value(&lines, "admin password:").expect("admin password printed");
    let base = format!("http://127.0.0.1:{port}");
    ureq::get(&format!("{base}/api/me"))
        .header("Authorization", &format!("Bearer {token}"))
        .call()
        .unwrap();
    // A password grant (right and wrong), a wrong Basic credential, a wrong console login.
    let grant = |pass: &str| {
        ureq::post(&format!("{base}/api/oauth/token"))
            .config()
            .http_status_as_error(false)
            .build()
            .send_form([
                ("grant_type", "password"),
                ("username", "admin@paraf.localhost"),
                ("password", pass),
            ])
            .unwrap()
            .into_body()
            .read_to_string()
            .unwrap()
    };
    let issued = grant(&password);
    let access = issued
        .split('"')
        .skip_while(|p| *p != "access_token")
        .nth(2)
        .unwrap_or_else(|| panic!("no access token: {issued}"))
        .to_string();
    grant("wrong-password-Rt55nQ");
    let basic = base64::Engine::encode(
        &base64::engine::general_purpose::STANDARD,
        "erp:basic-password-Lk93cD",
    );
    let r = ureq::post(&format!("{base}/api/v2/sign/pdf"))
        .config()
        .http_status_as_error(false)
        .build()
        .header("Authorization", &format!("Basic {basic}"))
        .send("{}")
        .unwrap();
    assert_eq!(r.status().as_u16(), 401);
    stop(server);
    let log = std::fs::read_to_string(&log_path).unwrap();
    assert!(
        log.contains("paraf server listening"),
        "the log was not captured: {log}"
    );
    assert!(
        log.contains("DEBUG") || log.contains("\"level\":\"DEBUG\""),
        "not at debug level"
    );
    let mut leaked: Vec<&str> = secrets.iter().map(|(_, v)| *v).collect();
    leaked.extend([
        token.as_str(),
        password.as_str(),
        access.as_str(),
        "wrong-password-Rt55nQ",
        "basic-password-Lk93cD",
    ]);
    for secret in leaked {
        assert!(!log.contains(secret), "{secret:?} is in the log");
    }
}
