//! `spor-bench http`: a load test of `spor serve` over loopback. It starts
//! the sibling `spor` binary as a server on 127.0.0.1, drives it with
//! blocking HTTP clients, and prints what docs/performance.md records under
//! "HTTP API": appends and reads per second with their p50 and p99, how soon
//! an acknowledged event shows in the views, and, from the same run, the raw
//! fdatasync rate and the store's own append rates to compare with.
//!
//! Bounded: every phase stops after `--seconds` or `--max-requests`,
//! whichever comes first, and every wait for the server has a deadline. The
//! server listens on 127.0.0.1 only and is stopped with SIGTERM at the end.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use chrono::{Datelike, Days, NaiveDate};
use reqwest::StatusCode;
use reqwest::blocking::Client;
use serde_json::{Value, json};

use crate::{durable_appends, fdatasync_rate, sibling};

/// The unit the load test writes to. The demo settles nobody there (Oslo
/// appears in it as wards only), so its participants are all the test's.
const WRITE_UNIT: &str = "0301";
/// A demo unit (Gamle Oslo) whose participants the read phases read: demo
/// timelines of the usual length, among all the others in the log.
const READ_UNIT: &str = "030101";
/// A unit only the observer writes to (Frogner, not a demo unit), so that
/// its status, follow-ups and survey are small and change only by the
/// observer's own events.
const OBSERVED_UNIT: &str = "030105";
/// The day `spor serve --demo` takes its views on, inside the demo's years:
/// the demo unit's follow-ups are read as of it.
const DEMO_DAY: (i32, u32, u32) = (2008, 12, 1);
/// Absences each written participant gets after its start, so a timeline
/// ends at 44 events, a few times a demo timeline's length.
const ABSENCES_PER_PERSON: u64 = 40;
/// The client count during whose append phase the observer runs.
const OBSERVED_AT: usize = 16;
/// How long the observer waits for an event to show before counting it as
/// not seen.
const SEEN_WITHIN: Duration = Duration::from_secs(2);
/// How long the server may take to bind, and then to build its projections.
const START_WITHIN: Duration = Duration::from_secs(60);
const READY_WITHIN: Duration = Duration::from_secs(600);
/// How long SIGTERM may take to stop the server.
const STOP_WITHIN: Duration = Duration::from_secs(30);

#[derive(clap::Args)]
pub struct Args {
    /// The data directory to serve: used as it is, or, when empty or
    /// missing, first filled with `spor demo`. The baselines use a scratch
    /// directory beside it (DIR.scratch), removed afterwards.
    #[arg(long)]
    data: PathBuf,
    /// How long each phase runs.
    #[arg(long, default_value_t = 5)]
    seconds: u64,
    /// Numbers of concurrent clients: one append phase and one read phase
    /// of each kind per number (reads also with 1 client).
    #[arg(long, value_delimiter = ',', default_value = "1,16,64")]
    clients: Vec<usize>,
    /// People in the demo log written into an empty directory.
    #[arg(long, default_value_t = 5000)]
    participants: usize,
    /// The most requests one phase sends.
    #[arg(long, default_value_t = 200_000)]
    max_requests: usize,
}

pub fn run(args: &Args) -> anyhow::Result<()> {
    let seconds = Duration::from_secs(args.seconds);
    let spor = sibling("spor")?;
    let data = &args.data;
    let accounts = prepare(&spor, data, args.participants)?;

    // The baselines first, with no server running beside them.
    let scratch = data.with_extension("scratch");
    let _ = std::fs::remove_dir_all(&scratch);
    std::fs::create_dir_all(&scratch)?;
    let raw = fdatasync_rate(&scratch.join("raw.bin"), seconds)?;
    eprintln!("raw fdatasync: {raw:.0}/s");
    let mut store_rates = Vec::new();
    for &writers in &args.clients {
        let rate = durable_appends(
            &scratch.join(format!("appends-{writers}")),
            writers,
            seconds,
        )?;
        eprintln!("store, {writers} writers: {rate:.0}/s");
        store_rates.push((writers, rate));
    }
    let log = scratch.with_extension("serve.log");
    std::fs::remove_dir_all(&scratch)?;

    let started = Instant::now();
    let mut server = Server::start(&spor, data, &log)?;
    server.wait_ready()?;
    let ready_after = started.elapsed();
    eprintln!(
        "server at {} ready after {:.1} s",
        server.base,
        ready_after.as_secs_f64()
    );
    let results = drive(&server, &accounts, args, seconds);
    let stopped = server.stop();
    let results = results?;
    stopped?;
    eprintln!(
        "server stopped with exit status 0 (its log: {})",
        log.display()
    );

    print_report(raw, &store_rates, ready_after, &results);
    Ok(())
}

