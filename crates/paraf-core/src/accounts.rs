//! Self-service accounts (the GesDocs `POST /api/register`, the account page): each registered
//! account is an organisation of its own — its owner its administrator — so its requests,
//! tokens, webhooks and credits are its own; colleagues join it by invitation. Registration is
//! open only when the operator says so (`registration_open`); an e-mail may hold one
//! self-registered account (a login by e-mail alone then finds it). Personal API tokens are
//! the owner's: several, named, shown once, revocable.

use paraf_domain::{
    ApiToken, ApiTokenId, DomainError, Email, Entity, IssuedToken, NewApiToken, NewOrganisation,
    NewUser, OrgId, OrgName, Organisation, Password, PersonName, Plan, Role, SecretToken, Slug,
    User, UserId,
};

use crate::audit::Actor;
use crate::error::CoreError;
use crate::login::{login_org, LoginOrgError};
use crate::{directory, Core};

type Result<T> = std::result::Result<T, CoreError>;

/// What a person gives to register.
pub struct Registration<'a> {
    pub name: &'a str,
    pub email: &'a str,
    pub password: &'a str,
}

/// A new account: its organisation, its owner and a first access token.
#[derive(Debug)]
pub struct Registered {
    pub org: Organisation,
    pub user: User,
    pub token: IssuedToken,
}

/// A slug for an account: the e-mail's local part (letters and digits) and random hex.
fn account_slug(email: &Email, random: [u8; 3]) -> Result<Slug> {
    let local = email.as_str().split('@').next().unwrap_or_default();
    let mut base: String = local
        .chars()
        .map(|c| c.to_ascii_lowercase())
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    base.truncate(24);
    let base = base.trim_matches('-');
    let slug = if base.is_empty() {
        format!("account-{}", hex::encode(random))
    } else {
        format!("{base}-{}", hex::encode(random))
    };
    Ok(Slug::parse(&slug)?)
}

impl Core {
    /// Registers an account: a new organisation (plan `signup_plan`) whose administrator is
    /// the person; returns it with an access token. Refused when registration is closed or
    /// the e-mail already has an account.
    pub async fn register(&self, r: &Registration<'_>, actor: &Actor) -> Result<Registered> {
        if !self.config.registration_open {
            return Err(CoreError::Domain(DomainError::Forbidden {
                reason: "registration is closed on this server".into(),
            }));
        }
        let name = PersonName::parse(r.name)?;
        let email = Email::parse(r.email)?;
        let password = Password::parse(r.password)?;
        if !self.store.orgs_with_user_email(&email).await?.is_empty() {
            return Err(CoreError::Domain(DomainError::AlreadyExists {
                entity: Entity::User,
                key: email.as_str().to_string(),
            }));
        }
        let random: [u8; 3] = paraf_domain::random_bytes(&*self.entropy)?;
        let now = self.now();
        let new_org = NewOrganisation {
            slug: account_slug(&email, random)?,
            name: OrgName::parse(name.as_str())?,
            plan: self.config.signup_plan,
        };
        let org = directory::create_organisation(&self.store, now, &new_org, actor).await?;
        self.store
            .set_credits(org.id, Some(self.config.signup_credits))
            .await?;
        let new_user = NewUser {
            org: org.id,
            name,
            email: email.clone(),
            nik: None,
            role: Role::Admin,
            robot: false,
            password: Some(password),
            profile: Default::default(),
        };
        let user = directory::create_user(&self.store, now, &new_user, actor).await?;
        let tokens = self.password_grant(org.id, &email, r.password).await?;
        let token = tokens
            .access
            .ok_or_else(|| CoreError::internal("the password grant gave no access token"))?;
        Ok(Registered { org, user, token })
    }

    /// A login by e-mail and password (the GesDocs `POST /api/login`): the organisation is
    /// found by the one login rule ([`login_org`]); returns the user and an access token.
    /// Every refusal is the same `Unauthenticated`.
    pub async fn login_with_password(
        &self,
        email: &str,
        password: &str,
    ) -> Result<(User, IssuedToken)> {
        let refused = || {
            CoreError::Domain(DomainError::Unauthenticated(
                paraf_domain::AuthFailure::UnknownCredential,
            ))
        };
        let (org, email) = match login_org(self, email, None).await {
            Ok(found) => found,
            Err(LoginOrgError::Core(e)) => return Err(e),
            Err(LoginOrgError::Unknown | LoginOrgError::Ambiguous) => return Err(refused()),
        };
        let tokens = self.password_grant(org.id, &email, password).await?;
        let user = self.store.user_by_email(org.id, &email).await?;
        let access = tokens.access.ok_or_else(refused)?;
        Ok((user, access))
    }

    /// Issues a personal API token named `name` for `user`; its secret is returned once.
    pub async fn create_personal_token(
        &self,
        org: OrgId,
        user: UserId,
        name: &str,
        actor: &Actor,
    ) -> Result<(ApiToken, SecretToken)> {
        let name = name.trim();
        if name.is_empty() || name.chars().count() > 100 {
            return Err(CoreError::invalid("name", "must be 1 to 100 characters"));
        }
        let new = NewApiToken {
            org,
            user,
            name: name.to_string(),
            expires_at: None,
        };
        directory::create_api_token(&self.store, self.now(), &new, actor).await
    }

    /// The user's personal API tokens (revoked ones included, marked).
    pub async fn personal_tokens(&self, org: OrgId, user: UserId) -> Result<Vec<ApiToken>> {
        Ok(self.store.list_api_tokens(org, Some(user)).await?)
    }

    /// Revokes one of the user's tokens (another user's is "not found").
    pub async fn revoke_personal_token(
        &self,
        org: OrgId,
        user: UserId,
        id: ApiTokenId,
        actor: &Actor,
    ) -> Result<()> {
        let token = self.store.api_token(org, id).await?;
        if token.user != user {
            return Err(CoreError::Domain(DomainError::not_found(Entity::ApiToken)));
        }
        self.store.revoke_api_token(org, id, self.now()).await?;
        self.hot_tokens.clear();
        let event = self.audit_event(
            org,
            actor,
            crate::audit::AuditAction::ApiTokenRevoked,
            Some(format!("api_token:{id}")),
            serde_json::json!({"name": token.name}),
        );
        self.record(event).await;
        Ok(())
    }
}

/// The plan of self-registered accounts when the operator names none.
pub const DEFAULT_SIGNUP_PLAN: Plan = Plan::Lontar;

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn slugs_of_accounts() {
        let s = |e: &str| {
            account_slug(&Email::parse(e).unwrap(), [0xab, 0xcd, 0xef])
                .unwrap()
                .to_string()
        };
        assert_eq!(s("john.doe@example.com"), "john-doe-abcdef");
        assert_eq!(s("A_B@example.com"), "a-b-abcdef");
        assert_eq!(s("_@example.com"), "account-abcdef");
        assert_eq!(
            s("averyveryveryverylonglocalpart@example.com"),
            "averyveryveryverylongloc-abcdef"
        );
    }
}
