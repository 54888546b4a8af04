//! The publications made from a data directory and the units' submissions
//! (reliability P4), kept in `publications.json` and `submissions.json`
//! beside the log: each a JSON list, rewritten whole through
//! [`crate::dir::write_atomically`] when one is added, so a crash leaves the
//! list as it was or with the new one, never half. They are few (a report a
//! year, a submission a unit and year), so reading a whole list is cheap.

use std::io;
use std::path::Path;

use serde::Serialize;
use serde::de::DeserializeOwned;

/// The publications' file in the data directory.
pub const FILE: &str = "publications.json";
/// The submissions' file in the data directory.
pub const SUBMISSIONS: &str = "submissions.json";

/// Every publication recorded in `dir`, oldest first; none if the file is absent.
pub fn read<T: DeserializeOwned>(dir: &Path) -> io::Result<Vec<T>> {
    read_list(dir, FILE)
}

/// Adds a publication to the list in `dir`.
pub fn add<T: Serialize + DeserializeOwned>(dir: &Path, publication: &T) -> io::Result<()> {
    add_to_list(dir, FILE, publication)
}

/// Every submission recorded in `dir`, oldest first.
pub fn read_submissions<T: DeserializeOwned>(dir: &Path) -> io::Result<Vec<T>> {
    read_list(dir, SUBMISSIONS)
}

/// Adds a submission to the list in `dir`.
pub fn add_submission<T: Serialize + DeserializeOwned>(
    dir: &Path,
    submission: &T,
) -> io::Result<()> {
    add_to_list(dir, SUBMISSIONS, submission)
}

fn read_list<T: DeserializeOwned>(dir: &Path, file: &str) -> io::Result<Vec<T>> {
    match std::fs::read(dir.join(file)) {
        Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                format!("{file} in {} is damaged: {e}", dir.display()),
            )
        }),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(Vec::new()),
        Err(e) => Err(e),
    }
}

fn add_to_list<T: Serialize>(dir: &Path, file: &str, item: &T) -> io::Result<()> {
    let mut all: Vec<serde_json::Value> = read_list(dir, file)?;
    all.push(serde_json::to_value(item).map_err(io::Error::other)?);
    let mut bytes = serde_json::to_vec(&all).map_err(io::Error::other)?;
    bytes.push(b'\n');
    crate::dir::write_atomically(&dir.join(file), &bytes)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    #[test]
    fn a_publication_added_is_read_back_after_the_earlier_ones() {
        let dir = tempfile::tempdir().unwrap();
        assert!(super::read::<u32>(dir.path()).unwrap().is_empty());
        super::add(dir.path(), &7u32).unwrap();
        super::add(dir.path(), &9u32).unwrap();
        assert_eq!(super::read::<u32>(dir.path()).unwrap(), vec![7, 9]);
        std::fs::write(dir.path().join(super::FILE), b"[7, ").unwrap();
        let damaged = super::read::<u32>(dir.path()).unwrap_err();
        assert!(
            damaged.to_string().contains("publications.json"),
            "{damaged}"
        );
    }
}
