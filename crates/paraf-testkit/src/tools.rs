//! Outside programs: running them, and the validators every PDF we emit is checked by
//! (pyHanko, poppler's pdfsig with an NSS database trusting our root, qpdf). A missing tool
//! fails the test with the package to install (`scripts/install-test-deps.sh` installs all).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// Fails unless `name` is on the PATH.
pub fn require_tool(name: &str, package: &str) {
    let ok = Command::new("sh")
        .arg("-c")
        .arg(format!("command -v {name}"))
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    assert!(
        ok,
        "`{name}` is not installed: run scripts/install-test-deps.sh (package {package})"
    );
}

/// Runs a command; panics with its output when it fails.
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

/// stdout then stderr, as text.
pub fn output_text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Writes `data` to `dir/name`.
pub fn write(dir: &Path, name: &str, data: &[u8]) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, data).unwrap();
    p
}

/// An NSS database in `dir/nss` trusting `root` (PEM) for everything: what pdfsig reads.
pub fn nss_db(dir: &Path, root: &Path) -> PathBuf {
    require_tool("certutil", "libnss3-tools");
    let nss = dir.join("nss");
    std::fs::create_dir_all(&nss).unwrap();
    let db = format!("sql:{}", nss.display());
    run_ok(Command::new("certutil").args(["-N", "--empty-password", "-d", &db]));
    run_ok(
        Command::new("certutil")
            .args(["-A", "-n", "paraf-root", "-t", "CT,C,C", "-d", &db, "-i"])
            .arg(root),
    );
    nss
}

/// One line of `pyhanko sign validate` per signature.
#[derive(Debug)]
pub struct PyHankoVerdict {
    /// The signature lines (INTACT / INVALID / UNTRUSTED / TAMPERED).
    pub lines: Vec<String>,
    /// Exit status 0.
    pub ok: bool,
    /// Everything it printed, with the exit status.
    pub stdout: String,
}

/// `pyhanko sign validate --trust-replace --trust ROOT PDF`.
pub fn pyhanko_validate(pdf: &Path, root: &Path, password: Option<&str>) -> PyHankoVerdict {
    require_tool("pyhanko", "pip install pyhanko pyhanko-cli");
    let mut c = Command::new("pyhanko");
    c.args(["sign", "validate", "--trust-replace", "--trust"])
        .arg(root);
    if let Some(p) = password {
        c.args(["--password", p]);
    }
    let out = c.arg(pdf).output().expect("run pyhanko");
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    let lines = stdout
        .lines()
        .filter(|l| {
            l.contains("INTACT")
                || l.contains("INVALID")
                || l.contains("UNTRUSTED")
                || l.contains("TAMPERED")
        })
        .map(str::to_string)
        .collect();
    PyHankoVerdict {
        lines,
        ok: out.status.success(),
        stdout: format!("exit {}\n{stdout}{stderr}", out.status),
    }
}

/// Asserts pyHanko calls every signature intact, trusted and only acceptably modified.
pub fn assert_pyhanko_valid(pdf: &Path, root: &Path, password: Option<&str>) -> PyHankoVerdict {
    let v = pyhanko_validate(pdf, root, password);
    assert!(
        !v.lines.is_empty(),
        "pyHanko printed no signature line:\n{}",
        v.stdout
    );
    assert!(v.ok, "pyHanko rejected {}:\n{}", pdf.display(), v.stdout);
    for l in &v.lines {
        assert!(
            l.contains("INTACT:TRUSTED"),
            "not INTACT:TRUSTED: {l}\n{}",
            v.stdout
        );
        assert!(
            !l.contains("ILLEGAL"),
            "illegal modifications: {l}\n{}",
            v.stdout
        );
        if l.contains("TIMESTAMP_TOKEN") {
            assert!(
                l.contains("TIMESTAMP_TOKEN<INTACT:TRUSTED>"),
                "timestamp not trusted: {l}"
            );
        }
    }
    v
}

