//! Trust: building a certificate chain to a configured anchor, checking its constraints and
//! validity at a time, and the revocation status of each certificate from embedded evidence
//! (DSS, CMS) or, when the caller allows it, from a live [`RevocationSource`].
//!
//! Revocation evidence is usable for time `T` when it was issued after `T` (minus a small
//! clock-skew allowance) or `T` lies within its `thisUpdate`..`nextUpdate` window.

use std::time::{Duration, SystemTime};

use const_oid::db::rfc5280;
use der::{Decode, Encode};
use x509_cert::crl::CertificateList;
use x509_cert::ext::pkix::{BasicConstraints, CrlReason, KeyUsages};
use x509_cert::Certificate;

use paraf_pki::ocsp::OcspCertStatus;
use paraf_pki::RevocationSource;

use crate::certinfo;
use crate::crypto;
use crate::report::{Problem, RevocationCheck, SubIndication};
use crate::time::rfc3339;

/// Clock skew tolerated between evidence and the time it is used for.
const SKEW: Duration = Duration::from_secs(600);

/// Certificates, OCSP responses and CRLs found in the document (DSS, CMS), with their origin.
#[derive(Default)]
pub struct Evidence {
    pub certs: Vec<Certificate>,
    pub ocsps: Vec<(Vec<u8>, &'static str)>,
    pub crls: Vec<(Vec<u8>, &'static str)>,
}

impl Evidence {
    pub fn add_cert(&mut self, c: &Certificate) {
        if !self.certs.contains(c) {
            self.certs.push(c.clone());
        }
    }
    pub fn add_ocsp(&mut self, der: Vec<u8>, source: &'static str) {
        if !self.ocsps.iter().any(|(d, _)| *d == der) {
            self.ocsps.push((der, source));
        }
    }
    pub fn add_crl(&mut self, der: Vec<u8>, source: &'static str) {
        if !self.crls.iter().any(|(d, _)| *d == der) {
            self.crls.push((der, source));
        }
    }
}

/// What a chain is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Purpose {
    Signing,
    Timestamping,
}

/// Where trust comes from.
pub struct TrustEnv<'a> {
    pub anchors: &'a [Certificate],
    pub evidence: &'a Evidence,
    pub live: Option<&'a dyn RevocationSource>,
    pub validation_time: SystemTime,
    pub policy: crate::RevocationPolicy,
}

/// The outcome for one chain.
#[derive(Default)]
pub struct ChainResult {
    pub chain: Vec<Certificate>,
    pub trusted: bool,
    pub problems: Vec<Problem>,
    /// What passed without being checked (a certificate without revocation pointers).
    pub warnings: Vec<String>,
    pub revocation: Vec<RevocationCheck>,
}

fn is_anchor(anchors: &[Certificate], c: &Certificate) -> bool {
    anchors.iter().any(|a| {
        a == c
            || (a.tbs_certificate.subject == c.tbs_certificate.subject
                && a.tbs_certificate.subject_public_key_info
                    == c.tbs_certificate.subject_public_key_info)
    })
}

/// Builds the chain of `leaf` from the anchors and the pool; `true` when it ends at an anchor.
pub fn build_chain(
    anchors: &[Certificate],
    pool: &[Certificate],
    leaf: &Certificate,
    live: Option<&dyn RevocationSource>,
) -> (Vec<Certificate>, bool) {
    let mut chain = vec![leaf.clone()];
    let mut cur = leaf.clone();
    for _ in 0..12 {
        if is_anchor(anchors, &cur) {
            return (chain, true);
        }
        let issuer_name = &cur.tbs_certificate.issuer;
        let candidate = anchors
            .iter()
            .chain(pool.iter())
            .filter(|c| &c.tbs_certificate.subject == issuer_name)
            .filter(|c| !chain.contains(c))
            .find(|c| crypto::issued_by(&cur, c))
            .cloned()
            .or_else(|| {
                // A missing intermediate, fetched (caIssuers) when the caller allows it.
                let fetched = live?.issuer(&cur).ok()??;
                (fetched.tbs_certificate.subject == *issuer_name
                    && crypto::issued_by(&cur, &fetched))
                .then_some(fetched)
            });
        match candidate {
            Some(c) => {
                chain.push(c.clone());
                cur = c;
            }
            None => return (chain, false),
        }
    }
    (chain, false)
}

