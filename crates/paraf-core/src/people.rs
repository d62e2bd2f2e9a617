//! People of an organisation as the API faces manage them (Signing Today's `/users`): users
//! with a profile, groups, roles and capabilities, who may see and change which envelope, and
//! the password flows — a welcome link for a user made without a password, a lost-password
//! link, a signed-in user's own change, a password token, an administrator's reset. Links and
//! tokens are random UUIDs kept as their SHA-256, single use and expiring; asking for a
//! lost-password link never tells whether the account exists.

use paraf_domain::{
    token_hash, Capability, DomainError, Email, Entity, Envelope, Group, GroupId, NewMail, NewUser,
    OrgId, Password, PersonName, Recipient, Role, User, UserId, UserProfile,
};
use serde_json::json;

use crate::audit::{Actor, AuditAction};
use crate::error::CoreError;
use crate::Core;

type Result<T> = std::result::Result<T, CoreError>;

/// What a password token is for, and how long it works.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PasswordPurpose {
    /// A user made without a password chooses one (7 days).
    Welcome,
    /// A lost password, or an administrator's reset (1 hour).
    Reset,
    /// A signed-in user's token for `POST /auth/changePassword` (10 minutes).
    Change,
}

impl PasswordPurpose {
    pub fn as_str(self) -> &'static str {
        match self {
            PasswordPurpose::Welcome => "welcome",
            PasswordPurpose::Reset => "reset",
            PasswordPurpose::Change => "change",
        }
    }

    /// How long a token works.
    pub fn lifetime(self) -> chrono::Duration {
        match self {
            PasswordPurpose::Welcome => chrono::Duration::days(7),
            PasswordPurpose::Reset => chrono::Duration::hours(1),
            PasswordPurpose::Change => chrono::Duration::minutes(10),
        }
    }
}

/// Most lost-password mails a user is sent in an hour (more asks are answered the same way
/// but send nothing).
pub const RESET_MAILS_PER_HOUR: u64 = 3;

/// A user to make.
#[derive(Debug, Clone)]
pub struct NewPerson {
    pub name: PersonName,
    pub email: Email,
    pub role: Role,
    /// Without one, the user is mailed a link to choose it.
    pub password: Option<Password>,
    pub profile: UserProfile,
    pub groups: Vec<GroupId>,
    /// A service account (no password, no welcome mail: it uses API tokens).
    pub robot: bool,
}

/// A user's new name, e-mail, profile and (when given) groups.
#[derive(Debug, Clone)]
pub struct PersonChange {
    pub name: PersonName,
    pub email: Email,
    pub profile: UserProfile,
    pub groups: Option<Vec<GroupId>>,
}

/// The organisation's people: users, groups and who is in which group.
#[derive(Debug, Clone)]
pub struct People {
    pub users: Vec<User>,
    pub groups: Vec<Group>,
    pub memberships: Vec<(UserId, GroupId)>,
}

impl People {
    /// The groups of `user`.
    pub fn groups_of(&self, user: UserId) -> Vec<&Group> {
        self.memberships
            .iter()
            .filter(|(u, _)| *u == user)
            .filter_map(|(_, g)| self.groups.iter().find(|x| x.id == *g))
            .collect()
    }
}

/// Whether `user` takes part in `e`: made it, or is one of its recipients.
pub fn takes_part(user: &User, e: &Envelope, recipients: &[Recipient]) -> bool {
    e.header.created_by == Some(user.id)
        || recipients
            .iter()
            .any(|r| r.email.as_str().eq_ignore_ascii_case(user.email.as_str()))
}

/// Whether `user` may see `e` (and what is in it).
pub fn may_see(user: &User, e: &Envelope, recipients: &[Recipient]) -> bool {
    user.can(Capability::DstListAll) || takes_part(user, e, recipients)
}

/// Whether `user` may change `e` (its contents, its life: publish, recall, copy): one who
/// sends envelopes and made it, or has `dst.create.modify_all`.
pub fn may_change(user: &User, e: &Envelope) -> bool {
    user.can(Capability::DstCreateModifyAll)
        || (user.role.sends() && e.header.created_by == Some(user.id))
}

