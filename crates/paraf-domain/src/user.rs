//! People and robots of an organisation, their groups and the organisation's contacts.
//! Value types parse their input: [`Email::parse`], [`Nik::parse`], [`PersonName::parse`].

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::clock::Timestamp;
use crate::error::DomainError;
use crate::ids::{ContactId, GroupId, OrgId, UserId};

/// An e-mail address, normalised to lower case. Checks the shape (`local@domain.tld`, no
/// spaces, at most 254 characters), not deliverability.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Email(String);

impl Email {
    /// Parses an address.
    pub fn parse(s: &str) -> Result<Email, DomainError> {
        let s = s.trim();
        let err = |r: &str| Err(DomainError::invalid("email", r));
        if s.is_empty() || s.len() > 254 {
            return err("must be 1 to 254 characters");
        }
        if s.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return err("must not contain spaces");
        }
        let Some((local, domain)) = s.rsplit_once('@') else {
            return err("must contain '@'");
        };
        if local.is_empty() || local.len() > 64 || local.contains('@') {
            return err("the part before '@' must be 1 to 64 characters without '@'");
        }
        let labels: Vec<&str> = domain.split('.').collect();
        if labels.len() < 2
            || labels.iter().any(|l| {
                l.is_empty()
                    || l.starts_with('-')
                    || l.ends_with('-')
                    || !l.chars().all(|c| c.is_alphanumeric() || c == '-')
            })
        {
            return err("the domain must look like example.com");
        }
        Ok(Email(s.to_lowercase()))
    }
}

parsed_string!(Email);

impl FromStr for Email {
    type Err = DomainError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Email::parse(s)
    }
}

/// An Indonesian national identity number (Nomor Induk Kependudukan): exactly 16 ASCII
/// digits (BSrE's `nik`). Surrounding whitespace is trimmed; nothing else is accepted.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Nik(String);

impl Nik {
    /// Parses a NIK.
    pub fn parse(s: &str) -> Result<Nik, DomainError> {
        let s = s.trim();
        if s.len() != 16 || !s.bytes().all(|b| b.is_ascii_digit()) {
            return Err(DomainError::invalid(
                "nik",
                format!(
                    "a NIK is exactly 16 digits (got {} character{})",
                    s.chars().count(),
                    if s.chars().count() == 1 { "" } else { "s" }
                ),
            ));
        }
        Ok(Nik(s.to_owned()))
    }
}

parsed_string!(Nik);

/// A person's (or robot's, group's, contact's) display name: 1–200 characters after
/// trimming, no control characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct PersonName(String);

impl PersonName {
    /// Parses a name.
    pub fn parse(s: &str) -> Result<PersonName, DomainError> {
        let s = s.trim();
        if s.is_empty() || s.chars().count() > 200 {
            return Err(DomainError::invalid("name", "must be 1 to 200 characters"));
        }
        if s.chars().any(char::is_control) {
            return Err(DomainError::invalid(
                "name",
                "must not contain control characters",
            ));
        }
        Ok(PersonName(s.to_owned()))
    }
}

parsed_string!(PersonName);

/// What a user may do in the organisation (Signing Today's roles).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Manages the organisation: users, credentials, webhooks, audit.
    Admin,
    /// Prepares and sends envelopes (DSTs, templates).
    Instructor,
    /// Signs what is sent to them.
    Signer,
}

impl Role {
    /// Lower-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Instructor => "instructor",
            Role::Signer => "signer",
        }
    }

    /// Parses `admin`, `instructor` or `signer` (case-insensitive).
    pub fn parse(s: &str) -> Result<Role, DomainError> {
        match s.trim().to_ascii_lowercase().as_str() {
            "admin" => Ok(Role::Admin),
            "instructor" => Ok(Role::Instructor),
            "signer" => Ok(Role::Signer),
            _ => Err(DomainError::invalid(
                "role",
                format!("unknown role {s:?} (expected admin, instructor or signer)"),
            )),
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = DomainError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Role::parse(s)
    }
}

