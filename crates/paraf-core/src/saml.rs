//! SAML single sign-on for an organisation (Signing Today's `POST /auth/saml`, "Register or
//! Update a SAML user").
//!
//! An operator gives an organisation its identity provider's metadata (`paraf admin saml
//! set`); Paraf keeps the IdP's entity id and signing certificates, its own entity id and
//! assertion-consumer URL, where the browser goes after a login, and a **relay secret** shown
//! once. A login posts the organisation (`domain`), the IdP's base64 `samlp:Response`
//! (`IDToken1`) and the hex HMAC-SHA256 of the decoded response under the relay secret
//! (`IDToken2`, the seed's binding: whoever relays the response proves it knows the secret).
//! Paraf then checks the response with [`paraf_saml::verify_response`] (signature by the IdP's
//! certificates, issuer, audience = our entity id, recipient/destination = our ACS URL, time
//! windows with two minutes of clock skew), refuses an assertion ID seen before (replay), and
//! makes or updates the user named by the assertion's e-mail (role signer when new; name from
//! `givenName`/`sn` or `displayName` when given) before issuing an OAuth token pair.
//!
//! The settings are sealed with the master key at rest (the relay secret authenticates
//! logins); their `Debug` never shows the secret.

use paraf_domain::{
    DomainError, Email, Entity, IssuedTokens, NewUser, OrgId, PersonName, Role, User, UserProfile,
};
use paraf_saml::{IdentityProvider, SamlError, VerifiedAssertion};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::audit::{Actor, AuditAction};
use crate::error::CoreError;
use crate::Core;

type Result<T> = std::result::Result<T, CoreError>;

/// The largest decoded SAML response accepted (IdP responses are a few KiB).
pub const MAX_RESPONSE_BYTES: usize = 256 * 1024;

/// Clock skew tolerated between the identity provider and us.
pub const CLOCK_SKEW_SECONDS: i64 = 120;

/// Attribute names read for the user's e-mail when the NameID is not one (LDAP, OID and
/// Microsoft claim spellings).
const EMAIL_ATTRS: &[&str] = &[
    "mail",
    "email",
    "emailAddress",
    "urn:oid:0.9.2342.19200300.100.1.3",
    "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress",
];
const GIVEN_NAME_ATTRS: &[&str] = &[
    "givenName",
    "firstName",
    "urn:oid:2.5.4.42",
    "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/givenname",
];
const SURNAME_ATTRS: &[&str] = &[
    "sn",
    "surname",
    "lastName",
    "urn:oid:2.5.4.4",
    "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/surname",
];
const DISPLAY_NAME_ATTRS: &[&str] = &[
    "displayName",
    "cn",
    "urn:oid:2.16.840.1.113730.3.1.241",
    "urn:oid:2.5.4.3",
    "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/name",
];

/// An organisation's SAML settings as stored (sealed).
#[derive(Clone, Serialize, Deserialize, PartialEq, Eq)]
struct Stored {
    idp_entity_id: String,
    /// DER certificates, base64.
    idp_certificates: Vec<String>,
    idp_sso_url: Option<String>,
    sp_entity_id: String,
    acs_url: String,
    redirect_url: String,
    /// 32 random bytes, hex.
    relay_secret: String,
}

/// What an operator sees of an organisation's SAML settings (never the relay secret).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SamlSettings {
    pub idp_entity_id: String,
    pub idp_certificates: usize,
    pub idp_sso_url: Option<String>,
    /// Our entity id: the audience the IdP must name.
    pub sp_entity_id: String,
    /// Our assertion consumer service: the recipient and destination the IdP must name.
    pub acs_url: String,
    /// Where the browser goes after a login, the token in the URL fragment.
    pub redirect_url: String,
}

/// An operator's choices when setting SAML up; `None` keeps the current value or, the
/// first time, takes the default.
#[derive(Debug, Clone, Default)]
pub struct SamlSetup {
    /// The IdP's metadata (an `EntityDescriptor` with an `IDPSSODescriptor`).
    pub metadata: Vec<u8>,
    /// Default `{public_url}/saml/{slug}`.
    pub sp_entity_id: Option<String>,
    /// Default `{public_url}/api/auth/saml`.
    pub acs_url: Option<String>,
    /// Default `{public_url}/`.
    pub redirect_url: Option<String>,
    /// Makes a new relay secret even though one exists.
    pub rotate_secret: bool,
}

/// The outcome of setting SAML up.
#[derive(Debug, Clone)]
pub struct SamlConfigured {
    pub settings: SamlSettings,
    /// The new relay secret (hex), shown once: only when one was made.
    pub relay_secret: Option<crate::secret::Secret>,
}

