//! Request ids and the per-request context: [`RequestId`] from `x-request-id` (or a fresh one),
//! echoed in the response; [`ClientIp`] from the peer address, or from `X-Forwarded-For` when
//! the peer is a configured trusted proxy; the negotiated [`Language`]; and the tracing span
//! that puts the request id on every log line of the request.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Instant;

use axum::extract::{ConnectInfo, MatchedPath, Request, State};
use axum::http::{HeaderValue, Method};
use axum::middleware::Next;
use axum::response::Response;
use ipnet::IpNet;
use tracing::Instrument;

use crate::i18n::Language;
use crate::metrics::Metrics;

/// The header carrying the request id, both ways.
pub const REQUEST_ID_HEADER: &str = "x-request-id";

/// The id of one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestId {
    value: String,
    client_supplied: bool,
}

impl RequestId {
    /// The id.
    pub fn as_str(&self) -> &str {
        &self.value
    }

    /// Whether the client sent it (only those take part in replay).
    pub fn client_supplied(&self) -> bool {
        self.client_supplied
    }

    /// A client's id if it is 1–128 visible ASCII characters.
    pub fn parse_client(v: &str) -> Option<RequestId> {
        let ok = !v.is_empty() && v.len() <= 128 && v.bytes().all(|b| (0x21..0x7f).contains(&b));
        ok.then(|| RequestId {
            value: v.to_string(),
            client_supplied: true,
        })
    }

    /// A fresh random id (UUID v4 layout).
    pub fn generate() -> RequestId {
        let mut b = [0u8; 16];
        // On the (theoretical) failure of the OS generator, fall back to time-derived bytes:
        // request ids are labels, not secrets.
        if getrandom::fill(&mut b).is_err() {
            let t = Instant::now().elapsed().as_nanos().to_le_bytes();
            b.copy_from_slice(&t[..16]);
        }
        RequestId {
            value: paraf_domain::uuid_v4(b),
            client_supplied: false,
        }
    }
}

/// The client's address as far as this server can tell.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientIp(pub IpAddr);

/// The client address: the peer, unless the peer is a trusted proxy, in which case the
/// right-most `X-Forwarded-For` entry that is not itself a trusted proxy.
pub fn client_ip(peer: IpAddr, forwarded_for: Option<&str>, trusted: &[IpNet]) -> IpAddr {
    let is_trusted = |ip: &IpAddr| trusted.iter().any(|n| n.contains(ip));
    if !is_trusted(&peer) {
        return peer;
    }
    let Some(xff) = forwarded_for else {
        return peer;
    };
    let mut candidate = peer;
    for part in xff.rsplit(',') {
        let Ok(ip) = part.trim().parse::<IpAddr>() else {
            break;
        };
        candidate = ip;
        if !is_trusted(&ip) {
            break;
        }
    }
    candidate
}

/// What the context middleware needs.
#[derive(Clone)]
pub struct ContextConfig {
    /// Trusted proxies.
    pub trusted_proxies: Arc<Vec<IpNet>>,
    /// Metrics registry.
    pub metrics: Arc<Metrics>,
}

/// Middleware (outermost): request id, client IP, language, span, access log and metrics.
pub async fn request_context(
    State(cfg): State<ContextConfig>,
    mut req: Request,
    next: Next,
) -> Response {
    let started = Instant::now();
    let id = req
        .headers()
        .get(REQUEST_ID_HEADER)
        .and_then(|v| v.to_str().ok())
        .and_then(RequestId::parse_client)
        .unwrap_or_else(RequestId::generate);
    let peer = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip())
        .unwrap_or(IpAddr::from([127, 0, 0, 1]));
    let xff = req
        .headers()
        .get("x-forwarded-for")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let ip = client_ip(peer, xff.as_deref(), &cfg.trusted_proxies);
    let lang = Language::negotiate(req.headers());
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|m| m.as_str().to_string())
        .unwrap_or_else(|| "unmatched".to_string());
    let method = req.method().clone();
    let path = req.uri().path().to_string();
    req.extensions_mut().insert(id.clone());
    req.extensions_mut().insert(ClientIp(ip));
    req.extensions_mut().insert(lang);
    let span = tracing::info_span!(
        "request",
        request_id = %id.as_str(),
        method = %method,
        route = %route,
        client_ip = %ip,
    );
    let mut resp = next.run(req).instrument(span.clone()).await;
    let elapsed = started.elapsed();
    let status = resp.status().as_u16();
    cfg.metrics
        .observe_request(method_label(&method), &route, status, elapsed);
    span.in_scope(|| {
        tracing::info!(
            status,
            path = %path,
            latency_ms = elapsed.as_secs_f64() * 1000.0,
            "request completed"
        );
    });
    if let Ok(v) = HeaderValue::from_str(id.as_str()) {
        resp.headers_mut().insert(REQUEST_ID_HEADER, v);
    }
    resp
}

fn method_label(m: &Method) -> &'static str {
    match *m {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::DELETE => "DELETE",
        Method::PATCH => "PATCH",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        _ => "OTHER",
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn forwarded_for_only_from_trusted_proxies() {
        let proxy: IpNet = "10.0.0.0/8".parse().unwrap();
        let peer_proxy: IpAddr = "10.1.2.3".parse().unwrap();
        let outsider: IpAddr = "203.0.113.9".parse().unwrap();
        assert_eq!(client_ip(outsider, Some("1.2.3.4"), &[proxy]), outsider);
        assert_eq!(
            client_ip(peer_proxy, Some("1.2.3.4"), &[proxy]),
            "1.2.3.4".parse::<IpAddr>().unwrap()
        );
        // A client cannot spoof by prepending: the right-most untrusted entry wins.
        assert_eq!(
            client_ip(peer_proxy, Some("9.9.9.9, 1.2.3.4, 10.0.0.7"), &[proxy]),
            "1.2.3.4".parse::<IpAddr>().unwrap()
        );
        assert_eq!(client_ip(peer_proxy, None, &[proxy]), peer_proxy);
        assert_eq!(client_ip(peer_proxy, Some("1.2.3.4"), &[]), peer_proxy);
    }

    #[test]
    fn request_ids() {
        assert!(RequestId::parse_client("abc-123").is_some());
        assert!(RequestId::parse_client("").is_none());
        assert!(RequestId::parse_client("has space").is_none());
        let g = RequestId::generate();
        assert_eq!(g.as_str().len(), 36);
        assert!(!g.client_supplied());
        assert_ne!(g, RequestId::generate());
    }
}
