//! [`Clock`]: the injected source of "now" for the few services that run without a caller
//! handing them a time (the TSA answering a [`crate::Timestamper`] call, the CA acting as a
//! [`crate::RevocationSource`]).
//!
//! **Invariant:** [`Clock::system`] is the only place in this crate that reads the system
//! time. Every other function takes the time as a parameter.

use std::fmt;
use std::sync::Arc;
use std::time::SystemTime;

/// A shareable function returning the current time.
#[derive(Clone)]
pub struct Clock(Arc<dyn Fn() -> SystemTime + Send + Sync>);

impl Clock {
    /// A clock calling `f`.
    pub fn new(f: impl Fn() -> SystemTime + Send + Sync + 'static) -> Self {
        Clock(Arc::new(f))
    }

    /// A clock that always returns `t` (for tests and for replaying).
    pub fn fixed(t: SystemTime) -> Self {
        Clock::new(move || t)
    }

    /// The operating system's wall clock.
    pub fn system() -> Self {
        Clock::new(SystemTime::now)
    }

    /// The current time according to this clock.
    pub fn now(&self) -> SystemTime {
        (self.0)()
    }
}

impl From<Box<dyn Fn() -> SystemTime + Send + Sync>> for Clock {
    fn from(f: Box<dyn Fn() -> SystemTime + Send + Sync>) -> Self {
        Clock(Arc::from(f))
    }
}

impl fmt::Debug for Clock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Clock")
    }
}
