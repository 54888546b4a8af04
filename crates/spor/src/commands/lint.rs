//! `spor lint`: data-quality findings, each naming the participant and the rule.

use std::io::{self, Write};

use chrono::{NaiveDate, Utc};
use comfy_table::Table;
use spor_domain::UnitCode;
use spor_projections::lint::{LintRule, findings};

use super::Access;
use super::status::load;
use crate::output::{Format, norwegian_date, parse_date};
use crate::workspace::Workspace;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Only this unit.
    #[arg(long, value_name = "U")]
    unit: Option<UnitCode>,
    /// The day to check on (default: today).
    #[arg(long, value_parser = parse_date)]
    on: Option<NaiveDate>,
    #[arg(long, value_enum, default_value = "table")]
    format: Format,
}

pub fn run(args: Args, ws: &mut Workspace) -> anyhow::Result<()> {
    let store = ws.store(Access::Existing)?;
    let projections = load(store.as_ref(), &ws.settings)?;
    let on = args.on.unwrap_or_else(|| Utc::now().date_naive());
    let limits = ws.settings.lint.limits();
    let found = findings(&projections, on, args.unit, limits);
    ws.audit()?
        .record("spor lint", found.iter().map(|f| f.participant))?;
    let mut out = io::BufWriter::new(&mut ws.out);
    match args.format {
        Format::Json => {
            serde_json::to_writer(
                &mut out,
                &serde_json::json!({ "on": on, "findings": found }),
            )?;
            writeln!(out)?;
        }
        Format::Csv => {
            let mut w = csv::Writer::from_writer(&mut out);
            w.write_record(["participant", "unit", "rule", "detail"])?;
            for f in &found {
                w.write_record([
                    f.participant.to_string(),
                    f.unit.to_string(),
                    spor_shell::bokmal::lint_rule(&f.rule).into(),
                    bokmal(&f.rule),
                ])?;
            }
            w.flush()?;
        }
        Format::Table => {
            let mut table = Table::new();
            table.load_style(comfy_table::presets::UTF8_FULL_CONDENSED);
            table.set_header(["deltaker", "enhet", "regel", "hva"]);
            for f in &found {
                table.add_row([
                    f.participant.to_string(),
                    f.unit.to_string(),
                    spor_shell::bokmal::lint_rule(&f.rule).into(),
                    bokmal(&f.rule),
                ]);
            }
            writeln!(out, "{table}")?;
            writeln!(out, "{} funn per {}", found.len(), norwegian_date(on))?;
        }
    }
    out.flush()?;
    Ok(())
}

/// The finding as a leader reads it.
fn bokmal(rule: &LintRule) -> String {
    match rule {
        LintRule::PastPlannedEnd { planned_end } => {
            format!(
                "planlagt slutt {} er passert uten avslutning eller forlengelse",
                norwegian_date(*planned_end)
            )
        }
        LintRule::NoEventFor { days, last_event } => {
            format!(
                "ingen hendelse på {days} dager (siste {})",
                norwegian_date(*last_event)
            )
        }
        LintRule::ExitRecordedLate {
            exit_date,
            recorded,
            days,
        } => format!(
            "avslutning {} registrert {} ({days} dager etter)",
            norwegian_date(*exit_date),
            norwegian_date(*recorded)
        ),
        LintRule::LeaveWithoutReturn { leave } => format!(
            "permisjon {}–{} er over, men retur er ikke registrert",
            norwegian_date(leave.from),
            norwegian_date(leave.to)
        ),
        LintRule::UnitNotInCodeTable => "enhetsnummeret finnes ikke i SSBs kodeliste".into(),
        LintRule::RegisteredTwice { other, other_unit } => format!(
            "samme identitetsnummer er registrert hos deltaker {other} i enhet {other_unit} i samme tidsrom"
        ),
    }
}
