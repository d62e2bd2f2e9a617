//! Graceful shutdown: [`Shutdown`] is a broadcast "stop now" that the HTTP server, the job
//! workers and tests share; [`signal`] resolves on SIGTERM or Ctrl-C.
//!
//! On shutdown the listener stops accepting, in-flight requests finish (up to the configured
//! grace), workers finish or release the job they hold, and the store is closed.

use tokio::sync::watch;

/// A shareable shutdown trigger.
#[derive(Debug, Clone)]
pub struct Shutdown {
    tx: watch::Sender<bool>,
}

impl Default for Shutdown {
    fn default() -> Self {
        Self::new()
    }
}

impl Shutdown {
    /// A trigger not yet pulled.
    pub fn new() -> Shutdown {
        let (tx, _) = watch::channel(false);
        Shutdown { tx }
    }

    /// Pulls the trigger.
    pub fn trigger(&self) {
        self.tx.send_replace(true);
    }

    /// Whether it was pulled.
    pub fn is_triggered(&self) -> bool {
        *self.tx.borrow()
    }

    /// Resolves once the trigger is pulled.
    pub async fn wait(&self) {
        let mut rx = self.tx.subscribe();
        // `wait_for` fails only when the sender is gone, and `self` holds it.
        let _ = rx.wait_for(|v| *v).await;
    }
}

/// Resolves on Ctrl-C or (Unix) SIGTERM.
pub async fn signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => tracing::info!("Ctrl-C received, shutting down"),
        _ = term => tracing::info!("SIGTERM received, shutting down"),
    }
}
