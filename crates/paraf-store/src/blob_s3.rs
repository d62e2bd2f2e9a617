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

use bytes::Bytes;

use crate::blob::{verified, BlobFuture, BlobReader, BlobStore, BlobWriter};
use crate::{Result, StoreError};

/// An S3-compatible bucket as a [`BlobStore`].
pub struct S3BlobStore {
    store: Arc<dyn ObjectStore>,
    bucket: String,
    prefix: String,
    uploads: std::sync::atomic::AtomicU64,
}

/// Uploads up to this size are one `PUT`; larger ones go as a multipart upload of parts of
/// this size (S3's minimum part is 5 MiB) to a temporary object, then copied to their content
/// address.
const PART: usize = 8 * 1024 * 1024;

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
            uploads: std::sync::atomic::AtomicU64::new(0),
        })
    }

    /// The object of the blob with this id.
    pub fn key(&self, id: &BlobId) -> ObjectPath {
        let hex = id.as_str();
        under(&self.prefix, &format!("{}/{}", &hex[..2], &hex[2..]))
    }
}

/// `key` under `prefix`.
fn under(prefix: &str, key: &str) -> ObjectPath {
    if prefix.is_empty() {
        ObjectPath::from(key)
    } else {
        ObjectPath::from(format!("{prefix}/{key}"))
    }
}

/// A blob given in chunks: kept in memory up to [`PART`] (then one `PUT`), beyond it sent as a
/// multipart upload to `<prefix>/tmp/…` and copied to its content address when finished.
struct S3Writer {
    store: Arc<dyn ObjectStore>,
    prefix: String,
    tmp: ObjectPath,
    buffer: Vec<u8>,
    upload: Option<object_store::WriteMultipart>,
    hasher: sha2::Sha256,
    written: u64,
}

impl BlobWriter for S3Writer {
    fn write<'a>(&'a mut self, chunk: Bytes) -> BlobFuture<'a, ()> {
        Box::pin(async move {
            use sha2::Digest as _;
            self.hasher.update(&chunk);
            self.written += chunk.len() as u64;
            match &mut self.upload {
                Some(w) => {
                    // At most a few parts in flight: the client's pace is the bucket's.
                    w.wait_for_capacity(4).await.map_err(s3_error)?;
                    w.put(chunk);
                }
                None => {
                    self.buffer.extend_from_slice(&chunk);
                    if self.buffer.len() >= PART {
                        let upload = self
                            .store
                            .put_multipart(&self.tmp)
                            .await
                            .map_err(s3_error)?;
                        let mut w = object_store::WriteMultipart::new_with_chunk_size(upload, PART);
                        w.write(&std::mem::take(&mut self.buffer));
                        self.upload = Some(w);
                    }
                }
            }
            Ok(())
        })
    }

    fn written(&self) -> u64 {
        self.written
    }

    fn finish(mut self: Box<Self>) -> BlobFuture<'static, (BlobId, u64)> {
        Box::pin(async move {
            use sha2::Digest as _;
            let id = BlobId::parse(&hex::encode(self.hasher.clone().finalize()))?;
            let hex = id.as_str();
            let key = under(&self.prefix, &format!("{}/{}", &hex[..2], &hex[2..]));
            let there = match self.store.head(&key).await {
                Ok(_) => true,
                Err(object_store::Error::NotFound { .. }) => false,
                Err(e) => return Err(s3_error(e)),
            };
            match self.upload.take() {
                None if there => {}
                None => {
                    let bytes = std::mem::take(&mut self.buffer);
                    self.store
                        .put(&key, PutPayload::from(bytes))
                        .await
                        .map_err(s3_error)?;
                }
                Some(w) if there => {
                    // The bytes are there already: the parts are dropped.
                    w.abort().await.map_err(s3_error)?;
                }
                Some(w) => {
                    w.finish().await.map_err(s3_error)?;
                    let copied = self.store.copy(&self.tmp, &key).await;
                    // The temporary object goes whether the copy worked or not.
                    let deleted = self.store.delete(&self.tmp).await;
                    copied.map_err(s3_error)?;
                    match deleted {
                        Ok(()) | Err(object_store::Error::NotFound { .. }) => {}
                        Err(e) => return Err(s3_error(e)),
                    }
                }
            }
            Ok((id, self.written))
        })
    }
}

impl Drop for S3Writer {
    fn drop(&mut self) {
        // Unfinished: the multipart upload is aborted (the bucket drops its parts).
        if let (Some(w), Ok(rt)) = (self.upload.take(), tokio::runtime::Handle::try_current()) {
            rt.spawn(async move {
                // Failing that, the parts wait for the bucket's lifecycle rule
                // (AbortIncompleteMultipartUpload, docs/deploy.md).
                let _ = w.abort().await;
            });
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

    fn writer<'a>(&'a self) -> BlobFuture<'a, Box<dyn BlobWriter>> {
        Box::pin(async move {
            use sha2::Digest as _;
            let n = self
                .uploads
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let nanos = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos())
                .unwrap_or(0);
            let w: Box<dyn BlobWriter> = Box::new(S3Writer {
                store: self.store.clone(),
                prefix: self.prefix.clone(),
                tmp: under(
                    &self.prefix,
                    &format!("tmp/{nanos}.{}.{n}", std::process::id()),
                ),
                buffer: Vec::new(),
                upload: None,
                hasher: sha2::Sha256::new(),
                written: 0,
            });
            Ok(w)
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
