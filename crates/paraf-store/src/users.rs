//! Users (people and robots), groups and contacts. Every read and write names the
//! organisation: a row of another organisation is `NotFound`, never visible.

use paraf_domain::{
    hash_password, verify_password, AuthFailure, Contact, ContactId, Email, Entity, Group, GroupId,
    NewContact, NewUser, Nik, OrgId, Password, PersonName, Role, Timestamp, User, UserId,
    UserProfile,
};

use crate::error::unique_as_exists;
use crate::{affected, from_ts, ts, with_pool, Result, Store, StoreError};

pub(crate) const USER_COLS: &str = "id, org_id, name, email, nik, role, robot, password_hash, \
     disabled, created_at, username, language, phone, created_by, capabilities, profile, disabled_at";

#[derive(sqlx::FromRow)]
pub(crate) struct UserRow {
    id: i64,
    org_id: i64,
    name: String,
    email: String,
    nik: Option<String>,
    role: String,
    robot: bool,
    pub(crate) password_hash: Option<String>,
    disabled: bool,
    created_at: i64,
    username: Option<String>,
    language: Option<String>,
    phone: Option<String>,
    created_by: Option<i64>,
    capabilities: Option<String>,
    profile: String,
    disabled_at: Option<i64>,
}

impl UserRow {
    pub(crate) fn into_domain(self) -> Result<User> {
        let bad = |f: &str| StoreError::corrupt(format!("user {}: {f}", self.id));
        Ok(User {
            id: UserId(self.id),
            org: OrgId(self.org_id),
            name: PersonName::parse(&self.name).map_err(|_| bad("name"))?,
            email: Email::parse(&self.email).map_err(|_| bad("email"))?,
            nik: match &self.nik {
                Some(n) => Some(Nik::parse(n).map_err(|_| bad("nik"))?),
                None => None,
            },
            role: Role::parse(&self.role).map_err(|_| bad("role"))?,
            robot: self.robot,
            has_password: self.password_hash.is_some(),
            disabled: self.disabled,
            disabled_at: self.disabled_at.map(from_ts),
            created_at: from_ts(self.created_at),
            profile: UserProfile {
                username: self.username.clone(),
                language: self.language.clone(),
                phone: self.phone.clone(),
                created_by: self.created_by.map(UserId),
                capabilities: match &self.capabilities {
                    Some(c) => Some(serde_json::from_str(c).map_err(|_| bad("capabilities"))?),
                    None => None,
                },
                extra: serde_json::from_str(&self.profile).map_err(|_| bad("profile"))?,
            },
        })
    }
}

/// The user a query found, or "not found".
fn the_user(row: Option<UserRow>) -> Result<User> {
    row.ok_or(StoreError::not_found(Entity::User))?
        .into_domain()
}

/// The profile columns as bound: username, language, phone, created_by, capabilities, profile.
type ProfileBinds = (
    Option<String>,
    Option<String>,
    Option<String>,
    Option<i64>,
    Option<String>,
    String,
);

fn profile_binds(p: &UserProfile) -> ProfileBinds {
    (
        p.username.clone(),
        p.language.clone(),
        p.phone.clone(),
        p.created_by.map(|u| u.0),
        p.capabilities
            .as_ref()
            .map(|c| serde_json::to_string(c).unwrap_or_default()),
        if p.extra.is_object() {
            p.extra.to_string()
        } else {
            "{}".to_string()
        },
    )
}

#[derive(sqlx::FromRow)]
struct GroupRow {
    id: i64,
    org_id: i64,
    name: String,
    created_at: i64,
}

impl GroupRow {
    fn into_domain(self) -> Result<Group> {
        Ok(Group {
            id: GroupId(self.id),
            org: OrgId(self.org_id),
            name: PersonName::parse(&self.name)
                .map_err(|_| StoreError::corrupt(format!("group {}: name", self.id)))?,
            created_at: from_ts(self.created_at),
        })
    }
}

#[derive(sqlx::FromRow)]
struct ContactRow {
    id: i64,
    org_id: i64,
    name: String,
    email: String,
    phone: Option<String>,
    company: Option<String>,
    created_at: i64,
}

impl ContactRow {
    fn into_domain(self) -> Result<Contact> {
        let bad = |f: &str| StoreError::corrupt(format!("contact {}: {f}", self.id));
        Ok(Contact {
            id: ContactId(self.id),
            org: OrgId(self.org_id),
            name: PersonName::parse(&self.name).map_err(|_| bad("name"))?,
            email: Email::parse(&self.email).map_err(|_| bad("email"))?,
            phone: self.phone,
            company: self.company,
            created_at: from_ts(self.created_at),
        })
    }
}

