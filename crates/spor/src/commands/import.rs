//! `spor import FILE|-`.

use std::fs::File;
use std::io::{self, BufReader, Write};
use std::path::PathBuf;

use anyhow::Context;
use chrono::{SubsecRound, Utc};
use spor_domain::Rule;
use spor_shell::LineProblem;
use spor_shell::{Ingest, IngestError};

use super::Access;
use crate::exit::Refused;
use crate::workspace::{Gate, Workspace};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The JSON Lines file, or - for standard input.
    #[arg(value_name = "FILE|-")]
    file: PathBuf,
}

impl Args {
    pub fn reads_stdin(&self) -> bool {
        self.file.as_os_str() == "-"
    }
}

pub fn run(args: Args, ws: &mut Workspace) -> anyhow::Result<()> {
    let stdin = args.reads_stdin();
    // Open the input before the store, so a missing file leaves no new directory.
    let (reader, len): (Box<dyn io::BufRead>, Option<u64>) = if stdin {
        (
            Box::new(BufReader::with_capacity(1 << 16, ws.stdin())),
            None,
        )
    } else {
        let f = File::open(ws.path(&args.file))
            .with_context(|| format!("reading {}", args.file.display()))?;
        let len = f.metadata().ok().map(|m| m.len());
        (Box::new(BufReader::with_capacity(1 << 16, f)), len)
    };
    let store = ws.store(Access::CreateIfMissing)?;
    let settings = &ws.settings;
    let progress = ws.progress();
    let ingest = Ingest {
        store: store.as_ref(),
        policy: settings.policy(),
        now: Utc::now().trunc_subsecs(3),
        batch_events: settings.import.batch_events,
        input_len: len,
        progress: progress.as_ref(),
        scope: None,
        by: None,
    };
    let name = if stdin {
        "standard input".to_string()
    } else {
        args.file.display().to_string()
    };
    // Alone: inside a server, no other write may land between the import's
    // first and last batch.
    let gate = ws.gate(Gate::Alone);
    let result = ingest.lines(reader);
    drop(gate);
    match result {
        Ok(done) => {
            ws.appended(&done.stored);
            ws.audit()?
                .record("spor import", done.participants)
                .with_context(|| {
                    format!(
                        "the import is complete ({} events stored)",
                        done.stored.len()
                    )
                })?;
            writeln!(
                ws.err,
                "imported {} events from {name} ({} already stored, skipped)",
                done.stored.len(),
                done.already
            )?;
            Ok(())
        }
        Err(IngestError::Refused(errors)) => {
            // Root causes first, each with its line; then the lines refused
            // only because their participant's registration is not before
            // them (most often because it was refused itself), counted.
            let knock_on = |e: &&spor_shell::LineError| matches!(&e.problem, LineProblem::Refused(r) if r.rule() == Rule::FirstNotRegistered);
            for e in errors.iter().filter(|e| !knock_on(e)) {
                writeln!(ws.err, "{name}: line {}: {}", e.line, e.problem)?;
            }
            let after: Vec<usize> = errors.iter().filter(knock_on).map(|e| e.line).collect();
            if !after.is_empty() {
                let shown: Vec<String> = after.iter().take(10).map(ToString::to_string).collect();
                writeln!(
                    ws.err,
                    "{name}: {} more line{} refused because no registration of the participant comes before {} [rule: first_not_registered]: line{} {}{}",
                    after.len(),
                    if after.len() == 1 { "" } else { "s" },
                    if after.len() == 1 { "it" } else { "them" },
                    if after.len() == 1 { "" } else { "s" },
                    shown.join(", "),
                    if after.len() > shown.len() {
                        ", …"
                    } else {
                        ""
                    }
                )?;
            }
            let stopped = if errors.len() >= spor_shell::ingest::MAX_REFUSED_LINES {
                " (reading stopped there: more lines may be wrong)"
            } else {
                ""
            };
            Err(Refused(format!(
                "{} line{} refused{stopped}; nothing was imported",
                errors.len(),
                if errors.len() == 1 { "" } else { "s" }
            ))
            .into())
        }
        Err(IngestError::Store(e)) => Err(e).context("writing the imported events"),
        Err(IngestError::Read(e)) => Err(e).with_context(|| format!("reading {name}")),
    }
}
