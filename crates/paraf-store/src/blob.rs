//! Content-addressed blobs (PDFs, images): [`BlobStore`] and its filesystem implementation.
//!
//! A blob's id is the SHA-256 of its bytes ([`BlobId`]); storing the same bytes twice stores
//! them once. **Durability rule** (DESIGN.md): write the blob — temp file, fsync, rename,
//! fsync the directory — *before* the database row that references it, so a crash leaves
//! either no row or a row whose blob exists.
//!
//! The trait returns boxed futures so it is object-safe (`Arc<dyn BlobStore>`), with the
//! S3-compatible implementation (network I/O, async) behind it as well.
//!
//! **Streaming.** [`BlobStore::get_stream`] hands a blob out in chunks without holding it
//! whole ([`BlobReader`]): downloads of large PDFs go from the store to the client. The
//! content hash is still checked: each chunk is hashed as it passes and the **last chunk is
//! held back** until the whole content matched the id, so a client never receives all of an
//! altered blob — the stream ends with `StoreError::Corrupt` instead, which aborts the HTTP
//! body short of its `Content-Length`.

use std::future::Future;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};

use bytes::Bytes;
use futures_util::{Stream, StreamExt};
use paraf_domain::BlobId;
use sha2::Digest;

use crate::{Result, StoreError};

/// The future every [`BlobStore`] method returns.
pub type BlobFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T>> + Send + 'a>>;

/// A blob being written chunk by chunk without holding it whole (uploads): [`BlobStore::writer`].
/// Nothing is visible under any id before [`BlobWriter::finish`]; a writer dropped unfinished
/// leaves nothing behind (its temporary file or upload is removed).
pub trait BlobWriter: Send {
    /// Appends a chunk.
    fn write<'a>(&'a mut self, chunk: Bytes) -> BlobFuture<'a, ()>;
    /// How many bytes were written so far.
    fn written(&self) -> u64;
    /// Makes the blob durable under its content hash (stored once if those bytes are there
    /// already) and returns its id and size.
    fn finish(self: Box<Self>) -> BlobFuture<'static, (BlobId, u64)>;
}

/// A blob's content as a stream of chunks.
pub type BlobStream = Pin<Box<dyn Stream<Item = Result<Bytes>> + Send>>;

/// A blob being read: its size, and its chunks checked against its id as they pass (see the
/// module's "Streaming").
pub struct BlobReader {
    pub size: u64,
    pub stream: BlobStream,
}

impl std::fmt::Debug for BlobReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BlobReader")
            .field("size", &self.size)
            .finish_non_exhaustive()
    }
}

impl BlobReader {
    /// Reads the whole content (checked), for callers that need it in memory.
    pub async fn read_all(mut self) -> Result<Vec<u8>> {
        let mut out = Vec::with_capacity(usize::try_from(self.size).unwrap_or(0));
        while let Some(chunk) = self.stream.next().await {
            out.extend_from_slice(&chunk?);
        }
        Ok(out)
    }
}

/// `inner`'s chunks, hashed as they pass; the last one is given only once the whole content
/// hashed to `id` and was `size` bytes long (an error ends the stream otherwise).
pub(crate) fn verified<S>(id: BlobId, size: u64, inner: S) -> BlobStream
where
    S: Stream<Item = Result<Bytes>> + Send + 'static,
{
    struct State {
        inner: BlobStream,
        hasher: sha2::Sha256,
        held: Option<Bytes>,
        seen: u64,
        id: BlobId,
        size: u64,
        done: bool,
    }
    let state = State {
        inner: Box::pin(inner),
        hasher: sha2::Sha256::new(),
        held: None,
        seen: 0,
        id,
        size,
        done: false,
    };
    Box::pin(futures_util::stream::unfold(state, |mut st| async move {
        if st.done {
            return None;
        }
        loop {
            match st.inner.next().await {
                Some(Ok(chunk)) if chunk.is_empty() => {}
                Some(Ok(chunk)) => {
                    st.hasher.update(&chunk);
                    st.seen += chunk.len() as u64;
                    if let Some(previous) = st.held.replace(chunk) {
                        return Some((Ok(previous), st));
                    }
                }
                Some(Err(e)) => {
                    st.done = true;
                    return Some((Err(e), st));
                }
                None => {
                    st.done = true;
                    let digest = hex::encode(st.hasher.clone().finalize());
                    if digest != st.id.as_str() || st.seen != st.size {
                        let e = StoreError::corrupt(format!(
                            "blob {} does not match its content hash",
                            st.id
                        ));
                        return Some((Err(e), st));
                    }
                    return st.held.take().map(|last| (Ok(last), st));
                }
            }
        }
    }))
}

