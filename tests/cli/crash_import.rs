//! Reliability D2: an import of 10 000 lines killed (SIGKILL) at a random
//! moment lands whole or not at all. After every kill the store opens,
//! `spor verify` passes, the killed file's events are all there or none is,
//! every earlier import is intact, and importing the file again completes it.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use rand::{Rng, SeedableRng};

use crate::fixture::{Stream, d};
use crate::spor;
use spor_domain::EventBody;
use spor_domain::event::{LeaveGranted, LeaveReason};

/// 2 000 participants of five events each, numbered from `first`.
fn import_file(dir: &Path, first: u128) -> (PathBuf, HashSet<String>) {
    let mut text = String::new();
    let mut ids = HashSet::new();
    for n in first..first + 2_000 {
        let unit = ["0301", "1201", "1601", "5001"][usize::try_from(n % 4).unwrap()];
        let mut s = Stream::started(n, unit, "2005-02-01");
        s.push(
            "2005-06-01",
            EventBody::LeaveGranted(LeaveGranted {
                from: d("2005-06-01"),
                to: d("2005-07-31"),
                reason: LeaveReason::Parental,
            }),
        );
        ids.extend(s.events.iter().map(|e| e.id.0.to_string()));
        text.push_str(&s.lines());
    }
    let path = dir.join(format!("import-{first}.jsonl"));
    std::fs::write(&path, text).unwrap();
    assert_eq!(ids.len(), 10_000);
    (path, ids)
}

/// `spor import FILE` as a child that can be killed; small batches, so that
/// a kill often lands after some of them are durable.
fn start_import(data: &Path, file: &Path) -> std::process::Child {
    Command::new(assert_cmd::cargo::cargo_bin!("spor"))
        .env_clear()
        .env("SPOR_ALLOW_SYNTHETIC_IDS", "1")
        .env("SPOR_IMPORT__BATCH_EVENTS", "500")
        .arg("--data")
        .arg(data)
        .arg("import")
        .arg(file)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

/// The ids of every stored event.
fn stored_ids(data: &Path) -> HashSet<String> {
    let out = spor(data).args(["export", "-"]).output().unwrap();
    assert!(
        out.status.success(),
        "export: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).unwrap()["id"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect()
}

#[test]
fn an_import_killed_midway_lands_whole_or_not_at_all() {
    let cycles: u128 = std::env::var("SPOR_D2_CYCLES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(12);
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(0xD2);

    // The first import runs to the end: it measures how long one takes.
    let (file, first_ids) = import_file(tmp.path(), 0);
    let started = Instant::now();
    assert!(start_import(&data, &file).wait().unwrap().success());
    let full = started.elapsed();
    let mut expected: HashSet<String> = first_ids;
    assert_eq!(stored_ids(&data), expected);

    let (mut rolled_back, mut landed, mut killed_while_writing) = (0, 0, 0);
    let mut last_rolled_back = None;
    for cycle in 1..=cycles {
        let (file, ids) = import_file(tmp.path(), cycle * 10_000);
        let mut child = start_import(&data, &file);
        let wait = rng.random_range(0..u64::try_from(full.as_millis()).unwrap().max(1) + 50);
        std::thread::sleep(Duration::from_millis(wait));
        let _ = child.kill(); // SIGKILL; it may have ended already
        child.wait().unwrap();
        if data.join("spor.import").exists() {
            killed_while_writing += 1;
        }
        let verify = spor(&data).arg("verify").output().unwrap();
        assert!(
            verify.status.success(),
            "cycle {cycle}: verify after the kill: {}",
            String::from_utf8_lossy(&verify.stderr)
        );
        let stored = stored_ids(&data);
        let of_file = ids.iter().filter(|id| stored.contains(*id)).count();
        assert!(
            of_file == 0 || of_file == ids.len(),
            "cycle {cycle}: {of_file} of the file's 10 000 events are stored"
        );
        if of_file == 0 {
            rolled_back += 1;
            last_rolled_back = Some((file, ids));
        } else {
            landed += 1;
            expected.extend(ids);
        }
        assert_eq!(
            stored, expected,
            "cycle {cycle}: earlier imports intact, nothing else stored"
        );
        assert!(
            !data.join("spor.import").exists(),
            "cycle {cycle}: the marker is gone once the store was opened"
        );
    }
    // Importing a rolled-back file again completes it.
    if let Some((file, ids)) = last_rolled_back {
        assert!(start_import(&data, &file).wait().unwrap().success());
        expected.extend(ids);
        assert_eq!(stored_ids(&data), expected);
    }
    eprintln!(
        "D2: {cycles} kills: {landed} imports landed whole, {rolled_back} not at all, {killed_while_writing} killed while writing"
    );
    // The test must reach the case it is about: kills after some batches were durable.
    assert!(
        killed_while_writing >= 2,
        "only {killed_while_writing} kills landed while the import was writing"
    );
}
