//! Which addresses Paraf may call: every URL it fetches or calls on someone's behalf (webhooks,
//! `pdf_url`/`logo_url`, files by URL, the SMS gateway) must reach a public address, never
//! loopback, private, link-local (cloud metadata at 169.254.169.254), unspecified, multicast or
//! reserved ranges — unless the operator sets `outbound_allow_private`. IPv6 forms that carry
//! an IPv4 address (mapped, compatible, NAT64, 6to4) are judged by that address.
//!
//! This module decides; `paraf-http`'s outbound client applies the decision to every DNS answer
//! it connects to (so a name that resolves to a private address is refused, and a rebinding
//! answer cannot slip in between check and connection) and to every redirect.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::error::CoreError;

/// Ranges no outbound request may reach (besides the ones `std` names).
const FORBIDDEN_V4: &[(u32, u8)] = &[
    (0x0000_0000, 8),  // 0.0.0.0/8 "this network"
    (0x0a00_0000, 8),  // 10/8
    (0x6440_0000, 10), // 100.64/10 shared address space (CGNAT)
    (0x7f00_0000, 8),  // 127/8
    (0xa9fe_0000, 16), // 169.254/16 link-local, cloud metadata
    (0xac10_0000, 12), // 172.16/12
    (0xc000_0000, 24), // 192.0.0/24 IETF protocol assignments
    (0xc000_0200, 24), // 192.0.2/24 documentation
    (0xc0a8_0000, 16), // 192.168/16
    (0xc612_0000, 15), // 198.18/15 benchmarking
    (0xc633_6400, 24), // 198.51.100/24 documentation
    (0xcb00_7100, 24), // 203.0.113/24 documentation
    (0xe000_0000, 4),  // 224/4 multicast
    (0xf000_0000, 4),  // 240/4 reserved, broadcast
];

fn v4_public(ip: Ipv4Addr) -> bool {
    let n = u32::from(ip);
    !FORBIDDEN_V4.iter().any(|&(net, len)| {
        let mask = u32::MAX << (32 - u32::from(len));
        n & mask == net
    })
}

fn v6_public(ip: Ipv6Addr) -> bool {
    let s = ip.segments();
    let embedded_v4 = |hi: u16, lo: u16| Ipv4Addr::from((u32::from(hi) << 16) | u32::from(lo));
    // Forms carrying an IPv4 address are judged by it.
    if let Some(v4) = ip.to_ipv4_mapped() {
        return v4_public(v4);
    }
    if s[..6] == [0, 0, 0, 0, 0, 0] {
        // :: , ::1 and the deprecated IPv4-compatible ::a.b.c.d
        return !ip.is_unspecified() && !ip.is_loopback() && v4_public(embedded_v4(s[6], s[7]));
    }
    if s[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
        return v4_public(embedded_v4(s[6], s[7])); // NAT64
    }
    if s[0] == 0x2002 {
        return v4_public(embedded_v4(s[1], s[2])); // 6to4
    }
    let forbidden = (s[0] & 0xfe00) == 0xfc00 // fc00::/7 unique local
        || (s[0] & 0xffc0) == 0xfe80 // fe80::/10 link-local
        || (s[0] & 0xffc0) == 0xfec0 // fec0::/10 site-local (deprecated)
        || (s[0] & 0xff00) == 0xff00 // ff00::/8 multicast
        || (s[0] == 0x2001 && s[1] == 0x0db8) // documentation
        || (s[0] == 0x2001 && s[1] == 0) // Teredo
        || (s[0] == 0x0100 && s[1..4] == [0, 0, 0]); // 100::/64 discard
    !forbidden
}

/// Whether `ip` is a public address an outbound request may reach.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => v4_public(v4),
        IpAddr::V6(v6) => v6_public(v6),
    }
}

