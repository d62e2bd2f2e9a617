//! Files uploaded ahead of a request that names them by path (GesDocs' secure downloads):
//! the bytes are a blob; the row gives the organisation's path and the file's name.

use paraf_domain::{BlobId, Entity, OrgId, Timestamp};

use crate::{affected, ts, with_pool, Result, Store, StoreError};

/// An uploaded file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Upload {
    pub path: String,
    pub name: String,
    pub blob: BlobId,
    pub size: u64,
}

impl Store {
    /// Records an upload of `org` at `path` (new per organisation).
    pub async fn create_upload(&self, org: OrgId, up: &Upload, now: Timestamp) -> Result<()> {
        affected!(self, |p| sqlx::query(
            "INSERT INTO uploads (org_id, path, name, blob, size, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6)"
        )
        .bind(org.0)
        .bind(&up.path)
        .bind(&up.name)
        .bind(up.blob.as_str())
        .bind(i64::try_from(up.size).unwrap_or(i64::MAX))
        .bind(ts(now))
        .execute(p)
        .await)?;
        Ok(())
    }

    /// The organisation's upload at `path`.
    pub async fn upload(&self, org: OrgId, path: &str) -> Result<Upload> {
        let row: Option<(String, String, String, i64)> = with_pool!(self, |p| sqlx::query_as(
            "SELECT path, name, blob, size FROM uploads WHERE org_id = $1 AND path = $2"
        )
        .bind(org.0)
        .bind(path)
        .fetch_optional(p)
        .await)?;
        let (path, name, blob, size) = row.ok_or(StoreError::not_found(Entity::Blob))?;
        Ok(Upload {
            path,
            name,
            blob: BlobId::parse(&blob).map_err(|_| StoreError::corrupt("upload blob"))?,
            size: u64::try_from(size).unwrap_or(0),
        })
    }
}
