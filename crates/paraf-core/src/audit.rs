//! The audit writer: one typed [`AuditAction`] per thing that happens, one naming scheme
//! (`entity.past_participle`, e.g. `identity.revoked`), one function that records it
//! ([`Core::record`], or [`Core::record_later`] on busy paths) with the [`Actor`] who did it
//! and the face they used (`via` in the record's details).
//!
//! [`AuditBatcher`]: group commit for the audit chain. Busy request paths (BSrE signing and
//! sealing) hand their audit events to one task that appends whatever has queued up in one
//! transaction (`Store::append_audit_batch`), and each caller waits until its event is stored
//! — so "audited before the reply" holds, while the organisation's chain head, which
//! serialises every append, is taken once per batch instead of once per request.

use paraf_domain::{NewAuditEvent, OrgId};
use paraf_store::Store;
use tokio::sync::{mpsc, oneshot};

/// Most events in one transaction.
const MAX_BATCH: usize = 256;

/// Where to say how the event's batch went: a waiting caller, or nobody (a queued event; the
/// task logs a failed batch itself).
type Reply = Option<oneshot::Sender<Result<(), String>>>;

/// A handle to the batching task (cheap to clone).
#[derive(Clone, Debug)]
pub struct AuditBatcher {
    tx: mpsc::Sender<(NewAuditEvent, Reply)>,
}

impl AuditBatcher {
    /// Starts the task on the current runtime; it ends when every handle is dropped.
    pub fn start(store: Store) -> AuditBatcher {
        let (tx, mut rx) = mpsc::channel::<(NewAuditEvent, Reply)>(4 * MAX_BATCH);
        tokio::spawn(async move {
            while let Some(first) = rx.recv().await {
                let mut batch = vec![first];
                while batch.len() < MAX_BATCH {
                    match rx.try_recv() {
                        Ok(next) => batch.push(next),
                        Err(_) => break,
                    }
                }
                let (events, replies): (Vec<_>, Vec<_>) = batch.into_iter().unzip();
                let result = store
                    .append_audit_batch(&events)
                    .await
                    .map(|_| ())
                    .map_err(|e| e.to_string());
                if let Err(e) = &result {
                    tracing::error!(error = %e, events = events.len(), "could not audit");
                }
                for r in replies.into_iter().flatten() {
                    let _ = r.send(result.clone());
                }
            }
        });
        AuditBatcher { tx }
    }

    /// Appends `event` (with whatever else is queued) and waits until it is stored.
    pub async fn append(&self, event: NewAuditEvent) -> Result<(), String> {
        let (reply, wait) = oneshot::channel();
        self.tx
            .send((event, Some(reply)))
            .await
            .map_err(|_| "the audit task has stopped".to_string())?;
        wait.await
            .map_err(|_| "the audit task has stopped".to_string())?
    }
}

impl AuditBatcher {
    /// Queues `event` without waiting for it to be stored (events that record requests, not
    /// signatures: a crash may lose the last few milliseconds of them; failures are logged).
    pub fn submit(&self, event: NewAuditEvent) {
        if self.tx.try_send((event, None)).is_err() {
            tracing::error!("the audit queue is full or stopped: an event was not recorded");
        }
    }
}

/// Per-application daily request and signature counters, and organisations' monthly API
/// requests (their quota usage), added up in memory and written every half second (and by [`UsageCounter::flush`]): one write per application and day per
/// interval instead of one per request. A crash loses at most that interval of counts.
#[derive(Clone, Debug)]
pub struct UsageCounter {
    store: Store,
    pending: std::sync::Arc<std::sync::Mutex<UsageMap>>,
    /// Organisations' API requests per month (their quota usage), written the same way.
    requests: std::sync::Arc<std::sync::Mutex<RequestMap>>,
}

type RequestMap = std::collections::HashMap<(paraf_domain::OrgId, String), u64>;

type UsageMap = std::collections::HashMap<
    (paraf_domain::OrgId, String, String),
    (paraf_domain::Timestamp, u64, u64),
>;

impl UsageCounter {
    /// Starts the flushing task on the current runtime.
    pub fn start(store: Store, shutdown: crate::shutdown::Shutdown) -> UsageCounter {
        let counter = UsageCounter {
            store,
            pending: Default::default(),
            requests: Default::default(),
        };
        let c = counter.clone();
        tokio::spawn(async move {
            loop {
                tokio::select! {
                    _ = tokio::time::sleep(std::time::Duration::from_millis(500)) => c.flush().await,
                    _ = shutdown.wait() => {
                        c.flush().await;
                        return;
                    }
                }
            }
        });
        counter
    }

