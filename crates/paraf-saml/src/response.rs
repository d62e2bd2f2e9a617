//! A `samlp:Response` of the Web Browser SSO profile (saml-profiles-2.0-os §4.1.4): status,
//! one signed assertion (or a signed response holding it), issuer, bearer subject
//! confirmation for our address, conditions (time window, audience). Encrypted assertions are
//! refused (documented).

use chrono::{DateTime, Duration, Utc};

use crate::dsig::{is_signature, verify_enveloped};
use crate::metadata::IdentityProvider;
use crate::{
    children, is, only_child, roxmltree, text_of, xml_text, SamlError, NS_ASSERTION, NS_PROTOCOL,
};

type Node<'a, 'i> = roxmltree::Node<'a, 'i>;

const SUCCESS: &str = "urn:oasis:names:tc:SAML:2.0:status:Success";
const BEARER: &str = "urn:oasis:names:tc:SAML:2.0:cm:bearer";

/// What the response must be for.
#[derive(Debug, Clone)]
pub struct Expectations<'a> {
    /// The identity provider configured for the organisation.
    pub idp: &'a IdentityProvider,
    /// Our entity ID: an `Audience` of every `AudienceRestriction`.
    pub audience: &'a str,
    /// Our assertion consumer address: the response's `Destination` (when present) and the
    /// bearer confirmation's `Recipient`.
    pub recipient: &'a str,
    /// The time of the check.
    pub now: DateTime<Utc>,
    /// Clock difference tolerated either way.
    pub skew: Duration,
}

/// An accepted assertion: every field comes from the signed bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedAssertion {
    /// The assertion's `ID` (to refuse a replay until `expires`).
    pub id: String,
    /// The identity provider that issued it.
    pub issuer: String,
    /// The subject's `NameID`.
    pub name_id: String,
    /// The `NameID`'s `Format`, when given.
    pub name_id_format: Option<String>,
    /// Attributes by `Name`, in document order, with their values.
    pub attributes: Vec<(String, Vec<String>)>,
    /// When the assertion stops being usable (the earliest `NotOnOrAfter`).
    pub expires: DateTime<Utc>,
    /// Which element carried the signature that was checked: `Assertion` or `Response`.
    pub signed: &'static str,
}

impl VerifiedAssertion {
    /// The first value of the first attribute among `names` (compared ignoring case).
    pub fn attribute(&self, names: &[&str]) -> Option<&str> {
        names.iter().find_map(|want| {
            self.attributes
                .iter()
                .find(|(n, _)| n.eq_ignore_ascii_case(want))
                .and_then(|(_, v)| v.iter().map(String::as_str).find(|s| !s.is_empty()))
        })
    }
}

/// Most namespace declarations a response may carry (a real one has a handful): the parser
/// and the canonicalizer copy the namespaces in scope into every element.
pub const MAX_NAMESPACE_DECLARATIONS: usize = 64;
/// Most markup (`<`) a response may carry (a real one has a few hundred).
pub const MAX_MARKUP: usize = 10_000;
/// How old an assertion may be (its `IssueInstant`), whatever validity the IdP gives it: a
/// browser posts it at once.
pub const MAX_ASSERTION_AGE_MINUTES: i64 = 10;
/// Longest assertion ID accepted (it is kept to refuse replays).
pub const MAX_ID_LENGTH: usize = 256;

/// Refuses a response whose shape would cost the parser or the canonicalizer more than a
/// real one ever does, before parsing it.
fn check_size(text: &str) -> Result<(), SamlError> {
    let namespaces = text.matches("xmlns").count();
    if namespaces > MAX_NAMESPACE_DECLARATIONS {
        return Err(SamlError::Malformed(format!(
            "the response declares {namespaces} namespaces (at most {MAX_NAMESPACE_DECLARATIONS})"
        )));
    }
    let markup = text.bytes().filter(|b| *b == b'<').count();
    if markup > MAX_MARKUP {
        return Err(SamlError::Malformed(format!(
            "the response has {markup} tags (at most {MAX_MARKUP})"
        )));
    }
    Ok(())
}

