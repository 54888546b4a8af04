//! `spor survey`: the year-end survey (contract §2) by unit, county or the
//! whole country.

use std::io::{self, Write};

use anyhow::Context;
use chrono::{DateTime, NaiveDate, Utc};
use comfy_table::Table;
use spor_domain::UnitCode;
use spor_domain::wire::format_time;
use spor_projections::survey::{
    Answers, Grouping, Indicators, OneYear, Question, Row, SizeClass, SurveyRequest,
    TARGET_ONE_YEAR, TARGET_WORK_OR_EDUCATION, WhyNot, explain, survey,
};
use spor_store::EventStore;

use spor_projections::publish::{
    Cell, Change, Derived, Published, PublishedRow, Submission, publish_all, unit_figures,
};

use crate::output::{norwegian_date, norwegian_time};
// Statistics Norway's signs, as the report writes them: `:` a figure
// withheld, `.` one that cannot be computed (a share of nothing).
use spor_report::model::{NOT_COMPUTABLE, WITHHELD};

use super::Access;
use super::status::load;
use crate::output::Format;
use crate::workspace::Workspace;

#[derive(Debug, clap::Args)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
pub struct Args {
    #[command(subcommand)]
    sub: Option<Sub>,
    /// The calendar year.
    #[arg(long, required = true)]
    year: Option<i32>,
    /// One row per unit, per county, or one for the whole country.
    #[arg(long, value_enum, default_value = "unit")]
    by: By,
    #[arg(long, value_enum, default_value = "table")]
    format: Format,
    /// Count only events recorded at or before this time (RFC 3339, or a
    /// date YYYY-MM-DD meaning the end of that day, UTC): the survey as it
    /// could have been answered then.
    #[arg(long, value_parser = parse_time)]
    known_at: Option<DateTime<Utc>>,
    /// For publication: counts from 1 to `survey.suppress_up_to` (4) become
    /// null, and further counts are suppressed until none of them can be
    /// recomputed by subtraction. CSV and table show a suppressed count as `:`.
    #[arg(long)]
    publish: bool,
}

#[derive(Debug, clap::Subcommand)]
enum Sub {
    /// The participants behind one count: their name-free ids and the events
    /// that put them there, with dates and who recorded them. With --not,
    /// those close to it who were not counted, and why.
    Explain(ExplainArgs),
    /// Submit a unit's answers for the year to the directorate (levere
    /// årsrapportering): records every figure, the time, the log's head and
    /// the --known-at they reflect in DATA/submissions.json. From then on,
    /// a publication of the year that shows the unit's figures otherwise is
    /// refused (reliability P4), and `spor survey submissions` shows what
    /// has changed since.
    Submit(SubmitArgs),
    /// Each unit's last submission of the year, and the figures that later
    /// events have changed since.
    Submissions(SubmissionsArgs),
}

#[derive(Debug, clap::Args)]
struct SubmitArgs {
    #[arg(long)]
    year: i32,
    /// The unit (municipality or Oslo ward number).
    #[arg(long)]
    unit: UnitCode,
    /// Submit the answers as of this time (RFC 3339, or a date YYYY-MM-DD
    /// meaning the end of that day, UTC); the default is now.
    #[arg(long, value_parser = parse_time)]
    known_at: Option<DateTime<Utc>>,
    /// Submit again with other figures than the last submission (a
    /// correction); without it, such a submission is refused and the
    /// differences are listed.
    #[arg(long)]
    again: bool,
}

#[derive(Debug, clap::Args)]
struct SubmissionsArgs {
    #[arg(long)]
    year: i32,
    #[arg(long, value_enum, default_value = "table")]
    format: Format,
}

