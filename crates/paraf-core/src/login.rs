//! The organisation of a login — one rule for every login path (the OAuth password grant,
//! the console, sessions, the GesDocs login): `slug/email`, or an explicit organisation slug,
//! or, when the server holds a single organisation, that one, or else the only organisation
//! that has a user with this e-mail.

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
