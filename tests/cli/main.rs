//! The one integration test binary: drives the real `spor` in a fresh
//! directory per test, as ripgrep's tests do.

#![allow(clippy::unwrap_used)] // in a test, a failed unwrap is a failed test, with its line

mod accounts;
mod browser;
mod corruption;
mod crash_import;
mod fixture;
mod followups;
mod import_export;
mod operations;
mod pipes;
mod report;
mod rough_edges;
mod roundtrip;
mod serve;
mod socket;
mod survey;
mod tls;

use std::path::Path;

use assert_cmd::Command;

/// `spor --data DIR` with a clean environment and synthetic ids allowed.
pub fn spor(data: &Path) -> Command {
    let mut cmd = Command::new(assert_cmd::cargo::cargo_bin!("spor"));
    cmd.env_clear()
        .env("SPOR_ALLOW_SYNTHETIC_IDS", "1")
        .arg("--data")
        .arg(data);
    cmd
}
