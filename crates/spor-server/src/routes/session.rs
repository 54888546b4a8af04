//! `/api/v1/session`: a browser logs in with a password and a second factor
//! (contract §4), and gets a session cookie (`__Host-spor`: Secure,
//! HttpOnly, SameSite=Strict, its id rotated when the password is accepted
//! and again at sign-in).
//!
//! A login goes through these steps; each answer names the next
//! (`{"next": …}`):
//! 1. `POST /api/v1/session` with the name and password (and the code, if
//!    the form has it already);
//! 2. `code`: `POST /api/v1/session/code` with the 6 digits of the
//!    authenticator app, or a recovery code;
//! 3. `new_password` (the first login, or after `spor user set-password`):
//!    `POST /api/v1/session/password`;
//! 4. `second_factor_setup` (the first login, or after `spor user
//!    reset-mfa`): `POST /api/v1/session/second-factor` shows the secret and
//!    its QR code, `POST /api/v1/session/second-factor/confirm` takes the
//!    first code and answers with the recovery codes, once;
//! 5. `done`: signed in.
//!
//! Every password or code tried counts against the throttle
//! ([`crate::login::LoginThrottle`]); a wrong name and a wrong password get
//! the same answer in the same time.

use std::net::IpAddr;
use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use spor_accounts::{
    Account, AccountError, AccountName, AccountStore, PasswordRefusal, PasswordSetBy,
    hash_password, verify_login, verify_password,
};
use tower_sessions::Session;
use utoipa::ToSchema;

use crate::app::App;
use crate::caller::{ClientAddress, bokmal_role};
use crate::error::ApiError;
use crate::login::{Attempt, BrowserSession, Verified};
use crate::routes::query::Body;

/// Where a login stands, kept in the session until it is done.
const IN_PROGRESS: &str = "spor.login";
/// A login not finished within this long starts over.
const STEP_TIME_LIMIT_MINUTES: i64 = 10;
/// Wrong codes one login may try before it starts over from the password.
const MAX_WRONG_CODES: u8 = 5;

/// The step a login is waiting for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Next {
    /// A code from the authenticator app, or a recovery code.
    Code,
    /// A new password of the account owner's choosing.
    NewPassword,
    /// Setting up the authenticator app.
    SecondFactorSetup,
    /// Signed in.
    Done,
}

/// Where a login stands. When `next` is `done`, `account` says who is signed in.
#[derive(Debug, Serialize, ToSchema)]
pub struct LoginState {
    pub next: Next,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub account: Option<Me>,
    /// Shown once, when the second factor has just been set up: each logs in
    /// once in place of a code, if the phone is lost.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recovery_codes: Option<Vec<String>>,
}

/// The signed-in account.
#[derive(Debug, Serialize, ToSchema)]
pub struct Me {
    pub name: String,
    /// `adviser`, `leader`, `analyst` or `admin`.
    pub role: String,
    /// The role in bokmål, for a page to show.
    pub role_name: String,
    pub units: Vec<String>,
    /// The day views are taken on (with `--demo`, a day inside the demo's years).
    pub today: NaiveDate,
}

/// A login under way.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct InProgress {
    name: String,
    next: Next,
    since: DateTime<Utc>,
    wrong_codes: u8,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    pub name: String,
    pub password: String,
    /// The code, if the login form asks for it together with the password.
    pub code: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CodeRequest {
    /// 6 digits from the authenticator app, or a recovery code.
    pub code: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordRequest {
    /// Needed when a signed-in account changes its password; not during a login.
    pub current_password: Option<String>,
    pub new_password: String,
}

/// What an authenticator app needs: shown once, while the setup is under way.
#[derive(Debug, Serialize, ToSchema)]
pub struct SecondFactorSetup {
    /// The secret in base32, to type in if the QR code cannot be scanned.
    pub secret: String,
    /// The `otpauth://` address the QR code holds.
    pub otpauth_url: String,
    /// The QR code as an SVG image (with `role="img"` and a label).
    pub qr_svg: String,
}

/// Starts a login with a name and a password.
#[utoipa::path(post, path = "/api/v1/session", tag = "session",
    request_body = LoginRequest,
    responses(
        (status = 200, description = "The password is right: the next step, or `done`", body = LoginState),
        (status = 400, description = "The body is not a login", body = crate::openapi::ErrorDoc),
        (status = 401, description = "Wrong name or password (`login_failed`: the same answer for both), or a wrong code", body = crate::openapi::ErrorDoc),
        (status = 403, description = "A cross-site browser request (`csrf`)", body = crate::openapi::ErrorDoc),
        (status = 429, description = "Too many attempts (`throttled`, with `Retry-After`)", body = crate::openapi::ErrorDoc),
        (status = 500, description = "An internal error (logged)", body = crate::openapi::ErrorDoc)
    ))]