    /// Counts `requests` and `signatures` for the credential on the day of `now`.
    pub fn add(
        &self,
        org: paraf_domain::OrgId,
        credential_key: &str,
        now: paraf_domain::Timestamp,
        requests: u64,
        signatures: u64,
    ) {
        let day = now.format("%Y-%m-%d").to_string();
        let mut map = self.pending.lock().unwrap_or_else(|e| e.into_inner());
        let e = map
            .entry((org, credential_key.to_string(), day))
            .or_insert((now, 0, 0));
        e.1 += requests;
        e.2 += signatures;
    }

    /// Counts `n` API requests of `org` in the month `period`.
    pub fn add_requests(&self, org: paraf_domain::OrgId, period: &str, n: u64) {
        let mut map = self.requests.lock().unwrap_or_else(|e| e.into_inner());
        *map.entry((org, period.to_string())).or_insert(0) += n;
    }

    /// API requests of `org` in `period` counted here and not written yet.
    pub fn unwritten_requests(&self, org: paraf_domain::OrgId, period: &str) -> u64 {
        let map = self.requests.lock().unwrap_or_else(|e| e.into_inner());
        map.get(&(org, period.to_string())).copied().unwrap_or(0)
    }

    /// Writes what has been counted.
    pub async fn flush(&self) {
        let requests: RequestMap =
            std::mem::take(&mut *self.requests.lock().unwrap_or_else(|e| e.into_inner()));
        for ((org, period), n) in requests {
            let n = i64::try_from(n).unwrap_or(i64::MAX);
            if let Err(e) = self
                .store
                .add_usage(org, paraf_domain::QuotaKind::ApiRequests, n, &period)
                .await
            {
                tracing::warn!(error = %e, "could not write request counters");
            }
        }
        let taken: UsageMap =
            std::mem::take(&mut *self.pending.lock().unwrap_or_else(|e| e.into_inner()));
        for ((org, key, _), (at, r, s)) in taken {
            if let Err(e) = self.store.record_app_usage(org, &key, at, r, s).await {
                tracing::warn!(error = %e, "could not write usage counters");
            }
        }
    }
}