impl Store {
    /// Creates a user (hashing the password with Argon2id off the async runtime).
    /// `AlreadyExists` if the email is taken in the organisation; `NotFound` if the
    /// organisation does not exist.
    pub async fn create_user(&self, new: &NewUser, now: Timestamp) -> Result<User> {
        self.organisation(new.org).await?;
        let hash = match new.password.clone() {
            Some(pw) => Some(self.blocking(move |e| Ok(hash_password(&pw, e)?)).await?),
            None => None,
        };
        let sql = format!(
            "INSERT INTO users (org_id, name, email, nik, role, robot, password_hash, disabled, created_at, \
             username, language, phone, created_by, capabilities, profile) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15) RETURNING {USER_COLS}"
        );
        let (username, language, phone, created_by, capabilities, profile) =
            profile_binds(&new.profile);
        let row: UserRow = with_pool!(self, |p| sqlx::query_as(&sql)
            .bind(new.org.0)
            .bind(new.name.as_str())
            .bind(new.email.as_str())
            .bind(new.nik.as_ref().map(Nik::as_str))
            .bind(new.role.as_str())
            .bind(new.robot)
            .bind(hash.as_deref())
            .bind(false)
            .bind(ts(now))
            .bind(username.clone())
            .bind(language.clone())
            .bind(phone.clone())
            .bind(created_by)
            .bind(capabilities.clone())
            .bind(profile.clone())
            .fetch_one(p)
            .await)
        .map_err(|e| unique_as_exists(e, Entity::User, new.email.as_str()))?;
        row.into_domain()
    }

    pub(crate) async fn user_row(&self, org: OrgId, id: UserId) -> Result<UserRow> {
        let sql = format!("SELECT {USER_COLS} FROM users WHERE org_id = $1 AND id = $2");
        let row: Option<UserRow> = with_pool!(self, |p| sqlx::query_as(&sql)
            .bind(org.0)
            .bind(id.0)
            .fetch_optional(p)
            .await)?;
        row.ok_or(StoreError::not_found(Entity::User))
    }

    /// A user of the organisation.
    pub async fn user(&self, org: OrgId, id: UserId) -> Result<User> {
        self.user_row(org, id).await?.into_domain()
    }

    /// A user of the organisation by email.
    pub async fn user_by_email(&self, org: OrgId, email: &Email) -> Result<User> {
        let sql = format!("SELECT {USER_COLS} FROM users WHERE org_id = $1 AND email = $2");
        let row: Option<UserRow> = with_pool!(self, |p| sqlx::query_as(&sql)
            .bind(org.0)
            .bind(email.as_str())
            .fetch_optional(p)
            .await)?;
        the_user(row)
    }

    /// The organisations that have a user with this email (a login without an organisation
    /// finds its organisation this way).
    pub async fn orgs_with_user_email(&self, email: &Email) -> Result<Vec<OrgId>> {
        let ids: Vec<i64> = with_pool!(self, |p| sqlx::query_scalar(
            "SELECT DISTINCT org_id FROM users WHERE email = $1 ORDER BY org_id"
        )
        .bind(email.as_str())
        .fetch_all(p)
        .await)?;
        Ok(ids.into_iter().map(OrgId).collect())
    }

    /// Users of the organisation with this NIK (normally one).
    pub async fn users_by_nik(&self, org: OrgId, nik: &Nik) -> Result<Vec<User>> {
        let sql =
            format!("SELECT {USER_COLS} FROM users WHERE org_id = $1 AND nik = $2 ORDER BY id");
        let rows: Vec<UserRow> = with_pool!(self, |p| sqlx::query_as(&sql)
            .bind(org.0)
            .bind(nik.as_str())
            .fetch_all(p)
            .await)?;
        rows.into_iter().map(UserRow::into_domain).collect()
    }

    /// Every user of the organisation, oldest first.
    pub async fn list_users(&self, org: OrgId) -> Result<Vec<User>> {
        let sql = format!("SELECT {USER_COLS} FROM users WHERE org_id = $1 ORDER BY id");
        let rows: Vec<UserRow> = with_pool!(self, |p| sqlx::query_as(&sql)
            .bind(org.0)
            .fetch_all(p)
            .await)?;
        rows.into_iter().map(UserRow::into_domain).collect()
    }