#[derive(Debug, clap::Args)]
struct ExplainArgs {
    #[arg(long)]
    year: i32,
    /// The unit (municipality or Oslo ward number).
    #[arg(long)]
    unit: UnitCode,
    /// The question, e.g. q9a (q1 to q13c). Parsed here, so an unknown
    /// key is a usage error that lists the keys.
    #[arg(long, value_parser = clap::value_parser!(Question))]
    key: Question,
    /// List those close to the count but not in it, with why not.
    #[arg(long)]
    not: bool,
    #[arg(long, value_parser = parse_time)]
    known_at: Option<DateTime<Utc>>,
    #[arg(long, value_enum, default_value = "table")]
    format: Format,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum By {
    Unit,
    County,
    National,
}

pub(super) fn parse_time(s: &str) -> Result<DateTime<Utc>, String> {
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Ok(t.with_timezone(&Utc));
    }
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(23, 59, 59))
        .map(|t| t.and_utc())
        .ok_or_else(|| {
            format!(
                "`{s}` is neither an RFC 3339 time (2008-02-15T12:00:00Z) nor a date (2008-02-15)"
            )
        })
}

pub fn run(args: Args, ws: &mut Workspace) -> anyhow::Result<()> {
    match args.sub {
        Some(Sub::Explain(e)) => return explain_run(e, ws),
        Some(Sub::Submit(s)) => return submit_run(&s, ws),
        Some(Sub::Submissions(s)) => return submissions_run(&s, ws),
        None => {}
    }
    let year = args.year.context("--year is required")?;
    let store = ws.store(Access::Existing)?;
    let working = ws.spinner("reading the log");
    let projections = load(store.as_ref(), &ws.settings)?;
    let by = match args.by {
        By::Unit => Grouping::Unit,
        By::County => Grouping::County,
        By::National => Grouping::National,
    };
    // The one-year indicator's pending contacts are judged on the day the
    // survey is taken as of: the known-at time, or today.
    let as_of = args
        .known_at
        .map_or_else(|| Utc::now().date_naive(), |t| t.date_naive());
    let request = SurveyRequest {
        year,
        by,
        known_at: args.known_at,
        as_of,
    };
    if args.publish {
        let up_to = ws.settings.survey.suppress_up_to;
        working.set("choosing the figures to withhold");
        let all = publish_all(&projections, &request, up_to);
        drop(working);
        note_empty_year(&mut ws.err, year, all.nation.get(Question::Q1))?;
        // A year published before is shown only as it was (reliability P4).
        spor_shell::publication::check(ws.data(), year, &all).map_err(refused)?;
        return print_published(
            &Published::at_level(all, &request, up_to),
            args.format,
            args.known_at,
            &mut ws.out,
        );
    }
    drop(working);
    let result = survey(&projections, &request);
    note_empty_year(&mut ws.err, year, Some(result.total.answers.q1))?;
    for u in &result.unknown_units {
        writeln!(
            ws.err,
            "spor: unit {u} is not in Statistics Norway's table for {year}; counted under county {}",
            &u[..2]
        )?;
    }
    let mut out = io::BufWriter::new(&mut ws.out);
    match args.format {
        Format::Json => {
            serde_json::to_writer(&mut out, &result)?;
            writeln!(out)?;
        }
        Format::Csv => {
            // A spreadsheet reads UTF-8 only with a byte-order mark.
            out.write_all(b"\xEF\xBB\xBF")?;
            let mut w = csv::Writer::from_writer(&mut out);
            w.write_record(csv_header())?;
            for row in &result.rows {
                w.write_record(csv_row(
                    &row.code,
                    row.name.as_deref(),
                    &row.answers,
                    &row.indicators,
                    &row.one_year,
                ))?;
            }
            w.write_record(csv_row(
                "total",
                Some("Totalt"),
                &result.total.answers,
                &result.total.indicators,
                &result.total.one_year,
            ))?;
            w.flush()?;
        }
        Format::Table => {
            writeln!(
                out,
                "Resultatrapportering {year} ({}){}",
                match by {
                    Grouping::Unit => "per enhet",
                    Grouping::County => "per fylke",
                    Grouping::National => "hele landet",
                },
                args.known_at
                    .map(|t| format!(", slik loggen sto {}", norwegian_time(t)))
                    .unwrap_or_default()
            )?;
            if result.rows.len() <= 1 {
                let row = result.rows.first();
                let mut table = Table::new();
                table.load_style(comfy_table::presets::UTF8_FULL_CONDENSED);
                table.set_header(["", "spørsmål", "antall"]);
                let answers = row.map_or(result.total.answers, |r| r.answers);
                for (q, n) in answers.values() {
                    table.add_row([q.key().to_owned(), q.text().to_owned(), n.to_string()]);
                }
                writeln!(out, "{table}")?;
            } else {
                let mut table = Table::new();
                table.load_style(comfy_table::presets::UTF8_FULL_CONDENSED);
                table.set_header([
                    "kode",
                    "navn",
                    "deltakere (q1)",
                    "ved årets slutt (q2)",
                    "avsluttet (q4)",
                    "arbeid/utdanning",
                    "andel",
                    "størrelse",
                ]);
                for row in &result.rows {
                    table.add_row(summary(row));
                }
                let total = Row {
                    code: "".into(),
                    name: Some("Totalt".into()),
                    answers: result.total.answers,
                    indicators: result.total.indicators,
                    one_year: result.total.one_year,
                };
                table.add_row(summary(&total));
                writeln!(out, "{table}")?;
            }
            writeln!(
                out,
                "Målet for andel i arbeid eller utdanning ved avslutning er {} %.",
                percent(TARGET_WORK_OR_EDUCATION)
            )?;
            let o = &result.total.one_year;
            writeln!(
                out,
                "Ettårsresultat for dem som avsluttet i {year} som arbeidssøkere: {} av {} i arbeid eller utdanning etter ett år ({}; målet er {} %), {} nådd, {} ikke nådd, {} venter på kontakt.",
                o.work_or_education,
                o.jobseekers,
                o.share()
                    .map_or_else(|| "–".to_owned(), |s| format!("{} %", percent(s))),
                percent(TARGET_ONE_YEAR),
                o.reached,
                o.not_reached,
                o.pending
            )?;
        }
    }
    out.flush()?;
    Ok(())
}

