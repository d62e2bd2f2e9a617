//! Test harness: every store test body runs against SQLite (a fresh file in a temporary
//! directory) and PostgreSQL (a fresh database `paraf_test_<random>` created through the
//! `test` database and dropped afterwards).
//!
//! `PARAF_TEST_DATABASE` selects: unset or `both` → both backends (each test has a `sqlite`
//! and a `postgres` case); `sqlite` → SQLite only; `postgres` → PostgreSQL only.
//! `PARAF_TEST_POSTGRES_URL` overrides the admin URL (default
//! `postgres://postgres@127.0.0.1:5432/test`). If PostgreSQL is selected but unreachable,
//! the PostgreSQL cases **fail** with a message saying so.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::future::Future;
use std::sync::Arc;

use paraf_domain::{
    Email, NewOrganisation, NewUser, OrgName, Organisation, Password, PersonName, Plan, Role,
    SeededEntropy, Slug, User,
};
use paraf_store::{Backend, Store};

pub use paraf_testkit::clock::t;
pub use paraf_testkit::db::Backend as Kind;

/// A fresh database for one test case, with a store on it.
pub struct TestDb {
    pub store: Store,
    pub url: String,
    pub kind: Kind,
    db: paraf_testkit::db::TestDb,
    _dir: tempfile::TempDir,
}

impl TestDb {
    /// A second, independent `Store` (its own pool) on the same database: what a second
    /// server instance would have.
    pub async fn another_store(&self) -> Store {
        Store::connect(&self.url).await.expect("second store")
    }

    /// Executes raw SQL behind the store's back (tamper tests).
    pub async fn raw(&self, sql: &str) {
        self.db.raw(sql).await
    }

    /// Like [`TestDb::raw`] but returns the error text instead of failing.
    pub async fn try_raw(&self, sql: &str) -> Result<(), String> {
        self.db.try_raw(sql).await
    }
}

/// Runs `body` on a fresh database of `kind` (or returns at once if `kind` is not selected).
pub async fn run<F, Fut>(kind: Kind, body: F)
where
    F: FnOnce(TestDb) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    if !paraf_testkit::db::selected(kind) {
        eprintln!("({kind:?} not selected by PARAF_TEST_DATABASE)");
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let db = paraf_testkit::db::TestDb::create(kind, dir.path()).await;
    let store = Store::connect(&db.url).await.expect("connect");
    let expected = match kind {
        Kind::Sqlite => Backend::Sqlite,
        Kind::Postgres => Backend::Postgres,
    };
    assert_eq!(store.backend(), expected);
    let test = TestDb {
        store: store.with_entropy(Arc::new(SeededEntropy::new(7))),
        url: db.url.clone(),
        kind,
        db,
        _dir: dir,
    };
    // The body owns the database; it is dropped (PostgreSQL: the database too) when it ends.
    if let Err(e) = tokio::spawn(body(test)).await {
        std::panic::resume_unwind(e.into_panic());
    }
}

/// Declares, for each `async fn NAME(db: TestDb)`, a module `NAME` with the test cases
/// `NAME::sqlite` and `NAME::postgres`.
#[macro_export]
macro_rules! store_tests {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn sqlite() {
                $crate::common::run($crate::common::Kind::Sqlite, super::$name).await
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn postgres() {
                $crate::common::run($crate::common::Kind::Postgres, super::$name).await
            }
        }
    )*};
}

pub async fn org(store: &Store, slug: &str) -> Organisation {
    store
        .create_organisation(
            &NewOrganisation {
                slug: Slug::parse(slug).unwrap(),
                name: OrgName::parse(&format!("Org {slug}")).unwrap(),
                plan: Plan::Lontar,
            },
            t(0),
        )
        .await
        .expect("create organisation")
}

pub async fn user(store: &Store, org: &Organisation, email: &str, password: Option<&str>) -> User {
    store
        .create_user(
            &NewUser {
                org: org.id,
                name: PersonName::parse("Budi Santoso").unwrap(),
                email: Email::parse(email).unwrap(),
                nik: None,
                role: Role::Signer,
                robot: false,
                password: password.map(|p| Password::parse(p).unwrap()),
                profile: Default::default(),
            },
            t(0),
        )
        .await
        .expect("create user")
}