/// Validates the chain of `leaf` for `purpose`: validity at `validity_at`, revocation status at
/// `revocation_at`. `poe` says whether `revocation_at` is proven by a trusted time-stamp.
pub fn validate(
    env: &TrustEnv<'_>,
    leaf: &Certificate,
    purpose: Purpose,
    validity_at: SystemTime,
    revocation_at: SystemTime,
    poe: bool,
) -> ChainResult {
    let mut out = ChainResult::default();
    let (chain, trusted) = build_chain(env.anchors, &env.evidence.certs, leaf, env.live);
    out.chain = chain;
    out.trusted = trusted;
    if !trusted {
        let top = out.chain.last().map(certinfo::label).unwrap_or_default();
        out.problems.push(Problem::new(
            SubIndication::NoCertificateChainFound,
            if env.anchors.is_empty() {
                format!("no trust anchor is configured, so the chain of {} (up to {top}) is not trusted", certinfo::label(leaf))
            } else {
                format!(
                    "the chain of {} ends at {top}, which is not a trust anchor",
                    certinfo::label(leaf)
                )
            },
        ));
        return out;
    }
    constraints(&mut out, purpose);
    validity(&mut out, validity_at);
    revocation(&mut out, env, revocation_at, poe);
    out
}

fn constraints(out: &mut ChainResult, purpose: Purpose) {
    let Some(leaf) = out.chain.first() else {
        return;
    };
    match purpose {
        Purpose::Signing => {
            if let Some(ku) = certinfo::key_usage(leaf) {
                if !ku.0.contains(KeyUsages::DigitalSignature)
                    && !ku.0.contains(KeyUsages::NonRepudiation)
                {
                    out.problems.push(Problem::new(
                        SubIndication::ChainConstraintsFailure,
                        format!("{} may not sign: its key usage allows neither digitalSignature nor nonRepudiation", certinfo::label(leaf)),
                    ));
                }
            }
        }
        Purpose::Timestamping => {
            let ok = certinfo::extended_key_usage(leaf)
                .is_some_and(|e| e.contains(&rfc5280::ID_KP_TIME_STAMPING));
            if !ok {
                out.problems.push(Problem::new(
                    SubIndication::ChainConstraintsFailure,
                    format!("{} is not a time-stamping certificate (no timeStamping extended key usage)", certinfo::label(leaf)),
                ));
            }
        }
    }
    // Every issuer below the anchor must be a CA.
    let n = out.chain.len();
    for c in out.chain.iter().skip(1).take(n.saturating_sub(2)) {
        let is_ca = c
            .tbs_certificate
            .get::<BasicConstraints>()
            .ok()
            .flatten()
            .is_some_and(|(_, bc)| bc.ca);
        if !is_ca {
            out.problems.push(Problem::new(
                SubIndication::ChainConstraintsFailure,
                format!(
                    "{} issues certificates but is not a CA certificate",
                    certinfo::label(c)
                ),
            ));
        }
    }
}

fn validity(out: &mut ChainResult, at: SystemTime) {
    let n = out.chain.len();
    // The anchor's own validity is the configuration's business.
    for c in out.chain.iter().take(n.saturating_sub(1).max(1)) {
        let v = &c.tbs_certificate.validity;
        let nb = v.not_before.to_system_time();
        let na = v.not_after.to_system_time();
        let (label, at_s) = (certinfo::label(c), rfc3339(at));
        let problem = if at < nb {
            let why = format!(
                "{label} is not valid before {} (checked at {at_s})",
                rfc3339(nb)
            );
            Some((SubIndication::NotYetValid, why))
        } else if at > na {
            let why = format!(
                "{label} expired on {} and nothing proves the signature existed before \
                 (checked at {at_s})",
                rfc3339(na)
            );
            Some((SubIndication::OutOfBoundsNoPoe, why))
        } else {
            None
        };
        if let Some((sub, why)) = problem {
            out.problems.push(Problem::new(sub, why));
        }
    }
}

/// Whether evidence issued at `this_update` (valid until `next_update`) speaks for time `at`.
fn usable(
    this_update: SystemTime,
    next_update: Option<SystemTime>,
    at: SystemTime,
    now: SystemTime,
) -> bool {
    if this_update > now + SKEW {
        return false; // from the future
    }
    this_update + SKEW >= at || (this_update <= at + SKEW && next_update.is_some_and(|n| n >= at))
}

