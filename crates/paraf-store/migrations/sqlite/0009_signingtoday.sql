-- Signing Today (issue 13). Templates: envelopes never sent, instantiated into new drafts.
-- Soft deletion: a deleted envelope stays (its trail and files) but leaves the lists.
ALTER TABLE envelopes ADD COLUMN template BOOLEAN NOT NULL DEFAULT 0;
ALTER TABLE envelopes ADD COLUMN deleted_at INTEGER;
CREATE INDEX envelopes_listing ON envelopes (org_id, face, template, id);
-- A public id per document for its original (`uuid`) and for its signed version
-- (`signed_uuid`): the resources of the API. Older documents get random ones (version 4).
ALTER TABLE envelope_documents ADD COLUMN uuid TEXT;
ALTER TABLE envelope_documents ADD COLUMN signed_uuid TEXT;
UPDATE envelope_documents SET
    uuid = lower(hex(randomblob(4)) || '-' || hex(randomblob(2)) || '-4' || substr(hex(randomblob(2)), 2)
        || '-a' || substr(hex(randomblob(2)), 2) || '-' || hex(randomblob(6))),
    signed_uuid = lower(hex(randomblob(4)) || '-' || hex(randomblob(2)) || '-4' || substr(hex(randomblob(2)), 2)
        || '-b' || substr(hex(randomblob(2)), 2) || '-' || hex(randomblob(6)));
CREATE UNIQUE INDEX envelope_documents_uuid ON envelope_documents (uuid);
CREATE UNIQUE INDEX envelope_documents_signed_uuid ON envelope_documents (signed_uuid);
-- Notes on an envelope, by users of its organisation.
CREATE TABLE envelope_notes (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    envelope_id INTEGER NOT NULL REFERENCES envelopes(id),
    user_id INTEGER REFERENCES users(id),
    created_at INTEGER NOT NULL,
    text TEXT NOT NULL
);
CREATE INDEX envelope_notes_envelope ON envelope_notes (envelope_id, id);
-- Envelopes made together from one template and a spreadsheet (an instantiation group).
CREATE TABLE envelope_batches (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    org_id INTEGER NOT NULL REFERENCES organisations(id),
    name TEXT NOT NULL,
    template_id INTEGER REFERENCES envelopes(id),
    title TEXT NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE UNIQUE INDEX envelope_batches_name ON envelope_batches (org_id, name);
ALTER TABLE envelopes ADD COLUMN batch_id INTEGER REFERENCES envelope_batches(id);
CREATE INDEX envelopes_batch ON envelopes (batch_id);
-- A robot's settings (request headers and credentials for the files it names by URL, its
-- webhook URL), sealed with the master key: they hold credentials.
CREATE TABLE robot_configurations (
    org_id INTEGER NOT NULL REFERENCES organisations(id),
    user_id INTEGER NOT NULL REFERENCES users(id),
    config_sealed TEXT NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (org_id, user_id)
);
-- Headers a webhook endpoint's deliveries carry besides the signature (sealed).
CREATE TABLE webhook_endpoint_headers (
    endpoint_id INTEGER PRIMARY KEY REFERENCES webhook_endpoints(id) ON DELETE CASCADE,
    headers_sealed TEXT NOT NULL
);