/// The two accounts the load test uses, by their tokens.
struct Accounts {
    /// An adviser of the write, read and observed units.
    adviser: String,
    /// A leader of the observed unit, for its survey.
    leader: String,
}

/// Fills an empty directory with the demo log, then makes an adviser and a
/// leader account with a token each. The names carry the time, so a
/// directory can be used again.
fn prepare(spor: &Path, data: &Path, participants: usize) -> anyhow::Result<Accounts> {
    let empty = match std::fs::read_dir(data) {
        Ok(mut entries) => entries.next().is_none(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => true,
        Err(e) => return Err(e).with_context(|| format!("reading {}", data.display())),
    };
    if empty {
        eprintln!(
            "writing the demo log ({participants} people) into {}",
            data.display()
        );
        spor_output(
            spor,
            data,
            &["demo", "--participants", &participants.to_string()],
        )?;
    }
    let stamp = chrono::Utc::now().format("%Y%m%d%H%M%S").to_string();
    let adviser = format!("bench-{stamp}");
    let leader = format!("bench-leader-{stamp}");
    spor_output(
        spor,
        data,
        &[
            "user",
            "add",
            &adviser,
            "--role",
            "adviser",
            "--unit",
            WRITE_UNIT,
            "--unit",
            READ_UNIT,
            "--unit",
            OBSERVED_UNIT,
        ],
    )?;
    spor_output(
        spor,
        data,
        &[
            "user",
            "add",
            &leader,
            "--role",
            "leader",
            "--unit",
            OBSERVED_UNIT,
        ],
    )?;
    let token = |name: &str| -> anyhow::Result<String> {
        let out = spor_output(
            spor,
            data,
            &[
                "token",
                "create",
                name,
                "--label",
                "spor-bench",
                "--expires",
                "1",
            ],
        )?;
        Ok(out.trim().to_owned())
    };
    Ok(Accounts {
        adviser: token(&adviser)?,
        leader: token(&leader)?,
    })
}

/// Runs `spor --data DIR ARGS` and returns its standard output.
fn spor_output(spor: &Path, data: &Path, args: &[&str]) -> anyhow::Result<String> {
    let out = Command::new(spor)
        .env("SPOR_ALLOW_SYNTHETIC_IDS", "1")
        .arg("--data")
        .arg(data)
        .args(args)
        .output()?;
    if !out.status.success() {
        bail!(
            "spor {} failed ({}): {}",
            args.join(" "),
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(String::from_utf8(out.stdout)?)
}

/// `spor serve` as a child process on 127.0.0.1, its log in a file.
struct Server {
    child: Child,
    /// `http://127.0.0.1:PORT`, from the first line the server printed.
    base: String,
    log: PathBuf,
}

impl Server {
    fn start(spor: &Path, data: &Path, log: &Path) -> anyhow::Result<Self> {
        let mut child = Command::new(spor)
            .env("SPOR_ALLOW_SYNTHETIC_IDS", "1")
            .arg("--data")
            .arg(data)
            .args(["serve", "--listen", "127.0.0.1:0"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(log)?)
            .spawn()
            .context("starting spor serve")?;
        let stdout = child
            .stdout
            .take()
            .context("the server's standard output")?;
        // The first line in a thread of its own, so the wait has a deadline;
        // the rest is read and dropped so the server never blocks on a full pipe.
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut reader = BufReader::new(stdout);
            let mut first = String::new();
            let read = reader.read_line(&mut first).map(|_| first);
            let _ = tx.send(read);
            let _ = std::io::copy(&mut reader, &mut std::io::sink());
        });
        let mut server = Self {
            child,
            base: String::new(),
            log: log.to_owned(),
        };
        let first = match rx.recv_timeout(START_WITHIN) {
            Ok(Ok(line)) => line,
            Ok(Err(e)) => return Err(e).context("reading the server's first line"),
            Err(_) => bail!(
                "spor serve printed nothing within {START_WITHIN:?}; see {}",
                log.display()
            ),
        };
        let address = first
            .trim()
            .strip_prefix("listening on http://")
            .with_context(|| {
                format!(
                    "spor serve began with {first:?}, not `listening on http://ADDR`; see {}",
                    log.display()
                )
            })?;
        server.base = format!("http://{address}");
        Ok(server)
    }

    /// Polls `/readyz` until it answers 200: the projections are built.
    fn wait_ready(&mut self) -> anyhow::Result<()> {
        let client = Client::builder().timeout(Duration::from_secs(5)).build()?;
        let deadline = Instant::now() + READY_WITHIN;
        while Instant::now() < deadline {
            if let Some(status) = self.child.try_wait()? {
                bail!(
                    "spor serve exited ({status}) before it was ready; see {}",
                    self.log.display()
                );
            }
            if let Ok(r) = client.get(format!("{}/readyz", self.base)).send()
                && r.status() == StatusCode::OK
            {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        bail!("spor serve was not ready within {READY_WITHIN:?}")
    }

    /// Sends SIGTERM and waits for the exit, which must be a clean one.
    fn stop(&mut self) -> anyhow::Result<()> {
        let status = self.terminate()?;
        if !status.success() {
            bail!(
                "spor serve exited with {status} after SIGTERM; see {}",
                self.log.display()
            );
        }
        Ok(())
    }

    fn terminate(&mut self) -> anyhow::Result<ExitStatus> {
        if let Some(status) = self.child.try_wait()? {
            return Ok(status);
        }
        let sent = Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status()?;
        if !sent.success() {
            bail!("kill -TERM {} failed", self.child.id());
        }
        let deadline = Instant::now() + STOP_WITHIN;
        while Instant::now() < deadline {
            if let Some(status) = self.child.try_wait()? {
                return Ok(status);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        self.child.kill()?;
        self.child.wait()?;
        bail!("spor serve did not stop within {STOP_WITHIN:?} of SIGTERM and was killed")
    }
}

impl Drop for Server {
    /// A run that failed half-way leaves no server behind.
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.terminate();
        }
    }
}

/// What one phase measured.
struct Phase {
    what: String,
    clients: usize,
    /// Latencies of the answers that counted (201 for appends, 200 for reads).
    latencies: Vec<Duration>,
    /// Any other answer or a failed request, with the first one's text.
    errors: u64,
    first_error: Option<String>,
    elapsed: Duration,
    /// CPU time used meanwhile by the server and by this process (the clients).
    cpu: (Duration, Duration),
}

impl Phase {
    fn rate(&self) -> f64 {
        #[allow(clippy::cast_precision_loss)]
        let n = self.latencies.len() as f64;
        n / self.elapsed.as_secs_f64()
    }
}

/// Each view's name, and how soon acknowledged events showed in it.
type Views = [(String, Seen); 3];

/// How soon acknowledged events showed in one view.
#[derive(Default)]
struct Seen {
    /// From the 201 until the answer of the first read that showed it.
    took: Vec<Duration>,
    /// Reads needed beyond the first.
    extra_reads: u64,
    /// Not shown within [`SEEN_WITHIN`], or a read failed.
    missed: u64,
}

struct Results {
    appends: Vec<Phase>,
    reads: Vec<Phase>,
    /// How soon events showed in each view, and the number of clients
    /// appending meanwhile.
    seen: Option<(Views, usize)>,
    /// The size of each read answer, for the report.
    notes: Vec<String>,
}

fn drive(
    server: &Server,
    accounts: &Accounts,
    args: &Args,
    seconds: Duration,
) -> anyhow::Result<Results> {
    let base = server.base.as_str();
    let client = Client::builder().timeout(Duration::from_secs(60)).build()?;
    let get = |path: &str| get_json(&client, base, path, &accounts.adviser);
    // The demo participants to read, chosen before anything is written.
    let status = get(&format!("/api/v1/status?unit={READ_UNIT}"))?;
    let ids: Vec<String> = status["participants"]
        .as_array()
        .context("status without participants")?
        .iter()
        .filter_map(|s| s["participant"].as_str().map(str::to_owned))
        .collect();
    if ids.is_empty() {
        bail!(
            "unit {READ_UNIT} has no participants to read; give an empty directory (the demo is written) or one `spor-bench all` left"
        );
    }

    let people = AtomicU64::new(person_seed());
    let mut appends = Vec::new();
    let mut seen = None;
    let observed_at = if args.clients.contains(&OBSERVED_AT) {
        OBSERVED_AT
    } else {
        args.clients.last().copied().unwrap_or(1)
    };
    for &c in &args.clients {
        let observe = c == observed_at && seen.is_none();
        let (phase, s) = append_phase(
            server,
            accounts,
            c,
            seconds,
            args.max_requests,
            &people,
            observe,
        )?;
        eprintln!(
            "appends, {c} clients: {:.0}/s, {} errors",
            phase.rate(),
            phase.errors
        );
        if let Some(e) = &phase.first_error {
            eprintln!("  first error: {e}");
        }
        appends.push(phase);
        if let Some(s) = s {
            seen = Some((s, c));
        }
    }

    // Reads, with the server otherwise idle.
    let demo_day =
        NaiveDate::from_ymd_opt(DEMO_DAY.0, DEMO_DAY.1, DEMO_DAY.2).context("the demo day")?;
    let timelines: Vec<String> = ids
        .iter()
        .map(|id| format!("/api/v1/participants/{id}"))
        .collect();
    let demo_followups = format!("/api/v1/followups?unit={READ_UNIT}&on={demo_day}");
    let own_followups = format!("/api/v1/followups?unit={WRITE_UNIT}");
    let own_status = get(&format!("/api/v1/status?unit={WRITE_UNIT}"))?;
    let count = |v: &Value, key: &str| v[key].as_array().map_or(0, Vec::len);
    let notes = vec![
        format!(
            "{} participants in {READ_UNIT}, whose timelines are read round-robin",
            ids.len()
        ),
        format!(
            "follow-ups of {READ_UNIT} on {demo_day}: {} reminders",
            count(&get(&demo_followups)?, "items")
        ),
        format!(
            "follow-ups of {WRITE_UNIT} today: {} reminders of {} participants (those the append phases wrote)",
            count(&get(&own_followups)?, "items"),
            count(&own_status, "participants")
        ),
    ];
    let mut reads = Vec::new();
    let mut counts = vec![1];
    counts.extend(args.clients.iter().copied().filter(|&c| c != 1));
    let kinds: [(String, Vec<String>); 4] = [
        (
            "`GET /healthz` (no token, no store, no audit record: the HTTP floor)".to_owned(),
            vec!["/healthz".to_owned()],
        ),
        (
            format!("timeline `GET /participants/{{id}}` ({READ_UNIT})"),
            timelines,
        ),
        (
            format!("follow-ups of {READ_UNIT} on {demo_day}"),
            vec![demo_followups],
        ),
        (
            format!("follow-ups of {WRITE_UNIT} today"),
            vec![own_followups],
        ),
    ];
    for (what, urls) in &kinds {
        for &c in &counts {
            let phase = read_phase(
                server,
                &accounts.adviser,
                what,
                urls,
                c,
                seconds,
                args.max_requests,
            )?;
            eprintln!(
                "{what}, {c} clients: {:.0}/s, {} errors",
                phase.rate(),
                phase.errors
            );
            if let Some(e) = &phase.first_error {
                eprintln!("  first error: {e}");
            }
            reads.push(phase);
        }
    }
    Ok(Results {
        appends,
        reads,
        seen,
        notes,
    })
}

/// The first person number of this run: runs a minute apart start far apart,
/// so that a directory used again gets new people.
fn person_seed() -> u64 {
    let minute = u64::try_from(chrono::Utc::now().timestamp() / 60).unwrap_or(0);
    (minute % 1000) * 1_000_000
}

/// A synthetic fødselsnummer (month + 80) for person `k`: born 1950-1999,
/// individual number 000-499 (which reads as the 1900s), none alike for
/// nine million people.
fn person_number(people: &AtomicU64) -> String {
    let first = NaiveDate::from_ymd_opt(1950, 1, 1).expect("a valid constant date");
    loop {
        let k = people.fetch_add(1, Ordering::Relaxed);
        let birth = first + Days::new((k / 500) % 18_000);
        let individual = u32::try_from(k % 500).expect("below 500");
        // About one in five individual numbers has no check digits.
        if let Some(n) = spor_domain::person::make_fodselsnummer(birth, individual, 80) {
            return n;
        }
    }
}

/// One step of a participant's story: the event, and how the views show it.
struct Step {
    body: Value,
    kind: &'static str,
    date: NaiveDate,
    /// The participant's state in status once the event is in.
    state: &'static str,
}

/// A new participant's events: registered, claimed, granted (24 months) and
/// started, then absences of an hour on the days after the start. Dated
/// 400 days back, so that every date is past and the programme still runs.
fn story(unit: &str, person: &str, absences: u64) -> Vec<Step> {
    let participant = uuid::Uuid::new_v4().to_string();
    let today = chrono::Utc::now().date_naive();
    let first = today - Days::new(400);
    let mut steps = Vec::new();
    let mut step = |kind: &'static str, date: NaiveDate, data: Value, state: &'static str| {
        let body = json!({
            "id": uuid::Uuid::new_v4().to_string(),
            "participant": participant,
            "unit": unit,
            "type": kind,
            "date": date.to_string(),
            "data": data,
        });
        steps.push(Step {
            body,
            kind,
            date,
            state,
        });
    };
    step(
        "registered",
        first,
        json!({"person": person, "basis": "resettlement"}),
        "registered",
    );
    step("claimed", first, json!({}), "claimed");
    step(
        "granted",
        first + Days::new(1),
        json!({"months": 24}),
        "granted",
    );
    step("started", first + Days::new(3), json!({}), "active");
    for i in 0..absences {
        step(
            "absence",
            first + Days::new(4 + i),
            json!({"hours": 1, "approved": true}),
            "active",
        );
    }
    steps
}

/// What every client of a phase shares: when to stop, and how many
/// requests are left.
struct Bounds {
    deadline: Instant,
    left: AtomicUsize,
    stop: AtomicBool,
}

impl Bounds {
    fn new(seconds: Duration, max_requests: usize) -> Self {
        Self {
            deadline: Instant::now() + seconds,
            left: AtomicUsize::new(max_requests),
            stop: AtomicBool::new(false),
        }
    }

    /// Whether one more request may be sent (and takes it from the budget).
    fn take(&self) -> bool {
        if self.stop.load(Ordering::Relaxed) || Instant::now() >= self.deadline {
            self.stop.store(true, Ordering::Relaxed);
            return false;
        }
        self.left
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| n.checked_sub(1))
            .is_ok()
    }
}

/// What one client thread measured.
#[derive(Default)]
struct Tally {
    latencies: Vec<Duration>,
    errors: u64,
    first_error: Option<String>,
}

impl Tally {
    fn error(&mut self, e: String) {
        self.errors += 1;
        self.first_error.get_or_insert(e);
    }

    fn merge(&mut self, other: Self) {
        self.latencies.extend(other.latencies);
        self.errors += other.errors;
        if self.first_error.is_none() {
            self.first_error = other.first_error;
        }
    }
}

/// Posts one event; the answer's status and text.
fn post(
    client: &Client,
    base: &str,
    token: &str,
    body: &Value,
) -> anyhow::Result<(StatusCode, String)> {
    let r = client
        .post(format!("{base}/api/v1/events"))
        .bearer_auth(token)
        .json(body)
        .send()?;
    let status = r.status();
    Ok((status, r.text()?))
}

/// `clients` threads, each with a blocking HTTP client of its own, append
/// participants' stories as fast as they are acknowledged. With `observe`,
/// one more thread writes to [`OBSERVED_UNIT`] and times how soon each of
/// its events shows in status, follow-ups and survey.
fn append_phase(
    server: &Server,
    accounts: &Accounts,
    clients: usize,
    seconds: Duration,
    max_requests: usize,
    people: &AtomicU64,
    observe: bool,
) -> anyhow::Result<(Phase, Option<Views>)> {
    let bounds = Bounds::new(seconds, max_requests);
    let base = server.base.as_str();
    let before = cpu(server.child.id())?;
    let start = Instant::now();
    let (tally, seen) = std::thread::scope(|s| -> anyhow::Result<_> {
        let writers: Vec<_> = (0..clients)
            .map(|_| {
                s.spawn(|| -> anyhow::Result<Tally> {
                    let client = Client::builder().timeout(Duration::from_secs(60)).build()?;
                    let mut tally = Tally::default();
                    'people: while !bounds.stop.load(Ordering::Relaxed) {
                        for step in story(WRITE_UNIT, &person_number(people), ABSENCES_PER_PERSON) {
                            if !bounds.take() {
                                break 'people;
                            }
                            let sent = Instant::now();
                            match post(&client, base, &accounts.adviser, &step.body) {
                                Ok((StatusCode::CREATED, _)) => {
                                    tally.latencies.push(sent.elapsed())
                                }
                                Ok((status, text)) => {
                                    tally.error(format!(
                                        "{} {}: {status} {text}",
                                        step.kind, step.date
                                    ));
                                    continue 'people;
                                }
                                Err(e) => {
                                    tally.error(format!("{} {}: {e:#}", step.kind, step.date));
                                    continue 'people;
                                }
                            }
                        }
                    }
                    Ok(tally)
                })
            })
            .collect();
        let observer = observe.then(|| s.spawn(|| observe_views(base, accounts, &bounds, people)));
        let mut tally = Tally::default();
        for w in writers {
            tally.merge(
                w.join()
                    .map_err(|_| anyhow::anyhow!("a client thread panicked"))??,
            );
        }
        let seen = match observer {
            Some(o) => Some(
                o.join()
                    .map_err(|_| anyhow::anyhow!("the observer panicked"))??,
            ),
            None => None,
        };
        Ok((tally, seen))
    })?;
    let elapsed = start.elapsed();
    let after = cpu(server.child.id())?;
    let phase = Phase {
        what: "append (`POST /api/v1/events`)".into(),
        clients,
        latencies: sorted(tally.latencies),
        errors: tally.errors,
        first_error: tally.first_error,
        elapsed,
        cpu: (
            after.0.saturating_sub(before.0),
            after.1.saturating_sub(before.1),
        ),
    };
    Ok((phase, seen))
}

/// The observer: writes short stories (registered, claimed, granted,
/// started, one absence) to [`OBSERVED_UNIT`], one event at a time. After
/// each 201 it reads status until the participant shows with the new state
/// and last event; after each `started` also, at the same time in threads of
/// their own, follow-ups until its `planned_end` reminder shows and the
/// survey until q1 (started and not ended) has counted it. Each view's time
/// runs from the 201 to the answer of the first read that shows the event.
fn observe_views(
    base: &str,
    accounts: &Accounts,
    bounds: &Bounds,
    people: &AtomicU64,
) -> anyhow::Result<Views> {
    let writer = Client::builder().timeout(Duration::from_secs(60)).build()?;
    let readers = [0; 3].map(|_| Client::builder().timeout(Duration::from_secs(60)).build());
    let [status_client, followups_client, survey_client] = readers;
    let (status_client, followups_client, survey_client) =
        (status_client?, followups_client?, survey_client?);
    let year = (chrono::Utc::now().date_naive() - Days::new(397)).year();
    let survey = format!("/api/v1/survey?year={year}&by=unit");
    let q1 = |v: &Value| v["total"]["answers"]["q1"].as_u64();
    let mut counted = q1(&get_json(&survey_client, base, &survey, &accounts.leader)?)
        .context("survey without q1")?;
    let status_path = format!("/api/v1/status?unit={OBSERVED_UNIT}");
    let followups_path = format!("/api/v1/followups?unit={OBSERVED_UNIT}&within=3660");
    let (mut status, mut followups, mut surveyed) =
        (Seen::default(), Seen::default(), Seen::default());
    'people: while !bounds.stop.load(Ordering::Relaxed) && Instant::now() < bounds.deadline {
        for step in story(OBSERVED_UNIT, &person_number(people), 1) {
            if bounds.stop.load(Ordering::Relaxed) || Instant::now() >= bounds.deadline {
                break 'people;
            }
            let participant = step.body["participant"]
                .as_str()
                .unwrap_or_default()
                .to_owned();
            let (code, text) = post(&writer, base, &accounts.adviser, &step.body)?;
            let acked = Instant::now();
            if code != StatusCode::CREATED {
                bail!("the observer's {} was answered {code} {text}", step.kind);
            }
            let date = step.date.to_string();
            let started = step.kind == "started";
            if started {
                counted += 1;
            }
            let in_status = |v: &Value| {
                v["participants"].as_array().is_some_and(|all| {
                    all.iter().any(|s| {
                        s["participant"] == participant.as_str()
                            && s["state"] == step.state
                            && s["last_event"] == date.as_str()
                    })
                })
            };
            let in_followups = |v: &Value| {
                v["items"].as_array().is_some_and(|all| {
                    all.iter().any(|r| {
                        r["participant"] == participant.as_str() && r["kind"] == "planned_end"
                    })
                })
            };
            let in_survey = |v: &Value| q1(v).is_some_and(|n| n >= counted);
            std::thread::scope(|s| {
                let f = started.then(|| {
                    s.spawn(|| {
                        wait_until(
                            &followups_client,
                            base,
                            &followups_path,
                            &accounts.adviser,
                            acked,
                            &in_followups,
                        )
                    })
                });
                let q = started.then(|| {
                    s.spawn(|| {
                        wait_until(
                            &survey_client,
                            base,
                            &survey,
                            &accounts.leader,
                            acked,
                            &in_survey,
                        )
                    })
                });
                status.file(wait_until(
                    &status_client,
                    base,
                    &status_path,
                    &accounts.adviser,
                    acked,
                    &in_status,
                ));
                if let Some(f) = f {
                    followups.file(f.join().unwrap_or(None));
                }
                if let Some(q) = q {
                    surveyed.file(q.join().unwrap_or(None));
                }
            });
        }
    }
    for seen in [&mut status, &mut followups, &mut surveyed] {
        seen.took.sort();
    }
    Ok([
        (
            format!(
                "status (`GET /status?unit={OBSERVED_UNIT}`): the participant with the new state and last event"
            ),
            status,
        ),
        (
            format!(
                "follow-ups (`GET /followups?unit={OBSERVED_UNIT}&within=3660`): the `planned_end` reminder of a `started`"
            ),
            followups,
        ),
        (
            format!("survey (`GET /survey?year={year}&by=unit`, leader): q1 counts a `started`"),
            surveyed,
        ),
    ])
}

/// Reads `path` until `shows` holds of the answer: the time from `acked`
/// to that answer and the number of reads beyond the first, or `None` when
/// it did not show within [`SEEN_WITHIN`] or a read failed.
fn wait_until(
    client: &Client,
    base: &str,
    path: &str,
    token: &str,
    acked: Instant,
    shows: &dyn Fn(&Value) -> bool,
) -> Option<(Duration, u64)> {
    let mut extra = 0;
    loop {
        match get_json(client, base, path, token) {
            Ok(v) if shows(&v) => return Some((acked.elapsed(), extra)),
            Ok(_) if acked.elapsed() < SEEN_WITHIN => {
                extra += 1;
                std::thread::sleep(Duration::from_millis(1));
            }
            Ok(_) | Err(_) => return None,
        }
    }
}

impl Seen {
    fn file(&mut self, outcome: Option<(Duration, u64)>) {
        match outcome {
            Some((took, extra)) => {
                self.took.push(took);
                self.extra_reads += extra;
            }
            None => self.missed += 1,
        }
    }
}

/// GETs `path` and parses the answer, which must be a 200.
fn get_json(client: &Client, base: &str, path: &str, token: &str) -> anyhow::Result<Value> {
    let r = client
        .get(format!("{base}{path}"))
        .bearer_auth(token)
        .send()?;
    let status = r.status();
    let text = r.text()?;
    if status != StatusCode::OK {
        bail!("GET {path}: {status} {text}");
    }
    Ok(serde_json::from_str(&text)?)
}

/// `clients` threads, each with a client of its own, read `urls` in turn
/// (shared round-robin) until the bounds stop them.
fn read_phase(
    server: &Server,
    token: &str,
    what: &str,
    urls: &[String],
    clients: usize,
    seconds: Duration,
    max_requests: usize,
) -> anyhow::Result<Phase> {
    let bounds = Bounds::new(seconds, max_requests);
    let next = AtomicUsize::new(0);
    let base = server.base.as_str();
    let before = cpu(server.child.id())?;
    let start = Instant::now();
    let tally = std::thread::scope(|s| -> anyhow::Result<Tally> {
        let readers: Vec<_> = (0..clients)
            .map(|_| {
                s.spawn(|| -> anyhow::Result<Tally> {
                    let client = Client::builder().timeout(Duration::from_secs(60)).build()?;
                    let mut tally = Tally::default();
                    while bounds.take() {
                        let url = &urls[next.fetch_add(1, Ordering::Relaxed) % urls.len()];
                        let sent = Instant::now();
                        let answer = client
                            .get(format!("{base}{url}"))
                            .bearer_auth(token)
                            .send()
                            .and_then(|r| {
                                let status = r.status();
                                r.bytes().map(|body| (status, body))
                            });
                        match answer {
                            Ok((StatusCode::OK, _)) => tally.latencies.push(sent.elapsed()),
                            Ok((status, body)) => tally.error(format!(
                                "GET {url}: {status} {}",
                                String::from_utf8_lossy(&body)
                            )),
                            Err(e) => tally.error(format!("GET {url}: {e:#}")),
                        }
                    }
                    Ok(tally)
                })
            })
            .collect();
        let mut tally = Tally::default();
        for r in readers {
            tally.merge(
                r.join()
                    .map_err(|_| anyhow::anyhow!("a client thread panicked"))??,
            );
        }
        Ok(tally)
    })?;
    let elapsed = start.elapsed();
    let after = cpu(server.child.id())?;
    Ok(Phase {
        what: what.to_owned(),
        clients,
        latencies: sorted(tally.latencies),
        errors: tally.errors,
        first_error: tally.first_error,
        elapsed,
        cpu: (
            after.0.saturating_sub(before.0),
            after.1.saturating_sub(before.1),
        ),
    })
}

fn sorted(mut v: Vec<Duration>) -> Vec<Duration> {
    v.sort();
    v
}

/// The `pct`th percentile of sorted timings (nearest rank).
fn percentile(sorted: &[Duration], pct: usize) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = (sorted.len() * pct).div_ceil(100).max(1);
    sorted[rank - 1]
}