/// A successful SAML login.
#[derive(Debug)]
pub struct SamlLogin {
    pub user: User,
    /// Made by this login (else updated).
    pub created: bool,
    pub tokens: IssuedTokens,
    pub redirect_url: String,
}

fn invalid(field: &'static str, reason: impl Into<String>) -> CoreError {
    CoreError::Domain(DomainError::invalid(field, reason))
}

fn http_url(field: &'static str, raw: &str) -> Result<String> {
    let url = url::Url::parse(raw.trim()).map_err(|e| invalid(field, format!("not a URL: {e}")))?;
    if !matches!(url.scheme(), "https" | "http") {
        return Err(invalid(field, "must be an http or https URL"));
    }
    Ok(url.to_string())
}

impl Stored {
    fn provider(&self) -> Result<IdentityProvider> {
        use base64::Engine as _;
        let certificates = self
            .idp_certificates
            .iter()
            .map(|c| base64::engine::general_purpose::STANDARD.decode(c))
            .collect::<std::result::Result<Vec<_>, _>>()
            .map_err(CoreError::internal)?;
        Ok(IdentityProvider {
            entity_id: self.idp_entity_id.clone(),
            certificates,
            sso_url: self.idp_sso_url.clone(),
        })
    }

    fn settings(&self) -> SamlSettings {
        SamlSettings {
            idp_entity_id: self.idp_entity_id.clone(),
            idp_certificates: self.idp_certificates.len(),
            idp_sso_url: self.idp_sso_url.clone(),
            sp_entity_id: self.sp_entity_id.clone(),
            acs_url: self.acs_url.clone(),
            redirect_url: self.redirect_url.clone(),
        }
    }
}

/// NameID formats that may carry an e-mail address (a `persistent` or `transient` NameID is
/// an opaque id, even when it looks like an address).
const EMAIL_NAME_ID_FORMATS: &[&str] = &[
    "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress",
    "urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified",
];

/// The user's e-mail: the NameID when its format is e-mail (or unspecified) and it is an
/// address, else the first e-mail attribute.
fn email_of(a: &VerifiedAssertion) -> Result<Email> {
    let email_format = a
        .name_id_format
        .as_deref()
        .is_none_or(|f| EMAIL_NAME_ID_FORMATS.contains(&f));
    if let (true, Ok(e)) = (email_format, Email::parse(&a.name_id)) {
        return Ok(e);
    }
    let Some(mail) = a.attribute(EMAIL_ATTRS) else {
        return Err(invalid(
            "IDToken1",
            "the assertion names no e-mail (neither the NameID nor a mail attribute)",
        ));
    };
    Email::parse(mail).map_err(|_| invalid("IDToken1", "the assertion's e-mail is not valid"))
}

/// The user's name and surname from the assertion's attributes, when it has them.
fn name_of(a: &VerifiedAssertion) -> Option<(PersonName, Option<String>)> {
    let given = a.attribute(GIVEN_NAME_ATTRS).map(str::trim);
    let surname = a.attribute(SURNAME_ATTRS).map(str::trim);
    let full = match (given, surname) {
        (Some(g), Some(s)) => format!("{g} {s}"),
        (Some(g), None) => g.to_string(),
        (None, Some(s)) => s.to_string(),
        (None, None) => a.attribute(DISPLAY_NAME_ATTRS)?.trim().to_string(),
    };
    let name = PersonName::parse(&full).ok()?;
    Some((name, surname.map(str::to_string)))
}

fn refusal(e: SamlError) -> CoreError {
    invalid("IDToken1", e.to_string())
}

impl Core {
    async fn saml_stored(&self, org: OrgId) -> Result<Option<Stored>> {
        match self.store.saml_configuration(org).await? {
            Some(s) => Ok(Some(self.open_json(&s)?)),
            None => Ok(None),
        }
    }

    /// The organisation's SAML settings, if SAML is set up.
    pub async fn saml_settings(&self, org: OrgId) -> Result<Option<SamlSettings>> {
        Ok(self.saml_stored(org).await?.map(|s| s.settings()))
    }

