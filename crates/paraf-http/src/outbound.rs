//! The one HTTP client for URLs that come from outside: webhook endpoints, `pdf_url`,
//! `logo_url`, files by URL, the SMS gateway. [`Outbound`] applies the core's
//! [`OutboundPolicy`] where it cannot be dodged:
//!
//! - every DNS answer goes through [`GuardedResolver`], which keeps only allowed addresses,
//!   and the connection is made to those very addresses (no second lookup, so a rebinding
//!   answer cannot slip in between check and connect);
//! - an address literal in the URL (which reqwest never resolves) is checked before sending,
//!   and on every redirect (at most [`MAX_REDIRECTS`], `http`/`https` only);
//! - no proxy from the environment; a timeout on every request; bodies read up to a limit.
//!
//! With `outbound_allow_private` every address is allowed (development, tests).

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use paraf_core::outbound::{literal_ip, OutboundPolicy};
use reqwest::dns::{Addrs, Name, Resolve, Resolving};

/// Redirects followed by [`Outbound::fetch`].
pub const MAX_REDIRECTS: usize = 5;

/// Which addresses may be reached.
pub type AddressGuard = Arc<dyn Fn(IpAddr) -> bool + Send + Sync>;

/// Why an outbound request was not made or failed.
#[derive(Debug, thiserror::Error)]
pub enum OutboundError {
    /// The URL or an address it leads to is not allowed.
    #[error("refused: {0}")]
    Refused(String),
    /// The body is larger than allowed.
    #[error("larger than {0} bytes")]
    TooLarge(u64),
    /// No answer in time.
    #[error("timed out")]
    Timeout,
    /// The server answered with an error status.
    #[error("HTTP {0}")]
    Status(u16),
    /// Could not connect or the exchange broke.
    #[error("{0}")]
    Transport(String),
}

/// A refusal by the guard, carried through reqwest's error chain.
#[derive(Debug)]
struct Refusal(String);

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Refusal {}

/// A resolver that drops every address the guard refuses, and fails when none is left.
pub struct GuardedResolver {
    guard: AddressGuard,
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let guard = self.guard.clone();
        let host = name.as_str().to_string();
        Box::pin(async move {
            let found: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let allowed: Vec<SocketAddr> =
                found.iter().copied().filter(|a| guard(a.ip())).collect();
            if allowed.is_empty() {
                let first = found
                    .first()
                    .map(|a| a.ip().to_string())
                    .unwrap_or_default();
                return Err(Box::new(Refusal(format!(
                    "{host} resolves to a loopback, private, link-local or reserved address ({first})"
                ))) as Box<dyn std::error::Error + Send + Sync>);
            }
            Ok(Box::new(allowed.into_iter()) as Addrs)
        })
    }
}

fn literal_refusal(guard: &AddressGuard, url: &reqwest::Url) -> Option<String> {
    if !matches!(url.scheme(), "http" | "https") {
        return Some(format!("{} URLs are not fetched", url.scheme()));
    }
    if url.host().is_none() {
        return Some("the URL has no host".into());
    }
    let ip = literal_ip(url)?;
    (!guard(ip)).then(|| format!("{ip} is a loopback, private, link-local or reserved address"))
}

/// What [`Outbound::fetch`] got.
#[derive(Debug)]
pub struct Fetched {
    /// The `Content-Type` answered, if any.
    pub content_type: Option<String>,
    /// The body.
    pub bytes: Vec<u8>,
}

/// The guarded client.
#[derive(Clone)]
pub struct Outbound {
    guard: AddressGuard,
    /// Follows no redirect (webhooks: a redirect is a failed delivery).
    direct: reqwest::Client,
    /// Follows up to [`MAX_REDIRECTS`], each checked.
    following: reqwest::Client,
}

impl std::fmt::Debug for Outbound {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Outbound").finish_non_exhaustive()
    }
}

impl Outbound {
    /// The client for `policy`, sending `user_agent`, giving up after `timeout`.
    pub fn new(
        policy: OutboundPolicy,
        user_agent: &str,
        timeout: Duration,
    ) -> Result<Outbound, String> {
        let guard: AddressGuard = Arc::new(move |ip| policy.allows(ip));
        Outbound::with_guard(guard, user_agent, timeout)
    }

