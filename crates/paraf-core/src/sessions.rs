//! Console sessions: a person signs in with e-mail and password (the organisation from
//! [`crate::login`]), only administrators get a session; the session token is what the
//! console's cookie carries. Every attempt is audited.

use paraf_domain::{CredentialKind, Email, IssuedToken, Organisation, Role, User};

use crate::audit::{Actor, AuditAction};
use crate::error::CoreError;
use crate::Core;

/// How a console sign-in ended.
// One per sign-in: the size of the user does not matter.
#[allow(clippy::large_enum_variant)]
pub enum SignIn {
    /// A session for an administrator.
    Started { user: User, session: IssuedToken },
    /// Wrong e-mail or password (also for an unknown user).
    Refused,
    /// The password is right but the user is not an administrator.
    NotAdmin,
}

impl Core {
    /// Checks `password` for `email` in `org`; an administrator gets a console session.
    /// `client` is the address and user agent to audit with (its id is replaced by the user).
    pub async fn console_sign_in(
        &self,
        org: &Organisation,
        email: &Email,
        password: &str,
        client: &Actor,
    ) -> Result<SignIn, CoreError> {
        let user = match self
            .store
            .verify_user_password(org.id, email, password)
            .await
        {
            Ok(u) => u,
            Err(e) if e.auth_failure().is_some() => {
                let actor = Actor {
                    id: "anonymous".into(),
                    ..client.clone()
                };
                let details = serde_json::json!({"email": email.as_str()});
                let event =
                    self.audit_event(org.id, &actor, AuditAction::SessionRefused, None, details);
                self.record(event).await;
                return Ok(SignIn::Refused);
            }
            Err(e) => return Err(e.into()),
        };
        let who = format!("user:{}", user.id);
        let actor = Actor {
            id: who.clone(),
            ..client.clone()
        };
        if user.role != Role::Admin {
            let details =
                serde_json::json!({"email": user.email.as_str(), "reason": "not an admin"});
            let event = self.audit_event(
                org.id,
                &actor,
                AuditAction::SessionRefused,
                Some(who),
                details,
            );
            self.record(event).await;
            return Ok(SignIn::NotAdmin);
        }
        let session = match self
            .store
            .create_console_session(org.id, user.id, &self.token_lifetimes(), self.now())
            .await
        {
            Ok(s) => s,
            Err(e) if e.auth_failure().is_some() => return Ok(SignIn::Refused),
            Err(e) => return Err(e.into()),
        };
        let details = serde_json::json!({"email": user.email.as_str()});
        let event = self.audit_event(
            org.id,
            &actor,
            AuditAction::SessionStarted,
            Some(who),
            details,
        );
        self.record(event).await;
        Ok(SignIn::Started { user, session })
    }

    /// The organisation and user of a console session token; `Unauthenticated` when it is
    /// unknown, expired or not a console session, `Forbidden` for a non-administrator.
    pub async fn console_session(&self, secret: &str) -> Result<(Organisation, User), CoreError> {
        let principal = self
            .store
            .authenticate_console_session(secret, self.now())
            .await?;
        let (CredentialKind::ConsoleSession, Some(user_id)) = (principal.kind, principal.user)
        else {
            return Err(CoreError::Domain(
                paraf_domain::DomainError::Unauthenticated(
                    paraf_domain::AuthFailure::WrongTokenKind,
                ),
            ));
        };
        if principal.role != Some(Role::Admin) {
            return Err(CoreError::Domain(paraf_domain::DomainError::Forbidden {
                reason: "the console is for organisation administrators".into(),
            }));
        }
        let user = self.store.user(principal.org, user_id).await?;
        let org = self.store.organisation(principal.org).await?;
        Ok((org, user))
    }

    /// Ends the session (its token family is revoked) and audits it.
    pub async fn console_sign_out(
        &self,
        org: &Organisation,
        secret: &str,
        actor: &Actor,
    ) -> Result<(), CoreError> {
        self.store
            .revoke_token_family_of(secret, self.now())
            .await?;
        let event = self.audit_event(
            org.id,
            actor,
            AuditAction::SessionEnded,
            Some(actor.id.clone()),
            serde_json::json!({}),
        );
        self.record(event).await;
        Ok(())
    }
}
