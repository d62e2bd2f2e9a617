//! The filesystem blob store and connecting (URLs, data directories, errors).

use std::sync::Arc;

use paraf_domain::BlobId;
use paraf_store::{BlobStore, FsBlobStore, Store, StoreError};

#[tokio::test]
async fn blobs_are_content_addressed_and_verified() {
    let dir = tempfile::tempdir().unwrap();
    let blobs: Arc<dyn BlobStore> = Arc::new(FsBlobStore::new(dir.path().join("blobs")));
    let pdf = b"%PDF-1.7\n...".to_vec();
    let id = blobs.put(&pdf).await.unwrap();
    assert_eq!(id, BlobId::of(&pdf));
    assert_eq!(id.as_str().len(), 64);
    let path = dir
        .path()
        .join("blobs")
        .join(&id.as_str()[..2])
        .join(&id.as_str()[2..]);
    assert!(path.is_file(), "stored at blobs/ab/cdef…");
    assert!(blobs.exists(&id).await.unwrap());
    assert_eq!(blobs.get(&id).await.unwrap(), Some(pdf.clone()));
    // Same bytes, same id, stored once; no temporary files left behind.
    assert_eq!(blobs.put(&pdf).await.unwrap(), id);
    assert_eq!(
        std::fs::read_dir(dir.path().join("blobs/tmp"))
            .unwrap()
            .count(),
        0
    );

    let missing = BlobId::of(b"nothing");
    assert!(!blobs.exists(&missing).await.unwrap());
    assert_eq!(blobs.get(&missing).await.unwrap(), None);

    // A file changed on disk is reported, not served.
    std::fs::write(&path, b"%PDF-1.7\nforged").unwrap();
    assert!(matches!(blobs.get(&id).await, Err(StoreError::Corrupt(_))));

    assert!(BlobId::parse("xyz").is_err());
    assert_eq!(BlobId::parse(&id.as_str().to_uppercase()).unwrap(), id);
}

#[tokio::test]
async fn blobs_stream_in_chunks_and_are_verified_as_they_pass() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("blobs");
    let fs = FsBlobStore::new(&root);
    crate::common::streams_are_verified(&fs, |id, forged| async move {
        std::fs::write(root.join(&id.as_str()[..2]).join(&id.as_str()[2..]), forged).unwrap();
    })
    .await;
}

#[tokio::test]
async fn blobs_are_written_in_chunks() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("blobs");
    let fs = FsBlobStore::new(&root);
    let tmp = root.join("tmp");
    crate::common::writers_store_under_the_content_hash(&fs, || {
        let tmp = tmp.clone();
        async move {
            std::fs::read_dir(&tmp)
                .map(|d| {
                    d.map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                        .collect()
                })
                .unwrap_or_default()
        }
    })
    .await;
}

#[tokio::test]
async fn connect_creates_the_data_directory_and_refuses_bad_urls() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("nested/paraf-data");
    let url = paraf_store::sqlite_url_for_data_dir(&data);
    let store = Store::connect(&url).await.unwrap();
    store.ping().await.unwrap();
    assert!(data.join("paraf.db").is_file());
    store.close().await;
    // Re-opening runs no migration twice and keeps the data.
    let again = Store::connect(&url).await.unwrap();
    assert!(again.list_organisations().await.unwrap().is_empty());

    let mem = Store::connect("sqlite::memory:").await.unwrap();
    mem.ping().await.unwrap();

    match Store::connect("mysql://root:hunter2@localhost/x").await {
        Err(StoreError::Config(m)) => {
            assert!(m.contains("unsupported database URL"));
            assert!(!m.contains("hunter2"), "passwords are not echoed: {m}");
        }
        other => panic!("expected a configuration error, got {other:?}"),
    }
}
