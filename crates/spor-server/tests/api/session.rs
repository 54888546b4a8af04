//! Browser logins (contract §4; reliability S2, S3): the first login with a
//! one-time password, the second factor, the session cookie and its
//! rotation, signing out, and the throttle on guessing.
//!
//! Cookies are handled by hand here (no cookie jar), so that each
//! `Set-Cookie` can be read as a browser would read it.

use reqwest::header::COOKIE;
use serde_json::{Value, json};
use sha1::{Digest, Sha1};
use spor_accounts::{AccountName, AccountStore, PasswordSetBy};

use crate::browser::Browser;
use crate::common::{self, OWN, Person, Trail};

/// The password every test account is created with (see common.rs).
const FIRST_PASSWORD: &str = "never used to log in here";
const NEW_PASSWORD: &str = "fjellvann blyant hestehov torsdag";
/// The server's clock in these tests (common.rs): the TOTP step it is in.
const CLOCK_SECONDS: u64 = 1_230_883_200;

/// RFC 4648 base32 without padding, as an authenticator app reads a typed secret.
fn base32(text: &str) -> Vec<u8> {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let mut bits = 0u64;
    let mut count = 0;
    let mut out = Vec::new();
    for c in text.bytes().filter(|c| *c != b'=') {
        let value = ALPHABET
            .iter()
            .position(|a| *a == c.to_ascii_uppercase())
            .expect("a base32 letter");
        bits = (bits << 5) | value as u64;
        count += 5;
        if count >= 8 {
            count -= 8;
            out.push(((bits >> count) & 0xff) as u8); // masked: cannot truncate
        }
    }
    out
}

/// TOTP (RFC 6238: HOTP of the 30-second step, HMAC-SHA-1, 6 digits),
/// written out here rather than taken from the crate the server uses.
fn totp(secret: &[u8], unix_seconds: u64) -> String {
    let mut key = [0u8; 64];
    key[..secret.len()].copy_from_slice(secret);
    let inner = Sha1::new()
        .chain_update(key.map(|b| b ^ 0x36))
        .chain_update((unix_seconds / 30).to_be_bytes())
        .finalize();
    let mac = Sha1::new()
        .chain_update(key.map(|b| b ^ 0x5c))
        .chain_update(inner)
        .finalize();
    let offset = usize::from(mac[19] & 0x0f);
    let binary = u32::from_be_bytes([
        mac[offset] & 0x7f,
        mac[offset + 1],
        mac[offset + 2],
        mac[offset + 3],
    ]);
    format!("{:06}", binary % 1_000_000)
}