    /// Changes a user's role.
    pub async fn set_user_role(&self, org: OrgId, id: UserId, role: Role) -> Result<User> {
        let sql = format!(
            "UPDATE users SET role = $3, capabilities = NULL WHERE org_id = $1 AND id = $2 \
             RETURNING {USER_COLS}"
        );
        let row: Option<UserRow> = with_pool!(self, |p| sqlx::query_as(&sql)
            .bind(org.0)
            .bind(id.0)
            .bind(role.as_str())
            .fetch_optional(p)
            .await)?;
        the_user(row)
    }

    /// Enables or disables a user (a disabled user's credentials are all refused),
    /// remembering when they were disabled.
    pub async fn set_user_disabled(
        &self,
        org: OrgId,
        id: UserId,
        disabled: bool,
        now: Timestamp,
    ) -> Result<User> {
        let sql = format!(
            "UPDATE users SET disabled = $3, \
             disabled_at = CASE WHEN $3 THEN COALESCE(disabled_at, $4) ELSE NULL END \
             WHERE org_id = $1 AND id = $2 RETURNING {USER_COLS}"
        );
        let row: Option<UserRow> = with_pool!(self, |p| sqlx::query_as(&sql)
            .bind(org.0)
            .bind(id.0)
            .bind(disabled)
            .bind(ts(now))
            .fetch_optional(p)
            .await)?;
        the_user(row)
    }

    /// Changes a user's name, e-mail and profile. `AlreadyExists` when the e-mail or the
    /// username is another user's.
    pub async fn update_user(
        &self,
        org: OrgId,
        id: UserId,
        name: &PersonName,
        email: &Email,
        profile: &UserProfile,
    ) -> Result<User> {
        let sql = format!(
            "UPDATE users SET name = $3, email = $4, username = $5, language = $6, phone = $7, \
             capabilities = $8, profile = $9 WHERE org_id = $1 AND id = $2 RETURNING {USER_COLS}"
        );
        let (username, language, phone, _, capabilities, extra) = profile_binds(profile);
        let row: Option<UserRow> = with_pool!(self, |p| sqlx::query_as(&sql)
            .bind(org.0)
            .bind(id.0)
            .bind(name.as_str())
            .bind(email.as_str())
            .bind(username.clone())
            .bind(language.clone())
            .bind(phone.clone())
            .bind(capabilities.clone())
            .bind(extra.clone())
            .fetch_optional(p)
            .await)
        .map_err(|e| unique_as_exists(e, Entity::User, email.as_str()))?;
        the_user(row)
    }

    /// The user of the organisation with this username.
    pub async fn user_by_username(&self, org: OrgId, username: &str) -> Result<User> {
        let sql = format!("SELECT {USER_COLS} FROM users WHERE org_id = $1 AND username = $2");
        let row: Option<UserRow> = with_pool!(self, |p| sqlx::query_as(&sql)
            .bind(org.0)
            .bind(username)
            .fetch_optional(p)
            .await)?;
        the_user(row)
    }

    /// Every (user, group) membership of the organisation.
    pub async fn memberships(&self, org: OrgId) -> Result<Vec<(UserId, GroupId)>> {
        let rows: Vec<(i64, i64)> = with_pool!(self, |p| sqlx::query_as(
            "SELECT m.user_id, m.group_id FROM group_members m \
             JOIN user_groups g ON g.id = m.group_id WHERE g.org_id = $1 ORDER BY m.group_id"
        )
        .bind(org.0)
        .fetch_all(p)
        .await)?;
        Ok(rows
            .into_iter()
            .map(|(u, g)| (UserId(u), GroupId(g)))
            .collect())
    }

    /// Makes `groups` (all of the organisation) the user's groups.
    pub async fn set_user_groups(
        &self,
        org: OrgId,
        user: UserId,
        groups: &[GroupId],
    ) -> Result<()> {
        self.user_row(org, user).await?;
        for g in groups {
            self.group(org, *g).await?;
        }
        with_pool!(self, |p| {
            let mut tx = p.begin().await?;
            sqlx::query("DELETE FROM group_members WHERE user_id = $1")
                .bind(user.0)
                .execute(&mut *tx)
                .await?;
            for g in groups {
                sqlx::query(
                    "INSERT INTO group_members (group_id, user_id) VALUES ($1, $2) \
                     ON CONFLICT DO NOTHING",
                )
                .bind(g.0)
                .bind(user.0)
                .execute(&mut *tx)
                .await?;
            }
            tx.commit().await
        })?;
        Ok(())
    }