enum Status {
    Good,
    Revoked(SystemTime, Option<String>),
    Unknown,
}

struct Found {
    status: Status,
    source: String,
    this_update: SystemTime,
}

fn from_ocsp(
    der: &[u8],
    cert: &Certificate,
    issuer: &Certificate,
    at: SystemTime,
    now: SystemTime,
) -> Option<Found> {
    let r = paraf_pki::ocsp::parse_response(der, cert, issuer, None).ok()?;
    // The responder itself must have been valid when it answered.
    let rv = &r.responder.tbs_certificate.validity;
    if r.produced_at < rv.not_before.to_system_time()
        || r.produced_at > rv.not_after.to_system_time() + SKEW
    {
        return None;
    }
    if !usable(r.this_update, r.next_update, at, now) {
        return None;
    }
    let status = match r.status {
        OcspCertStatus::Good => Status::Good,
        OcspCertStatus::Revoked { time, reason } => {
            Status::Revoked(time, reason.map(|x| x.name().to_string()))
        }
        OcspCertStatus::Unknown => Status::Unknown,
    };
    Some(Found {
        status,
        source: String::new(),
        this_update: r.this_update,
    })
}

fn from_crl(
    der: &[u8],
    cert: &Certificate,
    issuer: &Certificate,
    at: SystemTime,
    now: SystemTime,
) -> Option<Found> {
    let crl = CertificateList::from_der(der).ok()?;
    let tbs = &crl.tbs_cert_list;
    if tbs.issuer != cert.tbs_certificate.issuer || tbs.issuer != issuer.tbs_certificate.subject {
        return None;
    }
    let tbs_der = tbs.to_der().ok()?;
    let sig = crl.signature.as_bytes()?;
    crypto::verify(
        &crypto::spki_der(issuer)?,
        &crl.signature_algorithm,
        None,
        &tbs_der,
        sig,
    )
    .ok()?;
    let this_update = tbs.this_update.to_system_time();
    let next_update = tbs.next_update.map(|t| t.to_system_time());
    if !usable(this_update, next_update, at, now) {
        return None;
    }
    let serial = &cert.tbs_certificate.serial_number;
    let status = match tbs
        .revoked_certificates
        .iter()
        .flatten()
        .find(|r| &r.serial_number == serial)
    {
        Some(r) => {
            let reason = r
                .crl_entry_extensions
                .iter()
                .flatten()
                .find(|e| e.extn_id == paraf_pki::oids::CRL_REASON)
                .and_then(|e| CrlReason::from_der(e.extn_value.as_bytes()).ok())
                .map(|c| format!("{c:?}"));
            Status::Revoked(r.revocation_date.to_system_time(), reason)
        }
        None => Status::Good,
    };
    Some(Found {
        status,
        source: String::new(),
        this_update,
    })
}

/// Whether an OCSP response speaks about `serial` at all (cheap: no signature check).
fn ocsp_mentions(der: &[u8], serial: &x509_cert::serial_number::SerialNumber) -> bool {
    let Ok(resp) = x509_ocsp::OcspResponse::from_der(der) else {
        return false;
    };
    let Some(bytes) = resp.response_bytes else {
        return false;
    };
    let Ok(basic) = x509_ocsp::BasicOcspResponse::from_der(bytes.response.as_bytes()) else {
        return false;
    };
    basic
        .tbs_response_data
        .responses
        .iter()
        .any(|r| &r.cert_id.serial_number == serial)
}

