//! Colleagues joining an organisation (a GesDocs account) by invitation: an administrator
//! invites an e-mail address with a role; the colleague opens the mailed link (single use,
//! 7 days), chooses their name and password, and is a user of the organisation — with its
//! credits, requests and webhooks. An address that already has an account cannot be invited
//! (a login by e-mail must name one organisation).

use base64::Engine as _;
use paraf_domain::{
    token_hash, DomainError, Email, Entity, NewMail, NewUser, OrgId, Organisation, Password,
    PersonName, Role, User,
};
use serde_json::json;

use crate::audit::{Actor, AuditAction};
use crate::error::CoreError;
use crate::Core;

type Result<T> = std::result::Result<T, CoreError>;

/// How long an invitation link works.
pub const INVITATION_DAYS: i64 = 7;

fn gone() -> CoreError {
    CoreError::Domain(DomainError::not_found(Entity::User))
}

impl Core {
    /// Invites `email` into `org` as `role`: mails a link to join (returned too, for the
    /// development outbox).
    pub async fn invite_member(
        &self,
        org: OrgId,
        email: &str,
        role: Role,
        actor: &Actor,
    ) -> Result<String> {
        let email = Email::parse(email)?;
        if !self.store.orgs_with_user_email(&email).await?.is_empty() {
            return Err(CoreError::Domain(DomainError::AlreadyExists {
                entity: Entity::User,
                key: email.as_str().to_string(),
            }));
        }
        let organisation = self.store.organisation(org).await?;
        let secret: [u8; 32] = paraf_domain::random_bytes(&*self.entropy)?;
        let token = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(secret);
        let now = self.now();
        self.store
            .create_invitation(
                org,
                &email,
                role,
                &token_hash(&token),
                now + chrono::Duration::days(INVITATION_DAYS),
                now,
            )
            .await?;
        let url = format!("{}/invitation/{token}", self.public_url);
        let name = organisation.name.as_str();
        self.store
            .queue_mail(
                &NewMail {
                    org: Some(org),
                    to: email.as_str().to_string(),
                    subject: format!("Invitation : {name} / Invitation: {name}"),
                    text: format!(
                        "Bonjour,\n\nVous êtes invité(e) à rejoindre le compte « {name} ». Choisissez votre nom et votre mot de passe ici (lien valable {INVITATION_DAYS} jours, à usage unique) :\n{url}\n\n--\n\nHello,\n\nYou are invited to join the account \"{name}\". Choose your name and password here (the link works once, for {INVITATION_DAYS} days):\n{url}\n"
                    ),
                    html: None,
                },
                now,
            )
            .await?;
        let event = self.audit_event(
            org,
            actor,
            AuditAction::MemberInvited,
            Some(format!("invitation:{}", email.as_str())),
            json!({"email": email.as_str(), "role": role.as_str()}),
        );
        self.record(event).await;
        Ok(url)
    }

    /// The organisation and address of a pending invitation link ("not found" when unknown,
    /// used or expired).
    pub async fn invitation(&self, token: &str) -> Result<(Organisation, Email)> {
        let inv = match self
            .store
            .invitation_by_token_hash(&token_hash(token))
            .await
        {
            Ok(i) => i,
            Err(e) if e.is_not_found() => return Err(gone()),
            Err(e) => return Err(e.into()),
        };
        if inv.accepted_at.is_some() || inv.expires_at <= self.now() {
            return Err(gone());
        }
        Ok((self.store.organisation(inv.org).await?, inv.email))
    }

    /// Accepts an invitation: the colleague becomes a user of the organisation with the name
    /// and password they chose.
    pub async fn accept_invitation(
        &self,
        token: &str,
        name: &str,
        password: &str,
        actor: &Actor,
    ) -> Result<User> {
        let name = PersonName::parse(name)?;
        let password = Password::parse(password)?;
        let inv = match self
            .store
            .invitation_by_token_hash(&token_hash(token))
            .await
        {
            Ok(i) if i.accepted_at.is_none() && i.expires_at > self.now() => i,
            Ok(_) => return Err(gone()),
            Err(e) if e.is_not_found() => return Err(gone()),
            Err(e) => return Err(e.into()),
        };
        if !self
            .store
            .orgs_with_user_email(&inv.email)
            .await?
            .is_empty()
        {
            return Err(CoreError::Domain(DomainError::AlreadyExists {
                entity: Entity::User,
                key: inv.email.as_str().to_string(),
            }));
        }
        if !self.store.accept_invitation(inv.id, self.now()).await? {
            return Err(gone());
        }
        let new = NewUser {
            org: inv.org,
            role: inv.role,
            name,
            email: inv.email,
            nik: None,
            robot: false,
            password: Some(password),
            profile: Default::default(),
        };
        crate::directory::create_user(&self.store, self.now(), &new, actor).await
    }

    /// The organisation's users and pending invitations (e-mail, role, whether accepted).
    pub async fn members(&self, org: OrgId) -> Result<(Vec<User>, Vec<paraf_store::Invitation>)> {
        Ok((
            self.store.list_users(org).await?,
            self.store.invitations(org, 100).await?,
        ))
    }
}