/// Everything the audit chain records, by name. Adding an action is adding a variant here.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuditAction {
    /// The first start created the first organisation and its admin.
    OrganisationBootstrapped,
    /// `paraf admin org create`.
    OrganisationCreated,
    /// An organisation was moved to another plan.
    OrganisationPlanChanged,
    /// An organisation's signature level or key type was changed.
    OrganisationSigningChanged,
    /// A user was added.
    UserCreated,
    /// A named API token was issued.
    ApiTokenCreated,
    /// … revoked by its owner.
    ApiTokenRevoked,
    /// A Basic-auth application credential was created.
    AppCredentialCreated,
    /// … changed (password, IP allow-list, enabled).
    AppCredentialUpdated,
    /// … deleted.
    AppCredentialDeleted,
    /// An application key of the external API was made (its private key shown once).
    AppKeyCreated,
    /// … given a new key pair.
    AppKeyRotated,
    /// … enabled or disabled.
    AppKeyUpdated,
    /// … deleted (its users' tokens revoked).
    AppKeyDeleted,
    /// A person signed in to the console.
    SessionStarted,
    /// A console sign-in was refused.
    SessionRefused,
    /// A console session ended.
    SessionEnded,
    /// An identity was registered (WAITING_FOR_VERIFICATION).
    IdentityRegistered,
    /// An administrator verified it; the activation link went out (NEW).
    IdentityVerified,
    /// A renewal started (RENEW).
    IdentityRenewalStarted,
    /// An activation link was shown to an administrator (the identity has no e-mail).
    ActivationLinkShown,
    /// Its owner chose a passphrase: key and certificate made (ISSUE).
    IdentityActivated,
    /// Suspended (certificate on hold).
    IdentitySuspended,
    /// Suspension lifted.
    IdentityReinstated,
    /// Certificate revoked.
    IdentityRevoked,
    /// A one-time signing code was sent to an identity.
    IdentityCodeSent,
    /// An organisation seal was created.
    SealCreated,
    /// A seal activation code was sent.
    SealActivationSent,
    /// A seal activation was renewed.
    SealActivationRefreshed,
    /// A seal activation was revoked.
    SealActivationRevoked,
    /// A seal's one-time code was issued.
    SealCodeIssued,
    /// A person's signature was made.
    DocumentSigned,
    /// An organisation seal was applied.
    DocumentSealed,
    /// A signed document was downloaded (and deleted from the server).
    DocumentDownloaded,
    /// A webhook endpoint was added.
    WebhookEndpointCreated,
    /// … its secret was rotated.
    WebhookEndpointRotated,
    /// … enabled or disabled.
    WebhookEndpointUpdated,
    /// … deleted.
    WebhookEndpointDeleted,
    /// An event was sent again to an endpoint by an operator.
    WebhookRedelivered,
    /// An envelope was created (draft).
    EnvelopeCreated,
    /// … sent: links made, the first group invited.
    EnvelopeSent,
    /// … cancelled by its sender.
    EnvelopeCancelled,
    /// A draft envelope was deleted by its sender.
    EnvelopeDeleted,
    /// A contact was added to the organisation's address book.
    ContactCreated,
    /// … expired before every signature.
    EnvelopeExpired,
    /// A recipient was invited (their group's turn).
    RecipientInvited,
    /// … opened their link.
    RecipientOpened,
    /// … declined.
    RecipientDeclined,
    /// An organisation's credits were granted or set.
    CreditsChanged,
    /// A recipient signed.
    RecipientSigned,
    /// Every signature made and sealed (B-LTA).
    EnvelopeCompleted,
    /// The final seal failed (retried).
    EnvelopeSealFailed,
    /// A completed envelope's archive timestamps were renewed (`ltv refresh`).
    EnvelopeArchiveRenewed,
    /// A recipient was sent a one-time code (mail or SMS).
    RecipientCodeSent,
    /// … confirmed it.
    RecipientCodeVerified,
    /// … gave a wrong, expired or used code.
    RecipientCodeRefused,
    /// A document was checked against a proof certificate.
    ProofChecked,
    /// A recipient was reminded.
    RecipientReminded,
    /// The sender put someone else in a recipient's place.
    RecipientReplaced,
    /// A recipient handed their turn to someone else.
    RecipientDelegated,
    /// A file was uploaded for a later share.
    FileUploaded,
    /// A colleague was invited into the organisation.
    MemberInvited,
    /// A note was written on an envelope.
    NoteAdded,
    /// … changed.
    NoteChanged,
    /// … deleted.
    NoteDeleted,
    /// A signer's address was handed to an API caller.
    RecipientLinkIssued,
    /// A draft's contents were replaced.
    EnvelopeChanged,
    /// A sent envelope nobody answered went back to draft.
    EnvelopeRecalled,
    /// A field was filled in before its recipient signs.
    FieldFilled,
    /// A robot's settings were changed.
    RobotConfigured,
    /// A user's name, e-mail or profile was changed.
    UserChanged,
    /// A user's role (and so their capabilities) was changed.
    UserRoleChanged,
    /// A disabled user was enabled again.
    UserEnabled,
    /// A user was disabled (their credentials stop working).
    UserDisabled,
    /// A group of users was made.
    GroupCreated,
    /// A password was set or changed.
    PasswordChanged,
    /// A password link was mailed.
    PasswordResetMailed,
    /// A signed-in user asked for a password token.
    PasswordTokenIssued,
    /// A device pairing challenge was issued.
    DeviceChallengeIssued,
    /// A device was paired (trusted) to a user.
    DevicePaired,
    /// A trusted device was removed (its token revoked).
    DeviceRemoved,
    /// A device's push token was registered.
    PushTokenSet,
    /// A device's push token was removed.
    PushTokenRemoved,
    /// A user consumed an envelope's notifications.
    NotificationsConsumed,
    /// A signature appearance (image) was stored.
    AppearanceSet,
    /// A signature appearance was removed.
    AppearanceRemoved,
    /// A person signed in through their organisation's SAML identity provider.
    SamlLogin,
    /// The organisation's SAML identity provider was set.
    SamlConfigured,
}

