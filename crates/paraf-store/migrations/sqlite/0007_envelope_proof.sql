-- The proof of a completed envelope: the certificate PDF (sealed by the organisation) and its
-- JSON, as blobs; and the audit records of one target (an envelope's trail) read by index.
ALTER TABLE envelopes ADD COLUMN proof_pdf TEXT;
ALTER TABLE envelopes ADD COLUMN proof_json TEXT;
CREATE INDEX audit_log_target ON audit_log (org_id, target, seq);
