//! Network services for offline commands: an RFC 3161 client for `--tsa-url` and a revocation
//! fetcher that follows the OCSP and CRL URLs certificates name (the engine itself does no I/O).

use std::time::Duration;

use paraf_pki::asn1::x509_cert::Certificate;
use paraf_pki::{DigestAlg, PkiError, PkiErrorKind, RevocationSource, Timestamper};

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .timeout_global(Some(Duration::from_secs(20)))
        .http_status_as_error(false)
        .build()
        .into()
}

fn service_error(msg: String) -> PkiError {
    PkiError::new(PkiErrorKind::Io, msg)
}

fn post(url: &str, content_type: &str, body: &[u8]) -> Result<Vec<u8>, PkiError> {
    let resp = agent()
        .post(url)
        .header("Content-Type", content_type)
        .send(body);
    body_of(url, resp, 16 * 1024 * 1024)
}

fn get(url: &str) -> Result<Vec<u8>, PkiError> {
    body_of(url, agent().get(url).call(), 64 * 1024 * 1024)
}

/// The body of a successful reply, at most `limit` bytes.
fn body_of(
    url: &str,
    resp: Result<ureq::http::Response<ureq::Body>, ureq::Error>,
    limit: u64,
) -> Result<Vec<u8>, PkiError> {
    let mut resp = resp.map_err(|e| service_error(format!("{url}: {e}")))?;
    let status = resp.status();
    if !status.is_success() {
        return Err(service_error(format!("{url} answered HTTP {status}")));
    }
    resp.body_mut()
        .with_config()
        .limit(limit)
        .read_to_vec()
        .map_err(|e| service_error(format!("{url}: {e}")))
}

/// A timestamp authority reached over HTTP (RFC 3161 §3.4).
pub struct HttpTimestamper {
    pub url: String,
}

impl Timestamper for HttpTimestamper {
    fn timestamp(&self, alg: DigestAlg, digest: &[u8]) -> Result<Vec<u8>, PkiError> {
        let nonce = random_nonce();
        let req = paraf_pki::tsp::build_request(alg, digest, Some(nonce), true)?;
        let resp = post(&self.url, "application/timestamp-query", &req)?;
        paraf_pki::tsp::parse_response(&resp, alg, digest, Some(nonce))
    }
}

/// Fetches OCSP responses and CRLs from the URLs in the certificates (AIA and CRL DP).
pub struct HttpRevocation;

impl RevocationSource for HttpRevocation {
    fn ocsp(&self, cert: &Certificate, issuer: &Certificate) -> Result<Option<Vec<u8>>, PkiError> {
        for url in ocsp_urls(cert) {
            let req = paraf_pki::ocsp::build_request(cert, issuer)?;
            if let Ok(resp) = post(&url, "application/ocsp-request", &req) {
                if paraf_pki::ocsp::parse_response(&resp, cert, issuer, None).is_ok() {
                    return Ok(Some(resp));
                }
            }
        }
        Ok(None)
    }

    fn crls(&self, cert: &Certificate) -> Result<Vec<Vec<u8>>, PkiError> {
        let mut out = Vec::new();
        for url in crl_urls(cert) {
            if let Ok(crl) = get(&url) {
                out.push(crl);
                break;
            }
        }
        Ok(out)
    }

    fn issuer(&self, cert: &Certificate) -> Result<Option<Certificate>, PkiError> {
        for url in ca_issuer_urls(cert) {
            if let Ok(body) = get(&url) {
                let c = paraf_pki::x509::cert_from_der(&body)
                    .or_else(|_| paraf_pki::x509::cert_from_pem(&body));
                if let Ok(c) = c {
                    if paraf_pki::x509::verify_issued_by(cert, &c).is_ok() {
                        return Ok(Some(c));
                    }
                }
            }
        }
        Ok(None)
    }
}

/// CA issuers URLs from the Authority Information Access extension.
pub fn ca_issuer_urls(cert: &Certificate) -> Vec<String> {
    use paraf_pki::asn1::const_oid::db::rfc5280::ID_AD_CA_ISSUERS;
    aia_urls(cert, ID_AD_CA_ISSUERS)
}