const INDICATOR_HEADERS: [&str; 16] = [
    "arbeid",
    "utdanning",
    "arbeid eller utdanning",
    "andel arbeid eller utdanning (%)",
    "under to år",
    "to år",
    "over to år",
    "med livsopphold",
    "uten livsopphold",
    "størrelse",
    "ettårsresultat: arbeidssøkere ved avslutning",
    "ettårsresultat: nådd etter 12 måneder",
    "ettårsresultat: i arbeid eller utdanning",
    "ettårsresultat: ikke nådd",
    "ettårsresultat: venter på kontakt",
    "ettårsresultat: andel (%)",
];

/// The survey's CSV columns, with or without --publish: code, name, each
/// question as its key and wording ("q1 Deltakere i løpet av året"), then
/// the indicators.
fn csv_header() -> Vec<String> {
    let mut header: Vec<String> = vec!["kode".into(), "navn".into()];
    header.extend(
        Question::ALL
            .iter()
            .map(|q| format!("{} {}", q.key(), q.text())),
    );
    header.extend(INDICATOR_HEADERS.iter().map(|s| (*s).to_owned()));
    header
}

/// A share in the CSV: percent with one decimal point.
fn csv_share(share: Option<f64>) -> String {
    share.map_or_else(|| NOT_COMPUTABLE.into(), |s| format!("{:.1}", s * 100.0))
}

