//! `spor verify`: the event log and its indexes (the store's own walk), and
//! the audit trail in `audit.log`.



use std::path::Path;




use super::{Access, open_store};
use crate::exit::Findings;
use crate::settings::Settings;

#[derive(Debug, clap::Args)]
pub struct Args {}

pub fn run(_args: Args, data: &Path, settings: &Settings) -> anyhow::Result<()> {
    let store = open_store(data, settings, Access::Existing)?;
    let report = store.verify();
    // The store is held open, so its lock keeps every writer of the audit
    // trail away while it is read.
    let audit = spor_store::audit::check(data);
    for f in report.findings.iter().chain(&audit.findings) {
        println!("{}: {}", f.position, f.problem);
    }
    println!("records {}", report.records);
    println!("head seq {} hash {}", report.head.seq, report.head.hash_hex());
    println!("audit records {}", audit.records);
    if let Some(torn) = &audit.torn {
        println!("note: {torn}");
    }
    let problems = report.findings.len() + audit.findings.len();
    if problems == 0 {
        println!("ok: no problems found");
        Ok(())
    } else {
        Err(Findings(format!("{problems} problem(s) found in {}", data.display())).into())
    }
}