impl AuditAction {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        use AuditAction::*;
        match self {
            OrganisationBootstrapped => "organisation.bootstrapped",
            OrganisationCreated => "organisation.created",
            OrganisationPlanChanged => "organisation.plan_changed",
            OrganisationSigningChanged => "organisation.signing_changed",
            UserCreated => "user.created",
            ApiTokenCreated => "api_token.created",
            ApiTokenRevoked => "api_token.revoked",
            AppCredentialCreated => "app_credential.created",
            AppCredentialUpdated => "app_credential.updated",
            AppCredentialDeleted => "app_credential.deleted",
            AppKeyCreated => "app_key.created",
            AppKeyRotated => "app_key.rotated",
            AppKeyUpdated => "app_key.updated",
            AppKeyDeleted => "app_key.deleted",
            SessionStarted => "session.started",
            SessionRefused => "session.refused",
            SessionEnded => "session.ended",
            IdentityRegistered => "identity.registered",
            IdentityVerified => "identity.verified",
            IdentityRenewalStarted => "identity.renewal_started",
            ActivationLinkShown => "identity.activation_link_shown",
            IdentityActivated => "identity.activated",
            IdentitySuspended => "identity.suspended",
            IdentityReinstated => "identity.reinstated",
            IdentityRevoked => "identity.revoked",
            IdentityCodeSent => "identity.code_sent",
            SealCreated => "seal.created",
            SealActivationSent => "seal.activation_sent",
            SealActivationRefreshed => "seal.activation_refreshed",
            SealActivationRevoked => "seal.activation_revoked",
            SealCodeIssued => "seal.code_issued",
            DocumentSigned => "document.signed",
            DocumentSealed => "document.sealed",
            DocumentDownloaded => "document.downloaded",
            WebhookEndpointCreated => "webhook_endpoint.created",
            WebhookEndpointRotated => "webhook_endpoint.rotated",
            WebhookEndpointUpdated => "webhook_endpoint.updated",
            WebhookEndpointDeleted => "webhook_endpoint.deleted",
            WebhookRedelivered => "webhook.redelivered",
            EnvelopeCreated => "envelope.created",
            EnvelopeSent => "envelope.sent",
            EnvelopeCancelled => "envelope.cancelled",
            EnvelopeDeleted => "envelope.deleted",
            NoteAdded => "note.added",
            NoteChanged => "note.changed",
            NoteDeleted => "note.deleted",
            RecipientLinkIssued => "recipient.link_issued",
            EnvelopeChanged => "envelope.changed",
            EnvelopeRecalled => "envelope.recalled",
            FieldFilled => "field.filled",
            RobotConfigured => "robot.configured",
            UserChanged => "user.changed",
            UserRoleChanged => "user.role_changed",
            UserEnabled => "user.enabled",
            UserDisabled => "user.disabled",
            GroupCreated => "group.created",
            PasswordChanged => "user.password_changed",
            PasswordResetMailed => "user.password_reset_mailed",
            PasswordTokenIssued => "user.password_token_issued",
            DeviceChallengeIssued => "device.challenge_issued",
            DevicePaired => "device.paired",
            DeviceRemoved => "device.removed",
            PushTokenSet => "device.push_token_set",
            PushTokenRemoved => "device.push_token_removed",
            NotificationsConsumed => "notifications.consumed",
            AppearanceSet => "appearance.set",
            AppearanceRemoved => "appearance.removed",
            SamlLogin => "session.saml",
            SamlConfigured => "organisation.saml_configured",
            ContactCreated => "contact.created",
            EnvelopeExpired => "envelope.expired",
            RecipientInvited => "recipient.invited",
            RecipientOpened => "recipient.opened",
            RecipientDeclined => "recipient.declined",
            CreditsChanged => "organisation.credits_changed",
            RecipientSigned => "recipient.signed",
            EnvelopeCompleted => "envelope.completed",
            EnvelopeSealFailed => "envelope.seal_failed",
            EnvelopeArchiveRenewed => "envelope.archive_renewed",
            RecipientCodeSent => "recipient.code_sent",
            RecipientCodeVerified => "recipient.code_verified",
            RecipientCodeRefused => "recipient.code_refused",
            ProofChecked => "envelope.proof_checked",
            RecipientReminded => "recipient.reminded",
            RecipientReplaced => "recipient.replaced",
            RecipientDelegated => "recipient.delegated",
            FileUploaded => "file.uploaded",
            MemberInvited => "member.invited",
        }
    }
}

