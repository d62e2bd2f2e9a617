//! An identity provider's SAML 2.0 metadata (saml-metadata-2.0-os §2.3–2.4): its `entityID`,
//! the certificates it signs with (`KeyDescriptor` of use `signing` or of no use) and its
//! single-sign-on address. The metadata's own signature is not checked: the operator chooses
//! the file or address it comes from (documented in docs/signingtoday.md).

use der::Decode as _;
use x509_cert::Certificate;

use crate::{b64, children, is, roxmltree, text_of, xml_text, SamlError, NS_DSIG, NS_METADATA};

/// What we keep of an identity provider.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdentityProvider {
    /// Its `entityID`: the `Issuer` its responses and assertions must carry.
    pub entity_id: String,
    /// DER certificates whose keys may sign its responses.
    pub certificates: Vec<Vec<u8>>,
    /// Where users sign in (`SingleSignOnService`, the HTTP-Redirect binding preferred).
    pub sso_url: Option<String>,
}

const BINDING_REDIRECT: &str = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect";

/// Reads the first `EntityDescriptor` that has an `IDPSSODescriptor` (directly or inside an
/// `EntitiesDescriptor`).
pub fn parse_metadata(xml: &[u8]) -> Result<IdentityProvider, SamlError> {
    let text = xml_text(xml, "the metadata")?;
    let doc = text
        .parse()
        .map_err(|e| SamlError::Malformed(format!("the metadata is not XML: {e}")))?;
    let entity = doc
        .descendants()
        .find(|n| {
            is(*n, NS_METADATA, "EntityDescriptor")
                && children(*n, NS_METADATA, "IDPSSODescriptor")
                    .next()
                    .is_some()
        })
        .ok_or_else(|| {
            SamlError::Malformed(
                "the metadata has no EntityDescriptor with an IDPSSODescriptor".into(),
            )
        })?;
    let entity_id = entity
        .attribute("entityID")
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .ok_or_else(|| SamlError::Malformed("the EntityDescriptor has no entityID".into()))?
        .to_string();
    let mut certificates = Vec::new();
    let mut sso_url = None;
    for idp in children(entity, NS_METADATA, "IDPSSODescriptor") {
        for kd in children(idp, NS_METADATA, "KeyDescriptor") {
            if kd.attribute("use").is_some_and(|u| u != "signing") {
                continue;
            }
            for c in kd
                .descendants()
                .filter(|n| is(*n, NS_DSIG, "X509Certificate"))
            {
                certificates.push(certificate(c)?);
            }
        }
        let services: Vec<roxmltree::Node<'_, '_>> =
            children(idp, NS_METADATA, "SingleSignOnService").collect();
        let chosen = services
            .iter()
            .find(|s| s.attribute("Binding") == Some(BINDING_REDIRECT))
            .or(services.first());
        if sso_url.is_none() {
            sso_url = chosen
                .and_then(|s| s.attribute("Location"))
                .map(str::to_string);
        }
    }
    if certificates.is_empty() {
        return Err(SamlError::Malformed(
            "the IDPSSODescriptor names no signing certificate (KeyDescriptor/KeyInfo/X509Data/X509Certificate)"
                .into(),
        ));
    }
    certificates.dedup();
    Ok(IdentityProvider {
        entity_id,
        certificates,
        sso_url,
    })
}

fn certificate(n: roxmltree::Node<'_, '_>) -> Result<Vec<u8>, SamlError> {
    let der = b64(&text_of(n), "an X509Certificate")?;
    Certificate::from_der(&der).map_err(|e| {
        SamlError::Malformed(format!("an X509Certificate is not a certificate: {e}"))
    })?;
    Ok(der)
}
