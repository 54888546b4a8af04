//! `spor log`: append one event and print it as stored.

use std::io::{Read, Write};

use anyhow::Context;
use chrono::{NaiveDate, SubsecRound, Utc};
use spor_domain::wire::{self, Draft};
use spor_domain::{EventKind, ParticipantId, UnitCode};
use uuid::Uuid;

use super::Access;
use crate::exit::Refused;
use crate::output::parse_date;
use crate::workspace::{Gate, Workspace};
use spor_shell::{AppendError, Expected, append_one};
use spor_store::EventStore;

#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:\n  \
spor log --type started --participant 6f1c… --unit 0301 --date 2006-03-01 --by adviser-17\n  \
spor log --type granted --participant 6f1c… --unit 0301 --date 2006-02-20 --fields '{\"months\":24}'\n  \
spor log --json '{\"id\":\"…\",\"participant\":\"…\",\"unit\":\"0301\",\"type\":\"claimed\",\"date\":\"2006-01-10\",\"data\":{}}'")]
pub struct Args {
    /// The whole event as one JSON line (contract §1), or - to read it from
    /// standard input. Excludes the flags below.
    #[arg(long, value_name = "LINE|-", conflicts_with_all = ["kind", "participant", "unit", "date", "fields", "id", "by"])]
    json: Option<String>,
    /// The event type, e.g. started, leave_granted, completed.
    #[arg(long = "type", value_name = "TYPE", required_unless_present = "json")]
    kind: Option<EventKind>,
    /// The participant's id. Leave out with --type registered to start a new stream.
    #[arg(long)]
    participant: Option<String>,
    /// The unit (municipality or Oslo ward number).
    #[arg(long, required_unless_present = "json")]
    unit: Option<UnitCode>,
    /// The date it took effect (YYYY-MM-DD); for exits, the last day in the programme.
    #[arg(long, value_parser = parse_date, required_unless_present = "json")]
    date: Option<NaiveDate>,
    /// The type's own fields as a JSON object, e.g. '{"months":24}'.
    #[arg(long, value_name = "JSON")]
    fields: Option<String>,
    /// The event's id; a new one is made if left out.
    #[arg(long)]
    id: Option<Uuid>,
    /// Who logs it.
    #[arg(long)]
    by: Option<String>,
}

impl Args {
    pub fn reads_stdin(&self) -> bool {
        self.json.as_deref() == Some("-")
    }
}

pub fn run(args: Args, ws: &mut Workspace) -> anyhow::Result<()> {
    let line = match &args.json {
        Some(j) if j == "-" => {
            let mut s = String::new();
            ws.stdin()
                .take(u64::try_from(wire::MAX_LINE_BYTES + 1)?)
                .read_to_string(&mut s)
                .context("reading standard input")?;
            s.trim().to_owned()
        }
        Some(j) => j.clone(),
        None => {
            // A short id is looked up in the log (`6f1c` for `6f1c…`).
            let participant = match &args.participant {
                Some(text) => Some(super::find_participant(ws, text)?),
                None => None,
            };
            line_from_flags(&args, participant)?
        }
    };
    let draft: Draft = wire::parse_line(&line).map_err(|e| Refused(e.to_string()))?;
    let participant = draft.participant;
    let store = ws.store(Access::Existing)?;
    let now = Utc::now().trunc_subsecs(3);
    let gate = ws.gate(Gate::Shared);
    let appended = append_one(
        store.as_ref(),
        draft,
        Expected::Any,
        &ws.settings.policy(),
        now,
        &Draft::same_as,
    );
    drop(gate);
    match appended {
        // The stored line as it is, so the output shows the canonical form.
        Ok(done) => {
            if done.fresh {
                ws.appended(&[(done.seq, done.event.id)]);
            }
            ws.audit()?
                .record("spor log", [done.event.participant])
                .with_context(|| {
                    format!("event {} was stored as seq {}", done.event.id, done.seq)
                })?;
            // As stored, with the identity number masked as everywhere
            // spor prints events.
            let mut event = wire::to_line(&done.event);
            if let spor_domain::EventBody::Registered(r) = &done.event.body {
                event = event.replacen(
                    &format!("\"person\":\"{}\"", r.person.expose()),
                    &format!("\"person\":\"{}\"", r.person.masked()),
                    1,
                );
            }
            writeln!(ws.out, "{{\"seq\":{},\"event\":{event}}}", done.seq)?;
            Ok(())
        }
        Err(AppendError::Store(e)) => Err(e.into()),
        // An event for a participant the log does not hold is most often a
        // mistyped id: say that, rather than which event must come first.
        Err(AppendError::Refused(r))
            if r.rule() == spor_domain::Rule::FirstNotRegistered
                && store.stream(participant).is_ok_and(|s| s.is_empty()) =>
        {
            Err(crate::exit::NotFound(format!(
                "no participant {participant} in {}; a new participant begins with `registered`",
                ws.data().display()
            ))
            .into())
        }
        Err(refused) => Err(Refused(refused.to_string()).into()),
    }
}

fn line_from_flags(args: &Args, participant: Option<ParticipantId>) -> anyhow::Result<String> {
    let kind = args.kind.context("--type is required")?;
    let participant = match (participant, kind) {
        (Some(p), _) => p.0,
        (None, EventKind::Registered) => Uuid::new_v4(),
        (None, _) => {
            return Err(Refused(
                "--participant is required (only `registered` starts a new stream)".into(),
            )
            .into());
        }
    };
    let fields: serde_json::Value = match &args.fields {
        Some(f) => serde_json::from_str(f)
            .map_err(|e| Refused(format!("--fields is not a JSON object: {e}")))?,
        None => serde_json::json!({}),
    };
    let mut obj = serde_json::json!({
        "id": args.id.unwrap_or_else(Uuid::new_v4),
        "participant": participant,
        "unit": args.unit.context("--unit is required")?.as_str(),
        "type": kind.as_str(),
        "date": args.date.context("--date is required")?,
        "data": fields,
    });
    if let Some(by) = &args.by {
        obj["by"] = serde_json::Value::String(by.clone());
    }
    Ok(obj.to_string())
}
