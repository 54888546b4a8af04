//! Reliability AU1 and AU2: one audit record per answer that carries
//! personal data, naming every participant it carried; a read whose record
//! cannot be written fails and carries none.

use serde_json::json;
use spor_store::EventStore;

use crate::common::{OTHER, OWN, Person, Trail, start, start_with};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_read_of_personal_data_leaves_exactly_one_record_naming_who_and_whom() {
    let a = Person::started(1, OWN);
    let b = Person::started(2, OWN);
    let c = Person::started(3, OTHER);
    let server = start(&[a.lines.clone(), b.lines.clone(), c.lines.clone()].concat()).await;
    let before = server.audit_entries().len();
    let (s, _) = server
        .get("adviser", &format!("/api/v1/participants/{}", a.id))
        .await;
    assert_eq!(s, 200);
    let (s, _) = server.get("leader", "/api/v1/status").await;
    assert_eq!(s, 200);
    let (s, _) = server.get("adviser", "/api/v1/followups?within=1000").await;
    assert_eq!(s, 200);
    let r = server
        .client
        .get(server.url("/api/v1/export"))
        .bearer_auth(&server.tokens["adviser"])
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.text().await.unwrap().lines().count(),
        8,
        "two participants of four events each"
    );
    // Refused and aggregate-only requests carry no personal data and leave no record.
    let (s, _) = server
        .get("adviser", &format!("/api/v1/participants/{}", c.id))
        .await;
    assert_eq!(s, 404);
    let (s, _) = server
        .get("analyst", "/api/v1/survey?year=2006&publish=true")
        .await;
    assert_eq!(s, 200);

    let entries = &server.audit_entries()[before..];
    let actions: Vec<(&str, &str)> = entries
        .iter()
        .map(|e| (e.who.as_str(), e.action.as_str()))
        .collect();
    assert_eq!(
        actions,
        [
            ("adviser", "GET /api/v1/participants/{id}"),
            ("leader", "GET /api/v1/status"),
            ("adviser", "GET /api/v1/followups"),
            ("adviser", "GET /api/v1/export"),
        ]
    );
    let mut both = vec![
        spor_domain::ParticipantId(a.id),
        spor_domain::ParticipantId(b.id),
    ];
    both.sort_unstable();
    assert_eq!(entries[0].participants, [spor_domain::ParticipantId(a.id)]);
    assert_eq!(
        entries[1].participants, both,
        "the status of the unit named both of its participants"
    );
    assert_eq!(entries[3].participants, both);
    assert!(
        entries
            .iter()
            .all(|e| e.from == "127.0.0.1" && e.units == [OWN]),
        "{entries:?}"
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn when_the_audit_record_cannot_be_written_no_personal_data_leaves() {
    let a = Person::started(1, OWN);
    let server = start_with(&a.lines, Trail::Failing).await;
    let id = a.id.to_string();
    for path in [
        format!("/api/v1/participants/{id}"),
        "/api/v1/status".into(),
        "/api/v1/followups?within=1000".into(),
        "/api/v1/export".into(),
    ] {
        let r = server
            .client
            .get(server.url(&path))
            .bearer_auth(&server.tokens["adviser"])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 503, "{path}");
        let text = r.text().await.unwrap();
        assert!(text.contains("audit_unavailable"), "{path}: {text}");
        assert!(!text.contains(&id), "{path} leaked a participant: {text}");
    }
    // Nor is a write made that could not be recorded.
    let (s, _) = server
        .post(
            "adviser",
            "/api/v1/events",
            &a.event(
                "absence",
                "2006-03-01",
                json!({"hours": 1, "approved": true}),
            ),
        )
        .await;
    assert_eq!(s, 503);
    assert_eq!(
        server
            .store
            .stream(spor_domain::ParticipantId(a.id))
            .unwrap()
            .len(),
        4
    );
    server.stop().await;
}
