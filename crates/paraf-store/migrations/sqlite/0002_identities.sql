-- Signing identities (BSrE users), organisation seals, one-time codes, signed documents
-- awaiting their single download, and per-application daily usage.

CREATE TABLE identities (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    org_id INTEGER NOT NULL REFERENCES organisations(id),
    name TEXT NOT NULL,
    email TEXT,
    nik TEXT,
    status TEXT NOT NULL,
    cert_pem TEXT,
    cert_serial TEXT,
    cert_not_after INTEGER,
    sealed_key BLOB,
    otp_key BLOB,
    failed_attempts INTEGER NOT NULL DEFAULT 0,
    locked_until INTEGER,
    activation_hash TEXT UNIQUE,
    activation_expires_at INTEGER,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE UNIQUE INDEX identities_org_email ON identities (org_id, email);
CREATE UNIQUE INDEX identities_org_nik ON identities (org_id, nik);

CREATE TABLE seals (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    org_id INTEGER NOT NULL REFERENCES organisations(id),
    id_subscriber TEXT NOT NULL,
    name TEXT NOT NULL,
    email TEXT NOT NULL,
    cert_pem TEXT NOT NULL,
    cert_serial TEXT NOT NULL,
    cert_not_after INTEGER NOT NULL,
    wrapped_key BLOB NOT NULL,
    key_ref TEXT,
    activation_hash TEXT,
    activation_expires_at INTEGER,
    activation_failures INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL
);
CREATE UNIQUE INDEX seals_org_subscriber ON seals (org_id, id_subscriber);

CREATE TABLE otp_codes (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    org_id INTEGER NOT NULL REFERENCES organisations(id),
    subject TEXT NOT NULL,
    purpose TEXT NOT NULL,
    code_hash TEXT NOT NULL,
    max_files INTEGER NOT NULL,
    wrong_attempts INTEGER NOT NULL DEFAULT 0,
    expires_at INTEGER NOT NULL,
    spent_at INTEGER,
    created_at INTEGER NOT NULL
);
-- Live codes only: spent ones leave the index (and are pruned hourly with expired ones),
-- so a subject's lookups stay fast however many codes it was ever given.
CREATE INDEX otp_codes_live ON otp_codes (org_id, subject, purpose, code_hash)
    WHERE spent_at IS NULL;

CREATE TABLE signed_documents (
    id TEXT PRIMARY KEY,
    org_id INTEGER NOT NULL REFERENCES organisations(id),
    blob_id TEXT NOT NULL,
    file_name TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    downloaded_at INTEGER
);
CREATE INDEX signed_documents_org ON signed_documents (org_id);

CREATE TABLE app_daily_usage (
    org_id INTEGER NOT NULL REFERENCES organisations(id),
    credential_key TEXT NOT NULL,
    day TEXT NOT NULL,
    requests INTEGER NOT NULL DEFAULT 0,
    signatures INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (org_id, credential_key, day)
);