    /// Sets an organisation's identity provider (or replaces it: a new certificate after a
    /// key rollover keeps the relay secret unless `rotate_secret`).
    pub async fn set_saml(
        &self,
        org: OrgId,
        setup: SamlSetup,
        actor: &Actor,
    ) -> Result<SamlConfigured> {
        use base64::Engine as _;
        let o = self.store.organisation(org).await?;
        let idp = paraf_saml::parse_metadata(&setup.metadata)
            .map_err(|e| invalid("metadata", e.to_string()))?;
        let current = self.saml_stored(org).await?;
        let base = &self.public_url;
        let pick = |given: &Option<String>,
                    now: Option<&String>,
                    default: String,
                    field: &'static str|
         -> Result<String> {
            match given {
                Some(v) => http_url(field, v),
                None => Ok(now.cloned().unwrap_or(default)),
            }
        };
        let sp_entity_id = match &setup.sp_entity_id {
            Some(v) if v.trim().is_empty() => {
                return Err(invalid("sp_entity_id", "must not be empty"))
            }
            Some(v) => v.trim().to_string(),
            None => current
                .as_ref()
                .map(|c| c.sp_entity_id.clone())
                .unwrap_or_else(|| format!("{base}/saml/{}", o.slug.as_str())),
        };
        let acs_url = pick(
            &setup.acs_url,
            current.as_ref().map(|c| &c.acs_url),
            format!("{base}/api/auth/saml"),
            "acs_url",
        )?;
        let redirect_url = pick(
            &setup.redirect_url,
            current.as_ref().map(|c| &c.redirect_url),
            format!("{base}/"),
            "redirect_url",
        )?;
        let (relay_secret, shown) = match current.as_ref() {
            Some(c) if !setup.rotate_secret => (c.relay_secret.clone(), None),
            _ => {
                let bytes: [u8; 32] = paraf_domain::random_bytes(&*self.entropy)?;
                let hex = hex::encode(bytes);
                (hex.clone(), Some(crate::secret::Secret::new(hex)))
            }
        };
        let stored = Stored {
            idp_entity_id: idp.entity_id.clone(),
            idp_certificates: idp
                .certificates
                .iter()
                .map(|c| base64::engine::general_purpose::STANDARD.encode(c))
                .collect(),
            idp_sso_url: idp.sso_url.clone(),
            sp_entity_id,
            acs_url,
            redirect_url,
            relay_secret,
        };
        let sealed =
            self.seal_json(&serde_json::to_value(&stored).map_err(CoreError::internal)?)?;
        self.store
            .set_saml_configuration(org, &sealed, self.now())
            .await?;
        let event = self.audit_event(
            org,
            actor,
            AuditAction::SamlConfigured,
            None,
            json!({
                "idp": stored.idp_entity_id,
                "certificates": stored.idp_certificates.len(),
                "secret_rotated": shown.is_some(),
            }),
        );
        self.record(event).await;
        Ok(SamlConfigured {
            settings: stored.settings(),
            relay_secret: shown,
        })
    }

    /// Turns SAML off for an organisation; `NotFound` when it was not set up.
    pub async fn remove_saml(&self, org: OrgId, actor: &Actor) -> Result<()> {
        if !self.store.delete_saml_configuration(org).await? {
            return Err(CoreError::Domain(DomainError::NotFound {
                entity: Entity::Organisation,
            }));
        }
        let event = self.audit_event(
            org,
            actor,
            AuditAction::SamlConfigured,
            None,
            json!({"removed": true}),
        );
        self.record(event).await;
        Ok(())
    }

