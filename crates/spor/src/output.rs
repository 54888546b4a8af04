//! Writing results: formats, dates as users type them, and files written
//! whole or not at all.

use std::fs::File;
use std::io::{self, Write};
use std::path::Path;

use chrono::NaiveDate;

/// `--format` for listings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// For a person at a terminal.
    Table,
    /// One JSON document.
    Json,
    /// Comma-separated, with a header row.
    Csv,
}

/// `--format` for the account and token lists, which have no CSV.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ListFormat {
    /// For a person at a terminal.
    Table,
    /// One JSON document.
    Json,
}

/// Parses `YYYY-MM-DD` for clap, naming the expected form on error.
pub fn parse_date(s: &str) -> Result<NaiveDate, String> {
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .map_err(|_| format!("`{s}` is not a date of the form YYYY-MM-DD"))
}

/// A date as Norwegian users read it: dd.mm.åååå.
pub fn norwegian_date(d: NaiveDate) -> String {
    d.format("%d.%m.%Y").to_string()
}

/// Writes through a temporary file in the same directory, fsyncs it, renames
/// it into place and fsyncs the directory: a failure leaves no half file.
pub fn write_file_atomically(
    path: &Path,
    write: impl FnOnce(&mut dyn Write) -> io::Result<()>,
) -> io::Result<()> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_owned(),
        _ => std::path::PathBuf::from("."),
    };
    let name = path
        .file_name()
        .ok_or_else(|| io::Error::other("output path names no file"))?;
    let tmp = dir.join(format!(
        ".{}.tmp-{}",
        name.to_string_lossy(),
        std::process::id()
    ));
    let result = (|| {
        let file = File::create(&tmp)?;
        let mut out = io::BufWriter::new(file);
        write(&mut out)?;
        let file = out.into_inner().map_err(io::IntoInnerError::into_error)?;
        file.sync_all()?;
        std::fs::rename(&tmp, path)?;
        File::open(&dir)?.sync_all()
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// Prints a one-time password or a token, alone on its line on standard
/// output (`out`: the client's, for a command run inside a server): the
/// one place such a secret leaves the command.
pub fn print_secret(secret: &spor_accounts::ShownOnce, out: &mut dyn Write) -> io::Result<()> {
    writeln!(out, "{}", secret.expose())?;
    out.flush()
}
