//! The one error type of the API and its JSON shape (contract §4):
//! `{"error":{"code":…,"message":…,"rule":…,"field":…,"current_version":…,"lines":[…]}}`,
//! the message in bokmål, the code stable for scripts. Internals are logged,
//! never sent.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

/// An error answer (boxed: errors travel through every handler's `Result`).
#[derive(Debug, Clone)]
pub struct ApiError(Box<ErrorBody>);

/// What an error answer says.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    #[serde(skip)]
    #[schema(ignore)]
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rule: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub current_version: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lines: Option<Vec<LineRefusal>>,
    /// Seconds to wait, for 429 and 503.
    #[serde(skip)]
    #[schema(ignore)]
    pub retry_after: Option<u64>,
}

/// One refused line of an import.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct LineRefusal {
    pub line: usize,
    pub code: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rule: Option<String>,
    pub message: String,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self(Box::new(ErrorBody {
            status,
            code,
            message: message.into(),
            rule: None,
            field: None,
            current_version: None,
            lines: None,
            retry_after: None,
        }))
    }

    pub fn status(&self) -> StatusCode {
        self.0.status
    }

    pub fn code(&self) -> &'static str {
        self.0.code
    }

    pub fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, message)
    }

    pub fn unauthorized() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "Du er ikke logget inn, eller nøkkelen (token) er ugyldig, utløpt eller trukket tilbake.",
        )
    }

    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "forbidden", message)
    }

    pub fn unit_not_permitted(unit: impl std::fmt::Display) -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            "unit_not_permitted",
            format!("Enhet {unit} er ikke en av dine enheter."),
        )
    }

    /// No such participant in the caller's units: the same answer whether it
    /// exists elsewhere or not at all.
    pub fn no_participant() -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "not_found",
            "Fant ingen deltaker med denne id-en i dine enheter.",
        )
    }

    pub fn conflict(current_version: u32) -> Self {
        let mut e = Self::new(
            StatusCode::CONFLICT,
            "conflict",
            format!(
                "Deltakeren er endret siden du så den (nå versjon {current_version}). Les på nytt og prøv igjen."
            ),
        );
        e.0.current_version = Some(current_version);
        e
    }

    pub fn starting() -> Self {
        let mut e = Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "starting",
            "Tjenesten starter og leser inn loggen. Prøv igjen om litt.",
        );
        e.0.retry_after = Some(2);
        e
    }

    pub fn audit_unavailable() -> Self {
        Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "audit_unavailable",
            "Innsynsloggen kan ikke skrives, så ingen personopplysninger vises. Kontakt driften.",
        )
    }

    pub fn stopped() -> Self {
        Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "store_stopped",
            "Lagringen tar ikke imot flere endringer etter en diskfeil. Ingenting er lagret. Kontakt driften.",
        )
    }

    pub fn internal() -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "Noe gikk galt på tjeneren. Feilen er logget.",
        )
    }

    /// A publication refused because the year was published before with
    /// other figures (reliability P4); the message says how to get the
    /// published version.
    pub fn published_before(e: &spor_shell::publication::PublishError) -> Self {
        if e.is_refusal() {
            Self::new(StatusCode::CONFLICT, "published_before", e.to_string())
        } else {
            tracing::error!(error = %e, "the record of publications cannot be read");
            Self::internal()
        }
    }

    pub fn with_field(mut self, field: impl Into<String>) -> Self {
        self.0.field = Some(field.into());
        self
    }

    pub fn with_rule(mut self, rule: String) -> Self {
        self.0.rule = Some(rule);
        self
    }

    /// Asks the client to wait this many seconds (`Retry-After`).
    pub fn with_retry_after(mut self, seconds: u64) -> Self {
        self.0.retry_after = Some(seconds);
        self
    }

    pub fn with_lines(mut self, lines: Vec<LineRefusal>) -> Self {
        self.0.lines = Some(lines);
        self
    }
}

/// A parser's message with every run of nine or more digits replaced: such a
/// message can quote the value it choked on, and that value may be an
/// identity number (reliability S5: none in any answer or log line).
pub fn without_long_numbers(message: &str) -> String {
    let mut out = String::with_capacity(message.len());
    let mut digits = String::new();
    for c in message.chars().chain(std::iter::once('\0')) {
        if c.is_ascii_digit() {
            digits.push(c);
            continue;
        }
        if digits.len() >= 9 {
            out.push('…');
        } else {
            out.push_str(&digits);
        }
        digits.clear();
        if c != '\0' {
            out.push(c);
        }
    }
    out
}

impl From<spor_store::StoreError> for ApiError {
    fn from(e: spor_store::StoreError) -> Self {
        match e {
            spor_store::StoreError::Stopped(_) => Self::stopped(),
            other => {
                tracing::error!(kind = crate::app::store_error_kind(&other), "store error");
                Self::internal()
            }
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        #[derive(Serialize)]
        struct Body<'a> {
            error: &'a ErrorBody,
        }
        let mut response = (self.0.status, Json(Body { error: &self.0 })).into_response();
        if let Some(secs) = self.0.retry_after
            && let Ok(v) = HeaderValue::from_str(&secs.to_string())
        {
            response.headers_mut().insert(header::RETRY_AFTER, v);
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::without_long_numbers;

    #[test]
    fn long_numbers_are_cut_from_messages_and_short_ones_kept() {
        assert_eq!(
            without_long_numbers(
                "invalid type: integer `31129912345`, expected a string at line 1 column 42"
            ),
            "invalid type: integer `…`, expected a string at line 1 column 42"
        );
        assert_eq!(
            without_long_numbers("12345678 and 123456789"),
            "12345678 and …"
        );
    }
}
