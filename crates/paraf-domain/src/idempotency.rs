//! Request idempotency (`x-request-id`): the first response to a request id is recorded per
//! credential, and a repeated id replays it instead of acting twice.
//!
//! Protocol (implemented by `Store::claim_request` / `put_response`):
//! 1. Before acting, the middleware **claims** `(credential key, request id)`. Exactly one
//!    concurrent caller gets [`Claim::Acquired`]; the others get [`Claim::InProgress`] (answer
//!    409 and let the client retry) or, once the first finished, [`Claim::Completed`] with the
//!    stored response to replay.
//! 2. The winner acts, then **puts** the response (status, headers, body).
//! 3. If the winner fails without a response it **abandons** the claim; a claim whose
//!    holder crashed expires after its time-to-live and can be acquired again.
//! 4. A repeated id whose request fingerprint (method + path + body hash, chosen by the
//!    caller) differs from the first gets [`Claim::Mismatch`] (answer 422).

use serde::{Deserialize, Serialize};

use crate::credential::CredentialKey;

/// Which request: a credential's key and the client's `x-request-id`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct IdempotencyKey {
    pub credential: CredentialKey,
    /// The client's request id (1–200 characters).
    pub request_id: String,
}

/// A response as first sent, to replay.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredResponse {
    pub status: u16,
    /// Header names and values in order (replayed as is).
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

/// The answer to a claim.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// The caller holds the claim: act, then put the response.
    Acquired,
    /// Another request with this id is being handled right now.
    InProgress,
    /// The request was already handled: replay this.
    Completed(StoredResponse),
    /// The id was used for a different request.
    Mismatch,
}
