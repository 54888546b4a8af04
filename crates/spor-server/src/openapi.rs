//! The OpenAPI document (`/openapi.json`) and what it says beyond the
//! handlers' own annotations: the bearer scheme, the error shape, and the
//! shapes of bodies the handlers read by hand.
//!
//! The routes enter the document where they enter the router
//! (`utoipa_axum::routes!` in routes/mod.rs), so the two cannot drift.

use serde::Serialize;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi, ToSchema};

use crate::error::{ErrorBody, LineRefusal};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "spor",
        description = "The HTTP API of spor: participants of the introduction programme, their events, status, follow-up reminders and the year-end survey. Every route under /api/v1 needs `Authorization: Bearer spor_ID_SECRET` (`spor token create`), or a browser session signed in through /api/v1/session (password, then a code from an authenticator app). Errors are `{\"error\":{\"code\":…,\"message\":…}}` with the message in Norwegian (bokmål). See docs/api.md."
    ),
    modifiers(&BearerScheme),
    components(schemas(ErrorDoc, ErrorBody, LineRefusal, NewEvent)),
    tags(
        (name = "events", description = "Writing events (hendelser)"),
        (name = "participants", description = "Reading participants (deltakere) and their units' views"),
        (name = "survey", description = "The year-end survey (årsrapportering)"),
        (name = "session", description = "Browser logins (innlogging): password, then a second factor; a session cookie"),
        (name = "health", description = "Liveness and readiness, without credentials"),
    )
)]
pub struct ApiDoc;

struct BearerScheme;

impl Modify for BearerScheme {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("spor_ID_SECRET")
                    .build(),
            ),
        );
    }
}

/// An error answer: `{"error":{…}}`.
#[derive(Serialize, ToSchema)]
pub struct ErrorDoc {
    pub error: ErrorBody,
}

/// One event as a line of contract §1, plus the version the writer saw.
/// `id` is made if missing; `by` and `recorded_at` are the server's.
#[derive(Serialize, ToSchema)]
pub struct NewEvent {
    /// The event's id (a UUID); a retry sends the same one.
    pub id: Option<uuid::Uuid>,
    /// The participant's stream (a UUID).
    pub participant: uuid::Uuid,
    /// Municipality (4 digits) or Oslo ward (6 digits).
    #[schema(pattern = "^[0-9]{4}([0-9]{2})?$")]
    pub unit: String,
    /// The event type, e.g. `started`, `leave_granted`, `completed`.
    #[serde(rename = "type")]
    pub kind: String,
    /// When it took effect (YYYY-MM-DD).
    pub date: chrono::NaiveDate,
    /// The type's own fields (contract §1); unknown fields are refused.
    pub data: serde_json::Value,
    /// The participant's version the writer last saw (0 for a new participant).
    pub expected_version: Option<u32>,
}
