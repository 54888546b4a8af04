//! `spor import FILE|-`.

use std::fs::File;
use std::io::{self, BufReader};
use std::path::{Path, PathBuf};

use anyhow::Context;
use chrono::{SubsecRound, Utc};

use super::{Access, open_store};
use crate::exit::Refused;
use spor_shell::{Ingest, IngestError};

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
    };
    let name = if stdin { "standard input".to_string() } else { args.file.display().to_string() };
    match ingest.lines(reader) {
        Ok(done) => {
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
            Err(Refused(format!(
                "{} line{} refused; nothing was imported",
                errors.len(),
                if errors.len() == 1 { "" } else { "s" }
            ))
            .into())
        }
        Err(IngestError::Store(e)) => Err(e).context("writing the imported events"),
        Err(IngestError::Read(e)) => Err(e).with_context(|| format!("reading {name}")),
    }
}