/// `pdfsig` with the NSS database `nss`; returns what it printed.
pub fn pdfsig(pdf: &Path, nss: &Path, password: Option<&str>) -> String {
    require_tool("pdfsig", "poppler-utils");
    let mut c = Command::new("pdfsig");
    c.arg("-nssdir").arg(format!("sql:{}", nss.display()));
    if let Some(p) = password {
        c.args(["-upw", p]);
    }
    output_text(&c.arg(pdf).output().expect("run pdfsig"))
}

/// `qpdf --check` passes.
pub fn assert_qpdf_clean(pdf: &Path, password: Option<&str>) {
    require_tool("qpdf", "qpdf");
    let mut c = Command::new("qpdf");
    c.arg("--check");
    if let Some(p) = password {
        c.arg(format!("--password={p}"));
    }
    let out = c.arg(pdf).output().expect("run qpdf");
    assert!(
        out.status.success(),
        "qpdf --check {} exit {}:\n{}",
        pdf.display(),
        out.status,
        output_text(&out)
    );
}

/// Where Debian installs SoftHSM2's PKCS#11 module.
const SOFTHSM_MODULES: [&str; 3] = [
    "/usr/lib/softhsm/libsofthsm2.so",
    "/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so",
    "/usr/lib/aarch64-linux-gnu/softhsm/libsofthsm2.so",
];

/// A fresh SoftHSM2 token store in `dir` with one token `label` (user PIN `pin`, SO PIN
/// `5678`); returns the module's path. Sets `SOFTHSM2_CONF` for the process: call it from the
/// one test of a binary that loads the module, before any use. Fails (not skips) when SoftHSM2
/// is missing.
pub fn softhsm_token(dir: &Path, label: &str, pin: &str) -> PathBuf {
    let module = SOFTHSM_MODULES
        .iter()
        .map(Path::new)
        .find(|p| p.exists())
        .unwrap_or_else(|| {
            panic!("SoftHSM2 is not installed: run scripts/install-test-deps.sh (softhsm2 opensc)")
        });
    let tokens = dir.join("tokens");
    std::fs::create_dir_all(&tokens).unwrap();
    let conf = dir.join("softhsm2.conf");
    std::fs::write(
        &conf,
        format!(
            "directories.tokendir = {}\nobjectstore.backend = file\nlog.level = ERROR\n",
            tokens.display()
        ),
    )
    .unwrap();
    // Read by the module when it is initialised (once per process).
    std::env::set_var("SOFTHSM2_CONF", &conf);
    run_ok(
        Command::new("softhsm2-util")
            .env("SOFTHSM2_CONF", &conf)
            .args([
                "--init-token",
                "--free",
                "--label",
                label,
                "--pin",
                pin,
                "--so-pin",
                "5678",
            ]),
    );
    module.to_path_buf()
}

/// Rewrites `input` (PDF or PostScript) with Ghostscript's pdfwrite into `out` (a producer
/// with subset fonts, object streams and its own xref).
pub fn ghostscript_pdfwrite(input: &Path, out: &Path) {
    require_tool("gs", "ghostscript");
    run_ok(
        Command::new("gs")
            .args([
                "-q",
                "-dNOPAUSE",
                "-dBATCH",
                "-dSAFER",
                "-sDEVICE=pdfwrite",
                "-dPDFSETTINGS=/prepress",
            ])
            .arg(format!("-sOutputFile={}", out.display()))
            .arg(input),
    );
}

