//! `spor demo`: writes the synthetic demo log into the data directory.

use std::path::Path;

use anyhow::Context;
use spor_demo::DemoSpec;
use spor_domain::Policy;
use spor_domain::person::SyntheticIds;
use spor_domain::wire::Draft;

use super::{Access, open_store};
use crate::exit::Refused;
use spor_shell::{Ingest, IngestError};

use crate::progress::Bar;
use crate::settings::Settings;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// How many people to register (a few move and get a second stream).
    #[arg(long, default_value_t = 500)]
    participants: usize,
    /// The seed; the same seed writes the same log.
    #[arg(long, default_value_t = 2007)]
    seed: u64,
}

pub fn run(args: Args, data: &Path, settings: &Settings) -> anyhow::Result<()> {
    let store = open_store(data, settings, Access::CreateIfMissing)?;
    let ingest = Ingest {
        store: &store,
        // The demo writes only synthetic identity numbers (month + 80), so it
        // accepts them for its own events whatever the configuration says.
        policy: Policy { synthetic_ids: SyntheticIds::Allowed },
        now: spor_demo::RECORDED_BEFORE,
        batch_events: settings.import.batch_events,
        input_len: None,
        progress: &Bar::new(),
        scope: None,
        by: None,
    };
    let spec = DemoSpec { participants: args.participants, seed: args.seed };
    match ingest.drafts(spor_demo::stream(&spec).map(Draft::from)) {
        Ok(done) => {
            eprintln!(
                "demo: wrote {} events for {} people (seed {}) into {} ({} already there)",
                done.stored.len(),
                args.participants,
                args.seed,
                data.display(),
                done.already
            );
            Ok(())
        }
        Err(IngestError::Refused(errors)) => {
            let first = errors.first().map(|e| e.problem.to_string()).unwrap_or_default();
            Err(Refused(format!("the demo log does not fit this data directory: {first}")).into())
        }
        Err(IngestError::Store(e)) => Err(e).context("writing the demo log"),
        Err(IngestError::Read(e)) => Err(e.into()),
    }
}