pub async fn login(
    State(app): State<Arc<App>>,
    ClientAddress(from): ClientAddress,
    mut auth: BrowserSession,
    Body(request): Body<LoginRequest>,
) -> Result<Json<LoginState>, ApiError> {
    throttle(&app, &request.name, from).await?;
    let accounts = Arc::clone(&app.stores.accounts);
    let LoginRequest {
        name,
        password,
        code,
    } = request;
    let account =
        tokio::task::spawn_blocking(move || password_login(accounts.as_ref(), &name, &password))
            .await
            .map_err(|_| ApiError::internal())??
            .ok_or_else(login_failed)?;
    // Signed out of anything before, and a new session id from here on:
    // an id planted before the login is worth nothing after it.
    if auth.user.is_some() {
        auth.logout().await.map_err(session_failed)?;
    }
    auth.session.cycle_id().await.map_err(session_failed)?;
    let mut step = InProgress {
        name: account.name().to_string(),
        next: first_step(&account),
        since: app.clock.now(),
        wrong_codes: 0,
    };
    if step.next == Next::Code
        && let Some(code) = code
    {
        return take_code(&app, &mut auth, step, code).await;
    }
    step.since = app.clock.now();
    save(&auth.session, &step).await?;
    Ok(Json(LoginState {
        next: step.next,
        account: None,
        recovery_codes: None,
    }))
}

/// The account, if the name and password are right and the account may log
/// in. An unknown name costs the same time as a wrong password.
fn password_login(
    accounts: &dyn AccountStore,
    name: &str,
    password: &str,
) -> Result<Option<Account>, ApiError> {
    let account = match AccountName::parse(name) {
        Ok(name) => accounts.account(&name).map_err(account_failed)?,
        Err(_) => None,
    };
    let right = verify_login(account.as_ref(), password);
    Ok(account.filter(|a| right && !a.is_disabled()))
}

/// The second step: a code from the authenticator app or a recovery code.
#[utoipa::path(post, path = "/api/v1/session/code", tag = "session",
    request_body = CodeRequest,
    responses(
        (status = 200, description = "The code is right: the next step, or `done`", body = LoginState),
        (status = 400, description = "The body is not a code", body = crate::openapi::ErrorDoc),
        (status = 401, description = "A wrong or used code (`bad_code`), or no login under way (`login_not_started`)", body = crate::openapi::ErrorDoc),
        (status = 403, description = "A cross-site browser request (`csrf`)", body = crate::openapi::ErrorDoc),
        (status = 409, description = "The login waits for another step (`wrong_step`)", body = crate::openapi::ErrorDoc),
        (status = 429, description = "Too many attempts (`throttled`, with `Retry-After`)", body = crate::openapi::ErrorDoc),
        (status = 500, description = "An internal error (logged)", body = crate::openapi::ErrorDoc)
    ))]
pub async fn code(
    State(app): State<Arc<App>>,
    ClientAddress(from): ClientAddress,
    mut auth: BrowserSession,
    Body(request): Body<CodeRequest>,
) -> Result<Json<LoginState>, ApiError> {
    let step = in_progress(&app, &auth.session, Next::Code).await?;
    throttle(&app, &step.name, from).await?;
    take_code(&app, &mut auth, step, request.code).await
}

