//! An S3-compatible server for tests: `moto_server` (PyPI `moto[server]`) as a child process on
//! a free loopback port, with the `AWS_*` variables a client needs to reach it, bucket
//! creation and a raw look at the objects (their keys).

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use crate::tools::{free_port, require_tool};

/// A running `moto_server` (killed when dropped).
pub struct Moto {
    child: Child,
    /// `http://127.0.0.1:<port>`.
    pub endpoint: String,
    http: reqwest::Client,
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Moto {
    /// Starts a server and waits until it answers.
    pub async fn start() -> Moto {
        require_tool("moto_server", "moto[server] (pip)");
        let port = free_port();
        let child = Command::new("moto_server")
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("cannot start moto_server");
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .build()
            .unwrap();
        let moto = Moto {
            child,
            endpoint: format!("http://127.0.0.1:{port}"),
            http,
        };
        crate::tools::eventually(60, "moto_server answering", || async {
            moto.http.get(&moto.endpoint).send().await.ok().map(|_| ())
        })
        .await;
        moto
    }

    /// Creates `bucket`.
    pub async fn bucket(&self, bucket: &str) {
        let r = self
            .http
            .put(format!("{}/{bucket}", self.endpoint))
            .send()
            .await
            .unwrap();
        assert!(
            r.status().is_success(),
            "creating bucket {bucket}: {}",
            r.status()
        );
    }

    /// The variables that point a standard S3 client (and `paraf serve`) here.
    pub fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("AWS_ENDPOINT", self.endpoint.clone()),
            ("AWS_ALLOW_HTTP", "true".into()),
            ("AWS_REGION", "us-east-1".into()),
            ("AWS_ACCESS_KEY_ID", "testing".into()),
            ("AWS_SECRET_ACCESS_KEY", "testing".into()),
        ]
    }

    /// The keys of `bucket`'s objects (at most 1000).
    pub async fn objects(&self, bucket: &str) -> Vec<String> {
        let xml = self
            .http
            .get(format!("{}/{bucket}?list-type=2", self.endpoint))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        xml.split("<Key>")
            .skip(1)
            .filter_map(|s| s.split("</Key>").next())
            .map(str::to_string)
            .collect()
    }
}
