//! `POST /api/v1/events`: one event, judged in the contract's order: the
//! body's unit must be the caller's (403, before any lookup); a participant
//! outside the caller's units, or one that does not exist named by anything
//! but `registered`, is 404; then the expected version (409); then the rules
//! (422). `by` and `recorded_at` are the server's: the account and its clock.

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use serde_json::value::RawValue;
use serde_json::{Map, Value};
use spor_accounts::Role;
use spor_domain::wire::{self, Draft};
use spor_domain::{Event, EventKind};
use spor_shell::{AppendError, Expected, append_one, bokmal};
use uuid::Uuid;

use crate::app::{App, AppendedNote};
use crate::caller::Caller;
use crate::error::{ApiError, without_long_numbers};

/// Appends one event, once it is durable.
#[utoipa::path(post, path = "/api/v1/events", tag = "events",
    request_body(content = crate::openapi::NewEvent, content_type = "application/json"),
    responses(
        (status = 201, description = "Stored and durable: `{seq, version, event}`", body = Stored),
        (status = 200, description = "The same event was already stored (a retry): the stored event", body = Stored),
        (status = 400, description = "The query or body is malformed: the message names the parameter or field", body = crate::openapi::ErrorDoc),
        (status = 401, description = "No token, or a token that is wrong, expired or revoked", body = crate::openapi::ErrorDoc),
        (status = 403, description = "The role may not use this route (`forbidden`), the unit is not the caller's (`unit_not_permitted`), or a cross-site browser request (`csrf`)", body = crate::openapi::ErrorDoc),
        (status = 404, description = "No such participant in the caller's units (the same answer whether it exists elsewhere or not)", body = crate::openapi::ErrorDoc),
        (status = 409, description = "A stale `expected_version` (`conflict`, with `current_version`) or an id reused with other content (`id_reused`)", body = crate::openapi::ErrorDoc),
        (status = 413, description = "The body is larger than the limit", body = crate::openapi::ErrorDoc),
        (status = 422, description = "The rules refuse it (`refused`, with `rule` and `field`), or a value is not one the format allows (`bad_value`, with `field`: a code not in its list, a unit or identity number of the wrong form)", body = crate::openapi::ErrorDoc),
        (status = 503, description = "Starting (`starting`), the audit trail cannot be written (`audit_unavailable`), writes stopped after a disk failure (`store_stopped`), or too slow (`timeout`)", body = crate::openapi::ErrorDoc),
        (status = 500, description = "An internal error (logged)", body = crate::openapi::ErrorDoc)
    ),
    security(("bearer" = [])))]
pub async fn append(
    State(app): State<Arc<App>>,
    caller: Caller,
    body: Bytes,
) -> Result<(StatusCode, Json<Stored>), ApiError> {
    caller.require(&[Role::Adviser, Role::Leader])?;
    let (draft, expected) = read_body(&body, &caller.name)?;
    if !caller.may_see(draft.unit) {
        return Err(ApiError::unit_not_permitted(draft.unit).with_field("unit"));
    }
    let blocking = Arc::clone(&app);
    tokio::task::spawn_blocking(move || write(&blocking, &caller, draft, expected))
        .await
        .map_err(|_| ApiError::internal())?
}

fn write(
    app: &App,
    caller: &Caller,
    draft: Draft,
    expected: Expected,
) -> Result<(StatusCode, Json<Stored>), ApiError> {
    let store = app.stores.events.as_ref();
    match owner(app, draft.participant)? {
        Some(unit) if !caller.may_see(unit) => return Err(ApiError::no_participant()),
        None if draft.body.kind() != EventKind::Registered => {
            return Err(ApiError::no_participant());
        }
        _ => {}
    }
    app.audit(caller, "POST /api/v1/events", vec![draft.participant])?;
    let _shared = app
        .writing
        .read()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let now = app.clock.now();
    let done = append_one(store, draft, expected, &app.settings.policy, now, &same_content).map_err(|e| match e {
        AppendError::Conflict { current, .. } => ApiError::conflict(current),
        AppendError::IdReused(_) => ApiError::new(
            StatusCode::CONFLICT,
            "id_reused",
            "Id-en er allerede brukt for en annen hendelse. En id gjelder én hendelse for alltid; lag en ny id.",
        )
        .with_field("id"),
        AppendError::Refused(refusal) => {
            let rule = refusal.rule();
            ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "refused", bokmal::rule(rule)).with_rule(rule.code()).with_field(field_of(&refusal))
        }
        AppendError::Store(e) => e.into(),
    })?;
    if done.fresh {
        app.follow();
        // Nobody listening is no error.
        let _ = app.appended.send(AppendedNote {
            seq: done.seq,
            participant: done.event.participant,
            unit: done.event.unit,
            kind: done.event.body.kind(),
        });
    }
    let status = if done.fresh {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((
        status,
        Json(Stored {
            seq: done.seq,
            version: done.version,
            event: event_json(&done.event),
        }),
    ))
}