/// Whether `user` may delete `e`: one who sends envelopes and made it, or has
/// `dst.delete.all`.
pub fn may_delete(user: &User, e: &Envelope) -> bool {
    user.can(Capability::DstDeleteAll)
        || (user.role.sends() && e.header.created_by == Some(user.id))
}

fn forbidden(reason: impl Into<String>) -> CoreError {
    CoreError::Domain(DomainError::Forbidden {
        reason: reason.into(),
    })
}

impl Core {
    /// Refuses unless `user` has `c`.
    pub fn require(&self, user: &User, c: Capability) -> Result<()> {
        if user.can(c) {
            Ok(())
        } else {
            Err(forbidden(format!(
                "the {} capability is needed (the user's role is {})",
                c.as_str(),
                user.role
            )))
        }
    }

    /// The organisation's users, groups and memberships.
    pub async fn people(&self, org: OrgId) -> Result<People> {
        Ok(People {
            users: self.store.list_users(org).await?,
            groups: self.store.list_groups(org).await?,
            memberships: self.store.memberships(org).await?,
        })
    }

    /// Forgets cached principals and users (after a change of role, capabilities or state).
    fn forget_people(&self) {
        self.hot_tokens.clear();
        self.hot_users.clear();
    }

    /// Makes a user; a person without a password is mailed a link to choose it.
    pub async fn create_person(&self, org: OrgId, new: NewPerson, actor: &Actor) -> Result<User> {
        if let Some(name) = &new.profile.username {
            match self.store.user_by_username(org, name).await {
                Ok(_) => {
                    return Err(CoreError::Domain(DomainError::AlreadyExists {
                        entity: Entity::User,
                        key: name.clone(),
                    }))
                }
                Err(e) if e.is_not_found() => {}
                Err(e) => return Err(e.into()),
            }
        }
        for g in &new.groups {
            self.store.group(org, *g).await?;
        }
        let welcome = new.password.is_none() && !new.robot;
        let made = NewUser {
            org,
            role: new.role,
            name: new.name,
            email: new.email,
            nik: None,
            robot: new.robot,
            password: if new.robot { None } else { new.password },
            profile: new.profile,
        };
        let user = crate::directory::create_user(&self.store, self.now(), &made, actor).await?;
        if !new.groups.is_empty() {
            self.store
                .set_user_groups(org, user.id, &new.groups)
                .await?;
        }
        if welcome {
            self.mail_password_link(&user, PasswordPurpose::Welcome)
                .await?;
        }
        Ok(user)
    }

    /// Changes a user's name, e-mail, profile and (when given) groups.
    pub async fn change_person(
        &self,
        org: OrgId,
        id: UserId,
        change: &PersonChange,
        actor: &Actor,
    ) -> Result<User> {
        let PersonChange {
            name,
            email,
            profile,
            groups,
        } = change;
        let groups = groups.as_deref();
        if let Some(username) = &profile.username {
            match self.store.user_by_username(org, username).await {
                Ok(other) if other.id != id => {
                    return Err(CoreError::Domain(DomainError::AlreadyExists {
                        entity: Entity::User,
                        key: username.clone(),
                    }))
                }
                Ok(_) => {}
                Err(e) if e.is_not_found() => {}
                Err(e) => return Err(e.into()),
            }
        }
        let user = self
            .store
            .update_user(org, id, name, email, profile)
            .await?;
        if let Some(groups) = groups {
            self.store.set_user_groups(org, id, groups).await?;
        }
        self.forget_people();
        let event = self.audit_event(
            org,
            actor,
            AuditAction::UserChanged,
            Some(format!("user:{id}")),
            json!({"email": user.email.as_str(), "groups": groups.map(|g| g.iter().map(|g| g.0).collect::<Vec<_>>())}),
        );
        self.record(event).await;
        Ok(user)
    }

    /// Gives a user another role (their capabilities become the role's).
    pub async fn change_role(
        &self,
        org: OrgId,
        id: UserId,
        role: Role,
        actor: &Actor,
    ) -> Result<User> {
        let user = self.store.set_user_role(org, id, role).await?;
        self.forget_people();
        let event = self.audit_event(
            org,
            actor,
            AuditAction::UserRoleChanged,
            Some(format!("user:{id}")),
            json!({"role": role.as_str()}),
        );
        self.record(event).await;
        Ok(user)
    }

