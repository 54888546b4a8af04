//! Query strings and path parameters read strictly: a malformed value is a
//! 400 that names the parameter and says what would be valid, as JSON like
//! every other error. Dates are `YYYY-MM-DD` exactly and ids canonical
//! hyphenated UUIDs (chrono and uuid alone accept more: `2006-3-1`, braces).

use std::collections::HashMap;

use axum::extract::{FromRequestParts, Query};
use axum::http::request::Parts;
use chrono::{DateTime, NaiveDate, Utc};
use spor_domain::{ParticipantId, UnitCode};
use uuid::Uuid;

use crate::error::ApiError;

/// The query parameters, by name; each route reads the ones it knows and
/// refuses any other.
pub struct Params(HashMap<String, String>);

impl<S: Send + Sync> FromRequestParts<S> for Params {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let Query(map) = Query::<HashMap<String, String>>::from_request_parts(parts, state)
            .await
            .map_err(|_| ApiError::bad_request("bad_query", "Spørrestrengen kan ikke leses."))?;
        Ok(Self(map))
    }
}

impl Params {
    /// Refuses a parameter the route does not know (a typo would otherwise
    /// be silently ignored).
    pub fn only(&self, known: &[&str]) -> Result<(), ApiError> {
        match self.0.keys().find(|k| !known.contains(&k.as_str())) {
            Some(k) => Err(ApiError::bad_request(
                "bad_query",
                format!(
                    "Ukjent parameter «{k}». Gyldige parametre her: {}.",
                    known.join(", ")
                ),
            )
            .with_field(k.clone())),
            None => Ok(()),
        }
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str)
    }

    pub fn date(&self, name: &str) -> Result<Option<NaiveDate>, ApiError> {
        self.get(name)
            .map(|s| {
                strict_date(s).ok_or_else(|| {
                    bad(
                        name,
                        "en dato på formen ÅÅÅÅ-MM-DD, for eksempel 2008-01-15",
                    )
                })
            })
            .transpose()
    }

    pub fn unit(&self, name: &str) -> Result<Option<UnitCode>, ApiError> {
        self.get(name)
            .map(|s| {
                UnitCode::parse(s).ok().ok_or_else(|| {
                    bad(
                        name,
                        "et kommunenummer (4 sifre) eller et bydelsnummer i Oslo (6 sifre)",
                    )
                })
            })
            .transpose()
    }

    pub fn number(&self, name: &str, max: u32) -> Result<Option<u32>, ApiError> {
        self.get(name)
            .map(|s| {
                s.parse::<u32>()
                    .ok()
                    .filter(|n| *n <= max)
                    .ok_or_else(|| bad(name, &format!("et heltall fra 0 til {max}")))
            })
            .transpose()
    }

    pub fn year(&self, name: &str) -> Result<Option<i32>, ApiError> {
        self.get(name)
            .map(|s| {
                s.parse::<i32>()
                    .ok()
                    .filter(|y| (1990..=2100).contains(y))
                    .ok_or_else(|| bad(name, "et årstall fra 1990 til 2100"))
            })
            .transpose()
    }

    /// An RFC 3339 time, or a date meaning the end of that day (UTC), as
    /// `spor survey --known-at` reads it.
    pub fn time(&self, name: &str) -> Result<Option<DateTime<Utc>>, ApiError> {
        self.get(name)
            .map(|s| {
                DateTime::parse_from_rfc3339(s)
                    .map(|t| t.with_timezone(&Utc))
                    .ok()
                    .or_else(|| strict_date(s).and_then(|d| d.and_hms_opt(23, 59, 59)).map(|t| t.and_utc()))
                    .ok_or_else(|| bad(name, "et tidspunkt etter RFC 3339 (2008-02-15T12:00:00Z) eller en dato (2008-02-15)"))
            })
            .transpose()
    }

    pub fn flag(&self, name: &str) -> Result<bool, ApiError> {
        match self.get(name) {
            None | Some("false") => Ok(false),
            Some("true") => Ok(true),
            Some(_) => Err(bad(name, "true eller false")),
        }
    }

    pub fn choice<'a>(&self, name: &str, choices: &[&'a str]) -> Result<Option<&'a str>, ApiError> {
        self.get(name)
            .map(|s| {
                choices
                    .iter()
                    .find(|c| **c == s)
                    .copied()
                    .ok_or_else(|| bad(name, &choices.join(", ")))
            })
            .transpose()
    }
}

fn bad(name: &str, valid: &str) -> ApiError {
    ApiError::bad_request(
        "bad_query",
        format!("Parameteren «{name}» har en ugyldig verdi. Gyldig: {valid}."),
    )
    .with_field(name.to_owned())
}

/// `YYYY-MM-DD` exactly, and a real day.
pub fn strict_date(s: &str) -> Option<NaiveDate> {
    let b = s.as_bytes();
    let shape = b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && b.iter()
            .enumerate()
            .all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit());
    if !shape {
        return None;
    }
    NaiveDate::parse_from_str(s, "%Y-%m-%d").ok()
}

/// A participant id as a canonical hyphenated UUID.
pub fn strict_participant(s: &str) -> Result<ParticipantId, ApiError> {
    Uuid::try_parse(s)
        .ok()
        .filter(|u| u.hyphenated().to_string() == s.to_ascii_lowercase() && s.len() == 36)
        .map(ParticipantId)
        .ok_or_else(|| {
            ApiError::bad_request(
                "bad_id",
                "Id-en er ikke en gyldig UUID (som a3e0c2f4-1b2c-4d5e-8f90-123456789abc).",
            )
            .with_field("id")
        })
}

/// A JSON body read strictly: anything that does not parse as `T` (syntax,
/// unknown fields, wrong types, no body) is a 400 `bad_body` whose message
/// says what is wrong, whatever the `Content-Type` claimed.
pub struct Body<T>(pub T);

impl<S: Send + Sync, T: serde::de::DeserializeOwned> axum::extract::FromRequest<S> for Body<T> {
    type Rejection = ApiError;

    async fn from_request(req: axum::extract::Request, state: &S) -> Result<Self, Self::Rejection> {
        let bytes = axum::body::Bytes::from_request(req, state)
            .await
            .map_err(|_| {
                ApiError::new(
                    axum::http::StatusCode::PAYLOAD_TOO_LARGE,
                    "too_large",
                    "Innholdet er større enn grensen for denne adressen.",
                )
            })?;
        serde_json::from_slice(&bytes).map(Body).map_err(|e| {
            ApiError::bad_request(
                "bad_body",
                format!(
                    "Innholdet er ikke gyldig JSON for denne adressen: {}",
                    crate::error::without_long_numbers(&e.to_string())
                ),
            )
        })
    }
}
