//! `spor-bench`: measures what docs/performance.md records, on the machine it
//! runs on. Targets are ratios to the raw fdatasync rate measured in the same
//! run, so figures from different disks compare.
//!
//! ```text
//! cargo build --release -p spor -p spor-bench
//! target/release/spor-bench all --events 1000000 --dir /tmp/spor-bench
//! ```
//!
//! Each step that reports peak memory runs in a child process of its own
//! (`spor import`, or this binary's `rebuild`), so its figure is its own.

use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Write};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use clap::{Parser, Subcommand};
use spor_demo::DemoSpec;
use spor_domain::{Event, EventBody, EventId, ParticipantId, UnitCode, wire};
use spor_projections::Projections;
use spor_store::{EventStore, OpenOptions as StoreOptions, SledStore, StreamAppend};

#[derive(Parser)]
#[command(name = "spor-bench")]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Everything below, in one run, printed as a Markdown table.
    All {
        #[arg(long, default_value_t = 1_000_000)]
        events: usize,
        /// A scratch directory on the disk to measure (emptied first).
        #[arg(long)]
        dir: PathBuf,
        #[arg(long, default_value_t = 5)]
        seconds: u64,
    },
    /// Open a data directory and rebuild status from its log (child step).
    Rebuild {
        #[arg(long)]
        data: PathBuf,
    },
}

fn main() -> anyhow::Result<()> {
    match Cli::parse().command {
        Cmd::All { events, dir, seconds } => all(events, &dir, Duration::from_secs(seconds)),
        Cmd::Rebuild { data } => {
            let (elapsed, n, p) = rebuild(&data)?;
            let rss = peak_rss_kib_self();
            let (survey, unit, all) = queries(&p);
            println!(
                "{} {} {} {} {} {}",
                elapsed.as_secs_f64(),
                n,
                rss,
                survey.as_secs_f64(),
                unit.as_secs_f64(),
                all.as_secs_f64()
            );
            Ok(())
        }
    }
}

fn all(events: usize, dir: &Path, seconds: Duration) -> anyhow::Result<()> {
    let _ = std::fs::remove_dir_all(dir);
    std::fs::create_dir_all(dir)?;
    let mut rows: Vec<(String, String)> = Vec::new();

    let raw = fdatasync_rate(&dir.join("raw.bin"), seconds)?;
    rows.push(("raw fdatasync of a 400-byte append".into(), format!("{raw:.0} /s")));
    eprintln!("raw fdatasync: {raw:.0}/s");
    for writers in [1usize, 8, 64] {
        let rate = durable_appends(&dir.join(format!("appends-{writers}")), writers, seconds)?;
        eprintln!("{writers} writers: {rate:.0}/s");
        rows.push((format!("durable appends, {writers} writer(s)"), format!("{rate:.0} /s = {:.2}x fdatasync", rate / raw)));
    }

    let file = dir.join("demo.jsonl");
    let n = write_demo_file(&file, events)?;
    let size = std::fs::metadata(&file)?.len();
    eprintln!("wrote {n} events ({size} bytes) to {}", file.display());
    let spor = sibling("spor")?;
    let data = dir.join("data");
    let started = Instant::now();
    let status = Command::new(&spor)
        .env("SPOR_ALLOW_SYNTHETIC_IDS", "1")
        .arg("--data")
        .arg(&data)
        .arg("import")
        .arg(&file)
        .status()?;
    let took = started.elapsed();
    if !status.success() {
        bail!("spor import failed: {status}");
    }
    let import_rss = peak_rss_kib_children();
    #[allow(clippy::cast_precision_loss)]
    let rate = n as f64 / took.as_secs_f64();
    rows.push((format!("import of {n} events ({} MB file)", size / 1_000_000), format!("{:.1} s = {rate:.0} events/s, peak RSS {} MB", took.as_secs_f64(), import_rss / 1024)));

    let out = Command::new(std::env::current_exe()?).arg("rebuild").arg("--data").arg(&data).output()?;
    if !out.status.success() {
        bail!("rebuild failed: {}", String::from_utf8_lossy(&out.stderr));
    }
    let text = String::from_utf8(out.stdout)?;
    let parts: Vec<&str> = text.split_whitespace().collect();
    let (secs, count, rss) = (parts[0].parse::<f64>()?, parts[1], parts[2].parse::<u64>()?);
    rows.push((format!("open + rebuild status of {count} events"), format!("{secs:.2} s, peak RSS {} MB", rss / 1024)));
    let ms = |i: usize| -> anyhow::Result<f64> { Ok(parts[i].parse::<f64>()? * 1000.0) };
    rows.push((format!("national survey 2007, once open ({count} events)"), format!("{:.0} ms", ms(3)?)));
    rows.push((format!("reminders of one unit (030101), once open ({count} events)"), format!("{:.1} ms", ms(4)?)));
    rows.push((format!("reminders of every unit, once open ({count} events)"), format!("{:.0} ms", ms(5)?)));

    let bytes = dir_size(&data)?;
    #[allow(clippy::cast_precision_loss)]
    let per_event = bytes as f64 / n as f64;
    rows.push(("bytes on disk per event".into(), format!("{per_event:.0} ({} MB for {n})", bytes / 1_000_000)));

    println!("| measure | result |\n|---|---|");
    for (k, v) in rows {
        println!("| {k} | {v} |");
    }
    Ok(())
}