/// A published row in [`csv_header`]'s columns: `:` where a count is
/// withheld, and where a share or the size class would tell one.
fn published_csv_row(
    code: &str,
    name: Option<&str>,
    r: &PublishedRow,
    unit_row: bool,
) -> Vec<String> {
    let shown = |v: Option<u64>| v.map_or_else(|| WITHHELD.to_owned(), |n| n.to_string());
    let share = |part: Derived, whole: Cell| match (r.get(part), r.get(whole)) {
        (_, Some(0)) => NOT_COMPUTABLE.to_owned(),
        #[allow(clippy::cast_precision_loss)] // counts far below 2^52
        (Some(p), Some(w)) => csv_share(Some(p as f64 / w as f64)),
        _ => WITHHELD.to_owned(),
    };
    let mut v = vec![code.to_owned(), name.unwrap_or("").to_owned()];
    v.extend(Question::ALL.iter().map(|q| shown(r.get(*q))));
    v.extend([
        shown(r.get(Derived::Work)),
        shown(r.get(Derived::Education)),
        shown(r.get(Derived::WorkOrEducation)),
        share(Derived::WorkOrEducation, Question::Q4.into()),
        shown(r.get(Question::Q5)),
        shown(r.get(Derived::TwoYears)),
        shown(r.get(Question::Q6)),
        shown(r.get(Derived::AnySupport)),
        shown(r.get(Derived::NoSupport)),
        if unit_row {
            r.get(Question::Q1)
                .map_or(WITHHELD, |q1| SizeClass::of(q1).key())
                .to_owned()
        } else {
            String::new()
        },
        shown(r.get(Derived::OneYearJobseekers)),
        shown(r.get(Derived::OneYearReached)),
        shown(r.get(Derived::OneYearWorkOrEducation)),
        shown(r.get(Derived::OneYearNotReached)),
        shown(r.get(Derived::OneYearPending)),
        share(
            Derived::OneYearWorkOrEducation,
            Derived::OneYearJobseekers.into(),
        ),
    ]);
    v
}

fn csv_row(
    code: &str,
    name: Option<&str>,
    answers: &Answers,
    i: &Indicators,
    o: &OneYear,
) -> Vec<String> {
    let mut r = vec![code.to_owned(), name.unwrap_or("").to_owned()];
    r.extend(answers.values().iter().map(|(_, n)| n.to_string()));
    r.extend([
        i.work.to_string(),
        i.education.to_string(),
        i.work_or_education.to_string(),
        csv_share(i.work_or_education_share),
        i.under_two_years.to_string(),
        i.two_years.to_string(),
        i.over_two_years.to_string(),
        i.any_support.to_string(),
        i.no_support.to_string(),
        i.size_class
            .map(SizeClass::key)
            .unwrap_or_default()
            .to_owned(),
        o.jobseekers.to_string(),
        o.reached.to_string(),
        o.work_or_education.to_string(),
        o.not_reached.to_string(),
        o.pending.to_string(),
        csv_share(o.share()),
    ]);
    r
}

/// A publication that differs from a recorded one is refused input (exit
/// 3); a record that cannot be read is a disk failure.
pub(super) fn refused(e: spor_shell::publication::PublishError) -> anyhow::Error {
    if e.is_refusal() {
        crate::exit::Refused(e.to_string()).into()
    } else {
        anyhow::Error::new(e)
    }
}

/// A share as Norwegian readers write it: one decimal, decimal comma.
fn percent(share: f64) -> String {
    format!("{:.1}", share * 100.0).replace('.', ",")
}

fn summary(row: &Row) -> Vec<String> {
    let i = &row.indicators;
    vec![
        row.code.clone(),
        row.name.clone().unwrap_or_else(|| "(ukjent enhet)".into()),
        row.answers.q1.to_string(),
        row.answers.q2.to_string(),
        row.answers.q4.to_string(),
        i.work_or_education.to_string(),
        i.work_or_education_share
            .map_or_else(|| NOT_COMPUTABLE.into(), |s| format!("{} %", percent(s))),
        i.size_class
            .map(|s| format!("{s:?}").to_lowercase())
            .unwrap_or_default(),
    ]
}

