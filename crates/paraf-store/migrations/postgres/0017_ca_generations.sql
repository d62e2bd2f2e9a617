-- Issuing CAs made by renewals (`paraf ca renew`, or the housekeeping before the current one
-- ends): generation 2, 3, … under the same root; generation 1 stays in `ca_authority`. Each is
-- added once (the first instance to insert a generation wins); the last one issues and
-- timestamps, the earlier ones still answer OCSP and CRL requests (their `ca_crls` row is
-- `issuer`). Keys sealed as in `ca_authority`.
CREATE TABLE ca_generations (
    generation BIGINT PRIMARY KEY,
    issuer TEXT NOT NULL,
    issuing_pem TEXT NOT NULL,
    issuing_key BYTEA NOT NULL,
    tsa_pem TEXT NOT NULL,
    tsa_key BYTEA NOT NULL,
    created_at BIGINT NOT NULL
);
