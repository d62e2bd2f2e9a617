-- When a recipient last confirmed a one-time code (mail or SMS) on the signer page: their
-- signature is accepted for a short while after it.
ALTER TABLE recipients ADD COLUMN verified_at BIGINT;
