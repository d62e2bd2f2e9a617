//! First start: when the database holds no organisation, create the first one, its admin
//! (with a generated password) and an API token; [`FirstStart`] carries the secrets, which
//! `paraf serve` prints once and never logs. Racing instances on one database: the one that
//! creates the organisation wins, the others do nothing.

use paraf_domain::{
    DomainError, Email, Entropy, NewApiToken, NewOrganisation, NewUser, OrgName, Password,
    PersonName, Plan, Role, Slug,
};
use paraf_store::StoreError;

use crate::audit::{Actor, AuditAction};
use crate::{Core, OpenError};

/// What the first start created; `paraf serve` prints it once, it is never logged.
#[derive(Clone)]
pub struct FirstStart {
    /// The organisation's slug.
    pub org_slug: String,
    /// The admin's e-mail.
    pub admin_email: String,
    /// The generated admin password.
    pub admin_password: String,
    /// An API token of the admin.
    pub api_token: String,
}

impl std::fmt::Debug for FirstStart {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FirstStart")
            .field("org_slug", &self.org_slug)
            .field("admin_email", &self.admin_email)
            .finish_non_exhaustive()
    }
}

const PASSWORD_ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";

fn generate_password(entropy: &dyn Entropy) -> Result<String, DomainError> {
    let mut out = String::with_capacity(24);
    let mut buf = [0u8; 64];
    while out.len() < 24 {
        entropy.fill(&mut buf)?;
        for b in buf {
            // Rejection sampling keeps the choice uniform.
            let limit = 256 - 256 % PASSWORD_ALPHABET.len();
            if (b as usize) < limit && out.len() < 24 {
                out.push(PASSWORD_ALPHABET[b as usize % PASSWORD_ALPHABET.len()] as char);
            }
        }
    }
    Ok(out)
}

/// Creates the first organisation, admin and token if there is no organisation yet.
pub async fn bootstrap(core: &Core) -> Result<Option<FirstStart>, OpenError> {
    let (store, config, entropy, now) = (&core.store, &core.config, &*core.entropy, core.now());
    if !store.list_organisations().await?.is_empty() {
        return Ok(None);
    }
    let bad = |e: DomainError| OpenError::Config(format!("first organisation: {e}"));
    let new = NewOrganisation {
        slug: Slug::parse(&config.bootstrap_org_slug).map_err(bad)?,
        name: OrgName::parse(&config.bootstrap_org_name).map_err(bad)?,
        plan: Plan::parse(&config.bootstrap_plan).map_err(bad)?,
    };
    let org = match store.create_organisation(&new, now).await {
        Ok(o) => o,
        // Another instance on the same database won the race: it printed the secrets.
        Err(StoreError::Domain(DomainError::AlreadyExists { .. })) => return Ok(None),
        Err(e) => return Err(e.into()),
    };
    let password = generate_password(entropy).map_err(bad)?;
    let user = store
        .create_user(
            &NewUser {
                org: org.id,
                name: PersonName::parse("Administrator").map_err(bad)?,
                email: Email::parse(&config.bootstrap_admin_email).map_err(bad)?,
                nik: None,
                role: Role::Admin,
                robot: false,
                password: Some(Password::parse(&password).map_err(bad)?),
                profile: Default::default(),
            },
            now,
        )
        .await?;
    let (_, token) = store
        .create_api_token(
            &NewApiToken {
                org: org.id,
                user: user.id,
                name: "Initial admin token".to_string(),
                expires_at: None,
            },
            now,
        )
        .await?;
    core.record(core.audit_event(
        org.id,
        &Actor::system(),
        AuditAction::OrganisationBootstrapped,
        Some(format!("user:{}", user.id)),
        serde_json::json!({"slug": org.slug.as_str(), "admin": user.email.as_str()}),
    ))
    .await;
    Ok(Some(FirstStart {
        org_slug: org.slug.as_str().to_string(),
        admin_email: user.email.as_str().to_string(),
        admin_password: password,
        api_token: token.expose().to_string(),
    }))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn generated_passwords_are_long_and_from_the_alphabet() {
        let e = paraf_domain::SeededEntropy::new(7);
        let p = generate_password(&e).unwrap();
        assert_eq!(p.len(), 24);
        assert!(p.bytes().all(|b| PASSWORD_ALPHABET.contains(&b)));
        assert_ne!(p, generate_password(&e).unwrap());
    }
}
