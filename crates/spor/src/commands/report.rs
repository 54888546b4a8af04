//! `spor report --year Y --out DIR`: the national report as a self-contained
//! HTML page and the same figures as CSV.

use std::io::Write;
use std::path::PathBuf;

use anyhow::Context;
use chrono::{DateTime, NaiveDate, Utc};
use spor_projections::publish::Publication;
use spor_report::Gathered;
use spor_store::EventStore;

use super::Access;
use super::status::load;
use crate::output::write_file_atomically;
use crate::workspace::Workspace;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The calendar year.
    #[arg(long)]
    year: i32,
    /// The directory to write report.html and report.csv into (created if missing).
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
    /// Make the report of the events recorded at or before this time
    /// (RFC 3339, or a date YYYY-MM-DD meaning the end of that day, UTC):
    /// the report as it could have been made then. A year published before
    /// is made again with the time its report gives.
    #[arg(long, value_parser = super::survey::parse_time)]
    known_at: Option<DateTime<Utc>>,
}

pub fn run(args: Args, ws: &mut Workspace) -> anyhow::Result<()> {
    let store = ws.store(Access::Existing)?;
    NaiveDate::from_ymd_opt(args.year, 12, 31).context("the year is out of range")?;
    let working = ws.spinner("reading the log");
    let projections = load(store.as_ref(), &ws.settings)?;
    working.set("making the report");
    let gathered = Gathered::from(
        &projections,
        args.year,
        args.known_at,
        args.known_at.unwrap_or_else(Utc::now).date_naive(),
        ws.settings.survey.suppress_up_to,
        ws.settings.lint.limits(),
    );
    drop(working);
    super::survey::note_empty_year(
        &mut ws.err,
        args.year,
        gathered
            .tables
            .nation
            .get(spor_projections::survey::Question::Q1),
    )?;
    let head = store.head();
    // A year published before is published again only as it was (reliability P4).
    spor_shell::publication::check(ws.data(), args.year, &gathered.tables)
        .map_err(super::survey::refused)?;
    let now = Utc::now();
    let input = gathered.input((head.seq, head.hash_hex()), now);
    // Shown as typed; opened from the client's directory inside a server.
    let (html, csv) = (args.out.join("report.html"), args.out.join("report.csv"));
    let out = ws.path(&args.out);
    std::fs::create_dir_all(&out).with_context(|| format!("creating {}", args.out.display()))?;
    write_file_atomically(&out.join("report.html"), |w| {
        w.write_all(spor_report::html(&input).as_bytes())
    })
    .with_context(|| format!("writing {}", html.display()))?;
    write_file_atomically(&out.join("report.csv"), |w| {
        w.write_all(&spor_report::csv(&input)?)
    })
    .with_context(|| format!("writing {}", csv.display()))?;
    let publication = Publication {
        year: args.year,
        known_at: args.known_at.unwrap_or(now),
        made_at: now,
        head_seq: head.seq,
        head_hash: head.hash_hex(),
        suppressed_up_to: ws.settings.survey.suppress_up_to,
        figures: gathered.tables.figures(),
    };
    spor_shell::publication::record(ws.data(), &publication).map_err(super::survey::refused)?;
    writeln!(
        ws.err,
        "report for {} written to {} and {}",
        args.year,
        html.display(),
        csv.display()
    )?;
    Ok(())
}
