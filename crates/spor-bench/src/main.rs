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
//! (`spor import`, or this binary's `warm`), so its figure is its own.
//!
//! `spor-bench http --data DIR` load-tests `spor serve` on that directory
//! over loopback (see `http.rs`).

mod http;

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
    /// Only the query steps of `all`, on a data directory `all` left behind
    /// (or any other): warm and from a cold start.
    Queries {
        #[arg(long)]
        data: PathBuf,
    },
    /// Open a data directory, rebuild and settle the projections, then time
    /// the queries on them (child step of `all` and `queries`).
    Warm {
        #[arg(long)]
        data: PathBuf,
    },
    /// A load test of `spor serve` over 127.0.0.1: appends and reads with
    /// 1, 16 and 64 clients, how soon an event shows in the views, beside
    /// the raw fdatasync rate and the store's own append rates.
    Http(http::Args),
}

fn main() -> anyhow::Result<()> {
    match Cli::parse().command {
        Cmd::All {
            events,
            dir,
            seconds,
        } => all(events, &dir, Duration::from_secs(seconds)),
        Cmd::Queries { data } => {
            let rows = query_rows(&data)?;
            print_table(&rows);
            Ok(())
        }
        Cmd::Warm { data } => warm(&data),
        Cmd::Http(args) => http::run(&args),
    }
}

fn print_table(rows: &[(String, String)]) {
    println!("| measure | result |\n|---|---|");
    for (k, v) in rows {
        println!("| {k} | {v} |");
    }
}

