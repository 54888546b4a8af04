//! What operators rely on: exit codes (docs/exit-codes.md), the lock, the
//! format version, configuration and `--help`.

use std::time::{Duration, Instant};

use predicates::prelude::*;
use predicates::str::contains;

use crate::fixture;
use crate::spor;

fn with_log(n: u128) -> (tempfile::TempDir, std::path::PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    spor(&data)
        .arg("import")
        .arg("-")
        .write_stdin(fixture::log(n))
        .assert()
        .success();
    (tmp, data)
}

/// Every file under `dir` with its bytes, to show a command changed nothing.
fn snapshot(dir: &std::path::Path) -> Vec<(std::path::PathBuf, Vec<u8>)> {
    crate::corruption::files(dir)
        .into_iter()
        .map(|(rel, _)| (rel.clone(), std::fs::read(dir.join(rel)).unwrap()))
        .collect()
}

#[test]
fn usage_errors_exit_2() {
    let tmp = tempfile::tempdir().unwrap();
    spor(tmp.path()).arg("frobnicate").assert().code(2);
    spor(tmp.path())
        .args(["status", "--on", "31/12/2007"])
        .assert()
        .code(2)
        .stderr(contains("write YYYY-MM-DD or dd.mm.åååå"));
    spor(tmp.path())
        .args(["status", "--unit", "2101"])
        .assert()
        .code(2)
        .stderr(contains("21 is not a county number"));
}

#[test]
fn every_command_has_help() {
    let tmp = tempfile::tempdir().unwrap();
    for cmd in [
        "import", "export", "log", "show", "status", "verify", "demo", "user", "token", "audit",
    ] {
        spor(tmp.path())
            .args([cmd, "--help"])
            .assert()
            .success()
            .stdout(contains("Usage: spor"));
    }
    spor(tmp.path())
        .arg("--help")
        .assert()
        .success()
        .stdout(contains("Exit codes"));
}

#[test]
fn refused_input_exits_3() {
    let tmp = tempfile::tempdir().unwrap();
    spor(&tmp.path().join("d"))
        .arg("import")
        .arg("-")
        .write_stdin("{}\n")
        .assert()
        .code(3)
        .stderr(contains("line 1"));
}

#[test]
fn a_second_process_gets_in_use_within_a_second_and_changes_nothing() {
    let (_tmp, data) = with_log(5);
    let before = snapshot(&data);
    // Hold the directory's lock as a running spor would.
    let lock = std::fs::OpenOptions::new()
        .write(true)
        .open(data.join("spor.lock"))
        .unwrap();
    lock.try_lock().unwrap();
    let started = Instant::now();
    spor(&data)
        .arg("import")
        .arg("-")
        .write_stdin(fixture::log(7))
        .assert()
        .code(4)
        .stderr(contains("is in use by another spor process"));
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "took {:?}",
        started.elapsed()
    );
    drop(lock);
    assert_eq!(snapshot(&data), before);
}

#[test]
fn a_newer_format_is_refused_and_left_untouched() {
    let (_tmp, data) = with_log(3);
    std::fs::write(data.join("spor.format"), "spor store format 99\n").unwrap();
    let before = snapshot(&data);
    spor(&data)
        .arg("status")
        .assert()
        .code(7)
        .stderr(contains("has format 99; this spor reads format 2"));
    assert_eq!(snapshot(&data), before);
}

#[test]
fn damage_exits_5() {
    let (_tmp, data) = with_log(3);
    std::fs::write(data.join("spor.format"), "garbage").unwrap();
    spor(&data)
        .arg("verify")
        .assert()
        .code(5)
        .stderr(contains("is damaged"));
}

#[test]
fn a_disk_failure_exits_6() {
    let (tmp, data) = with_log(3);
    let nowhere = tmp.path().join("no/such/dir/out.jsonl");
    spor(&data).arg("export").arg(&nowhere).assert().code(6);
}

