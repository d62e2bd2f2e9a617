//! Blob put/get latency: files (`FsBlobStore`: write, fsync, rename, fsync the directory) vs an
//! S3-compatible bucket (`S3BlobStore` on a `moto_server` this bench starts on loopback), for a
//! 24 KB, a 1 MB and a 20 MB blob. Each put stores new bytes (a counter in the first bytes);
//! each get reads and hashes the blob. Prints the median and the minimum of each. A second
//! table does the same through the streaming paths: a writer fed 1 MiB chunks, and a stream
//! read to its end (with the time to its first chunk), which never hold the blob whole.
//!
//! `cargo bench -p paraf-store --bench blobs` (needs `moto_server`: `pip install 'moto[server]'`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use paraf_store::{AmazonS3Builder, BlobStore, FsBlobStore, S3BlobStore};
use paraf_testkit::s3::Moto;

const RUNS: usize = 30;

fn stats(mut v: Vec<Duration>) -> (Duration, Duration) {
    v.sort();
    (v[v.len() / 2], v[0])
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1e3)
}

async fn measure_streams(name: &str, store: Arc<dyn BlobStore>, size: usize) {
    use futures_util::StreamExt as _;
    let (mut puts, mut firsts, mut gets) = (Vec::new(), Vec::new(), Vec::new());
    for i in 0..RUNS {
        let mut bytes = vec![b'y'; size];
        bytes[..8].copy_from_slice(&(i as u64).to_le_bytes());
        let t = Instant::now();
        let mut w = store.writer().await.expect("writer");
        for chunk in bytes.chunks(1024 * 1024) {
            w.write(bytes::Bytes::copy_from_slice(chunk))
                .await
                .expect("write");
        }
        let (id, _) = w.finish().await.expect("finish");
        puts.push(t.elapsed());
        let t = Instant::now();
        let mut r = store.get_stream(&id).await.expect("get").expect("present");
        let mut n = 0;
        while let Some(chunk) = r.stream.next().await {
            if n == 0 {
                firsts.push(t.elapsed());
            }
            n += chunk.expect("chunk").len();
        }
        gets.push(t.elapsed());
        assert_eq!(n, size);
    }
    let ((pm, pmin), (fm, _), (gm, gmin)) = (stats(puts), stats(firsts), stats(gets));
    println!(
        "| {name} | {size} | median {}, min {} | first chunk median {}; end median {}, min {} |",
        ms(pm),
        ms(pmin),
        ms(fm),
        ms(gm),
        ms(gmin)
    );
}

async fn measure(name: &str, store: Arc<dyn BlobStore>, size: usize) {
    let mut puts = Vec::with_capacity(RUNS);
    let mut gets = Vec::with_capacity(RUNS);
    for i in 0..RUNS {
        let mut bytes = vec![b'x'; size];
        bytes[..8].copy_from_slice(&(i as u64).to_le_bytes());
        let t = Instant::now();
        let id = store.put(&bytes).await.expect("put");
        puts.push(t.elapsed());
        let t = Instant::now();
        let got = store.get(&id).await.expect("get").expect("present");
        gets.push(t.elapsed());
        assert_eq!(got.len(), size);
    }
    let ((pm, pmin), (gm, gmin)) = (stats(puts), stats(gets));
    println!(
        "| {name} | {} | put median {}, min {} | get median {}, min {} |",
        size,
        ms(pm),
        ms(pmin),
        ms(gm),
        ms(gmin)
    );
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let dir = tempfile::tempdir().expect("tempdir");
        let files: Arc<dyn BlobStore> = Arc::new(FsBlobStore::new(dir.path().join("blobs")));
        let moto = Moto::start().await;
        moto.bucket("bench").await;
        let client = AmazonS3Builder::new()
            .with_endpoint(&moto.endpoint)
            .with_allow_http(true)
            .with_region("us-east-1")
            .with_access_key_id("testing")
            .with_secret_access_key("testing");
        let s3: Arc<dyn BlobStore> =
            Arc::new(S3BlobStore::with_builder(client, "bench", "b").expect("s3"));
        println!("| store | bytes | put | get |");
        println!("|---|---|---|---|");
        for size in [24 * 1024, 1024 * 1024, 20 * 1024 * 1024] {
            measure("files", files.clone(), size).await;
            measure("S3 (moto_server, loopback)", s3.clone(), size).await;
        }
        println!();
        println!("| store | bytes | writer (1 MiB chunks) | streamed get |");
        println!("|---|---|---|---|");
        for size in [1024 * 1024, 20 * 1024 * 1024] {
            measure_streams("files", files.clone(), size).await;
            measure_streams("S3 (moto_server, loopback)", s3.clone(), size).await;
        }
    });
}