fn explain_run(args: ExplainArgs, ws: &mut Workspace) -> anyhow::Result<()> {
    let store = ws.store(Access::Existing)?;
    let projections = load(store.as_ref(), &ws.settings)?;
    let found = explain(
        &projections,
        args.year,
        args.unit,
        args.key,
        args.known_at,
        !args.not,
    );
    ws.audit()?
        .record("spor survey explain", found.iter().map(|p| p.participant))?;
    let mut out = io::BufWriter::new(&mut ws.out);
    match args.format {
        Format::Json => {
            serde_json::to_writer(
                &mut out,
                &serde_json::json!({ "year": args.year, "unit": args.unit, "key": args.key, "counted": !args.not, "participants": found }),
            )?;
            writeln!(out)?;
        }
        Format::Csv => {
            let mut w = csv::Writer::from_writer(&mut out);
            w.write_record([
                "participant",
                "unit",
                "event",
                "type",
                "date",
                "recorded_at",
                "by",
                "why_not",
            ])?;
            for p in &found {
                for e in &p.events {
                    w.write_record([
                        p.participant.to_string(),
                        p.unit.to_string(),
                        e.event.0.to_string(),
                        e.kind.to_string(),
                        e.date.to_string(),
                        format_time(e.recorded_at),
                        e.by.clone().unwrap_or_default(),
                        p.why_not.map(bokmal).unwrap_or_default(),
                    ])?;
                }
            }
            w.flush()?;
        }
        Format::Table => {
            let text = args.key.text();
            writeln!(
                out,
                "{} {} ({text}), {} {}: {} {}",
                args.unit,
                args.key,
                args.unit
                    .name_on(NaiveDate::from_ymd_opt(args.year, 12, 31).unwrap_or(NaiveDate::MAX))
                    .unwrap_or("(ukjent enhet)"),
                args.year,
                found.len(),
                if args.not {
                    "nær, men ikke talt med"
                } else {
                    "talt med"
                }
            )?;
            let mut table = Table::new();
            table.load_style(comfy_table::presets::UTF8_FULL_CONDENSED);
            table.set_header([
                "deltaker",
                "hendelse",
                "dato",
                "registrert",
                "av",
                "hvorfor ikke",
            ]);
            for p in &found {
                for (i, e) in p.events.iter().enumerate() {
                    table.add_row([
                        if i == 0 {
                            p.participant.to_string()
                        } else {
                            String::new()
                        },
                        e.kind.to_string(),
                        norwegian_date(e.date),
                        format_time(e.recorded_at),
                        e.by.clone().unwrap_or_default(),
                        if i == 0 {
                            p.why_not.map(bokmal).unwrap_or_default()
                        } else {
                            String::new()
                        },
                    ]);
                }
            }
            writeln!(out, "{table}")?;
        }
    }
    out.flush()?;
    Ok(())
}

fn submit_run(args: &SubmitArgs, ws: &mut Workspace) -> anyhow::Result<()> {
    let store = ws.store(Access::Existing)?;
    let working = ws.spinner("reading the log");
    let projections = load(store.as_ref(), &ws.settings)?;
    drop(working);
    let head = store.head();
    let now = Utc::now();
    let known_at = args.known_at.unwrap_or(now);
    let request = SurveyRequest {
        year: args.year,
        by: Grouping::Unit,
        known_at: Some(known_at),
        as_of: known_at.date_naive(),
    };
    // A unit with no participant in the year has nothing to submit: zeros
    // for "we do not know" are what corrupted the 2007 survey.
    let figures = unit_figures(&projections, &request)
        .remove(&args.unit)
        .ok_or_else(|| {
            crate::exit::Refused(format!(
                "no participant of unit {} in {} is in the log{}; nothing submitted",
                args.unit,
                args.year,
                args.known_at
                    .map(|t| format!(" as known at {}", format_time(t)))
                    .unwrap_or_default()
            ))
        })?;
    let unit = args.unit.to_string();
    let submission = Submission {
        year: args.year,
        unit: unit.clone(),
        known_at,
        submitted_at: now,
        by: crate::operator_audit::operating_system_user()?,
        head_seq: head.seq,
        head_hash: head.hash_hex(),
        figures,
    };
    if let Some(last) =
        spor_shell::publication::last_submission(ws.data(), args.year, &unit).map_err(refused)?
    {
        let changes = last.changes(&submission.figures);
        if !changes.is_empty() && !args.again {
            return Err(crate::exit::Refused(format!(
                "{unit} submitted {} on {} (as known at {}); {} figures differ now: {}. Submit with --again to correct the submission",
                args.year,
                format_time(last.submitted_at),
                format_time(last.known_at),
                changes.len(),
                changes_text(&changes)
            ))
            .into());
        }
    }
    match spor_shell::publication::submit(ws.data(), &submission).map_err(refused)? {
        spor_shell::publication::Submitted::New => writeln!(
            ws.err,
            "submitted {} for {unit}: {} answers as known at {} (event {}, hash {})",
            args.year,
            Question::ALL.len(),
            format_time(known_at),
            head.seq,
            &submission.head_hash[..16.min(submission.head_hash.len())]
        )?,
        spor_shell::publication::Submitted::Unchanged(at) => writeln!(
            ws.err,
            "{unit} submitted {} on {} with the same figures; nothing new recorded",
            args.year,
            format_time(at)
        )?,
    }
    Ok(())
}

