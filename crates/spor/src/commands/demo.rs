//! `spor demo`: placeholder until the generator lands.

use std::path::Path;

use crate::settings::Settings;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// How many participants.
    #[arg(long, default_value_t = 500)]
    participants: usize,
    /// The seed; the same seed writes the same log.
    #[arg(long, default_value_t = 2007)]
    seed: u64,
}

pub fn run(_args: Args, _data: &Path, _settings: &Settings) -> anyhow::Result<()> {
    anyhow::bail!("demo generator not built yet")
}