/// Appends 400 bytes and fdatasyncs, again and again: the disk's own limit.
fn fdatasync_rate(path: &Path, seconds: Duration) -> anyhow::Result<f64> {
    let f = OpenOptions::new().create(true).truncate(true).read(true).write(true).open(path)?;
    let buf = [0x5au8; 400];
    let mut offset = 0u64;
    let mut n = 0u64;
    let start = Instant::now();
    while start.elapsed() < seconds {
        f.write_all_at(&buf, offset)?;
        f.sync_data()?;
        offset += 400;
        n += 1;
    }
    #[allow(clippy::cast_precision_loss)]
    Ok(n as f64 / start.elapsed().as_secs_f64())
}

/// A `claimed` event of about 300 bytes stored, like a typical record.
fn sample_event(p: ParticipantId, n: u64) -> Event {
    let date = chrono::NaiveDate::from_ymd_opt(2006, 1, 10).expect("valid date");
    Event {
        id: EventId(uuid::Uuid::from_u128(0xE000_0000_0000_0000_0000_0000_0000_0000u128 | u128::from(n))),
        participant: p,
        unit: UnitCode::parse("030101").expect("valid unit"),
        date,
        recorded_at: date.and_hms_opt(9, 30, 0).expect("valid time").and_utc(),
        by: Some("adviser-17".into()),
        body: EventBody::Claimed,
    }
}

/// Durable appends per second with `writers` threads, each appending one
/// event at a time to streams of its own.
fn durable_appends(data: &Path, writers: usize, seconds: Duration) -> anyhow::Result<f64> {
    let store = Arc::new(SledStore::open(data, StoreOptions { create: true, ..StoreOptions::default() })?);
    let stop = Arc::new(AtomicBool::new(false));
    let done = Arc::new(AtomicU64::new(0));
    let threads: Vec<_> = (0..writers)
        .map(|w| {
            let (store, stop, done) = (Arc::clone(&store), Arc::clone(&stop), Arc::clone(&done));
            std::thread::spawn(move || -> anyhow::Result<()> {
                let w = u64::try_from(w).unwrap_or(0);
                let p = ParticipantId(uuid::Uuid::from_u128(0xA000_0000_0000_0000_0000_0000_0000_0000u128 | u128::from(w)));
                let mut version = 0u32;
                while !stop.load(Ordering::Relaxed) {
                    let e = sample_event(p, w << 40 | u64::from(version));
                    store.append(&[StreamAppend { participant: p, expected_version: version, events: vec![e] }])?;
                    version += 1;
                    done.fetch_add(1, Ordering::Relaxed);
                }
                Ok(())
            })
        })
        .collect();
    let start = Instant::now();
    std::thread::sleep(seconds);
    stop.store(true, Ordering::Relaxed);
    let n = done.load(Ordering::Relaxed);
    let elapsed = start.elapsed();
    for t in threads {
        t.join().map_err(|_| anyhow::anyhow!("writer panicked"))??;
    }
    #[allow(clippy::cast_precision_loss)]
    Ok(n as f64 / elapsed.as_secs_f64())
}

