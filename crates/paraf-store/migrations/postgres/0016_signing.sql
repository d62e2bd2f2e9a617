-- How an organisation signs (issue 17): the PAdES level of its direct signatures (BSrE:
-- B-T, B-LT or B-LTA) and the algorithm of the keys made for its identities and seals
-- (rsa2048, rsa3072, p256, p384), independent of the CA's own key.
ALTER TABLE organisations ADD COLUMN signature_level TEXT NOT NULL DEFAULT 'B-LTA';
ALTER TABLE organisations ADD COLUMN key_type TEXT NOT NULL DEFAULT 'rsa2048';
-- An identity's own key algorithm (NULL: its organisation's), kept for its next key.
ALTER TABLE identities ADD COLUMN key_type TEXT;
-- Until when a completed envelope's archive timestamps hold: the earliest end of validity of
-- the newest document timestamp's TSA certificate over its documents and proof, recorded at
-- sealing (NULL: envelopes completed before this column, read by the housekeeping). While a
-- renewal is under way, or when the current TSA cannot extend it, it holds the next time to
-- look plus the renewal margin. The `ltv refresh` housekeeping renews envelopes whose time is
-- within the margin (`ltv_refresh_days`).
ALTER TABLE envelopes ADD COLUMN archive_until BIGINT;
CREATE INDEX envelopes_archive_until ON envelopes (archive_until);