/// Verifies a response (the XML, base64 already decoded) against `e`. Only unsolicited
/// (IdP-initiated) responses are read: `InResponseTo` is not checked, replays are refused by
/// the caller with [`VerifiedAssertion::id`] until [`VerifiedAssertion::expires`].
pub fn verify_response(xml: &[u8], e: &Expectations<'_>) -> Result<VerifiedAssertion, SamlError> {
    let text = xml_text(xml, "the SAML response")?;
    check_size(text.as_str())?;
    let doc = text
        .parse()
        .map_err(|err| SamlError::Malformed(format!("the SAML response is not XML: {err}")))?;
    let root = doc.root_element();
    if !is(root, NS_PROTOCOL, "Response") {
        return Err(SamlError::Malformed(format!(
            "expected a samlp:Response, found {}",
            root.tag_name().name()
        )));
    }
    // A refusal by the identity provider is reported as such, signed or not.
    check_status(root)?;
    if doc
        .descendants()
        .any(|n| is(n, NS_ASSERTION, "EncryptedAssertion"))
    {
        return Err(SamlError::Malformed(
            "encrypted assertions are not supported: configure the identity provider to sign the assertion without encrypting it".into(),
        ));
    }
    let assertions: Vec<Node<'_, '_>> = doc
        .descendants()
        .filter(|n| is(*n, NS_ASSERTION, "Assertion"))
        .collect();
    let [assertion] = assertions[..] else {
        return Err(SamlError::Refused(format!(
            "the response holds {} assertions; exactly one is accepted",
            assertions.len()
        )));
    };
    if assertion.parent() != Some(root) {
        return Err(SamlError::Refused(
            "the assertion is not a direct child of the response".into(),
        ));
    }
    let response_sig = signature_of(root)?;
    let assertion_sig = signature_of(assertion)?;
    if response_sig.is_none() && assertion_sig.is_none() {
        return Err(SamlError::Unsigned(
            "neither the response nor its assertion is signed".into(),
        ));
    }
    let certs = &e.idp.certificates;
    // What was digested, parsed anew: the facts are read only from there.
    let signed_response = match response_sig {
        Some(s) => Some(verify_enveloped(root, s, certs)?),
        None => None,
    };
    let signed_assertion = match assertion_sig {
        Some(s) => Some(verify_enveloped(assertion, s, certs)?),
        None => None,
    };

    match &signed_response {
        Some(bytes) => {
            let t = xml_text(bytes, "the signed response")?;
            let d = t
                .parse()
                .map_err(|err| SamlError::Malformed(format!("the signed response: {err}")))?;
            check_response(d.root_element(), e, true)?;
            if signed_assertion.is_none() {
                let a = children(d.root_element(), NS_ASSERTION, "Assertion")
                    .next()
                    .ok_or_else(|| {
                        SamlError::Refused("the signed response holds no assertion".into())
                    })?;
                return read_assertion(a, e, "Response");
            }
        }
        None => check_response(root, e, false)?,
    }
    let bytes = signed_assertion
        .as_deref()
        .ok_or_else(|| SamlError::Unsigned("the assertion is not signed".into()))?;
    let t = xml_text(bytes, "the signed assertion")?;
    let d = t
        .parse()
        .map_err(|err| SamlError::Malformed(format!("the signed assertion: {err}")))?;
    read_assertion(d.root_element(), e, "Assertion")
}

fn signature_of<'a, 'i>(n: Node<'a, 'i>) -> Result<Option<Node<'a, 'i>>, SamlError> {
    let mut sigs = n.children().filter(|c| is_signature(*c));
    let first = sigs.next();
    if sigs.next().is_some() {
        return Err(SamlError::BadSignature(format!(
            "the {} carries more than one signature",
            n.tag_name().name()
        )));
    }
    Ok(first)
}

