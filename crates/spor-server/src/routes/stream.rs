//! `GET /api/v1/events/stream`: server-sent events, one `appended` per new
//! event of the caller's units. A stream that falls behind is sent `reload`
//! (fetch the views again) and goes on; every stream ends at shutdown, and
//! within `stream_recheck` (a minute) of its token being revoked or expiring, or its account
//! being disabled.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::response::IntoResponse;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures_util::StreamExt;
use spor_accounts::Role;
use tokio_stream::wrappers::BroadcastStream;
use tokio_stream::wrappers::errors::BroadcastStreamRecvError;

use crate::app::App;
use crate::caller::Caller;
use crate::error::ApiError;

/// Server-sent events: `appended` for each new event of the caller's units,
/// `reload` when the stream fell behind.
#[utoipa::path(get, path = "/api/v1/events/stream", tag = "events",
    responses(
        (status = 200, description = "text/event-stream; each `data:` is `{seq, participant, unit, type}`", content_type = "text/event-stream", body = String),
        (status = 401, description = "No token, or a token that is wrong, expired or revoked", body = crate::openapi::ErrorDoc),
        (status = 403, description = "The role may not use this route (`forbidden`), the unit is not the caller's (`unit_not_permitted`), or a cross-site browser request (`csrf`)", body = crate::openapi::ErrorDoc),
        (status = 503, description = "Starting (`starting`), the audit trail cannot be written (`audit_unavailable`), writes stopped after a disk failure (`store_stopped`), or too slow (`timeout`)", body = crate::openapi::ErrorDoc),
        (status = 500, description = "An internal error (logged)", body = crate::openapi::ErrorDoc)
    ),
    security(("bearer" = [])))]
pub async fn events(
    State(app): State<Arc<App>>,
    caller: Caller,
) -> Result<impl IntoResponse, ApiError> {
    caller.require(&[Role::Adviser, Role::Leader])?;
    let receiver = app.appended.subscribe();
    // The stream carries participant ids as they are written: its opening is
    // recorded (who, from where, which units); each event it carries was
    // itself recorded when it was written.
    let auditing = Arc::clone(&app);
    let audited = caller.clone();
    tokio::task::spawn_blocking(move || {
        auditing.audit(&audited, "GET /api/v1/events/stream", Vec::new())
    })
    .await
    .map_err(|_| ApiError::internal())??;
    let units = caller.units.clone();
    let ended = ended(Arc::clone(&app), caller);
    let stream = BroadcastStream::new(receiver)
        .filter_map(move |note| {
            let event = match note {
                Ok(n) if units.contains(&n.unit) => Some(
                    Event::default()
                        .event("appended")
                        .json_data(&n)
                        .unwrap_or_else(|_| Event::default().event("reload")),
                ),
                Ok(_) => None,
                Err(BroadcastStreamRecvError::Lagged(_)) => {
                    Some(Event::default().event("reload").data("behind"))
                }
            };
            std::future::ready(event.map(Ok::<Event, Infallible>))
        })
        .take_until(ended);
    Ok(Sse::new(stream).keep_alive(KeepAlive::new().interval(Duration::from_secs(15))))
}

/// Resolves when the stream must end: at shutdown, or once the caller's
/// token or account no longer holds (checked every `stream_recheck` of the settings; a failure
/// to read the accounts ends the stream too: fail closed).
async fn ended(app: Arc<App>, caller: Caller) {
    let mut every = tokio::time::interval(app.settings.stream_recheck);
    every.tick().await;
    loop {
        tokio::select! {
            () = app.shutdown.cancelled() => return,
            _ = every.tick() => {}
        }
        let accounts = Arc::clone(&app.stores.accounts);
        let now = app.clock.now();
        let who = caller.clone();
        let valid =
            tokio::task::spawn_blocking(move || who.still_valid(accounts.as_ref(), now)).await;
        if !matches!(valid, Ok(Ok(true))) {
            tracing::info!("a live stream ended: its credential no longer holds");
            return;
        }
    }
}
