//! Organisations, users and API tokens created by an operator (`paraf admin`), each with its
//! audit record: the same rule whichever face creates them. These work on a bare store (the
//! CLI needs no CA for them); the faces with a [`Core`](crate::Core) call the same functions.

use paraf_domain::{
    ApiToken, AppCredential, NewApiToken, NewAppCredential, NewOrganisation, NewUser, OrgId,
    Organisation, SecretToken, Timestamp, User,
};
use paraf_store::Store;

use crate::audit::{audit_event, Actor, AuditAction};
use crate::error::CoreError;

type Result<T> = std::result::Result<T, CoreError>;

async fn record(
    store: &Store,
    at: Timestamp,
    org: OrgId,
    actor: &Actor,
    action: AuditAction,
    target: String,
    details: serde_json::Value,
) -> Result<()> {
    let event = audit_event(at, org, actor, action, Some(target), details);
    store.append_audit(&event).await?;
    Ok(())
}

/// Creates an organisation.
pub async fn create_organisation(
    store: &Store,
    at: Timestamp,
    new: &NewOrganisation,
    actor: &Actor,
) -> Result<Organisation> {
    let org = store.create_organisation(new, at).await?;
    let details = serde_json::json!({ "slug": org.slug, "plan": org.plan });
    let target = format!("organisation:{}", org.id);
    record(
        store,
        at,
        org.id,
        actor,
        AuditAction::OrganisationCreated,
        target,
        details,
    )
    .await?;
    Ok(org)
}

/// Moves an organisation to another plan: its rate limits and quotas become the plan's
/// (usage is kept).
pub async fn change_plan(
    store: &Store,
    at: Timestamp,
    org: paraf_domain::OrgId,
    plan: paraf_domain::Plan,
    actor: &Actor,
) -> Result<Organisation> {
    let before = store.organisation(org).await?;
    let o = store.set_plan(org, plan).await?;
    let details = serde_json::json!({ "from": before.plan, "to": o.plan });
    record(
        store,
        at,
        o.id,
        actor,
        AuditAction::OrganisationPlanChanged,
        format!("organisation:{}", o.id),
        details,
    )
    .await?;
    Ok(o)
}

/// Changes how an organisation signs (level of direct signatures, algorithm of new keys).
pub async fn change_signing_profile(
    store: &Store,
    at: Timestamp,
    org: OrgId,
    profile: paraf_domain::SigningProfile,
    actor: &Actor,
) -> Result<Organisation> {
    let before = store.organisation(org).await?;
    let o = store.set_signing_profile(org, profile).await?;
    let details = serde_json::json!({ "from": before.signing, "to": o.signing });
    record(
        store,
        at,
        o.id,
        actor,
        AuditAction::OrganisationSigningChanged,
        format!("organisation:{}", o.id),
        details,
    )
    .await?;
    Ok(o)
}

/// Creates a user.
pub async fn create_user(
    store: &Store,
    at: Timestamp,
    new: &NewUser,
    actor: &Actor,
) -> Result<User> {
    let user = store.create_user(new, at).await?;
    let details =
        serde_json::json!({ "email": user.email, "role": user.role, "robot": user.robot });
    let target = format!("user:{}", user.id);
    record(
        store,
        at,
        new.org,
        actor,
        AuditAction::UserCreated,
        target,
        details,
    )
    .await?;
    Ok(user)
}

/// Issues a named API token; its secret is returned once.
pub async fn create_api_token(
    store: &Store,
    at: Timestamp,
    new: &NewApiToken,
    actor: &Actor,
) -> Result<(ApiToken, SecretToken)> {
    let (token, secret) = store.create_api_token(new, at).await?;
    let details =
        serde_json::json!({ "name": token.name, "user": new.user, "prefix": token.prefix });
    let target = format!("api_token:{}", token.id);
    record(
        store,
        at,
        new.org,
        actor,
        AuditAction::ApiTokenCreated,
        target,
        details,
    )
    .await?;
    Ok((token, secret))
}

/// Creates an application credential (disabled at once when `enabled` is false).
pub async fn create_app_credential(
    store: &Store,
    at: Timestamp,
    new: &NewAppCredential,
    enabled: bool,
    actor: &Actor,
) -> Result<AppCredential> {
    let mut cred = store.create_app_credential(new, at).await?;
    if !enabled {
        cred = store
            .set_app_credential_enabled(new.org, cred.id, false)
            .await?;
    }
    let details = serde_json::json!({
        "username": cred.username,
        "description": cred.description,
        "allowed_ips": cred.allowed_ips.to_strings(),
        "enabled": enabled,
    });
    let target = format!("app_credential:{}", cred.id);
    record(
        store,
        at,
        new.org,
        actor,
        AuditAction::AppCredentialCreated,
        target,
        details,
    )
    .await?;
    Ok(cred)
}

/// A change of an organisation's credits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CreditChange {
    /// Add to a limited balance.
    Add(i64),
    /// Set a balance (`None`: unlimited).
    Set(Option<i64>),
}

/// Changes an organisation's credits (one per GesDocs signature request); returns the new
/// balance (`None`: unlimited).
pub async fn change_credits(
    store: &Store,
    at: Timestamp,
    org: OrgId,
    change: CreditChange,
    actor: &Actor,
) -> Result<Option<i64>> {
    let left = match change {
        CreditChange::Add(n) => {
            if store.credits(org).await?.is_none() {
                return Err(CoreError::invalid(
                    "add",
                    "the organisation has unlimited credits: set a number first",
                ));
            }
            store.add_credits(org, n).await?
        }
        CreditChange::Set(v) => {
            if v.is_some_and(|n| n < 0) {
                return Err(CoreError::invalid("set", "must not be negative"));
            }
            store.set_credits(org, v).await?;
            v
        }
    };
    let details = serde_json::json!({ "credits": left });
    let target = format!("organisation:{org}");
    record(
        store,
        at,
        org,
        actor,
        AuditAction::CreditsChanged,
        target,
        details,
    )
    .await?;
    Ok(left)
}
