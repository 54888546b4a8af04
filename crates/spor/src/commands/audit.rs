//! `spor audit --participant P | --user NAME`: the audit trail read back,
//! oldest first. With --participant it answers "who has seen my data"
//! (reliability AU4); with --user, "what has this account or operator done".
//!
//! Reading the trail is itself audited: before anything is printed, one
//! entry is recorded naming P, or every participant the listed entries name.

use std::collections::BTreeSet;
use std::io::{self, Write};

use anyhow::Context;
use comfy_table::Table;
use spor_domain::ParticipantId;
use spor_domain::wire::format_time;
use spor_store::AuditEntry;
use uuid::Uuid;

use crate::output::Format;
use crate::workspace::Workspace;

/// Participant ids a table cell shows before it says how many more there are.
const IDS_IN_A_CELL: usize = 3;

#[derive(Debug, clap::Args)]
#[command(group = clap::ArgGroup::new("whose").required(true).args(["participant", "user"]))]
pub struct Args {
    /// The entries naming this participant: every read and write of their
    /// data.
    #[arg(long, value_name = "P")]
    participant: Option<Uuid>,
    /// The entries made by this account, or by this operating-system user at
    /// the command line.
    #[arg(long, value_name = "NAME")]
    user: Option<String>,
    #[arg(long, value_enum, default_value = "table")]
    format: Format,
}

pub fn run(args: Args, ws: &mut Workspace) -> anyhow::Result<()> {
    let audit = ws.audit()?;
    let wanted = args.participant.map(ParticipantId);
    let mut entries: Vec<AuditEntry> = Vec::new();
    audit
        .log()
        .entries(&mut |e| {
            let keep = match (&wanted, &args.user) {
                (Some(p), _) => e.participants.contains(p),
                (None, Some(who)) => &e.who == who,
                (None, None) => false,
            };
            if keep {
                entries.push(e);
            }
        })
        .context("reading the audit trail")?;
    let named: BTreeSet<ParticipantId> = match wanted {
        Some(p) => BTreeSet::from([p]),
        None => entries
            .iter()
            .flat_map(|e| e.participants.iter().copied())
            .collect(),
    };
    audit.record("spor audit", named)?;

    let mut out = io::BufWriter::new(&mut ws.out);
    match args.format {
        Format::Json => {
            serde_json::to_writer(&mut out, &serde_json::json!({ "entries": entries }))?;
            writeln!(out)?;
        }
        Format::Csv => {
            let mut w = csv::Writer::from_writer(&mut out);
            w.write_record([
                "id",
                "at",
                "who",
                "role",
                "units",
                "action",
                "from",
                "participants",
            ])?;
            for e in &entries {
                w.write_record([
                    e.id.to_string(),
                    format_time(e.at),
                    e.who.clone(),
                    e.role.clone(),
                    e.units.join(" "),
                    e.action.clone(),
                    e.from.clone(),
                    ids(&e.participants).join(" "),
                ])?;
            }
            w.flush()?;
        }
        Format::Table => {
            let mut table = Table::new();
            table.load_style(comfy_table::presets::UTF8_FULL_CONDENSED);
            table.set_header([
                "at",
                "who",
                "role",
                "units",
                "action",
                "from",
                "participants",
            ]);
            for e in &entries {
                table.add_row([
                    format_time(e.at),
                    e.who.clone(),
                    e.role.clone(),
                    e.units.join(" "),
                    e.action.clone(),
                    e.from.clone(),
                    cell(&e.participants),
                ]);
            }
            writeln!(out, "{table}")?;
            writeln!(
                out,
                "{} entr{}",
                entries.len(),
                if entries.len() == 1 { "y" } else { "ies" }
            )?;
        }
    }
    out.flush()?;
    Ok(())
}

fn ids(participants: &[ParticipantId]) -> Vec<String> {
    participants.iter().map(ToString::to_string).collect()
}

/// The participants of an entry in a table: the first few, then how many more.
fn cell(participants: &[ParticipantId]) -> String {
    let mut shown = ids(&participants[..participants.len().min(IDS_IN_A_CELL)]).join("\n");
    if participants.len() > IDS_IN_A_CELL {
        shown.push_str(&format!(
            "\n… and {} more",
            participants.len() - IDS_IN_A_CELL
        ));
    }
    shown
}
