//! `spor demo`: writes the synthetic demo log into the data directory.

use std::io::Write;

use anyhow::Context;
use spor_demo::DemoSpec;
use spor_domain::Policy;
use spor_domain::person::SyntheticIds;
use spor_domain::wire::Draft;

use super::Access;
use crate::exit::Refused;
use spor_shell::{Ingest, IngestError};

use crate::workspace::{Gate, Workspace};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// How many people to register (a few move and get a second stream).
    #[arg(long, default_value_t = 500)]
    participants: usize,
    /// The seed; the same seed writes the same log.
    #[arg(long, default_value_t = 2007)]
    seed: u64,
}

pub fn run(args: Args, ws: &mut Workspace) -> anyhow::Result<()> {
    let store = ws.store(Access::CreateIfMissing)?;
    let progress = ws.progress();
    let ingest = Ingest {
        store: store.as_ref(),
        // The demo writes only synthetic identity numbers (month + 80), so it
        // accepts them for its own events whatever the configuration says.
        policy: Policy {
            synthetic_ids: SyntheticIds::Allowed,
        },
        now: spor_demo::RECORDED_BEFORE,
        batch_events: ws.settings.import.batch_events,
        input_len: None,
        progress: progress.as_ref(),
        scope: None,
        by: None,
    };
    let spec = DemoSpec {
        participants: args.participants,
        seed: args.seed,
    };
    // Alone, as an import: written all or nothing.
    let gate = ws.gate(Gate::Alone);
    let result = ingest.drafts(spor_demo::stream(&spec).map(Draft::from));
    drop(gate);
    match result {
        Ok(done) => {
            ws.appended(&done.stored);
            let data = ws.data().display().to_string();
            writeln!(
                ws.err,
                "demo: wrote {} events for {} people (seed {}) into {} ({} already there)",
                done.stored.len(),
                args.participants,
                args.seed,
                data,
                done.already
            )?;
            Ok(())
        }
        Err(IngestError::Refused(errors)) => {
            let first = errors
                .first()
                .map(|e| e.problem.to_string())
                .unwrap_or_default();
            Err(Refused(format!(
                "the demo log does not fit this data directory: {first}"
            ))
            .into())
        }
        Err(IngestError::Store(e)) => Err(e).context("writing the demo log"),
        Err(IngestError::Read(e)) => Err(e.into()),
    }
}
