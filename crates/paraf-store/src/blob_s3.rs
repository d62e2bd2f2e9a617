//! Blobs in an S3-compatible bucket (AWS S3, MinIO, Ceph, moto…) through `object_store`:
//! the object `<prefix>/ab/cdef…` holds the blob whose SHA-256 is `abcdef…`. An S3 `PUT`
//! is durable and atomic when it answers, so the durability rule of [`crate::blob`] holds:
//! the blob is in the bucket before the row that names it is written.

use std::sync::Arc;

use object_store::aws::AmazonS3Builder;
use object_store::path::Path as ObjectPath;
use object_store::{ObjectStore, ObjectStoreExt, PutPayload};
use paraf_domain::BlobId;

use futures_util::StreamExt;

use crate::blob::{verified, BlobFuture, BlobReader, BlobStore};
use crate::{Result, StoreError};

/// An S3-compatible bucket as a [`BlobStore`].
pub struct S3BlobStore {
    store: Arc<dyn ObjectStore>,
    bucket: String,
    prefix: String,
}

impl std::fmt::Debug for S3BlobStore {
    // Never the client's configuration: it holds the credentials.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("S3BlobStore")
            .field("bucket", &self.bucket)
            .field("prefix", &self.prefix)
            .finish()
    }
}

fn s3_error(e: object_store::Error) -> StoreError {
    StoreError::Blob(e.to_string())
}

impl S3BlobStore {
    /// The bucket with the client of the standard `AWS_*` environment variables
    /// (`AWS_ENDPOINT`, `AWS_ALLOW_HTTP`, `AWS_REGION`, `AWS_ACCESS_KEY_ID`,
    /// `AWS_SECRET_ACCESS_KEY`…).
    pub fn from_env(bucket: &str, prefix: &str) -> Result<S3BlobStore> {
        S3BlobStore::with_builder(AmazonS3Builder::from_env(), bucket, prefix)
    }

    /// The bucket with a client configured by the caller (`builder`; the bucket is set here).
    pub fn with_builder(
        builder: AmazonS3Builder,
        bucket: &str,
        prefix: &str,
    ) -> Result<S3BlobStore> {
        let store = builder
            .with_bucket_name(bucket)
            .build()
            .map_err(|e| StoreError::Config(format!("blob store s3://{bucket}: {e}")))?;
        Ok(S3BlobStore {
            store: Arc::new(store),
            bucket: bucket.to_string(),
            prefix: prefix.trim_matches('/').to_string(),
        })
    }

    /// The object of the blob with this id.
    pub fn key(&self, id: &BlobId) -> ObjectPath {
        let hex = id.as_str();
        let key = format!("{}/{}", &hex[..2], &hex[2..]);
        if self.prefix.is_empty() {
            ObjectPath::from(key)
        } else {
            ObjectPath::from(format!("{}/{key}", self.prefix))
        }
    }
}

impl BlobStore for S3BlobStore {
    fn put<'a>(&'a self, bytes: &'a [u8]) -> BlobFuture<'a, BlobId> {
        Box::pin(async move {
            let id = BlobId::of(bytes);
            let key = self.key(&id);
            // Content-addressed: the same bytes are there already, or not sent twice.
            match self.store.head(&key).await {
                Ok(_) => return Ok(id),
                Err(object_store::Error::NotFound { .. }) => {}
                Err(e) => return Err(s3_error(e)),
            }
            self.store
                .put(&key, PutPayload::from(bytes.to_vec()))
                .await
                .map_err(s3_error)?;
            Ok(id)
        })
    }

    fn get<'a>(&'a self, id: &'a BlobId) -> BlobFuture<'a, Option<Vec<u8>>> {
        Box::pin(async move {
            let got = match self.store.get(&self.key(id)).await {
                Ok(g) => g,
                Err(object_store::Error::NotFound { .. }) => return Ok(None),
                Err(e) => return Err(s3_error(e)),
            };
            let bytes = got.bytes().await.map_err(s3_error)?.to_vec();
            if BlobId::of(&bytes) != *id {
                return Err(StoreError::corrupt(format!(
                    "blob {id} does not match its content hash"
                )));
            }
            Ok(Some(bytes))
        })
    }

    fn get_stream<'a>(&'a self, id: &'a BlobId) -> BlobFuture<'a, Option<BlobReader>> {
        Box::pin(async move {
            let got = match self.store.get(&self.key(id)).await {
                Ok(g) => g,
                Err(object_store::Error::NotFound { .. }) => return Ok(None),
                Err(e) => return Err(s3_error(e)),
            };
            let size = got.meta.size;
            let chunks = got.into_stream().map(|r| r.map_err(s3_error));
            Ok(Some(BlobReader {
                size,
                stream: verified(id.clone(), size, chunks),
            }))
        })
    }

    fn exists<'a>(&'a self, id: &'a BlobId) -> BlobFuture<'a, bool> {
        Box::pin(async move {
            match self.store.head(&self.key(id)).await {
                Ok(_) => Ok(true),
                Err(object_store::Error::NotFound { .. }) => Ok(false),
                Err(e) => Err(s3_error(e)),
            }
        })
    }

    fn delete<'a>(&'a self, id: &'a BlobId) -> BlobFuture<'a, ()> {
        Box::pin(async move {
            match self.store.delete(&self.key(id)).await {
                Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
                Err(e) => Err(s3_error(e)),
            }
        })
    }
}
