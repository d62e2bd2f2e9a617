//! Responses signed by `xmlsec1` (the reference XML-DSig implementation) are accepted;
//! every way a response can be wrong is refused with the reason.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use chrono::{Duration, Utc};
use paraf_saml::{parse_metadata, verify_response, Expectations, IdentityProvider, SamlError};
use paraf_testkit::saml::{Idp, KeyAlg, Response, Signed};

const ACS: &str = "https://paraf.example.test/api/auth/saml";
const SP: &str = "https://paraf.example.test/saml/acme";

fn provider(idp: &Idp) -> IdentityProvider {
    parse_metadata(idp.metadata().as_bytes()).unwrap()
}

fn check(idp: &IdentityProvider, xml: &str) -> Result<paraf_saml::VerifiedAssertion, SamlError> {
    verify_response(
        xml.as_bytes(),
        &Expectations {
            idp,
            audience: SP,
            recipient: ACS,
            now: Utc::now(),
            skew: Duration::seconds(60),
        },
    )
}

fn refused(idp: &IdentityProvider, xml: &str, part: &str) -> SamlError {
    let e = check(idp, xml).expect_err("must be refused");
    assert!(e.to_string().contains(part), "{e} (wanted: {part})");
    e
}

#[test]
fn metadata_gives_the_entity_and_its_signing_certificate() {
    let idp = Idp::new("https://idp.example.test/metadata", KeyAlg::Rsa);
    let p = provider(&idp);
    assert_eq!(p.entity_id, "https://idp.example.test/metadata");
    assert_eq!(p.certificates, vec![idp.cert_der.clone()]);
    assert_eq!(p.sso_url.as_deref(), Some("https://idp.example.test/sso"));
    for (bad, part) in [
        ("not xml", "not XML"),
        ("<!DOCTYPE x [<!ENTITY a 'b'>]><x/>", "document type"),
        ("<md:EntityDescriptor xmlns:md=\"urn:oasis:names:tc:SAML:2.0:metadata\" entityID=\"x\"/>", "IDPSSODescriptor"),
    ] {
        let e = parse_metadata(bad.as_bytes()).unwrap_err();
        assert!(e.to_string().contains(part), "{e}");
    }
    let no_cert = idp
        .metadata()
        .replace("use=\"signing\"", "use=\"encryption\"");
    assert!(parse_metadata(no_cert.as_bytes())
        .unwrap_err()
        .to_string()
        .contains("no signing certificate"));
}

#[test]
fn signed_assertions_and_signed_responses_are_accepted() {
    for alg in [KeyAlg::Rsa, KeyAlg::EcP256] {
        let idp = Idp::new("https://idp.example.test", alg);
        let p = provider(&idp);
        let mut r = Response::new(&idp, ACS, SP, "anna@example.test");
        r.attributes = vec![
            ("givenName".into(), "Anna".into()),
            ("sn".into(), "Rossi & Co".into()),
        ];
        let a = check(&p, &idp.response(&r)).unwrap();
        assert_eq!(a.name_id, "anna@example.test");
        assert_eq!(a.issuer, "https://idp.example.test");
        assert_eq!(a.id, r.assertion_id);
        assert_eq!(a.signed, "Assertion");
        assert_eq!(a.attribute(&["givenname"]), Some("Anna"));
        assert_eq!(a.attribute(&["mail", "sn"]), Some("Rossi & Co"));
        assert_eq!(a.expires.timestamp(), r.not_on_or_after.timestamp());

        r.signed = Signed::Response;
        let a = check(&p, &idp.response(&r)).unwrap();
        assert_eq!(
            (a.signed, a.name_id.as_str()),
            ("Response", "anna@example.test")
        );
    }
}

#[test]
fn tampering_wrapping_and_foreign_keys_are_refused() {
    let idp = Idp::new("https://idp.example.test", KeyAlg::Rsa);
    let p = provider(&idp);
    let r = Response::new(&idp, ACS, SP, "anna@example.test");
    let good = idp.response(&r);

    // A changed subject after signing.
    let e = refused(
        &p,
        &good.replace("anna@example.test", "boss@example.test"),
        "changed after it was signed",
    );
    assert_eq!(e.kind(), "bad_signature");

    // A changed signature value.
    let at = good.find("<ds:SignatureValue>").unwrap() + "<ds:SignatureValue>".len();
    let mut bytes = good.clone().into_bytes();
    bytes[at + 3] = if bytes[at + 3] == b'A' { b'B' } else { b'A' };
    refused(
        &p,
        std::str::from_utf8(&bytes).unwrap(),
        "not made by the identity provider's key",
    );

    // The same response signed by another key.
    let other = Idp::new("https://idp.example.test", KeyAlg::Rsa);
    refused(
        &p,
        &other.response(&r),
        "not made by the identity provider's key",
    );

    // Unsigned.
    let mut unsigned = r.clone();
    unsigned.signed = Signed::Nothing;
    assert_eq!(
        check(&p, &idp.response(&unsigned)).unwrap_err().kind(),
        "unsigned"
    );

    // Wrapping: an evil unsigned assertion next to the signed one, or the signed one hidden
    // in an extension while an evil one stands in its place.
    let start = good.find("<saml:Assertion").unwrap();
    let end = good.find("</saml:Assertion>").unwrap() + "</saml:Assertion>".len();
    let signed_assertion = &good[start..end];
    let evil =
        "<saml:Assertion ID=\"_evil\" Version=\"2.0\" IssueInstant=\"2030-01-01T00:00:00Z\">\
        <saml:Issuer>https://idp.example.test</saml:Issuer><saml:Subject>\
        <saml:NameID>boss@example.test</saml:NameID></saml:Subject></saml:Assertion>";
    let two = good.replace(signed_assertion, &format!("{evil}{signed_assertion}"));
    refused(&p, &two, "exactly one is accepted");
    let hidden = good.replace(
        signed_assertion,
        &format!("<samlp:Extensions>{signed_assertion}</samlp:Extensions>"),
    );
    refused(&p, &hidden, "not a direct child");
    // A signature whose reference points at an element with a duplicated ID.
    let dup = good.replace(
        "<samlp:Status>",
        &format!(
            "<samlp:Extensions><x ID=\"{}\"/></samlp:Extensions><samlp:Status>",
            r.assertion_id
        ),
    );
    refused(&p, &dup, "carried by 2 elements");

    // DTDs (entity expansion) are never read.
    let dtd = format!("<!DOCTYPE r [<!ENTITY e \"x\">]>{good}");
    assert_eq!(check(&p, &dtd).unwrap_err().kind(), "malformed");
}

