//! Reliability S1: every route with every role, against its own unit,
//! another unit and a participant that does not exist. No cross-unit read
//! or write, and "another unit" answers exactly as "does not exist".

use serde_json::{Value, json};
use uuid::Uuid;

use crate::common::{OTHER, OWN, Person, start};

const ROLES: [&str; 5] = ["adviser", "leader", "other-adviser", "analyst", "admin"];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reads_and_writes_never_cross_units_and_another_unit_looks_like_nobody() {
    let own = Person::started(1, OWN);
    let other = Person::started(2, OTHER);
    let server = start(&[own.lines.clone(), other.lines.clone()].concat()).await;
    let nobody = Uuid::from_u128(0xDEAD);

    for role in ROLES {
        let works_with_units = matches!(role, "adviser" | "leader" | "other-adviser");
        let (mine, theirs) = if role == "other-adviser" {
            (&other, &own)
        } else {
            (&own, &other)
        };

        // One participant.
        let (status, body) = server
            .get(role, &format!("/api/v1/participants/{}", mine.id))
            .await;
        if works_with_units {
            assert_eq!(status, 200, "{role} reads its own participant: {body}");
            assert_eq!(body["participant"], json!(mine.id));
            assert_eq!(
                body["version"],
                json!(body["events"].as_array().unwrap().len()),
                "the version counts the events"
            );
            let (s_theirs, b_theirs) = server
                .get(role, &format!("/api/v1/participants/{}", theirs.id))
                .await;
            let (s_nobody, b_nobody) = server
                .get(role, &format!("/api/v1/participants/{nobody}"))
                .await;
            assert_eq!(
                (s_theirs, s_nobody),
                (404, 404),
                "{role}: another unit's participant and nobody"
            );
            assert_eq!(
                b_theirs, b_nobody,
                "{role}: the same body for another unit's participant and for nobody"
            );
        } else {
            assert_eq!(
                (status, body["error"]["code"].as_str()),
                (403, Some("forbidden")),
                "{role} reads no participant"
            );
        }

        // One write: an absence, to their own, another unit's, and nobody.
        let event = |p: &Person, id: Uuid| {
            let mut e = p.event(
                "absence",
                "2006-03-01",
                json!({"hours": 2, "approved": true}),
            );
            e["participant"] = json!(id);
            e["unit"] = json!(mine.unit);
            e
        };
        let (status, body) = server
            .post(role, "/api/v1/events", &event(mine, mine.id))
            .await;
        if works_with_units {
            assert_eq!(status, 201, "{role} writes to its own participant: {body}");
            assert_eq!(body["event"]["by"], json!(role), "`by` is the account");
            let (s_theirs, b_theirs) = server
                .post(role, "/api/v1/events", &event(mine, theirs.id))
                .await;
            let (s_nobody, b_nobody) = server
                .post(role, "/api/v1/events", &event(mine, nobody))
                .await;
            assert_eq!(
                (s_theirs, s_nobody),
                (404, 404),
                "{role}: a write to another unit's participant and to nobody"
            );
            assert_eq!(b_theirs, b_nobody);
            // Naming the other unit in the body is refused before any lookup.
            let mut across = theirs.event(
                "absence",
                "2006-03-01",
                json!({"hours": 2, "approved": true}),
            );
            across["unit"] = json!(theirs.unit);
            let (s, b) = server.post(role, "/api/v1/events", &across).await;
            assert_eq!(
                (s, b["error"]["code"].as_str()),
                (403, Some("unit_not_permitted")),
                "{role}: {b}"
            );
        } else {
            assert_eq!(
                (status, body["error"]["code"].as_str()),
                (403, Some("forbidden")),
                "{role} writes nothing"
            );
        }

        // Unit views: own unit, another unit, and all of the caller's units.
        for route in ["/api/v1/status", "/api/v1/followups", "/api/v1/export"] {
            let sep = if route.contains('?') { '&' } else { '?' };
            let (s_mine, b_mine) =
                get_text(&server, role, &format!("{route}{sep}unit={}", mine.unit)).await;
            let (s_all, b_all) = get_text(&server, role, route).await;
            let (s_theirs, b_theirs) =
                get_text(&server, role, &format!("{route}{sep}unit={}", theirs.unit)).await;
            if works_with_units {
                assert_eq!((s_mine, s_all), (200, 200), "{role} {route}: {b_mine}");
                assert!(
                    !b_mine.contains(&theirs.id.to_string())
                        && !b_all.contains(&theirs.id.to_string()),
                    "{role} {route} shows another unit's participant"
                );
                assert_eq!(s_theirs, 403, "{role} {route} of another unit");
                assert!(b_theirs.contains("unit_not_permitted"));
            } else {
                assert_eq!((s_mine, s_all, s_theirs), (403, 403, 403), "{role} {route}");
                assert!(b_mine.contains("\"forbidden\""));
            }
        }
        let (_, status_doc) = server
            .get(role, &format!("/api/v1/status?unit={}", mine.unit))
            .await;
        if works_with_units {
            let ids: Vec<&Value> = status_doc["participants"]
                .as_array()
                .unwrap()
                .iter()
                .map(|s| &s["participant"])
                .collect();
            assert_eq!(
                ids,
                [&json!(mine.id)],
                "{role} sees exactly its unit's participant"
            );
        }
    }

    // Without credentials, or with a forged token: 401 everywhere but health.
    for route in [
        "/api/v1/participants/".to_owned() + &own.id.to_string(),
        "/api/v1/status".into(),
        "/api/v1/survey?year=2006&publish=true".into(),
    ] {
        let r = server.client.get(server.url(&route)).send().await.unwrap();
        assert_eq!(r.status(), 401, "{route} without a token");
        let real = &server.tokens["adviser"];
        let flipped = if real.ends_with('0') { '1' } else { '0' };
        let forged = format!("{}{flipped}", &real[..real.len() - 1]);
        let r = server
            .client
            .get(server.url(&route))
            .bearer_auth(forged)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 401, "{route} with a forged token");
    }
    assert_eq!(
        server
            .client
            .get(server.url("/healthz"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_survey_is_a_leaders_own_units_or_published_and_never_an_advisers() {
    let own = Person::started(1, OWN);
    let other = Person::started(2, OTHER);
    let server = start(&[own.lines.clone(), other.lines.clone()].concat()).await;
    let q = "/api/v1/survey?year=2006&by=unit";
    let code = |b: &Value| b["error"]["code"].as_str().map(str::to_owned);
    for role in ["adviser", "admin"] {
        let (s, b) = server.get(role, q).await;
        assert_eq!((s, code(&b).as_deref()), (403, Some("forbidden")), "{role}");
    }
    let (s, b) = server.get("analyst", q).await;
    assert_eq!((s, code(&b).as_deref()), (403, Some("publish_required")));
    let (s, b) = server.get("analyst", &format!("{q}&publish=true")).await;
    assert_eq!(s, 200, "{b}");
    // Two people in two units: every count is small, so published as null.
    assert!(
        b["rows"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["answers"]["q1"].is_null()),
        "{b}"
    );
    let (s, b) = server.get("leader", q).await;
    assert_eq!(s, 200, "{b}");
    let rows = b["rows"].as_array().unwrap();
    assert_eq!(
        rows.iter()
            .map(|r| r["code"].as_str().unwrap())
            .collect::<Vec<_>>(),
        [OWN],
        "only the leader's own unit"
    );
    assert_eq!(
        b["total"]["answers"]["q1"],
        json!(1),
        "the total sums the leader's rows"
    );
    let (s, b) = server
        .get("leader", "/api/v1/survey?year=2006&by=county")
        .await;
    assert_eq!(
        (s, code(&b).as_deref()),
        (403, Some("forbidden")),
        "unpublished counties are not a leader's"
    );
    let (s, b) = server
        .get("leader", "/api/v1/survey?year=2006&by=county&publish=true")
        .await;
    assert_eq!(s, 200, "{b}");
    let (s, b) = server
        .get("leader", "/api/v1/survey?year=twenty&by=unit")
        .await;
    assert_eq!((s, b["error"]["field"].as_str()), (400, Some("year")));
    server.stop().await;
}

async fn get_text(server: &crate::common::Server, who: &str, path: &str) -> (u16, String) {
    let r = server
        .client
        .get(server.url(path))
        .bearer_auth(&server.tokens[who])
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn explanations_and_findings_are_a_leaders_own_units_and_the_report_is_published_only() {
    let own = Person::started(1, OWN);
    let other = Person::started(2, OTHER);
    let server = start(&[own.lines.clone(), other.lines.clone()].concat()).await;
    let before = server.audit_entries().len();

    // Who is behind q1 of 2006 in the leader's unit: the one started there.
    let (s, b) = server
        .get(
            "leader",
            &format!("/api/v1/survey/explain?year=2006&unit={OWN}&key=q1"),
        )
        .await;
    assert_eq!(s, 200, "{b}");
    let named: Vec<&str> = b["participants"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["participant"].as_str().unwrap())
        .collect();
    assert_eq!(named, vec![own.id.to_string()], "{b}");
    assert!(
        b["participants"][0]["events"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["type"] == "started"),
        "{b}"
    );
    let (s, b) = server
        .get(
            "leader",
            &format!("/api/v1/survey/explain?year=2006&unit={OTHER}&key=q1"),
        )
        .await;
    assert_eq!(
        (s, b["error"]["code"].as_str()),
        (403, Some("unit_not_permitted"))
    );
    let (s, b) = server
        .get(
            "leader",
            &format!("/api/v1/survey/explain?year=2006&unit={OWN}&key=q99"),
        )
        .await;
    assert_eq!((s, b["error"]["field"].as_str()), (400, Some("key")));

    // Findings: only the leader's units (both participants have been quiet
    // since 2006; the view day is in 2008).
    let (s, b) = server.get("leader", "/api/v1/lint").await;
    assert_eq!(s, 200, "{b}");
    let findings = b["findings"].as_array().unwrap();
    assert!(
        findings.iter().any(|f| f["participant"] == json!(own.id)),
        "{b}"
    );
    assert!(
        findings.iter().all(|f| f["unit"] == json!(OWN)),
        "another unit's findings leaked: {b}"
    );

    // Each named its participants in one audit record.
    let entries = server.audit_entries();
    let actions: Vec<&str> = entries[before..]
        .iter()
        .map(|e| e.action.as_str())
        .collect();
    assert_eq!(actions, ["GET /api/v1/survey/explain", "GET /api/v1/lint"]);
    assert_eq!(
        entries[before].participants,
        vec![spor_domain::ParticipantId(own.id)]
    );

    // The report: published figures, for leaders and analysts.
    for role in ["leader", "analyst"] {
        let r = server
            .client
            .get(server.url("/api/v1/report?year=2006&format=csv"))
            .bearer_auth(&server.tokens[role])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{role}");
        let text = r.text().await.unwrap();
        assert!(
            !text.contains(&own.id.to_string()) && !text.contains(&other.id.to_string()),
            "no participant in a report"
        );
        let r = server
            .client
            .get(server.url("/api/v1/report?year=2006"))
            .bearer_auth(&server.tokens[role])
            .send()
            .await
            .unwrap();
        assert_eq!(r.headers()["content-type"], "text/html; charset=utf-8");
        assert!(
            r.text().await.unwrap().contains("class=\"bars\""),
            "the page draws its charts"
        );
    }
    for role in ["adviser", "admin"] {
        for route in [
            "/api/v1/report?year=2006",
            "/api/v1/lint",
            &format!("/api/v1/survey/explain?year=2006&unit={OWN}&key=q1"),
        ] {
            let (s, b) = server.get(role, route).await;
            assert_eq!(
                (s, b["error"]["code"].as_str()),
                (403, Some("forbidden")),
                "{role} {route}"
            );
        }
    }
    let (s, _) = server.get("analyst", "/api/v1/lint").await;
    assert_eq!(s, 403);

    // The list of a unit's participants, filtered by state.
    let (_, all) = server.get("leader", "/api/v1/status").await;
    let (s, active) = server.get("leader", "/api/v1/status?state=active").await;
    assert_eq!(s, 200, "{active}");
    let states = |doc: &Value| {
        doc["participants"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["state"].as_str().unwrap().to_owned())
            .collect::<Vec<_>>()
    };
    assert_eq!(
        states(&active),
        states(&all)
            .into_iter()
            .filter(|s| s == "active")
            .collect::<Vec<_>>()
    );
    assert!(!states(&active).is_empty(), "{all}");
    let (s, b) = server.get("leader", "/api/v1/status?state=busy").await;
    assert_eq!((s, b["error"]["field"].as_str()), (400, Some("state")));
    server.stop().await;
}

/// Reliability P4: once a year is published (recorded by its report), the
/// API publishes it again only with the same figures; otherwise 409
/// `published_before`, whose message names the time that makes the
/// published version. Other years are not held back, and `known_at` may be
/// given with `publish=true`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_year_published_before_with_other_figures_is_refused() {
    let server = start(&Person::started(1, OWN).lines).await;
    let (s, b) = server
        .get("analyst", "/api/v1/survey?year=2006&publish=true")
        .await;
    assert_eq!(s, 200, "{b}");
    let made = chrono::DateTime::parse_from_rfc3339("2008-03-01T10:00:00Z")
        .unwrap()
        .to_utc();
    let recorded = spor_projections::publish::Publication {
        year: 2006,
        known_at: made,
        made_at: made,
        head_seq: 1,
        head_hash: "00".repeat(32),
        suppressed_up_to: 4,
        figures: std::collections::BTreeMap::from([("national".to_owned(), vec![Some(99); 33])]),
    };
    spor_store::publications::add(&server.data, &recorded).unwrap();
    let (s, b) = server
        .get("analyst", "/api/v1/survey?year=2006&publish=true")
        .await;
    assert_eq!(
        (s, b["error"]["code"].as_str()),
        (409, Some("published_before")),
        "{b}"
    );
    let message = b["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("2006 ble publisert 01.03.2008")
            && message.contains("2008-03-01T10:00:00"),
        "{message}"
    );
    let (s, b) = server
        .get(
            "analyst",
            "/api/v1/survey?year=2005&publish=true&known_at=2030-01-01",
        )
        .await;
    assert_eq!(s, 200, "{b}");
    server.stop().await;
}