#[test]
fn a_missing_data_directory_exits_8_and_is_not_created() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("nothing-here");
    spor(&data)
        .arg("status")
        .assert()
        .code(8)
        .stderr(contains("no store at").and(contains(
            "`spor import`, `spor demo` and `spor serve` begin a new store",
        )));
    assert!(!data.exists());
    // Only the commands that begin a store create one: a mistyped --data
    // given to log or user is refused, not made into a new, empty store.
    let event = r#"{"id":"00000000-0000-0000-0000-0000000000a1","participant":"00000000-0000-0000-0000-0000000000b1","unit":"0301","type":"claimed","date":"2007-01-02","data":{}}"#;
    spor(&data)
        .args(["log", "--json", event])
        .assert()
        .code(8)
        .stderr(contains(data.display().to_string()));
    spor(&data)
        .args(["user", "add", "kari", "--role", "analyst"])
        .assert()
        .code(8);
    std::fs::create_dir(&data).unwrap();
    spor(&data).arg("status").assert().code(8);
    assert_eq!(
        std::fs::read_dir(&data).unwrap().count(),
        0,
        "an empty directory stays empty"
    );
    // A directory with other files in it does not become a store either.
    let home = tmp.path().join("home");
    std::fs::create_dir(&home).unwrap();
    std::fs::write(home.join("notes.txt"), "mine").unwrap();
    spor(&home)
        .args(["import", "/dev/null"])
        .assert()
        .code(8)
        .stderr(contains("holds other files and no store"));
    assert_eq!(std::fs::read_dir(&home).unwrap().count(), 1);
    // A command that begins a store says so.
    spor(&data)
        .args(["import", "/dev/null"])
        .assert()
        .success()
        .stderr(contains(format!("began a new store in {}", data.display())));
    spor(&data).arg("status").assert().success();
    let (_t, d) = with_log(1);
    spor(&d)
        .args(["show", "00000000-0000-0000-0000-000000000001"])
        .assert()
        .code(8);
}

#[test]
fn configuration_is_layered_and_typos_are_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let conf = tmp.path().join("spor.toml");
    std::fs::write(&conf, "[store]\ncache_capacity_mb = 64\ncolour = 1\n").unwrap();
    spor(&tmp.path().join("d"))
        .arg("--config")
        .arg(&conf)
        .arg("status")
        .assert()
        .code(2)
        .stderr(contains("colour"));
    // An environment override with a bad value is a configuration error too.
    spor(&tmp.path().join("d"))
        .env("SPOR_IMPORT__BATCH_EVENTS", "0")
        .arg("status")
        .assert()
        .code(2);
    // data_dir from a config file is used when --data is not given.
    std::fs::write(
        &conf,
        format!(
            "data_dir = {:?}\n",
            tmp.path().join("from-config").display().to_string()
        ),
    )
    .unwrap();
    let mut cmd = assert_cmd::Command::new(assert_cmd::cargo::cargo_bin!("spor"));
    cmd.env_clear()
        .env("SPOR_ALLOW_SYNTHETIC_IDS", "1")
        .arg("--config")
        .arg(&conf);
    cmd.arg("import")
        .arg("-")
        .write_stdin(fixture::log(1))
        .assert()
        .success();
    assert!(tmp.path().join("from-config/spor.format").exists());
}

#[test]
fn synthetic_numbers_need_the_setting() {
    let tmp = tempfile::tempdir().unwrap();
    let mut cmd = assert_cmd::Command::new(assert_cmd::cargo::cargo_bin!("spor"));
    cmd.env_clear()
        .arg("--data")
        .arg(tmp.path().join("d"))
        .arg("import")
        .arg("-");
    cmd.write_stdin(fixture::log(1))
        .assert()
        .code(3)
        .stderr(contains("synthetic test number").and(contains("ids.allow_synthetic")));
    let mut cmd = assert_cmd::Command::new(assert_cmd::cargo::cargo_bin!("spor"));
    cmd.env_clear()
        .env("SPOR_IDS__ALLOW_SYNTHETIC", "true")
        .arg("--data")
        .arg(tmp.path().join("d"));
    cmd.arg("import")
        .arg("-")
        .write_stdin(fixture::log(1))
        .assert()
        .success();
}

#[test]
fn status_lists_a_unit_in_three_formats() {
    let (_tmp, data) = with_log(12);
    let json = spor(&data)
        .args([
            "status",
            "--unit",
            "0301",
            "--on",
            "2007-06-30",
            "--format",
            "json",
        ])
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    let rows = v["participants"].as_array().unwrap();
    assert_eq!(rows.len(), 3);
    assert!(rows.iter().all(|r| r["unit"] == "0301"));
    assert_eq!(rows.iter().filter(|r| r["state"] == "ended").count(), 1);
    spor(&data)
        .args(["status", "--unit", "0301", "--format", "csv"])
        .assert()
        .success()
        .stdout(contains("participant,unit,state").and(contains(",0301,")));
    spor(&data)
        .args(["status", "--unit", "0301", "--on", "2005-06-15"])
        .assert()
        .success()
        .stdout(contains("i permisjon").and(contains("3 deltakere per 15.06.2005")));
}

#[test]
fn lint_names_the_participant_and_the_rule() {
    let (_tmp, data) = with_log(8);
    // The fixture's leaves end on 31 July 2005 and no return is logged.
    let out = spor(&data)
        .args(["lint", "--on", "2005-09-01", "--format", "json"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let found = v["findings"].as_array().unwrap();
    assert!(
        found
            .iter()
            .any(|f| f["rule"] == "leave_without_return" && f["participant"].is_string())
    );
    spor(&data)
        .args(["lint", "--on", "2005-09-01"])
        .assert()
        .success()
        .stdout(contains("retur er ikke registrert"));
}
