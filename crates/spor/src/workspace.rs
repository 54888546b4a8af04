//! Where a command runs: the data directory it works on, with its settings
//! and its standard streams. Either this process opens the directory itself
//! (when a command first asks for the store), or a running `spor serve`
//! holds it and the command runs inside the server, on the server's open
//! store, accounts and audit trail (`relay.rs`). A command reads and writes
//! only through this, so it is the same code both ways, and prints the same.

use std::cell::OnceCell;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, PoisonError, RwLockReadGuard, RwLockWriteGuard};

use anyhow::Context;
use spor_accounts::{AccountStore, SledAccounts};
use spor_domain::EventId;
use spor_server::App;
use spor_shell::{Progress, Silent};
use spor_store::{AuditLog, RealDisk, SledStore};

use crate::commands::{Access, open_store};
use crate::operator_audit::OperatorAudit;
use crate::progress::Bar;
use crate::settings::Settings;

/// What a running server lends a command it runs for a client: its open
/// stores and itself, for the write gate and to hear of appended events.
pub struct Held {
    pub store: Arc<SledStore>,
    pub accounts: Arc<dyn AccountStore>,
    pub audit: Arc<AuditLog>,
    pub app: Arc<App>,
}

enum Place {
    /// This process opens DIR, once, when a command first asks.
    Own {
        store: OnceCell<Arc<SledStore>>,
        audit: OnceCell<Arc<AuditLog>>,
    },
    /// A server holds DIR; the command came from a client in `cwd`.
    Server { held: Arc<Held>, cwd: PathBuf },
}

/// One command's data directory, settings and standard streams.
pub struct Workspace {
    /// DIR as the user named it: messages show it so.
    data: PathBuf,
    /// The configuration this command runs with (the client's, through a server).
    pub settings: Settings,
    place: Place,
    /// Standard output (the client's, through a server).
    pub out: Box<dyn Write + Send>,
    /// Standard error (the client's, through a server).
    pub err: Box<dyn Write + Send>,
    stdin: Option<Box<dyn Read + Send>>,
}

/// How a write of the log goes past writers inside a server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Gate {
    /// Beside other single appends (`spor log`).
    Shared,
    /// With no other write at the same time: an import (the store takes
    /// back everything since an import began if it does not end), and
    /// `verify` (the log must stand still while it is walked).
    Alone,
}

/// Held while a write passes the gate; nothing for a process that opened
/// DIR itself (its lock keeps every other writer out).
pub enum Passage<'a> {
    Free,
    Shared(#[allow(dead_code, reason = "held for its drop")] RwLockReadGuard<'a, ()>),
    Alone(#[allow(dead_code, reason = "held for its drop")] RwLockWriteGuard<'a, ()>),
}

impl Workspace {
    /// A command run here, on the process's own standard streams.
    pub fn local(data: PathBuf, settings: Settings) -> Self {
        Self {
            data,
            settings,
            place: Place::Own {
                store: OnceCell::new(),
                audit: OnceCell::new(),
            },
            out: Box::new(io::stdout()),
            err: Box::new(io::stderr()),
            stdin: Some(Box::new(io::stdin())),
        }
    }

    /// A command a server runs for a client in `cwd`, on what it holds.
    pub fn in_server(
        held: Arc<Held>,
        data: PathBuf,
        settings: Settings,
        cwd: PathBuf,
        io: spor_server::socket::CommandIo,
    ) -> Self {
        Self {
            data,
            settings,
            place: Place::Server { held, cwd },
            out: io.stdout,
            err: io.stderr,
            stdin: Some(io.stdin),
        }
    }

    /// The data directory as the user named it, for messages.
    pub fn data(&self) -> &Path {
        &self.data
    }

    /// The event store. Opened on the first call here (with `access`);
    /// inside a server, the server's.
    pub fn store(&self, access: Access) -> anyhow::Result<Arc<SledStore>> {
        match &self.place {
            Place::Own { store, .. } => {
                if let Some(s) = store.get() {
                    return Ok(Arc::clone(s));
                }
                let opened = Arc::new(open_store(&self.data, &self.settings, access)?);
                Ok(Arc::clone(store.get_or_init(|| opened)))
            }
            Place::Server { held, .. } => Ok(Arc::clone(&held.store)),
        }
    }

    /// The accounts and tokens, in the store opened with `access`.
    pub fn accounts(&self, access: Access) -> anyhow::Result<Arc<dyn AccountStore>> {
        match &self.place {
            Place::Own { .. } => Ok(Arc::new(SledAccounts::open(self.store(access)?.sled())?)),
            Place::Server { held, .. } => Ok(Arc::clone(&held.accounts)),
        }
    }

    /// The audit trail, to record this run in or to read. Here it is opened
    /// in the open store's directory (once); inside a server it is the
    /// server's, so that every entry joins the one hash chain in order.
    pub fn audit(&self) -> anyhow::Result<OperatorAudit> {
        let log: Arc<AuditLog> = match &self.place {
            Place::Own { audit, .. } => match audit.get() {
                Some(log) => Arc::clone(log),
                None => {
                    let store = self.store(Access::Existing)?;
                    let opened =
                        AuditLog::open(store.dir(), Box::new(RealDisk)).with_context(|| {
                            format!("opening the audit trail in {}", store.dir().display())
                        })?;
                    Arc::clone(audit.get_or_init(|| Arc::new(opened)))
                }
            },
            Place::Server { held, .. } => Arc::clone(&held.audit),
        };
        OperatorAudit::new(log)
    }

    /// Standard input, once; empty after that.
    pub fn stdin(&mut self) -> Box<dyn Read + Send> {
        self.stdin.take().unwrap_or_else(|| Box::new(io::empty()))
    }

    /// A path the user typed, as this process must open it: inside a
    /// server, a relative path is taken from the client's working directory.
    pub fn path(&self, typed: &Path) -> PathBuf {
        match &self.place {
            Place::Server { cwd, .. } if typed.is_relative() => cwd.join(typed),
            _ => typed.to_owned(),
        }
    }

    /// Where a long step shows its progress: a bar on this terminal, and
    /// nothing through a server.
    /// A spinner for a step of unknown length, on this process's terminal
    /// only (a server's client sees none).
    pub fn spinner(&self, message: &'static str) -> crate::progress::Spinner {
        match &self.place {
            Place::Own { .. } => crate::progress::Spinner::new(message),
            Place::Server { .. } => crate::progress::Spinner::none(),
        }
    }

    pub fn progress(&self) -> Box<dyn Progress> {
        match &self.place {
            Place::Own { .. } => Box::new(Bar::new()),
            Place::Server { .. } => Box::new(Silent),
        }
    }

    /// Passes the server's write gate (see [`Gate`]); hold what it returns
    /// while writing.
    pub fn gate(&self, gate: Gate) -> Passage<'_> {
        let Place::Server { held, .. } = &self.place else {
            return Passage::Free;
        };
        let lock = held.app.write_gate();
        match gate {
            Gate::Shared => Passage::Shared(lock.read().unwrap_or_else(PoisonError::into_inner)),
            Gate::Alone => Passage::Alone(lock.write().unwrap_or_else(PoisonError::into_inner)),
        }
    }

    /// Tells a server of events this command appended: its projections
    /// follow the log and its live streams announce them.
    pub fn appended(&self, stored: &[(u64, EventId)]) {
        if let Place::Server { held, .. } = &self.place {
            held.app.after_append(stored);
        }
    }
}