    /// The client with an explicit guard (tests narrow it to single addresses).
    pub fn with_guard(
        guard: AddressGuard,
        user_agent: &str,
        timeout: Duration,
    ) -> Result<Outbound, String> {
        let build = |redirect: reqwest::redirect::Policy| {
            reqwest::Client::builder()
                .dns_resolver(GuardedResolver {
                    guard: guard.clone(),
                })
                .no_proxy()
                .redirect(redirect)
                .user_agent(user_agent)
                .timeout(timeout)
                .connect_timeout(timeout.min(Duration::from_secs(10)))
                .build()
                .map_err(|e| format!("HTTP client: {e}"))
        };
        let g = guard.clone();
        let following = build(reqwest::redirect::Policy::custom(move |attempt| {
            if attempt.previous().len() >= MAX_REDIRECTS {
                return attempt.error(Refusal(format!("more than {MAX_REDIRECTS} redirects")));
            }
            match literal_refusal(&g, attempt.url()) {
                Some(why) => attempt.error(Refusal(format!("redirect refused: {why}"))),
                None => attempt.follow(),
            }
        }))?;
        Ok(Outbound {
            direct: build(reqwest::redirect::Policy::none())?,
            following,
            guard,
        })
    }

    /// Checks a URL before a request: scheme and address literal.
    pub fn check(&self, url: &str) -> Result<reqwest::Url, OutboundError> {
        let url = reqwest::Url::parse(url)
            .map_err(|e| OutboundError::Refused(format!("not a URL ({e})")))?;
        match literal_refusal(&self.guard, &url) {
            Some(why) => Err(OutboundError::Refused(why)),
            None => Ok(url),
        }
    }

    /// A POST to `url` that follows no redirect (checked first).
    pub fn post(&self, url: &str) -> Result<reqwest::RequestBuilder, OutboundError> {
        Ok(self.direct.post(self.check(url)?))
    }

    /// GETs `url` (redirects followed and checked) and reads at most `max_bytes` of a 2xx
    /// body.
    pub async fn fetch(&self, url: &str, max_bytes: u64) -> Result<Fetched, OutboundError> {
        self.fetch_with(url, max_bytes, &[]).await
    }

    /// [`Outbound::fetch`] with request `headers` (a robot's, credentials included).
    pub async fn fetch_with(
        &self,
        url: &str,
        max_bytes: u64,
        headers: &[(String, String)],
    ) -> Result<Fetched, OutboundError> {
        let url = self.check(url)?;
        let request = headers.iter().fold(self.following.get(url), |r, (k, v)| {
            r.header(k.as_str(), v.as_str())
        });
        let mut resp = request.send().await.map_err(classify)?;
        if !resp.status().is_success() {
            return Err(OutboundError::Status(resp.status().as_u16()));
        }
        if resp.content_length().is_some_and(|n| n > max_bytes) {
            return Err(OutboundError::TooLarge(max_bytes));
        }
        let content_type = resp
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let mut bytes = Vec::new();
        while let Some(chunk) = resp.chunk().await.map_err(classify)? {
            if (bytes.len() + chunk.len()) as u64 > max_bytes {
                return Err(OutboundError::TooLarge(max_bytes));
            }
            bytes.extend_from_slice(&chunk);
        }
        Ok(Fetched {
            content_type,
            bytes,
        })
    }
}

