//! The TOTP second factor, checked against codes computed in this test with
//! HMAC-SHA-1 written out (see `common::hotp`), not with totp-rs.

use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use insta::assert_snapshot;
use spor_accounts::{
    ISSUER, QR_ARIA_LABEL, SecondFactor, TotpSecret, begin_enrolment, check_code, qr_svg,
};

use crate::common::{adviser, enrolled, hotp, name, now, refusal, rng, step};

#[test]
fn the_independent_hotp_matches_rfc_6238_and_totp_rs() {
    let seed = b"12345678901234567890";
    // RFC 6238 appendix B, SHA-1, T=59: 94287082; six digits: 287082.
    assert_eq!(hotp(seed, 59 / 30), "287082");
    // RFC 4226 appendix D, counters 0 and 9.
    assert_eq!(hotp(seed, 0), "755224");
    assert_eq!(hotp(seed, 9), "520489");
    let secret = TotpSecret::from_bytes(seed.to_vec()).unwrap();
    let t59 = Utc.timestamp_opt(59, 0).unwrap();
    assert_eq!(secret.code_at(t59).unwrap(), "287082");
}

#[test]
fn enrolment_gives_an_otpauth_url_and_an_inline_accessible_svg() {
    let enrolment = begin_enrolment(&name("kari.nordmann"), ISSUER, &mut rng(3)).unwrap();
    assert_eq!(enrolment.secret().as_bytes().len(), 20);
    let base32 = enrolment.secret_base32();
    assert_eq!(base32.len(), 32);
    assert_eq!(
        enrolment.otpauth_url(),
        format!("otpauth://totp/spor:kari.nordmann?secret={base32}&issuer=spor")
    );
    let svg = enrolment.qr_svg();
    assert!(
        svg.starts_with(r#"<svg role="img" aria-label="QR-kode for å legge til spor"#),
        "{}",
        &svg[..80]
    );
    assert!(svg.contains(r#"xmlns="http://www.w3.org/2000/svg""#));
    assert!(svg.ends_with("</svg>"));
    assert!(!svg.contains("<?xml"));
    assert_eq!(svg.matches("<svg").count(), 1);
    assert!(svg.contains(QR_ARIA_LABEL));
    assert_eq!(format!("{enrolment:?}"), "Enrolment(<hidden>)");
    assert!(!format!("{:?}", enrolment.secret()).contains(&base32[..8]));

    let other = begin_enrolment(&name("kari.nordmann"), ISSUER, &mut rng(4)).unwrap();
    assert_ne!(other.secret(), enrolment.secret());
}

#[test]
fn the_aria_label_is_escaped() {
    let svg = qr_svg("hello", r#"a "quoted" <label> & more"#).unwrap();
    assert!(
        svg.starts_with(
            r#"<svg role="img" aria-label="a &quot;quoted&quot; &lt;label&gt; &amp; more" "#
        ),
        "{svg}"
    );
}

#[test]
fn an_issuer_with_a_colon_is_refused() {
    assert_eq!(
        begin_enrolment(&name("kari"), "spor:test", &mut rng(3))
            .unwrap_err()
            .code(),
        "second_factor_setup"
    );
}

#[test]
fn confirming_needs_a_valid_code_from_the_pending_secret_and_burns_its_step() {
    let mut account = adviser("kari");
    assert_eq!(
        account
            .confirm_enrolment("123456", now(), &mut rng(5))
            .unwrap_err()
            .code(),
        "no_enrolment_pending"
    );

    let enrolment = account.begin_enrolment(ISSUER, &mut rng(5)).unwrap();
    let secret = enrolment.secret().as_bytes().to_vec();
    assert!(matches!(
        account.second_factor(),
        SecondFactor::Pending { .. }
    ));
    assert_eq!(
        refusal(check_code(&account, &hotp(&secret, step(now())), now())),
        "no_second_factor: the account `kari` has no second factor; set one up first"
    );

    let wrong = format!(
        "{:06}",
        (hotp(&secret, step(now())).parse::<u32>().unwrap() + 1) % 1_000_000
    );
    assert_eq!(
        account
            .confirm_enrolment(&wrong, now(), &mut rng(5))
            .unwrap_err()
            .code(),
        "bad_code"
    );
    assert!(
        matches!(account.second_factor(), SecondFactor::Pending { .. }),
        "a wrong code keeps the secret pending"
    );

    let code = hotp(&secret, step(now()));
    let recovery = account
        .confirm_enrolment(&code, now(), &mut rng(5))
        .unwrap();
    assert_eq!(recovery.len(), 10);
    assert!(account.has_second_factor());
    assert_eq!(
        account.accept_code(&code, now()).unwrap_err().code(),
        "code_reused",
        "the enrolment code cannot log in"
    );

    assert_snapshot!(refusal(account.begin_enrolment(ISSUER, &mut rng(6))), @"already_enrolled: the account `kari` already has a second factor; an operator must reset it (`spor user reset-mfa`) before a new one is set up");
}

#[test]
fn a_code_is_accepted_once() {
    let (mut account, secret, _) = enrolled("kari");
    let later = now() + TimeDelta::seconds(30);
    let code = hotp(&secret, step(later));
    assert_eq!(account.accept_code(&code, later), Ok(step(later)));
    assert_snapshot!(refusal(account.accept_code(&code, later)), @"code_reused: the code has already been used; wait for the next code in your authenticator app");
    let after = later + TimeDelta::seconds(30);
    assert_eq!(
        account.accept_code(&hotp(&secret, step(after)), after),
        Ok(step(after))
    );
}

#[test]
fn codes_one_step_either_side_are_accepted_and_two_steps_away_refused() {
    let (account, secret, _) = enrolled("kari");
    let at = now() + TimeDelta::minutes(10);
    let s = step(at);
    for accepted in [s - 1, s, s + 1] {
        assert_eq!(
            check_code(&account, &hotp(&secret, accepted), at),
            Ok(accepted)
        );
    }
    for refused in [s - 2, s + 2] {
        insta::allow_duplicates! {
            assert_snapshot!(refusal(check_code(&account, &hotp(&secret, refused), at)), @"bad_code: the code is not valid now; enter the 6 digits your authenticator app shows now, or a recovery code");
        }
    }
}

#[test]
fn a_code_for_a_step_before_the_last_accepted_is_refused() {
    let (mut account, secret, _) = enrolled("kari");
    let at = now() + TimeDelta::minutes(10);
    let s = step(at);
    account.accept_code(&hotp(&secret, s + 1), at).unwrap();
    assert_eq!(
        account
            .accept_code(&hotp(&secret, s), at)
            .unwrap_err()
            .code(),
        "code_reused"
    );
    assert_eq!(
        account
            .accept_code(&hotp(&secret, s - 1), at)
            .unwrap_err()
            .code(),
        "code_reused"
    );
}

#[test]
fn checking_alone_burns_nothing() {
    let (account, secret, _) = enrolled("kari");
    let later = now() + TimeDelta::seconds(30);
    let code = hotp(&secret, step(later));
    assert_eq!(check_code(&account, &code, later), Ok(step(later)));
    assert_eq!(check_code(&account, &code, later), Ok(step(later)));
}

#[test]
fn malformed_codes_are_refused() {
    let (account, secret, _) = enrolled("kari");
    let later = now() + TimeDelta::seconds(30);
    let code = hotp(&secret, step(later));
    let spaced = format!("{} {}", &code[..3], &code[3..]);
    assert_eq!(
        check_code(&account, &spaced, later),
        Ok(step(later)),
        "apps show the code as 123 456"
    );
    for bad in [
        "",
        "12345",
        "1234567",
        "abcdef",
        "+12345",
        &format!("0{code}"),
        &format!("{code}\u{0}"),
    ] {
        assert_eq!(
            check_code(&account, bad, later).unwrap_err().code(),
            "bad_code",
            "{bad:?}"
        );
    }
    let before_1970: DateTime<Utc> = Utc.timestamp_opt(-60, 0).unwrap();
    assert_eq!(
        check_code(&account, &code, before_1970).unwrap_err().code(),
        "bad_code"
    );
}

#[test]
fn resetting_the_second_factor_allows_a_new_enrolment() {
    let (mut account, _, _) = enrolled("kari");
    account.reset_second_factor();
    assert_eq!(account.second_factor(), &SecondFactor::None);
    assert_eq!(
        check_code(&account, "123456", now()).unwrap_err().code(),
        "no_second_factor"
    );
    assert!(account.begin_enrolment(ISSUER, &mut rng(9)).is_ok());
}

#[test]
fn the_secret_is_stored_as_hex_and_never_shown_in_debug_output() {
    let (account, secret, _) = enrolled("kari");
    let json = serde_json::to_string(&account).unwrap();
    assert!(
        json.contains(&hex::encode(&secret)),
        "stored, to compute codes"
    );
    assert!(!format!("{account:?}").contains(&hex::encode(&secret)[..10]));
    let back: spor_accounts::Account = serde_json::from_str(&json).unwrap();
    assert_eq!(back, account);
}
