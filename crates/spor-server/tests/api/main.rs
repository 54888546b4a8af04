//! The real server on 127.0.0.1 port 0 over a temporary data directory,
//! driven over HTTP with reqwest (no TLS).
#![allow(clippy::unwrap_used, clippy::missing_panics_doc)]

mod audit;
mod browser;
mod common;
mod concurrency;
mod matrix;
mod session;
mod writes;