/// Where blobs live. Implementations must make `put` durable before it resolves.
pub trait BlobStore: Send + Sync + std::fmt::Debug {
    /// Stores `bytes` (no-op if already there) and returns their id.
    fn put<'a>(&'a self, bytes: &'a [u8]) -> BlobFuture<'a, BlobId>;
    /// The bytes of a blob, or `None` if there is none with this id. Implementations check
    /// the bytes still hash to the id (`StoreError::Corrupt` otherwise).
    fn get<'a>(&'a self, id: &'a BlobId) -> BlobFuture<'a, Option<Vec<u8>>>;
    /// A blob as a stream of chunks checked against its id as they pass (see the module's
    /// "Streaming"), or `None` if there is none with this id.
    fn get_stream<'a>(&'a self, id: &'a BlobId) -> BlobFuture<'a, Option<BlobReader>>;
    /// A writer of a new blob given in chunks (see [`BlobWriter`]).
    fn writer<'a>(&'a self) -> BlobFuture<'a, Box<dyn BlobWriter>>;
    /// Whether a blob exists.
    fn exists<'a>(&'a self, id: &'a BlobId) -> BlobFuture<'a, bool>;
    /// Removes a blob (no error if there is none). Only for blobs nothing else references,
    /// such as a signed PDF after its single download.
    fn delete<'a>(&'a self, id: &'a BlobId) -> BlobFuture<'a, ()>;
}

/// Blobs as files under a root directory: `<root>/ab/cdef…` (the first two hex digits
/// name a subdirectory), written through `<root>/tmp/`.
#[derive(Debug)]
pub struct FsBlobStore {
    root: PathBuf,
    counter: AtomicU64,
}

impl FsBlobStore {
    /// A store rooted at `root` (created on first write).
    pub fn new(root: impl Into<PathBuf>) -> FsBlobStore {
        FsBlobStore {
            root: root.into(),
            counter: AtomicU64::new(0),
        }
    }

    /// The root directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Where the blob with this id is (or would be) stored.
    pub fn path(&self, id: &BlobId) -> PathBuf {
        blob_path(&self.root, id)
    }
}

/// `<root>/ab/cdef…` for the blob `abcdef…`.
fn blob_path(root: &Path, id: &BlobId) -> PathBuf {
    let hex = id.as_str();
    root.join(&hex[..2]).join(&hex[2..])
}

/// A blob written to `<root>/tmp/…` as it comes, hashed on the way, then fsynced and renamed
/// to its content address.
struct FsWriter {
    root: PathBuf,
    tmp: PathBuf,
    file: Option<tokio::fs::File>,
    hasher: sha2::Sha256,
    written: u64,
}

