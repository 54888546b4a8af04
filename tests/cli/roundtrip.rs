//! Reliability goal B1 as a property over random demo logs: `spor export`
//! is a backup that restores exactly.
//!
//! A user who exports a data directory and imports the file into an empty
//! one relies on getting the same data back: `verify` finds nothing wrong,
//! the two directories export the same bytes and hold the same hash chain,
//! every status is the same, and exporting the restored copy gives the file
//! that was imported (export → import → export is byte-identical). Each case
//! is a demo log of another size and seed; on failure proptest prints them.

use std::collections::HashSet;
use std::path::Path;

use proptest::prelude::*;

use crate::spor;

/// The days statuses are compared on: early on, mid-way and at the demo's end.
const DAYS: [&str; 3] = ["2005-06-30", "2006-12-31", "2008-12-31"];

/// Runs `spor` on `data` and returns its standard output; it must succeed.
fn run(data: &Path, args: &[&str]) -> Vec<u8> {
    let out = spor(data).args(args).output().expect("running spor");
    assert!(
        out.status.success(),
        "spor {args:?} on {} exited with {}:\n{}",
        data.display(),
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// Asserts two outputs are byte-identical, showing where they first differ
/// (a status is one long JSON line, so a line number alone would not do).
fn same_bytes(what: &str, left: &[u8], right: &[u8]) {
    if left == right {
        return;
    }
    let at = left
        .iter()
        .zip(right)
        .position(|(l, r)| l != r)
        .unwrap_or(left.len().min(right.len()));
    let line = left[..at].iter().filter(|&&c| c == b'\n').count() + 1;
    let around = |s: &[u8]| {
        String::from_utf8_lossy(&s[at.saturating_sub(80)..(at + 80).min(s.len())]).into_owned()
    };
    panic!(
        "{what}: {} and {} bytes, first different at byte {at} (line {line}):\n  …{}…\n  …{}…",
        left.len(),
        right.len(),
        around(left),
        around(right)
    );
}

proptest! {
    // Each case runs `spor` a dozen times, each fsyncing what it writes.
    #![proptest_config(ProptestConfig::with_cases(16))]

    #[test]
    fn export_then_import_into_an_empty_directory_restores_the_same_data(
        seed in any::<u64>(),
        people in 10usize..=40,
    ) {
        let tmp = tempfile::tempdir().unwrap();
        let (a, b) = (tmp.path().join("a"), tmp.path().join("b"));
        let file = tmp.path().join("backup.jsonl");
        let file = file.to_str().expect("a UTF-8 temporary path");
        run(&a, &["demo", "--participants", &people.to_string(), "--seed", &seed.to_string()]);
        run(&a, &["export", file]);
        run(&b, &["import", file]);

        let verify_b = String::from_utf8(run(&b, &["verify"])).unwrap();
        assert!(verify_b.ends_with("ok: no problems found\n"), "{verify_b}");
        // The same records in the same order give the same hash chain, so
        // the restored directory reports the original's head.
        same_bytes("verify of a and b", &run(&a, &["verify"]), verify_b.as_bytes());

        let backup = std::fs::read(file).unwrap();
        same_bytes("export of a to a file and to standard output", &backup, &run(&a, &["export"]));
        same_bytes("export → import → export", &backup, &run(&b, &["export"]));

        let streams: HashSet<String> = std::str::from_utf8(&backup)
            .unwrap()
            .lines()
            .map(|line| {
                let event: serde_json::Value = serde_json::from_str(line).unwrap();
                event["participant"].as_str().unwrap().to_owned()
            })
            .collect();
        assert!(!streams.is_empty());
        for day in DAYS {
            let status = |d: &Path| run(d, &["status", "--format", "json", "--on", day]);
            let (status_a, status_b) = (status(&a), status(&b));
            same_bytes(&format!("status on {day} of a and b"), &status_a, &status_b);
            // Not two empty lists: every participant of the log is in it.
            let json: serde_json::Value = serde_json::from_slice(&status_a).unwrap();
            let listed = json["participants"].as_array().map_or(0, Vec::len);
            assert_eq!(listed, streams.len(), "participants in the status on {day}");
        }
    }
}
