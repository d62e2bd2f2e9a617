//! Blobs in an S3-compatible bucket (a real server: `moto_server`): the same contract as on
//! files — content-addressed under the prefix, stored once, verified on reading (an object
//! changed behind Paraf's back is reported, not served), deleted; an unreachable bucket is an
//! error, never "not found".

use std::sync::Arc;

use paraf_domain::BlobId;
use paraf_store::{AmazonS3Builder, BlobStore, S3BlobStore, StoreError};
use paraf_testkit::s3::Moto;

fn client(moto: &Moto) -> AmazonS3Builder {
    AmazonS3Builder::new()
        .with_endpoint(&moto.endpoint)
        .with_allow_http(true)
        .with_region("us-east-1")
        .with_access_key_id("testing")
        .with_secret_access_key("testing")
}

#[tokio::test]
async fn blobs_in_a_bucket_are_content_addressed_and_verified() {
    let moto = Moto::start().await;
    moto.bucket("paraf").await;
    let s3 = S3BlobStore::with_builder(client(&moto), "paraf", "/tenant/blobs/").unwrap();
    assert!(
        !format!("{s3:?}").contains("testing"),
        "no credentials in Debug"
    );
    let blobs: Arc<dyn BlobStore> = Arc::new(s3);
    let pdf = b"%PDF-1.7\nsome document".to_vec();
    let id = blobs.put(&pdf).await.unwrap();
    assert_eq!(id, BlobId::of(&pdf));
    let key = format!("tenant/blobs/{}/{}", &id.as_str()[..2], &id.as_str()[2..]);
    assert_eq!(moto.objects("paraf").await, std::slice::from_ref(&key));
    assert!(blobs.exists(&id).await.unwrap());
    assert_eq!(blobs.get(&id).await.unwrap(), Some(pdf.clone()));
    // Same bytes, same object.
    assert_eq!(blobs.put(&pdf).await.unwrap(), id);
    assert_eq!(moto.objects("paraf").await.len(), 1);

    let missing = BlobId::of(b"nothing");
    assert!(!blobs.exists(&missing).await.unwrap());
    assert_eq!(blobs.get(&missing).await.unwrap(), None);
    blobs.delete(&missing).await.unwrap();

    // Changed in the bucket by another client: reported, not served.
    {
        use object_store::ObjectStoreExt as _;
        let raw = client(&moto).with_bucket_name("paraf").build().unwrap();
        raw.put(
            &object_store::path::Path::from(key.as_str()),
            b"%PDF-1.7\nforged".to_vec().into(),
        )
        .await
        .unwrap();
    }
    assert!(matches!(blobs.get(&id).await, Err(StoreError::Corrupt(_))));

    blobs.delete(&id).await.unwrap();
    assert!(!blobs.exists(&id).await.unwrap());
    assert!(moto.objects("paraf").await.is_empty());

    // Writing to a bucket that is not there is an error.
    let nowhere: Arc<dyn BlobStore> =
        Arc::new(S3BlobStore::with_builder(client(&moto), "no-such-bucket", "").unwrap());
    assert!(matches!(nowhere.put(&pdf).await, Err(StoreError::Blob(_))));
}

#[tokio::test]
async fn blobs_in_a_bucket_stream_and_are_verified_as_they_pass() {
    let moto = Moto::start().await;
    moto.bucket("paraf").await;
    let s3 = S3BlobStore::with_builder(client(&moto), "paraf", "").unwrap();
    let raw = client(&moto).with_bucket_name("paraf").build().unwrap();
    let key = |id: &BlobId| s3.key(id);
    let forge = |id: BlobId, forged: Vec<u8>| {
        let k = key(&id);
        async move {
            use object_store::ObjectStoreExt as _;
            raw.put(&k, forged.into()).await.unwrap();
        }
    };
    crate::common::streams_are_verified(&s3, forge).await;
}

#[tokio::test]
async fn blobs_are_written_to_a_bucket_in_chunks_and_parts() {
    let moto = Moto::start().await;
    moto.bucket("paraf").await;
    let s3 = S3BlobStore::with_builder(client(&moto), "paraf", "p").unwrap();
    let moto = &moto;
    crate::common::writers_store_under_the_content_hash(&s3, || async move {
        // Besides the two blobs (p/ab/cdef…): nothing, no temporary object.
        moto.objects("paraf")
            .await
            .into_iter()
            .filter(|k| k.split('/').nth(1).is_none_or(|d| d.len() != 2))
            .collect()
    })
    .await;
    assert_eq!(moto.objects("paraf").await.len(), 2);
}