/// CPU time (user + system) used so far by the server and by this process.
fn cpu(server: u32) -> anyhow::Result<(Duration, Duration)> {
    // Fields 14 and 15 of /proc/PID/stat (utime, stime, in clock ticks),
    // counted after the command name, which may hold spaces.
    let stat = std::fs::read_to_string(format!("/proc/{server}/stat"))?;
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .context("/proc/PID/stat")?
        .1
        .split_whitespace()
        .collect();
    let ticks: u64 = fields.get(11).context("utime")?.parse::<u64>()?
        + fields.get(12).context("stime")?.parse::<u64>()?;
    let own = crate::rusage(libc::RUSAGE_SELF);
    let timeval = |t: libc::timeval| {
        Duration::from_secs(u64::try_from(t.tv_sec).unwrap_or(0))
            + Duration::from_micros(u64::try_from(t.tv_usec).unwrap_or(0))
    };
    Ok((
        Duration::from_millis(ticks * 1000 / clock_ticks()),
        timeval(own.ru_utime) + timeval(own.ru_stime),
    ))
}

/// Clock ticks per second, the unit of /proc/PID/stat's CPU times.
fn clock_ticks() -> u64 {
    // SAFETY: sysconf reads a constant of the system and has no preconditions.
    #[allow(unsafe_code)]
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    u64::try_from(hz).ok().filter(|&h| h > 0).unwrap_or(100)
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}