impl BlobWriter for FsWriter {
    fn write<'a>(&'a mut self, chunk: Bytes) -> BlobFuture<'a, ()> {
        Box::pin(async move {
            use tokio::io::AsyncWriteExt as _;
            let file = self
                .file
                .as_mut()
                .ok_or_else(|| StoreError::Task("a finished blob writer".into()))?;
            file.write_all(&chunk).await?;
            self.hasher.update(&chunk);
            self.written += chunk.len() as u64;
            Ok(())
        })
    }

    fn written(&self) -> u64 {
        self.written
    }

    fn finish(mut self: Box<Self>) -> BlobFuture<'static, (BlobId, u64)> {
        Box::pin(async move {
            let file = self
                .file
                .take()
                .ok_or_else(|| StoreError::Task("a finished blob writer".into()))?;
            let id = BlobId::parse(&hex::encode(self.hasher.clone().finalize()))?;
            let dest = blob_path(&self.root, &id);
            let (tmp, size) = (self.tmp.clone(), self.written);
            // Surfaces a failed background write (disk full) before the file is kept.
            let mut file = file;
            {
                use tokio::io::AsyncWriteExt as _;
                file.flush().await?;
            }
            let file = file.into_std().await;
            tokio::task::spawn_blocking(move || -> Result<()> {
                file.sync_all()?;
                drop(file);
                if dest.exists() {
                    std::fs::remove_file(&tmp)?;
                    return Ok(());
                }
                let parent = dest
                    .parent()
                    .ok_or_else(|| StoreError::Config("blob path has no parent".into()))?;
                std::fs::create_dir_all(parent)?;
                std::fs::rename(&tmp, &dest)?;
                std::fs::File::open(parent)?.sync_all()?;
                Ok(())
            })
            .await
            .map_err(|e| StoreError::Task(e.to_string()))??;
            Ok((id, size))
        })
    }
}

impl Drop for FsWriter {
    fn drop(&mut self) {
        // Unfinished, or failed while finishing: no temporary file stays behind (once
        // finished it was renamed away, and this finds nothing).
        let _ = std::fs::remove_file(&self.tmp);
    }
}

/// Writes `bytes` to `dest` through `tmp`: write, fsync, rename, fsync the directory.
fn put_blocking(root: &Path, dest: &Path, tmp_name: &str, bytes: &[u8]) -> Result<()> {
    if dest.exists() {
        return Ok(());
    }
    let tmp_dir = root.join("tmp");
    std::fs::create_dir_all(&tmp_dir)?;
    let parent = dest
        .parent()
        .ok_or_else(|| StoreError::Config("blob path has no parent".into()))?;
    std::fs::create_dir_all(parent)?;
    let tmp = tmp_dir.join(tmp_name);
    let result = (|| -> std::io::Result<()> {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        drop(f);
        std::fs::rename(&tmp, dest)?;
        // Make the rename itself durable.
        std::fs::File::open(parent)?.sync_all()
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    Ok(result?)
}

fn read_verified(path: &Path, id: &BlobId) -> Result<Option<Vec<u8>>> {
    match std::fs::read(path) {
        Ok(bytes) => {
            if BlobId::of(&bytes) != *id {
                return Err(StoreError::corrupt(format!(
                    "blob {id} does not match its content hash"
                )));
            }
            Ok(Some(bytes))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e.into()),
    }
}

impl BlobStore for FsBlobStore {
    fn put<'a>(&'a self, bytes: &'a [u8]) -> BlobFuture<'a, BlobId> {
        Box::pin(async move {
            let id = BlobId::of(bytes);
            let tmp_name = format!(
                "{}.{}.{}",
                id.as_str(),
                std::process::id(),
                self.counter.fetch_add(1, Ordering::Relaxed)
            );
            // Blob writes are file I/O with fsync: keep them off the async workers.
            let (root, dest, bytes) = (self.root.clone(), self.path(&id), bytes.to_vec());
            tokio::task::spawn_blocking(move || put_blocking(&root, &dest, &tmp_name, &bytes))
                .await
                .map_err(|e| StoreError::Task(e.to_string()))??;
            Ok(id)
        })
    }

    fn get<'a>(&'a self, id: &'a BlobId) -> BlobFuture<'a, Option<Vec<u8>>> {
        Box::pin(async move {
            let path = self.path(id);
            let id = id.clone();
            tokio::task::spawn_blocking(move || read_verified(&path, &id))
                .await
                .map_err(|e| StoreError::Task(e.to_string()))?
        })
    }

    fn get_stream<'a>(&'a self, id: &'a BlobId) -> BlobFuture<'a, Option<BlobReader>> {
        Box::pin(async move {
            let file = match tokio::fs::File::open(self.path(id)).await {
                Ok(f) => f,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
                Err(e) => return Err(e.into()),
            };
            let size = file.metadata().await?.len();
            let chunks = tokio_util::io::ReaderStream::with_capacity(file, 64 * 1024)
                .map(|r| r.map_err(StoreError::from));
            Ok(Some(BlobReader {
                size,
                stream: verified(id.clone(), size, chunks),
            }))
        })
    }

    fn writer<'a>(&'a self) -> BlobFuture<'a, Box<dyn BlobWriter>> {
        Box::pin(async move {
            let tmp_dir = self.root.join("tmp");
            tokio::fs::create_dir_all(&tmp_dir).await?;
            let tmp = tmp_dir.join(format!(
                "upload.{}.{}",
                std::process::id(),
                self.counter.fetch_add(1, Ordering::Relaxed)
            ));
            let file = tokio::fs::File::create(&tmp).await?;
            let w: Box<dyn BlobWriter> = Box::new(FsWriter {
                root: self.root.clone(),
                tmp,
                file: Some(file),
                hasher: sha2::Sha256::new(),
                written: 0,
            });
            Ok(w)
        })
    }

    fn exists<'a>(&'a self, id: &'a BlobId) -> BlobFuture<'a, bool> {
        Box::pin(async move { Ok(tokio::fs::try_exists(self.path(id)).await?) })
    }

    fn delete<'a>(&'a self, id: &'a BlobId) -> BlobFuture<'a, ()> {
        Box::pin(async move {
            match tokio::fs::remove_file(self.path(id)).await {
                Ok(()) => Ok(()),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
                Err(e) => Err(e.into()),
            }
        })
    }
}

