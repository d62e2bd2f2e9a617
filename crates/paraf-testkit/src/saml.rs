//! A SAML identity provider for tests: keys and a self-signed certificate made by `openssl`,
//! metadata, and responses signed by `xmlsec1` (the reference XML-DSig implementation,
//! Debian package `xmlsec1`), so our verifier is checked against an independent signer.

use std::path::PathBuf;
use std::process::Command;

use base64::Engine as _;
use chrono::{DateTime, Duration, SecondsFormat, Utc};

use crate::tools::{require_tool, run_ok, write};

/// The key the provider signs with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyAlg {
    /// RSA 2048, RSA-SHA256.
    Rsa,
    /// ECDSA P-256, ECDSA-SHA256.
    EcP256,
}

/// A test identity provider.
pub struct Idp {
    dir: tempfile::TempDir,
    /// Its entity ID.
    pub entity_id: String,
    key_pem: PathBuf,
    cert_pem: PathBuf,
    /// Its certificate (DER).
    pub cert_der: Vec<u8>,
    alg: KeyAlg,
}

/// Which element carries the signature.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signed {
    Assertion,
    Response,
    Nothing,
}

/// A response to build; [`Response::new`] fills a valid one for `(recipient, audience)`.
#[derive(Debug, Clone)]
pub struct Response {
    pub id: String,
    pub assertion_id: String,
    pub issuer: String,
    pub destination: String,
    pub recipient: String,
    pub audience: String,
    pub name_id: String,
    pub issued: DateTime<Utc>,
    pub not_on_or_after: DateTime<Utc>,
    pub attributes: Vec<(String, String)>,
    pub status: String,
    pub signed: Signed,
    /// The signature method URI (RSA-SHA256 or ECDSA-SHA256 by the key when `None`).
    pub signature_method: Option<String>,
    /// The digest method URI (SHA-256 when `None`).
    pub digest_method: Option<String>,
}

