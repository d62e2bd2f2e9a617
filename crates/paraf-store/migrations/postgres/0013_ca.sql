-- The built-in CA in the database (issue 16), when `ca_store = database`: instances with
-- different data directories share one CA.
-- `ca_authority`: the one hierarchy (id 1): certificates in PEM, PKCS#8 keys sealed under the
-- CA passphrase (or master key) — never in the clear.
CREATE TABLE ca_authority (
    id BIGINT PRIMARY KEY CHECK (id = 1),
    public_url TEXT NOT NULL,
    org_name TEXT NOT NULL,
    key_type TEXT NOT NULL,
    root_pem TEXT NOT NULL,
    issuing_pem TEXT NOT NULL,
    tsa_pem TEXT NOT NULL,
    root_key BYTEA NOT NULL,
    issuing_key BYTEA NOT NULL,
    tsa_key BYTEA NOT NULL,
    imported BOOLEAN NOT NULL,
    created_at BIGINT NOT NULL
);
-- Every certificate the CA issued; `serial` lower-case hex (paraf_pki's form); times in Unix
-- seconds as in the certificates; `revoked_at`/`reason` set once revoked (a hold may be lifted).
CREATE TABLE ca_certificates (
    seq BIGSERIAL PRIMARY KEY,
    serial TEXT NOT NULL UNIQUE,
    issuer TEXT NOT NULL,
    kind TEXT NOT NULL,
    subject TEXT NOT NULL,
    not_before BIGINT NOT NULL,
    not_after BIGINT NOT NULL,
    certificate TEXT NOT NULL,
    revoked_at BIGINT,
    reason TEXT
);
CREATE INDEX ca_certificates_revoked ON ca_certificates (issuer) WHERE revoked_at IS NOT NULL;
-- Per CA (`root`, `issuing`): `revision` counts revocation changes; the last CRL made, its
-- number (strictly increasing: replaced only by compare-and-set on `number`) and the revision
-- it lists.
CREATE TABLE ca_crls (
    issuer TEXT PRIMARY KEY,
    revision BIGINT NOT NULL,
    number BIGINT,
    this_update BIGINT,
    der BYTEA,
    der_revision BIGINT
);
