//! `spor verify`: the event log and its indexes (the store's own walk), and
//! the audit trail in `audit.log`.

use std::io::Write;

use super::Access;
use crate::exit::Findings;
use crate::workspace::{Gate, Workspace};

#[derive(Debug, clap::Args)]
pub struct Args {}

pub fn run(_args: Args, ws: &mut Workspace) -> anyhow::Result<()> {
    let store = ws.store(Access::Existing)?;
    // The log must stand still while it and its indexes are walked: here the
    // store's lock keeps every other writer away; inside a server, its
    // writers wait at the gate. The audit trail is read up to its last
    // whole record (a server may add entries meanwhile; see `check`).
    let gate = ws.gate(Gate::Alone);
    let report = store.verify();
    let audit = spor_store::audit::check(store.dir());
    drop(gate);
    let out = &mut ws.out;
    for f in report.findings.iter().chain(&audit.findings) {
        writeln!(out, "{}: {}", f.position, f.problem)?;
    }
    writeln!(out, "records {}", report.records)?;
    writeln!(
        out,
        "head seq {} hash {}",
        report.head.seq,
        report.head.hash_hex()
    )?;
    writeln!(out, "audit records {}", audit.records)?;
    if let Some(torn) = &audit.torn {
        writeln!(out, "note: {torn}")?;
    }
    let problems = report.findings.len() + audit.findings.len();
    if problems == 0 {
        writeln!(out, "ok: no problems found")?;
        Ok(())
    } else {
        Err(Findings(format!(
            "{problems} problem(s) found in {}",
            ws.data().display()
        ))
        .into())
    }
}
