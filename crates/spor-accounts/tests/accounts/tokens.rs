//! Bearer tokens: the format, strict parsing, expiry, revocation, and that no
//! changed character gets through.

use chrono::TimeDelta;
use insta::assert_snapshot;
use proptest::prelude::*;
use spor_accounts::{
    IssuedToken, MAX_TOKEN_LIFETIME_DAYS, TokenId, TokenRequest, issue_token, parse_token,
    verify_token,
};

use crate::common::{name, now, refusal, rng};

fn issued(seed: u64) -> IssuedToken {
    issue_token(TokenRequest::new(name("kari")), now(), &mut rng(seed)).unwrap()
}

fn check(
    issued: &IssuedToken,
    text: &str,
    at: chrono::DateTime<chrono::Utc>,
) -> Result<(), spor_accounts::AccountError> {
    verify_token(&issued.record, &parse_token(text)?, at)
}

#[test]
fn a_token_is_spor_id_secret_and_only_its_hash_is_kept() {
    let issued = issued(1);
    let text = issued.token.expose();
    let (prefix, rest) = text.split_at(5);
    let (id, secret) = rest.split_once('_').unwrap();
    assert_eq!(prefix, "spor_");
    assert_eq!(id.len(), 12);
    assert_eq!(secret.len(), 64);
    assert!(
        id.bytes()
            .chain(secret.bytes())
            .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
    );
    assert_eq!(issued.record.id.as_str(), id);
    assert_eq!(issued.record.account, name("kari"));
    assert_eq!(issued.record.created_at, now());
    assert_eq!(issued.record.expires_at, now() + TimeDelta::days(90));
    assert_eq!(issued.record.revoked_at, None);

    let json = serde_json::to_string(&issued.record).unwrap();
    assert!(!json.contains(secret));
    assert!(!format!("{issued:?}").contains(secret));
    assert_ne!(issued.token, self::issued(2).token);
}

#[test]
fn a_token_round_trips() {
    let issued = issued(1);
    let parsed = parse_token(issued.token.expose()).unwrap();
    assert_eq!(parsed.id(), issued.record.id);
    assert_eq!(verify_token(&issued.record, &parsed, now()), Ok(()));
}

#[test]
fn a_token_expires_at_its_expiry_time() {
    let issued = issued(1);
    let text = issued.token.expose();
    let expires = issued.record.expires_at;
    assert_eq!(
        check(&issued, text, expires - TimeDelta::seconds(1)),
        Ok(())
    );
    assert_snapshot!(
        refusal(check(&issued, text, expires)).replace(issued.record.id.as_str(), "ID"),
        @"token_expired: token ID expired at 2026-04-05 10:00:00 UTC; create a new one with `spor token create`"
    );
}

#[test]
fn a_revoked_token_is_refused() {
    let mut issued = issued(1);
    issued.record.revoked_at = Some(now() + TimeDelta::hours(1));
    assert_eq!(
        check(&issued, issued.token.expose(), now() + TimeDelta::hours(2))
            .unwrap_err()
            .code(),
        "token_revoked"
    );
}

#[test]
fn a_lifetime_is_a_parameter_within_bounds() {
    let mut request = TokenRequest::new(name("kari"));
    request.lifetime_days = 1;
    let short = issue_token(request.clone(), now(), &mut rng(1)).unwrap();
    assert_eq!(short.record.expires_at, now() + TimeDelta::days(1));
    request.lifetime_days = MAX_TOKEN_LIFETIME_DAYS;
    assert!(issue_token(request.clone(), now(), &mut rng(1)).is_ok());
    request.lifetime_days = 0;
    assert_snapshot!(refusal(issue_token(request.clone(), now(), &mut rng(1))), @"bad_lifetime: a token lives 1 to 366 days, not 0");
    request.lifetime_days = MAX_TOKEN_LIFETIME_DAYS + 1;
    assert_eq!(
        issue_token(request, now(), &mut rng(1)).unwrap_err().code(),
        "bad_lifetime"
    );
}

#[test]
fn a_label_is_bounded_text() {
    let mut request = TokenRequest::new(name("kari"));
    request.label = "ø".repeat(100);
    assert!(issue_token(request.clone(), now(), &mut rng(1)).is_ok());
    request.label = "ø".repeat(101);
    assert_snapshot!(refusal(issue_token(request.clone(), now(), &mut rng(1))), @"bad_label: a token label is at most 100 characters without control characters; this one has 101 characters");
    request.label = "nightly\nexport".into();
    assert_eq!(
        issue_token(request, now(), &mut rng(1)).unwrap_err().code(),
        "bad_label"
    );
}

#[test]
fn malformed_tokens_are_refused() {
    let issued = issued(1);
    let text = issued.token.expose();
    let upper = text.to_uppercase();
    let bearer = format!("Bearer {text}");
    let padded = format!("{text} ");
    let longer = format!("{text}0");
    let no_underscore = text.replacen('_', "-", 2);
    for bad in [
        "",
        "spor_",
        &text[..text.len() - 1],
        &upper,
        &bearer,
        &padded,
        &longer,
        &no_underscore,
        "spor_0123456789ab_ghijklmnopqrstuvghijklmnopqrstuvghijklmnopqrstuvghijklmnopqrstuv",
    ] {
        assert_eq!(parse_token(bad).unwrap_err().code(), "bad_token", "{bad:?}");
    }
    assert_snapshot!(refusal(parse_token("spor_nope")), @"bad_token: not a valid token; a token looks like spor_ID_SECRET with a 12-character id and a 64-character secret, as `spor token create` printed it");
}

#[test]
fn another_tokens_text_is_refused_for_this_record() {
    let (one, two) = (issued(1), issued(2));
    assert_eq!(
        check(&one, two.token.expose(), now()).unwrap_err().code(),
        "bad_token"
    );
}

#[test]
fn revoke_takes_an_id_or_a_whole_token() {
    let issued = issued(1);
    let id = issued.record.id;
    assert_eq!(TokenId::from_id_or_token(id.as_str()), Ok(id));
    assert_eq!(TokenId::from_id_or_token(issued.token.expose()), Ok(id));
    for bad in ["", "0123456789AB", "0123456789a", "spor_0123"] {
        assert_eq!(
            TokenId::from_id_or_token(bad).unwrap_err().code(),
            "bad_token",
            "{bad:?}"
        );
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Any one character changed, anywhere, and the token is refused.
    #[test]
    fn a_token_with_a_flipped_character_is_refused(position in 0usize..82, replacement in proptest::char::range(' ', '~')) {
        let issued = issued(7);
        let text = issued.token.expose();
        prop_assert_eq!(text.len(), 82);
        let original = char::from(text.as_bytes()[position]);
        prop_assume!(replacement != original);
        let mut flipped = text.to_owned();
        flipped.replace_range(position..=position, &replacement.to_string());
        prop_assert!(check(&issued, &flipped, now()).is_err());
    }
}
