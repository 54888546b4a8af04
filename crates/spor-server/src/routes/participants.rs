//! `GET /api/v1/participants/{id}`: one participant's events (retractions
//! marked), version and status, for the advisers and leaders of its unit.
//! Another unit's participant and one that does not exist get the same 404.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, State};
use serde::Serialize;
use serde_json::value::RawValue;
use spor_accounts::Role;
use spor_domain::Timeline;
use spor_domain::{EventId, ParticipantId, UnitCode};
use spor_projections::status::Status;
use spor_projections::status::status_of;

use super::events::event_json;
use super::query::strict_participant;
use crate::app::App;
use crate::caller::Caller;
use crate::error::ApiError;

/// One participant, as contract §4 shows it.
#[derive(Serialize, utoipa::ToSchema)]
pub struct Participant {
    #[schema(value_type = uuid::Uuid)]
    participant: ParticipantId,
    #[schema(value_type = String)]
    unit: UnitCode,
    version: usize,
    /// Where the participant stands today (`spor status`); null before registration completes.
    #[schema(value_type = Option<Object>)]
    status: Option<Status>,
    events: Vec<Entry>,
}

/// One event of the timeline, and the retraction that took it back, if any.
#[derive(Serialize, utoipa::ToSchema)]
pub struct Entry {
    seq: u64,
    #[schema(value_type = Object)]
    event: Box<RawValue>,
    #[schema(value_type = Option<uuid::Uuid>)]
    retracted_by: Option<EventId>,
}

/// One participant: events (retractions marked), version and status today.
#[utoipa::path(get, path = "/api/v1/participants/{id}", tag = "participants",
    params(("id" = String, Path, description = "The participant's id, a hyphenated UUID")),
    responses(
        (status = 200, description = "The participant", body = Participant),
        (status = 400, description = "The query or body is malformed: the message names the parameter or field", body = crate::openapi::ErrorDoc),
        (status = 401, description = "No token, or a token that is wrong, expired or revoked", body = crate::openapi::ErrorDoc),
        (status = 403, description = "The role may not use this route (`forbidden`), the unit is not the caller's (`unit_not_permitted`), or a cross-site browser request (`csrf`)", body = crate::openapi::ErrorDoc),
        (status = 404, description = "No such participant in the caller's units (the same answer whether it exists elsewhere or not)", body = crate::openapi::ErrorDoc),
        (status = 503, description = "Starting (`starting`), the audit trail cannot be written (`audit_unavailable`), writes stopped after a disk failure (`store_stopped`), or too slow (`timeout`)", body = crate::openapi::ErrorDoc),
        (status = 500, description = "An internal error (logged)", body = crate::openapi::ErrorDoc)
    ),
    security(("bearer" = [])))]
pub async fn get(
    State(app): State<Arc<App>>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<Participant>, ApiError> {
    caller.require(&[Role::Adviser, Role::Leader])?;
    let participant = strict_participant(&id)?;
    tokio::task::spawn_blocking(move || {
        let stream = app.stores.events.stream(participant)?;
        let unit = match stream.first() {
            Some((_, first)) if caller.may_see(first.unit) => first.unit,
            _ => return Err(ApiError::no_participant()),
        };
        let version = stream.len();
        let timeline = Timeline::from_entries(stream);
        let status = status_of(participant, &timeline, app.today());
        let events: Vec<Entry> = timeline
            .entries()
            .iter()
            .map(|e| Entry {
                seq: e.seq,
                event: event_json(&e.event),
                retracted_by: e.retracted_by,
            })
            .collect();
        app.audit(&caller, "GET /api/v1/participants/{id}", vec![participant])?;
        Ok(Json(Participant {
            participant,
            unit,
            version,
            status,
            events,
        }))
    })
    .await
    .map_err(|_| ApiError::internal())?
}