/// The address a URL names literally (`http://10.0.0.8/`, `http://[::1]/`), if it does; a
/// host name is checked when it is resolved.
pub fn literal_ip(url: &url::Url) -> Option<IpAddr> {
    match url.host()? {
        url::Host::Ipv4(v4) => Some(IpAddr::V4(v4)),
        url::Host::Ipv6(v6) => Some(IpAddr::V6(v6)),
        url::Host::Domain(_) => None,
    }
}

/// The outbound policy of this server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OutboundPolicy {
    /// `outbound_allow_private`: any address may be reached.
    pub allow_private: bool,
}

impl OutboundPolicy {
    /// Whether a connection to `ip` is allowed.
    pub fn allows(&self, ip: IpAddr) -> bool {
        self.allow_private || is_public(ip)
    }

    /// Checks a URL given by a caller for `field`: `http`/`https`, a host, at most 2000
    /// characters, no credentials, and — when the host is an address literal — an allowed
    /// address. (Names are checked when they are resolved, at every request.)
    pub fn check_url(&self, field: &'static str, raw: &str) -> Result<url::Url, CoreError> {
        let bad = |reason: &str| CoreError::invalid(field, reason);
        let raw = raw.trim();
        if raw.len() > 2000 {
            return Err(bad("is longer than 2000 characters"));
        }
        let url = url::Url::parse(raw).map_err(|e| bad(&format!("is not a URL ({e})")))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(bad("must be an http:// or https:// URL"));
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(bad("must not carry a user name or password"));
        }
        if url.host().is_none() {
            return Err(bad("has no host"));
        }
        if let Some(ip) = literal_ip(&url) {
            if !self.allows(ip) {
                return Err(bad(
                    "points to a loopback, private, link-local or reserved address",
                ));
            }
        }
        Ok(url)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn private_and_special_addresses_are_refused() {
        for a in [
            "127.0.0.1",
            "127.255.0.9",
            "10.1.2.3",
            "172.16.0.1",
            "172.31.255.255",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "224.0.0.1",
            "255.255.255.255",
            "192.0.2.10",
            "::",
            "::1",
            "::ffff:127.0.0.1",
            "::ffff:169.254.169.254",
            "::127.0.0.1",
            "64:ff9b::a00:1",
            "2002:c0a8:0101::1",
            "fc00::1",
            "fd12:3456::1",
            "fe80::1",
            "ff02::1",
            "2001:db8::1",
        ] {
            assert!(!is_public(a.parse().unwrap()), "{a} should be refused");
        }
        for a in [
            "8.8.8.8",
            "1.1.1.1",
            "172.32.0.1",
            "100.128.0.1",
            "2606:4700:4700::1111",
            "::ffff:8.8.8.8",
            "2002:0808:0808::1",
        ] {
            assert!(is_public(a.parse().unwrap()), "{a} should be allowed");
        }
    }

    #[test]
    fn urls_are_checked_by_their_literal_host() {
        let strict = OutboundPolicy {
            allow_private: false,
        };
        assert!(strict.check_url("url", "https://example.com/hook").is_ok());
        assert!(strict.check_url("url", "http://8.8.8.8/x").is_ok());
        for (u, why) in [
            ("http://127.0.0.1:9/x", "loopback"),
            ("http://[::1]/x", "loopback"),
            ("http://[::ffff:7f00:1]/x", "loopback"),
            ("http://169.254.169.254/latest/meta-data", "loopback"),
            ("http://2130706433/", "loopback"), // 127.0.0.1 as one number
            ("ftp://example.com/", "http://"),
            ("file:///etc/passwd", "http://"),
            ("https://user:pw@example.com/", "password"),
            ("not a url", "not a URL"),
        ] {
            let e = strict.check_url("url", u).unwrap_err().to_string();
            assert!(e.contains(why), "{u}: {e}");
            assert!(e.contains("url"), "{u}: {e}");
        }
        let open = OutboundPolicy {
            allow_private: true,
        };
        assert!(open.check_url("url", "http://127.0.0.1:9/x").is_ok());
    }
}
