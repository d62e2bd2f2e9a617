-- Crash safety of answers (issue 16).
-- `recipients.unannounced_since`: set, in the transaction that records a recipient's answer
-- (signature or refusal), to the time of that answer; cleared once what follows it is done
-- (the envelope's status, its audit record, its webhook events, the next group's invitations or
-- the sealing). Still set after the sealing lease: the process that took the answer died in
-- between, and the housekeeping finishes the follow-up, once.
ALTER TABLE recipients ADD COLUMN unannounced_since BIGINT;
CREATE INDEX recipients_unannounced ON recipients (unannounced_since)
    WHERE unannounced_since IS NOT NULL;