impl std::fmt::Display for AuditAction {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Which face an action came through (recorded as `via`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Face {
    /// The admin console.
    Console,
    /// `paraf admin`.
    Cli,
    /// The BSrE dialect.
    Bsre,
    /// The GesDocs dialect.
    GesDocs,
    /// The Alphasign dialect.
    Alphasign,
    /// The Signing Today dialect.
    SigningToday,
    /// Paraf's own external API (`/ext/v1`).
    Ext,
    /// The shared API (`/api/me`, OAuth, sessions).
    Api,
    /// A public page (activation).
    Page,
    /// The server itself (first start, jobs).
    System,
}

impl Face {
    /// The recorded name.
    pub fn as_str(self) -> &'static str {
        match self {
            Face::Console => "console",
            Face::Cli => "cli",
            Face::Bsre => "bsre",
            Face::GesDocs => "gesdocs",
            Face::Alphasign => "alphasign",
            Face::SigningToday => "signingtoday",
            Face::Ext => "ext",
            Face::Api => "api",
            Face::Page => "page",
            Face::System => "system",
        }
    }
}

/// Who did something, from where.
#[derive(Debug, Clone)]
pub struct Actor {
    /// `user:7`, `identity:3`, an application's key, `cli`, `system`.
    pub id: String,
    /// The face used.
    pub via: Face,
    /// The client's address, when there is one.
    pub ip: Option<std::net::IpAddr>,
    /// The client's user agent, when there is one.
    pub user_agent: Option<String>,
}

impl Actor {
    /// An actor without network context.
    pub fn new(id: impl Into<String>, via: Face) -> Actor {
        Actor {
            id: id.into(),
            via,
            ip: None,
            user_agent: None,
        }
    }

    /// `paraf admin`.
    pub fn cli() -> Actor {
        Actor::new("cli", Face::Cli)
    }

    /// The server itself.
    pub fn system() -> Actor {
        Actor::new("system", Face::System)
    }
}

impl crate::Core {
    /// The record of `action` by `actor` on `target` in `org`: `details` (an object) gets `via`.
    /// Hand it to [`crate::Core::record`] or [`crate::Core::record_later`].
    pub fn audit_event(
        &self,
        org: OrgId,
        actor: &Actor,
        action: AuditAction,
        target: Option<String>,
        details: serde_json::Value,
    ) -> NewAuditEvent {
        audit_event(self.now(), org, actor, action, target, details)
    }

    /// Records `event` (built by [`crate::Core::audit_event`]) and waits until it is stored
    /// (a failure is logged: the action itself already happened).
    pub async fn record(&self, event: NewAuditEvent) {
        let action = event.action.clone();
        if let Err(e) = self.audit.append(event).await {
            tracing::error!(error = %e, action, "could not audit");
        }
    }

    /// Queues `event` without waiting (it joins the next batch).
    pub fn record_later(&self, event: NewAuditEvent) {
        self.audit.submit(event);
    }
}

impl crate::Core {
    /// The organisation's records after sequence number `after`, at most `limit`, oldest first.
    pub async fn audit_records(
        &self,
        org: OrgId,
        after: i64,
        limit: u32,
    ) -> Result<Vec<paraf_domain::AuditRecord>, crate::CoreError> {
        Ok(self.store.audit_records(org, after, limit).await?)
    }

    /// The newest sequence number of the organisation's chain (0 when empty): an exponential
    /// then binary search over indexed reads, O(log n).
    pub async fn newest_audit_seq(&self, org: OrgId) -> Result<i64, crate::CoreError> {
        let exists = |seq: i64| async move {
            Ok::<_, crate::CoreError>(!self.audit_records(org, seq - 1, 1).await?.is_empty())
        };
        if !exists(1).await? {
            return Ok(0);
        }
        // Invariant: `lo` exists, `hi` does not.
        let mut lo = 1i64;
        let mut hi = 2i64;
        while exists(hi).await? {
            lo = hi;
            hi = hi.saturating_mul(2);
            if hi == i64::MAX {
                break;
            }
        }
        while hi - lo > 1 {
            let mid = lo + (hi - lo) / 2;
            if exists(mid).await? {
                lo = mid;
            } else {
                hi = mid;
            }
        }
        Ok(lo)
    }
}

/// The one way an audit record is built.
pub fn audit_event(
    at: paraf_domain::Timestamp,
    org: OrgId,
    actor: &Actor,
    action: AuditAction,
    target: Option<String>,
    mut details: serde_json::Value,
) -> NewAuditEvent {
    match details.as_object_mut() {
        Some(obj) => {
            obj.insert("via".into(), actor.via.as_str().into());
        }
        None => details = serde_json::json!({"via": actor.via.as_str()}),
    }
    NewAuditEvent {
        org,
        at,
        actor: actor.id.clone(),
        action: action.as_str().to_string(),
        target,
        ip: actor.ip.map(|i| i.to_string()),
        user_agent: actor.user_agent.clone(),
        details,
    }
}
