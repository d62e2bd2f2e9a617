//! A webhook receiver for tests, as an integrator would run one: a real HTTP server on
//! loopback that answers each delivery with the next status of its plan and checks every
//! delivery's Standard Webhooks signature with its own implementation (not Paraf's).
//! [`standard_webhooks_verify`] asks the reference Python library (`standardwebhooks`) too.

use std::net::SocketAddr;
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use base64::Engine as _;
use hmac::{Hmac, KeyInit, Mac};

/// One delivery as received.
#[derive(Debug, Clone)]
pub struct Delivery {
    pub headers: HeaderMap,
    pub body: Bytes,
    /// The status answered.
    pub answered: u16,
}

impl Delivery {
    pub fn header(&self, name: &str) -> String {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string()
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap()
    }

    /// Whether the `webhook-signature` header holds a `v1` signature by `secret`
    /// (`whsec_<base64 key>`) over `id.timestamp.body`.
    pub fn signed_by(&self, secret: &str) -> bool {
        let key = base64::engine::general_purpose::STANDARD
            .decode(secret.strip_prefix("whsec_").unwrap_or(secret))
            .unwrap();
        let mut signed = format!(
            "{}.{}.",
            self.header("webhook-id"),
            self.header("webhook-timestamp")
        )
        .into_bytes();
        signed.extend_from_slice(&self.body);
        let mut mac = <Hmac<sha2::Sha256> as KeyInit>::new_from_slice(&key).unwrap();
        mac.update(&signed);
        let expected = format!(
            "v1,{}",
            base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
        );
        self.header("webhook-signature")
            .split(' ')
            .any(|s| s == expected)
    }
}

/// The receiver: answers request n with `plan[n]` (the last status repeats); 0 means "never
/// answer".
#[derive(Clone, Default)]
pub struct Receiver {
    plan: Arc<Vec<u16>>,
    seen: Arc<Mutex<Vec<Delivery>>>,
    count: Arc<AtomicUsize>,
    /// Its URL (`http://127.0.0.1:port/hook`).
    pub url: String,
}

async fn receive(State(r): State<Receiver>, headers: HeaderMap, body: Bytes) -> StatusCode {
    let n = r.count.fetch_add(1, Ordering::SeqCst);
    let status = *r.plan.get(n).or(r.plan.last()).unwrap_or(&200);
    r.seen.lock().unwrap().push(Delivery {
        headers,
        body,
        answered: status,
    });
    if status == 0 {
        tokio::time::sleep(Duration::from_secs(3600)).await;
    }
    StatusCode::from_u16(status).unwrap_or(StatusCode::OK)
}

impl Receiver {
    /// Starts a receiver answering with `plan`.
    pub async fn start(plan: Vec<u16>) -> Receiver {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr: SocketAddr = listener.local_addr().unwrap();
        let r = Receiver {
            plan: Arc::new(plan),
            url: format!("http://{addr}/hook"),
            ..Receiver::default()
        };
        let app = axum::Router::new()
            .route("/hook", axum::routing::post(receive))
            .with_state(r.clone());
        tokio::spawn(async move { axum::serve(listener, app).await });
        r
    }

    /// Deliveries so far.
    pub fn len(&self) -> usize {
        self.seen.lock().unwrap().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Every delivery so far.
    pub fn deliveries(&self) -> Vec<Delivery> {
        self.seen.lock().unwrap().clone()
    }
}

/// Verifies a delivery with the reference Python library `standardwebhooks` (which also
/// refuses timestamps more than five minutes from the real time). Returns its error, if any.
pub fn standard_webhooks_verify(secret: &str, d: &Delivery) -> Result<(), String> {
    let dir = tempfile::tempdir().unwrap();
    let body = crate::tools::write(dir.path(), "body.json", &d.body);
    let script = "import sys\n\
        from standardwebhooks.webhooks import Webhook\n\
        secret, path, mid, ts, sig = sys.argv[1:6]\n\
        body = open(path, 'rb').read()\n\
        Webhook(secret).verify(body, {'webhook-id': mid, 'webhook-timestamp': ts, 'webhook-signature': sig})\n\
        print('ok')\n";
    let out = Command::new("python3")
        .arg("-c")
        .arg(script)
        .arg(secret)
        .arg(&body)
        .arg(d.header("webhook-id"))
        .arg(d.header("webhook-timestamp"))
        .arg(d.header("webhook-signature"))
        .output()
        .expect("python3");
    if out.status.success() {
        Ok(())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).into_owned())
    }
}
