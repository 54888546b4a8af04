//! What a unit leader checks besides the survey (contract §4: "leader also
//! sees its units' survey, explanations, report and lint"): the people and
//! events behind one figure, data-quality findings, and the national report.
//! The first two name participants and are audited; the report holds only
//! published (suppressed) figures, so analysts get it too.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use chrono::NaiveDate;
use serde::Serialize;
use spor_accounts::Role;
use spor_domain::UnitCode;
use spor_projections::lint::{Finding, findings};
use spor_projections::survey::{Explained, Question, explain};

use super::query::Params;
use crate::app::App;
use crate::caller::Caller;
use crate::error::ApiError;

/// The participants behind one figure, as `spor survey explain --format json`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ExplainDoc {
    pub year: i32,
    #[schema(value_type = String)]
    pub unit: UnitCode,
    #[schema(value_type = String)]
    pub key: Question,
    /// `true`: those counted; `false`: those close to it, each with why not.
    pub counted: bool,
    #[schema(value_type = Vec<Object>)]
    pub participants: Vec<Explained>,
}

/// Who is behind a survey figure of one of the leader's units, with the
/// events that put each there (or, with `counted=false`, who is close and
/// why not).
#[utoipa::path(get, path = "/api/v1/survey/explain", tag = "survey",
    params(
        ("year" = i32, Query, description = "The calendar year"),
        ("unit" = String, Query, description = "One of the leader's units (4 or 6 digits)"),
        ("key" = String, Query, description = "The figure: q1, q2, …, q13c"),
        ("known_at" = Option<String>, Query, description = "As the log stood at this time (RFC 3339)"),
        ("counted" = Option<bool>, Query, description = "false: those close to the figure but not in it, with why not; default true")),
    responses(
        (status = 200, description = "`{year, unit, key, counted, participants: [...]}`", body = ExplainDoc),
        (status = 400, description = "The query is malformed: the message names the parameter", body = crate::openapi::ErrorDoc),
        (status = 401, description = "Not signed in, or a token that is wrong, expired or revoked", body = crate::openapi::ErrorDoc),
        (status = 403, description = "Not a leader (`forbidden`), or not the leader's unit (`unit_not_permitted`)", body = crate::openapi::ErrorDoc),
        (status = 503, description = "Starting (`starting`), the audit trail cannot be written (`audit_unavailable`), or too slow (`timeout`)", body = crate::openapi::ErrorDoc),
        (status = 500, description = "An internal error (logged)", body = crate::openapi::ErrorDoc)
    ),
    security(("bearer" = [])))]
pub async fn survey_explain(
    State(app): State<Arc<App>>,
    caller: Caller,
    params: Params,
) -> Result<Json<ExplainDoc>, ApiError> {
    caller.require(&[Role::Leader])?;
    params.only(&["year", "unit", "key", "known_at", "counted"])?;
    let year = required(params.year("year")?, "year", "et årstall")?;
    let unit = required(params.unit("unit")?, "unit", "en av dine enheter")?;
    if !caller.may_see(unit) {
        return Err(ApiError::unit_not_permitted(unit).with_field("unit"));
    }
    let key: Question = match params.get("key") {
        Some(k) => k.parse().map_err(|_| {
            let valid: Vec<&str> = Question::ALL.iter().map(|q| q.key()).collect();
            ApiError::bad_request(
                "bad_query",
                format!(
                    "Parameteren «key» har en ugyldig verdi. Gyldig: {}.",
                    valid.join(", ")
                ),
            )
            .with_field("key")
        })?,
        None => {
            return Err(ApiError::bad_request(
                "bad_query",
                "Parameteren «key» mangler: oppgi et spørsmål, for eksempel q1.",
            )
            .with_field("key"));
        }
    };
    let known_at = params.time("known_at")?;
    let counted = params.get("counted").is_none() || params.flag("counted")?;
    tokio::task::spawn_blocking(move || {
        let participants = {
            let projections = app.projector()?.read();
            explain(&projections, year, unit, key, known_at, counted)
        };
        app.audit(
            &caller,
            "GET /api/v1/survey/explain",
            participants.iter().map(|p| p.participant).collect(),
        )?;
        Ok(Json(ExplainDoc {
            year,
            unit,
            key,
            counted,
            participants,
        }))
    })
    .await
    .map_err(|_| ApiError::internal())?
}

/// Data-quality findings, as `spor lint --format json`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct LintDoc {
    pub on: NaiveDate,
    #[schema(value_type = Vec<Object>)]
    pub findings: Vec<Finding>,
}

