//! `spor followups`: the reminders open on a day (contract §3).

use std::io::{self, Write};

use chrono::NaiveDate;
use comfy_table::Table;
use spor_domain::UnitCode;
use spor_projections::reminders::{Kind, Reminder};
use spor_shell::views::{FollowupsDoc, Units};

use super::Access;
use super::status::load;
use crate::output::{norwegian_date, parse_date};
use crate::settings::ConfigError;
use crate::workspace::Workspace;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The day to list reminders for (YYYY-MM-DD or dd.mm.åååå; default:
    /// today).
    #[arg(long, value_parser = parse_date)]
    on: Option<NaiveDate>,
    /// Only this unit.
    #[arg(long, value_name = "U")]
    unit: Option<UnitCode>,
    /// Reminders due within this many days of --on (default from the configuration, 14).
    #[arg(long, value_name = "DAYS")]
    within: Option<u32>,
    /// table, json, csv, or ics (an iCalendar file of one unit's reminders).
    #[arg(long, value_enum, default_value = "table")]
    format: FollowupFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum FollowupFormat {
    Table,
    Json,
    Csv,
    /// All-day events with stable UIDs, for advisers' calendars; needs --unit.
    Ics,
}

pub fn run(args: Args, ws: &mut Workspace) -> anyhow::Result<()> {
    if args.format == FollowupFormat::Ics && args.unit.is_none() {
        return Err(
            ConfigError("--format ics writes one unit's calendar: give --unit".into()).into(),
        );
    }
    let store = ws.store(Access::Existing)?;
    let projections = load(store.as_ref(), &ws.settings)?;
    let on = args.on.unwrap_or_else(|| chrono::Utc::now().date_naive());
    let within = args.within.unwrap_or(ws.settings.reminders.within_days);
    let units = args.unit.map(|u| [u]);
    let scope = units.as_ref().map_or(Units::All, |u| Units::Only(u));
    let items = FollowupsDoc::reminders(
        &projections,
        scope,
        on,
        within,
        &ws.settings.reminders.rules(),
    );
    ws.audit()?
        .record("spor followups", items.iter().map(|r| r.participant))?;
    let mut out = io::BufWriter::new(&mut ws.out);
    match args.format {
        FollowupFormat::Ics => {
            out.write_all(calendar(&items, on, chrono::Utc::now()).as_bytes())?;
        }
        FollowupFormat::Json => {
            serde_json::to_writer(&mut out, &FollowupsDoc::of(on, &items))?;
            writeln!(out)?;
        }
        FollowupFormat::Csv => {
            let mut w = csv::Writer::from_writer(&mut out);
            w.write_record(["participant", "unit", "kind", "due", "overdue"])?;
            for r in &items {
                w.write_record([
                    r.participant.to_string(),
                    r.unit.to_string(),
                    r.kind.as_str().into(),
                    r.due.to_string(),
                    r.overdue.to_string(),
                ])?;
            }
            w.flush()?;
        }
        FollowupFormat::Table => {
            // What an adviser reads on a Monday morning: overdue first, then by due date.
            let mut sorted: Vec<&Reminder> = items.iter().collect();
            sorted.sort_by_key(|r| (!r.overdue, r.due, r.unit, r.participant));
            let mut table = Table::new();
            table.load_style(comfy_table::presets::UTF8_FULL_CONDENSED);
            table.set_header([
                "deltaker",
                "enhet",
                "oppfølging",
                "frist",
                "dager over frist",
            ]);
            for r in sorted {
                let late = (on - r.due).num_days();
                table.add_row([
                    r.participant.to_string(),
                    r.unit.to_string(),
                    bokmal(r),
                    norwegian_date(r.due),
                    if r.overdue {
                        late.to_string()
                    } else {
                        String::new()
                    },
                ]);
            }
            writeln!(
                out,
                "Oppfølging per {} (frist innen {within} dager)",
                norwegian_date(on)
            )?;
            writeln!(out, "{table}")?;
            writeln!(
                out,
                "{} åpne, {} over frist",
                items.len(),
                items.iter().filter(|r| r.overdue).count()
            )?;
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
        Kind::PostExit => format!(
            "Kontakt {} måneder etter avslutning",
            r.months_after_exit.unwrap_or(0)
        ),
        Kind::Stale => "Ingen registrering på lenge".into(),
    }
}

/// The reminders as an iCalendar file: one all-day event per reminder on
/// its due date (exclusive end the next day), or, when it is already
/// overdue, on the day the feed is made for (`on`), with the due date in
/// its text, so nothing open hides on a past day nobody looks at. The UID
/// stays the same when the due date moves, so a calendar that imports the
/// file again updates instead of duplicating. DTSTAMP is when the file was
/// made (`made`), PRODID spor's own. No identity number or other personal
/// data: the summary names the kind and the name-free participant id.
fn calendar(items: &[Reminder], on: NaiveDate, made: chrono::DateTime<chrono::Utc>) -> String {
    use icalendar::{Calendar, Component, Event, EventLike};
    let mut cal = Calendar::empty();
    cal.append_property(("VERSION", "2.0"))
        .append_property((
            "PRODID",
            concat!("-//spor//oppfølging ", env!("CARGO_PKG_VERSION"), "//NB"),
        ))
        .append_property(("CALSCALE", "GREGORIAN"));
    cal.name("spor: oppfølging");
    for r in items {
        let identity = match r.kind {
            // A leave's reminder is tied to that leave, whose end never moves.
            Kind::LeaveEnds => format!("{}-{}", r.kind.as_str(), r.due),
            Kind::PostExit => format!("{}-{}", r.kind.as_str(), r.months_after_exit.unwrap_or(0)),
            _ => r.kind.as_str().to_owned(),
        };
        let short = &r.participant.to_string()[..8];
        let overdue = r.due < on;
        let day = if overdue { on } else { r.due };
        let summary = if overdue {
            format!(
                "Forfalt {}: {} (deltaker {short})",
                norwegian_date(r.due),
                bokmal(r)
            )
        } else {
            format!("{} (deltaker {short})", bokmal(r))
        };
        let event = Event::new()
            .uid(&format!("{}-{identity}@spor", r.participant))
            .timestamp(made)
            .summary(&summary)
            .description(&format!(
                "Forfaller {}. Deltaker-id {} i enhet {}. Åpne spor for detaljer.",
                norwegian_date(r.due),
                r.participant,
                r.unit
            ))
            .starts(day)
            .ends(day.succ_opt().unwrap_or(day))
            .done();
        cal.push(event);
    }
    cal.done().to_string()
}