async fn take_code(
    app: &Arc<App>,
    auth: &mut BrowserSession,
    mut step: InProgress,
    code: String,
) -> Result<Json<LoginState>, ApiError> {
    let accounts = Arc::clone(&app.stores.accounts);
    let name = account_name(&step)?;
    let now = app.clock.now();
    let accepted = tokio::task::spawn_blocking(move || {
        accounts.update(&name, &mut |account| {
            let code = code.trim();
            if code.len() == 6 && code.bytes().all(|b| b.is_ascii_digit()) {
                account.accept_code(code, now).map(drop)
            } else {
                account.use_recovery_code(code, now)
            }
        })
    })
    .await
    .map_err(|_| ApiError::internal())?;
    match accepted {
        Ok(account) if account.must_change_password() => {
            step.next = Next::NewPassword;
            step.since = app.clock.now();
            save(&auth.session, &step).await?;
            Ok(Json(LoginState {
                next: step.next,
                account: None,
                recovery_codes: None,
            }))
        }
        Ok(account) => sign_in(app, auth, account, None).await,
        Err(
            e @ (AccountError::BadCode
            | AccountError::CodeReused
            | AccountError::NoSecondFactor { .. }),
        ) => Err(wrong_code(auth, step, &e).await),
        Err(e) => Err(account_failed(e)),
    }
}

/// Counts a wrong code; after [`MAX_WRONG_CODES`] the login starts over.
async fn wrong_code(auth: &BrowserSession, mut step: InProgress, e: &AccountError) -> ApiError {
    step.wrong_codes += 1;
    if step.wrong_codes >= MAX_WRONG_CODES {
        return match auth.session.remove::<InProgress>(IN_PROGRESS).await {
            Ok(_) => ApiError::new(
                StatusCode::UNAUTHORIZED,
                "login_not_started",
                "For mange feil koder. Begynn innloggingen på nytt med brukernavn og passord.",
            ),
            Err(e) => session_failed(e),
        };
    }
    if let Err(e) = save(&auth.session, &step).await {
        return e;
    }
    let message = match e {
        AccountError::CodeReused => "Koden er allerede brukt. Vent på neste kode i appen.",
        _ => {
            "Koden stemmer ikke. Skriv de 6 sifrene appen viser nå, eller en av gjenopprettingskodene."
        }
    };
    ApiError::new(StatusCode::UNAUTHORIZED, "bad_code", message).with_field("code")
}

/// A new password: during a login that asks for one, or by a signed-in
/// account (then with the current password).
#[utoipa::path(post, path = "/api/v1/session/password", tag = "session",
    request_body = PasswordRequest,
    responses(
        (status = 200, description = "The password is changed: the next step, or `done`", body = LoginState),
        (status = 400, description = "The body is not a password change", body = crate::openapi::ErrorDoc),
        (status = 401, description = "The current password is wrong (`login_failed`), or neither signed in nor logging in (`login_not_started`)", body = crate::openapi::ErrorDoc),
        (status = 403, description = "A cross-site browser request (`csrf`)", body = crate::openapi::ErrorDoc),
        (status = 409, description = "The login waits for another step (`wrong_step`)", body = crate::openapi::ErrorDoc),
        (status = 422, description = "The new password is refused (`password_too_short`, `password_too_long`, `password_contains_name`, `password_too_weak`, `password_unchanged`; `field` is `new_password`)", body = crate::openapi::ErrorDoc),
        (status = 429, description = "Too many attempts (`throttled`, with `Retry-After`)", body = crate::openapi::ErrorDoc),
        (status = 500, description = "An internal error (logged)", body = crate::openapi::ErrorDoc)
    ))]
