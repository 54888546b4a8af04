//! Crash consistency (reliability D1) and syscall ordering (D3).
//!
//! This test binary has its own `main` (harness = false): run with
//! `SPOR_CRASH_CHILD=DIR` it is the child, which appends from 8 writer
//! threads (single events, small batches and import-sized batches) and prints
//! `ack <event-uuid>` for every event once its append returned. Without it,
//! it is the parent:
//!
//! - D1: `SPOR_CRASH_CYCLES` times (default 200), start the child, kill it
//!   with SIGKILL at a random moment (0-200 ms; one cycle in ten within the
//!   first 5 ms, while it opens the store), then reopen the store: verify must
//!   be clean and every acknowledged event must be there.
//! - D3: run the child once under `strace -f` and check that for every
//!   acknowledged event, the write that carried its bytes into sled's log file
//!   was followed by an fsync/fdatasync of that file, started after that write
//!   and finished before the acknowledgement.
//!
//! It prints `N passed, N failed` at the end, like any test runner.

#![allow(clippy::unwrap_used)] // in a test, a failed unwrap is a failed test, with its line

mod common;

use std::collections::{HashMap, HashSet};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{event, participant};
use rand::{Rng, SeedableRng};
use spor_domain::EventId;
use spor_store::{EventStore, OpenOptions, SledStore, StreamAppend};

fn main() {
    if let Ok(dir) = std::env::var("SPOR_CRASH_CHILD") {
        child(Path::new(&dir));
        return;
    }
    let mut passed = 0;
    let mut failed = 0;
    for (name, test) in [
        (
            "d1_kill_9_loses_no_acknowledged_append",
            d1 as fn() -> Result<(), String>,
        ),
        ("d3_no_ack_before_fdatasync", d3),
    ] {
        let started = Instant::now();
        match test() {
            Ok(()) => {
                passed += 1;
                println!(
                    "test {name} ... ok ({:.1} s)",
                    started.elapsed().as_secs_f64()
                );
            }
            Err(why) => {
                failed += 1;
                println!("test {name} ... FAILED\n{why}");
            }
        }
    }
    println!("{passed} passed, {failed} failed");
    if failed > 0 {
        std::process::exit(1);
    }
}

