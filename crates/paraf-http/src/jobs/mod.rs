//! Background job consumers: [`worker::run`] loops lease → run → complete/fail on the store's
//! job queue (leases, retries with exponential backoff and dead letters live in the store),
//! with three consumers: [`mail`] (SMTP via lettre, or the development outbox), [`sms`] (the
//! SMS gateway, or the development outbox) and [`webhook`] (signed POSTs with a delivery log).
//!
//! **Invariant:** a job is marked done only after its effect happened, so a crash repeats
//! work rather than losing it (at-least-once: receivers dedupe by the event id).

pub mod mail;
pub mod signature;
pub mod sms;
pub mod webhook;
pub mod worker;

pub use webhook::WEBHOOK_QUEUE;
pub use worker::WorkerPool;
