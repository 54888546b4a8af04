//! The tests of spor-accounts, as one test binary: each rule from both sides,
//! TOTP against codes computed here independently of totp-rs, tokens, and the
//! store conformance checks run on both implementations.

#![allow(clippy::unwrap_used)] // in a test, a failed unwrap is a failed test, with its line

mod common;
mod names_roles_accounts;
mod passwords;
mod recovery;
mod stores;
mod tokens;
mod totp;
