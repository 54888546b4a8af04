//! `/healthz` (the process answers) and `/readyz` (the store is open and the
//! projections have caught up with the log). No credentials.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde_json::{Value, json};

use crate::app::App;

/// The process answers.
#[utoipa::path(get, path = "/healthz", tag = "health", responses((status = 200, description = "`{\"status\":\"alive\"}`", body = serde_json::Value)))]
pub async fn alive() -> Json<Value> {
    Json(json!({"status": "alive"}))
}

/// The store is open and the projections have caught up.
#[utoipa::path(get, path = "/readyz", tag = "health", responses(
    (status = 200, description = "Ready", body = serde_json::Value),
    (status = 503, description = "Still reading the log", body = serde_json::Value)))]
pub async fn ready(State(app): State<Arc<App>>) -> (StatusCode, Json<Value>) {
    if app.is_ready() {
        (StatusCode::OK, Json(json!({"status": "ready"})))
    } else {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({"status": "starting"})),
        )
    }
}
