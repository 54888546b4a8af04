//! Corruption (reliability I1): single-bit flips and truncations anywhere in
//! a copy of a data directory are reported by `spor verify` (or refused at
//! open), never silent and never a panic or a hang.
//!
//! Each run is classified as (a/b) reported: verify exits 5 naming the
//! damage; (c) harmless: verify passes and the export is byte-identical (a
//! flip in dead space); or (d) silent corruption: verify passes and the
//! export differs. The test passes when (d) = 0 and every run ends in (a/b)
//! or (c) within 10 s. `SPOR_I1_RUNS` sets the number of flips (default 2000,
//! as in CI; the soak uses 100 000).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::spor;

/// Every file under `dir` (path relative to it, and length), sorted.
pub fn files(dir: &Path) -> Vec<(PathBuf, u64)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let p = entry.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                let len = p.metadata().unwrap().len();
                out.push((p.strip_prefix(dir).unwrap().to_owned(), len));
            }
        }
    }
    out.sort();
    out
}

fn copy_dir(from: &Path, to: &Path) {
    let _ = std::fs::remove_dir_all(to);
    for (rel, _) in files(from) {
        let dest = to.join(&rel);
        std::fs::create_dir_all(dest.parent().unwrap()).unwrap();
        std::fs::copy(from.join(&rel), dest).unwrap();
    }
}

/// Runs `spor` with a deadline; `None` if it hung. Output is drained by
/// threads so a large export cannot block on a full pipe.
fn run_with_deadline(mut cmd: Command, limit: Duration) -> Option<std::process::Output> {
    use std::io::Read;
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = child.stdout.take().unwrap();
    let mut err = child.stderr.take().unwrap();
    let out_reader = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = out.read_to_end(&mut v);
        v
    });
    let err_reader = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = err.read_to_end(&mut v);
        v
    });
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            return None;
        }
        std::thread::sleep(Duration::from_millis(2));
    };
    Some(std::process::Output {
        status,
        stdout: out_reader.join().unwrap(),
        stderr: err_reader.join().unwrap(),
    })
}

/// The real binary as a plain `Command`, so it can be waited on with a deadline.
fn raw_spor(data: &Path, command: &str) -> Command {
    let mut cmd = Command::new(assert_cmd::cargo::cargo_bin!("spor"));
    cmd.env_clear()
        .env("SPOR_ALLOW_SYNTHETIC_IDS", "1")
        .arg("--data")
        .arg(data)
        .arg(command);
    cmd
}

#[derive(Debug, Default)]
struct Tally {
    reported: usize,
    harmless: usize,
}

fn classify(work: &Path, original: &[u8], what: &str, tally: &mut Tally) {
    let verify = raw_spor(work, "verify");
    let Some(out) = run_with_deadline(verify, Duration::from_secs(10)) else {
        panic!("{what}: verify hung for 10 s");
    };
    let stderr = String::from_utf8_lossy(&out.stderr);
    match out.status.code() {
        Some(5) => {
            let stdout = String::from_utf8_lossy(&out.stdout);
            assert!(
                stderr.contains("damaged")
                    || stdout.contains("seq ")
                    || stdout.contains("spor.head")
                    || stdout.contains("index"),
                "{what}: exit 5 without naming the damage: {stdout} {stderr}"
            );
            tally.reported += 1;
        }
        Some(0) => {
            let export = raw_spor(work, "export");
            let out = run_with_deadline(export, Duration::from_secs(10))
                .unwrap_or_else(|| panic!("{what}: export hung"));
            assert!(
                out.status.success(),
                "{what}: verify passed but export failed: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            assert!(
                out.stdout == original,
                "{what}: SILENT CORRUPTION: verify passed and the export differs"
            );
            tally.harmless += 1;
        }
        other => {
            panic!("{what}: verify exited {other:?} (a panic or an unclassified error): {stderr}")
        }
    }
}

#[test]
fn bit_flips_and_truncations_are_reported_never_silent() {
    let runs: usize = std::env::var("SPOR_I1_RUNS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(2000);
    let tmp = tempfile::tempdir().unwrap();
    let base = tmp.path().join("base");
    spor(&base)
        .args(["demo", "--participants", "140", "--seed", "11"])
        .assert()
        .success();
    let original = spor(&base).arg("export").output().unwrap().stdout;
    let events = original.iter().filter(|b| **b == b'\n').count();
    assert!((1500..3000).contains(&events), "{events} events");
    let all = files(&base);
    let total: u64 = all.iter().map(|(_, l)| l).sum();
    let work = tmp.path().join("work");
    let mut rng = ChaCha8Rng::seed_from_u64(0x11);
    let mut tally = Tally::default();
    for run in 0..runs {
        copy_dir(&base, &work);
        // A byte anywhere in the directory, every byte equally likely.
        let mut at = rng.random_range(0..total);
        let (rel, _) = all
            .iter()
            .find(|(_, len)| {
                if at < *len {
                    true
                } else {
                    at -= len;
                    false
                }
            })
            .unwrap();
        let path = work.join(rel);
        let mut bytes = std::fs::read(&path).unwrap();
        let bit = rng.random_range(0..8);
        bytes[usize::try_from(at).unwrap()] ^= 1 << bit;
        std::fs::write(&path, bytes).unwrap();
        classify(
            &work,
            &original,
            &format!("flip {run}: {} byte {at} bit {bit}", rel.display()),
            &mut tally,
        );
    }
    // Truncations: each file of the directory cut at a random length.
    let truncations = (runs / 10).max(all.len());
    for run in 0..truncations {
        copy_dir(&base, &work);
        let (rel, len) = &all[run % all.len()];
        if *len == 0 {
            continue;
        }
        let cut = rng.random_range(0..*len);
        std::fs::OpenOptions::new()
            .write(true)
            .open(work.join(rel))
            .unwrap()
            .set_len(cut)
            .unwrap();
        classify(
            &work,
            &original,
            &format!("truncation {run}: {} to {cut} bytes", rel.display()),
            &mut tally,
        );
    }
    println!(
        "I1: {runs} flips and {truncations} truncations over {total} bytes: {} reported, {} harmless, 0 silent",
        tally.reported, tally.harmless
    );
    assert!(
        tally.reported > 0,
        "no damage was ever reported: the sweep proved nothing"
    );
}