    /// Sets (or replaces) a user's password.
    pub async fn set_user_password(
        &self,
        org: OrgId,
        id: UserId,
        password: &Password,
    ) -> Result<()> {
        self.set_password_hash("users", Entity::User, org.0, id.0, password)
            .await
    }

    /// Checks a user's password (web console login, OAuth2 password grant). Refusals:
    /// `UnknownCredential` (no such user, a robot, or no password set), `WrongPassword`,
    /// `Disabled` (checked after the password, so it reveals nothing to a guesser).
    pub async fn verify_user_password(
        &self,
        org: OrgId,
        email: &Email,
        password: &str,
    ) -> Result<User> {
        let sql = format!("SELECT {USER_COLS} FROM users WHERE org_id = $1 AND email = $2");
        let row: Option<UserRow> = with_pool!(self, |p| sqlx::query_as(&sql)
            .bind(org.0)
            .bind(email.as_str())
            .fetch_optional(p)
            .await)?;
        let Some(hash) = row.as_ref().and_then(|r| r.password_hash.clone()) else {
            // As long as a real check, so refusals do not tell which e-mails exist.
            let pw = password.to_owned();
            self.blocking(move |_| Ok(paraf_domain::verify_password_against_nothing(&pw)))
                .await?;
            return Err(StoreError::auth(AuthFailure::UnknownCredential));
        };
        let Some(row) = row else {
            return Err(StoreError::auth(AuthFailure::UnknownCredential));
        };
        if row.robot {
            return Err(StoreError::auth(AuthFailure::UnknownCredential));
        }
        let pw = password.to_owned();
        let ok = self
            .blocking(move |_| Ok(verify_password(&hash, &pw)))
            .await?;
        if !ok {
            return Err(StoreError::auth(AuthFailure::WrongPassword));
        }
        let user = row.into_domain()?;
        if user.disabled {
            return Err(StoreError::auth(AuthFailure::Disabled));
        }
        Ok(user)
    }

    /// Creates a group. `AlreadyExists` if the name is taken in the organisation.
    pub async fn create_group(
        &self,
        org: OrgId,
        name: &PersonName,
        now: Timestamp,
    ) -> Result<Group> {
        self.organisation(org).await?;
        let row: GroupRow = with_pool!(self, |p| sqlx::query_as(
            "INSERT INTO user_groups (org_id, name, created_at) VALUES ($1, $2, $3) \
             RETURNING id, org_id, name, created_at"
        )
        .bind(org.0)
        .bind(name.as_str())
        .bind(ts(now))
        .fetch_one(p)
        .await)
        .map_err(|e| unique_as_exists(e, Entity::Group, name.as_str()))?;
        row.into_domain()
    }

    /// A group of the organisation.
    pub async fn group(&self, org: OrgId, id: GroupId) -> Result<Group> {
        let row: Option<GroupRow> = with_pool!(self, |p| {
            sqlx::query_as(
            "SELECT id, org_id, name, created_at FROM user_groups WHERE org_id = $1 AND id = $2"
        )
        .bind(org.0)
        .bind(id.0)
        .fetch_optional(p)
        .await
        })?;
        row.ok_or(StoreError::not_found(Entity::Group))?
            .into_domain()
    }

    /// Every group of the organisation.
    pub async fn list_groups(&self, org: OrgId) -> Result<Vec<Group>> {
        let rows: Vec<GroupRow> = with_pool!(self, |p| {
            sqlx::query_as(
            "SELECT id, org_id, name, created_at FROM user_groups WHERE org_id = $1 ORDER BY id"
        )
        .bind(org.0)
        .fetch_all(p)
        .await
        })?;
        rows.into_iter().map(GroupRow::into_domain).collect()
    }

    /// Adds a user to a group (both of the organisation; adding twice is a no-op).
    pub async fn add_group_member(&self, org: OrgId, group: GroupId, user: UserId) -> Result<()> {
        self.group(org, group).await?;
        self.user_row(org, user).await?;
        affected!(self, |p| sqlx::query(
            "INSERT INTO group_members (group_id, user_id) VALUES ($1, $2) ON CONFLICT DO NOTHING"
        )
        .bind(group.0)
        .bind(user.0)
        .execute(p)
        .await)?;
        Ok(())
    }