    /// Enables or disables a user (a disabled user's tokens and password stop working).
    pub async fn enable_person(
        &self,
        org: OrgId,
        id: UserId,
        enabled: bool,
        actor: &Actor,
    ) -> Result<User> {
        let user = self
            .store
            .set_user_disabled(org, id, !enabled, self.now())
            .await?;
        self.forget_people();
        let action = if enabled {
            AuditAction::UserEnabled
        } else {
            AuditAction::UserDisabled
        };
        let event = self.audit_event(org, actor, action, Some(format!("user:{id}")), json!({}));
        self.record(event).await;
        Ok(user)
    }

    /// Makes the groups named that do not exist yet; gives every group named.
    pub async fn create_groups(
        &self,
        org: OrgId,
        names: &[PersonName],
        actor: &Actor,
    ) -> Result<Vec<Group>> {
        let mut out = Vec::new();
        for name in names {
            let existing = self.store.list_groups(org).await?;
            if let Some(g) = existing.into_iter().find(|g| g.name == *name) {
                out.push(g);
                continue;
            }
            let g = self.store.create_group(org, name, self.now()).await?;
            let event = self.audit_event(
                org,
                actor,
                AuditAction::GroupCreated,
                Some(format!("group:{}", g.id.0)),
                json!({"name": name.as_str()}),
            );
            self.record(event).await;
            out.push(g);
        }
        Ok(out)
    }

    /// The organisation of this slug (public: its login page names it).
    pub async fn organisation_named(&self, slug: &str) -> Result<paraf_domain::Organisation> {
        Ok(self.store.organisation_by_slug(slug.trim()).await?)
    }

    /// The identities registered with the user's e-mail (their own certificates).
    pub async fn identities_of_user(&self, user: &User) -> Result<Vec<paraf_domain::Identity>> {
        Ok(self
            .store
            .list_identities(user.org)
            .await?
            .into_iter()
            .filter(|i| i.email.as_ref() == Some(&user.email))
            .collect())
    }

    // ------------------------------------------------------------ passwords

    /// A new password token for `user` (its SHA-256 stored), the earlier ones of the same
    /// purpose cancelled.
    async fn password_token_for(&self, user: &User, purpose: PasswordPurpose) -> Result<String> {
        let token = self.new_uuid()?;
        let now = self.now();
        self.store
            .create_password_token(
                user.org,
                user.id,
                purpose.as_str(),
                &token_hash(&token),
                now + purpose.lifetime(),
                now,
            )
            .await?;
        Ok(token)
    }

    /// Mails `user` a link to choose a password.
    async fn mail_password_link(&self, user: &User, purpose: PasswordPurpose) -> Result<()> {
        let token = self.password_token_for(user, purpose).await?;
        let org = self.store.organisation(user.org).await?;
        let url = format!("{}/password/{token}", self.public_url);
        let lang = user.profile.language.as_deref().unwrap_or("en");
        let (subject, text) = password_mail(
            lang,
            purpose,
            org.name.as_str(),
            user.login_name(),
            org.slug.as_str(),
            &url,
        );
        self.store
            .queue_mail(
                &NewMail {
                    org: Some(user.org),
                    to: user.email.as_str().to_string(),
                    subject,
                    text,
                    html: None,
                },
                self.now(),
            )
            .await?;
        self.jobs_ready.notify_one();
        let event = self.audit_event(
            user.org,
            &Actor::system(),
            AuditAction::PasswordResetMailed,
            Some(format!("user:{}", user.id)),
            json!({"purpose": purpose.as_str()}),
        );
        self.record(event).await;
        Ok(())
    }

    /// A lost password: mails the user named `username` in the organisation `domain` a link
    /// (at most [`RESET_MAILS_PER_HOUR`]). Answers the same whether or not they exist.
    pub async fn password_lost(&self, domain: &str, username: &str) -> Result<()> {
        let Ok(org) = self.store.organisation_by_slug(domain.trim()).await else {
            return Ok(());
        };
        let user = match crate::login::named_user(self, org.id, username).await {
            Ok(u) => u,
            Err(crate::login::NamedUser::Core(e)) => return Err(e),
            Err(_) => return Ok(()),
        };
        if user.robot || user.disabled {
            return Ok(());
        }
        let since = self.now() - chrono::Duration::hours(1);
        if self
            .store
            .password_tokens_since(org.id, user.id, PasswordPurpose::Reset.as_str(), since)
            .await?
            >= RESET_MAILS_PER_HOUR
        {
            return Ok(());
        }
        self.mail_password_link(&user, PasswordPurpose::Reset).await
    }

