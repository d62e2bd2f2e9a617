//! Application credentials (BSrE's Basic-auth "API Credentials") and what an administrator
//! reads about the organisation (identities, seals, usage): created, changed and deleted here
//! with their audit records, for the console and `paraf admin` alike.

use paraf_domain::{
    AppCredential, AppCredentialId, AppUsageDay, Identity, IdentityId, IpAllowList,
    NewAppCredential, OrgId, Password, Seal, Timestamp,
};

use crate::audit::{Actor, AuditAction};
use crate::error::CoreError;
use crate::Core;

/// What an edit of a credential sets (unchanged values are left alone).
#[derive(Debug, Clone)]
pub struct CredentialChanges {
    /// The description.
    pub description: String,
    /// The IP allow-list (empty: any address).
    pub allowed_ips: IpAllowList,
    /// Enabled or not.
    pub enabled: bool,
    /// A new password, if one is set.
    pub password: Option<Password>,
}

fn target(cred: &AppCredential) -> Option<String> {
    Some(format!("app_credential:{}", cred.id))
}

impl Core {
    /// The organisation's application credentials.
    pub async fn app_credentials(&self, org: OrgId) -> Result<Vec<AppCredential>, CoreError> {
        Ok(self.store.list_app_credentials(org).await?)
    }

    /// One credential of the organisation (`NotFound` otherwise).
    pub async fn app_credential(
        &self,
        org: OrgId,
        id: AppCredentialId,
    ) -> Result<AppCredential, CoreError> {
        Ok(self.store.app_credential(org, id).await?)
    }

    /// Creates a credential (disabled at once when `enabled` is false) and audits it.
    pub async fn create_app_credential(
        &self,
        new: &NewAppCredential,
        enabled: bool,
        actor: &Actor,
    ) -> Result<AppCredential, CoreError> {
        crate::directory::create_app_credential(&self.store, self.now(), new, enabled, actor).await
    }

    /// Applies `changes` to `cred`; audits what changed (nothing when nothing did) and returns
    /// the names of the changed settings.
    pub async fn update_app_credential(
        &self,
        cred: &AppCredential,
        changes: &CredentialChanges,
        actor: &Actor,
    ) -> Result<Vec<&'static str>, CoreError> {
        let (org, id, store) = (cred.org, cred.id, &self.store);
        let mut changed = Vec::new();
        let description = changes.description.trim();
        if description != cred.description {
            store
                .set_app_credential_description(org, id, description)
                .await?;
            changed.push("description");
        }
        if changes.allowed_ips != cred.allowed_ips {
            store
                .set_app_credential_allowed_ips(org, id, &changes.allowed_ips)
                .await?;
            changed.push("allowed_ips");
        }
        if changes.enabled != cred.enabled {
            store
                .set_app_credential_enabled(org, id, changes.enabled)
                .await?;
            changed.push("enabled");
        }
        if let Some(p) = &changes.password {
            store.set_app_credential_password(org, id, p).await?;
            changed.push("password");
        }
        if !changed.is_empty() {
            let details = serde_json::json!({
                "username": cred.username,
                "changed": changed,
                "description": description,
                "allowed_ips": changes.allowed_ips.to_strings(),
                "enabled": changes.enabled,
            });
            let event = self.audit_event(
                org,
                actor,
                AuditAction::AppCredentialUpdated,
                target(cred),
                details,
            );
            self.record(event).await;
        }
        Ok(changed)
    }

    /// Deletes `cred` and audits it.
    pub async fn delete_app_credential(
        &self,
        cred: &AppCredential,
        actor: &Actor,
    ) -> Result<(), CoreError> {
        self.store.delete_app_credential(cred.org, cred.id).await?;
        let details = serde_json::json!({"username": cred.username});
        let event = self.audit_event(
            cred.org,
            actor,
            AuditAction::AppCredentialDeleted,
            target(cred),
            details,
        );
        self.record(event).await;
        Ok(())
    }

    /// Per-application daily counters since `since` (pending counts written first).
    pub async fn app_usage(
        &self,
        org: OrgId,
        since: Timestamp,
    ) -> Result<Vec<AppUsageDay>, CoreError> {
        self.usage.flush().await;
        Ok(self.store.app_usage(org, since).await?)
    }

    /// The organisation's signing identities.
    pub async fn identities_of(&self, org: OrgId) -> Result<Vec<Identity>, CoreError> {
        Ok(self.store.list_identities(org).await?)
    }

    /// One identity of the organisation (`NotFound` otherwise).
    pub async fn identity(&self, org: OrgId, id: IdentityId) -> Result<Identity, CoreError> {
        Ok(self.store.identity(org, id).await?)
    }

    /// The organisation's seals.
    pub async fn seals_of(&self, org: OrgId) -> Result<Vec<Seal>, CoreError> {
        Ok(self.store.list_seals(org).await?)
    }
}
