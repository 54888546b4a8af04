//! `spor serve`: the HTTP API of contract §4 on axum and tokio.
//!
//! Holds the routes, who may call them (bearer tokens acting as their
//! account, each account seeing only its own units), the audit record every
//! answer with personal data leaves before it is sent, the error shape, the
//! security headers, live updates as server-sent events and graceful
//! shutdown. The projections live here for the life of the process:
//! [`spor_shell::Projector`] folds each acknowledged event in, and reads never
//! wait for a rebuild.
//!
//! Never: configuration files or the environment (the binary passes
//! [`ServerSettings`]), a terminal, or personal data in a log line: request
//! spans carry the method, the matched route (`/api/v1/participants/{id}`,
//! never the id) and the request id, and no header is logged.

mod app;
mod caller;
mod error;
mod headers;
mod openapi;
mod routes;

pub use app::{App, ServerSettings, Stores};
pub use error::ApiError;

use std::net::SocketAddr;
use std::sync::Arc;

use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

/// Serves `app` on `listener` until `shutdown` is cancelled. In-flight
/// requests finish (an append under way is acknowledged or refused, never
/// cut), event streams end at once, and then it returns.
pub async fn serve(app: Arc<App>, listener: TcpListener, shutdown: CancellationToken) -> std::io::Result<()> {
    let router = routes::router(Arc::clone(&app));
    // Built off the async threads while the server already answers
    // (`/healthz` yes, views 503 until it is done). A failure is logged there.
    tokio::task::spawn_blocking({
        let app = Arc::clone(&app);
        move || app.build_projections()
    });
    axum::serve(listener, router.into_make_service_with_connect_info::<SocketAddr>())
        .with_graceful_shutdown(shutdown.clone().cancelled_owned())
        .await
}

/// Cancels `token` on SIGTERM or Ctrl-C. Call inside the runtime.
pub fn cancel_on_signals(token: CancellationToken) -> std::io::Result<()> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = signal(SignalKind::terminate())?;
    tokio::spawn(async move {
        tokio::select! {
            r = tokio::signal::ctrl_c() => {
                if let Err(e) = r {
                    tracing::warn!(error = %e, "could not listen for Ctrl-C");
                }
            }
            _ = term.recv() => {}
            () = token.cancelled() => {}
        }
        tracing::info!("shutting down: finishing requests in flight");
        token.cancel();
    });
    Ok(())
}