    /// An administrator's reset (`user.pwd.clear`): mails the user a link to choose a new
    /// password; the current one keeps working until then.
    pub async fn reset_password(&self, org: OrgId, id: UserId, actor: &Actor) -> Result<()> {
        let user = self.store.user(org, id).await?;
        if user.robot {
            return Err(CoreError::invalid(
                "username",
                "a robot has no password (it signs in with its lifetime token)",
            ));
        }
        let event = self.audit_event(
            org,
            actor,
            AuditAction::PasswordResetMailed,
            Some(format!("user:{id}")),
            json!({"by": "administrator"}),
        );
        self.record(event).await;
        self.mail_password_link(&user, PasswordPurpose::Reset).await
    }

    /// A signed-in user changes their own password, knowing the current one.
    pub async fn change_own_password(
        &self,
        org: OrgId,
        id: UserId,
        current: &str,
        new: &str,
        actor: &Actor,
    ) -> Result<()> {
        let user = self.store.user(org, id).await?;
        let new = Password::parse(new).map_err(|e| rename(e, "newPassword"))?;
        match self
            .store
            .verify_user_password(org, &user.email, current)
            .await
        {
            Ok(_) => {}
            Err(e) if e.auth_failure().is_some() => {
                return Err(CoreError::Domain(DomainError::Invalid {
                    field: "currentPassword",
                    reason: "the current password is wrong".into(),
                }))
            }
            Err(e) => return Err(e.into()),
        }
        self.set_password_of(&user, &new, actor, "own").await
    }

    /// A token for `POST /auth/changePassword` (Signing Today's `GET /auth/passwordToken`).
    pub async fn issue_password_token(
        &self,
        org: OrgId,
        id: UserId,
        actor: &Actor,
    ) -> Result<String> {
        let user = self.store.user(org, id).await?;
        let token = self
            .password_token_for(&user, PasswordPurpose::Change)
            .await?;
        let event = self.audit_event(
            org,
            actor,
            AuditAction::PasswordTokenIssued,
            Some(format!("user:{id}")),
            json!({}),
        );
        self.record(event).await;
        Ok(token)
    }

    /// Whose password a live token would set (the password page shows it).
    pub async fn password_token_user(&self, token: &str) -> Result<User> {
        let (org, user, _) = self
            .store
            .password_token(&token_hash(token.trim()), self.now())
            .await?;
        Ok(self.store.user(org, user).await?)
    }

    /// Sets a password with a token (mailed link or password token): once.
    pub async fn set_password_with_token(
        &self,
        token: &str,
        new: &str,
        actor: &Actor,
    ) -> Result<User> {
        let new = Password::parse(new)?;
        let (org, id, purpose) = self
            .store
            .take_password_token(&token_hash(token.trim()), self.now())
            .await?;
        let user = self.store.user(org, id).await?;
        self.set_password_of(&user, &new, actor, &purpose).await?;
        Ok(user)
    }

    /// An administrator sets a user's password (Signing Today's `service/changePassword`).
    pub async fn set_password(
        &self,
        org: OrgId,
        id: UserId,
        new: &str,
        actor: &Actor,
    ) -> Result<()> {
        let user = self.store.user(org, id).await?;
        let new = Password::parse(new)?;
        self.set_password_of(&user, &new, actor, "administrator")
            .await
    }

    async fn set_password_of(
        &self,
        user: &User,
        new: &Password,
        actor: &Actor,
        how: &str,
    ) -> Result<()> {
        if user.robot {
            return Err(CoreError::invalid(
                "username",
                "a robot has no password (it signs in with its lifetime token)",
            ));
        }
        self.store.set_user_password(user.org, user.id, new).await?;
        let event = self.audit_event(
            user.org,
            actor,
            AuditAction::PasswordChanged,
            Some(format!("user:{}", user.id)),
            json!({"how": how}),
        );
        self.record(event).await;
        Ok(())
    }
}