pub async fn password(
    State(app): State<Arc<App>>,
    ClientAddress(from): ClientAddress,
    mut auth: BrowserSession,
    Body(request): Body<PasswordRequest>,
) -> Result<Json<LoginState>, ApiError> {
    let signed_in = auth.user.clone();
    let (name, step) = match &signed_in {
        Some(user) => (user.name.clone(), None),
        None => {
            let step = in_progress(&app, &auth.session, Next::NewPassword).await?;
            (account_name(&step)?, Some(step))
        }
    };
    let current = match (&signed_in, request.current_password) {
        (Some(_), Some(current)) => {
            throttle(&app, name.as_str(), from).await?;
            Some(current)
        }
        (Some(_), None) => {
            return Err(
                ApiError::bad_request("bad_body", "Skriv inn passordet du har nå.")
                    .with_field("current_password"),
            );
        }
        (None, _) => None,
    };
    let policy = app.settings.password_policy;
    policy
        .check(&name, &request.new_password)
        .map_err(|r| password_refused(&r))?;
    let accounts = Arc::clone(&app.stores.accounts);
    let new = request.new_password;
    let changed = tokio::task::spawn_blocking(move || -> Result<Account, ApiError> {
        let account = accounts
            .account(&name)
            .map_err(account_failed)?
            .ok_or_else(login_failed)?;
        if let Some(current) = current
            && !verify_password(account.password_hash(), &current)
        {
            return Err(login_failed());
        }
        if verify_password(account.password_hash(), &new) {
            return Err(ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "password_unchanged",
                "Velg et annet passord enn det du har nå.",
            )
            .with_field("new_password"));
        }
        let hash = hash_password(&new);
        accounts
            .update(&name, &mut |a| {
                a.set_password(hash.clone(), PasswordSetBy::Owner);
                Ok(())
            })
            .map_err(account_failed)
    })
    .await
    .map_err(|_| ApiError::internal())??;
    match step {
        // The new password changes the session's fingerprint: signed in again
        // with it, or the next request would be signed out.
        None => sign_in(&app, &mut auth, changed, None).await,
        Some(_) if changed.has_second_factor() => sign_in(&app, &mut auth, changed, None).await,
        Some(mut step) => {
            step.next = Next::SecondFactorSetup;
            step.since = app.clock.now();
            save(&auth.session, &step).await?;
            Ok(Json(LoginState {
                next: step.next,
                account: None,
                recovery_codes: None,
            }))
        }
    }
}

/// Starts setting up the authenticator app: a new secret, shown once.
#[utoipa::path(post, path = "/api/v1/session/second-factor", tag = "session",
    responses(
        (status = 200, description = "The secret, its `otpauth://` address and a QR code of it", body = SecondFactorSetup),
        (status = 401, description = "No login under way (`login_not_started`)", body = crate::openapi::ErrorDoc),
        (status = 403, description = "A cross-site browser request (`csrf`)", body = crate::openapi::ErrorDoc),
        (status = 409, description = "The login waits for another step (`wrong_step`)", body = crate::openapi::ErrorDoc),
        (status = 500, description = "An internal error (logged)", body = crate::openapi::ErrorDoc)
    ))]
pub async fn second_factor(
    State(app): State<Arc<App>>,
    auth: BrowserSession,
) -> Result<Json<SecondFactorSetup>, ApiError> {
    let step = in_progress(&app, &auth.session, Next::SecondFactorSetup).await?;
    let name = account_name(&step)?;
    let accounts = Arc::clone(&app.stores.accounts);
    tokio::task::spawn_blocking(move || {
        let mut rng = crate::os_rng()?;
        let mut shown = None;
        accounts
            .update(&name, &mut |account| {
                shown = Some(account.begin_enrolment(spor_accounts::ISSUER, &mut rng)?);
                Ok(())
            })
            .map_err(account_failed)?;
        let enrolment = shown.ok_or_else(ApiError::internal)?;
        Ok(Json(SecondFactorSetup {
            secret: enrolment.secret_base32(),
            otpauth_url: enrolment.otpauth_url().to_owned(),
            qr_svg: enrolment.qr_svg().to_owned(),
        }))
    })
    .await
    .map_err(|_| ApiError::internal())?
}

/// Finishes the setup with the first code the app shows, and signs in.
#[utoipa::path(post, path = "/api/v1/session/second-factor/confirm", tag = "session",
    request_body = CodeRequest,
    responses(
        (status = 200, description = "Set up and signed in: `next` is `done`, with the recovery codes, shown this once", body = LoginState),
        (status = 400, description = "The body is not a code", body = crate::openapi::ErrorDoc),
        (status = 401, description = "A wrong code (`bad_code`), or no login under way (`login_not_started`)", body = crate::openapi::ErrorDoc),
        (status = 403, description = "A cross-site browser request (`csrf`)", body = crate::openapi::ErrorDoc),
        (status = 409, description = "The login waits for another step, or the setup was not started (`wrong_step`)", body = crate::openapi::ErrorDoc),
        (status = 429, description = "Too many attempts (`throttled`, with `Retry-After`)", body = crate::openapi::ErrorDoc),
        (status = 500, description = "An internal error (logged)", body = crate::openapi::ErrorDoc)
    ))]