#[test]
fn audience_recipient_issuer_time_and_status_are_checked() {
    let idp = Idp::new("https://idp.example.test", KeyAlg::Rsa);
    let p = provider(&idp);
    let base = Response::new(&idp, ACS, SP, "anna@example.test");

    let mut r = base.clone();
    r.audience = "https://someone-else.example.test".into();
    refused(
        &p,
        &idp.response(&r),
        "audience https://someone-else.example.test, not",
    );

    let mut r = base.clone();
    r.recipient = "https://evil.example.test/acs".into();
    refused(
        &p,
        &idp.response(&r),
        "recipient https://evil.example.test/acs",
    );

    let mut r = base.clone();
    r.destination = "https://evil.example.test/acs".into();
    refused(
        &p,
        &idp.response(&r),
        "addressed to https://evil.example.test/acs",
    );

    let mut r = base.clone();
    r.issuer = "https://other-idp.example.test".into();
    refused(
        &p,
        &idp.response(&r),
        "issuer is https://other-idp.example.test",
    );

    let mut r = base.clone();
    r.issued = Utc::now() - Duration::hours(2);
    r.not_on_or_after = Utc::now() - Duration::hours(1);
    refused(&p, &idp.response(&r), "expired");

    let mut r = base.clone();
    r.issued = Utc::now() + Duration::hours(1);
    r.not_on_or_after = Utc::now() + Duration::hours(2);
    refused(&p, &idp.response(&r), "not valid before");

    let mut r = base.clone();
    r.status = "urn:oasis:names:tc:SAML:2.0:status:Requester".into();
    r.signed = Signed::Nothing;
    let e = refused(&p, &idp.response(&r), "refused the sign-in");
    assert_eq!(e.kind(), "status");

    // Valid for long by the IdP's word, but issued more than ten minutes ago.
    let mut r = base.clone();
    r.issued = Utc::now() - Duration::minutes(30);
    r.not_on_or_after = Utc::now() + Duration::hours(1);
    refused(&p, &idp.response(&r), "more than 10 minutes ago");

    // A signed response must say where it goes; an assertion must say the person
    // authenticated; an ID is short.
    let mut r = base.clone();
    r.signed = Signed::Response;
    let no_destination = idp
        .template(&r)
        .replacen(&format!(" Destination=\"{ACS}\""), "", 1);
    refused(&p, &idp.sign(&no_destination), "names no Destination");
    let start = "<saml:AuthnStatement";
    let end = "</saml:AuthnStatement>";
    let t = idp.template(&base);
    let (a, b) = (t.find(start).unwrap(), t.find(end).unwrap() + end.len());
    let no_authn = format!("{}{}", &t[..a], &t[b..]);
    refused(&p, &idp.sign(&no_authn), "no AuthnStatement");
    let mut r = base.clone();
    r.assertion_id = format!("_{}", "a".repeat(300));
    refused(&p, &idp.response(&r), "longer than 256");

    // A flood of namespaces or tags is refused before it is parsed.
    let good = idp.response(&base);
    let flood: String = (0..70)
        .map(|i| format!(" xmlns:n{i}=\"urn:n{i}\""))
        .collect();
    let flooded = good.replacen("<samlp:Response", &format!("<samlp:Response{flood}"), 1);
    refused(&p, &flooded, "namespaces");
    let tags = good.replacen(
        "<samlp:Status>",
        &format!("<samlp:Status>{}", "<x/>".repeat(10_001)),
        1,
    );
    refused(&p, &tags, "tags");

    let mut r = base.clone();
    r.signature_method = Some("http://www.w3.org/2000/09/xmldsig#rsa-sha1".into());
    r.digest_method = Some("http://www.w3.org/2000/09/xmldsig#sha1".into());
    refused(&p, &idp.response(&r), "SHA1");
}
