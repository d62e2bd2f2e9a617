-- SAML single sign-on (issue 14); see the SQLite twin for the comments.
CREATE TABLE saml_configurations (
    org_id BIGINT PRIMARY KEY REFERENCES organisations(id),
    config_sealed TEXT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE TABLE saml_replays (
    org_id BIGINT NOT NULL REFERENCES organisations(id),
    assertion_id TEXT NOT NULL,
    expires_at BIGINT NOT NULL,
    PRIMARY KEY (org_id, assertion_id)
);
CREATE INDEX saml_replays_expiry ON saml_replays (expires_at);