/// A domain error about `password` named after the request's field.
fn rename(e: DomainError, field: &'static str) -> CoreError {
    match e {
        DomainError::Invalid { reason, .. } => {
            CoreError::Domain(DomainError::Invalid { field, reason })
        }
        other => CoreError::Domain(other),
    }
}

/// The password mail, in the user's language.
fn password_mail(
    lang: &str,
    purpose: PasswordPurpose,
    org: &str,
    username: &str,
    domain: &str,
    url: &str,
) -> (String, String) {
    let hours = match purpose {
        PasswordPurpose::Welcome => "7 days",
        _ => "1 hour",
    };
    match (lang, purpose) {
        ("it", PasswordPurpose::Welcome) => (
            format!("Benvenuto in {org}: scegli la tua password"),
            format!("Buongiorno,\n\nè stato creato un account per te in {org} (utente {username}, dominio {domain}).\nScegli la tua password qui (il link funziona una volta):\n{url}\n"),
        ),
        ("it", _) => (
            format!("{org}: reimposta la password"),
            format!("Buongiorno,\n\nè stata chiesta una nuova password per l'utente {username} (dominio {domain}).\nScegline una qui (il link funziona una volta, per 1 ora):\n{url}\n\nSe non l'hai chiesta tu, ignora questo messaggio.\n"),
        ),
        ("fr", PasswordPurpose::Welcome) => (
            format!("Bienvenue dans {org} : choisissez votre mot de passe"),
            format!("Bonjour,\n\nun compte a été créé pour vous dans {org} (utilisateur {username}, domaine {domain}).\nChoisissez votre mot de passe ici (lien à usage unique) :\n{url}\n"),
        ),
        ("fr", _) => (
            format!("{org} : réinitialisation du mot de passe"),
            format!("Bonjour,\n\nun nouveau mot de passe a été demandé pour l'utilisateur {username} (domaine {domain}).\nChoisissez-le ici (lien à usage unique, valable 1 heure) :\n{url}\n\nSi vous n'êtes pas à l'origine de cette demande, ignorez ce message.\n"),
        ),
        ("es", PasswordPurpose::Welcome) => (
            format!("Bienvenido a {org}: elija su contraseña"),
            format!("Hola,\n\nse ha creado una cuenta para usted en {org} (usuario {username}, dominio {domain}).\nElija su contraseña aquí (el enlace funciona una vez):\n{url}\n"),
        ),
        ("es", _) => (
            format!("{org}: restablecer la contraseña"),
            format!("Hola,\n\nse ha pedido una nueva contraseña para el usuario {username} (dominio {domain}).\nElíjala aquí (el enlace funciona una vez, durante 1 hora):\n{url}\n\nSi no la ha pedido usted, ignore este mensaje.\n"),
        ),
        ("id", PasswordPurpose::Welcome) => (
            format!("Selamat datang di {org}: pilih kata sandi Anda"),
            format!("Halo,\n\nakun telah dibuat untuk Anda di {org} (pengguna {username}, domain {domain}).\nPilih kata sandi Anda di sini (tautan sekali pakai):\n{url}\n"),
        ),
        ("id", _) => (
            format!("{org}: atur ulang kata sandi"),
            format!("Halo,\n\nkata sandi baru diminta untuk pengguna {username} (domain {domain}).\nPilih di sini (tautan sekali pakai, berlaku 1 jam):\n{url}\n\nJika Anda tidak memintanya, abaikan pesan ini.\n"),
        ),
        (_, PasswordPurpose::Welcome) => (
            format!("Welcome to {org}: choose your password"),
            format!("Hello,\n\nan account was made for you in {org} (username {username}, domain {domain}).\nChoose your password here (the link works once, for {hours}):\n{url}\n"),
        ),
        (_, _) => (
            format!("{org}: reset your password"),
            format!("Hello,\n\na new password was asked for the user {username} (domain {domain}).\nChoose it here (the link works once, for {hours}):\n{url}\n\nIf you did not ask, ignore this message.\n"),
        ),
    }
}
