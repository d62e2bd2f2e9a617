//! A real browser for the web pages' tests: headless Chromium (Debian's `chromium`) driven by
//! `chromedriver` over W3C WebDriver (plain HTTP, no browser download).

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::{json, Value};

use crate::tools::{eventually, free_port, require_tool};

/// chromedriver (a child process) and one W3C WebDriver session of headless Chromium.
pub struct Browser {
    http: reqwest::Client,
    base: String,
    session: Option<String>,
    driver: Child,
    _profile: tempfile::TempDir,
}

const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

impl Browser {
    pub async fn start() -> Browser {
        require_tool("chromedriver", "chromium-driver");
        require_tool("chromium", "chromium");
        let port = free_port();
        let driver = Command::new("/usr/bin/chromedriver")
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("cannot start chromedriver");
        let profile = tempfile::tempdir().unwrap();
        let mut b = Browser {
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(60))
                .build()
                .unwrap(),
            base: format!("http://127.0.0.1:{port}"),
            session: None,
            driver,
            _profile: profile,
        };
        let status = format!("{}/status", b.base);
        let http = b.http.clone();
        eventually(20, "chromedriver to be ready", || {
            let http = http.clone();
            let status = status.clone();
            async move {
                let r = http.get(&status).send().await.ok()?;
                let v: Value = r.json().await.ok()?;
                v["value"]["ready"].as_bool().filter(|r| *r)
            }
        })
        .await;
        let args = [
            "--headless".to_string(),
            "--no-sandbox".into(),
            "--disable-gpu".into(),
            "--disable-quic".into(),
            "--no-first-run".into(),
            "--disable-background-networking".into(),
            "--disable-component-update".into(),
            "--disable-sync".into(),
            "--disable-dev-shm-usage".into(),
            format!("--user-data-dir={}", b._profile.path().display()),
        ];
        let caps = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {"binary": "/usr/bin/chromium", "args": args},
        }}});
        let v = b.call(reqwest::Method::POST, "/session", Some(caps)).await;
        b.session = Some(
            v["sessionId"]
                .as_str()
                .unwrap_or_else(|| panic!("{v}"))
                .to_string(),
        );
        b
    }

    async fn call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        let url = format!("{}{path}", self.base);
        let mut r = self.http.request(method.clone(), &url);
        if let Some(b) = body {
            r = r.json(&b);
        } else if method == reqwest::Method::POST {
            r = r.json(&json!({}));
        }
        let resp = r.send().await.unwrap();
        let status = resp.status();
        let v: Value = resp.json().await.unwrap();
        assert!(
            status.is_success(),
            "WebDriver {method} {path}: {status} {v}"
        );
        v["value"].clone()
    }

    fn s(&self) -> String {
        format!("/session/{}", self.session.as_deref().unwrap())
    }

    pub async fn go(&self, url: &str) {
        self.call(
            reqwest::Method::POST,
            &format!("{}/url", self.s()),
            Some(json!({"url": url})),
        )
        .await;
    }

    pub async fn url(&self) -> String {
        self.call(reqwest::Method::GET, &format!("{}/url", self.s()), None)
            .await
            .as_str()
            .unwrap()
            .to_string()
    }

    pub async fn source(&self) -> String {
        self.call(reqwest::Method::GET, &format!("{}/source", self.s()), None)
            .await
            .as_str()
            .unwrap()
            .to_string()
    }

    /// The element matching `css`, waiting up to 15 s for it.
    pub async fn find(&self, css: &str) -> String {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
        loop {
            let r = self
                .http
                .post(format!("{}{}/element", self.base, self.s()))
                .json(&json!({"using": "css selector", "value": css}))
                .send()
                .await
                .unwrap();
            if r.status().is_success() {
                let v: Value = r.json().await.unwrap();
                return v["value"][ELEMENT]
                    .as_str()
                    .unwrap_or_else(|| panic!("{css}: {v}"))
                    .to_string();
            }
            if tokio::time::Instant::now() > deadline {
                panic!(
                    "no element {css:?} on {}:\n{}",
                    self.url().await,
                    self.source().await
                );
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    pub async fn click(&self, css: &str) {
        let e = self.find(css).await;
        self.call(
            reqwest::Method::POST,
            &format!("{}/element/{e}/click", self.s()),
            None,
        )
        .await;
    }

    pub async fn type_into(&self, css: &str, text: &str) {
        let e = self.find(css).await;
        self.call(
            reqwest::Method::POST,
            &format!("{}/element/{e}/clear", self.s()),
            None,
        )
        .await;
        self.call(
            reqwest::Method::POST,
            &format!("{}/element/{e}/value", self.s()),
            Some(json!({"text": text})),
        )
        .await;
    }

    /// Chooses the file at `path` in the file input matching `css` (as a person picking it).
    pub async fn upload(&self, css: &str, path: &str) {
        let e = self.find(css).await;
        self.call(
            reqwest::Method::POST,
            &format!("{}/element/{e}/value", self.s()),
            Some(json!({"text": path})),
        )
        .await;
    }

    pub async fn text(&self, css: &str) -> String {
        let e = self.find(css).await;
        self.call(
            reqwest::Method::GET,
            &format!("{}/element/{e}/text", self.s()),
            None,
        )
        .await
        .as_str()
        .unwrap()
        .to_string()
    }

    /// Runs `script` (a function body: `return …` gives the value) in the page.
    pub async fn script(&self, script: &str) -> Value {
        self.call(
            reqwest::Method::POST,
            &format!("{}/execute/sync", self.s()),
            Some(json!({"script": script, "args": []})),
        )
        .await
    }

    /// Draws a stroke across the element matching `css` with the mouse (W3C actions: press,
    /// move, release), after scrolling it into view — a signature on a canvas.
    pub async fn draw(&self, css: &str) {
        let e = self.find(css).await;
        let el = json!({ ELEMENT: e });
        self.call(
            reqwest::Method::POST,
            &format!("{}/execute/sync", self.s()),
            Some(
                json!({"script": "arguments[0].scrollIntoView({block: 'center'});", "args": [el]}),
            ),
        )
        .await;
        let mut steps = vec![
            json!({"type": "pointerMove", "duration": 0, "origin": el, "x": -120, "y": 10}),
            json!({"type": "pointerDown", "button": 0}),
        ];
        for (x, y) in [
            (-80, -20),
            (-40, 15),
            (0, -25),
            (40, 20),
            (80, -10),
            (120, 5),
        ] {
            steps
                .push(json!({"type": "pointerMove", "duration": 30, "origin": el, "x": x, "y": y}));
        }
        steps.push(json!({"type": "pointerUp", "button": 0}));
        self.call(
            reqwest::Method::POST,
            &format!("{}/actions", self.s()),
            Some(json!({"actions": [{"type": "pointer", "id": "pen",
                "parameters": {"pointerType": "mouse"}, "actions": steps}]})),
        )
        .await;
    }

    /// Waits until the address ends with `suffix`.
    pub async fn wait_url(&self, suffix: &str) {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
        loop {
            let url = self.url().await;
            if url.ends_with(suffix) {
                return;
            }
            if tokio::time::Instant::now() > deadline {
                panic!(
                    "still at {url}, expected …{suffix}:\n{}",
                    self.source().await
                );
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// On a signer page: types `name` as the signature, signs, and waits for the page that
    /// says it is done.
    pub async fn sign_typed(&self, name: &str) {
        self.type_into(r#"[data-testid="signature-typed"]"#, name)
            .await;
        self.click(r#"[data-testid="sign-submit"]"#).await;
        self.find(r#"[data-testid="signed-done"]"#).await;
    }

    pub async fn close(mut self) {
        if let Some(s) = self.session.take() {
            let _ = self
                .http
                .delete(format!("{}/session/{s}", self.base))
                .send()
                .await;
        }
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        // After a failure: end the browser through the driver, then stop the driver.
        if let Some(s) = self.session.take() {
            let url = format!("{}/session/{s}", self.base);
            let _ = std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .unwrap();
                rt.block_on(async move {
                    let _ = reqwest::Client::new().delete(url).send().await;
                })
            })
            .join();
        }
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}
