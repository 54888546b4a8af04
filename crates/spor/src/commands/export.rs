//! `spor export [--unit U] [FILE|-]`.

use std::collections::BTreeSet;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use anyhow::Context;
use spor_domain::{ParticipantId, UnitCode, wire};
use spor_store::{EventStore, SledStore, StoreError};

use super::Access;
use crate::output::write_file_atomically;
use crate::workspace::Workspace;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Only the events of this unit (municipality or Oslo ward number).
    #[arg(long, value_name = "U")]
    unit: Option<UnitCode>,
    /// Where to write; standard output if left out or -.
    #[arg(value_name = "FILE|-")]
    file: Option<PathBuf>,
}

pub fn run(args: Args, ws: &mut Workspace) -> anyhow::Result<()> {
    let store = ws.store(Access::Existing)?;
    let data = ws.data().to_owned();
    let data = data.as_path();
    // The audit entry names every participant exported, and is durable
    // before the first line is written: so a first pass finds them. The
    // second writes the log only as far as the first read it (inside a
    // server, events may be appended between the two).
    let (participants, through) =
        exported_participants(&store, data, args.unit).context("reading the log")?;
    ws.audit()?.record("spor export", participants)?;
    // A store failure is kept aside so that its kind (damaged data, disk)
    // decides the exit code; the output file is then discarded.
    let mut store_failure: Option<StoreError> = None;
    let mut write = |out: &mut dyn Write| -> io::Result<()> {
        let mut write_failure: Option<io::Error> = None;
        let scanned = store.scan_lines(&mut |seq, line| {
            if seq > through {
                return Ok(());
            }
            if let Some(unit) = args.unit {
                let event = wire::parse_stored(line).map_err(|e| StoreError::Corrupt {
                    dir: data.to_owned(),
                    what: format!("seq {seq}: {e}"),
                })?;
                if event.unit != unit {
                    return Ok(());
                }
            }
            out.write_all(line.as_bytes())
                .and_then(|()| out.write_all(b"\n"))
                .map_err(|e| {
                    let kind = e.kind();
                    write_failure = Some(e);
                    StoreError::Io(io::Error::from(kind))
                })
        });
        if let Some(e) = write_failure {
            return Err(e);
        }
        if let Err(e) = scanned {
            store_failure = Some(e);
            return Err(io::Error::other("reading the log failed"));
        }
        out.flush()
    };
    let result = match args.file.filter(|f| f.as_os_str() != "-") {
        Some(path) => write_file_atomically(&ws.path(&path), write)
            .with_context(|| format!("writing {}", path.display())),
        None => {
            let mut out = io::BufWriter::new(&mut ws.out);
            write(&mut out).context("writing to standard output")
        }
    };
    if let Some(e) = store_failure {
        return Err(e).context("reading the log");
    }
    result
}

/// Who owns a stored line: the two fields the first pass needs, read
/// without building the whole event.
#[derive(serde::Deserialize)]
struct Owner {
    participant: ParticipantId,
    unit: UnitCode,
}

/// The participants whose events an export (of `unit`, or of all) writes,
/// and the last sequence number read.
fn exported_participants(
    store: &SledStore,
    data: &Path,
    unit: Option<UnitCode>,
) -> Result<(BTreeSet<ParticipantId>, u64), StoreError> {
    let mut found = BTreeSet::new();
    let mut through = 0;
    store.scan_lines(&mut |seq, line| {
        through = seq;
        let owner: Owner = serde_json::from_str(line).map_err(|e| StoreError::Corrupt {
            dir: data.to_owned(),
            what: format!("seq {seq}: {e}"),
        })?;
        if unit.is_none_or(|u| u == owner.unit) {
            found.insert(owner.participant);
        }
        Ok(())
    })?;
    Ok((found, through))
}