/// A free TCP port on 127.0.0.1 (for a child server).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Polls `f` every 20 ms until it returns `Some`, or panics after `secs`.
pub async fn eventually<T, F, Fut>(secs: u64, what: &str, mut f: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(secs);
    loop {
        if let Some(v) = f().await {
            return v;
        }
        if tokio::time::Instant::now() > deadline {
            panic!("timed out after {secs} s waiting for {what}");
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

/// A plain HTTP server on 127.0.0.1 (a thread, for the life of the test process) answering
/// every request with `200` and `body`; its base URL.
pub fn serve_bytes(body: Vec<u8>, content_type: &'static str) -> String {
    use std::io::{Read as _, Write as _};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1");
    let port = listener.local_addr().expect("local address").port();
    std::thread::spawn(move || {
        for mut stream in listener.incoming().flatten() {
            let mut head = [0u8; 8192];
            let _ = stream.read(&mut head);
            let _ = write!(
                stream,
                "HTTP/1.1 200 OK\r\ncontent-type: {content_type}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                body.len()
            );
            let _ = stream.write_all(&body);
        }
    });
    format!("http://127.0.0.1:{port}")
}

/// The base64 Ed25519 signature of `msg` by the PKCS#8 PEM private key `pem`, made by
/// `openssl` (an independent signer for what Paraf verifies).
pub fn ed25519_sign(pem: &str, msg: &[u8]) -> String {
    use base64::Engine as _;
    let dir = tempfile::tempdir().expect("a temporary directory");
    let key = write(dir.path(), "key.pem", pem.as_bytes());
    let m = write(dir.path(), "msg.bin", msg);
    let s = dir.path().join("sig.bin");
    run_ok(
        Command::new("openssl")
            .args(["pkeyutl", "-sign", "-rawin", "-inkey"])
            .arg(&key)
            .arg("-in")
            .arg(&m)
            .arg("-out")
            .arg(&s),
    );
    base64::engine::general_purpose::STANDARD.encode(std::fs::read(&s).expect("the signature"))
}

/// pyHanko's AdES **B-LTA** validation of every signature of `pdf`, trusting `root`, offline
/// (revocation information only from the file): `(ok, output)`; ok when every signature
/// passed and is covered by a validated chain of document timestamps.
pub fn pyhanko_lta(pdf: &Path, root: &Path) -> (bool, String) {
    pyhanko_lta_at(pdf, root, None, false)
}

/// [`pyhanko_lta`] at validation time `at` (Unix seconds; `None`: now); with `online`, the
/// revocation information of what is validated at that time (the newest document timestamp's
/// chain) may be fetched from the URLs its certificates name, as a validator does years later;
/// everything older must still be proven from the file alone.
pub fn pyhanko_lta_at(pdf: &Path, root: &Path, at: Option<i64>, online: bool) -> (bool, String) {
    require_tool("pyhanko", "pip install pyhanko pyhanko-cli");
    static SCRIPT: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    let script = SCRIPT.get_or_init(|| {
        let p = std::env::temp_dir().join(format!("paraf-pyhanko-lta-{}.py", std::process::id()));
        std::fs::write(&p, include_str!("../scripts/pyhanko_lta.py")).expect("write script");
        p
    });
    // pyHanko's past validation starts from the process's own clock whatever validation time
    // it is given: at another time, the whole process runs under libfaketime.
    let mut cmd = match at {
        Some(at) => {
            require_tool("faketime", "apt-get install faketime");
            let mut c = Command::new("faketime");
            c.arg(format!("@{at}")).arg("python3");
            c
        }
        None => Command::new("python3"),
    };
    cmd.arg(script).arg(pdf).arg(root);
    if let Some(at) = at {
        cmd.arg(at.to_string());
        if online {
            cmd.arg("online");
        }
    }
    let out = cmd.output().expect("run python3");
    let text = format!(
        "exit {}\n{}{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

/// Asserts [`pyhanko_lta`] passes.
pub fn assert_pyhanko_lta(pdf: &Path, root: &Path) -> String {
    assert_pyhanko_lta_at(pdf, root, None, false)
}

/// Asserts [`pyhanko_lta_at`] passes.
pub fn assert_pyhanko_lta_at(pdf: &Path, root: &Path, at: Option<i64>, online: bool) -> String {
    let (ok, text) = pyhanko_lta_at(pdf, root, at, online);
    assert!(ok, "pyHanko B-LTA validation of {}:\n{text}", pdf.display());
    text
}