    /// Signs a person in with their organisation's identity provider: checks the relay's
    /// HMAC, the response and the assertion, refuses a replay, makes or updates the user and
    /// issues an OAuth token pair.
    pub async fn saml_login(
        &self,
        domain: &str,
        id_token1: &str,
        id_token2: &str,
        actor: &Actor,
    ) -> Result<SamlLogin> {
        use base64::Engine as _;
        use hmac::{KeyInit, Mac};
        if domain.trim().is_empty() {
            return Err(invalid("domain", "the organisation is required"));
        }
        // One answer for an unknown domain and one without SAML: the form tells nobody
        // which organisations exist.
        let not_set_up = || {
            invalid(
                "domain",
                "single sign-on (SAML) is not set up for this domain",
            )
        };
        let org = match self.organisation_named(domain).await {
            Ok(o) => o,
            Err(e) if e.is_not_found() => return Err(not_set_up()),
            Err(e) => return Err(e),
        };
        let Some(stored) = self.saml_stored(org.id).await? else {
            return Err(not_set_up());
        };
        let cleaned: String = id_token1.chars().filter(|c| !c.is_whitespace()).collect();
        if cleaned.len() > MAX_RESPONSE_BYTES / 3 * 4 + 4 {
            return Err(invalid("IDToken1", "the SAML response is too large"));
        }
        let xml = base64::engine::general_purpose::STANDARD
            .decode(cleaned.as_bytes())
            .map_err(|_| invalid("IDToken1", "not base64"))?;
        let mac = hex::decode(id_token2.trim())
            .ok()
            .filter(|m| m.len() == 32)
            .ok_or_else(|| invalid("IDToken2", "must be the hex of an HMAC-SHA256 (64 digits)"))?;
        let secret = hex::decode(&stored.relay_secret).map_err(CoreError::internal)?;
        let mut h = <hmac::Hmac<sha2::Sha256> as KeyInit>::new_from_slice(&secret)
            .map_err(CoreError::internal)?;
        h.update(&xml);
        // `verify_slice` compares in constant time.
        if h.verify_slice(&mac).is_err() {
            return Err(invalid(
                "IDToken2",
                "is not the HMAC-SHA256 of IDToken1 under the organisation's relay secret",
            ));
        }
        let idp = stored.provider()?;
        let now = self.now();
        let (audience, recipient) = (stored.sp_entity_id.clone(), stored.acs_url.clone());
        // Parsing and canonicalizing are CPU work: off the async workers.
        let assertion = tokio::task::spawn_blocking(move || {
            paraf_saml::verify_response(
                &xml,
                &paraf_saml::Expectations {
                    idp: &idp,
                    audience: &audience,
                    recipient: &recipient,
                    now,
                    skew: chrono::Duration::seconds(CLOCK_SKEW_SECONDS),
                },
            )
        })
        .await
        .map_err(CoreError::internal)?
        .map_err(refusal)?;
        let email = email_of(&assertion)?;
        let name = name_of(&assertion);
        let keep_until = assertion.expires + chrono::Duration::seconds(CLOCK_SKEW_SECONDS);
        if !self
            .store
            .claim_saml_assertion(org.id, &assertion.id, keep_until, now)
            .await?
        {
            return Err(invalid(
                "IDToken1",
                "this assertion was already used (a SAML response signs in once)",
            ));
        }
        let (user, created) = self.saml_user(org.id, &email, name, actor).await?;
        let tokens = self
            .store
            .oauth_grant_for(org.id, user.id, &self.token_lifetimes(), now)
            .await?;
        let event = self.audit_event(
            org.id,
            actor,
            AuditAction::SamlLogin,
            Some(format!("user:{}", user.id)),
            json!({
                "idp": assertion.issuer,
                "assertion": assertion.id,
                "signed": assertion.signed,
                "created": created,
            }),
        );
        self.record(event).await;
        Ok(SamlLogin {
            user,
            created,
            tokens,
            redirect_url: stored.redirect_url,
        })
    }

    /// The user of `email`, made (role signer) or renamed after what the IdP says.
    async fn saml_user(
        &self,
        org: OrgId,
        email: &Email,
        name: Option<(PersonName, Option<String>)>,
        actor: &Actor,
    ) -> Result<(User, bool)> {
        let surname = |profile: &mut UserProfile, s: &Option<String>| {
            if let Some(s) = s {
                if !profile.extra.is_object() {
                    profile.extra = json!({});
                }
                profile.extra["surname"] = json!(s);
            }
        };
        match self.store.user_by_email(org, email).await {
            Ok(existing) => {
                if existing.robot {
                    return Err(CoreError::Domain(DomainError::Unauthenticated(
                        paraf_domain::AuthFailure::UnknownCredential,
                    )));
                }
                if existing.disabled {
                    return Err(CoreError::Domain(DomainError::Unauthenticated(
                        paraf_domain::AuthFailure::Disabled,
                    )));
                }
                let Some((name, sn)) = name else {
                    return Ok((existing, false));
                };
                let mut profile = existing.profile.clone();
                surname(&mut profile, &sn);
                if name == existing.name && profile == existing.profile {
                    return Ok((existing, false));
                }
                let change = crate::people::PersonChange {
                    name,
                    email: existing.email.clone(),
                    profile,
                    groups: None,
                };
                let user = self.change_person(org, existing.id, &change, actor).await?;
                Ok((user, false))
            }
            Err(e) if e.is_not_found() => {
                let (name, sn) = match name {
                    Some(n) => n,
                    None => {
                        let local = email.as_str().split('@').next().unwrap_or("user");
                        (PersonName::parse(local)?, None)
                    }
                };
                let mut profile = UserProfile::default();
                surname(&mut profile, &sn);
                let made = NewUser {
                    org,
                    role: Role::Signer,
                    name,
                    email: email.clone(),
                    nik: None,
                    robot: false,
                    password: None,
                    profile,
                };
                let user =
                    crate::directory::create_user(&self.store, self.now(), &made, actor).await?;
                Ok((user, true))
            }
            Err(e) => Err(e.into()),
        }
    }
}
