-- The proof of a completed envelope: the certificate PDF (sealed by the organisation) and its
-- JSON, as blobs; and the audit records of one target (an envelope's trail) read by index.
ALTER TABLE envelopes ADD COLUMN proof_pdf TEXT;
ALTER TABLE envelopes ADD COLUMN proof_json TEXT;
CREATE INDEX audit_log_target ON audit_log (org_id, target, seq);
-- Until when the process sealing an envelope holds it: past this, the envelope is taken over
-- (the process died mid-seal) by the housekeeping task of any instance.
ALTER TABLE envelopes ADD COLUMN sealing_until BIGINT;
-- When a recipient was last reminded (reminders go every `reminder_days` after the invitation).
ALTER TABLE recipients ADD COLUMN reminded_at BIGINT;
-- Files uploaded for a later request (GesDocs' secure downloads name them by path).
CREATE TABLE uploads (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    org_id BIGINT NOT NULL REFERENCES organisations(id),
    path TEXT NOT NULL,
    name TEXT NOT NULL,
    blob TEXT NOT NULL,
    size BIGINT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX uploads_org_path ON uploads (org_id, path);
-- Colleagues invited into an organisation (an account): the link's token as its SHA-256.
CREATE TABLE invitations (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    org_id BIGINT NOT NULL REFERENCES organisations(id),
    email TEXT NOT NULL,
    role TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    expires_at BIGINT NOT NULL,
    accepted_at BIGINT,
    created_at BIGINT NOT NULL
);
CREATE INDEX invitations_org ON invitations (org_id, id);
