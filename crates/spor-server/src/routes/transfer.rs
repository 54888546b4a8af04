//! `POST /api/v1/import` and `GET /api/v1/export`: JSON Lines in and out,
//! for the caller's units. An import is read as it streams in (never
//! buffered whole), decided whole and written all or nothing, as
//! `spor import` does; an export streams line by line.

use std::collections::HashSet;
use std::io::BufReader;
use std::sync::Arc;

use axum::Json;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use futures_util::TryStreamExt;
use serde_json::{Value, json};
use spor_accounts::Role;
use spor_domain::{ParticipantId, UnitCode};
use spor_shell::{Ingest, IngestError, Silent, bokmal};
use spor_store::StoreError;
use tokio_stream::wrappers::ReceiverStream;
use tokio_util::io::{StreamReader, SyncIoBridge};

use super::query::Params;
use crate::app::{App, AppendedNote};
use crate::caller::Caller;
use crate::error::{ApiError, LineRefusal, without_long_numbers};

/// Imports JSON Lines (contract §1), all or nothing.
#[utoipa::path(post, path = "/api/v1/import", tag = "events",
    request_body(description = "One event per line (JSON Lines); any content type is read as such", content(
        (String = "application/x-ndjson"),
        (String = "text/plain"),
    )),
    responses(
        (status = 200, description = "`{imported, skipped}`", body = serde_json::Value),
        (status = 400, description = "The query or body is malformed: the message names the parameter or field", body = crate::openapi::ErrorDoc),
        (status = 401, description = "No token, or a token that is wrong, expired or revoked", body = crate::openapi::ErrorDoc),
        (status = 403, description = "The role may not use this route (`forbidden`), the unit is not the caller's (`unit_not_permitted`), or a cross-site browser request (`csrf`)", body = crate::openapi::ErrorDoc),
        (status = 413, description = "The body is larger than the limit", body = crate::openapi::ErrorDoc),
        (status = 422, description = "The rules refuse it (`refused`, with `rule` and `field`; for an import, `lines`)", body = crate::openapi::ErrorDoc),
        (status = 503, description = "Starting (`starting`), the audit trail cannot be written (`audit_unavailable`), writes stopped after a disk failure (`store_stopped`), or too slow (`timeout`)", body = crate::openapi::ErrorDoc),
        (status = 500, description = "An internal error (logged)", body = crate::openapi::ErrorDoc)
    ),
    security(("bearer" = [])))]
pub async fn import(
    State(app): State<Arc<App>>,
    caller: Caller,
    body: Body,
) -> Result<Json<Value>, ApiError> {
    caller.require(&[Role::Adviser, Role::Leader])?;
    let reader = StreamReader::new(body.into_data_stream().map_err(std::io::Error::other));
    let handle = tokio::runtime::Handle::current();
    tokio::task::spawn_blocking(move || {
        // The whole body is taken in first (to a temporary file, within the
        // size limit), so that a slow upload holds no lock: the import then
        // runs alone for as long as deciding and writing take, no longer.
        let mut spool = tempfile::tempfile().map_err(|_| ApiError::internal())?;
        std::io::copy(&mut SyncIoBridge::new_with_handle(reader, handle), &mut spool).map_err(|e| body_error(&e))?;
        std::io::Seek::rewind(&mut spool).map_err(|_| ApiError::internal())?;
        let input = BufReader::with_capacity(1 << 16, spool);
        let ingest = Ingest {
            store: app.stores.events.as_ref(),
            policy: app.settings.policy,
            now: app.clock.now(),
            batch_events: app.settings.import_batch_events,
            input_len: None,
            progress: &Silent,
            scope: Some(&caller.units),
            by: Some(&caller.name),
        };
        // Alone: no other write may land between the import's first and last
        // batch (a crash in between takes back everything since it began).
        let exclusive = app.writing.write().unwrap_or_else(std::sync::PoisonError::into_inner);
        let result = ingest.lines(input);
        drop(exclusive);
        match result {
            Ok(done) => {
                app.follow();
                announce(&app, &done.stored);
                // Recorded after it landed, naming every participant written;
                // if that fails, the import stands and the answer says so.
                if app.audit(&caller, "POST /api/v1/import", done.participants).is_err() {
                    return Err(ApiError::new(
                        StatusCode::INTERNAL_SERVER_ERROR,
                        "audit_unavailable",
                        "Importen er lagret, men innsynsloggen kunne ikke skrives. Kontakt driften.",
                    ));
                }
                Ok(Json(json!({"imported": done.stored.len(), "skipped": done.already})))
            }
            Err(IngestError::Refused(lines)) => {
                // A refusal can tell something of stored timelines: recorded too.
                app.audit(&caller, "POST /api/v1/import (refused)", Vec::new())?;
                let lines: Vec<LineRefusal> = lines
                    .iter()
                    .map(|l| LineRefusal {
                        line: l.line,
                        code: l.problem.code(),
                        rule: l.problem.rule().map(spor_domain::Rule::code),
                        message: without_long_numbers(&bokmal::line_problem(&l.problem)),
                    })
                    .collect();
                let n = lines.len();
                let stopped = if n >= spor_shell::ingest::MAX_REFUSED_LINES { " Lesingen stoppet der; flere linjer kan være feil." } else { "" };
                Err(ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "refused", format!("{n} linje(r) ble avvist. Ingenting er importert.{stopped}"))
                    .with_lines(lines))
            }
            Err(IngestError::Store(e)) => Err(e.into()),
            Err(IngestError::Read(e)) => Err(body_error(&e)),
        }
    })
    .await
    .map_err(|_| ApiError::internal())?
}