pub async fn confirm_second_factor(
    State(app): State<Arc<App>>,
    ClientAddress(from): ClientAddress,
    mut auth: BrowserSession,
    Body(request): Body<CodeRequest>,
) -> Result<Json<LoginState>, ApiError> {
    let step = in_progress(&app, &auth.session, Next::SecondFactorSetup).await?;
    throttle(&app, &step.name, from).await?;
    let name = account_name(&step)?;
    let accounts = Arc::clone(&app.stores.accounts);
    let now = app.clock.now();
    let confirmed = tokio::task::spawn_blocking(move || {
        let mut rng = crate::os_rng()?;
        let mut codes = Vec::new();
        let account = accounts.update(&name, &mut |account| {
            codes = account.confirm_enrolment(request.code.trim(), now, &mut rng)?;
            Ok(())
        });
        Ok::<_, ApiError>(account.map(|a| {
            (
                a,
                codes
                    .iter()
                    .map(|c| c.expose().to_owned())
                    .collect::<Vec<_>>(),
            )
        }))
    })
    .await
    .map_err(|_| ApiError::internal())??;
    match confirmed {
        Ok((account, codes)) => sign_in(&app, &mut auth, account, Some(codes)).await,
        Err(AccountError::NoEnrolmentPending { .. }) => Err(ApiError::new(
            StatusCode::CONFLICT,
            "wrong_step",
            "Oppsettet av appen er ikke startet. Be om en ny QR-kode og prøv igjen.",
        )),
        Err(e @ AccountError::BadCode) => Err(wrong_code(&auth, step, &e).await),
        Err(e) => Err(account_failed(e)),
    }
}

/// Who is signed in, or how far a login has come.
#[utoipa::path(get, path = "/api/v1/session", tag = "session",
    responses(
        (status = 200, description = "Signed in (`next` is `done`, with the account), or the step a login waits for", body = LoginState),
        (status = 401, description = "Neither signed in nor logging in", body = crate::openapi::ErrorDoc)
    ))]
pub async fn current(
    State(app): State<Arc<App>>,
    auth: BrowserSession,
) -> Result<Json<LoginState>, ApiError> {
    if let Some(user) = &auth.user {
        let me = Me {
            name: user.name.to_string(),
            role: user.role.as_str().to_owned(),
            role_name: bokmal_role(user.role).to_owned(),
            units: user.units.iter().map(ToString::to_string).collect(),
            today: app.today(),
        };
        return Ok(Json(LoginState {
            next: Next::Done,
            account: Some(me),
            recovery_codes: None,
        }));
    }
    match load(&app, &auth.session).await? {
        Some(step) => Ok(Json(LoginState {
            next: step.next,
            account: None,
            recovery_codes: None,
        })),
        None => Err(ApiError::unauthorized()),
    }
}

/// Signs out: the session is removed from the store at once.
#[utoipa::path(delete, path = "/api/v1/session", tag = "session",
    responses(
        (status = 204, description = "Signed out (also when nobody was signed in)"),
        (status = 403, description = "A cross-site browser request (`csrf`)", body = crate::openapi::ErrorDoc)
    ))]
pub async fn logout(mut auth: BrowserSession) -> Result<StatusCode, ApiError> {
    auth.logout().await.map_err(session_failed)?;
    Ok(StatusCode::NO_CONTENT)
}

/// The step after the password.
fn first_step(account: &Account) -> Next {
    if account.has_second_factor() {
        Next::Code
    } else if account.must_change_password() {
        Next::NewPassword
    } else {
        Next::SecondFactorSetup
    }
}

async fn sign_in(
    app: &App,
    auth: &mut BrowserSession,
    account: Account,
    recovery_codes: Option<Vec<String>>,
) -> Result<Json<LoginState>, ApiError> {
    let user = auth
        .authenticate(Verified(account))
        .await
        .map_err(session_failed)?
        .ok_or_else(login_failed)?;
    auth.login(&user).await.map_err(session_failed)?;
    let _ = auth
        .session
        .remove::<InProgress>(IN_PROGRESS)
        .await
        .map_err(session_failed)?;
    tracing::info!("a browser signed in");
    let me = Me {
        name: user.name.to_string(),
        role: user.role.as_str().to_owned(),
        role_name: bokmal_role(user.role).to_owned(),
        units: user.units.iter().map(ToString::to_string).collect(),
        today: app.today(),
    };
    Ok(Json(LoginState {
        next: Next::Done,
        account: Some(me),
        recovery_codes,
    }))
}