/// Says so when a survey or report is of a year that has not begun, or in
/// which nobody took part: all zeros is then an answer that needs saying.
pub(super) fn note_empty_year(
    err: &mut dyn Write,
    year: i32,
    participants: Option<u64>,
) -> io::Result<()> {
    use chrono::Datelike;
    if year > Utc::now().year() {
        writeln!(
            err,
            "spor: {year} has not begun; the figures are of what the log holds now"
        )
    } else if participants == Some(0) {
        writeln!(
            err,
            "spor: nobody took part in the programme in {year}, according to the log; every figure is 0"
        )
    } else {
        Ok(())
    }
}

/// Changed figures as `q4 44 → 45, work 10 → 11`.
fn changes_text(changes: &[Change]) -> String {
    changes
        .iter()
        .map(|c| format!("{} {} → {}", c.cell.key(), c.submitted, c.now))
        .collect::<Vec<_>>()
        .join(", ")
}

fn submissions_run(args: &SubmissionsArgs, ws: &mut Workspace) -> anyhow::Result<()> {
    let store = ws.store(Access::Existing)?;
    let submissions =
        spor_shell::publication::submissions(ws.data(), args.year).map_err(refused)?;
    let working = ws.spinner("reading the log");
    let projections = load(store.as_ref(), &ws.settings)?;
    drop(working);
    let now = Utc::now();
    let request = SurveyRequest {
        year: args.year,
        by: Grouping::Unit,
        known_at: None,
        as_of: now.date_naive(),
    };
    let current = unit_figures(&projections, &request);
    let zero = vec![0; Cell::all().count()];
    let mut out = io::BufWriter::new(&mut ws.out);
    let rows: Vec<(&Submission, Vec<Change>)> = submissions
        .iter()
        .map(|s| {
            let now = s
                .unit
                .parse::<UnitCode>()
                .ok()
                .and_then(|u| current.get(&u))
                .unwrap_or(&zero);
            (s, s.changes(now))
        })
        .collect();
    match args.format {
        Format::Json => {
            let list: Vec<serde_json::Value> = rows
                .iter()
                .map(|(s, changes)| {
                    serde_json::json!({
                        "unit": s.unit,
                        "submitted_at": format_time(s.submitted_at),
                        "known_at": format_time(s.known_at),
                        "by": s.by,
                        "head_seq": s.head_seq,
                        "head_hash": s.head_hash,
                        "answers": Cell::all()
                            .zip(&s.figures)
                            .filter(|(c, _)| matches!(c, Cell::Answer(_)))
                            .map(|(c, v)| (c.key().to_owned(), serde_json::json!(v)))
                            .collect::<serde_json::Map<_, _>>(),
                        "changed": changes.iter().map(|c| serde_json::json!({"key": c.cell.key(), "submitted": c.submitted, "now": c.now})).collect::<Vec<_>>(),
                    })
                })
                .collect();
            serde_json::to_writer(
                &mut out,
                &serde_json::json!({"year": args.year, "submissions": list}),
            )?;
            writeln!(out)?;
        }
        Format::Csv => {
            out.write_all(b"\xEF\xBB\xBF")?;
            let mut w = csv::Writer::from_writer(&mut out);
            w.write_record([
                "enhet",
                "levert",
                "tallene slik loggen sto",
                "av",
                "endret siden",
            ])?;
            for (s, changes) in &rows {
                w.write_record([
                    s.unit.clone(),
                    format_time(s.submitted_at),
                    format_time(s.known_at),
                    s.by.clone(),
                    changes_text(changes),
                ])?;
            }
            w.flush()?;
        }
        Format::Table => {
            writeln!(out, "Levert årsrapportering {}", args.year)?;
            let mut table = Table::new();
            table.load_style(comfy_table::presets::UTF8_FULL_CONDENSED);
            table.set_header([
                "enhet",
                "levert",
                "tallene slik loggen sto",
                "av",
                "endret siden",
            ]);
            for (s, changes) in &rows {
                table.add_row([
                    s.unit.clone(),
                    norwegian_time(s.submitted_at),
                    norwegian_time(s.known_at),
                    s.by.clone(),
                    if changes.is_empty() {
                        "ingenting".to_owned()
                    } else {
                        changes_text(changes)
                    },
                ]);
            }
            writeln!(out, "{table}")?;
        }
    }
    out.flush()?;
    Ok(())
}

