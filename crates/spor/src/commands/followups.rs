//! `spor followups`: the reminders open on a day (contract §3).

use std::io::{self, Write};
use std::path::Path;

use chrono::NaiveDate;
use comfy_table::Table;
use spor_domain::UnitCode;
use spor_projections::reminders::{Kind, Reminder, list};

use super::status::load;
use super::{Access, open_store};
use crate::output::{Format, norwegian_date, parse_date};
use crate::settings::Settings;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The day to list reminders for.
    #[arg(long, value_parser = parse_date)]
    on: NaiveDate,
    /// Only this unit.
    #[arg(long, value_name = "U")]
    unit: Option<UnitCode>,
    /// Reminders due within this many days of --on (default from the configuration, 14).
    #[arg(long, value_name = "DAYS")]
    within: Option<u32>,
    #[arg(long, value_enum, default_value = "table")]
    format: Format,
}

pub fn run(args: Args, data: &Path, settings: &Settings) -> anyhow::Result<()> {
    let store = open_store(data, settings, Access::Existing)?;
    let projections = load(&store)?;
    let within = args.within.unwrap_or(settings.reminders.within_days);
    let items = list(&projections, args.on, args.unit, within, &settings.reminders.rules());
    let stdout = io::stdout();
    let mut out = io::BufWriter::new(stdout.lock());
    match args.format {
        Format::Json => {
            // Fields in the contract's order.
            #[derive(serde::Serialize)]
            struct Item<'a> {
                participant: &'a spor_domain::ParticipantId,
                unit: &'a UnitCode,
                kind: Kind,
                due: NaiveDate,
                overdue: bool,
            }
            #[derive(serde::Serialize)]
            struct Doc<'a> {
                on: NaiveDate,
                items: Vec<Item<'a>>,
            }
            let items = items
                .iter()
                .map(|r| Item { participant: &r.participant, unit: &r.unit, kind: r.kind, due: r.due, overdue: r.overdue })
                .collect();
            serde_json::to_writer(&mut out, &Doc { on: args.on, items })?;
            writeln!(out)?;
        }
        Format::Csv => {
            let mut w = csv::Writer::from_writer(&mut out);
            w.write_record(["participant", "unit", "kind", "due", "overdue"])?;
            for r in &items {
                w.write_record([r.participant.to_string(), r.unit.to_string(), r.kind.as_str().into(), r.due.to_string(), r.overdue.to_string()])?;
            }
            w.flush()?;
        }
        Format::Table => {
            // What an adviser reads on a Monday morning: overdue first, then by due date.
            let mut sorted: Vec<&Reminder> = items.iter().collect();
            sorted.sort_by_key(|r| (!r.overdue, r.due, r.unit, r.participant));
            let mut table = Table::new();
            table.load_style(comfy_table::presets::UTF8_FULL_CONDENSED);
            table.set_header(["deltaker", "enhet", "oppfølging", "frist", "dager over frist"]);
            for r in sorted {
                let late = (args.on - r.due).num_days();
                table.add_row([
                    r.participant.to_string(),
                    r.unit.to_string(),
                    bokmal(r),
                    norwegian_date(r.due),
                    if r.overdue { late.to_string() } else { String::new() },
                ]);
            }
            writeln!(out, "Oppfølging per {} (frist innen {within} dager)", norwegian_date(args.on))?;
            writeln!(out, "{table}")?;
            writeln!(out, "{} åpne, {} over frist", items.len(), items.iter().filter(|r| r.overdue).count())?;
        }
    }
    out.flush()?;
    Ok(())
}

/// The kind in plain Norwegian.
fn bokmal(r: &Reminder) -> String {
    match r.kind {
        Kind::LeaveEnds => "Permisjon slutter".into(),
        Kind::NavHandover => "Overlevering til NAV".into(),
        Kind::PlannedEnd => "Planlagt slutt på programmet".into(),
        Kind::PostExit => format!("Kontakt {} måneder etter avslutning", r.months_after_exit.unwrap_or(0)),
        Kind::Stale => "Ingen registrering på lenge".into(),
    }
}