fn print_report(raw: f64, store_rates: &[(usize, f64)], ready_after: Duration, r: &Results) {
    println!("| baseline (same run, no server running) | result |\n|---|---|");
    println!("| raw fdatasync of a 400-byte append | {raw:.0} /s |");
    for (writers, rate) in store_rates {
        println!(
            "| store's own durable appends, {writers} writer(s) | {rate:.0} /s = {:.2}x fdatasync |",
            rate / raw
        );
    }
    println!(
        "| `spor serve` ready (projections built) after | {:.1} s |",
        ready_after.as_secs_f64()
    );
    println!();
    println!(
        "| load | clients | answered | per second | p50 | p99 | errors | CPU: server / clients (cores) |\n|---|---|---|---|---|---|---|---|"
    );
    for p in r.appends.iter().chain(&r.reads) {
        let secs = p.elapsed.as_secs_f64();
        println!(
            "| {} | {} | {} | {:.0} | {} | {} | {} | {:.2} / {:.2} |",
            p.what,
            p.clients,
            p.latencies.len(),
            p.rate(),
            ms(percentile(&p.latencies, 50)),
            ms(percentile(&p.latencies, 99)),
            p.errors,
            p.cpu.0.as_secs_f64() / secs,
            p.cpu.1.as_secs_f64() / secs,
        );
    }
    println!();
    for p in r.appends.iter().chain(&r.reads) {
        if let Some(e) = &p.first_error {
            println!(
                "- first error of {} with {} clients: {e}",
                p.what, p.clients
            );
        }
    }
    for (clients, rate) in store_rates {
        if let Some(p) = r.appends.iter().find(|p| p.clients == *clients) {
            println!(
                "- {clients} HTTP clients: {:.0} % of the store's own {clients}-writer rate",
                100.0 * p.rate() / rate
            );
        }
    }
    for note in &r.notes {
        println!("- {note}");
    }
    if let Some((seen, clients)) = &r.seen {
        println!();
        println!(
            "| shows in, after the 201 ({clients} clients appending) | samples | p50 | p99 | max | reads beyond the first | not seen within {} s |\n|---|---|---|---|---|---|---|",
            SEEN_WITHIN.as_secs()
        );
        for (what, s) in seen {
            println!(
                "| {what} | {} | {} | {} | {} | {} | {} |",
                s.took.len(),
                ms(percentile(&s.took, 50)),
                ms(percentile(&s.took, 99)),
                ms(s.took.last().copied().unwrap_or_default()),
                s.extra_reads,
                s.missed
            );
        }
    }
}