/// Maps a reqwest error, finding the guard's refusal in its chain; never shows the URL (it
/// may carry credentials).
pub fn classify(e: reqwest::Error) -> OutboundError {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(&e);
    while let Some(s) = source {
        if let Some(r) = s.downcast_ref::<Refusal>() {
            return OutboundError::Refused(r.0.clone());
        }
        source = s.source();
    }
    if e.is_timeout() {
        OutboundError::Timeout
    } else if e.is_connect() {
        OutboundError::Transport("connection failed".into())
    } else {
        let e = e.without_url();
        OutboundError::Transport(e.to_string())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::panic)]
    use super::*;
    use std::net::Ipv4Addr;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    /// A one-line HTTP server on `ip`: answers every request with `reply`.
    async fn serve(ip: Ipv4Addr, reply: String) -> u16 {
        let l = tokio::net::TcpListener::bind((ip, 0)).await.unwrap();
        let port = l.local_addr().unwrap().port();
        tokio::spawn(async move {
            while let Ok((mut s, _)) = l.accept().await {
                let reply = reply.clone();
                tokio::spawn(async move {
                    let mut buf = [0u8; 4096];
                    let _ = s.read(&mut buf).await;
                    let _ = s.write_all(reply.as_bytes()).await;
                });
            }
        });
        port
    }

    fn only(allowed: Ipv4Addr) -> Outbound {
        let guard: AddressGuard = Arc::new(move |ip| ip == IpAddr::V4(allowed));
        Outbound::with_guard(guard, "test", Duration::from_secs(5)).unwrap()
    }

    fn ok(body: &str) -> String {
        format!(
            "HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
            body.len()
        )
    }

    #[tokio::test]
    async fn literal_name_and_redirect_are_all_checked() {
        let lo = Ipv4Addr::LOCALHOST;
        let other = Ipv4Addr::new(127, 0, 0, 2);
        let target = serve(other, ok("secret metadata")).await;
        let redirect = serve(
            lo,
            format!(
                "HTTP/1.1 302 Found\r\nlocation: http://127.0.0.2:{target}/\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
            ),
        )
        .await;
        let plain = serve(lo, ok("hello")).await;

        // Allowed address: fetched.
        let out = only(lo);
        let f = out
            .fetch(&format!("http://127.0.0.1:{plain}/"), 100)
            .await
            .unwrap();
        assert_eq!(f.bytes, b"hello");
        assert_eq!(f.content_type.as_deref(), Some("text/plain"));
        // A literal the guard refuses: never sent.
        let e = out
            .fetch(&format!("http://127.0.0.2:{target}/"), 100)
            .await
            .unwrap_err();
        assert!(matches!(e, OutboundError::Refused(_)), "{e}");
        // A redirect to it: refused at the hop.
        let e = out
            .fetch(&format!("http://127.0.0.1:{redirect}/"), 100)
            .await
            .unwrap_err();
        assert!(
            matches!(&e, OutboundError::Refused(m) if m.contains("redirect")),
            "{e}"
        );
        // A name resolving only to refused addresses (localhost → 127.0.0.1 when only
        // 127.0.0.2 is allowed).
        let e = only(other)
            .fetch(&format!("http://localhost:{plain}/"), 100)
            .await
            .unwrap_err();
        assert!(
            matches!(&e, OutboundError::Refused(m) if m.contains("localhost resolves")),
            "{e}"
        );
        // Size limit.
        let e = out
            .fetch(&format!("http://127.0.0.1:{plain}/"), 3)
            .await
            .unwrap_err();
        assert!(matches!(e, OutboundError::TooLarge(3)), "{e}");
        // Not http.
        assert!(matches!(
            out.check("file:///etc/passwd"),
            Err(OutboundError::Refused(_))
        ));
    }

    #[tokio::test]
    async fn the_policy_refuses_loopback_unless_allowed() {
        let port = serve(Ipv4Addr::LOCALHOST, ok("x")).await;
        let strict = Outbound::new(
            OutboundPolicy {
                allow_private: false,
            },
            "test",
            Duration::from_secs(5),
        )
        .unwrap();
        for u in [
            format!("http://127.0.0.1:{port}/"),
            format!("http://localhost:{port}/"),
            format!("http://[::ffff:127.0.0.1]:{port}/"),
        ] {
            let e = strict.fetch(&u, 10).await.unwrap_err();
            assert!(matches!(e, OutboundError::Refused(_)), "{u}: {e}");
        }
        let open = Outbound::new(
            OutboundPolicy {
                allow_private: true,
            },
            "test",
            Duration::from_secs(5),
        )
        .unwrap();
        assert_eq!(
            open.fetch(&format!("http://localhost:{port}/"), 10)
                .await
                .unwrap()
                .bytes,
            b"x"
        );
    }
}