/// Writes the demo log as JSON Lines until `events` lines.
fn write_demo_file(path: &Path, events: usize) -> anyhow::Result<usize> {
    let mut out = BufWriter::new(File::create(path)?);
    // About 14.5 events per person; ask for enough people and stop at `events`.
    let spec = DemoSpec { participants: events / 12 + 10, seed: 1 };
    let mut n = 0;
    let mut last: Option<ParticipantId> = None;
    for e in spor_demo::stream(&spec) {
        // Stop only between people, so no stream is cut in the middle.
        if n >= events && last != Some(e.participant) {
            break;
        }
        last = Some(e.participant);
        out.write_all(wire::to_line(&e).as_bytes())?;
        out.write_all(b"\n")?;
        n += 1;
    }
    out.flush()?;
    Ok(n)
}

/// Times a national survey and the reminders of one unit and of all units
/// on projections already folded.
fn queries(p: &Projections) -> (Duration, Duration, Duration) {
    use spor_projections::reminders::{ReminderRules, list};
    use spor_projections::survey::{Grouping, SurveyRequest, survey};
    let day = chrono::NaiveDate::from_ymd_opt(2008, 6, 2).expect("valid date");
    let request = SurveyRequest { year: 2007, by: Grouping::National, known_at: None, as_of: day };
    let start = Instant::now();
    std::hint::black_box(survey(p, &request));
    let survey_time = start.elapsed();
    let unit = UnitCode::parse("030101").expect("valid unit");
    let rules = ReminderRules::default();
    let start = Instant::now();
    std::hint::black_box(list(p, day, Some(unit), 14, &rules));
    let unit_time = start.elapsed();
    let start = Instant::now();
    std::hint::black_box(list(p, day, None, 14, &rules));
    (survey_time, unit_time, start.elapsed())
}

/// Opens the store and folds every event into projections, as `spor status` does.
fn rebuild(data: &Path) -> anyhow::Result<(Duration, u64, Projections)> {
    let start = Instant::now();
    let store = SledStore::open(data, StoreOptions::default())?;
    let mut p = Projections::new();
    store.scan(1, &mut |seq, e| {
        p.apply(seq, e);
        Ok(())
    })?;
    let day = chrono::NaiveDate::from_ymd_opt(2008, 12, 31).expect("valid date");
    let rows = p.statuses(None, day);
    let elapsed = start.elapsed();
    std::hint::black_box(rows);
    let n = p.events();
    Ok((elapsed, n, p))
}

fn sibling(name: &str) -> anyhow::Result<PathBuf> {
    let exe = std::env::current_exe()?;
    let path = exe.parent().context("own directory")?.join(name);
    if !path.exists() {
        bail!("{} not found: build it with `cargo build --release -p {name}`", path.display());
    }
    Ok(path)
}

fn dir_size(dir: &Path) -> anyhow::Result<u64> {
    let mut total = 0;
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let meta = entry.metadata()?;
        total += if meta.is_dir() { dir_size(&entry.path())? } else { meta.len() };
    }
    Ok(total)
}

fn rusage(who: libc::c_int) -> libc::rusage {
    // SAFETY: getrusage writes a plain struct that we zero-initialise first.
    #[allow(unsafe_code)]
    unsafe {
        let mut usage: libc::rusage = std::mem::zeroed();
        libc::getrusage(who, &mut usage);
        usage
    }
}

/// Peak resident memory of this process, in KiB.
fn peak_rss_kib_self() -> u64 {
    u64::try_from(rusage(libc::RUSAGE_SELF).ru_maxrss).unwrap_or(0)
}

/// Peak resident memory of the largest child waited for, in KiB.
fn peak_rss_kib_children() -> u64 {
    u64::try_from(rusage(libc::RUSAGE_CHILDREN).ru_maxrss).unwrap_or(0)
}
