//! Who is asking: a bearer token (`Authorization: Bearer spor_ID_SECRET`)
//! acting as its account, or a browser session signed in with a password and
//! a second factor; either way with the account's role and units, and where
//! the request came from. Every route that needs an account takes a [`Caller`];
//! what each role may do is decided in the route by [`Caller::require`] and
//! the unit checks here.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::HeaderMap;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use spor_accounts::{
    AccountError, AccountName, AccountStore, Role, TokenId, authenticate_token, parse_token,
};
use spor_domain::UnitCode;
use tower_http::request_id::RequestId;
use uuid::Uuid;

use crate::app::App;
use crate::error::ApiError;
use crate::login::BrowserSession;

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
    /// How the caller proved who it is, so that a long answer (a live
    /// stream) can check now and then that it still holds.
    pub credential: Credential,
}

/// What a caller signed in with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Credential {
    /// A bearer token (its id; the secret is not kept).
    Token(TokenId),
    /// A browser session.
    Session,
}

impl Caller {
    /// Whether the caller's credential still holds at `now`: its account
    /// exists and is enabled, and a token is neither revoked nor expired.
    /// Blocking (reads the accounts).
    pub fn still_valid(
        &self,
        accounts: &dyn AccountStore,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<bool, AccountError> {
        let Ok(name) = AccountName::parse(&self.name) else {
            return Ok(false);
        };
        let account_ok = accounts.account(&name)?.is_some_and(|a| !a.is_disabled());
        let token_ok = match self.credential {
            Credential::Session => true,
            Credential::Token(id) => accounts
                .token(&id)?
                .is_some_and(|t| t.revoked_at.is_none() && now < t.expires_at),
        };
        Ok(account_ok && token_ok)
    }
}

impl FromRequestParts<Arc<App>> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        app: &Arc<App>,
    ) -> Result<Self, Self::Rejection> {
        let ClientAddress(from) = ClientAddress::from_request_parts(parts, app).await?;
        let request = parts
            .extensions
            .get::<RequestId>()
            .and_then(|r| r.header_value().to_str().ok())
            .and_then(|s| Uuid::parse_str(s).ok())
            .unwrap_or_else(Uuid::new_v4);
        let from = from.to_string();
        let Some(authorization) = parts.headers.get(AUTHORIZATION) else {
            // No token: a browser, signed in or not.
            let user = parts
                .extensions
                .get::<BrowserSession>()
                .and_then(|s| s.user.clone())
                .ok_or_else(ApiError::unauthorized)?;
            return Ok(Self {
                name: user.name.to_string(),
                role: user.role,
                units: user.units,
                from,
                request,
                credential: Credential::Session,
            });
        };
        let token = authorization
            .to_str()
            .ok()
            .and_then(|v| v.split_once(' '))
            .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
            .map(|(_, token)| token.trim().to_owned())
            .ok_or_else(ApiError::unauthorized)?;
        let token_id = parse_token(&token)
            .map(|t| t.id())
            .map_err(|_| ApiError::unauthorized())?;
        let accounts = Arc::clone(&app.stores.accounts);
        let now = app.clock.now();
        let account =
            tokio::task::spawn_blocking(move || authenticate_token(accounts.as_ref(), &token, now))
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
        Ok(Self {
            name: account.name().to_string(),
            role: account.role(),
            units: account.units().to_vec(),
            from,
            request,
            credential: Credential::Token(token_id),
        })
    }
}

/// Where a request came from: the peer's address, or the client's a trusted
/// proxy names ([`client_address`]).
#[derive(Debug, Clone, Copy)]
pub struct ClientAddress(pub IpAddr);

impl FromRequestParts<Arc<App>> for ClientAddress {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        app: &Arc<App>,
    ) -> Result<Self, Self::Rejection> {
        // Served without connection info (only in-process tests): the
        // unspecified address, which no throttle confuses with a real one.
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map_or(IpAddr::from([0, 0, 0, 0]), |c| c.0.ip());
        Ok(Self(client_address(
            peer,
            &parts.headers,
            &app.settings.trusted_proxies,
        )))
    }
}

/// The client's address: the peer's, or, when the peer is a trusted proxy,
/// the last address in `X-Forwarded-For` that is not itself a trusted proxy
/// (the one the outermost trusted proxy saw). Addresses a client wrote
/// itself, further left, are never believed.
pub fn client_address(peer: IpAddr, headers: &HeaderMap, trusted: &[IpAddr]) -> IpAddr {
    if !trusted.contains(&peer) {
        return peer;
    }
    let forwarded: Vec<IpAddr> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|a| a.trim().parse().ok())
        .collect();
    forwarded
        .into_iter()
        .rev()
        .find(|a| !trusted.contains(a))
        .unwrap_or(peer)
}

impl Caller {
    /// Refuses a role that may not use the route.
    pub fn require(&self, roles: &[Role]) -> Result<(), ApiError> {
        if roles.contains(&self.role) {
            Ok(())
        } else {
            Err(ApiError::forbidden(format!(
                "Rollen {} har ikke tilgang til dette.",
                bokmal_role(self.role)
            )))
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

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(values: &[&str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for v in values {
            h.append("x-forwarded-for", v.parse().expect("a header value"));
        }
        h
    }

    #[test]
    fn forwarded_addresses_are_believed_only_from_a_trusted_proxy() {
        let proxy: IpAddr = "10.0.0.5".parse().expect("an address");
        let client: IpAddr = "192.0.2.7".parse().expect("an address");
        let stranger: IpAddr = "198.51.100.9".parse().expect("an address");
        // Straight from a client: its own header is ignored.
        assert_eq!(
            client_address(stranger, &headers(&["192.0.2.7"]), &[proxy]),
            stranger
        );
        // Through the proxy: the address it appended.
        assert_eq!(
            client_address(proxy, &headers(&["192.0.2.7"]), &[proxy]),
            client
        );
        // A client that forges an address in front: the proxy's appended one wins.
        assert_eq!(
            client_address(proxy, &headers(&["203.0.113.1, 192.0.2.7"]), &[proxy]),
            client
        );
        // Two headers, and garbage: the last good one not a proxy.
        assert_eq!(
            client_address(proxy, &headers(&["junk", "192.0.2.7, 10.0.0.5"]), &[proxy]),
            client
        );
        // No header: the proxy itself.
        assert_eq!(client_address(proxy, &HeaderMap::new(), &[proxy]), proxy);
    }
}
