//! [`AuditBatcher`]: group commit for the audit chain. Busy request paths (BSrE signing and
//! sealing) hand their audit events to one task that appends whatever has queued up in one
//! transaction (`Store::append_audit_batch`), and each caller waits until its event is stored
//! — so "audited before the reply" holds, while the organisation's chain head, which
//! serialises every append, is taken once per batch instead of once per request.

use paraf_domain::NewAuditEvent;
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

/// Per-application daily request and signature counters, added up in memory and written
/// every half second (and by [`UsageCounter::flush`]): one write per application and day per
/// interval instead of one per request. A crash loses at most that interval of counts.
#[derive(Clone, Debug)]
pub struct UsageCounter {
    store: Store,
    pending: std::sync::Arc<std::sync::Mutex<UsageMap>>,
}

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

    /// Writes what has been counted.
    pub async fn flush(&self) {
        let taken: UsageMap =
            std::mem::take(&mut *self.pending.lock().unwrap_or_else(|e| e.into_inner()));
        for ((org, key, _), (at, r, s)) in taken {
            if let Err(e) = self.store.record_app_usage(org, &key, at, r, s).await {
                tracing::warn!(error = %e, "could not write usage counters");
            }
        }
    }
}
