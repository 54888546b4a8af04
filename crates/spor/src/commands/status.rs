//! `spor status [--unit U] [--format table|json|csv]`.

use std::io::{self, Write};

use chrono::{NaiveDate, Utc};
use comfy_table::Table;
use spor_domain::UnitCode;
use spor_projections::Projections;
use spor_projections::status::Status;
use spor_shell::views::{StatusDoc, Units};
use spor_store::EventStore;

use super::Access;
use crate::output::{Format, norwegian_date, parse_date};
use crate::settings::Settings;
use crate::workspace::Workspace;
use spor_shell::bokmal;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Only this unit (municipality or Oslo ward number).
    #[arg(long, value_name = "U")]
    unit: Option<UnitCode>,
    /// The day to take the status on (default: today).
    #[arg(long, value_parser = parse_date)]
    on: Option<NaiveDate>,
    #[arg(long, value_enum, default_value = "table")]
    format: Format,
}

/// Folds the whole log into projections and settles every timeline, with
/// the configured reminder rules.
pub fn load(store: &dyn EventStore, settings: &Settings) -> anyhow::Result<Projections> {
    Ok(spor_shell::Projector::rebuild(store, settings.reminders.rules())?.into_inner())
}

pub fn run(args: Args, ws: &mut Workspace) -> anyhow::Result<()> {
    let store = ws.store(Access::Existing)?;
    let projections = load(store.as_ref(), &ws.settings)?;
    let on = args.on.unwrap_or_else(|| Utc::now().date_naive());
    let units = args.unit.map(|u| [u]);
    let scope = units.as_ref().map_or(Units::All, |u| Units::Only(u));
    let doc = StatusDoc::new(&projections, scope, args.unit, on);
    let rows = &doc.participants;
    ws.audit()?
        .record("spor status", rows.iter().map(|s| s.participant))?;
    if let Some(unit) = args.unit.filter(|_| rows.is_empty()) {
        // An empty list is an answer, but say what it means.
        match unit.name_on(on) {
            Some(name) => writeln!(
                ws.err,
                "spor: unit {unit} ({name}) has no participants on {}",
                norwegian_date(on)
            )?,
            None => writeln!(
                ws.err,
                "spor: unit {unit} has no participants on {}, and is not in Statistics Norway's code table then; check the number",
                norwegian_date(on)
            )?,
        }
    }
    let mut out = io::BufWriter::new(&mut ws.out);
    match args.format {
        Format::Json => {
            serde_json::to_writer(&mut out, &doc)?;
            writeln!(out)?;
        }
        Format::Csv => {
            let mut w = csv::Writer::from_writer(&mut out);
            w.write_record([
                "participant",
                "unit",
                "state",
                "exit_kind",
                "exit_reason",
                "exit_date",
                "started",
                "months",
                "extensions",
                "leave_days",
                "planned_end",
                "last_event",
            ])?;
            for s in rows {
                w.write_record(csv_row(s))?;
            }
            w.flush()?;
        }
        Format::Table => {
            let mut table = Table::new();
            table
                .load_style(comfy_table::presets::UTF8_FULL_CONDENSED)
                .set_content_arrangement(comfy_table::ContentArrangement::Dynamic);
            table.set_header([
                "deltaker",
                "enhet",
                "status",
                "startet",
                "planlagt slutt",
                "dager i permisjon",
                "siste hendelse",
            ]);
            for s in rows {
                let state = match (s.exit_kind, s.exit_reason, s.exit_date) {
                    (Some(k), Some(r), Some(d)) => format!(
                        "avsluttet {} ({}: {})",
                        norwegian_date(d),
                        bokmal::event_kind(k),
                        bokmal::exit_reason(r)
                    ),
                    _ => bokmal::state(s.state).to_owned(),
                };
                table.add_row([
                    s.participant.to_string(),
                    s.unit.to_string(),
                    state,
                    s.started.map(norwegian_date).unwrap_or_default(),
                    s.planned_end.map(norwegian_date).unwrap_or_default(),
                    s.leave_days.to_string(),
                    s.last_event.map(norwegian_date).unwrap_or_default(),
                ]);
            }
            writeln!(out, "{table}")?;
            writeln!(
                out,
                "{} deltaker{} per {}",
                rows.len(),
                if rows.len() == 1 { "" } else { "e" },
                norwegian_date(on)
            )?;
        }
    }
    out.flush()?;
    Ok(())
}

fn csv_row(s: &Status) -> Vec<String> {
    let d = |x: Option<NaiveDate>| x.map(|d| d.to_string()).unwrap_or_default();
    vec![
        s.participant.to_string(),
        s.unit.to_string(),
        s.state.as_str().to_string(),
        s.exit_kind.map(|k| k.to_string()).unwrap_or_default(),
        s.exit_reason.unwrap_or_default().to_string(),
        d(s.exit_date),
        d(s.started),
        s.months.to_string(),
        s.extensions.to_string(),
        s.leave_days.to_string(),
        d(s.planned_end),
        d(s.last_event),
    ]
}