/// Operations and failures of a blob store since the process started (for `/metrics`).
#[derive(Debug, Default)]
pub struct BlobStats {
    puts: AtomicU64,
    gets: AtomicU64,
    errors: AtomicU64,
    put_micros: AtomicU64,
    get_micros: AtomicU64,
}

/// A snapshot of [`BlobStats`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BlobCounts {
    pub puts: u64,
    pub gets: u64,
    /// Operations that failed (unreachable store, corrupt blob…); a missing blob is not one.
    pub errors: u64,
    pub put_micros: u64,
    pub get_micros: u64,
}

impl BlobStats {
    pub fn counts(&self) -> BlobCounts {
        BlobCounts {
            puts: self.puts.load(Ordering::Relaxed),
            gets: self.gets.load(Ordering::Relaxed),
            errors: self.errors.load(Ordering::Relaxed),
            put_micros: self.put_micros.load(Ordering::Relaxed),
            get_micros: self.get_micros.load(Ordering::Relaxed),
        }
    }

    fn record<T>(&self, r: &Result<T>, ops: &AtomicU64, micros: &AtomicU64, t: std::time::Instant) {
        ops.fetch_add(1, Ordering::Relaxed);
        micros.fetch_add(
            u64::try_from(t.elapsed().as_micros()).unwrap_or(u64::MAX),
            Ordering::Relaxed,
        );
        if r.is_err() {
            self.errors.fetch_add(1, Ordering::Relaxed);
        }
    }
}

/// A blob store whose operations are counted and timed in [`BlobStats`].
#[derive(Debug)]
pub struct Measured {
    inner: std::sync::Arc<dyn BlobStore>,
    stats: std::sync::Arc<BlobStats>,
}

