//! Reliability C1 over HTTP: 64 clients write to one participant at once
//! with expected versions. Every conflict is a 409 naming the current
//! version; each client retries with it until its event is stored or refused
//! by a rule; nothing is lost and exactly one exit is stored.

use std::sync::Arc;

use serde_json::{Value, json};

use crate::common::{OWN, Person, start};

const CLIENTS: usize = 64;
const EXITS: usize = 16;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sixty_four_clients_on_one_participant_lose_nothing_and_exit_once() {
    let own = Person::started(1, OWN);
    let server = Arc::new(start(&own.lines).await);
    let own = Arc::new(own);
    let clients: Vec<_> = (0..CLIENTS)
        .map(|i| {
            let server = Arc::clone(&server);
            let own = Arc::clone(&own);
            tokio::spawn(async move {
                let mut body = if i < EXITS {
                    own.event(
                        "completed",
                        "2007-12-31",
                        json!({"reason": "work_full_time"}),
                    )
                } else {
                    own.event(
                        "absence",
                        "2007-06-01",
                        json!({"hours": 1, "approved": true}),
                    )
                };
                let mut version = 4;
                let mut conflicts = 0;
                loop {
                    body["expected_version"] = json!(version);
                    let (status, answer): (u16, Value) =
                        server.post("adviser", "/api/v1/events", &body).await;
                    match status {
                        201 => return (i, "stored", conflicts),
                        422 => {
                            return (
                                i,
                                answer["error"]["rule"]
                                    .as_str()
                                    .map_or("refused", |_| "refused"),
                                conflicts,
                            );
                        }
                        409 => {
                            let current = answer["error"]["current_version"]
                                .as_u64()
                                .expect("a conflict names the current version");
                            assert!(current > version, "the current version moved on");
                            version = current;
                            conflicts += 1;
                        }
                        other => panic!("client {i}: unexpected {other}: {answer}"),
                    }
                }
            })
        })
        .collect();
    let mut stored = 0;
    let mut refused = 0;
    let mut conflicts = 0;
    for c in clients {
        let (i, outcome, n) = c.await.unwrap();
        conflicts += n;
        match outcome {
            "stored" => stored += 1,
            _ => {
                assert!(
                    i < EXITS,
                    "only exits can be refused (a second exit), not client {i}'s absence"
                );
                refused += 1;
            }
        }
    }
    assert!(conflicts > 0, "the clients raced");
    assert_eq!((stored, refused), (CLIENTS - EXITS + 1, EXITS - 1));
    let (_, view) = server
        .get("adviser", &format!("/api/v1/participants/{}", own.id))
        .await;
    let events = view["events"].as_array().unwrap();
    assert_eq!(
        events.len(),
        4 + CLIENTS - EXITS + 1,
        "every stored event is there"
    );
    assert_eq!(
        events
            .iter()
            .filter(|e| e["event"]["type"] == "completed")
            .count(),
        1,
        "exactly one exit"
    );
    Arc::try_unwrap(server)
        .ok()
        .expect("clients done")
        .stop()
        .await;
}