/// The child: appends until killed (or for `SPOR_CRASH_SECONDS`).
fn child(dir: &Path) {
    let store = Arc::new(
        SledStore::open(
            dir,
            OpenOptions {
                create: true,
                ..OpenOptions::default()
            },
        )
        .expect("open"),
    );
    let seconds: u64 = std::env::var("SPOR_CRASH_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(3600);
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let out = Arc::new(Mutex::new(std::io::stdout()));
    // Continue numbering after whatever an earlier child stored.
    let base = u128::from(store.head().seq) + u128::from(std::process::id()) * 1_000_000_000;
    let threads: Vec<_> = (0..8u128)
        .map(|w| {
            let store = Arc::clone(&store);
            let out = Arc::clone(&out);
            std::thread::spawn(move || {
                let mut rng =
                    rand::rngs::StdRng::seed_from_u64(u64::try_from(base + w).unwrap_or(0));
                let mut n = base * 10 + w * 100_000_000;
                let mut versions: HashMap<u128, u32> = HashMap::new();
                while Instant::now() < deadline {
                    // Streams of this writer only, so expected versions are known.
                    let size = match rng.random_range(0..10) {
                        0 => 200, // an import-sized batch over many streams
                        1..=3 => 5,
                        _ => 1,
                    };
                    let mut appends: Vec<StreamAppend> = Vec::new();
                    for _ in 0..size {
                        let s = base * 100 + w * 1000 + rng.random_range(0..50u128);
                        n += 1;
                        let v = versions.entry(s).or_insert(0);
                        match appends.iter_mut().find(|a| a.participant == participant(s)) {
                            Some(a) => a.events.push(event(participant(s), n)),
                            None => appends.push(StreamAppend {
                                participant: participant(s),
                                expected_version: *v,
                                events: vec![event(participant(s), n)],
                            }),
                        }
                        *v += 1;
                    }
                    let done = store.append(&appends).expect("append");
                    let mut o = out
                        .lock()
                        .unwrap_or_else(std::sync::PoisonError::into_inner);
                    let mut text = String::new();
                    for (_, id) in done.stored {
                        text.push_str(&format!("ack {}\n", id.0));
                    }
                    o.write_all(text.as_bytes()).expect("stdout");
                    o.flush().expect("stdout");
                }
            })
        })
        .collect();
    for t in threads {
        t.join().expect("writer thread");
    }
}

fn spawn_child(dir: &Path, seconds: Option<u64>, strace: Option<&Path>) -> std::process::Child {
    let exe = std::env::current_exe().expect("own path");
    let mut cmd = match strace {
        Some(trace) => {
            let mut c = Command::new("strace");
            c.args([
                "-f",
                "-y",
                "-ttt",
                "-s",
                "4194304",
                "-e",
                "trace=openat,pwrite64,write,pwritev,fsync,fdatasync,sync_file_range",
                "-o",
            ]);
            c.arg(trace).arg(&exe);
            c
        }
        None => Command::new(&exe),
    };
    cmd.env("SPOR_CRASH_CHILD", dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    if let Some(s) = seconds {
        cmd.env("SPOR_CRASH_SECONDS", s.to_string());
    }
    cmd.spawn().expect("spawn the child")
}

fn read_acks(child: &mut std::process::Child) -> Vec<EventId> {
    let stdout = child.stdout.take().expect("piped stdout");
    BufReader::new(stdout)
        .lines()
        .map_while(Result::ok)
        .filter_map(|l| {
            l.strip_prefix("ack ")
                .and_then(|u| uuid::Uuid::parse_str(u).ok())
                .map(EventId)
        })
        .collect()
}

fn d1() -> Result<(), String> {
    let cycles: usize = std::env::var("SPOR_CRASH_CYCLES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(200);
    let tmp = tempfile::tempdir().map_err(|e| e.to_string())?;
    let dir = tmp.path().join("data");
    let mut rng = rand::rngs::StdRng::seed_from_u64(0x5907);
    let mut acked: Vec<EventId> = Vec::new();
    let mut during_open = 0;
    for cycle in 0..cycles {
        let mut child = spawn_child(&dir, None, None);
        let wait = if rng.random_range(0..10) == 0 {
            during_open += 1;
            rng.random_range(0..5)
        } else {
            rng.random_range(0..200)
        };
        std::thread::sleep(Duration::from_millis(wait));
        let killed = child.kill(); // SIGKILL
        let new = read_acks(&mut child);
        let _ = child.wait();
        killed.map_err(|e| format!("cycle {cycle}: the child could not be killed: {e}"))?;
        acked.extend(new);
        let store = SledStore::open(&dir, OpenOptions::default())
            .map_err(|e| format!("cycle {cycle}: the store did not open after a kill: {e}"))?;
        let report = store.verify();
        if !report.is_clean() {
            return Err(format!("cycle {cycle}: verify found {:?}", report.findings));
        }
        // Every id in the log, read straight from the stored lines.
        let mut stored: HashSet<String> = HashSet::new();
        store
            .scan_lines(&mut |_, line| {
                if let Some(id) = line.get(7..43) {
                    stored.insert(id.to_owned());
                }
                Ok(())
            })
            .map_err(|e| e.to_string())?;
        for id in &acked {
            if !stored.contains(&id.0.to_string()) {
                return Err(format!("cycle {cycle}: acknowledged {id} is lost"));
            }
        }
    }
    println!(
        "    {cycles} kills ({during_open} while opening), {} acknowledged events, 0 lost",
        acked.len()
    );
    if acked.is_empty() {
        return Err("no append was acknowledged in any cycle: the test proved nothing".into());
    }
    Ok(())
}

/// One syscall from strace's output, with the thread and times.
struct Call {
    pid: u32,
    start: f64,
    end: f64,
    name: String,
    args: String,
    ret: String,
}

fn parse_strace(path: &Path) -> Result<Vec<Call>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| e.to_string())?;
    let mut open: HashMap<u32, (f64, String, String)> = HashMap::new();
    let mut calls = Vec::new();
    for line in text.lines() {
        // strace pads the pid column ("1529  1795…" but "24222 1795…").
        let Some((pid, rest)) = line.trim_start().split_once(' ') else {
            continue;
        };
        let Some((ts, rest)) = rest.trim_start().split_once(' ') else {
            continue;
        };
        let (Ok(pid), Ok(ts)) = (pid.parse::<u32>(), ts.parse::<f64>()) else {
            continue;
        };
        if let Some(head) = rest.strip_suffix(" <unfinished ...>") {
            let (name, args) = head.split_once('(').unwrap_or((head, ""));
            open.insert(pid, (ts, name.to_owned(), args.to_owned()));
            continue;
        }
        if let Some(resumed) = rest.strip_prefix("<... ") {
            let Some((start, name, args)) = open.remove(&pid) else {
                continue;
            };
            let (tail, ret) = resumed.rsplit_once(" = ").unwrap_or((resumed, ""));
            let tail = tail.split_once("resumed>").map_or("", |(_, t)| t);
            calls.push(Call {
                pid,
                start,
                end: ts,
                name,
                args: args + tail,
                ret: ret.to_owned(),
            });
            continue;
        }
        let Some((name, after)) = rest.split_once('(') else {
            continue;
        };
        let (args, ret) = after.rsplit_once(" = ").unwrap_or((after, ""));
        calls.push(Call {
            pid,
            start: ts,
            end: ts,
            name: name.to_owned(),
            args: args.to_owned(),
            ret: ret.to_owned(),
        });
    }
    calls.sort_by(|a, b| a.start.total_cmp(&b.start));
    Ok(calls)
}

fn d3() -> Result<(), String> {
    if Command::new("strace").arg("-V").output().is_err() {
        return Err("strace is not installed (apt-get install strace); .ci/run installs it".into());
    }
    let tmp = tempfile::tempdir().map_err(|e| e.to_string())?;
    let dir = tmp.path().join("data");
    let trace: PathBuf = tmp.path().join("trace.txt");
    let mut child = spawn_child(&dir, Some(1), Some(&trace));
    let acked = read_acks(&mut child);
    let status = child.wait().map_err(|e| e.to_string())?;
    if !status.success() {
        return Err(format!("the traced child failed: {status}"));
    }
    if let Ok(keep) = std::env::var("SPOR_KEEP_TRACE") {
        let _ = std::fs::copy(&trace, keep);
    }
    let calls = parse_strace(&trace)?;
    // With -y, strace names each descriptor's file: `4</tmp/…/spor.log>`.
    let log_path = format!("<{}>", dir.join("spor.log").display());
    let on_db = |c: &Call| {
        c.args
            .split([',', ')'])
            .next()
            .is_some_and(|fd| fd.trim().ends_with(&log_path))
    };
    let writes: Vec<&Call> = calls
        .iter()
        .filter(|c| (c.name == "pwrite64" || c.name == "pwritev") && on_db(c))
        .collect();
    let syncs: Vec<&Call> = calls
        .iter()
        .filter(|c| (c.name == "fdatasync" || c.name == "fsync") && on_db(c) && c.ret.trim() == "0")
        .collect();
    let ack_writes: Vec<&Call> = calls
        .iter()
        .filter(|c| c.name == "write" && c.args.starts_with("1<") && c.args.contains("ack "))
        .collect();
    if writes.is_empty() || syncs.is_empty() {
        return Err(format!(
            "no write or no fdatasync of {log_path} in the trace"
        ));
    }
    // Index the event ids each write carried and each acknowledgement named:
    // one pass over the trace, not one search per event.
    let ids_in = |text: &str| -> Vec<String> {
        text.match_indices("e0000000-")
            .filter_map(|(i, _)| text.get(i..i + 36).map(str::to_owned))
            .collect()
    };
    let mut first_write: HashMap<String, &Call> = HashMap::new();
    for w in &writes {
        for id in ids_in(&w.args) {
            first_write.entry(id).or_insert(w);
        }
    }
    let mut ack_of: HashMap<String, &Call> = HashMap::new();
    for a in &ack_writes {
        for id in ids_in(&a.args) {
            ack_of.entry(id).or_insert(a);
        }
    }
    let mut checked = 0usize;
    for id in &acked {
        let text = id.0.to_string();
        let Some(ack) = ack_of.get(&text) else {
            return Err(format!("no ack write for {text} in the trace"));
        };
        let Some(write) = first_write.get(&text) else {
            return Err(format!(
                "{text} was acknowledged at {} but never written to spor's log file before",
                ack.start
            ));
        };
        let covered = syncs
            .iter()
            .any(|s| s.start >= write.end && s.end <= ack.start);
        if !covered {
            return Err(format!(
                "{text}: written at {:.6} by thread {}, acknowledged at {:.6} by thread {}, with no fdatasync of the log file in between",
                write.end, write.pid, ack.start, ack.pid
            ));
        }
        checked += 1;
    }
    println!(
        "    {checked} acknowledged events each preceded by a covering fdatasync ({} writes, {} syncs traced)",
        writes.len(),
        syncs.len()
    );
    if checked == 0 {
        return Err("no acknowledged event to check".into());
    }
    Ok(())
}