fn instant(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

impl Idp {
    /// A provider with a fresh key and a certificate valid for a day.
    pub fn new(entity_id: &str, alg: KeyAlg) -> Idp {
        require_tool("openssl", "openssl");
        require_tool("xmlsec1", "xmlsec1");
        let dir = tempfile::tempdir().unwrap();
        let key_pem = dir.path().join("key.pem");
        let cert_pem = dir.path().join("cert.pem");
        let newkey = match alg {
            KeyAlg::Rsa => vec!["-newkey", "rsa:2048"],
            KeyAlg::EcP256 => vec!["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"],
        };
        run_ok(
            Command::new("openssl")
                .args([
                    "req",
                    "-x509",
                    "-nodes",
                    "-days",
                    "1",
                    "-subj",
                    "/CN=Test IdP",
                ])
                .args(newkey)
                .arg("-keyout")
                .arg(&key_pem)
                .arg("-out")
                .arg(&cert_pem),
        );
        let der = run_ok(
            Command::new("openssl")
                .args(["x509", "-outform", "DER", "-in"])
                .arg(&cert_pem),
        )
        .stdout;
        Idp {
            dir,
            entity_id: entity_id.to_string(),
            key_pem,
            cert_pem,
            cert_der: der,
            alg,
        }
    }

    /// Its metadata (an `EntityDescriptor` with an `IDPSSODescriptor`).
    pub fn metadata(&self) -> String {
        let cert = base64::engine::general_purpose::STANDARD.encode(&self.cert_der);
        format!(
            r#"<?xml version="1.0"?>
<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="{id}">
  <md:IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">
    <md:KeyDescriptor use="signing">
      <ds:KeyInfo xmlns:ds="http://www.w3.org/2000/09/xmldsig#">
        <ds:X509Data><ds:X509Certificate>
{cert}
        </ds:X509Certificate></ds:X509Data>
      </ds:KeyInfo>
    </md:KeyDescriptor>
    <md:NameIDFormat>urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress</md:NameIDFormat>
    <md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="https://idp.example.test/sso"/>
  </md:IDPSSODescriptor>
</md:EntityDescriptor>
"#,
            id = esc(&self.entity_id)
        )
    }

    /// The template of a signature over the element `#id`, to fill by [`Idp::sign`].
    fn signature_template(&self, id: &str, r: &Response) -> String {
        let sm = r
            .signature_method
            .clone()
            .unwrap_or_else(|| match self.alg {
                KeyAlg::Rsa => "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256".into(),
                KeyAlg::EcP256 => "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256".into(),
            });
        let dm = r
            .digest_method
            .clone()
            .unwrap_or_else(|| "http://www.w3.org/2001/04/xmlenc#sha256".into());
        format!(
            r##"<ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:SignedInfo><ds:CanonicalizationMethod Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/><ds:SignatureMethod Algorithm="{sm}"/><ds:Reference URI="#{id}"><ds:Transforms><ds:Transform Algorithm="http://www.w3.org/2000/09/xmldsig#enveloped-signature"/><ds:Transform Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/></ds:Transforms><ds:DigestMethod Algorithm="{dm}"/><ds:DigestValue/></ds:Reference></ds:SignedInfo><ds:SignatureValue/><ds:KeyInfo><ds:X509Data/></ds:KeyInfo></ds:Signature>"##
        )
    }

    /// The response as XML, signed as `r.signed` says.
    pub fn response(&self, r: &Response) -> String {
        let xml = self.template(r);
        if r.signed == Signed::Nothing {
            return xml;
        }
        self.sign(&xml)
    }

    /// The response as XML with its signature template, not signed yet: a test changes it,
    /// then [`Idp::sign`]s it.
    pub fn template(&self, r: &Response) -> String {
        let attrs: String = r
            .attributes
            .iter()
            .map(|(n, v)| {
                format!(
                    r#"<saml:Attribute Name="{}"><saml:AttributeValue xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="xs:string">{}</saml:AttributeValue></saml:Attribute>"#,
                    esc(n),
                    esc(v)
                )
            })
            .collect();
        let asig = if r.signed == Signed::Assertion {
            self.signature_template(&r.assertion_id, r)
        } else {
            String::new()
        };
        let rsig = if r.signed == Signed::Response {
            self.signature_template(&r.id, r)
        } else {
            String::new()
        };
        format!(
            r#"<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="{id}" Version="2.0" IssueInstant="{issued}" Destination="{dest}"><saml:Issuer>{issuer}</saml:Issuer>{rsig}<samlp:Status><samlp:StatusCode Value="{status}"/></samlp:Status><saml:Assertion ID="{aid}" Version="2.0" IssueInstant="{issued}"><saml:Issuer>{issuer}</saml:Issuer>{asig}<saml:Subject><saml:NameID Format="urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress">{name}</saml:NameID><saml:SubjectConfirmation Method="urn:oasis:names:tc:SAML:2.0:cm:bearer"><saml:SubjectConfirmationData NotOnOrAfter="{until}" Recipient="{recipient}"/></saml:SubjectConfirmation></saml:Subject><saml:Conditions NotBefore="{issued}" NotOnOrAfter="{until}"><saml:AudienceRestriction><saml:Audience>{audience}</saml:Audience></saml:AudienceRestriction></saml:Conditions><saml:AuthnStatement AuthnInstant="{issued}" SessionIndex="_s1"><saml:AuthnContext><saml:AuthnContextClassRef>urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport</saml:AuthnContextClassRef></saml:AuthnContext></saml:AuthnStatement><saml:AttributeStatement>{attrs}</saml:AttributeStatement></saml:Assertion></samlp:Response>"#,
            id = esc(&r.id),
            aid = esc(&r.assertion_id),
            issued = instant(r.issued),
            until = instant(r.not_on_or_after),
            dest = esc(&r.destination),
            recipient = esc(&r.recipient),
            issuer = esc(&r.issuer),
            status = esc(&r.status),
            name = esc(&r.name_id),
            audience = esc(&r.audience),
        )
    }

    /// Fills the signature template in `xml` with `xmlsec1`.
    pub fn sign(&self, xml: &str) -> String {
        let input = write(self.dir.path(), "unsigned.xml", xml.as_bytes());
        let output = self.dir.path().join("signed.xml");
        let keys = format!("{},{}", self.key_pem.display(), self.cert_pem.display());
        run_ok(
            Command::new("xmlsec1")
                .args(["--sign", "--privkey-pem", &keys])
                .args([
                    "--id-attr:ID",
                    "urn:oasis:names:tc:SAML:2.0:assertion:Assertion",
                ])
                .args([
                    "--id-attr:ID",
                    "urn:oasis:names:tc:SAML:2.0:protocol:Response",
                ])
                .arg("--output")
                .arg(&output)
                .arg(&input),
        );
        std::fs::read_to_string(output).unwrap()
    }
}

impl Response {
    /// A successful response from `idp` for `name_id`, valid for five minutes from now.
    pub fn new(idp: &Idp, recipient: &str, audience: &str, name_id: &str) -> Response {
        let now = Utc::now();
        static SEQ: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let seq = SEQ.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let n = format!("{:x}{seq}", now.timestamp_nanos_opt().unwrap_or_default());
        Response {
            id: format!("_r{n}"),
            assertion_id: format!("_a{n}"),
            issuer: idp.entity_id.clone(),
            destination: recipient.to_string(),
            recipient: recipient.to_string(),
            audience: audience.to_string(),
            name_id: name_id.to_string(),
            issued: now - Duration::seconds(1),
            not_on_or_after: now + Duration::minutes(5),
            attributes: Vec::new(),
            status: "urn:oasis:names:tc:SAML:2.0:status:Success".into(),
            signed: Signed::Assertion,
            signature_method: None,
            digest_method: None,
        }
    }
}

/// What a relay posts to `POST /api/auth/saml` for the response `xml`: `IDToken1` (its
/// base64) and `IDToken2` (the hex HMAC-SHA256 of the response under the relay secret).
pub fn relay(xml: &str, relay_secret_hex: &str) -> (String, String) {
    use hmac::{KeyInit, Mac};
    let key = hex::decode(relay_secret_hex).expect("the relay secret is hex");
    let mut m = <hmac::Hmac<sha2::Sha256> as KeyInit>::new_from_slice(&key).expect("any key");
    m.update(xml.as_bytes());
    (
        base64::engine::general_purpose::STANDARD.encode(xml),
        hex::encode(m.finalize().into_bytes()),
    )
}
