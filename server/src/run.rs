//! [`run`]: the whole service on its own runtime, as `pairwise serve` runs it.

use std::path::PathBuf;

use tokio::net::TcpListener;
use tokio::sync::oneshot;

use crate::config::ServerConfig;
use crate::error::ApiError;
use crate::shutdown::{serve, shutdown_signal};
use crate::state::AppState;

/// Binds `config.addr`, answers requests at once (`/readyz` says 503 until the collections and
/// the default model are loaded), and serves until SIGINT or SIGTERM; then finishes in-flight
/// requests and snapshots the collections that changed. Blocks the calling thread.
///
/// # Errors
/// The address cannot be bound, the runtime cannot start, or loading fails (the server then
/// stops).
pub fn run(config: ServerConfig, default_model: PathBuf) -> Result<(), ApiError> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("pairwise-http")
        .build()
        .map_err(|e| ApiError::Internal(format!("cannot start the runtime: {e}")))?;
    runtime.block_on(async move {
        let listener = TcpListener::bind(config.addr)
            .await
            .map_err(|e| ApiError::Internal(format!("cannot listen on {}: {e}", config.addr)))?;
        let addr = listener
            .local_addr()
            .map_err(|e| ApiError::Internal(format!("listener: {e}")))?;
        tracing::info!(%addr, data_dir = %config.data_dir.display(), "listening");
        let state = AppState::new(config, default_model)?;
        let (failed_tx, failed_rx) = oneshot::channel::<ApiError>();
        let loader = state.clone();
        tokio::spawn(async move {
            if let Err(error) = loader.load().await {
                let _ = failed_tx.send(error);
            }
        });
        let (stop_tx, stop_rx) = oneshot::channel::<Option<ApiError>>();
        tokio::spawn(async move {
            let reason = tokio::select! {
                () = shutdown_signal() => None,
                Ok(error) = failed_rx => Some(error),
            };
            let _ = stop_tx.send(reason);
        });
        let (reason_tx, reason_rx) = oneshot::channel::<Option<ApiError>>();
        let shutdown = async move {
            let reason = stop_rx.await.unwrap_or(None);
            let _ = reason_tx.send(reason);
        };
        serve(listener, state, shutdown).await?;
        match reason_rx.await {
            Ok(Some(error)) => Err(error),
            Ok(None) | Err(_) => Ok(()),
        }
    })
}
