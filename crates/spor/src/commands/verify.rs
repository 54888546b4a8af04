//! `spor verify`.

use std::path::Path;


use super::{Access, open_store};
use crate::exit::Findings;
use crate::settings::Settings;

#[derive(Debug, clap::Args)]
pub struct Args {}

pub fn run(_args: Args, data: &Path, settings: &Settings) -> anyhow::Result<()> {
    let store = open_store(data, settings, Access::Existing)?;
    let report = store.verify();
    for f in &report.findings {
        println!("{}: {}", f.position, f.problem);
    }
    println!("records {}", report.records);
    println!("head seq {} hash {}", report.head.seq, report.head.hash_hex());
    if report.is_clean() {
        println!("ok: no problems found");
        Ok(())
    } else {
        Err(Findings(format!("{} problem(s) found in {}", report.findings.len(), data.display())).into())
    }
}
