//! The TOTP second factor (engangskode fra autentiseringsapp): RFC 6238 with
//! SHA-1, 6 digits, 30-second steps and one step of skew either way, which is
//! what every common authenticator app does (several ignore other algorithms).
//!
//! totp-rs computes the codes; this module decides which step a code matches
//! and refuses a step at or before the last one accepted, because totp-rs
//! leaves replay protection to its caller.

use std::fmt;

use chrono::{DateTime, Utc};
use qrcode::QrCode;
use qrcode::render::svg;
use rand::CryptoRng;
use serde::{Deserialize, Serialize};
use subtle::ConstantTimeEq;
use totp_rs::{Algorithm, Builder, Totp};

use crate::account::{Account, SecondFactor};
use crate::error::AccountError;
use crate::name::AccountName;

/// The issuer shown in authenticator apps next to the account name.
pub const ISSUER: &str = "spor";

/// The accessible name of the QR code image (WCAG 1.1.1), in bokmål because
/// it is read out on a bokmål page.
pub const QR_ARIA_LABEL: &str =
    "QR-kode for å legge til spor i autentiseringsappen. Hemmeligheten står også som tekst.";

/// 160 bits, the length RFC 4226 recommends.
const SECRET_BYTES: usize = 20;
/// RFC 4226 requires at least 128 bits; 64 bytes bounds what is accepted.
const SECRET_BYTES_MIN: usize = 16;
const SECRET_BYTES_MAX: usize = 64;
const STEP_SECONDS: u64 = 30;
const DIGITS: u8 = 6;
/// Steps accepted either side of the current one (RFC 6238 §5.2).
const SKEW_STEPS: u16 = 1;

/// A TOTP shared secret. It cannot be hashed (the server needs it to compute
/// codes), so it must stay out of events, logs and exports; its `Debug` prints
/// nothing of it. Stored as hex.
#[derive(Clone)]
pub struct TotpSecret(Vec<u8>);

impl TotpSecret {
    /// Takes secret bytes from elsewhere (a migration, a test vector): 16 to
    /// 64 bytes.
    pub fn from_bytes(bytes: Vec<u8>) -> Result<Self, AccountError> {
        if !(SECRET_BYTES_MIN..=SECRET_BYTES_MAX).contains(&bytes.len()) {
            return Err(AccountError::SecondFactorSetup {
                reason: "a TOTP secret is 16 to 64 bytes",
            });
        }
        Ok(Self(bytes))
    }

    fn generate(rng: &mut (impl CryptoRng + ?Sized)) -> Self {
        let mut bytes = vec![0u8; SECRET_BYTES];
        rng.fill_bytes(&mut bytes);
        Self(bytes)
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// The secret in base32 (RFC 4648, no padding), as authenticator apps
    /// take it when typed in.
    pub fn to_base32(&self) -> String {
        self.totp_unnamed().secret().to_base32()
    }

    /// The code for the step that holds `at`. For tests and the demo: a
    /// server never needs to compute a code for the user.
    pub fn code_at(&self, at: DateTime<Utc>) -> Result<String, AccountError> {
        let seconds = u64::try_from(at.timestamp()).map_err(|_| AccountError::BadCode)?;
        Ok(self.totp_unnamed().generate(seconds).to_string())
    }

    fn builder(&self) -> Builder {
        Builder::new()
            .with_algorithm(Algorithm::SHA1)
            .with_digits(DIGITS)
            .with_skew(SKEW_STEPS)
            .with_step_duration(STEP_SECONDS)
            .with_secret(self.0.clone())
    }

    /// A `Totp` for computing codes. The length is checked on the way in,
    /// and the other parameters are constants that totp-rs accepts, so
    /// `build` cannot fail here; should it, the non-checking build with the
    /// same parameters computes the same codes.
    fn totp_unnamed(&self) -> Totp {
        self.builder()
            .build()
            .unwrap_or_else(|_| self.builder().build_noncompliant())
    }
}

impl PartialEq for TotpSecret {
    fn eq(&self, other: &Self) -> bool {
        self.0.ct_eq(&other.0).into()
    }
}

impl Eq for TotpSecret {}

impl fmt::Debug for TotpSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TotpSecret(<hidden>)")
    }
}

impl Serialize for TotpSecret {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&hex::encode(&self.0))
    }
}

impl<'de> Deserialize<'de> for TotpSecret {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        // The message must not quote the value: it is the secret.
        let bytes = hex::decode(s.as_bytes())
            .map_err(|_| serde::de::Error::custom("a TOTP secret is stored as hex digits"))?;
        Self::from_bytes(bytes).map_err(serde::de::Error::custom)
    }
}

/// What the owner of an account needs to add its new TOTP secret to an
/// authenticator app. The page that shows it must be sent with
/// `Cache-Control: no-store`: it holds the secret.
#[derive(Clone)]
pub struct Enrolment {
    secret: TotpSecret,
    otpauth_url: String,
    qr_svg: String,
}

impl Enrolment {
    pub fn secret(&self) -> &TotpSecret {
        &self.secret
    }

    /// The secret in base32, to show as text next to the QR code for those
    /// who cannot scan it.
    pub fn secret_base32(&self) -> String {
        self.secret.to_base32()
    }

    /// The `otpauth://totp/ISSUER:NAME?secret=…&issuer=ISSUER` URL.
    pub fn otpauth_url(&self) -> &str {
        &self.otpauth_url
    }

    /// The URL as a QR code: an `<svg>` element to inline in HTML, without
    /// XML prolog, with `role="img"` and [`QR_ARIA_LABEL`].
    pub fn qr_svg(&self) -> &str {
        &self.qr_svg
    }
}

impl fmt::Debug for Enrolment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Enrolment(<hidden>)")
    }
}

