//! The routes of contract §4 and the layers around them.
//!
//! Layers, outermost first: sensitive headers hidden from traces, a request
//! id (made here, never taken from the client), one tracing span per request
//! (method, matched route, request id: no query string, no id, no header),
//! the request id sent back, security headers, compression, a caught panic as
//! a 500, and cross-origin protection on every state-changing route.

mod events;
mod health;
mod leader;
mod participants;
mod query;
mod session;
mod stream;
mod transfer;
mod views;

use std::sync::Arc;

use axum::Router;
use axum::extract::{DefaultBodyLimit, MatchedPath, Request};
use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use tower::ServiceBuilder;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::compression::CompressionLayer;
use tower_http::csrf::{CsrfLayer, ProtectionError};
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::request_id::{
    MakeRequestUuid, PropagateRequestIdLayer, RequestId, SetRequestIdLayer,
};
use tower_http::sensitive_headers::{
    SetSensitiveRequestHeadersLayer, SetSensitiveResponseHeadersLayer,
};
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::{DefaultOnResponse, TraceLayer};
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use utoipa_swagger_ui::SwaggerUi;

use axum_login::{AuthManagerLayer, AuthManagerLayerBuilder};
use tower_sessions::{Expiry, SessionManagerLayer};

use crate::app::App;
use crate::error::ApiError;
use crate::headers;
use crate::login::SessionAccounts;
use crate::openapi::ApiDoc;
use crate::session_store::Sessions;

/// One event is small; this bounds a JSON body everywhere but the import.
const EVENT_BODY_LIMIT: usize = 64 * 1024;

pub fn router(app: Arc<App>) -> Router {
    let settings = &app.settings;
    // Routes that answer quickly: bounded in time as a whole.
    // One `routes!` per path: utoipa-axum gives every path of one call all
    // of its methods.
    let timed = OpenApiRouter::new()
        .routes(routes!(events::append))
        .routes(routes!(participants::get))
        .routes(routes!(views::status))
        .routes(routes!(views::followups))
        .routes(routes!(views::survey_view))
        .routes(routes!(leader::survey_explain))
        .routes(routes!(leader::lint))
        .routes(routes!(leader::report))
        .routes(routes!(session::login, session::current, session::logout))
        .routes(routes!(session::code))
        .routes(routes!(session::password))
        .routes(routes!(session::second_factor))
        .routes(routes!(session::confirm_second_factor))
        .layer(DefaultBodyLimit::max(EVENT_BODY_LIMIT))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::SERVICE_UNAVAILABLE,
            settings.request_timeout,
        ));
    // Routes whose bodies are long: bounded in size, not in time.
    let import = OpenApiRouter::new()
        .routes(routes!(transfer::import))
        .layer(RequestBodyLimitLayer::new(settings.import_limit_bytes))
        .layer(DefaultBodyLimit::disable());
    let long = import
        .routes(routes!(transfer::export))
        .routes(routes!(stream::events));
    let api = timed.merge(long).layer(headers::no_store());
    let open = OpenApiRouter::new()
        .routes(routes!(health::alive))
        .routes(routes!(health::ready));
    let (api, document) = OpenApiRouter::with_openapi(ApiDoc::openapi())
        .merge(api)
        .merge(open)
        .split_for_parts();
    // The document, and an interactive page for it that loads nothing from elsewhere.
    let docs: Router<Arc<App>> = SwaggerUi::new("/api/docs")
        .url("/openapi.json", document)
        .into();

    let mut csrf = CsrfLayer::new();
    for origin in &settings.trusted_origins {
        csrf = match csrf.clone().add_trusted_origin(origin) {
            Ok(c) => c,
            Err(e) => {
                tracing::warn!(origin = %origin, error = %e, "a trusted origin in the configuration is not an origin; left out");
                csrf
            }
        };
    }
    let csrf = csrf.with_rejection_response(|_: ProtectionError| {
        ApiError::new(
            StatusCode::FORBIDDEN,
            "csrf",
            "Forespørselen kom fra et annet nettsted og ble avvist.",
        )
        .into_response()
    });

    let signed_in = browser_sessions(&app);
    let x_request_id = HeaderName::from_static("x-request-id");
    let router = api
        .merge(docs)
        .fallback(not_found)
        .with_state(app)
        .layer(signed_in)
        .layer(axum::middleware::map_response(secure_cookie_removal))
        .layer(axum::middleware::map_response(json_errors));
    let mut router = router.layer(
        ServiceBuilder::new()
            .layer(SetSensitiveRequestHeadersLayer::new([header::AUTHORIZATION, header::COOKIE]))
            .layer(axum::middleware::map_request(drop_client_request_id))
            .layer(SetRequestIdLayer::new(x_request_id.clone(), MakeRequestUuid))
            .layer(
                TraceLayer::new_for_http()
                    .make_span_with(|req: &Request| {
                        let route = req.extensions().get::<MatchedPath>().map_or("(no route)", MatchedPath::as_str);
                        let id = req.extensions().get::<RequestId>().and_then(|r| r.header_value().to_str().ok()).unwrap_or("-");
                        tracing::info_span!("request", method = %req.method(), route = %route, request_id = %id)
                    })
                    .on_response(DefaultOnResponse::new().level(tracing::Level::INFO)),
            )
            .layer(PropagateRequestIdLayer::new(x_request_id))
            .layer(SetSensitiveResponseHeadersLayer::new([header::SET_COOKIE]))
            .layer(CompressionLayer::new())
            .layer(CatchPanicLayer::custom(|_| ApiError::internal().into_response()))
            .layer(csrf),
    );
    // Outermost, so that every answer carries them, refusals included.
    for layer in headers::layers() {
        router = router.layer(layer);
    }
    router
}

