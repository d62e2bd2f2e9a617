//! Log output: `tracing` events as one JSON object per line (default) or as text, filtered by
//! the `log` setting (`PARAF_LOG`, an `EnvFilter` directive such as `info` or
//! `paraf_server=debug,info`). Every event inside a request carries its `request_id` through
//! the request span (see `request_id.rs`).
//!
//! **Invariant:** secrets never reach the log: the first start's admin password and API token
//! are printed to stdout by `paraf serve`, not logged; credentials are logged by kind and id.

use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::EnvFilter;

use paraf_core::config::{Config, LogFormat};

/// Installs the global subscriber (once per process; later calls do nothing). Logs go to
/// stderr so that stdout stays for what `paraf serve` prints on first start.
pub fn init(config: &Config) {
    let filter = EnvFilter::try_new(&config.log).unwrap_or_else(|_| EnvFilter::new("info"));
    let registry = tracing_subscriber::registry().with(filter);
    let result = match config.log_format {
        LogFormat::Json => registry
            .with(
                tracing_subscriber::fmt::layer()
                    .json()
                    .with_current_span(true)
                    .with_span_list(false)
                    .with_writer(std::io::stderr),
            )
            .try_init(),
        LogFormat::Text => registry
            .with(tracing_subscriber::fmt::layer().with_writer(std::io::stderr))
            .try_init(),
    };
    // Already installed (tests start several servers in one process): keep the first.
    let _ = result;
}
