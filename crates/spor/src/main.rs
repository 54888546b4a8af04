//! `spor`: the one binary. Parses the command line, loads configuration,
//! opens the data directory, and hands each command to its module in
//! `commands/`. Errors become the exit codes in `exit.rs`.

mod commands;
mod exit;
mod operator_audit;
mod progress;
mod output;
mod settings;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;

use crate::exit::Exit;
use crate::settings::Settings;

/// Event-sourced participant tracking for the introduction programme
/// (introduksjonsprogrammet).
///
/// Exit codes: 0 ok, 1 internal error, 2 usage or configuration, 3 input
/// refused (nothing written), 4 data directory in use, 5 damaged data or
/// verify findings, 6 disk I/O failure, 7 data written by a newer spor,
/// 8 not found. See docs/exit-codes.md.
#[derive(Debug, Parser)]
#[command(name = "spor", version, propagate_version = true)]
struct Cli {
    /// The data directory (default: `data_dir` from the configuration).
    #[arg(long, global = true, value_name = "DIR", env = "SPOR_DATA")]
    data: Option<PathBuf>,

    /// A configuration file layered over the built-in defaults.
    #[arg(long, global = true, value_name = "FILE", env = "SPOR_CONFIG")]
    config: Option<PathBuf>,

    #[command(subcommand)]
    command: commands::Command,
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() { Exit::Usage.into() } else { Exit::Ok.into() };
        }
    };
    init_logging();
    match run(cli) {
        Ok(()) => Exit::Ok.into(),
        Err(err) => {
            if is_broken_pipe(&err) {
                return Exit::Ok.into();
            }
            let code = exit::code_for(&err);
            eprintln!("spor: {err:#}");
            if let Some(hint) = exit::hint_for(&err) {
                eprintln!("hint: {hint}");
            }
            tracing::debug!(error = ?err, code = code as u8, "command failed");
            code.into()
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<()> {
    let env: Vec<(String, String)> = std::env::vars().collect();
    let settings = Settings::load(cli.config.as_deref(), &env)?;
    let data = cli.data.clone().unwrap_or_else(|| settings.data_dir.clone());
    commands::run(cli.command, &data, &settings)
}

fn init_logging() {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("warn"));
    // Colours only on a terminal: a log file or journal gets plain text.
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let _ = tracing_subscriber::fmt().with_env_filter(filter).with_ansi(ansi).with_writer(std::io::stderr).try_init();
}

/// A closed pipe (`spor export | head`) is the reader's choice, not a failure.
fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|c| {
        c.downcast_ref::<std::io::Error>().is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
    })
}