/// Browser sessions: the `__Host-spor` cookie (Secure, HttpOnly,
/// SameSite=Lax, path `/`, no domain), ending after the configured time
/// without a request; the signed-in account is loaded for each request.
/// Lax, not Strict, so that a link to spor from an e-mail opens signed in;
/// cross-site writes are stopped by the CSRF layer, which Lax does not
/// replace.
fn browser_sessions(app: &App) -> AuthManagerLayer<SessionAccounts, Sessions> {
    use tower_sessions::cookie::{SameSite, time};
    let idle = i64::try_from(app.settings.session_idle.as_secs())
        .unwrap_or(i64::MAX)
        .max(60);
    let sessions = SessionManagerLayer::new(app.stores.sessions.clone())
        .with_name("__Host-spor")
        .with_secure(true)
        .with_http_only(true)
        .with_same_site(SameSite::Lax)
        .with_path("/")
        .with_expiry(Expiry::OnInactivity(time::Duration::seconds(idle)));
    AuthManagerLayerBuilder::new(
        SessionAccounts::new(Arc::clone(&app.stores.accounts)),
        sessions,
    )
    .build()
}

/// tower-sessions takes a cookie back with a bare `__Host-spor=; Max-Age=0`,
/// which browsers ignore: a `__Host-` cookie is set, and so also removed,
/// only with `Secure` and path `/`. The server has forgotten the session
/// either way; this makes the browser forget the cookie too.
async fn secure_cookie_removal(mut response: Response) -> Response {
    let headers = response.headers_mut();
    let cookies: Vec<_> = headers
        .get_all(header::SET_COOKIE)
        .iter()
        .cloned()
        .collect();
    if !cookies
        .iter()
        .any(|c| c.as_bytes().starts_with(b"__Host-") && !contains_secure(c.as_bytes()))
    {
        return response;
    }
    headers.remove(header::SET_COOKIE);
    for cookie in cookies {
        let bytes = cookie.as_bytes();
        let fixed = if bytes.starts_with(b"__Host-") && !contains_secure(bytes) {
            let mut v = bytes.to_vec();
            v.extend_from_slice(b"; Secure; HttpOnly; SameSite=Lax");
            HeaderValue::from_bytes(&v).unwrap_or(cookie)
        } else {
            cookie
        };
        headers.append(header::SET_COOKIE, fixed);
    }
    response
}

fn contains_secure(cookie: &[u8]) -> bool {
    cookie
        .split(|b| *b == b';')
        .any(|attribute| attribute.trim_ascii().eq_ignore_ascii_case(b"secure"))
}

/// Answers made by a layer (a body too large, a request that took too long,
/// a method a route does not have) get the API's error shape too.
async fn json_errors(response: Response) -> Response {
    let status = response.status();
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
    if !(status.is_client_error() || status.is_server_error()) || is_json {
        return response;
    }
    let (code, message) = match status {
        StatusCode::PAYLOAD_TOO_LARGE => (
            "too_large",
            "Innholdet er større enn grensen for denne adressen.",
        ),
        StatusCode::METHOD_NOT_ALLOWED => (
            "method_not_allowed",
            "Denne adressen tar ikke imot denne metoden (se /api/v1/ i docs/api.md).",
        ),
        StatusCode::SERVICE_UNAVAILABLE | StatusCode::REQUEST_TIMEOUT => {
            ("timeout", "Forespørselen tok for lang tid. Prøv igjen.")
        }
        StatusCode::UNSUPPORTED_MEDIA_TYPE => (
            "unsupported_media_type",
            "Innholdet må være JSON (application/json).",
        ),
        StatusCode::NOT_ACCEPTABLE => (
            "not_acceptable",
            "Svaret kan ikke gis i formatet som ble bedt om.",
        ),
        s if s.is_server_error() => ("internal", "Noe gikk galt på tjeneren. Feilen er logget."),
        _ => ("bad_request", "Forespørselen kan ikke leses."),
    };
    let (mut parts, _) = response.into_parts();
    parts.headers.remove(header::CONTENT_LENGTH);
    let fresh = ApiError::new(status, code, message).into_response();
    let (fresh_parts, body) = fresh.into_parts();
    for (name, value) in &fresh_parts.headers {
        parts.headers.insert(name, value.clone());
    }
    Response::from_parts(parts, body)
}

/// A request id is made here: one sent by the client could be chosen to
/// collide with another request's in the audit trail.
async fn drop_client_request_id(mut req: Request) -> Request {
    req.headers_mut().remove("x-request-id");
    req
}

async fn not_found() -> Response {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "no_route",
        "Denne adressen finnes ikke. API-et ligger under /api/v1/.",
    )
    .into_response()
}
