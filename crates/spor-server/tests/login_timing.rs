//! Reliability S3, the timing half: its own test binary, so that no other
//! test shares the two cores while it measures (cargo runs test binaries
//! one after another).
#![allow(clippy::unwrap_used, clippy::missing_panics_doc)]

#[path = "api/browser.rs"]
mod browser;
#[path = "api/common.rs"]
mod common;

use std::time::{Duration, Instant};

use serde_json::json;

use browser::Browser;
use common::Trail;

/// S3: rejecting an unknown name and a wrong password take the same time
/// (medians of 100 tries each differ by at most 10 %), so the answer's
/// timing does not tell which names exist.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_name_and_a_wrong_password_take_the_same_time() {
    let tries: usize = std::env::var("SPOR_LOGIN_TIMING_TRIES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100);
    let server = common::start_configured(&[], Trail::Real, |s| {
        s.login_limits.address_burst = 100_000;
        s.login_limits.account_address_burst = 100_000;
        s.login_limits.account_burst = 100_000;
    })
    .await;
    let mut browser = Browser::new(&server);
    let mut unknown = Vec::with_capacity(tries);
    let mut wrong = Vec::with_capacity(tries);
    // Interleaved, so that a slow spell of the machine hits both alike.
    for n in 0..tries {
        let pair = [("adviser", &mut wrong), ("ingen-slik", &mut unknown)];
        // Taking turns at going first, so neither gains from the order.
        let pair: Vec<_> = if n % 2 == 0 {
            pair.into_iter().collect()
        } else {
            pair.into_iter().rev().collect()
        };
        for (name, times) in pair {
            let started = Instant::now();
            let (status, _) = browser
                .post(
                    "/api/v1/session",
                    json!({"name": name, "password": format!("feil passord {n}")}),
                )
                .await;
            times.push(started.elapsed());
            assert_eq!(status, 401);
        }
    }
    let median = |times: &mut Vec<Duration>| {
        times.sort();
        times[times.len() / 2].as_secs_f64()
    };
    let (unknown, wrong) = (median(&mut unknown), median(&mut wrong));
    let difference = (unknown - wrong).abs() / wrong.max(unknown);
    assert!(
        difference <= 0.10,
        "median unknown {unknown:.4} s, wrong password {wrong:.4} s: {:.1} % apart",
        difference * 100.0
    );
    server.stop().await;
}
