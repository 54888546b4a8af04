//! `spor import FILE|-`.

use std::collections::{BTreeSet, HashSet};
use std::fs::File;
use std::io::{self, BufReader};
use std::path::{Path, PathBuf};

use anyhow::Context;
use chrono::{SubsecRound, Utc};

use super::{Access, open_store};
use crate::exit::Refused;
use crate::operator_audit;
use spor_domain::ParticipantId;
use spor_shell::{Ingest, IngestError, Ingested};
use spor_store::{EventStore, SledStore, StoreError};

use crate::progress::Bar;
use crate::settings::Settings;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The JSON Lines file, or - for standard input.
    #[arg(value_name = "FILE|-")]
    file: PathBuf,
}

pub fn run(args: Args, data: &Path, settings: &Settings) -> anyhow::Result<()> {
    let stdin = args.file.as_os_str() == "-";
    // Open the input before the store, so a missing file leaves no new directory.
    let (reader, len): (Box<dyn io::BufRead>, Option<u64>) = if stdin {
        (Box::new(io::stdin().lock()), None)
    } else {
        let f = File::open(&args.file).with_context(|| format!("reading {}", args.file.display()))?;
        let len = f.metadata().ok().map(|m| m.len());
        (Box::new(BufReader::with_capacity(1 << 16, f)), len)
    };
    let store = open_store(data, settings, Access::CreateIfMissing)?;
    let ingest = Ingest {
        store: &store,
        policy: settings.policy(),
        now: Utc::now().trunc_subsecs(3),
        batch_events: settings.import.batch_events,
        input_len: len,
        progress: &Bar::new(),
        scope: None,
        by: None,
    };
    let name = if stdin { "standard input".to_string() } else { args.file.display().to_string() };
    match ingest.lines(reader) {
        Ok(done) => {
            let written = written_participants(&store, &done).context("reading back the imported events")?;
            operator_audit::record(&store, "spor import", written)
                .with_context(|| format!("the import is complete ({} events stored)", done.stored.len()))?;
            eprintln!(
                "imported {} events from {name} ({} already stored, skipped)",
                done.stored.len(),
                done.already
            );
            Ok(())
        }
        Err(IngestError::Refused(errors)) => {
            for e in &errors {
                eprintln!("{name}: line {}: {}", e.line, e.problem);
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

/// The participants whose events this import stored. The import held the
/// store's lock, so every event from its first sequence number on is its
/// own; one scan from there finds them.
fn written_participants(store: &SledStore, done: &Ingested) -> Result<BTreeSet<ParticipantId>, StoreError> {
    let mut found = BTreeSet::new();
    let Some(first) = done.stored.iter().map(|(seq, _)| *seq).min() else {
        return Ok(found);
    };
    let ours: HashSet<u64> = done.stored.iter().map(|(seq, _)| *seq).collect();
    store.scan(first, &mut |seq, event| {
        if ours.contains(&seq) {
            found.insert(event.participant);
        }
        Ok(())
    })?;
    Ok(found)
}
