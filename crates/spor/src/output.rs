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

/// Parses a date as people type it, `YYYY-MM-DD` or Norwegian
/// `dd.mm.åååå`, for clap; on error names what was wrong and both forms.
pub fn parse_date(s: &str) -> Result<NaiveDate, String> {
    let norwegian = s.contains('.');
    let (pattern, digits) = if norwegian {
        (
            "%d.%m.%Y",
            s.split('.').map(str::len).collect::<Vec<_>>() == [2, 2, 4],
        )
    } else {
        (
            "%Y-%m-%d",
            s.split('-').map(str::len).collect::<Vec<_>>() == [4, 2, 2],
        )
    };
    match NaiveDate::parse_from_str(s, pattern) {
        Ok(d) if digits => Ok(d),
        Err(e) if digits && e.kind() == chrono::format::ParseErrorKind::OutOfRange => Err(format!(
            "`{s}` is not a day in the calendar (check the day and the month)"
        )),
        _ => Err(format!(
            "`{s}` is not a date: write YYYY-MM-DD or dd.mm.åååå, such as 2008-02-15 or 15.02.2008"
        )),
    }
}

/// Identity numbers are shown masked in what spor prints (the birth date
/// part and `*****`): `/data/person` of an event as JSON.
pub fn mask_person(v: &mut serde_json::Value) {
    if let Some(person) = v.pointer_mut("/data/person")
        && let Some(s) = person.as_str()
    {
        *person = serde_json::Value::String(format!("{}*****", &s[..6.min(s.len())]));
    }
}

/// A date as Norwegian users read it: dd.mm.åååå.
pub fn norwegian_date(d: NaiveDate) -> String {
    d.format("%d.%m.%Y").to_string()
}

/// A time as Norwegian users read it, in UTC: `05.01.2008 kl. 14.30 UTC`.
pub fn norwegian_time(t: chrono::DateTime<chrono::Utc>) -> String {
    t.format("%d.%m.%Y kl. %H.%M UTC").to_string()
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

#[cfg(test)]
mod tests {
    use super::parse_date;

    #[test]
    fn a_date_is_taken_in_either_form_and_a_wrong_one_is_named() {
        let d = chrono::NaiveDate::from_ymd_opt(2008, 2, 15).unwrap();
        assert_eq!(parse_date("2008-02-15"), Ok(d));
        assert_eq!(parse_date("15.02.2008"), Ok(d));
        assert_eq!(
            parse_date("2008-02-30").unwrap_err(),
            "`2008-02-30` is not a day in the calendar (check the day and the month)"
        );
        assert_eq!(
            parse_date("30.02.2008").unwrap_err(),
            "`30.02.2008` is not a day in the calendar (check the day and the month)"
        );
        for wrong in [
            "2008-2-15",
            "15.2.2008",
            "15/02/2008",
            "08-02-15",
            "tomorrow",
            "",
        ] {
            assert!(
                parse_date(wrong)
                    .unwrap_err()
                    .contains("write YYYY-MM-DD or dd.mm.åååå"),
                "{wrong}"
            );
        }
    }
}
