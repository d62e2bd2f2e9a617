//! The built-in CA in the database (`ca_store = database`): its material (certificates and
//! sealed keys), every certificate it issued with its revocation, and the last CRL of each CA.
//! The store sees sealed keys only. `paraf-core`'s `pki` module turns these rows into a
//! `paraf_pki::CaRecords`.
//!
//! Concurrency: the material is installed once (`INSERT … ON CONFLICT DO NOTHING` on the one
//! row), revocations and CRLs change by compare-and-set, so racing instances never lose an
//! update and CRL numbers only grow.

use paraf_domain::Timestamp;

use crate::{affected, from_ts, ts, with_pool, Result};

/// The CA hierarchy as stored.
#[derive(Clone, PartialEq, Eq)]
pub struct StoredCa {
    pub public_url: String,
    pub org_name: String,
    pub key_type: String,
    pub root_pem: String,
    pub issuing_pem: String,
    pub tsa_pem: String,
    /// Sealed PKCS#8.
    pub root_key: Vec<u8>,
    /// Sealed PKCS#8.
    pub issuing_key: Vec<u8>,
    /// Sealed PKCS#8.
    pub tsa_key: Vec<u8>,
    /// Imported from a CA directory rather than created in the database.
    pub imported: bool,
    pub created_at: Timestamp,
    /// Issuing CAs made by renewals, generation 2, 3, … in order (the fields above hold
    /// generation 1).
    pub later: Vec<StoredGeneration>,
}

/// An issuing CA and its TSA made by a renewal (`ca_generations`).
#[derive(Clone, PartialEq, Eq)]
pub struct StoredGeneration {
    /// 2, 3, …
    pub generation: i64,
    /// Its name in `ca_certificates.issuer` and `ca_crls` (`issuing-N`).
    pub issuer: String,
    pub issuing_pem: String,
    /// Sealed PKCS#8.
    pub issuing_key: Vec<u8>,
    pub tsa_pem: String,
    /// Sealed PKCS#8.
    pub tsa_key: Vec<u8>,
    pub created_at: Timestamp,
}

impl std::fmt::Debug for StoredGeneration {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoredGeneration")
            .field("generation", &self.generation)
            .field("issuer", &self.issuer)
            .finish_non_exhaustive()
    }
}

#[derive(sqlx::FromRow)]
struct GenerationRow {
    generation: i64,
    issuer: String,
    issuing_pem: String,
    issuing_key: Vec<u8>,
    tsa_pem: String,
    tsa_key: Vec<u8>,
    created_at: i64,
}

/// The insert of one [`StoredGeneration`] (nothing when that generation exists), bound.
macro_rules! insert_generation {
    ($g:expr) => {
        sqlx::query(
            "INSERT INTO ca_generations (generation, issuer, issuing_pem, issuing_key, tsa_pem, \
             tsa_key, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7) \
             ON CONFLICT (generation) DO NOTHING",
        )
        .bind($g.generation)
        .bind(&$g.issuer)
        .bind(&$g.issuing_pem)
        .bind(&$g.issuing_key)
        .bind(&$g.tsa_pem)
        .bind(&$g.tsa_key)
        .bind(ts($g.created_at))
    };
}

/// The insert of a CA's CRL state row (nothing when it exists), bound.
macro_rules! insert_crl_state {
    ($issuer:expr) => {
        sqlx::query(
            "INSERT INTO ca_crls (issuer, revision) VALUES ($1, 0) \
             ON CONFLICT (issuer) DO NOTHING",
        )
        .bind($issuer)
    };
}

impl std::fmt::Debug for StoredCa {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoredCa")
            .field("public_url", &self.public_url)
            .field("org_name", &self.org_name)
            .field("imported", &self.imported)
            .finish_non_exhaustive()
    }
}

/// A certificate the CA issued.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct StoredCaCertificate {
    /// Lower-case hex.
    pub serial: String,
    /// `root`, `issuing` or `issuing-N` (a renewal's).
    pub issuer: String,
    /// `issuing`, `tsa` or `signer`.
    pub kind: String,
    pub subject: String,
    /// Unix seconds.
    pub not_before: i64,
    /// Unix seconds.
    pub not_after: i64,
    /// PEM.
    pub certificate: String,
    /// Unix seconds, once revoked.
    pub revoked_at: Option<i64>,
    /// The revocation reason's name, once revoked.
    pub reason: Option<String>,
}

/// The CRL state of one CA.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct StoredCrl {
    /// Counts revocation changes of this CA's certificates.
    pub revision: i64,
    /// The last CRL's number, if one was made.
    pub number: Option<i64>,
    /// Its thisUpdate, Unix seconds.
    pub this_update: Option<i64>,
    /// Its DER.
    pub der: Option<Vec<u8>>,
    /// The `revision` it lists.
    pub der_revision: Option<i64>,
}