fn check_status(r: Node<'_, '_>) -> Result<(), SamlError> {
    let status = only_child(r, NS_PROTOCOL, "Status")?
        .ok_or_else(|| SamlError::Malformed("the response has no Status".into()))?;
    let code = only_child(status, NS_PROTOCOL, "StatusCode")?
        .and_then(|c| c.attribute("Value"))
        .unwrap_or_default();
    if code == SUCCESS {
        return Ok(());
    }
    let message = only_child(status, NS_PROTOCOL, "StatusMessage")?
        .map(text_of)
        .filter(|m| !m.is_empty());
    Err(SamlError::Status(match message {
        Some(m) => format!("the identity provider refused the sign-in: {code} ({m})"),
        None => format!("the identity provider refused the sign-in: {code}"),
    }))
}

/// The response's own checks; `signed`: the response itself is signed, so it must name its
/// `Destination` (SAML bindings §3.5.5.2).
fn check_response(r: Node<'_, '_>, e: &Expectations<'_>, signed: bool) -> Result<(), SamlError> {
    if r.attribute("Version") != Some("2.0") {
        return Err(SamlError::Malformed("the response is not SAML 2.0".into()));
    }
    check_status(r)?;
    match r.attribute("Destination") {
        Some(d) if d != e.recipient => {
            return Err(SamlError::Refused(format!(
                "the response is addressed to {d}, not to {}",
                e.recipient
            )));
        }
        None if signed => {
            return Err(SamlError::Refused(
                "the signed response names no Destination".into(),
            ));
        }
        _ => {}
    }
    if let Some(i) = only_child(r, NS_ASSERTION, "Issuer")? {
        check_issuer(i, e)?;
    }
    Ok(())
}

fn check_issuer(i: Node<'_, '_>, e: &Expectations<'_>) -> Result<String, SamlError> {
    let issuer = text_of(i);
    if issuer != e.idp.entity_id {
        return Err(SamlError::Refused(format!(
            "the issuer is {issuer}, not the configured identity provider {}",
            e.idp.entity_id
        )));
    }
    Ok(issuer)
}

fn instant(n: Node<'_, '_>, attr: &str) -> Result<Option<DateTime<Utc>>, SamlError> {
    n.attribute(attr)
        .map(|v| {
            DateTime::parse_from_rfc3339(v.trim())
                .map(|d| d.with_timezone(&Utc))
                .map_err(|_| SamlError::Malformed(format!("{attr}={v:?} is not a UTC instant")))
        })
        .transpose()
}