/// What a user may do beyond their own envelopes (Signing Today's capabilities, exactly its
/// names). A user's are their role's unless set for them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Capability {
    /// Reset another user's password.
    #[serde(rename = "user.pwd.clear")]
    UserPwdClear,
    /// Create users.
    #[serde(rename = "user.create.all")]
    UserCreateAll,
    /// Read every user of the organisation.
    #[serde(rename = "user.access.all")]
    UserAccessAll,
    /// Change, enable and disable other users.
    #[serde(rename = "user.delete.all")]
    UserDeleteAll,
    /// See every envelope of the organisation.
    #[serde(rename = "dst.list.all")]
    DstListAll,
    /// Delete any envelope.
    #[serde(rename = "dst.delete.all")]
    DstDeleteAll,
    /// Change any envelope (not only those one made).
    #[serde(rename = "dst.create.modify_all")]
    DstCreateModifyAll,
    /// See every user's devices.
    #[serde(rename = "devices.list.all")]
    DevicesListAll,
    /// Remove any user's device.
    #[serde(rename = "devices.delete.all")]
    DevicesDeleteAll,
    /// Change the organisation's settings (robots, configuration).
    #[serde(rename = "organizations.access.write.user")]
    OrganizationsAccessWriteUser,
}

impl Capability {
    /// Every capability, in the seed's order.
    pub const ALL: &'static [Capability] = &[
        Capability::UserPwdClear,
        Capability::UserCreateAll,
        Capability::UserAccessAll,
        Capability::UserDeleteAll,
        Capability::DstListAll,
        Capability::DstDeleteAll,
        Capability::DstCreateModifyAll,
        Capability::DevicesListAll,
        Capability::DevicesDeleteAll,
        Capability::OrganizationsAccessWriteUser,
    ];

    /// The seed's name (`dst.list.all`).
    pub fn as_str(self) -> &'static str {
        match self {
            Capability::UserPwdClear => "user.pwd.clear",
            Capability::UserCreateAll => "user.create.all",
            Capability::UserAccessAll => "user.access.all",
            Capability::UserDeleteAll => "user.delete.all",
            Capability::DstListAll => "dst.list.all",
            Capability::DstDeleteAll => "dst.delete.all",
            Capability::DstCreateModifyAll => "dst.create.modify_all",
            Capability::DevicesListAll => "devices.list.all",
            Capability::DevicesDeleteAll => "devices.delete.all",
            Capability::OrganizationsAccessWriteUser => "organizations.access.write.user",
        }
    }

    /// Parses a seed name.
    pub fn parse(s: &str) -> Result<Capability, DomainError> {
        Capability::ALL
            .iter()
            .copied()
            .find(|c| c.as_str() == s.trim())
            .ok_or_else(|| {
                DomainError::invalid("capabilities", format!("unknown capability {s:?}"))
            })
    }
}

impl Role {
    /// The capabilities a role gives: an administrator has them all; instructors and signers
    /// none (they see and change only the envelopes they made or take part in).
    pub fn capabilities(self) -> &'static [Capability] {
        match self {
            Role::Admin => Capability::ALL,
            Role::Instructor | Role::Signer => &[],
        }
    }

    /// Whether the role prepares and sends envelopes (admins and instructors).
    pub fn sends(self) -> bool {
        matches!(self, Role::Admin | Role::Instructor)
    }
}

/// The languages a user may choose (Signing Today's four, and Indonesian).
pub const USER_LANGUAGES: &[&str] = &["it", "en", "es", "fr", "id"];