/// The streaming contract of a blob store: a blob of several chunks reads back whole and in
/// order with its size; after `alter` changes it behind the store's back (keeping its length),
/// the stream ends with `StoreError::Corrupt` **before** its last chunk, so a reader never has
/// all of the altered bytes.
pub async fn streams_are_verified<F, Fut>(blobs: &dyn paraf_store::BlobStore, alter: F)
where
    F: FnOnce(paraf_domain::BlobId, Vec<u8>) -> Fut,
    Fut: Future<Output = ()>,
{
    use futures_util::StreamExt;
    let big: Vec<u8> = (0..300_000u32).map(|i| (i % 251) as u8).collect();
    let id = blobs.put(&big).await.unwrap();
    let reader = blobs.get_stream(&id).await.unwrap().expect("the blob");
    assert_eq!(reader.size, big.len() as u64);
    assert_eq!(reader.read_all().await.unwrap(), big);
    assert!(blobs
        .get_stream(&paraf_domain::BlobId::of(b"nothing"))
        .await
        .unwrap()
        .is_none());

    let mut forged = big.clone();
    *forged.last_mut().unwrap() ^= 1;
    alter(id.clone(), forged).await;
    let mut reader = blobs.get_stream(&id).await.unwrap().expect("the blob");
    let mut got = 0;
    let err = loop {
        match reader.stream.next().await {
            Some(Ok(chunk)) => got += chunk.len(),
            Some(Err(e)) => break e,
            None => panic!("an altered blob streamed to its end"),
        }
    };
    assert!(
        matches!(err, paraf_store::StoreError::Corrupt(_)),
        "{err:?}"
    );
    assert!(got < big.len(), "the last chunk is held back: {got}");
    assert!(reader.stream.next().await.is_none());
}

/// The writing contract of a blob store: a blob given in chunks — small (one write), or
/// larger than a part (17 MiB in 1 MiB chunks) — is stored under its content hash and reads
/// back whole; the same bytes again are stored once; a writer dropped unfinished leaves
/// nothing readable. `leftovers` lists what the store holds besides blobs (temporary files
/// or objects) and must be empty at the end.
pub async fn writers_store_under_the_content_hash<F, Fut>(
    blobs: &dyn paraf_store::BlobStore,
    leftovers: F,
) where
    F: Fn() -> Fut,
    Fut: Future<Output = Vec<String>>,
{
    let small = b"%PDF-1.7\nsmall".to_vec();
    let mut w = blobs.writer().await.unwrap();
    w.write(small[..4].to_vec().into()).await.unwrap();
    w.write(small[4..].to_vec().into()).await.unwrap();
    assert_eq!(w.written(), small.len() as u64);
    let (id, size) = w.finish().await.unwrap();
    assert_eq!((id.clone(), size), (paraf_domain::BlobId::of(&small), 14));
    assert_eq!(blobs.get(&id).await.unwrap(), Some(small));

    let big: Vec<u8> = (0..17 * 1024 * 1024u32).map(|i| (i % 253) as u8).collect();
    for _ in 0..2 {
        let mut w = blobs.writer().await.unwrap();
        for chunk in big.chunks(1024 * 1024) {
            w.write(chunk.to_vec().into()).await.unwrap();
        }
        let (id, size) = w.finish().await.unwrap();
        assert_eq!(id, paraf_domain::BlobId::of(&big));
        assert_eq!(size, big.len() as u64);
        let back = blobs.get_stream(&id).await.unwrap().unwrap();
        assert_eq!(back.read_all().await.unwrap(), big);
    }

    // Dropped unfinished, small and past a part: nothing readable, nothing left.
    for n in [3, 10] {
        let mut w = blobs.writer().await.unwrap();
        for chunk in big.chunks(1024 * 1024).take(n) {
            w.write(chunk.to_vec().into()).await.unwrap();
        }
        drop(w);
    }
    let mut left = Vec::new();
    for _ in 0..50 {
        left = leftovers().await;
        if left.is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(left.is_empty(), "left behind: {left:?}");
}