/// The URLs of one access method of the Authority Information Access extension.
fn aia_urls(
    cert: &Certificate,
    method: paraf_pki::asn1::const_oid::ObjectIdentifier,
) -> Vec<String> {
    use paraf_pki::asn1::const_oid::db::rfc5280::ID_PE_AUTHORITY_INFO_ACCESS;
    use paraf_pki::asn1::x509_cert::ext::pkix::AuthorityInfoAccessSyntax;
    extension::<AuthorityInfoAccessSyntax>(cert, ID_PE_AUTHORITY_INFO_ACCESS)
        .map(|aia| {
            aia.0
                .iter()
                .filter(|ad| ad.access_method == method)
                .filter_map(|ad| uri(&ad.access_location))
                .collect()
        })
        .unwrap_or_default()
}

/// Tries each source in turn.
pub struct FirstOf<'a>(pub Vec<&'a dyn RevocationSource>);

impl RevocationSource for FirstOf<'_> {
    fn ocsp(&self, cert: &Certificate, issuer: &Certificate) -> Result<Option<Vec<u8>>, PkiError> {
        for s in &self.0 {
            if let Ok(Some(r)) = s.ocsp(cert, issuer) {
                return Ok(Some(r));
            }
        }
        Ok(None)
    }
    fn crls(&self, cert: &Certificate) -> Result<Vec<Vec<u8>>, PkiError> {
        for s in &self.0 {
            if let Ok(v) = s.crls(cert) {
                if !v.is_empty() {
                    return Ok(v);
                }
            }
        }
        Ok(Vec::new())
    }
    fn issuer(&self, cert: &Certificate) -> Result<Option<Certificate>, PkiError> {
        for s in &self.0 {
            if let Ok(Some(c)) = s.issuer(cert) {
                return Ok(Some(c));
            }
        }
        Ok(None)
    }
}

/// A nonce for a timestamp request: not secret, only unpredictable enough to pair request and reply.
fn random_nonce() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0),
    );
    h.finish() >> 1
}

fn extension<T: for<'a> paraf_pki::asn1::der::Decode<'a>>(
    cert: &Certificate,
    oid: paraf_pki::asn1::const_oid::ObjectIdentifier,
) -> Option<T> {
    let exts = cert.tbs_certificate.extensions.as_ref()?;
    let e = exts.iter().find(|e| e.extn_id == oid)?;
    T::from_der(e.extn_value.as_bytes()).ok()
}

fn uri(name: &paraf_pki::asn1::x509_cert::ext::pkix::name::GeneralName) -> Option<String> {
    match name {
        paraf_pki::asn1::x509_cert::ext::pkix::name::GeneralName::UniformResourceIdentifier(u) => {
            Some(u.as_str().to_string())
        }
        _ => None,
    }
}

/// OCSP responder URLs from the Authority Information Access extension.
pub fn ocsp_urls(cert: &Certificate) -> Vec<String> {
    use paraf_pki::asn1::const_oid::db::rfc5280::ID_AD_OCSP;
    aia_urls(cert, ID_AD_OCSP)
}

/// CRL URLs from the CRL Distribution Points extension.
pub fn crl_urls(cert: &Certificate) -> Vec<String> {
    use paraf_pki::asn1::const_oid::db::rfc5280::ID_CE_CRL_DISTRIBUTION_POINTS;
    use paraf_pki::asn1::x509_cert::ext::pkix::crl::dp::DistributionPoint;
    use paraf_pki::asn1::x509_cert::ext::pkix::name::DistributionPointName;
    use paraf_pki::asn1::x509_cert::ext::pkix::CrlDistributionPoints;
    extension::<CrlDistributionPoints>(cert, ID_CE_CRL_DISTRIBUTION_POINTS)
        .map(|dps| {
            dps.0
                .iter()
                .filter_map(|dp: &DistributionPoint| match &dp.distribution_point {
                    Some(DistributionPointName::FullName(names)) => {
                        Some(names.iter().filter_map(uri).collect::<Vec<_>>())
                    }
                    _ => None,
                })
                .flatten()
                .collect()
        })
        .unwrap_or_default()
}