/// What a user is besides their name, e-mail and role: the profile the API faces show.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct UserProfile {
    /// Their login name, unique in the organisation (Signing Today's `username`); without
    /// one, the local part of their e-mail names them.
    pub username: Option<String>,
    /// One of [`USER_LANGUAGES`].
    pub language: Option<String>,
    pub phone: Option<String>,
    /// Who made the user.
    pub created_by: Option<UserId>,
    /// Capabilities set for this user; `None` = their role's.
    pub capabilities: Option<Vec<Capability>>,
    /// A face's own data about the user (a JSON object: Signing Today's `surname`,
    /// `extraData`, `templateData`).
    pub extra: serde_json::Value,
}

/// A person or a robot (service account, Signing Today's robots) of one organisation.
/// The password hash never leaves the store.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct User {
    pub id: UserId,
    pub org: OrgId,
    pub name: PersonName,
    /// Unique within the organisation.
    pub email: Email,
    pub nik: Option<Nik>,
    pub role: Role,
    /// A robot authenticates with API tokens only (no password login).
    pub robot: bool,
    /// Whether a password is set (robots and invited users have none).
    pub has_password: bool,
    pub disabled: bool,
    /// When they were disabled.
    pub disabled_at: Option<Timestamp>,
    pub created_at: Timestamp,
    pub profile: UserProfile,
}

impl User {
    /// What the user may do beyond their own envelopes.
    pub fn capabilities(&self) -> Vec<Capability> {
        self.profile
            .capabilities
            .clone()
            .unwrap_or_else(|| self.role.capabilities().to_vec())
    }

    /// Whether the user has `c`.
    pub fn can(&self, c: Capability) -> bool {
        match &self.profile.capabilities {
            Some(list) => list.contains(&c),
            None => self.role.capabilities().contains(&c),
        }
    }

    /// Their login name: the username given, or the local part of their e-mail.
    pub fn login_name(&self) -> &str {
        self.profile
            .username
            .as_deref()
            .unwrap_or_else(|| self.email.as_str().split('@').next().unwrap_or_default())
    }
}

/// What is needed to create a user. `password` is hashed (Argon2id) by the store.
#[derive(Debug, Clone)]
pub struct NewUser {
    pub org: OrgId,
    pub role: Role,
    pub name: PersonName,
    /// Their login: taken at most once per organisation.
    pub email: Email,
    /// National identity number, when known.
    pub nik: Option<Nik>,
    /// A service account: API tokens only, never a password.
    pub robot: bool,
    pub password: Option<crate::credential::Password>,
    pub profile: UserProfile,
}

/// A named set of users of one organisation (Signing Today's `users/groups`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Group {
    pub id: GroupId,
    pub org: OrgId,
    pub name: PersonName,
    pub created_at: Timestamp,
}

/// An address-book entry (Alphasign's `/contacts`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Contact {
    pub id: ContactId,
    pub org: OrgId,
    pub name: PersonName,
    pub email: Email,
    pub phone: Option<String>,
    pub company: Option<String>,
    pub created_at: Timestamp,
}

/// What is needed to create a contact.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewContact {
    pub org: OrgId,
    pub name: PersonName,
    pub email: Email,
    pub phone: Option<String>,
    pub company: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nik_is_sixteen_digits() {
        assert_eq!(
            Nik::parse(" 3201234567890001 ").map(|n| n.as_str().to_owned()),
            Ok("3201234567890001".to_owned())
        );
        assert!(Nik::parse("320123456789000").is_err());
        assert!(Nik::parse("32012345678900012").is_err());
        assert!(Nik::parse("320123456789000a").is_err());
        assert!(Nik::parse("３２０１２３４５６７８９０００１").is_err());
    }

    #[test]
    fn emails() {
        assert_eq!(
            Email::parse("Budi@Example.CO.id").map(|e| e.as_str().to_owned()),
            Ok("budi@example.co.id".to_owned())
        );
        for bad in [
            "",
            "budi",
            "budi@",
            "@example.com",
            "budi@example",
            "bu di@example.com",
            "budi@-x.com",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn roles() {
        assert_eq!(Role::parse("Instructor"), Ok(Role::Instructor));
        assert!(Role::parse("owner").is_err());
    }
}
