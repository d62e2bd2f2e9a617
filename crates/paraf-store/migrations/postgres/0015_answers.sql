-- Crash safety of answers and sending (issue 16).
-- `recipients.unannounced_since`: set, in the transaction that records a recipient's answer
-- (signature or refusal), to the time of that answer; cleared once what follows it is done
-- (the envelope's status, its audit record, its webhook events, the next group's invitations or
-- the sealing). Still set after the sealing lease: the process that took the answer died in
-- between, and the housekeeping finishes the follow-up, once.
ALTER TABLE recipients ADD COLUMN unannounced_since BIGINT;
CREATE INDEX recipients_unannounced ON recipients (unannounced_since)
    WHERE unannounced_since IS NOT NULL;
-- `envelopes.unannounced_since`: the same for sending — set with the status `sent`, cleared once
-- the links exist, the first group is invited (each invitation mail queued once), and the
-- `envelope.sent` record and events are there.
ALTER TABLE envelopes ADD COLUMN unannounced_since BIGINT;
CREATE INDEX envelopes_unannounced_sends ON envelopes (unannounced_since)
    WHERE unannounced_since IS NOT NULL;