fn find_status(
    env: &TrustEnv<'_>,
    cert: &Certificate,
    issuer: &Certificate,
    at: SystemTime,
) -> Option<Found> {
    let now = env.validation_time;
    for (der, src) in &env.evidence.ocsps {
        if !ocsp_mentions(der, &cert.tbs_certificate.serial_number) {
            continue;
        }
        if let Some(mut f) = from_ocsp(der, cert, issuer, at, now) {
            f.source = format!("ocsp ({src})");
            if !matches!(f.status, Status::Unknown) {
                return Some(f);
            }
        }
    }
    for (der, src) in &env.evidence.crls {
        if let Some(mut f) = from_crl(der, cert, issuer, at, now) {
            f.source = format!("crl ({src})");
            return Some(f);
        }
    }
    let live = env.live?;
    if let Ok(Some(der)) = live.ocsp(cert, issuer) {
        if let Some(mut f) = from_ocsp(&der, cert, issuer, at, now) {
            f.source = "ocsp (live)".into();
            if !matches!(f.status, Status::Unknown) {
                return Some(f);
            }
        }
    }
    if let Ok(crls) = live.crls(cert) {
        for der in crls {
            if let Some(mut f) = from_crl(&der, cert, issuer, at, now) {
                f.source = "crl (live)".into();
                return Some(f);
            }
        }
    }
    None
}

fn revocation(out: &mut ChainResult, env: &TrustEnv<'_>, at: SystemTime, poe: bool) {
    let chain = out.chain.clone();
    for (i, pair) in chain.windows(2).enumerate() {
        let [cert, issuer] = pair else { continue };
        if is_anchor(env.anchors, cert) {
            continue;
        }
        let label = certinfo::label(cert);
        let mut check = RevocationCheck {
            subject: cert.tbs_certificate.subject.to_string(),
            status: "not_checked".into(),
            source: None,
            revocation_time: None,
            reason: None,
            this_update: None,
            how: None,
        };
        let off = env.policy == crate::RevocationPolicy::Off;
        // Off: nothing is fetched and nothing missing counts, but what the document itself
        // says (a revoked status in its DSS or CMS) still does.
        let found = if off {
            let embedded = TrustEnv {
                anchors: env.anchors,
                evidence: env.evidence,
                live: None,
                validation_time: env.validation_time,
                policy: env.policy,
            };
            find_status(&embedded, cert, issuer, at)
        } else {
            find_status(env, cert, issuer, at)
        };
        if off && found.is_none() {
            check.how = Some("not checked: revocation checking is off".into());
            out.revocation.push(check);
            continue;
        }
        check.how = Some(match &found {
            Some(f) => format!("checked: {} of {}", f.source, rfc3339(f.this_update)),
            None if !certinfo::has_revocation_pointers(cert) => {
                "not checked: the certificate names no CRL distribution point or OCSP responder"
                    .into()
            }
            None if env.live.is_some() => {
                "not checked: nothing in the document, and nothing could be fetched".into()
            }
            None => "not checked: nothing in the document (live checking is off)".into(),
        });
        match found {
            Some(f) => {
                check.source = Some(f.source);
                check.this_update = Some(rfc3339(f.this_update));
                match f.status {
                    Status::Good => check.status = "good".into(),
                    Status::Unknown if off => check.status = "unknown".into(),
                    Status::Unknown => {
                        check.status = "unknown".into();
                        out.problems.push(Problem::new(
                            SubIndication::TryLater,
                            format!("the revocation status of {label} is unknown to its responder"),
                        ));
                    }
                    Status::Revoked(t, reason) => {
                        check.status = "revoked".into();
                        check.revocation_time = Some(rfc3339(t));
                        check.reason.clone_from(&reason);
                        if t <= at {
                            let sub = match (i, poe) {
                                (0, true) => SubIndication::Revoked,
                                (0, false) => SubIndication::RevokedNoPoe,
                                _ => SubIndication::RevokedCaNoPoe,
                            };
                            out.problems.push(Problem::new(
                                sub,
                                format!(
                                    "{label} was revoked on {}{}",
                                    rfc3339(t),
                                    reason.map(|r| format!(" ({r})")).unwrap_or_default()
                                ),
                            ));
                        }
                    }
                }
            }
            None if env.policy == crate::RevocationPolicy::Soft
                && !certinfo::has_revocation_pointers(cert) =>
            {
                out.warnings.push(format!(
                    "the revocation status of {label} was not checked: the certificate names no CRL distribution point or OCSP responder"
                ));
            }
            None => {
                out.problems.push(Problem::new(
                    SubIndication::TryLater,
                    format!(
                        "no usable revocation information for {label} at {} (none in the DSS or the signature{})",
                        rfc3339(at),
                        if env.live.is_some() { ", and none could be fetched" } else { "; live checking is off" }
                    ),
                ));
            }
        }
        out.revocation.push(check);
    }
}