/// Why someone was not counted, as an adviser reads it.
fn bokmal(why: WhyNot) -> String {
    match why {
        WhyNot::StartedAfterTheYear { date } => {
            format!("startet {}, etter året", norwegian_date(date))
        }
        WhyNot::EndedBeforeTheYear { date } => {
            format!("avsluttet {}, før året", norwegian_date(date))
        }
        WhyNot::EndedAfterTheYear { date } => {
            format!("avsluttet {}, året etter", norwegian_date(date))
        }
        WhyNot::LeaveEndedBefore31December { date } => {
            format!("permisjon til {}, ikke 31. desember", norwegian_date(date))
        }
        WhyNot::UnderTwoYears => "avsluttet på under to år (q5)".into(),
        WhyNot::GrantedOverTwoYears => "innvilget mer enn to år (q6)".into(),
        WhyNot::TwoYears => "avsluttet etter to år".into(),
        WhyNot::CountedUnder { key } => format!("avsluttet i året, talt under {key}"),
        WhyNot::WithoutThisSupport => "avsluttet i året uten denne ytelsen".into(),
    }
}

/// A published (suppressed) survey: `null` in JSON, `:` in CSV and tables
/// (Statistics Norway's sign for a figure withheld to protect individuals).
fn print_published(
    p: &Published,
    format: Format,
    known_at: Option<DateTime<Utc>>,
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    let mut out = io::BufWriter::new(out);
    let shown = |v: Option<u64>| v.map_or_else(|| WITHHELD.to_owned(), |n| n.to_string());
    match format {
        Format::Json => {
            serde_json::to_writer(&mut out, p)?;
            writeln!(out)?;
        }
        Format::Csv => {
            // The same columns as without --publish, with `:` where withheld.
            out.write_all(b"\xEF\xBB\xBF")?;
            let mut w = csv::Writer::from_writer(&mut out);
            w.write_record(csv_header())?;
            let by_unit = p.by == Grouping::Unit;
            for r in &p.rows {
                w.write_record(published_csv_row(&r.code, r.name.as_deref(), r, by_unit))?;
            }
            w.write_record(published_csv_row("total", Some("Totalt"), &p.total, false))?;
            w.flush()?;
        }
        Format::Table => {
            writeln!(
                out,
                "Resultatrapportering {} for publisering{} (tall fra 1 til {} er skjult, vist som :)",
                p.year,
                known_at
                    .map(|t| format!(", slik loggen sto {}", norwegian_time(t)))
                    .unwrap_or_default(),
                p.suppressed_up_to
            )?;
            let mut table = Table::new();
            table.load_style(comfy_table::presets::UTF8_FULL_CONDENSED);
            table.set_header([
                "kode",
                "navn",
                Question::Q1.key(),
                Question::Q2.key(),
                Question::Q4.key(),
                "arbeid/utdanning",
            ]);
            for r in p.rows.iter().chain([&p.total]) {
                table.add_row([
                    r.code.clone(),
                    r.name.clone().unwrap_or_default(),
                    shown(r.get(Question::Q1)),
                    shown(r.get(Question::Q2)),
                    shown(r.get(Question::Q4)),
                    shown(r.get(Derived::WorkOrEducation)),
                ]);
            }
            writeln!(out, "{table}")?;
            for w in &p.withheld_totals {
                writeln!(
                    out,
                    "Skjult for hele landet: {} {} ({})",
                    w.figure,
                    w.figure.text(),
                    w.why.bokmal()
                )?;
            }
        }
    }
    out.flush()?;
    Ok(())
}
