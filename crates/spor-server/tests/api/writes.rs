//! Writing one event: the answer for a new event, a retry, a stale version,
//! a broken rule and a malformed body; the security headers; live updates.

use std::time::Duration;

use futures_util::StreamExt;
use serde_json::json;

use crate::common::{OTHER, OWN, Person, start};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_event_is_stored_once_and_a_stale_or_broken_one_is_refused_with_what_to_do() {
    let own = Person::started(1, OWN);
    let server = start(&own.lines).await;
    let absence = own.event(
        "absence",
        "2006-03-01",
        json!({"hours": 3, "approved": false}),
    );
    let mut with_version = absence.clone();
    with_version["expected_version"] = json!(4);
    let (s, first) = server
        .post("adviser", "/api/v1/events", &with_version)
        .await;
    assert_eq!(s, 201, "{first}");
    assert_eq!(
        (first["seq"].as_u64(), first["version"].as_u64()),
        (Some(5), Some(5))
    );
    assert_eq!(
        first["event"]["recorded_at"],
        json!("2009-01-02T08:00:00Z"),
        "the server's clock, not the body's"
    );

    // The same event again (a retry after a lost answer): 200 with the stored event.
    let (s, again) = server
        .post("adviser", "/api/v1/events", &with_version)
        .await;
    assert_eq!((s, &again["event"]), (200, &first["event"]));
    // By another account of the unit, too: `by` is not part of what makes it the same.
    let (s, _) = server.post("leader", "/api/v1/events", &absence).await;
    assert_eq!(s, 200);

    // The same id with other content.
    let mut changed = absence.clone();
    changed["date"] = json!("2006-03-02");
    let (s, b) = server.post("adviser", "/api/v1/events", &changed).await;
    assert_eq!((s, b["error"]["code"].as_str()), (409, Some("id_reused")));

    // A writer that saw version 4 is told the participant is at 5.
    let mut stale = own.event(
        "absence",
        "2006-03-03",
        json!({"hours": 1, "approved": true}),
    );
    stale["expected_version"] = json!(4);
    let (s, b) = server.post("adviser", "/api/v1/events", &stale).await;
    assert_eq!(
        (
            s,
            b["error"]["code"].as_str(),
            b["error"]["current_version"].as_u64()
        ),
        (409, Some("conflict"), Some(5))
    );

    // A rule: a second start. 422 with the rule's code, its field and a bokmål message.
    let (s, b) = server
        .post(
            "adviser",
            "/api/v1/events",
            &own.event("started", "2006-05-01", json!({})),
        )
        .await;
    assert_eq!(
        (s, b["error"]["code"].as_str(), b["error"]["rule"].as_str()),
        (422, Some("refused"), Some("already_started"))
    );
    assert!(
        b["error"]["message"]
            .as_str()
            .unwrap()
            .contains("allerede startet"),
        "{b}"
    );

    // A body that is not an event: 400 naming what is wrong.
    let (s, b) = server
        .post("adviser", "/api/v1/events", &json!({"type": "started"}))
        .await;
    assert_eq!(
        (s, b["error"]["code"].as_str()),
        (400, Some("bad_event")),
        "{b}"
    );
    let mut unknown = own.event(
        "absence",
        "2006-03-04",
        json!({"hours": 1, "approved": true, "mood": "good"}),
    );
    unknown["expected_version"] = json!(5);
    let (s, _) = server.post("adviser", "/api/v1/events", &unknown).await;
    assert_eq!(s, 400, "an unknown field in data is an error");
    let (s, b) = server
        .post(
            "adviser",
            "/api/v1/events",
            &json!({"expected_version": -1}),
        )
        .await;
    assert_eq!(
        (s, b["error"]["field"].as_str()),
        (400, Some("expected_version"))
    );
    // A code outside its list is the value's fault: 422, naming the field
    // a form puts the message beside (contract §4: codes are the rules').
    let (s, b) = server
        .post(
            "adviser",
            "/api/v1/events",
            &own.event("completed", "2006-03-04", json!({"reason": "lottery"})),
        )
        .await;
    assert_eq!(
        (s, b["error"]["code"].as_str(), b["error"]["field"].as_str()),
        (422, Some("bad_value"), Some("data.reason")),
        "{b}"
    );
    let mut elsewhere = own.event(
        "absence",
        "2006-03-04",
        json!({"hours": 1, "approved": true}),
    );
    elsewhere["unit"] = json!("03011");
    let (s, b) = server.post("adviser", "/api/v1/events", &elsewhere).await;
    assert_eq!(
        (s, b["error"]["field"].as_str()),
        (422, Some("unit")),
        "{b}"
    );

    // What was stored shows in the views at once.
    let (s, view) = server
        .get("adviser", &format!("/api/v1/participants/{}", own.id))
        .await;
    assert_eq!((s, view["version"].as_u64()), (200, Some(5)));
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_answer_carries_the_security_headers_and_personal_data_is_never_cached() {
    let own = Person::started(1, OWN);
    let server = start(&own.lines).await;
    for (who, path) in [
        (None, "/healthz"),
        (Some("adviser"), "/api/v1/status"),
        (None, "/api/v1/status"),
        (None, "/no/such/page"),
    ] {
        let mut req = server.client.get(server.url(path));
        if let Some(w) = who {
            req = req.bearer_auth(&server.tokens[w]);
        }
        let r = req.send().await.unwrap();
        let h = r.headers();
        let csp = h["content-security-policy"].to_str().unwrap();
        assert!(
            csp.contains("object-src 'none'")
                && csp.contains("base-uri 'none'")
                && csp.contains("frame-ancestors"),
            "{path}: {csp}"
        );
        assert_eq!(h["x-content-type-options"], "nosniff");
        assert!(
            h.contains_key("strict-transport-security") && h.contains_key("referrer-policy"),
            "{path}"
        );
        assert!(h.contains_key("x-request-id"), "{path}");
        if path.starts_with("/api") {
            assert_eq!(h["cache-control"], "no-store", "{path}");
        }
    }
    // A write from another site's page is refused (a browser says where it comes from).
    let r = server
        .client
        .post(server.url("/api/v1/events"))
        .bearer_auth(&server.tokens["adviser"])
        .header("origin", "https://evil.example")
        .header("sec-fetch-site", "cross-site")
        .json(&own.event(
            "absence",
            "2006-03-01",
            json!({"hours": 1, "approved": true}),
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    let b: serde_json::Value = r.json().await.unwrap();
    assert_eq!(b["error"]["code"], "csrf");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_live_stream_carries_the_callers_units_only_and_ends_at_shutdown() {
    let own = Person::started(1, OWN);
    let other = Person::started(2, OTHER);
    let server = start(&[own.lines.clone(), other.lines.clone()].concat()).await;
    let response = server
        .client
        .get(server.url("/api/v1/events/stream"))
        .bearer_auth(&server.tokens["adviser"])
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["content-type"], "text/event-stream");
    let mut body = response.bytes_stream();
    let (s, _) = server
        .post(
            "other-adviser",
            "/api/v1/events",
            &other.event(
                "absence",
                "2006-03-01",
                json!({"hours": 1, "approved": true}),
            ),
        )
        .await;
    assert_eq!(s, 201);
    let (s, mine) = server
        .post(
            "adviser",
            "/api/v1/events",
            &own.event(
                "absence",
                "2006-03-01",
                json!({"hours": 1, "approved": true}),
            ),
        )
        .await;
    assert_eq!(s, 201);
    let mut seen = String::new();
    while !seen.contains("\n\n") {
        let chunk = tokio::time::timeout(Duration::from_secs(5), body.next())
            .await
            .expect("an event within 5 s")
            .unwrap()
            .unwrap();
        seen.push_str(&String::from_utf8_lossy(&chunk));
    }
    assert!(seen.starts_with("event: appended\ndata: "), "{seen}");
    let data: serde_json::Value =
        serde_json::from_str(seen.lines().nth(1).unwrap().trim_start_matches("data: ")).unwrap();
    assert_eq!(
        data,
        json!({"seq": mine["seq"], "participant": own.id, "unit": OWN, "type": "absence"}),
        "the own unit's event, not the other's"
    );
    // Shutdown ends the open stream instead of waiting for it.
    server.stop().await;
    let end = tokio::time::timeout(Duration::from_secs(5), async {
        while let Some(Ok(_)) = body.next().await {}
    })
    .await;
    assert!(end.is_ok(), "the stream ended at shutdown");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_live_stream_ends_when_its_token_is_revoked() {
    let server = start(&[]).await;
    let response = server
        .client
        .get(server.url("/api/v1/events/stream"))
        .bearer_auth(&server.tokens["adviser"])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let mut body = response.bytes_stream();
    let id = spor_accounts::parse_token(&server.tokens["adviser"])
        .unwrap()
        .id();
    spor_accounts::AccountStore::revoke_token(server.accounts.as_ref(), &id, chrono::Utc::now())
        .unwrap();
    // The tests' server checks every 200 ms (a minute in `spor serve`).
    let end = tokio::time::timeout(Duration::from_secs(5), async {
        while let Some(Ok(_)) = body.next().await {}
    })
    .await;
    assert!(end.is_ok(), "the stream ended after the revocation");
    let (status, _) = server.get("adviser", "/api/v1/status").await;
    assert_eq!(status, 401);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_import_lands_whole_or_names_every_refused_line_and_stays_in_the_callers_units() {
    let own = Person::started(1, OWN);
    let other = Person::started(2, OTHER);
    let server = start(&other.lines).await;
    let post = |who: &'static str, body: String| {
        let req = server
            .client
            .post(server.url("/api/v1/import"))
            .bearer_auth(&server.tokens[who])
            .body(body);
        async move {
            let r = req.send().await.unwrap();
            (
                r.status().as_u16(),
                r.json::<serde_json::Value>().await.unwrap(),
            )
        }
    };
    // A line of another unit, one about another unit's participant, and a broken rule: all named, nothing written.
    let mut bad = own.lines.clone();
    bad.push(
        other
            .event(
                "absence",
                "2006-03-01",
                json!({"hours": 1, "approved": true}),
            )
            .to_string(),
    );
    let mut sneaky = other.event(
        "absence",
        "2006-03-01",
        json!({"hours": 1, "approved": true}),
    );
    sneaky["unit"] = json!(OWN);
    bad.push(sneaky.to_string());
    bad.push(own.event("started", "2006-04-01", json!({})).to_string());
    let (s, b) = post("adviser", bad.join("\n")).await;
    assert_eq!(s, 422, "{b}");
    let lines: Vec<(u64, &str)> = b["error"]["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| (l["line"].as_u64().unwrap(), l["code"].as_str().unwrap()))
        .collect();
    assert_eq!(
        lines,
        [(5, "unit_not_permitted"), (6, "not_found"), (7, "refused")]
    );
    assert_eq!(b["error"]["lines"][2]["rule"], "already_started");
    let (_, status) = server.get("adviser", "/api/v1/status").await;
    assert_eq!(status["participants"], json!([]), "nothing was written");

    // The good lines alone land; again, they are skipped.
    let (s, b) = post("adviser", own.lines.join("\n")).await;
    assert_eq!((s, &b), (200, &json!({"imported": 4, "skipped": 0})));
    let (s, b) = post("adviser", own.lines.join("\n") + "\n").await;
    assert_eq!((s, &b), (200, &json!({"imported": 0, "skipped": 4})));
    let (s, _) = post("analyst", own.lines.join("\n")).await;
    assert_eq!(s, 403);
    server.stop().await;
}
