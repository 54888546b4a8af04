//! `spor serve`: the HTTP API of contract §4 on axum and tokio.
//!
//! Holds the routes, who may call them (bearer tokens acting as their
//! account, each account seeing only its own units), the audit record every
//! answer with personal data leaves before it is sent, the error shape, the
//! security headers, live updates as server-sent events, graceful shutdown,
//! and TLS when the binary passes a certificate and key (`tls.rs`). The
//! projections live here for the life of the process:
//! [`spor_shell::Projector`] folds each acknowledged event in, and reads
//! never wait for a rebuild.
//!
//! Never: configuration files or the environment (the binary passes
//! [`ServerSettings`]), a terminal, or personal data in a log line: request
//! spans carry the method, the matched route (`/api/v1/participants/{id}`,
//! never the id) and the request id, and no header is logged.

mod app;
mod caller;
mod error;
mod headers;
mod login;
mod openapi;
mod routes;
mod session_store;
pub mod socket;
mod tls;

pub use app::{App, ServerSettings, Stores};
pub use error::ApiError;
pub use login::LoginLimits;
pub use session_store::{Sessions, SledSessions, remove_expired_sessions};
pub use tls::{Listen, TlsConfig, TlsError, TlsListener};

use std::net::SocketAddr;
use std::sync::Arc;

use tokio_util::sync::CancellationToken;

/// Serves `app` on `listener` (a [`tokio::net::TcpListener`] for plain HTTP, a
/// [`TlsListener`] for HTTPS) until `shutdown` is cancelled. In-flight
/// requests finish (an append under way is acknowledged or refused, never
/// cut), event streams end at once, and then it returns.
pub async fn serve(
    app: Arc<App>,
    listener: impl Into<Listen>,
    shutdown: CancellationToken,
) -> std::io::Result<()> {
    let router = routes::router(Arc::clone(&app));
    // Built off the async threads while the server already answers
    // (`/healthz` yes, views 503 until it is done). A failure is logged there.
    tokio::task::spawn_blocking({
        let app = Arc::clone(&app);
        move || app.build_projections()
    });
    tokio::spawn(forget_recovered_logins(Arc::clone(&app), shutdown.clone()));
    let service = router.into_make_service_with_connect_info::<SocketAddr>();
    let stop = shutdown.clone().cancelled_owned();
    match listener.into() {
        Listen::Http(tcp) => axum::serve(tcp, service).with_graceful_shutdown(stop).await,
        // axum gives `ConnectInfo<SocketAddr>` for its own TcpListener and for
        // any listener wrapped by `tap_io`; this wrap does nothing else.
        Listen::Https(tls) => {
            use axum::serve::ListenerExt;
            axum::serve(tls.tap_io(|_| {}), service)
                .with_graceful_shutdown(stop)
                .await
        }
    }
}

/// Now and then, lets the login throttle forget addresses and accounts
/// whose limits have recovered, so its memory stays bounded.
async fn forget_recovered_logins(app: Arc<App>, shutdown: CancellationToken) {
    let mut every = tokio::time::interval(std::time::Duration::from_secs(60));
    loop {
        tokio::select! {
            _ = every.tick() => app.login_throttle.forget_recovered(),
            () = shutdown.cancelled() => return,
        }
    }
}

/// A generator seeded by the operating system, for secrets.
pub(crate) fn os_rng() -> Result<rand::rngs::StdRng, ApiError> {
    <rand::rngs::StdRng as rand::SeedableRng>::try_from_os_rng().map_err(|_| {
        tracing::error!("the operating system gave no random bytes");
        ApiError::internal()
    })
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
