//! `spor report --year Y --out DIR`: the national report as a self-contained
//! HTML page and the same figures as CSV.

use std::path::{Path, PathBuf};

use anyhow::Context;
use chrono::{NaiveDate, Utc};
use spor_report::Gathered;
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
    let projections = load(&store, settings)?;
    NaiveDate::from_ymd_opt(args.year, 12, 31).context("the year is out of range")?;
    let gathered =
        Gathered::from(&projections, args.year, Utc::now().date_naive(), settings.survey.suppress_up_to, settings.lint.limits());
    let head = store.head();
    let input = gathered.input((head.seq, head.hash_hex()));
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
