//! `spor show PARTICIPANT`: one timeline and its status.

use std::io::Write;

use chrono::{NaiveDate, Utc};
use comfy_table::Table;
use spor_domain::{EventBody, Timeline, wire};
use spor_projections::status::status_of;
use spor_store::EventStore;

use super::Access;
use crate::exit::NotFound;
use crate::output::{Format, mask_person, norwegian_date, norwegian_time, parse_date};
use crate::workspace::Workspace;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The participant's id, or its first few hexadecimal digits (at least
    /// four) where they name one participant.
    participant: String,
    /// The day to take the status on (default: today).
    #[arg(long, value_parser = parse_date)]
    on: Option<NaiveDate>,
    #[arg(long, value_enum, default_value = "table")]
    format: Format,
}

pub fn run(args: Args, ws: &mut Workspace) -> anyhow::Result<()> {
    let participant = super::find_participant(ws, &args.participant)?;
    let store = ws.store(Access::Existing)?;
    let timeline = Timeline::from_entries(store.stream(participant)?);
    let on = args.on.unwrap_or_else(|| Utc::now().date_naive());
    let Some(status) = status_of(participant, &timeline, on) else {
        return Err(NotFound(format!(
            "no participant {participant} in {}",
            ws.data().display()
        ))
        .into());
    };
    ws.audit()?.record("spor show", [participant])?;
    let out = &mut ws.out;
    // Entries in the order the rules read them: by date, then as recorded.
    let mut entries: Vec<_> = timeline.entries().iter().collect();
    entries.sort_by_key(|e| (e.event.date, e.seq));
    match args.format {
        Format::Csv => {
            // One row per event, in the order above; `data` as its JSON,
            // identity numbers masked.
            let mut w = csv::Writer::from_writer(&mut *out);
            w.write_record([
                "participant",
                "unit",
                "seq",
                "event",
                "type",
                "date",
                "recorded_at",
                "by",
                "retracted_by",
                "data",
            ])?;
            for e in &entries {
                let mut v: serde_json::Value =
                    serde_json::from_str(&wire::to_line(&e.event)).unwrap_or_default();
                mask_person(&mut v);
                w.write_record([
                    participant.to_string(),
                    e.event.unit.to_string(),
                    e.seq.to_string(),
                    e.event.id.0.to_string(),
                    e.event.body.kind().to_string(),
                    e.event.date.to_string(),
                    wire::format_time(e.event.recorded_at),
                    e.event.by.clone().unwrap_or_default(),
                    e.retracted_by.map(|r| r.0.to_string()).unwrap_or_default(),
                    v.get("data").map(ToString::to_string).unwrap_or_default(),
                ])?;
            }
            w.flush()?;
        }
        Format::Json => {
            let events: Vec<serde_json::Value> = entries
                .iter()
                .map(|e| {
                    let mut v: serde_json::Value =
                        serde_json::from_str(&wire::to_line(&e.event)).unwrap_or_default();
                    mask_person(&mut v);
                    serde_json::json!({ "seq": e.seq, "event": v, "retracted_by": e.retracted_by.map(|r| r.0) })
                })
                .collect();
            writeln!(
                out,
                "{}",
                serde_json::json!({ "status": status, "timeline": events })
            )?;
        }
        Format::Table => {
            use spor_shell::bokmal;
            // The unit's name on the day asked about, or else when its last
            // event happened (a unit merged away since keeps its old name).
            let last_day = entries.last().map_or(on, |e| e.event.date);
            let unit_name = status
                .unit
                .name_on(on)
                .or_else(|| status.unit.name_on(last_day))
                .unwrap_or("(ikke i SSBs kodeliste)");
            writeln!(out, "deltaker        {participant}")?;
            writeln!(out, "enhet           {} {unit_name}", status.unit)?;
            match (status.exit_kind, status.exit_reason, status.exit_date) {
                // An exit is told with its own last day, not the day asked about.
                (Some(kind), Some(reason), Some(date)) => writeln!(
                    out,
                    "status          avsluttet {}: {}, {}",
                    norwegian_date(date),
                    bokmal::event_kind(kind),
                    bokmal::exit_reason(reason)
                )?,
                _ => writeln!(
                    out,
                    "status          {} (per {})",
                    bokmal::state(status.state),
                    norwegian_date(on)
                )?,
            }
            if let Some(start) = status.started {
                writeln!(out, "startet         {}", norwegian_date(start))?;
            }
            if let Some(end) = status.planned_end {
                writeln!(
                    out,
                    "planlagt slutt  {} ({} måneder, {} forlengelse{}, {} dager i permisjon)",
                    norwegian_date(end),
                    status.months,
                    status.extensions,
                    if status.extensions == 1 { "" } else { "r" },
                    status.leave_days
                )?;
            }
            let mut table = Table::new();
            table
                .load_style(comfy_table::presets::UTF8_FULL_CONDENSED)
                .set_content_arrangement(comfy_table::ContentArrangement::Dynamic);
            table.set_header([
                "dato",
                "hendelse",
                "detaljer",
                "registrert",
                "av",
                "nr.",
                "merknad",
            ]);
            for e in entries {
                let note = match (&e.retracted_by, &e.event.body) {
                    (Some(by), _) => {
                        let why = timeline.get(*by).and_then(|r| match &r.event.body {
                            EventBody::Retracted(x) => {
                                Some((x.why.clone(), r.event.by.clone(), r.event.date))
                            }
                            _ => None,
                        });
                        match why {
                            Some((why, who, when)) => format!(
                                "TRUKKET TILBAKE {} av {}: {why}",
                                norwegian_date(when),
                                who.as_deref().unwrap_or("ukjent")
                            ),
                            None => "TRUKKET TILBAKE".into(),
                        }
                    }
                    (None, EventBody::Retracted(_)) => "trekker tilbake en hendelse".into(),
                    _ => String::new(),
                };
                table.add_row([
                    norwegian_date(e.event.date),
                    bokmal::event_kind(e.event.body.kind()).to_owned(),
                    bokmal::details(&e.event.body),
                    norwegian_time(e.event.recorded_at),
                    e.event.by.clone().unwrap_or_default(),
                    e.seq.to_string(),
                    note,
                ]);
            }
            writeln!(out, "{table}")?;
        }
    }
    Ok(())
}
