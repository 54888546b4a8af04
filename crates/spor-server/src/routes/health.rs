//! `/healthz` (the process answers) and `/readyz` (the store is open and the
//! projections have caught up with the log). No credentials.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde_json::{Value, json};

use crate::app::App;

pub async fn alive() -> Json<Value> {
    Json(json!({"status": "alive"}))
}

pub async fn ready(State(app): State<Arc<App>>) -> (StatusCode, Json<Value>) {
    if app.is_ready() {
        (StatusCode::OK, Json(json!({"status": "ready"})))
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, Json(json!({"status": "starting"})))
    }
}