fn all(events: usize, dir: &Path, seconds: Duration) -> anyhow::Result<()> {
    let _ = std::fs::remove_dir_all(dir);
    std::fs::create_dir_all(dir)?;
    let mut rows: Vec<(String, String)> = Vec::new();

    let raw = fdatasync_rate(&dir.join("raw.bin"), seconds)?;
    rows.push((
        "raw fdatasync of a 400-byte append".into(),
        format!("{raw:.0} /s"),
    ));
    eprintln!("raw fdatasync: {raw:.0}/s");
    for writers in [1usize, 8, 64] {
        let rate = durable_appends(&dir.join(format!("appends-{writers}")), writers, seconds)?;
        eprintln!("{writers} writers: {rate:.0}/s");
        rows.push((
            format!("durable appends, {writers} writer(s)"),
            format!("{rate:.0} /s = {:.2}x fdatasync", rate / raw),
        ));
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
    rows.push((
        format!("import of {n} events ({} MB file)", size / 1_000_000),
        format!(
            "{:.1} s = {rate:.0} events/s, peak RSS {} MB",
            took.as_secs_f64(),
            import_rss / 1024
        ),
    ));

    rows.extend(query_rows(&data)?);

    let bytes = dir_size(&data)?;
    #[allow(clippy::cast_precision_loss)]
    let per_event = bytes as f64 / n as f64;
    rows.push((
        "bytes on disk per event".into(),
        format!("{per_event:.0} ({} MB for {n})", bytes / 1_000_000),
    ));

    print_table(&rows);
    Ok(())
}

/// Appends 400 bytes and fdatasyncs, again and again: the disk's own limit.
fn fdatasync_rate(path: &Path, seconds: Duration) -> anyhow::Result<f64> {
    let f = OpenOptions::new()
        .create(true)
        .truncate(true)
        .read(true)
        .write(true)
        .open(path)?;
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
        id: EventId(uuid::Uuid::from_u128(
            0xE000_0000_0000_0000_0000_0000_0000_0000u128 | u128::from(n),
        )),
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
    let store = Arc::new(SledStore::open(
        data,
        StoreOptions {
            create: true,
            ..StoreOptions::default()
        },
    )?);
    let stop = Arc::new(AtomicBool::new(false));
    let done = Arc::new(AtomicU64::new(0));
    let threads: Vec<_> = (0..writers)
        .map(|w| {
            let (store, stop, done) = (Arc::clone(&store), Arc::clone(&stop), Arc::clone(&done));
            std::thread::spawn(move || -> anyhow::Result<()> {
                let w = u64::try_from(w).unwrap_or(0);
                let p = ParticipantId(uuid::Uuid::from_u128(
                    0xA000_0000_0000_0000_0000_0000_0000_0000u128 | u128::from(w),
                ));
                let mut version = 0u32;
                while !stop.load(Ordering::Relaxed) {
                    let e = sample_event(p, w << 40 | u64::from(version));
                    store.append(&[StreamAppend {
                        participant: p,
                        expected_version: version,
                        events: vec![e],
                    }])?;
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
    let spec = DemoSpec {
        participants: events / 12 + 10,
        seed: 1,
    };
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

/// The query steps: the warm ones in a child process of their own (so its
/// peak memory is its own), then each query as a fresh `spor` process would
/// answer it from a cold start (open, fold, settle, answer).
fn query_rows(data: &Path) -> anyhow::Result<Vec<(String, String)>> {
    let out = Command::new(std::env::current_exe()?)
        .arg("warm")
        .arg("--data")
        .arg(data)
        .output()?;
    if !out.status.success() {
        bail!(
            "warm queries failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let mut rows: Vec<(String, String)> = String::from_utf8(out.stdout)?
        .lines()
        .filter_map(|l| l.split_once('\t'))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
    let spor = sibling("spor")?;
    let report_dir = data.with_extension("report");
    let cold: [(&str, Vec<String>); 3] = [
        (
            "national survey 2007",
            "survey --year 2007 --by national --format json"
                .split(' ')
                .map(String::from)
                .collect(),
        ),
        (
            "report 2007 (HTML + CSV)",
            vec![
                "report".into(),
                "--year".into(),
                "2007".into(),
                "--out".into(),
                report_dir.display().to_string(),
            ],
        ),
        (
            "reminders of every unit on 2009-01-02",
            "followups --on 2009-01-02 --within 14 --format json"
                .split(' ')
                .map(String::from)
                .collect(),
        ),
    ];
    for (what, args) in cold {
        let started = Instant::now();
        let out = Command::new(&spor)
            .arg("--data")
            .arg(data)
            .args(&args)
            .output()?;
        let took = started.elapsed();
        if !out.status.success() {
            bail!(
                "spor {} failed: {}",
                args.join(" "),
                String::from_utf8_lossy(&out.stderr)
            );
        }
        rows.push((
            format!("{what}, cold start (`spor` process)"),
            format!("{:.2} s", took.as_secs_f64()),
        ));
    }
    Ok(rows)
}

/// The median of `runs` timings of `f`.
fn median(runs: usize, mut f: impl FnMut()) -> Duration {
    let mut times: Vec<Duration> = (0..runs)
        .map(|_| {
            let start = Instant::now();
            f();
            start.elapsed()
        })
        .collect();
    times.sort();
    times[runs / 2]
}

/// Child step: opens, folds, settles, then times each query (the median of
/// five runs) and prints `measure<TAB>result` lines.
fn warm(data: &Path) -> anyhow::Result<()> {
    use spor_projections::reminders::{ReminderRules, list};
    use spor_projections::survey::{Grouping, SurveyRequest, survey};
    let ms = |d: Duration| format!("{:.2} ms", d.as_secs_f64() * 1000.0);
    let (elapsed, n, mut p) = rebuild(data)?;
    println!("open + fold {n} events\t{:.2} s", elapsed.as_secs_f64());
    let start = Instant::now();
    p.settle(std::thread::available_parallelism().map_or(1, std::num::NonZero::get));
    println!(
        "settle every timeline ({} participants)\t{:.2} s, peak RSS {} MB",
        p.participants(),
        start.elapsed().as_secs_f64(),
        peak_rss_kib_self() / 1024
    );

    // "Today" for the log: the day after its latest event.
    let statuses = p.statuses(None, chrono::NaiveDate::MAX);
    let today = statuses
        .iter()
        .filter_map(|s| s.last_event)
        .max()
        .context("an empty log")?
        .succ_opt()
        .context("date")?;
    let past = chrono::NaiveDate::from_ymd_opt(2008, 6, 2).expect("valid date");
    let mut sizes: std::collections::BTreeMap<UnitCode, usize> = std::collections::BTreeMap::new();
    for s in &statuses {
        *sizes.entry(s.unit).or_default() += 1;
    }
    let (unit, size) = sizes
        .into_iter()
        .max_by_key(|(_, n)| *n)
        .context("no units")?;

    let request = SurveyRequest {
        year: 2007,
        by: Grouping::National,
        known_at: None,
        as_of: today,
    };
    println!(
        "national survey 2007, once open\t{}",
        ms(median(5, || {
            std::hint::black_box(survey(&p, &request));
        }))
    );
    let request = SurveyRequest {
        by: Grouping::Unit,
        ..request
    };
    println!(
        "survey 2007 by unit, once open\t{}",
        ms(median(5, || {
            std::hint::black_box(survey(&p, &request));
        }))
    );
    println!(
        "survey 2007 --publish (every level, one pattern), once open\t{}",
        ms(median(5, || {
            std::hint::black_box(spor_projections::publish::publish_all(&p, &request, 4));
        }))
    );
    let report = median(5, || {
        let g = spor_report::Gathered::from(
            &p,
            2007,
            None,
            today,
            4,
            spor_projections::lint::LintLimits {
                stale_days: 90,
                late_exit_days: 60,
            },
        );
        let input = g.input((n, String::new()), chrono::Utc::now());
        let _ = std::hint::black_box((spor_report::html(&input), spor_report::csv(&input)));
    });
    println!(
        "report 2007 (publication, findings, cohorts, HTML + CSV), once open\t{}",
        ms(report)
    );
    let rules = ReminderRules::default();
    let one = median(5, || {
        std::hint::black_box(list(&p, today, Some(unit), 14, &rules));
    });
    println!(
        "reminders of the largest unit ({unit}, {size} participants) on {today}, once open\t{}",
        ms(one)
    );
    let all = median(5, || {
        std::hint::black_box(list(&p, today, None, 14, &rules));
    });
    println!("reminders of every unit on {today}, once open\t{}", ms(all));
    let one = median(5, || {
        std::hint::black_box(list(&p, past, Some(unit), 14, &rules));
    });
    println!(
        "reminders of the largest unit on a past day ({past}), once open\t{}",
        ms(one)
    );
    Ok(())
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
    let elapsed = start.elapsed();
    let n = p.events();
    Ok((elapsed, n, p))
}

fn sibling(name: &str) -> anyhow::Result<PathBuf> {
    let exe = std::env::current_exe()?;
    let path = exe.parent().context("own directory")?.join(name);
    if !path.exists() {
        bail!(
            "{} not found: build it with `cargo build --release -p {name}`",
            path.display()
        );
    }
    Ok(path)
}

fn dir_size(dir: &Path) -> anyhow::Result<u64> {
    let mut total = 0;
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let meta = entry.metadata()?;
        total += if meta.is_dir() {
            dir_size(&entry.path())?
        } else {
            meta.len()
        };
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
