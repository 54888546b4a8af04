//! The read views: status and follow-ups of the caller's units (each answer
//! audited with every participant it names), and the survey (aggregates:
//! a leader's own units, or the published document for leaders and analysts).

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use spor_accounts::Role;
use spor_projections::publish::{Published, publish_all};
use spor_projections::survey::{Grouping, SurveyRequest, survey, survey_of_units};
use spor_shell::views::{FollowupsDoc, StatusDoc, Units};

use super::query::Params;
use crate::app::App;
use crate::caller::Caller;
use crate::error::ApiError;

/// The longest `within` a follow-up list takes, in days.
const MAX_WITHIN_DAYS: u32 = 3660;

/// Every participant's status on a day, as `spor status --format json`.
#[utoipa::path(get, path = "/api/v1/status", tag = "participants",
    params(("unit" = Option<String>, Query, description = "One of the caller's units (4 or 6 digits); default: all of them"), ("on" = Option<String>, Query, description = "The day (YYYY-MM-DD); default: today"), ("state" = Option<String>, Query, description = "Only participants in this state: registered, claimed, offered, granted, refused, active, on_leave or ended")),
    responses(
        (status = 200, description = "`{on, unit, participants: [...]}`", body = serde_json::Value),
        (status = 400, description = "The query or body is malformed: the message names the parameter or field", body = crate::openapi::ErrorDoc),
        (status = 401, description = "No token, or a token that is wrong, expired or revoked", body = crate::openapi::ErrorDoc),
        (status = 403, description = "The role may not use this route (`forbidden`), the unit is not the caller's (`unit_not_permitted`), or a cross-site browser request (`csrf`)", body = crate::openapi::ErrorDoc),
        (status = 503, description = "Starting (`starting`), the audit trail cannot be written (`audit_unavailable`), writes stopped after a disk failure (`store_stopped`), or too slow (`timeout`)", body = crate::openapi::ErrorDoc),
        (status = 500, description = "An internal error (logged)", body = crate::openapi::ErrorDoc)
    ),
    security(("bearer" = [])))]
pub async fn status(
    State(app): State<Arc<App>>,
    caller: Caller,
    params: Params,
) -> Result<Json<StatusDoc>, ApiError> {
    caller.require(&[Role::Adviser, Role::Leader])?;
    params.only(&["unit", "on", "state"])?;
    let asked = params.unit("unit")?;
    let units = caller.scope(asked)?;
    let on = params.date("on")?.unwrap_or_else(|| app.today());
    let state = params.choice(
        "state",
        &[
            "registered",
            "claimed",
            "offered",
            "granted",
            "refused",
            "active",
            "on_leave",
            "ended",
        ],
    )?;
    tokio::task::spawn_blocking(move || {
        let mut doc = {
            let projections = app.projector()?.read();
            StatusDoc::new(&projections, Units::Only(&units), asked, on)
        };
        if let Some(state) = state {
            doc.participants.retain(|s| s.state.as_str() == state);
        }
        app.audit(
            &caller,
            "GET /api/v1/status",
            doc.participants.iter().map(|s| s.participant).collect(),
        )?;
        Ok(Json(doc))
    })
    .await
    .map_err(|_| ApiError::internal())?
}

/// The follow-up reminders open on a day (contract §3), as `spor followups --format json`.
#[utoipa::path(get, path = "/api/v1/followups", tag = "participants",
    params(("unit" = Option<String>, Query, description = "One of the caller's units (4 or 6 digits); default: all of them"), ("on" = Option<String>, Query, description = "The day (YYYY-MM-DD); default: today"), ("within" = Option<u32>, Query, description = "Days ahead (0-3660); default from the configuration, 14")),
    responses(
        (status = 200, description = "`{on, items: [...]}`", body = serde_json::Value),
        (status = 400, description = "The query or body is malformed: the message names the parameter or field", body = crate::openapi::ErrorDoc),
        (status = 401, description = "No token, or a token that is wrong, expired or revoked", body = crate::openapi::ErrorDoc),
        (status = 403, description = "The role may not use this route (`forbidden`), the unit is not the caller's (`unit_not_permitted`), or a cross-site browser request (`csrf`)", body = crate::openapi::ErrorDoc),
        (status = 503, description = "Starting (`starting`), the audit trail cannot be written (`audit_unavailable`), writes stopped after a disk failure (`store_stopped`), or too slow (`timeout`)", body = crate::openapi::ErrorDoc),
        (status = 500, description = "An internal error (logged)", body = crate::openapi::ErrorDoc)
    ),
    security(("bearer" = [])))]
