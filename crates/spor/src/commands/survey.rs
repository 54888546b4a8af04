//! `spor survey`: the year-end survey (contract §2) by unit, county or the
//! whole country.

use std::io::{self, Write};
use std::path::Path;

use chrono::{DateTime, NaiveDate, Utc};
use comfy_table::Table;
use spor_projections::survey::{Grouping, Indicators, QUESTIONS, Row, SurveyRequest, TARGET_WORK_OR_EDUCATION, survey};

use super::status::load;
use super::{Access, open_store};
use crate::output::Format;
use crate::settings::Settings;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The calendar year.
    #[arg(long)]
    year: i32,
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
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum By {
    Unit,
    County,
    National,
}

fn parse_time(s: &str) -> Result<DateTime<Utc>, String> {
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Ok(t.with_timezone(&Utc));
    }
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(23, 59, 59))
        .map(|t| t.and_utc())
        .ok_or_else(|| format!("`{s}` is neither an RFC 3339 time (2008-02-15T12:00:00Z) nor a date (2008-02-15)"))
}

pub fn run(args: Args, data: &Path, settings: &Settings) -> anyhow::Result<()> {
    let store = open_store(data, settings, Access::Existing)?;
    let projections = load(&store)?;
    let by = match args.by {
        By::Unit => Grouping::Unit,
        By::County => Grouping::County,
        By::National => Grouping::National,
    };
    let result = survey(&projections, &SurveyRequest { year: args.year, by, known_at: args.known_at });
    for u in &result.unknown_units {
        eprintln!("spor: unit {u} is not in Statistics Norway's table for {}; counted under county {}", args.year, &u[..2]);
    }
    let stdout = io::stdout();
    let mut out = io::BufWriter::new(stdout.lock());
    match args.format {
        Format::Json => {
            serde_json::to_writer(&mut out, &result)?;
            writeln!(out)?;
        }
        Format::Csv => {
            // A spreadsheet reads UTF-8 only with a byte-order mark.
            out.write_all(b"\xEF\xBB\xBF")?;
            let mut w = csv::Writer::from_writer(&mut out);
            let mut header: Vec<String> = vec!["kode".into(), "navn".into()];
            header.extend(QUESTIONS.iter().map(|(k, text)| format!("{k} {text}")));
            header.extend(INDICATOR_HEADERS.iter().map(|s| (*s).to_owned()));
            w.write_record(&header)?;
            for row in &result.rows {
                w.write_record(csv_row(&row.code, row.name.as_deref(), &row.answers.values(), &row.indicators))?;
            }
            w.write_record(csv_row("total", Some("Totalt"), &result.total.answers.values(), &result.total.indicators))?;
            w.flush()?;
        }
        Format::Table => {
            writeln!(out, "Resultatrapportering {} ({})", args.year, match by {
                Grouping::Unit => "per enhet",
                Grouping::County => "per fylke",
                Grouping::National => "hele landet",
            })?;
            if result.rows.len() <= 1 {
                let row = result.rows.first();
                let mut table = Table::new();
                table.load_style(comfy_table::presets::UTF8_FULL_CONDENSED);
                table.set_header(["", "spørsmål", "antall"]);
                let answers = row.map_or(result.total.answers, |r| r.answers);
                for ((key, text), (_, n)) in QUESTIONS.iter().zip(answers.values()) {
                    table.add_row([key.to_string(), text.to_string(), n.to_string()]);
                }
                writeln!(out, "{table}")?;
            } else {
                let mut table = Table::new();
                table.load_style(comfy_table::presets::UTF8_FULL_CONDENSED);
                table.set_header(["kode", "navn", "deltakere (q1)", "ved årets slutt (q2)", "avsluttet (q4)", "arbeid/utdanning", "andel", "størrelse"]);
                for row in &result.rows {
                    table.add_row(summary(row));
                }
                let total = Row {
                    code: "".into(),
                    name: Some("Totalt".into()),
                    answers: result.total.answers,
                    indicators: result.total.indicators,
                };
                table.add_row(summary(&total));
                writeln!(out, "{table}")?;
            }
            writeln!(out, "Målet for andel i arbeid eller utdanning ved avslutning er {} %.", percent(TARGET_WORK_OR_EDUCATION))?;
        }
    }
    out.flush()?;
    Ok(())
}

const INDICATOR_HEADERS: [&str; 10] = [
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
];

fn csv_row(code: &str, name: Option<&str>, answers: &[(&str, u64); 22], i: &Indicators) -> Vec<String> {
    let mut r = vec![code.to_owned(), name.unwrap_or("").to_owned()];
    r.extend(answers.iter().map(|(_, n)| n.to_string()));
    r.extend([
        i.work.to_string(),
        i.education.to_string(),
        i.work_or_education.to_string(),
        i.work_or_education_share.map(|s| format!("{:.1}", s * 100.0)).unwrap_or_default(),
        i.under_two_years.to_string(),
        i.two_years.to_string(),
        i.over_two_years.to_string(),
        i.any_support.to_string(),
        i.no_support.to_string(),
        i.size_class.map(|s| serde_json::to_value(s).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default()).unwrap_or_default(),
    ]);
    r
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
        i.work_or_education_share.map(|s| format!("{} %", percent(s))).unwrap_or_else(|| "–".into()),
        i.size_class.map(|s| format!("{s:?}").to_lowercase()).unwrap_or_default(),
    ]
}
