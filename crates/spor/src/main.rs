//! `spor`: the one binary. Parses the command line, loads configuration,
//! and hands each command to its module in `commands/`, with a `Workspace`
//! over the data directory: opened here, or, while `spor serve` holds it,
//! the server's (the command then runs inside the server: `relay.rs`).
//! Errors become the exit codes in `exit.rs`.

mod commands;
mod exit;
mod operator_audit;
mod output;
mod progress;
mod relay;
mod settings;
mod workspace;

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;

use crate::commands::Command;
use crate::exit::Exit;
use crate::settings::Settings;
use crate::workspace::Workspace;

/// Event-sourced participant tracking for the introduction programme
/// (introduksjonsprogrammet).
///
/// Exit codes: 0 ok, 1 internal error, 2 usage or configuration, 3 input
/// refused (nothing written), 4 data directory in use, 5 damaged data or
/// verify findings, 6 disk I/O failure, 7 data written by a newer spor,
/// 8 not found. See docs/exit-codes.md.
#[derive(Debug, Parser)]
#[command(name = "spor", version, propagate_version = true)]
pub(crate) struct Cli {
    /// The data directory (default: `data_dir` from the configuration).
    #[arg(long, global = true, value_name = "DIR", env = "SPOR_DATA")]
    data: Option<PathBuf>,

    /// A configuration file layered over the built-in defaults.
    #[arg(long, global = true, value_name = "FILE", env = "SPOR_CONFIG")]
    config: Option<PathBuf>,

    #[command(subcommand)]
    command: Command,
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() {
                Exit::Usage.into()
            } else {
                Exit::Ok.into()
            };
        }
    };
    init_logging();
    let code =
        run(cli).unwrap_or_else(|err| exit::conclude(Err(err), &mut std::io::stderr()) as u8);
    ExitCode::from(code)
}

/// Runs the command and returns its exit code, having written out any error.
fn run(cli: Cli) -> anyhow::Result<u8> {
    let env: Vec<(String, String)> = std::env::vars().collect();
    let settings = Settings::load(cli.config.as_deref(), &env)?;
    let data = cli
        .data
        .clone()
        .unwrap_or_else(|| settings.data_dir.clone());
    // While a server holds DIR, the command runs inside it.
    if !matches!(cli.command, Command::Serve(_))
        && let Some(code) = relay::forward(&cli.command, &data, &settings)?
    {
        return Ok(code);
    }
    let mut ws = Workspace::local(data, settings);
    let result = commands::run(cli.command, &mut ws);
    let code = exit::conclude(result, &mut ws.err);
    let _ = ws.out.flush();
    Ok(code as u8)
}

fn init_logging() {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("warn"));
    // Colours only on a terminal: a log file or journal gets plain text.
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(ansi)
        .with_writer(std::io::stderr)
        .try_init();
}
