//! Commands on a data directory that `spor serve` holds (contract §4). sled
//! lets one process open DIR, so while a server runs, every other command
//! is sent to it over the socket in DIR and runs inside it: the client half
//! ([`forward`]) sends the command line, the resolved settings, the working
//! directory and, where the command reads it, standard input, and writes
//! out what comes back; the server half ([`runner`]) runs the very same
//! command code on a [`Workspace`] over the server's open store. The
//! socket, its permissions and its framing are `spor_server::socket`'s.

use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context;
use clap::Parser;
use spor_server::socket::{self, Address, CommandIo, CommandSocket, Frame, Invocation, Runner};
use spor_store::StoreError;
use tokio_util::sync::CancellationToken;

use crate::commands::{self, Command};
use crate::exit::{self, Exit, ServerFailed};
use crate::settings::Settings;
use crate::workspace::{Held, Workspace};

/// Sends `command` to the server holding `data`, if one answers on its
/// socket, and returns the exit code it ended with. `None` when no server
/// answers (no socket, or one a killed server left): nothing was sent and
/// nothing of standard input read, so the caller opens DIR itself.
pub fn forward(command: &Command, data: &Path, settings: &Settings) -> anyhow::Result<Option<u8>> {
    let Ok(address) = Address::of(data) else {
        return Ok(None);
    };
    // A connection of its own, so that a failure to reach the server is
    // told apart from one after the command went out: only the first may
    // fall back to opening DIR here, or a command could run twice.
    if let Err(e) = address.connect() {
        tracing::debug!(error = %e, "no server answers on the data directory's socket");
        return Ok(None);
    }
    let invocation = Invocation {
        version: socket::VERSION.to_owned(),
        args: std::env::args_os().collect(),
        data: data.as_os_str().to_owned(),
        cwd: std::env::current_dir()
            .context("finding the working directory")?
            .into_os_string(),
        settings: serde_json::to_value(settings)
            .context("writing the settings down for the server")?,
        stdin: command.reads_stdin(),
    };
    let head = io::Cursor::new(invocation.encode()?);
    let body = if invocation.stdin {
        reqwest::blocking::Body::new(head.chain(io::stdin()))
    } else {
        reqwest::blocking::Body::from(head.into_inner())
    };
    let held_by = || format!("the server holding {}", data.display());
    let client = reqwest::blocking::Client::builder()
        .unix_socket(address.path())
        // A command takes as long as it takes (an import, an export).
        .timeout(None)
        .build()
        .context("making the client for the command socket")?;
    let mut answer = client
        .post(format!("http://spor{}", socket::ROUTE))
        .body(body)
        .send()
        .with_context(|| ServerFailed(format!("sending the command to {}", held_by())))?;
    if !answer.status().is_success() {
        return Err(ServerFailed(format!("{} answered {}", held_by(), answer.status())).into());
    }
    let (mut out, mut err) = (io::stdout().lock(), io::stderr().lock());
    loop {
        let frame = socket::read_frame(&mut answer).with_context(|| {
            ServerFailed(format!(
                "reading the answer of {}; the command may or may not have taken effect",
                held_by()
            ))
        })?;
        match frame {
            Some(Frame::Stdout(bytes)) => match out.write_all(&bytes) {
                // A closed pipe (`spor export | head`): done, as when run here.
                Err(e) if e.kind() == io::ErrorKind::BrokenPipe => return Ok(Some(Exit::Ok as u8)),
                written => written.context("writing to standard output")?,
            },
            Some(Frame::Stderr(bytes)) => {
                out.flush().context("writing to standard output")?;
                err.write_all(&bytes).context("writing to standard error")?;
            }
            Some(Frame::Exit(code)) => {
                out.flush().context("writing to standard output")?;
                return Ok(Some(code));
            }
            None => {
                return Err(ServerFailed(format!(
                    "{} stopped answering before the command finished; it may or may not have taken effect",
                    held_by()
                ))
                .into());
            }
        }
    }
}

/// Refuses to serve a directory another server answers for, before
/// anything is bound or opened: exit 4, as for any directory in use.
pub fn refuse_if_served(data: &Path) -> anyhow::Result<()> {
    if Address::of(data).and_then(|a| a.connect()).is_ok() {
        return Err(StoreError::InUse(data.to_owned()))
            .with_context(|| format!("`spor serve` already runs on {}", data.display()));
    }
    Ok(())
}

/// Binds the command socket of `data`, whose store the caller holds open.
/// Without it the server still serves HTTP, and other commands on DIR get
/// exit 4 as they would without a server; the log says why.
pub fn bind(data: &Path) -> Option<CommandSocket> {
    CommandSocket::bind(data)
        .inspect_err(|e| {
            tracing::warn!(error = %e, "no command socket: other spor commands on this data directory are refused while the server runs");
        })
        .ok()
}

/// Runs the commands clients send to `socket` until `shutdown`, then
/// removes the socket.
pub async fn serve(socket: Option<CommandSocket>, held: Held, shutdown: CancellationToken) {
    let Some(socket) = socket else { return };
    if let Err(e) = socket::serve(socket, runner(Arc::new(held)), shutdown).await {
        tracing::error!(error = %e, "the command socket stopped");
    }
}

/// What the server calls to run one command it was sent.
fn runner(held: Arc<Held>) -> Runner {
    Arc::new(move |invocation, io| run_here(&held, invocation, io) as u8)
}

fn run_here(held: &Arc<Held>, invocation: Invocation, mut io: CommandIo) -> Exit {
    let settings: Settings = match serde_json::from_value(invocation.settings) {
        Ok(s) => s,
        Err(e) => {
            let _ = writeln!(
                io.stderr,
                "spor: the server could not read this spor's settings ({e}); use the same spor as the server"
            );
            return Exit::Usage;
        }
    };
    // Parsed again here, by the same code: the client already refused a
    // command line that does not parse, so this does not fail in practice.
    let cli = match crate::Cli::try_parse_from(&invocation.args) {
        Ok(cli) => cli,
        Err(e) => {
            let _ = write!(io.stderr, "{}", e.render());
            return if e.use_stderr() {
                Exit::Usage
            } else {
                Exit::Ok
            };
        }
    };
    if matches!(cli.command, Command::Serve(_)) {
        let _ = writeln!(
            io.stderr,
            "spor: `spor serve` already runs on this data directory"
        );
        return Exit::Locked;
    }
    let data = PathBuf::from(invocation.data);
    let cwd = PathBuf::from(invocation.cwd);
    let mut ws = Workspace::in_server(Arc::clone(held), data, settings, cwd, io);
    let result = commands::run(cli.command, &mut ws);
    let code = exit::conclude(result, &mut ws.err);
    let _ = ws.out.flush();
    code
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use std::ffi::OsString;

    use clap::Parser;

    #[test]
    fn only_commands_that_read_standard_input_take_it_along() {
        let reads = |words: &[&str]| {
            let args: Vec<OsString> = words.iter().map(OsString::from).collect();
            crate::Cli::try_parse_from(args)
                .unwrap()
                .command
                .reads_stdin()
        };
        assert!(reads(&["spor", "import", "-"]));
        assert!(reads(&["spor", "log", "--json", "-"]));
        assert!(!reads(&["spor", "import", "events.jsonl"]));
        assert!(!reads(&["spor", "log", "--json", "{}"]));
        assert!(!reads(&["spor", "status"]));
    }
}