/// Takes `who` through the first login; returns the recovery codes.
async fn first_login(browser: &mut Browser<'_>, who: &str) -> Vec<String> {
    let (status, body) = browser
        .post(
            "/api/v1/session",
            json!({"name": who, "password": FIRST_PASSWORD}),
        )
        .await;
    assert_eq!(
        (status, body["next"].as_str()),
        (200, Some("new_password")),
        "{body}"
    );
    let (status, body) = browser
        .post(
            "/api/v1/session/password",
            json!({"new_password": NEW_PASSWORD}),
        )
        .await;
    assert_eq!(
        (status, body["next"].as_str()),
        (200, Some("second_factor_setup")),
        "{body}"
    );
    let (status, setup) = browser
        .post("/api/v1/session/second-factor", json!({}))
        .await;
    assert_eq!(status, 200, "{setup}");
    let secret = base32(setup["secret"].as_str().unwrap());
    let (status, body) = browser
        .post(
            "/api/v1/session/second-factor/confirm",
            json!({"code": totp(&secret, CLOCK_SECONDS)}),
        )
        .await;
    assert_eq!(
        (status, body["next"].as_str()),
        (200, Some("done")),
        "{body}"
    );
    body["recovery_codes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_first_login_changes_the_password_sets_up_the_app_and_then_reads_like_a_token() {
    let person = Person::started(1, OWN);
    // Every password and code tried counts; this test tries more than a
    // person would in a minute (the throttle has a test of its own).
    let server = common::start_configured(&person.lines, Trail::Real, |s| {
        s.login_limits.account_address_burst = 100
    })
    .await;
    let mut browser = Browser::new(&server);

    let (status, body) = browser
        .post(
            "/api/v1/session",
            json!({"name": "adviser", "password": "wrong password"}),
        )
        .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (401, Some("login_failed"))
    );
    let (status, unknown) = browser
        .post(
            "/api/v1/session",
            json!({"name": "nobody", "password": "wrong password"}),
        )
        .await;
    assert_eq!(
        (status, &unknown),
        (401, &body),
        "an unknown name and a wrong password get the same answer"
    );

    let (status, body) = browser
        .post(
            "/api/v1/session",
            json!({"name": "adviser", "password": FIRST_PASSWORD}),
        )
        .await;
    assert_eq!(
        (status, body["next"].as_str()),
        (200, Some("new_password")),
        "{body}"
    );
    let planted = browser
        .cookie
        .clone()
        .expect("a session cookie once the password is right");
    let (status, _) = browser.get("/api/v1/status").await;
    assert_eq!(status, 401, "half way through a login nothing is readable");
    let (status, body) = browser
        .post("/api/v1/session/second-factor", json!({}))
        .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (409, Some("wrong_step")),
        "steps cannot be skipped"
    );

    let (status, body) = browser
        .post("/api/v1/session/password", json!({"new_password": "kort"}))
        .await;
    assert_eq!(
        (
            status,
            body["error"]["code"].as_str(),
            body["error"]["field"].as_str()
        ),
        (422, Some("password_too_short"), Some("new_password"))
    );
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("minst 12 tegn"),
        "{body}"
    );
    let (status, body) = browser
        .post(
            "/api/v1/session/password",
            json!({"new_password": "passord123456"}),
        )
        .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (422, Some("password_too_weak")),
        "{body}"
    );
    let (status, body) = browser
        .post(
            "/api/v1/session/password",
            json!({"new_password": NEW_PASSWORD}),
        )
        .await;
    assert_eq!(
        (status, body["next"].as_str()),
        (200, Some("second_factor_setup")),
        "{body}"
    );

    let (status, setup) = browser
        .post("/api/v1/session/second-factor", json!({}))
        .await;
    assert_eq!(status, 200, "{setup}");
    assert!(
        setup["otpauth_url"]
            .as_str()
            .unwrap()
            .starts_with("otpauth://totp/"),
        "{setup}"
    );
    assert!(
        setup["qr_svg"].as_str().unwrap().contains("<svg"),
        "{setup}"
    );
    let secret = base32(setup["secret"].as_str().unwrap());
    let right = totp(&secret, CLOCK_SECONDS);
    let wrong = format!("{:06}", (right.parse::<u32>().unwrap() + 1) % 1_000_000);
    let (status, body) = browser
        .post(
            "/api/v1/session/second-factor/confirm",
            json!({"code": wrong}),
        )
        .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (401, Some("bad_code")),
        "{body}"
    );
    let (status, body) = browser
        .post(
            "/api/v1/session/second-factor/confirm",
            json!({"code": right}),
        )
        .await;
    assert_eq!(
        (
            status,
            body["next"].as_str(),
            body["account"]["name"].as_str()
        ),
        (200, Some("done"), Some("adviser")),
        "{body}"
    );
    assert_eq!(body["account"]["units"], json!([OWN]));
    let recovery = body["recovery_codes"].as_array().unwrap();
    assert_eq!(recovery.len(), 10);
    let signed_in = browser.cookie.clone().unwrap();
    assert_ne!(signed_in, planted, "the session id is rotated at sign-in");

    // Signed in: the same answer as the account's token gets.
    let (status, by_cookie) = browser
        .get(&format!("/api/v1/participants/{}", person.id))
        .await;
    let (_, by_token) = server
        .get("adviser", &format!("/api/v1/participants/{}", person.id))
        .await;
    assert_eq!((status, &by_cookie), (200, &by_token));
    // The id from before the sign-in is worth nothing.
    let mut planter = Browser {
        server: &server,
        cookie: Some(planted),
        from: None,
    };
    assert_eq!(planter.get("/api/v1/status").await.0, 401);

    // A cross-site write is refused even with the cookie (S2).
    let event = person.event(
        "absence",
        "2006-03-01",
        json!({"hours": 1, "approved": true}),
    );
    let response = server
        .client
        .post(server.url("/api/v1/events"))
        .header(COOKIE, &signed_in)
        .header("origin", "https://angriper.example")
        .header("sec-fetch-site", "cross-site")
        .json(&event)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 403);
    let (status, stored) = browser.post("/api/v1/events", event).await;
    assert_eq!(status, 201, "{stored}");
    assert_eq!(
        stored["event"]["by"],
        json!("adviser"),
        "`by` is the signed-in account"
    );

    let (status, _) = browser
        .send(reqwest::Method::DELETE, "/api/v1/session", None)
        .await;
    assert_eq!(status, 204);
    let mut after = Browser {
        server: &server,
        cookie: Some(signed_in),
        from: None,
    };
    assert_eq!(
        after.get("/api/v1/status").await.0,
        401,
        "a signed-out session stays out"
    );

    // Next time: the password and a recovery code in one go (the app's code
    // for this step is spent: the server's clock stands still in the tests).
    let mut again = Browser::new(&server);
    let code = recovery[0].as_str().unwrap();
    let (status, body) = again.post("/api/v1/session", json!({"name": "adviser", "password": NEW_PASSWORD, "code": totp(&secret, CLOCK_SECONDS)})).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (401, Some("bad_code")),
        "a spent code does not log in twice: {body}"
    );
    let (status, body) = again
        .post("/api/v1/session/code", json!({"code": code}))
        .await;
    assert_eq!(
        (status, body["next"].as_str()),
        (200, Some("done")),
        "{body}"
    );
    let mut third = Browser::new(&server);
    let (status, body) = third
        .post(
            "/api/v1/session",
            json!({"name": "adviser", "password": NEW_PASSWORD, "code": code}),
        )
        .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (401, Some("bad_code")),
        "a recovery code works once: {body}"
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_operator_setting_the_password_signs_the_account_out_everywhere() {
    let server = common::start(&[]).await;
    let mut browser = Browser::new(&server);
    first_login(&mut browser, "leader").await;
    let (status, body) = browser.get("/api/v1/session").await;
    assert_eq!(
        (status, body["account"]["role"].as_str()),
        (200, Some("leader")),
        "{body}"
    );

    let name = AccountName::parse("leader").unwrap();
    let hash = spor_accounts::hash_password("an operator's one-time password");
    server
        .accounts
        .update(&name, &mut |a| {
            a.set_password(hash.clone(), PasswordSetBy::Operator);
            Ok(())
        })
        .unwrap();
    assert_eq!(browser.get("/api/v1/status").await.0, 401);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_guesser_is_throttled_but_the_owner_still_gets_in_from_elsewhere() {
    let server = common::start_configured(&[], Trail::Real, |s| {
        s.trusted_proxies = vec!["127.0.0.1".parse().unwrap()]
    })
    .await;
    let mut guesser = Browser {
        server: &server,
        cookie: None,
        from: Some("192.0.2.66"),
    };
    let limit = spor_server::LoginLimits::default().account_address_burst;
    for n in 0..limit {
        let (status, body) = guesser
            .post(
                "/api/v1/session",
                json!({"name": "adviser", "password": format!("guess {n}")}),
            )
            .await;
        assert_eq!(status, 401, "attempt {n}: {body}");
    }
    let response = server
        .client
        .post(server.url("/api/v1/session"))
        .header("x-forwarded-for", "192.0.2.66")
        .json(&json!({"name": "adviser", "password": FIRST_PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.status().as_u16(),
        429,
        "the right password too, from the guesser's address"
    );
    let wait: u64 = response.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(wait >= 1);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], json!("throttled"));

    let mut owner = Browser {
        server: &server,
        cookie: None,
        from: Some("198.51.100.7"),
    };
    let (status, body) = owner
        .post(
            "/api/v1/session",
            json!({"name": "adviser", "password": FIRST_PASSWORD}),
        )
        .await;
    assert_eq!(
        (status, body["next"].as_str()),
        (200, Some("new_password")),
        "the owner is not locked out: {body}"
    );
    server.stop().await;
}