/// The unit that owns the participant's stream (its first event's), if it
/// has one. A stream's owner never changes, so the projections answer when
/// they know the participant; a participant they do not know yet (appended
/// a moment ago by another writer, or the projections still being built)
/// is looked up in the log.
fn owner(
    app: &App,
    participant: spor_domain::ParticipantId,
) -> Result<Option<spor_domain::UnitCode>, ApiError> {
    let known = app.projector().ok().and_then(|p| {
        p.read()
            .timeline(participant)
            .and_then(spor_domain::Timeline::unit)
    });
    match known {
        Some(unit) => Ok(Some(unit)),
        None => Ok(app
            .stores
            .events
            .stream(participant)?
            .first()
            .map(|(_, e)| e.unit)),
    }
}

/// The answer to a write: where the event went and the event as stored.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct Stored {
    /// Its place in the whole log.
    seq: u64,
    /// The participant's version after it (its number of events).
    version: u32,
    /// The event as stored (contract §1), `by` and `recorded_at` set.
    #[schema(value_type = Object)]
    event: Box<RawValue>,
}

/// The same event again (a retry) is the same id with the same participant,
/// unit, type, date and data; `by` and `recorded_at` are the server's.
fn same_content(draft: &Draft, stored: &Event) -> bool {
    draft.id == stored.id
        && draft.participant == stored.participant
        && draft.unit == stored.unit
        && draft.date == stored.date
        && draft.body == stored.body
}

/// Reads the body: a §1 line, `id` optional, plus an optional
/// `expected_version`; the server's own `by` goes in, and any `by` or
/// `recorded_at` in the body is replaced.
fn read_body(body: &[u8], by: &str) -> Result<(Draft, Expected), ApiError> {
    let mut object: Map<String, Value> = match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(o)) => o,
        Ok(_) => {
            return Err(ApiError::bad_request(
                "bad_event",
                "Innholdet må være ett JSON-objekt: én hendelse.",
            ));
        }
        Err(e) => {
            return Err(ApiError::bad_request(
                "bad_event",
                without_long_numbers(&format!("Innholdet er ikke gyldig JSON: {e}")),
            ));
        }
    };
    let expected = match object.remove("expected_version") {
        None | Some(Value::Null) => Expected::Any,
        Some(v) => Expected::Version(v.as_u64().and_then(|n| u32::try_from(n).ok()).ok_or_else(
            || {
                ApiError::bad_request(
                    "bad_event",
                    "«expected_version» må være et heltall fra 0 og oppover.",
                )
                .with_field("expected_version")
            },
        )?),
    };
    if !object.contains_key("id") {
        object.insert("id".into(), Value::String(Uuid::new_v4().to_string()));
    }
    object.remove("recorded_at");
    object.insert("by".into(), Value::String(by.to_owned()));
    let line = Value::Object(object).to_string();
    let draft = wire::parse_line(&line).map_err(|e| match e {
        // The right JSON type, a value the format does not allow (a code
        // not in its list, a unit number of the wrong form): the rules' 422.
        wire::WireError::Value { field, message } => ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "bad_value",
            without_long_numbers(&format!("Verdien i «{field}» er ikke tillatt: {message}")),
        )
        .with_field(field),
        other => ApiError::bad_request(
            "bad_event",
            without_long_numbers(&format!("Ikke en gyldig hendelse: {other}")),
        ),
    })?;
    Ok((draft, expected))
}

/// An event as its §1 interchange object, its fields in the canonical order.
pub fn event_json(event: &Event) -> Box<RawValue> {
    RawValue::from_string(wire::to_line(event))
        .unwrap_or_else(|_| unreachable!("a canonical line is one JSON object"))
}

/// The field a refusal is about, for a form to put its message beside.
fn field_of(refusal: &spor_domain::Refusal) -> String {
    use spor_domain::Refusal as F;
    use spor_domain::Rule as R;
    match refusal {
        F::TextMissing { field, .. }
        | F::TextTooLong { field, .. }
        | F::HoursOutOfRange { field, .. } => return format!("data.{field}"),
        F::RetractionBreaksTimeline { .. } => return "data.event".into(),
        _ => {}
    }
    let field = match refusal.rule() {
        R::UnitMismatch => "unit",
        R::PersonNumber | R::BirthDateMismatch => "data.person",
        R::DufWithoutBirthDate => "data.birth_date",
        R::LeavePeriodReversed => "data.to",
        R::MonthsOutOfRange | R::ExtensionTooLong | R::ExtensionNotLonger => "data.months",
        R::MainActivityRequired | R::MainActivityNotAllowed => "data.main_activity",
        R::ToUnitOnlyWhenMoved | R::ToUnitIsOwnUnit => "data.to_unit",
        R::DuplicateSupport => "data.support",
        R::HoursOutOfRange => "data.hours",
        R::LeaveBeforeStart | R::LeaveAfterExit => "data.from",
        R::RetractUnknown | R::RetractRetraction | R::AlreadyRetracted => "data.event",
        R::MeasureAlreadyOpen | R::MeasureNotStarted => "data.measure",
        R::DateAfterRecording | R::DateOutOfRange => "date",
        _ => "type",
    };
    field.to_owned()
}
