//! `spor serve` as an operator runs it: the first line names the address,
//! `--demo` prints a login and a token per role, the API answers with the
//! same JSON values as the command line on the same log, SIGTERM stops it
//! cleanly, and a server killed under load keeps every event it
//! acknowledged (reliability D1 over HTTP).

use std::collections::HashSet;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rand::{Rng, SeedableRng};
use serde_json::{Value, json};

use crate::fixture::Stream;
use crate::spor;

/// A running `spor serve`, its address and what it printed after the first line.
pub(crate) struct Serving {
    pub(crate) child: Child,
    pub(crate) base: String,
    pub(crate) lines: Vec<String>,
}

impl Drop for Serving {
    fn drop(&mut self) {
        // A failed test leaves no server behind.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `spor serve` and reads its first line and `more` lines after it.
pub(crate) fn serve(data: &Path, extra: &[&str], more: usize) -> Serving {
    let mut child = Command::new(assert_cmd::cargo::cargo_bin!("spor"))
        .env_clear()
        .env("SPOR_ALLOW_SYNTHETIC_IDS", "1")
        .arg("--data")
        .arg(data)
        .args(["serve", "--listen", "127.0.0.1:0"])
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    out.read_line(&mut first).unwrap();
    let base = first
        .trim()
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("first line: {first:?}"))
        .to_owned();
    assert!(
        base.starts_with("http://127.0.0.1:") && !base.ends_with(":0"),
        "the bound port is printed: {base}"
    );
    let mut lines = Vec::new();
    for _ in 0..more {
        let mut l = String::new();
        out.read_line(&mut l).unwrap();
        lines.push(l.trim().to_owned());
    }
    // Keep the pipe open, so that later lines do not fail the server.
    std::thread::spawn(move || std::io::copy(&mut out, &mut std::io::sink()));
    Serving { child, base, lines }
}

pub(crate) fn client() -> reqwest::blocking::Client {
    reqwest::blocking::Client::builder()
        .timeout(Duration::from_secs(20))
        .build()
        .unwrap()
}

pub(crate) fn wait_ready(base: &str) {
    let c = client();
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        if c.get(format!("{base}/readyz"))
            .send()
            .is_ok_and(|r| r.status() == 200)
        {
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    panic!("{base} did not get ready");
}

fn terminate(child: &mut Child) -> std::process::ExitStatus {
    assert!(
        Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status()
            .unwrap()
            .success()
    );
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        assert!(
            Instant::now() < deadline,
            "spor serve did not stop within 10 s of SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn the_demo_server_prints_its_logins_and_answers_as_the_command_line_does() {
    let tmp = tempfile::tempdir().unwrap();
    let served = tmp.path().join("served");
    let mut s = serve(&served, &["--demo"], 8);
    let logins: Vec<&String> = s
        .lines
        .iter()
        .filter(|l| l.starts_with("demo login: "))
        .collect();
    assert_eq!(logins.len(), 4, "{:?}", s.lines);
    for (line, role) in logins.iter().zip(["adviser", "leader", "analyst", "admin"]) {
        let fields: Vec<&str> = line.trim_start_matches("demo login: ").split(' ').collect();
        assert_eq!(fields[0], role);
        assert_eq!(fields[2].len(), 20, "a one-time password: {line}");
        assert_eq!(
            fields.len() == 4,
            matches!(role, "adviser" | "leader"),
            "units only for adviser and leader: {line}"
        );
    }
    let token = |role: &str| {
        s.lines
            .iter()
            .find_map(|l| l.strip_prefix(&format!("demo token: {role} ")))
            .unwrap()
            .split(' ')
            .nth(1)
            .unwrap()
            .to_owned()
    };
    let (adviser, leader) = (token("adviser"), token("leader"));
    wait_ready(&s.base);

    // The same demo log written by `spor demo` (same seed, same bytes) is what the command line reads.
    let cli = tmp.path().join("cli");
    spor(&cli).arg("demo").assert().success();
    let c = client();
    let api = |path: &str, token: &str| {
        let r = c
            .get(format!("{}{path}", s.base))
            .bearer_auth(token)
            .send()
            .unwrap();
        assert_eq!(r.status(), 200, "{path}");
        r.text().unwrap()
    };
    let cli_out =
        |args: &[&str]| String::from_utf8(spor(&cli).args(args).output().unwrap().stdout).unwrap();
    let pairs = [
        (
            api("/api/v1/status?unit=030101&on=2008-12-01", &adviser),
            cli_out(&[
                "status",
                "--unit",
                "030101",
                "--on",
                "2008-12-01",
                "--format",
                "json",
            ]),
        ),
        (
            api(
                "/api/v1/followups?unit=030101&on=2008-12-01&within=30",
                &adviser,
            ),
            cli_out(&[
                "followups",
                "--unit",
                "030101",
                "--on",
                "2008-12-01",
                "--within",
                "30",
                "--format",
                "json",
            ]),
        ),
    ];
    for (from_api, from_cli) in pairs {
        let (a, b): (Value, Value) = (
            serde_json::from_str(&from_api).unwrap(),
            serde_json::from_str(&from_cli).unwrap(),
        );
        assert_eq!(a, b, "the API and the command line disagree");
        assert_eq!(
            from_api.trim_end(),
            from_cli.trim_end(),
            "the same bytes, fields in the same order"
        );
    }
    // A leader's survey: the command line's rows of the leader's units.
    let from_api: Value = serde_json::from_str(&api(
        "/api/v1/survey?year=2007&by=unit&known_at=2008-12-01",
        &leader,
    ))
    .unwrap();
    let from_cli: Value = serde_json::from_str(&cli_out(&[
        "survey",
        "--year",
        "2007",
        "--by",
        "unit",
        "--known-at",
        "2008-12-01",
        "--format",
        "json",
    ]))
    .unwrap();
    let theirs: Vec<&Value> = from_cli["rows"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["code"] == "030101" || r["code"] == "030102")
        .collect();
    assert_eq!(
        from_api["rows"]
            .as_array()
            .unwrap()
            .iter()
            .collect::<Vec<_>>(),
        theirs
    );
    assert_eq!(theirs.len(), 2);
    // Views default to the demo's fixed day.
    let status: Value = serde_json::from_str(&api("/api/v1/status?unit=030101", &adviser)).unwrap();
    assert_eq!(status["on"], json!("2008-12-01"));

    assert!(terminate(&mut s.child).success(), "SIGTERM is a clean stop");
    // Started again with --demo on a directory that holds a store: as it is.
    let mut again = Command::new(assert_cmd::cargo::cargo_bin!("spor"))
        .env_clear()
        .arg("--data")
        .arg(&served)
        .args(["serve", "--listen", "127.0.0.1:0", "--demo"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut first = String::new();
    let mut out = BufReader::new(again.stdout.take().unwrap());
    out.read_line(&mut first).unwrap();
    assert!(
        first.starts_with("listening on http://127.0.0.1:"),
        "{first}"
    );
    assert!(terminate(&mut again).success());
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut out, &mut rest).unwrap();
    assert_eq!(rest, "", "no new accounts on an existing store");
}

#[test]
fn a_server_killed_under_load_keeps_every_event_it_acknowledged() {
    let cycles: u64 = std::env::var("SPOR_SERVE_KILL_CYCLES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(200);
    stopped_under_load(cycles, Stop::Kill);
}

/// Reliability O2, its graceful half: on SIGTERM under load, appends in
/// flight are acknowledged and durable, or refused; the server exits 0.
#[test]
fn a_server_stopped_with_sigterm_under_load_keeps_every_acknowledged_event_and_exits_cleanly() {
    stopped_under_load(10, Stop::Term);
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Stop {
    Kill,
    Term,
}

fn stopped_under_load(cycles: u64, how: Stop) {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    // An empty store to add the account to.
    spor(&data).args(["import", "/dev/null"]).assert().success();
    spor(&data)
        .args([
            "user", "add", "writer", "--role", "adviser", "--unit", "0301",
        ])
        .assert()
        .success();
    let token = String::from_utf8(
        spor(&data)
            .args(["token", "create", "writer"])
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap()
    .trim()
    .to_owned();
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(0xD1);
    let acknowledged: Arc<Mutex<HashSet<String>>> = Arc::new(Mutex::new(HashSet::new()));
    let mut next: u128 = 1;
    for cycle in 0..cycles {
        let mut s = serve(&data, &[], 0);
        let stop = Arc::new(AtomicBool::new(false));
        let writers: Vec<_> = (0..4)
            .map(|w| {
                let (base, token, stop, acknowledged) = (
                    s.base.clone(),
                    token.clone(),
                    Arc::clone(&stop),
                    Arc::clone(&acknowledged),
                );
                let first = next + w * 10_000;
                std::thread::spawn(move || {
                    let c = client();
                    let mut n = first;
                    while !stop.load(Ordering::Relaxed) {
                        // A whole new participant, one event at a time.
                        let stream = Stream::started(n, "0301", "2006-02-01");
                        for e in &stream.events {
                            let body: Value =
                                serde_json::from_str(&spor_domain::wire::to_line(e)).unwrap();
                            match c
                                .post(format!("{base}/api/v1/events"))
                                .bearer_auth(&token)
                                .json(&body)
                                .send()
                            {
                                Ok(r) if r.status() == 201 || r.status() == 200 => {
                                    acknowledged.lock().unwrap().insert(e.id.0.to_string());
                                }
                                Ok(r) if r.status() == 503 => {
                                    std::thread::sleep(Duration::from_millis(5))
                                }
                                Ok(r) => panic!(
                                    "unexpected {}: {}",
                                    r.status(),
                                    r.text().unwrap_or_default()
                                ),
                                Err(_) => return,
                            }
                        }
                        n += 1;
                    }
                })
            })
            .collect();
        std::thread::sleep(Duration::from_millis(rng.random_range(20..200)));
        match how {
            Stop::Kill => {
                s.child.kill().unwrap();
                s.child.wait().unwrap();
            }
            Stop::Term => assert!(
                terminate(&mut s.child).success(),
                "cycle {cycle}: SIGTERM under load is a clean stop"
            ),
        }
        stop.store(true, Ordering::Relaxed);
        for w in writers {
            w.join().unwrap();
        }
        next += 40_000;
        // The directory opens, verifies, and holds every acknowledged event.
        spor(&data).arg("verify").assert().success();
        let out = spor(&data).args(["export", "-"]).output().unwrap();
        let stored: HashSet<String> = String::from_utf8(out.stdout)
            .unwrap()
            .lines()
            .map(|l| {
                serde_json::from_str::<Value>(l).unwrap()["id"]
                    .as_str()
                    .unwrap()
                    .to_owned()
            })
            .collect();
        let lost: Vec<String> = acknowledged
            .lock()
            .unwrap()
            .difference(&stored)
            .cloned()
            .collect();
        assert!(
            lost.is_empty(),
            "cycle {cycle}: {} acknowledged events lost, e.g. {:?}",
            lost.len(),
            lost.first()
        );
    }
    assert!(
        acknowledged.lock().unwrap().len() > usize::try_from(cycles).unwrap(),
        "the writers got events in"
    );
}
