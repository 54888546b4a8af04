//! `GET /api/v1/participants/{id}`: one participant's events (retractions
//! marked), version and status, for the advisers and leaders of its unit.
//! Another unit's participant and one that does not exist get the same 404.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, State};
use serde::Serialize;
use serde_json::value::RawValue;
use spor_domain::{EventId, ParticipantId, UnitCode};
use spor_projections::status::Status;
use spor_accounts::Role;
use spor_domain::Timeline;
use spor_projections::status::status_of;

use super::events::event_json;
use super::query::strict_participant;
use crate::app::App;
use crate::caller::Caller;
use crate::error::ApiError;

/// One participant, as contract §4 shows it.
#[derive(Serialize)]
pub struct Participant {
    participant: ParticipantId,
    unit: UnitCode,
    version: usize,
    status: Option<Status>,
    events: Vec<Entry>,
}

/// One event of the timeline, and the retraction that took it back, if any.
#[derive(Serialize)]
pub struct Entry {
    seq: u64,
    event: Box<RawValue>,
    retracted_by: Option<EventId>,
}

pub async fn get(State(app): State<Arc<App>>, caller: Caller, Path(id): Path<String>) -> Result<Json<Participant>, ApiError> {
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
        let events: Vec<Entry> =
            timeline.entries().iter().map(|e| Entry { seq: e.seq, event: event_json(&e.event), retracted_by: e.retracted_by }).collect();
        app.audit(&caller, "GET /api/v1/participants/{id}", vec![participant])?;
        Ok(Json(Participant { participant, unit, version, status, events }))
    })
    .await
    .map_err(|_| ApiError::internal())?
}