fn read_assertion(
    a: Node<'_, '_>,
    e: &Expectations<'_>,
    signed: &'static str,
) -> Result<VerifiedAssertion, SamlError> {
    if a.attribute("Version") != Some("2.0") {
        return Err(SamlError::Malformed("the assertion is not SAML 2.0".into()));
    }
    let id = a
        .attribute("ID")
        .ok_or_else(|| SamlError::Malformed("the assertion has no ID".into()))?
        .to_string();
    if id.len() > MAX_ID_LENGTH {
        return Err(SamlError::Malformed(format!(
            "the assertion ID is longer than {MAX_ID_LENGTH} characters"
        )));
    }
    let issued = instant(a, "IssueInstant")?
        .ok_or_else(|| SamlError::Malformed("the assertion has no IssueInstant".into()))?;
    let issuer = check_issuer(
        only_child(a, NS_ASSERTION, "Issuer")?
            .ok_or_else(|| SamlError::Malformed("the assertion has no Issuer".into()))?,
        e,
    )?;
    let subject = only_child(a, NS_ASSERTION, "Subject")?
        .ok_or_else(|| SamlError::Malformed("the assertion has no Subject".into()))?;
    let name = only_child(subject, NS_ASSERTION, "NameID")?
        .ok_or_else(|| SamlError::Malformed("the subject has no NameID".into()))?;
    let name_id = text_of(name);
    if name_id.is_empty() {
        return Err(SamlError::Malformed("the NameID is empty".into()));
    }

    // Bearer confirmation for our address, still valid.
    let mut confirmed: Option<DateTime<Utc>> = None;
    let mut why = "the subject has no bearer SubjectConfirmation".to_string();
    for sc in children(subject, NS_ASSERTION, "SubjectConfirmation") {
        if sc.attribute("Method") != Some(BEARER) {
            continue;
        }
        let Some(data) = only_child(sc, NS_ASSERTION, "SubjectConfirmationData")? else {
            why = "the bearer confirmation has no SubjectConfirmationData".into();
            continue;
        };
        match data.attribute("Recipient") {
            Some(r) if r == e.recipient => {}
            Some(r) => {
                why = format!(
                    "the assertion is for the recipient {r}, not {}",
                    e.recipient
                );
                continue;
            }
            None => {
                why = "the bearer confirmation names no Recipient".into();
                continue;
            }
        }
        if let Some(nb) = instant(data, "NotBefore")? {
            if e.now + e.skew < nb {
                why = format!("the assertion is not valid before {}", nb.to_rfc3339());
                continue;
            }
        }
        let Some(until) = instant(data, "NotOnOrAfter")? else {
            why = "the bearer confirmation has no NotOnOrAfter".into();
            continue;
        };
        if e.now >= until + e.skew {
            why = format!("the assertion expired at {}", until.to_rfc3339());
            continue;
        }
        confirmed = Some(until);
        break;
    }
    let confirmed = confirmed.ok_or(SamlError::Refused(why))?;

    let conditions = only_child(a, NS_ASSERTION, "Conditions")?
        .ok_or_else(|| SamlError::Refused("the assertion has no Conditions".into()))?;
    if let Some(nb) = instant(conditions, "NotBefore")? {
        if e.now + e.skew < nb {
            return Err(SamlError::Refused(format!(
                "the assertion is not valid before {}",
                nb.to_rfc3339()
            )));
        }
    }
    let mut expires = confirmed;
    if let Some(na) = instant(conditions, "NotOnOrAfter")? {
        if e.now >= na + e.skew {
            return Err(SamlError::Refused(format!(
                "the assertion expired at {}",
                na.to_rfc3339()
            )));
        }
        expires = expires.min(na);
    }
    let restrictions: Vec<Node<'_, '_>> =
        children(conditions, NS_ASSERTION, "AudienceRestriction").collect();
    if restrictions.is_empty() {
        return Err(SamlError::Refused(
            "the assertion names no audience (AudienceRestriction)".into(),
        ));
    }
    for r in restrictions {
        let audiences: Vec<String> = children(r, NS_ASSERTION, "Audience").map(text_of).collect();
        if !audiences.iter().any(|a| a == e.audience) {
            return Err(SamlError::Refused(format!(
                "the assertion is for the audience {}, not {}",
                audiences.join(", "),
                e.audience
            )));
        }
    }

    // Issued lately (whatever validity the IdP gave it), and not in the future.
    let max_age = chrono::Duration::minutes(MAX_ASSERTION_AGE_MINUTES);
    if e.now + e.skew < issued {
        return Err(SamlError::Refused(format!(
            "the assertion is issued in the future ({})",
            issued.to_rfc3339()
        )));
    }
    if e.now >= issued + max_age + e.skew {
        return Err(SamlError::Refused(format!(
            "the assertion expired: issued at {}, more than {MAX_ASSERTION_AGE_MINUTES} minutes ago",
            issued.to_rfc3339()
        )));
    }
    expires = expires.min(issued + max_age);
    // The web browser SSO profile: the IdP says the person authenticated.
    if children(a, NS_ASSERTION, "AuthnStatement").next().is_none() {
        return Err(SamlError::Refused(
            "the assertion has no AuthnStatement".into(),
        ));
    }

    let mut attributes = Vec::new();
    for st in children(a, NS_ASSERTION, "AttributeStatement") {
        for at in children(st, NS_ASSERTION, "Attribute") {
            let name = at.attribute("Name").unwrap_or_default().to_string();
            let values = children(at, NS_ASSERTION, "AttributeValue")
                .map(text_of)
                .collect();
            attributes.push((name, values));
        }
    }
    Ok(VerifiedAssertion {
        id,
        issuer,
        name_id,
        name_id_format: name.attribute("Format").map(str::to_string),
        attributes,
        expires,
        signed,
    })
}
