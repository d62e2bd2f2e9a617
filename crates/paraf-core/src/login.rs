//! The organisation of a login — one rule for every login path (the OAuth password grant,
//! the console, sessions, the GesDocs login): `slug/email`, or an explicit organisation slug,
//! or Signing Today's `username@domain` (the domain an organisation's slug: a slug has no dot,
//! an e-mail's domain has one; the user is the one whose e-mail is `username`, or whose
//! e-mail's local part is `username` when only one has it), or, when the server holds a single
//! organisation, that one, or else the only organisation that has a user with this e-mail.

use paraf_domain::{Email, Organisation};

use crate::error::CoreError;
use crate::Core;

/// Why no organisation could be chosen for a login.
#[derive(Debug)]
pub enum LoginOrgError {
    /// The e-mail is malformed or the named organisation does not exist: refuse it like a
    /// wrong password.
    Unknown,
    /// Several organisations and none named: the caller must write `slug/email`.
    Ambiguous,
    /// Infrastructure.
    Core(CoreError),
}

/// Splits `slug/email` (or takes `organization` as the slug) and finds the organisation.
pub async fn login_org(
    core: &Core,
    username: &str,
    organization: Option<&str>,
) -> Result<(Organisation, Email), LoginOrgError> {
    let username = username.trim();
    if !username.contains('/') {
        if let Some(found) = signing_today_login(core, username).await? {
            return Ok(found);
        }
    }
    let (slug, email) = match username.split_once('/') {
        Some((s, e)) => (Some(s.trim()), e.trim()),
        None => (
            organization.map(str::trim).filter(|s| !s.is_empty()),
            username,
        ),
    };
    let email = Email::parse(email).map_err(|_| LoginOrgError::Unknown)?;
    let org = match slug {
        Some(s) => match core.store.organisation_by_slug(s).await {
            Ok(o) => o,
            Err(e) if e.is_not_found() => return Err(LoginOrgError::Unknown),
            Err(e) => return Err(LoginOrgError::Core(e.into())),
        },
        None => {
            let mut all = core
                .store
                .list_organisations()
                .await
                .map_err(|e| LoginOrgError::Core(e.into()))?;
            if all.len() == 1 {
                all.remove(0)
            } else {
                // Several organisations: the one that has this e-mail, if only one has it
                // (self-registered accounts are organisations of their own).
                let with = core
                    .store
                    .orgs_with_user_email(&email)
                    .await
                    .map_err(|e| LoginOrgError::Core(e.into()))?;
                match with.as_slice() {
                    [one] => all
                        .into_iter()
                        .find(|o| o.id == *one)
                        .ok_or(LoginOrgError::Unknown)?,
                    [] => return Err(LoginOrgError::Unknown),
                    _ => return Err(LoginOrgError::Ambiguous),
                }
            }
        }
    };
    Ok((org, email))
}

/// `username@domain` where `domain` is an organisation's slug (Signing Today's logins), if
/// `username` is one of that form and names one user.
async fn signing_today_login(
    core: &Core,
    username: &str,
) -> Result<Option<(Organisation, Email)>, LoginOrgError> {
    let Some((user, domain)) = username.rsplit_once('@') else {
        return Ok(None);
    };
    if domain.contains('.') || domain.is_empty() || user.is_empty() {
        return Ok(None);
    }
    let org = match core.store.organisation_by_slug(domain).await {
        Ok(o) => o,
        Err(e) if e.is_not_found() => return Ok(None),
        Err(e) => return Err(LoginOrgError::Core(e.into())),
    };
    match named_user(core, org.id, user).await {
        Ok(u) => Ok(Some((org, u.email))),
        Err(NamedUser::Core(e)) => Err(LoginOrgError::Core(e)),
        Err(NamedUser::None) => Err(LoginOrgError::Unknown),
        Err(NamedUser::Several) => Err(LoginOrgError::Ambiguous),
    }
}

/// Why [`named_user`] found nobody.
#[derive(Debug)]
pub enum NamedUser {
    None,
    /// Several users have that local part: the whole e-mail is needed.
    Several,
    Core(CoreError),
}

/// The user of `org` that `username` names: their username, their e-mail, or its local part
/// when only one user has it (Signing Today's usernames).
pub async fn named_user(
    core: &Core,
    org: paraf_domain::OrgId,
    username: &str,
) -> Result<paraf_domain::User, NamedUser> {
    let users = core
        .store
        .list_users(org)
        .await
        .map_err(|e| NamedUser::Core(e.into()))?;
    let username = username.trim();
    if let Some(u) = users.iter().find(|u| {
        u.profile
            .username
            .as_deref()
            .is_some_and(|n| n.eq_ignore_ascii_case(username))
    }) {
        return Ok(u.clone());
    }
    if let Some(u) = users
        .iter()
        .find(|u| u.email.as_str().eq_ignore_ascii_case(username))
    {
        return Ok(u.clone());
    }
    let mut named = users.iter().filter(|u| {
        u.email
            .as_str()
            .rsplit_once('@')
            .is_some_and(|(local, _)| local.eq_ignore_ascii_case(username))
    });
    match (named.next(), named.next()) {
        (Some(u), None) => Ok(u.clone()),
        (None, _) => Err(NamedUser::None),
        (Some(_), Some(_)) => Err(NamedUser::Several),
    }
}