impl Measured {
    pub fn new(inner: std::sync::Arc<dyn BlobStore>) -> Measured {
        Measured {
            inner,
            stats: std::sync::Arc::default(),
        }
    }

    /// The counters, shared.
    pub fn stats(&self) -> std::sync::Arc<BlobStats> {
        self.stats.clone()
    }
}

impl BlobStore for Measured {
    fn put<'a>(&'a self, bytes: &'a [u8]) -> BlobFuture<'a, BlobId> {
        Box::pin(async move {
            let t = std::time::Instant::now();
            let r = self.inner.put(bytes).await;
            self.stats
                .record(&r, &self.stats.puts, &self.stats.put_micros, t);
            r
        })
    }

    fn get<'a>(&'a self, id: &'a BlobId) -> BlobFuture<'a, Option<Vec<u8>>> {
        Box::pin(async move {
            let t = std::time::Instant::now();
            let r = self.inner.get(id).await;
            self.stats
                .record(&r, &self.stats.gets, &self.stats.get_micros, t);
            r
        })
    }

    fn get_stream<'a>(&'a self, id: &'a BlobId) -> BlobFuture<'a, Option<BlobReader>> {
        // Counted and timed until the first byte can flow; a failure while streaming (the
        // store gone, a corrupt blob) is counted when the stream yields it.
        Box::pin(async move {
            let t = std::time::Instant::now();
            let r = self.inner.get_stream(id).await;
            self.stats
                .record(&r, &self.stats.gets, &self.stats.get_micros, t);
            let stats = self.stats.clone();
            Ok(r?.map(|reader| BlobReader {
                size: reader.size,
                stream: Box::pin(reader.stream.inspect(move |chunk| {
                    if chunk.is_err() {
                        stats.errors.fetch_add(1, Ordering::Relaxed);
                    }
                })),
            }))
        })
    }

    fn writer<'a>(&'a self) -> BlobFuture<'a, Box<dyn BlobWriter>> {
        Box::pin(async move {
            let t = std::time::Instant::now();
            let r = self.inner.writer().await;
            if r.is_err() {
                self.stats.errors.fetch_add(1, Ordering::Relaxed);
            }
            let w: Box<dyn BlobWriter> = Box::new(MeasuredWriter {
                inner: r?,
                stats: self.stats.clone(),
                started: t,
            });
            Ok(w)
        })
    }

    fn exists<'a>(&'a self, id: &'a BlobId) -> BlobFuture<'a, bool> {
        Box::pin(async move {
            let r = self.inner.exists(id).await;
            if r.is_err() {
                self.stats.errors.fetch_add(1, Ordering::Relaxed);
            }
            r
        })
    }

    fn delete<'a>(&'a self, id: &'a BlobId) -> BlobFuture<'a, ()> {
        Box::pin(async move {
            let r = self.inner.delete(id).await;
            if r.is_err() {
                self.stats.errors.fetch_add(1, Ordering::Relaxed);
            }
            r
        })
    }
}

/// A writer whose blob counts as one put (timed from its start to its finish).
struct MeasuredWriter {
    inner: Box<dyn BlobWriter>,
    stats: std::sync::Arc<BlobStats>,
    started: std::time::Instant,
}

impl BlobWriter for MeasuredWriter {
    fn write<'a>(&'a mut self, chunk: Bytes) -> BlobFuture<'a, ()> {
        Box::pin(async move {
            let r = self.inner.write(chunk).await;
            if r.is_err() {
                self.stats.errors.fetch_add(1, Ordering::Relaxed);
            }
            r
        })
    }

    fn written(&self) -> u64 {
        self.inner.written()
    }

    fn finish(self: Box<Self>) -> BlobFuture<'static, (BlobId, u64)> {
        Box::pin(async move {
            let r = self.inner.finish().await;
            self.stats
                .record(&r, &self.stats.puts, &self.stats.put_micros, self.started);
            r
        })
    }
}
