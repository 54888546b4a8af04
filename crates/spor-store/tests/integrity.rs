//! Integrity (reliability I3): a record rewritten with a valid checksum, or
//! records taken away, are found by `verify` through the hash chain and the
//! head file, with their position.

mod common;

use common::{event, participant};
use spor_store::record;
use spor_store::{EventStore, OpenOptions, SledStore, StreamAppend};

fn filled(dir: &std::path::Path, n: u32) {
    let store = SledStore::open(dir, OpenOptions { create: true, ..OpenOptions::default() }).unwrap();
    for i in 0..n {
        let p = participant(u128::from(i % 5));
        let version = i / 5;
        store
            .append(&[StreamAppend { participant: p, expected_version: version, events: vec![event(p, u128::from(i))] }])
            .unwrap();
    }
}

/// Opens sled directly, as someone with access to the files would, and
/// applies `f` to its tree.
fn tamper(dir: &std::path::Path, f: impl FnOnce(&sled::Db)) {
    let db = sled::Config::new().path(dir.join("sled")).open().unwrap();
    f(&db);
    db.flush().unwrap();
}

fn log_key(seq: u64) -> Vec<u8> {
    let mut k = vec![b'L'];
    k.extend_from_slice(&seq.to_be_bytes());
    k
}

/// Rewrites the payload of record `seq`, keeping its sequence number and
/// previous hash and computing a fresh, valid CRC.
fn rewrite(db: &sled::Db, seq: u64, from: &str, to: &str) {
    let old = db.get(log_key(seq)).unwrap().unwrap();
    let rec = record::decode(&old).unwrap();
    assert!(rec.payload.contains(from));
    let forged = record::encode(rec.seq, &rec.prev_hash, &rec.payload.replace(from, to));
    assert!(record::decode(&forged).is_ok(), "the forged record has a valid checksum");
    db.insert(log_key(seq), forged).unwrap();
}

fn report(dir: &std::path::Path) -> Vec<(String, String)> {
    let store = SledStore::open(dir, OpenOptions::default()).unwrap();
    store.verify().findings.into_iter().map(|f| (f.position, f.problem)).collect()
}

#[test]
fn a_rewritten_record_with_a_valid_checksum_breaks_the_chain_at_its_successor() {
    let tmp = tempfile::tempdir().unwrap();
    filled(tmp.path(), 40);
    assert!(report(tmp.path()).is_empty());
    tamper(tmp.path(), |db| rewrite(db, 17, "adviser-", "Adviser-"));
    let findings = report(tmp.path());
    assert_eq!(findings.len(), 1, "{findings:?}");
    assert_eq!(findings[0].0, "seq 18");
    assert!(findings[0].1.contains("hash chain broken"), "{findings:?}");
}

#[test]
fn a_rewritten_last_record_is_found_against_the_head_file() {
    let tmp = tempfile::tempdir().unwrap();
    filled(tmp.path(), 10);
    tamper(tmp.path(), |db| rewrite(db, 10, "adviser-", "Adviser-"));
    let findings = report(tmp.path());
    assert_eq!(findings.len(), 1, "{findings:?}");
    assert_eq!(findings[0].0, "seq 10");
    assert!(findings[0].1.contains("history rewritten"), "{findings:?}");
}

#[test]
fn removed_records_and_swapped_records_are_reported_with_their_position() {
    let tmp = tempfile::tempdir().unwrap();
    filled(tmp.path(), 30);
    // Take the last three records away, index entries and all.
    tamper(tmp.path(), |db| {
        for seq in 28..=30 {
            db.remove(log_key(seq)).unwrap();
        }
    });
    let findings = report(tmp.path());
    assert!(findings.iter().any(|(pos, p)| pos == "seq 28" && p.contains("spor.head says the log reached seq 30")), "{findings:?}");

    let tmp = tempfile::tempdir().unwrap();
    filled(tmp.path(), 30);
    tamper(tmp.path(), |db| {
        let a = db.get(log_key(5)).unwrap().unwrap();
        let b = db.get(log_key(6)).unwrap().unwrap();
        db.insert(log_key(5), b).unwrap();
        db.insert(log_key(6), a).unwrap();
    });
    let findings = report(tmp.path());
    assert!(findings.iter().any(|(pos, p)| pos == "seq 5" && p.contains("reordered")), "{findings:?}");
}

#[test]
fn a_damaged_index_entry_is_reported() {
    let tmp = tempfile::tempdir().unwrap();
    filled(tmp.path(), 12);
    let victim = event(participant(3), 3).id;
    tamper(tmp.path(), |db| {
        let mut k = vec![b'I'];
        k.extend_from_slice(victim.0.as_bytes());
        db.insert(k, &9u64.to_be_bytes()[..]).unwrap();
    });
    let findings = report(tmp.path());
    assert!(
        findings.iter().any(|(pos, p)| pos.starts_with("id index") && p.contains("points at seq 9, the event is at seq 4")),
        "{findings:?}"
    );
}
