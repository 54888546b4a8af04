//! `spor report --year Y --out DIR`: the national report as a self-contained
//! HTML page and the same figures as CSV.

use std::path::{Path, PathBuf};

use anyhow::Context;
use chrono::{NaiveDate, Utc};
use spor_projections::lint::{LintRule, findings};
use spor_projections::publish::publish_all;
use spor_projections::survey::{Grouping, SurveyRequest};
use spor_report::ReportInput;
use spor_store::EventStore;

use super::status::load;
use super::{Access, open_store};
use crate::output::write_file_atomically;
use crate::settings::Settings;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The calendar year.
    #[arg(long)]
    year: i32,
    /// The directory to write report.html and report.csv into (created if missing).
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
}

pub fn run(args: Args, data: &Path, settings: &Settings) -> anyhow::Result<()> {
    let store = open_store(data, settings, Access::Existing)?;
    let projections = load(&store)?;
    let request = SurveyRequest { year: args.year, by: Grouping::County, known_at: None, as_of: Utc::now().date_naive() };
    let up_to = settings.survey.suppress_up_to;
    let tables = publish_all(&projections, &request, up_to);
    let year_end = NaiveDate::from_ymd_opt(args.year, 12, 31).context("the year is out of range")?;
    let limits = settings.lint.limits();
    let found = findings(&projections, year_end, None, limits);
    let count = |pick: fn(&LintRule) -> bool| found.iter().filter(|f| pick(&f.rule)).count();
    let summary = [
        ("past_planned_end", count(|r| matches!(r, LintRule::PastPlannedEnd { .. }))),
        ("no_event_for", count(|r| matches!(r, LintRule::NoEventFor { .. }))),
        ("exit_recorded_late", count(|r| matches!(r, LintRule::ExitRecordedLate { .. }))),
        ("leave_without_return", count(|r| matches!(r, LintRule::LeaveWithoutReturn { .. }))),
        ("unit_not_in_code_table", count(|r| matches!(r, LintRule::UnitNotInCodeTable))),
    ];
    let head = store.head();
    let cohorts = spor_projections::outcomes::cohorts(&projections, args.year - 3, args.year);
    let input = ReportInput {
        year: args.year,
        tables: &tables,
        suppressed_up_to: up_to,
        findings: &summary,
        head: (head.seq, head.hash_hex()),
        cohorts: &cohorts,
    };
    std::fs::create_dir_all(&args.out).with_context(|| format!("creating {}", args.out.display()))?;
    let html = args.out.join("report.html");
    let csv = args.out.join("report.csv");
    write_file_atomically(&html, |w| w.write_all(spor_report::html(&input).as_bytes()))
        .with_context(|| format!("writing {}", html.display()))?;
    write_file_atomically(&csv, |w| w.write_all(spor_report::csv(&input).as_bytes()))
        .with_context(|| format!("writing {}", csv.display()))?;
    eprintln!("report for {} written to {} and {}", args.year, html.display(), csv.display());
    Ok(())
}