#[derive(sqlx::FromRow)]
struct CaRow {
    public_url: String,
    org_name: String,
    key_type: String,
    root_pem: String,
    issuing_pem: String,
    tsa_pem: String,
    root_key: Vec<u8>,
    issuing_key: Vec<u8>,
    tsa_key: Vec<u8>,
    imported: bool,
    created_at: i64,
}

const CERT_COLS: &str =
    "serial, issuer, kind, subject, not_before, not_after, certificate, revoked_at, reason";

/// The insert of one [`StoredCaCertificate`], bound, for either backend.
macro_rules! insert_certificate {
    ($c:expr) => {
        sqlx::query(
            "INSERT INTO ca_certificates (serial, issuer, kind, subject, not_before, not_after, \
             certificate, revoked_at, reason) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(&$c.serial)
        .bind(&$c.issuer)
        .bind(&$c.kind)
        .bind(&$c.subject)
        .bind($c.not_before)
        .bind($c.not_after)
        .bind(&$c.certificate)
        .bind($c.revoked_at)
        .bind(&$c.reason)
    };
}

impl crate::Store {
    /// The CA, if one was installed.
    pub async fn ca_authority(&self) -> Result<Option<StoredCa>> {
        let row: Option<CaRow> = with_pool!(self, |p| sqlx::query_as(
            "SELECT public_url, org_name, key_type, root_pem, issuing_pem, tsa_pem, root_key, \
             issuing_key, tsa_key, imported, created_at FROM ca_authority WHERE id = 1"
        )
        .fetch_optional(p)
        .await)?;
        let Some(r) = row else {
            return Ok(None);
        };
        let later: Vec<GenerationRow> = with_pool!(self, |p| {
            sqlx::query_as(
            "SELECT generation, issuer, issuing_pem, issuing_key, tsa_pem, tsa_key, created_at \
             FROM ca_generations ORDER BY generation"
        )
        .fetch_all(p)
        .await
        })?;
        let later = later
            .into_iter()
            .map(|g| StoredGeneration {
                generation: g.generation,
                issuer: g.issuer,
                issuing_pem: g.issuing_pem,
                issuing_key: g.issuing_key,
                tsa_pem: g.tsa_pem,
                tsa_key: g.tsa_key,
                created_at: from_ts(g.created_at),
            })
            .collect();
        Ok(Some(StoredCa {
            public_url: r.public_url,
            org_name: r.org_name,
            key_type: r.key_type,
            root_pem: r.root_pem,
            issuing_pem: r.issuing_pem,
            tsa_pem: r.tsa_pem,
            root_key: r.root_key,
            issuing_key: r.issuing_key,
            tsa_key: r.tsa_key,
            imported: r.imported,
            created_at: from_ts(r.created_at),
            later,
        }))
    }

    /// The current issuing CA's generation (1 until a renewal).
    pub async fn ca_generation(&self) -> Result<i64> {
        let (n,): (Option<i64>,) = with_pool!(self, |p| sqlx::query_as(
            "SELECT MAX(generation) FROM ca_generations"
        )
        .fetch_one(p)
        .await)?;
        Ok(n.unwrap_or(1))
    }

    /// Adds a renewal's issuing CA with the certificates it brings (its own and its TSA's) and
    /// its CRL state, in one transaction, unless that generation exists: `false` then
    /// (another instance renewed first), and nothing is written.
    pub async fn add_ca_generation(
        &self,
        g: &StoredGeneration,
        issued: &[StoredCaCertificate],
    ) -> Result<bool> {
        with_pool!(self, |p| {
            let mut tx = p.begin().await?;
            let n = insert_generation!(g)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            if n == 0 {
                tx.rollback().await?;
                return Ok(false);
            }
            for c in issued {
                insert_certificate!(c).execute(&mut *tx).await?;
            }
            insert_crl_state!(&g.issuer).execute(&mut *tx).await?;
            tx.commit().await?;
            Ok(true)
        })
    }

    /// Installs `ca` with the certificates it issued so far, in one transaction, unless a CA is
    /// there already: `false` then (another instance won the race), and nothing is written.
    pub async fn install_ca(&self, ca: &StoredCa, issued: &[StoredCaCertificate]) -> Result<bool> {
        with_pool!(self, |p| {
            let mut tx = p.begin().await?;
            let n = sqlx::query(
                "INSERT INTO ca_authority (id, public_url, org_name, key_type, root_pem, \
                 issuing_pem, tsa_pem, root_key, issuing_key, tsa_key, imported, created_at) \
                 VALUES (1, $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) \
                 ON CONFLICT (id) DO NOTHING",
            )
            .bind(&ca.public_url)
            .bind(&ca.org_name)
            .bind(&ca.key_type)
            .bind(&ca.root_pem)
            .bind(&ca.issuing_pem)
            .bind(&ca.tsa_pem)
            .bind(&ca.root_key)
            .bind(&ca.issuing_key)
            .bind(&ca.tsa_key)
            .bind(ca.imported)
            .bind(ts(ca.created_at))
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if n == 0 {
                tx.rollback().await?;
                return Ok(false);
            }
            for c in issued {
                insert_certificate!(c).execute(&mut *tx).await?;
            }
            for g in &ca.later {
                insert_generation!(g).execute(&mut *tx).await?;
            }
            let issuers = ["root", "issuing"]
                .into_iter()
                .chain(ca.later.iter().map(|g| g.issuer.as_str()));
            for issuer in issuers {
                insert_crl_state!(issuer).execute(&mut *tx).await?;
            }
            tx.commit().await?;
            Ok(true)
        })
    }

    /// Records a certificate the CA just issued.
    pub async fn add_ca_certificate(&self, c: &StoredCaCertificate) -> Result<()> {
        affected!(self, |p| insert_certificate!(c).execute(p).await)?;
        Ok(())
    }

    /// The certificate with serial `serial`.
    pub async fn ca_certificate(&self, serial: &str) -> Result<Option<StoredCaCertificate>> {
        let sql = format!("SELECT {CERT_COLS} FROM ca_certificates WHERE serial = $1");
        Ok(with_pool!(self, |p| sqlx::query_as(&sql)
            .bind(serial)
            .fetch_optional(p)
            .await)?)
    }

    /// Every certificate the CA issued, oldest first.
    pub async fn ca_certificates(&self) -> Result<Vec<StoredCaCertificate>> {
        let sql = format!("SELECT {CERT_COLS} FROM ca_certificates ORDER BY seq");
        Ok(with_pool!(self, |p| sqlx::query_as(&sql)
            .fetch_all(p)
            .await)?)
    }

    /// The revoked certificates issued by `issuer`, oldest first.
    pub async fn revoked_ca_certificates(&self, issuer: &str) -> Result<Vec<StoredCaCertificate>> {
        let sql = format!(
            "SELECT {CERT_COLS} FROM ca_certificates \
             WHERE issuer = $1 AND revoked_at IS NOT NULL ORDER BY seq"
        );
        Ok(with_pool!(self, |p| sqlx::query_as(&sql)
            .bind(issuer)
            .fetch_all(p)
            .await)?)
    }

    /// Sets the revocation (Unix seconds, reason) of `serial` to `next` if it is still
    /// `previous`, and counts the change in its CA's CRL revision, in one transaction. `false`
    /// when the certificate is unknown or its revocation changed meanwhile.
    pub async fn set_ca_revocation(
        &self,
        serial: &str,
        previous: Option<(i64, &str)>,
        next: Option<(i64, &str)>,
    ) -> Result<bool> {
        let (prev_t, prev_r) = previous.unwrap_or((-1, ""));
        with_pool!(self, |p| {
            let mut tx = p.begin().await?;
            let n = sqlx::query(
                "UPDATE ca_certificates SET revoked_at = $4, reason = $5 \
                 WHERE serial = $1 AND COALESCE(revoked_at, -1) = $2 AND COALESCE(reason, '') = $3",
            )
            .bind(serial)
            .bind(prev_t)
            .bind(prev_r)
            .bind(next.map(|n| n.0))
            .bind(next.map(|n| n.1))
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if n != 1 {
                tx.rollback().await?;
                return Ok(false);
            }
            sqlx::query(
                "UPDATE ca_crls SET revision = revision + 1 \
                 WHERE issuer = (SELECT issuer FROM ca_certificates WHERE serial = $1)",
            )
            .bind(serial)
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
            Ok(true)
        })
    }

    /// The CRL state of CA `issuer`.
    pub async fn ca_crl(&self, issuer: &str) -> Result<Option<StoredCrl>> {
        Ok(with_pool!(self, |p| {
            sqlx::query_as(
            "SELECT revision, number, this_update, der, der_revision FROM ca_crls WHERE issuer = $1"
        )
        .bind(issuer)
        .fetch_optional(p)
        .await
        })?)
    }

    /// Keeps a new CRL of `issuer` if the last one's number is still `previous_number`:
    /// `false` when another instance stored one meanwhile.
    pub async fn put_ca_crl(
        &self,
        issuer: &str,
        previous_number: Option<i64>,
        crl: &StoredCrl,
    ) -> Result<bool> {
        let n = affected!(self, |p| sqlx::query(
            "UPDATE ca_crls SET number = $3, this_update = $4, der = $5, der_revision = $6 \
             WHERE issuer = $1 AND COALESCE(number, -1) = $2"
        )
        .bind(issuer)
        .bind(previous_number.unwrap_or(-1))
        .bind(crl.number)
        .bind(crl.this_update)
        .bind(&crl.der)
        .bind(crl.der_revision)
        .execute(p)
        .await)?;
        Ok(n == 1)
    }
}
