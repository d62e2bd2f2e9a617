-- Every version of an envelope's documents Paraf wrote (original, prepared, after each
-- signature, sealed), by SHA-256: public verification by hash finds any of them.
CREATE TABLE document_revisions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    org_id BIGINT NOT NULL REFERENCES organisations(id),
    envelope_id BIGINT NOT NULL REFERENCES envelopes(id),
    document_id BIGINT NOT NULL REFERENCES envelope_documents(id),
    blob TEXT NOT NULL,
    recipient_id BIGINT REFERENCES recipients(id),
    created_at BIGINT NOT NULL
);
CREATE INDEX document_revisions_blob ON document_revisions (blob);
CREATE INDEX document_revisions_document ON document_revisions (document_id, id);
CREATE INDEX document_revisions_envelope ON document_revisions (envelope_id);
CREATE INDEX document_revisions_recipient ON document_revisions (recipient_id);
INSERT INTO document_revisions (org_id, envelope_id, document_id, blob, recipient_id, created_at)
    SELECT e.org_id, e.id, d.id, d.original_blob, NULL, e.created_at
    FROM envelope_documents d JOIN envelopes e ON e.id = d.envelope_id;
INSERT INTO document_revisions (org_id, envelope_id, document_id, blob, recipient_id, created_at)
    SELECT e.org_id, e.id, d.id, d.current_blob, NULL, COALESCE(e.completed_at, e.sent_at, e.created_at)
    FROM envelope_documents d JOIN envelopes e ON e.id = d.envelope_id
    WHERE d.current_blob <> d.original_blob;
-- One contact per e-mail in an organisation's address book (Alphasign refuses duplicates);
-- duplicates made before this rule keep their oldest entry.
DELETE FROM contacts WHERE id NOT IN (SELECT MIN(id) FROM contacts GROUP BY org_id, lower(email));
CREATE UNIQUE INDEX contacts_org_email ON contacts (org_id, lower(email));
-- The calendar month (YYYY-MM) the monthly usage counters (documents, signatures, API
-- requests) count; a count in another month starts them from zero.
ALTER TABLE organisations ADD COLUMN usage_period TEXT NOT NULL DEFAULT '';