/// Draws a new TOTP secret for `name` and renders it for an authenticator
/// app. Keeps nothing: [`Account::begin_enrolment`] stores the secret as
/// pending.
pub fn begin_enrolment(
    name: &AccountName,
    issuer: &str,
    rng: &mut (impl CryptoRng + ?Sized),
) -> Result<Enrolment, AccountError> {
    let secret = TotpSecret::generate(rng);
    let totp = secret
        .builder()
        .with_account_name(name.as_str())
        .with_issuer(Some(issuer))
        .build()
        // totp-rs's error can quote the URL, which holds the secret.
        .map_err(|_| AccountError::SecondFactorSetup {
            reason: "the issuer must be non-empty text without ':'",
        })?;
    let otpauth_url = totp.to_url().map_err(|_| AccountError::SecondFactorSetup {
        reason: "the otpauth URL could not be made",
    })?;
    let qr_svg = qr_svg(&otpauth_url, QR_ARIA_LABEL)?;
    Ok(Enrolment {
        secret,
        otpauth_url,
        qr_svg,
    })
}

/// Renders `text` as a QR code in an `<svg>` element ready to inline in HTML:
/// the XML prolog is stripped, and `role="img"` and `aria-label` are added.
pub fn qr_svg(text: &str, aria_label: &str) -> Result<String, AccountError> {
    let code = QrCode::new(text.as_bytes()).map_err(|_| AccountError::SecondFactorSetup {
        reason: "the otpauth URL is too long for a QR code",
    })?;
    let document = code
        .render::<svg::Color>()
        .min_dimensions(200, 200)
        .quiet_zone(true)
        .build();
    let Some(start) = document.find("<svg") else {
        return Err(AccountError::SecondFactorSetup {
            reason: "the QR code renderer made no <svg> element",
        });
    };
    let element = &document[start + "<svg".len()..];
    Ok(format!(
        r#"<svg role="img" aria-label="{}"{element}"#,
        escape_attribute(aria_label)
    ))
}

fn escape_attribute(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// Decides whether `code` logs `account` in at `now`: the account has a
/// confirmed TOTP secret, and the code is that secret's for a step within one
/// of now and later than the last step accepted. Returns the matched step.
///
/// This decides only. To burn the step, use [`Account::accept_code`] inside
/// [`AccountStore::update`](crate::AccountStore::update).
pub fn check_code(account: &Account, code: &str, now: DateTime<Utc>) -> Result<u64, AccountError> {
    let SecondFactor::Enrolled {
        secret, last_step, ..
    } = account.second_factor()
    else {
        return Err(AccountError::NoSecondFactor {
            name: account.name().clone(),
        });
    };
    matching_step(secret, code, now, Some(*last_step))
}

/// The step within the skew window of `now` whose code is `code` and which
/// is later than `after`. [`AccountError::CodeReused`] if the code matches
/// only steps at or before `after`.
pub(crate) fn matching_step(
    secret: &TotpSecret,
    code: &str,
    now: DateTime<Utc>,
    after: Option<u64>,
) -> Result<u64, AccountError> {
    // Apps show the code as "287 082"; people type it with or without the space.
    let code: String = code.chars().filter(|c| !c.is_whitespace()).collect();
    if code.len() != usize::from(DIGITS) || !code.bytes().all(|b| b.is_ascii_digit()) {
        return Err(AccountError::BadCode);
    }
    let seconds = u64::try_from(now.timestamp()).map_err(|_| AccountError::BadCode)?;
    let origin = seconds / STEP_SECONDS;
    let totp = secret.totp_unnamed();
    let mut fresh = None;
    let mut stale = false;
    // Every step of the window is computed and compared, whatever matched
    // first, so the time taken does not say which one matched.
    let skew = u64::from(SKEW_STEPS);
    for step in origin.saturating_sub(skew)..=origin.saturating_add(skew) {
        let Some(at) = step.checked_mul(STEP_SECONDS) else {
            continue;
        };
        let expected = totp.generate(at).to_string();
        let matches: bool = expected.as_bytes().ct_eq(code.as_bytes()).into();
        if matches {
            if after.is_none_or(|last| step > last) {
                fresh = fresh.or(Some(step));
            } else {
                stale = true;
            }
        }
    }
    match (fresh, stale) {
        (Some(step), _) => Ok(step),
        (None, true) => Err(AccountError::CodeReused),
        (None, false) => Err(AccountError::BadCode),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    /// RFC 6238 appendix B: the SHA-1 seed "12345678901234567890" gives
    /// 94287082 at T=59; its last six digits are the 6-digit code.
    #[test]
    fn rfc_6238_test_vector() {
        let secret = TotpSecret::from_bytes(b"12345678901234567890".to_vec()).unwrap();
        let at = Utc.timestamp_opt(59, 0).unwrap();
        assert_eq!(secret.code_at(at).unwrap(), "287082");
        assert_eq!(matching_step(&secret, "287082", at, None), Ok(1));
        assert_eq!(matching_step(&secret, "287 082", at, Some(0)), Ok(1));
        assert_eq!(
            matching_step(&secret, "287082", at, Some(1)),
            Err(AccountError::CodeReused)
        );
        assert_eq!(
            matching_step(&secret, "287083", at, None),
            Err(AccountError::BadCode)
        );
        assert_eq!(
            matching_step(&secret, "94287082", at, None),
            Err(AccountError::BadCode)
        );
    }

    #[test]
    fn secret_length_is_bounded() {
        assert!(TotpSecret::from_bytes(vec![0; 15]).is_err());
        assert!(TotpSecret::from_bytes(vec![0; 16]).is_ok());
        assert!(TotpSecret::from_bytes(vec![0; 64]).is_ok());
        assert!(TotpSecret::from_bytes(vec![0; 65]).is_err());
    }
}
