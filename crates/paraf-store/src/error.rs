//! The store's error: a domain refusal, or an infrastructure failure.

use paraf_domain::{AuthFailure, DomainError, Entity};

/// Why a store operation failed. `Domain` is a refusal the caller should report as such
/// (404, 409, 401, 429…); every other variant is an infrastructure failure (500/503) whose
/// text may name internals: log it, do not send it to clients.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error(transparent)]
    Domain(#[from] DomainError),
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("database migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("I/O error: {0}")]
    Io(#[from] std::io::Error),
    #[error("configuration: {0}")]
    Config(String),
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    #[error("background task failed: {0}")]
    Task(String),
    /// The blob store (an S3-compatible bucket) failed.
    #[error("blob store: {0}")]
    Blob(String),
}

impl StoreError {
    /// The domain refusal, if this is one.
    pub fn domain(&self) -> Option<&DomainError> {
        match self {
            StoreError::Domain(d) => Some(d),
            _ => None,
        }
    }

    /// Which credential check failed, if this is an authentication refusal.
    pub fn auth_failure(&self) -> Option<AuthFailure> {
        match self {
            StoreError::Domain(DomainError::Unauthenticated(f)) => Some(*f),
            _ => None,
        }
    }

    /// Whether this is `NotFound`.
    pub fn is_not_found(&self) -> bool {
        matches!(self, StoreError::Domain(DomainError::NotFound { .. }))
    }

    pub(crate) fn not_found(entity: Entity) -> StoreError {
        StoreError::Domain(DomainError::NotFound { entity })
    }

    pub(crate) fn auth(f: AuthFailure) -> StoreError {
        StoreError::Domain(DomainError::Unauthenticated(f))
    }

    pub(crate) fn corrupt(what: impl Into<String>) -> StoreError {
        StoreError::Corrupt(what.into())
    }
}

/// Turns a unique-constraint violation into `AlreadyExists`, leaves other errors alone.
pub(crate) fn unique_as_exists(e: sqlx::Error, entity: Entity, key: &str) -> StoreError {
    if let Some(db) = e.as_database_error() {
        if db.is_unique_violation() {
            return StoreError::Domain(DomainError::AlreadyExists {
                entity,
                key: key.to_owned(),
            });
        }
    }
    StoreError::Database(e)
}