async fn load(app: &App, session: &Session) -> Result<Option<InProgress>, ApiError> {
    let step: Option<InProgress> = session.get(IN_PROGRESS).await.map_err(session_failed)?;
    let limit = chrono::Duration::minutes(STEP_TIME_LIMIT_MINUTES);
    Ok(step.filter(|s| app.clock.now() - s.since <= limit))
}

/// The login under way, which must be waiting for `expected`.
async fn in_progress(app: &App, session: &Session, expected: Next) -> Result<InProgress, ApiError> {
    let step = load(app, session).await?.ok_or_else(|| {
        ApiError::new(
            StatusCode::UNAUTHORIZED,
            "login_not_started",
            "Ingen innlogging er i gang, eller den tok for lang tid. Begynn på nytt med brukernavn og passord.",
        )
    })?;
    if step.next != expected {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "wrong_step",
            "Innloggingen venter på et annet steg.",
        )
        .with_field(step_name(step.next)));
    }
    Ok(step)
}

fn step_name(next: Next) -> &'static str {
    match next {
        Next::Code => "code",
        Next::NewPassword => "new_password",
        Next::SecondFactorSetup => "second_factor_setup",
        Next::Done => "done",
    }
}

async fn save(session: &Session, step: &InProgress) -> Result<(), ApiError> {
    session
        .insert(IN_PROGRESS, step)
        .await
        .map_err(session_failed)
}

fn account_name(step: &InProgress) -> Result<AccountName, ApiError> {
    AccountName::parse(&step.name).map_err(|_| ApiError::internal())
}

async fn throttle(app: &App, name: &str, from: IpAddr) -> Result<(), ApiError> {
    match app.login_throttle.attempt(name, from) {
        Attempt::Allowed { after } => {
            if !after.is_zero() {
                tokio::time::sleep(after).await;
            }
            Ok(())
        }
        Attempt::Refused { retry_after } => {
            tracing::warn!("login attempts throttled");
            Err(ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "throttled",
                "For mange innloggingsforsøk. Vent litt og prøv igjen.",
            )
            .with_retry_after(retry_after.as_secs().max(1)))
        }
    }
}

fn login_failed() -> ApiError {
    ApiError::new(
        StatusCode::UNAUTHORIZED,
        "login_failed",
        "Feil brukernavn eller passord.",
    )
}

fn password_refused(refusal: &PasswordRefusal) -> ApiError {
    let message = match refusal {
        PasswordRefusal::TooShort { min_chars } => {
            format!("Passordet er for kort. Bruk minst {min_chars} tegn, for eksempel noen ord som ikke hører sammen.")
        }
        PasswordRefusal::TooLong { max_chars } => format!("Passordet er for langt. Bruk høyst {max_chars} tegn."),
        PasswordRefusal::ContainsName => "Passordet inneholder brukernavnet. Velg et som ikke gjør det.".to_owned(),
        PasswordRefusal::TooWeak { .. } => "Passordet er for lett å gjette: det er vanlig, eller bygget av navn, datoer, tastaturrekker eller gjentakelser. Bruk en lengre setning av flere ord som ikke hører sammen.".to_owned(),
    };
    ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, refusal.code(), message)
        .with_field("new_password")
}

fn account_failed(e: AccountError) -> ApiError {
    match e {
        AccountError::AccountDisabled { .. } | AccountError::NoSuchAccount { .. } => login_failed(),
        AccountError::Password(r) => password_refused(&r),
        other => {
            tracing::error!(
                reason = other.code(),
                "an account could not be read or changed during a login"
            );
            ApiError::internal()
        }
    }
}

fn session_failed<E: std::fmt::Display>(e: E) -> ApiError {
    tracing::error!(error = %e, "the session store failed");
    ApiError::internal()
}