/// Data-quality findings of the leader's units on a day: past the planned
/// end, nothing logged for long, exits recorded late, leaves with no return,
/// unknown unit numbers.
#[utoipa::path(get, path = "/api/v1/lint", tag = "participants",
    params(("unit" = Option<String>, Query, description = "One of the leader's units; default: all of them"), ("on" = Option<String>, Query, description = "The day (YYYY-MM-DD); default: today")),
    responses(
        (status = 200, description = "`{on, findings: [{participant, unit, rule, …}]}`", body = LintDoc),
        (status = 400, description = "The query is malformed: the message names the parameter", body = crate::openapi::ErrorDoc),
        (status = 401, description = "Not signed in, or a token that is wrong, expired or revoked", body = crate::openapi::ErrorDoc),
        (status = 403, description = "Not a leader (`forbidden`), or not the leader's unit (`unit_not_permitted`)", body = crate::openapi::ErrorDoc),
        (status = 503, description = "Starting (`starting`), the audit trail cannot be written (`audit_unavailable`), or too slow (`timeout`)", body = crate::openapi::ErrorDoc),
        (status = 500, description = "An internal error (logged)", body = crate::openapi::ErrorDoc)
    ),
    security(("bearer" = [])))]
pub async fn lint(
    State(app): State<Arc<App>>,
    caller: Caller,
    params: Params,
) -> Result<Json<LintDoc>, ApiError> {
    caller.require(&[Role::Leader])?;
    params.only(&["unit", "on"])?;
    let units = caller.scope(params.unit("unit")?)?;
    let on = params.date("on")?.unwrap_or_else(|| app.today());
    tokio::task::spawn_blocking(move || {
        let found: Vec<Finding> = {
            let projections = app.projector()?.read();
            units
                .iter()
                .flat_map(|u| findings(&projections, on, Some(*u), app.settings.lint_limits))
                .collect()
        };
        app.audit(
            &caller,
            "GET /api/v1/lint",
            found.iter().map(|f| f.participant).collect(),
        )?;
        Ok(Json(LintDoc {
            on,
            findings: found,
        }))
    })
    .await
    .map_err(|_| ApiError::internal())?
}

/// The national report of a year, as `spor report` writes it: a page with
/// the published figures and charts (HTML, no JavaScript), or the same
/// figures as CSV. Small counts are suppressed; no participant is named.
#[utoipa::path(get, path = "/api/v1/report", tag = "survey",
    params(("year" = i32, Query, description = "The calendar year"), ("format" = Option<String>, Query, description = "`html` (default) or `csv`")),
    responses(
        (status = 200, description = "The report: `text/html` or `text/csv`", content_type = "text/html", body = String),
        (status = 400, description = "The query is malformed: the message names the parameter", body = crate::openapi::ErrorDoc),
        (status = 401, description = "Not signed in, or a token that is wrong, expired or revoked", body = crate::openapi::ErrorDoc),
        (status = 403, description = "Neither a leader nor an analyst (`forbidden`)", body = crate::openapi::ErrorDoc),
        (status = 409, description = "The year was published before (`spor report`) with other figures (`published_before`)", body = crate::openapi::ErrorDoc),
        (status = 503, description = "Starting (`starting`), or too slow (`timeout`)", body = crate::openapi::ErrorDoc),
        (status = 500, description = "An internal error (logged)", body = crate::openapi::ErrorDoc)
    ),
    security(("bearer" = [])))]
pub async fn report(
    State(app): State<Arc<App>>,
    caller: Caller,
    params: Params,
) -> Result<Response, ApiError> {
    caller.require(&[Role::Leader, Role::Analyst])?;
    params.only(&["year", "format"])?;
    let year = required(params.year("year")?, "year", "et årstall")?;
    let csv = params.choice("format", &["html", "csv"])? == Some("csv");
    tokio::task::spawn_blocking(move || {
        let gathered = {
            let projections = app.projector()?.read();
            spor_report::Gathered::from(&projections, year, None, app.today(), app.settings.suppress_up_to, app.settings.lint_limits)
        };
        // A year published before is shown only as it was (reliability P4).
        spor_shell::publication::check(&app.stores.publications, year, &gathered.tables)
            .map_err(|e| ApiError::published_before(&e))?;
        let head = app.stores.events.head();
        let input = gathered.input((head.seq, head.hash_hex()), app.clock.now());
        let mut response = if csv {
            let body = spor_report::csv(&input).map_err(|_| ApiError::internal())?;
            ([(header::CONTENT_TYPE, "text/csv; charset=utf-8")], body).into_response()
        } else {
            ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], spor_report::html(&input)).into_response()
        };
        // The page styles itself inline and draws its charts in HTML;
        // nothing else may load or run.
        response.headers_mut().insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(
                "default-src 'none'; style-src 'unsafe-inline'; img-src data:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'none'",
            ),
        );
        Ok(response)
    })
    .await
    .map_err(|_| ApiError::internal())?
}

fn required<T>(value: Option<T>, name: &str, what: &str) -> Result<T, ApiError> {
    value.ok_or_else(|| {
        ApiError::bad_request(
            "bad_query",
            format!("Parameteren «{name}» mangler: oppgi {what}."),
        )
        .with_field(name.to_owned())
    })
}