    /// Removes a user from a group.
    pub async fn remove_group_member(
        &self,
        org: OrgId,
        group: GroupId,
        user: UserId,
    ) -> Result<()> {
        self.group(org, group).await?;
        affected!(self, |p| sqlx::query(
            "DELETE FROM group_members WHERE group_id = $1 AND user_id = $2"
        )
        .bind(group.0)
        .bind(user.0)
        .execute(p)
        .await)?;
        Ok(())
    }

    /// The members of a group.
    pub async fn group_members(&self, org: OrgId, group: GroupId) -> Result<Vec<User>> {
        self.group(org, group).await?;
        let sql = format!(
            "SELECT {} FROM users u JOIN group_members m ON m.user_id = u.id \
             WHERE m.group_id = $1 AND u.org_id = $2 ORDER BY u.id",
            USER_COLS
                .split(", ")
                .map(|c| format!("u.{c}"))
                .collect::<Vec<_>>()
                .join(", ")
        );
        let rows: Vec<UserRow> = with_pool!(self, |p| sqlx::query_as(&sql)
            .bind(group.0)
            .bind(org.0)
            .fetch_all(p)
            .await)?;
        rows.into_iter().map(UserRow::into_domain).collect()
    }

    /// Adds a contact to the organisation's address book.
    pub async fn create_contact(&self, new: &NewContact, now: Timestamp) -> Result<Contact> {
        self.organisation(new.org).await?;
        let row: ContactRow = with_pool!(self, |p| sqlx::query_as(
            "INSERT INTO contacts (org_id, name, email, phone, company, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6) \
             RETURNING id, org_id, name, email, phone, company, created_at"
        )
        .bind(new.org.0)
        .bind(new.name.as_str())
        .bind(new.email.as_str())
        .bind(new.phone.as_deref())
        .bind(new.company.as_deref())
        .bind(ts(now))
        .fetch_one(p)
        .await)
        .map_err(|e| unique_as_exists(e, Entity::Contact, new.email.as_str()))?;
        row.into_domain()
    }

    /// A page of the organisation's contacts (oldest first: `offset`, at most `limit`) and
    /// how many there are in all.
    pub async fn contacts_page(
        &self,
        org: OrgId,
        offset: u64,
        limit: u32,
    ) -> Result<(Vec<Contact>, u64)> {
        let rows: Vec<ContactRow> = with_pool!(self, |p| sqlx::query_as(
            "SELECT id, org_id, name, email, phone, company, created_at FROM contacts \
             WHERE org_id = $1 ORDER BY id LIMIT $2 OFFSET $3"
        )
        .bind(org.0)
        .bind(i64::from(limit))
        .bind(crate::to_i64(offset))
        .fetch_all(p)
        .await)?;
        let (total,): (i64,) = with_pool!(self, |p| sqlx::query_as(
            "SELECT COUNT(*) FROM contacts WHERE org_id = $1"
        )
        .bind(org.0)
        .fetch_one(p)
        .await)?;
        let list = rows
            .into_iter()
            .map(ContactRow::into_domain)
            .collect::<Result<_>>()?;
        Ok((list, crate::to_u64(total)))
    }

    /// A contact of the organisation.
    pub async fn contact(&self, org: OrgId, id: ContactId) -> Result<Contact> {
        let row: Option<ContactRow> = with_pool!(self, |p| sqlx::query_as(
            "SELECT id, org_id, name, email, phone, company, created_at FROM contacts \
             WHERE org_id = $1 AND id = $2"
        )
        .bind(org.0)
        .bind(id.0)
        .fetch_optional(p)
        .await)?;
        row.ok_or(StoreError::not_found(Entity::Contact))?
            .into_domain()
    }

    /// The organisation's contacts, oldest first.
    pub async fn list_contacts(&self, org: OrgId) -> Result<Vec<Contact>> {
        let rows: Vec<ContactRow> = with_pool!(self, |p| sqlx::query_as(
            "SELECT id, org_id, name, email, phone, company, created_at FROM contacts \
             WHERE org_id = $1 ORDER BY id"
        )
        .bind(org.0)
        .fetch_all(p)
        .await)?;
        rows.into_iter().map(ContactRow::into_domain).collect()
    }

    /// Deletes a contact.
    pub async fn delete_contact(&self, org: OrgId, id: ContactId) -> Result<()> {
        let n = affected!(self, |p| sqlx::query(
            "DELETE FROM contacts WHERE org_id = $1 AND id = $2"
        )
        .bind(org.0)
        .bind(id.0)
        .execute(p)
        .await)?;
        if n == 0 {
            return Err(StoreError::not_found(Entity::Contact));
        }
        Ok(())
    }
}