/// Tells the live streams of each imported event.
fn announce(app: &App, stored: &[(u64, spor_domain::EventId)]) {
    let Some(&(first, _)) = stored.first() else {
        return;
    };
    if app.appended.receiver_count() == 0 {
        return;
    }
    let wanted: HashSet<u64> = stored.iter().map(|(seq, _)| *seq).collect();
    let _ = app.stores.events.scan(first, &mut |seq, e| {
        if wanted.contains(&seq) {
            let _ = app.appended.send(AppendedNote {
                seq,
                participant: e.participant,
                unit: e.unit,
                kind: e.body.kind(),
            });
        }
        Ok(())
    });
}

/// A body that could not be read to its end: too large, or cut off.
fn body_error(e: &std::io::Error) -> ApiError {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(s) = source {
        if s.to_string().contains("length limit exceeded") {
            return ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "too_large",
                "Filen er større enn grensen for én import. Del den opp.",
            );
        }
        source = s.source();
    }
    ApiError::bad_request(
        "bad_body",
        "Innholdet kunne ikke leses til ende. Ingenting er importert.",
    )
}

/// Exports the caller's units as JSON Lines (contract §1).
#[utoipa::path(get, path = "/api/v1/export", tag = "events",
    params(("unit" = Option<String>, Query, description = "One of the caller's units (4 or 6 digits); default: all of them")),
    responses(
        (status = 200, description = "One event per line, in log order", content_type = "application/x-ndjson", body = String),
        (status = 400, description = "The query or body is malformed: the message names the parameter or field", body = crate::openapi::ErrorDoc),
        (status = 401, description = "No token, or a token that is wrong, expired or revoked", body = crate::openapi::ErrorDoc),
        (status = 403, description = "The role may not use this route (`forbidden`), the unit is not the caller's (`unit_not_permitted`), or a cross-site browser request (`csrf`)", body = crate::openapi::ErrorDoc),
        (status = 503, description = "Starting (`starting`), the audit trail cannot be written (`audit_unavailable`), writes stopped after a disk failure (`store_stopped`), or too slow (`timeout`)", body = crate::openapi::ErrorDoc),
        (status = 500, description = "An internal error (logged)", body = crate::openapi::ErrorDoc)
    ),
    security(("bearer" = [])))]
pub async fn export(
    State(app): State<Arc<App>>,
    caller: Caller,
    params: Params,
) -> Result<Response, ApiError> {
    caller.require(&[Role::Adviser, Role::Leader])?;
    params.only(&["unit"])?;
    let units: HashSet<UnitCode> = caller.scope(params.unit("unit")?)?.into_iter().collect();
    let participants: HashSet<ParticipantId> = {
        let projections = app.projector()?.read();
        units
            .iter()
            .flat_map(|u| projections.timelines(Some(*u)).map(|(p, _)| p))
            .collect()
    };
    let auditing = Arc::clone(&app);
    let audited = caller.clone();
    let mut named: Vec<ParticipantId> = participants.iter().copied().collect();
    named.sort_unstable();
    tokio::task::spawn_blocking(move || auditing.audit(&audited, "GET /api/v1/export", named))
        .await
        .map_err(|_| ApiError::internal())??;
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<Bytes, std::io::Error>>(64);
    let shutdown = app.shutdown.clone();
    tokio::task::spawn_blocking(move || {
        let sent = app.stores.events.scan_lines(&mut |_, line| {
            if shutdown.is_cancelled() {
                return Err(StoreError::Io(std::io::Error::other("shutting down")));
            }
            // Only the participants the audit record names: one registered
            // since it was written waits for the next export.
            if line_participant(line).is_some_and(|p| participants.contains(&p)) {
                let mut bytes = Vec::with_capacity(line.len() + 1);
                bytes.extend_from_slice(line.as_bytes());
                bytes.push(b'\n');
                tx.blocking_send(Ok(Bytes::from(bytes)))
                    .map_err(|_| StoreError::Io(std::io::Error::other("client gone")))?;
            }
            Ok(())
        });
        if let Err(e) = sent {
            tracing::info!(error = %e, "export ended early");
            let _ = tx.blocking_send(Err(std::io::Error::other("export ended early")));
        }
    });
    Ok((
        [(header::CONTENT_TYPE, "application/x-ndjson")],
        Body::from_stream(ReceiverStream::new(rx)),
    )
        .into_response())
}

/// The participant of a stored canonical line.
fn line_participant(line: &str) -> Option<ParticipantId> {
    let v: Value = serde_json::from_str(line).ok()?;
    uuid::Uuid::parse_str(v.get("participant")?.as_str()?)
        .ok()
        .map(ParticipantId)
}
