//! The sled store passes the backend conformance suite.
#![allow(clippy::unwrap_used)]

use std::sync::Arc;

use spor_store::{EventStore, OpenOptions, SledStore};

#[test]
fn the_sled_store_passes_the_conformance_suite() {
    let mut dirs = Vec::new();
    spor_store::conformance::run(&mut || {
        let tmp = tempfile::tempdir().unwrap();
        let store = SledStore::open(
            &tmp.path().join("data"),
            OpenOptions {
                create: true,
                ..OpenOptions::default()
            },
        )
        .unwrap();
        dirs.push(tmp);
        Arc::new(store) as Arc<dyn EventStore>
    });
}
