//! Who is asking: a bearer token (`Authorization: Bearer spor_ID_SECRET`)
//! acting as its account, with the account's role and units, and where the
//! request came from. Every route that needs an account takes a [`Caller`];
//! what each role may do is decided in the route by [`Caller::require`] and
//! the unit checks here.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use spor_accounts::{AccountError, Role, authenticate_token};
use spor_domain::UnitCode;
use tower_http::request_id::RequestId;
use uuid::Uuid;

use crate::app::App;
use crate::error::ApiError;

/// An authenticated caller.
#[derive(Debug, Clone)]
pub struct Caller {
    pub name: String,
    pub role: Role,
    /// The units the account works with (none for analyst and admin).
    pub units: Vec<UnitCode>,
    /// The peer address.
    pub from: String,
    /// The request id, which its audit record carries.
    pub request: Uuid,
}

impl FromRequestParts<Arc<App>> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, app: &Arc<App>) -> Result<Self, Self::Rejection> {
        let token = parts
            .headers
            .get(AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split_once(' '))
            .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
            .map(|(_, token)| token.trim().to_owned())
            .ok_or_else(ApiError::unauthorized)?;
        let accounts = Arc::clone(&app.stores.accounts);
        let now = app.clock.now();
        let account = tokio::task::spawn_blocking(move || authenticate_token(accounts.as_ref(), &token, now))
            .await
            .map_err(|_| ApiError::internal())?
            .map_err(|e| match e {
                AccountError::Storage(_) => {
                    tracing::error!("the accounts could not be read");
                    ApiError::internal()
                }
                refused => {
                    tracing::info!(reason = refused.code(), "a bearer token was refused");
                    ApiError::unauthorized()
                }
            })?;
        let from = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map_or_else(|| "unknown".to_owned(), |c| c.0.ip().to_string());
        let request = parts
            .extensions
            .get::<RequestId>()
            .and_then(|r| r.header_value().to_str().ok())
            .and_then(|s| Uuid::parse_str(s).ok())
            .unwrap_or_else(Uuid::new_v4);
        Ok(Self { name: account.name().to_string(), role: account.role(), units: account.units().to_vec(), from, request })
    }
}

impl Caller {
    /// Refuses a role that may not use the route.
    pub fn require(&self, roles: &[Role]) -> Result<(), ApiError> {
        if roles.contains(&self.role) {
            Ok(())
        } else {
            Err(ApiError::forbidden(format!("Rollen {} har ikke tilgang til dette.", bokmal_role(self.role))))
        }
    }

    pub fn may_see(&self, unit: UnitCode) -> bool {
        self.units.contains(&unit)
    }

    /// The units a view covers: the one asked for, if it is the caller's,
    /// or all of the caller's.
    pub fn scope(&self, asked: Option<UnitCode>) -> Result<Vec<UnitCode>, ApiError> {
        match asked {
            Some(u) if self.may_see(u) => Ok(vec![u]),
            Some(u) => Err(ApiError::unit_not_permitted(u)),
            None => Ok(self.units.clone()),
        }
    }
}

/// The role's name in bokmål.
pub fn bokmal_role(role: Role) -> &'static str {
    match role {
        Role::Adviser => "veileder",
        Role::Leader => "leder",
        Role::Analyst => "analytiker",
        Role::Admin => "administrator",
    }
}
