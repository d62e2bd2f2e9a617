//! A real SMTP server for mail tests: Python's `aiosmtpd` on a free loopback port, printing every
//! mail it receives.

use std::io::Read;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration as StdDuration;

use crate::tools::free_port;

/// A running SMTP sink; what it printed (the mails) is in `out`.
pub struct Smtpd {
    child: Child,
    /// Everything the server printed.
    pub out: Arc<Mutex<String>>,
    /// Its port on 127.0.0.1.
    pub port: u16,
}

impl Drop for Smtpd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts Python's aiosmtpd on a free loopback port (it prints every mail it receives).
pub fn start_smtpd() -> Smtpd {
    let ok = Command::new("python3")
        .args(["-c", "import aiosmtpd"])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    assert!(
        ok,
        "Python's aiosmtpd is not installed: run scripts/install-test-deps.sh (pip install aiosmtpd)"
    );
    let port = free_port();
    let mut child = Command::new("python3")
        .args([
            "-u",
            "-m",
            "aiosmtpd",
            "-n",
            "-l",
            &format!("127.0.0.1:{port}"),
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let out = Arc::new(Mutex::new(String::new()));
    for pipe in [
        child
            .stdout
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
        child
            .stderr
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
    ]
    .into_iter()
    .flatten()
    {
        let out = out.clone();
        std::thread::spawn(move || {
            let mut pipe = pipe;
            let mut buf = [0u8; 4096];
            while let Ok(n) = pipe.read(&mut buf) {
                if n == 0 {
                    break;
                }
                out.lock()
                    .unwrap()
                    .push_str(&String::from_utf8_lossy(&buf[..n]));
            }
        });
    }
    let deadline = std::time::Instant::now() + StdDuration::from_secs(15);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            std::time::Instant::now() < deadline,
            "aiosmtpd did not start: {}",
            out.lock().unwrap()
        );
        std::thread::sleep(StdDuration::from_millis(50));
    }
    Smtpd { child, out, port }
}