pub async fn followups(
    State(app): State<Arc<App>>,
    caller: Caller,
    params: Params,
) -> Result<Json<FollowupsDoc>, ApiError> {
    caller.require(&[Role::Adviser, Role::Leader])?;
    params.only(&["unit", "on", "within"])?;
    let units = caller.scope(params.unit("unit")?)?;
    let on = params.date("on")?.unwrap_or_else(|| app.today());
    let within = params
        .number("within", MAX_WITHIN_DAYS)?
        .unwrap_or(app.settings.within_days);
    tokio::task::spawn_blocking(move || {
        let reminders = {
            let projections = app.projector()?.read();
            FollowupsDoc::reminders(
                &projections,
                Units::Only(&units),
                on,
                within,
                &app.settings.reminders,
            )
        };
        let mut named: Vec<_> = reminders.iter().map(|r| r.participant).collect();
        named.sort_unstable();
        named.dedup();
        app.audit(&caller, "GET /api/v1/followups", named)?;
        Ok(Json(FollowupsDoc::of(on, &reminders)))
    })
    .await
    .map_err(|_| ApiError::internal())?
}

/// The year-end survey (contract §2), as `spor survey --format json`.
#[utoipa::path(get, path = "/api/v1/survey", tag = "survey",
    params(
        ("year" = i32, Query, description = "The calendar year (1990-2100)"),
        ("by" = Option<String>, Query, description = "unit, county or national; default unit"),
        ("known_at" = Option<String>, Query, description = "Count only events recorded by then: RFC 3339, or a date meaning its end"),
        ("publish" = Option<bool>, Query, description = "true: small counts suppressed, for publication"),
    ),
    responses(
        (status = 200, description = "`{year, by, rows: [...], total}`", body = serde_json::Value),
        (status = 400, description = "The query or body is malformed: the message names the parameter or field", body = crate::openapi::ErrorDoc),
        (status = 401, description = "No token, or a token that is wrong, expired or revoked", body = crate::openapi::ErrorDoc),
        (status = 403, description = "The role may not use this route (`forbidden`), the unit is not the caller's (`unit_not_permitted`), or a cross-site browser request (`csrf`)", body = crate::openapi::ErrorDoc),
        (status = 409, description = "With publish=true: the year was published before (a report) with other figures (`published_before`); the message names the --known-at that makes the published version", body = crate::openapi::ErrorDoc),
        (status = 503, description = "Starting (`starting`), the audit trail cannot be written (`audit_unavailable`), writes stopped after a disk failure (`store_stopped`), or too slow (`timeout`)", body = crate::openapi::ErrorDoc),
        (status = 500, description = "An internal error (logged)", body = crate::openapi::ErrorDoc)
    ),
    security(("bearer" = [])))]
pub async fn survey_view(
    State(app): State<Arc<App>>,
    caller: Caller,
    params: Params,
) -> Result<Response, ApiError> {
    caller.require(&[Role::Leader, Role::Analyst])?;
    params.only(&["year", "by", "known_at", "publish"])?;
    let year = params.year("year")?.ok_or_else(|| {
        ApiError::bad_request("bad_query", "Parameteren «year» mangler: oppgi et årstall.")
            .with_field("year")
    })?;
    let by = match params.choice("by", &["unit", "county", "national"])? {
        None | Some("unit") => Grouping::Unit,
        Some("county") => Grouping::County,
        Some(_) => Grouping::National,
    };
    let known_at = params.time("known_at")?;
    let published = params.flag("publish")?;
    if !published {
        if caller.role == Role::Analyst {
            return Err(ApiError::new(
                axum::http::StatusCode::FORBIDDEN,
                "publish_required",
                "Analytikere ser bare publiserte tall: legg til publish=true.",
            ));
        }
        if by != Grouping::Unit {
            return Err(ApiError::forbidden(
                "Upubliserte tall ser en leder bare for egne enheter, med by=unit. Fylke og hele landet: legg til publish=true.",
            ));
        }
    }
    // The one-year indicator's pending contacts are judged on the day the
    // survey is taken as of, as on the command line.
    let as_of = known_at.map_or_else(|| app.today(), |t| t.date_naive());
    let request = SurveyRequest {
        year,
        by,
        known_at,
        as_of,
    };
    tokio::task::spawn_blocking(move || {
        let projections = app.projector()?.read();
        // Serialised from the documents themselves, so fields keep the order
        // `spor survey --format json` prints them in.
        Ok(if published {
            let up_to = app.settings.suppress_up_to;
            let all = publish_all(&projections, &request, up_to);
            // A year published before is shown only as it was (reliability P4).
            spor_shell::publication::check(&app.stores.publications, year, &all)
                .map_err(|e| ApiError::published_before(&e))?;
            Json(Published::at_level(all, &request, up_to)).into_response()
        } else if caller.role == Role::Leader {
            Json(survey_of_units(&projections, &request, &caller.units)).into_response()
        } else {
            Json(survey(&projections, &request)).into_response()
        })
    })
    .await
    .map_err(|_| ApiError::internal())?
}
