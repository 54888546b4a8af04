//! Import and export as contract §1 defines them.

use predicates::prelude::*;
use predicates::str::contains;
use spor_domain::EventBody;
use spor_domain::event::{Completed, CompletedReason};

use crate::fixture::{self, Stream};
use crate::spor;

fn export(data: &std::path::Path) -> String {
    let out = spor(data).arg("export").output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn import_writes_nothing_and_names_every_bad_line() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let file = tmp.path().join("events.jsonl");
    let good = Stream::started(1, "0301", "2005-02-01");
    let mut no_grant = Stream::new(2, "0301");
    no_grant.events = Stream::started(2, "0301", "2005-02-01").events;
    no_grant.events.remove(2); // the grant: the start now has none
    let mut lines: Vec<String> = good.lines().lines().map(str::to_owned).collect();
    lines.insert(1, "{not json".into());
    lines.extend(no_grant.lines().lines().map(str::to_owned));
    lines.push(
        lines[0]
            .replace(r#""by":"adviser-1""#, r#""by":"adviser-1","colour":"red""#)
            .replace("e000", "e001"),
    );
    std::fs::write(&file, lines.join("\n") + "\n").unwrap();

    spor(&data)
        .arg("import")
        .arg(&file)
        .assert()
        .code(3)
        .stderr(contains("line 2: not a valid event"))
        .stderr(contains("line 8:").and(contains("`started` needs a `granted` before it")))
        .stderr(contains("line 9:").and(contains("unknown field `colour`")))
        .stderr(contains("3 lines refused; nothing was imported"));
    assert_eq!(export(&data), "");
}

#[test]
fn a_late_event_is_judged_in_its_place_by_date() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let mut s = Stream::started(1, "0301", "2005-02-01");
    // Recorded after the start, dated before it: still valid in its place.
    s.push("2005-01-05", EventBody::Offered);
    let file = tmp.path().join("a.jsonl");
    std::fs::write(&file, s.lines()).unwrap();
    spor(&data)
        .arg("import")
        .arg(&file)
        .assert()
        .success()
        .stderr(contains("imported 5 events"));
}

#[test]
fn reimport_is_a_noop_and_changed_content_is_refused_even_after_restart() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let file = tmp.path().join("log.jsonl");
    std::fs::write(&file, fixture::log(40)).unwrap();
    spor(&data).arg("import").arg(&file).assert().success();
    let first = export(&data);
    let head = |data: &std::path::Path| {
        let out = spor(data).arg("verify").output().unwrap();
        String::from_utf8(out.stdout)
            .unwrap()
            .lines()
            .find(|l| l.starts_with("head"))
            .unwrap()
            .to_owned()
    };
    let first_head = head(&data);
    // spor's own files are byte-identical after the re-imports; sled rewrites
    // its snapshot of the derived id index on every open, so its files are not.
    let own_files = |data: &std::path::Path| {
        ["spor.log", "spor.head", "spor.format"].map(|f| std::fs::read(data.join(f)).unwrap())
    };
    let first_files = own_files(&data);
    for _ in 0..2 {
        spor(&data)
            .arg("import")
            .arg(&file)
            .assert()
            .success()
            .stderr(contains("imported 0 events"));
    }
    assert_eq!(export(&data), first);
    assert_eq!(head(&data), first_head);
    assert!(
        own_files(&data) == first_files,
        "a re-import changed the log"
    );

    // Many other events later, a new process: the same id with other content is refused.
    let more = tmp.path().join("more.jsonl");
    std::fs::write(
        &more,
        (100..400)
            .map(|i| Stream::started(i, "1201", "2005-03-01").lines())
            .collect::<String>(),
    )
    .unwrap();
    spor(&data).arg("import").arg(&more).assert().success();
    let changed = first
        .lines()
        .nth(2)
        .unwrap()
        .replace(r#""months":24"#, r#""months":12"#);
    spor(&data)
        .arg("import")
        .arg("-")
        .write_stdin(changed + "\n")
        .assert()
        .code(3)
        .stderr(contains("is already stored with other content"));
}

#[test]
fn export_then_import_reproduces_the_log_byte_for_byte() {
    let tmp = tempfile::tempdir().unwrap();
    let (a, b) = (tmp.path().join("a"), tmp.path().join("b"));
    let file = tmp.path().join("log.jsonl");
    std::fs::write(&file, fixture::log(30)).unwrap();
    spor(&a).arg("import").arg(&file).assert().success();
    let exported = tmp.path().join("export.jsonl");
    spor(&a).arg("export").arg(&exported).assert().success();
    spor(&b).arg("import").arg(&exported).assert().success();
    spor(&b).arg("verify").assert().success();
    assert_eq!(export(&a), export(&b));
    let status = |d: &std::path::Path| {
        spor(d)
            .args(["status", "--format", "json", "--on", "2007-01-01"])
            .output()
            .unwrap()
            .stdout
    };
    assert_eq!(status(&a), status(&b));
    assert!(
        String::from_utf8(status(&a))
            .unwrap()
            .contains(r#""state":"ended""#)
    );
}

#[test]
fn export_of_one_unit_holds_only_its_events() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    spor(&data)
        .arg("import")
        .arg("-")
        .write_stdin(fixture::log(8))
        .assert()
        .success();
    let out = spor(&data)
        .args(["export", "--unit", "1201"])
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert_eq!(text.lines().count(), 2 * 5 + 1); // participants 2 and 6, one of them ended
    assert!(text.lines().all(|l| l.contains(r#""unit":"1201""#)));
}

#[test]
fn an_event_without_recorded_at_is_stamped_and_reimport_still_matches() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let s = Stream::started(1, "0301", "2005-02-01");
    let text: String = s
        .lines()
        .lines()
        .map(|l| {
            let mut v: serde_json::Value = serde_json::from_str(l).unwrap();
            v.as_object_mut().unwrap().remove("recorded_at");
            v.to_string() + "\n"
        })
        .collect();
    spor(&data)
        .arg("import")
        .arg("-")
        .write_stdin(text.clone())
        .assert()
        .success();
    assert!(export(&data).contains(r#""recorded_at":"20"#));
    spor(&data)
        .arg("import")
        .arg("-")
        .write_stdin(text)
        .assert()
        .success()
        .stderr(contains(
            "imported 0 events from standard input (4 already stored",
        ));
}

#[test]
fn log_appends_one_event_and_refuses_a_second_exit() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let mut s = Stream::started(1, "0301", "2005-02-01");
    s.push(
        "2006-06-30",
        EventBody::Completed(Completed {
            reason: CompletedReason::UpperSecondary,
            main_activity: None,
            support: vec![],
        }),
    );
    spor(&data)
        .arg("import")
        .arg("-")
        .write_stdin(s.lines())
        .assert()
        .success();
    let p = s.participant.to_string();
    spor(&data)
        .args([
            "log",
            "--type",
            "follow_up",
            "--participant",
            &p,
            "--unit",
            "0301",
            "--date",
            "2006-09-01",
        ])
        .args([
            "--fields",
            r#"{"outcome":"education","channel":"phone"}"#,
            "--by",
            "adviser-2",
        ])
        .assert()
        .success()
        .stdout(contains(r#"{"seq":6,"event":{"#).and(contains(r#""type":"follow_up""#)));
    spor(&data)
        .args([
            "log",
            "--type",
            "interrupted",
            "--participant",
            &p,
            "--unit",
            "0301",
            "--date",
            "2006-10-01",
        ])
        .args(["--fields", r#"{"reason":"moved"}"#])
        .assert()
        .code(3)
        .stderr(contains(
            "the programme already ended on 2006-06-30; a participant has one exit",
        ));
    spor(&data)
        .args(["show", &p, "--on", "2006-12-31"])
        .assert()
        .success()
        .stdout(
            contains("status          avsluttet 30.06.2006")
                .and(contains("kontakt etter avslutning"))
                .and(contains("*****")),
        );
}

#[test]
fn show_marks_retracted_events_with_who_and_why() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let mut s = Stream::started(1, "0301", "2005-02-01");
    let wrong = s.push(
        "2005-03-01",
        EventBody::Absence(spor_domain::event::Absence {
            hours: serde_json::from_str("4").unwrap(),
            approved: false,
        }),
    );
    s.push(
        "2005-03-02",
        EventBody::Retracted(spor_domain::event::Retracted {
            event: wrong,
            why: "wrong participant".into(),
        }),
    );
    spor(&data)
        .arg("import")
        .arg("-")
        .write_stdin(s.lines())
        .assert()
        .success();
    spor(&data)
        .args(["show", &s.participant.to_string()])
        .assert()
        .success()
        .stdout(contains(
            "TRUKKET TILBAKE 02.03.2005 av adviser-1: wrong participant",
        ));

    // The day asked about reads as that, not as when the state began.
    spor(&data)
        .args(["show", &s.participant.to_string(), "--on", "2005-06-01"])
        .assert()
        .success()
        .stdout(
            contains("status          i program (per 01.06.2005)")
                // The table speaks bokmål: kinds and details in words, the
                // identity number masked, times in Norwegian form.
                .and(contains("vedtak om program"))
                .and(contains("24 måneder"))
                .and(contains("overføringsflyktning"))
                .and(contains("*****"))
                .and(contains(" kl. "))
                .and(contains("\"months\"").not()),
        );

    // The same timeline as CSV: a row per event, as the JSON lists them.
    let csv_out = spor(&data)
        .args(["show", &s.participant.to_string(), "--format", "csv"])
        .output()
        .unwrap();
    assert!(csv_out.status.success());
    let json_out = spor(&data)
        .args(["show", &s.participant.to_string(), "--format", "json"])
        .output()
        .unwrap();
    let json: serde_json::Value = serde_json::from_slice(&json_out.stdout).unwrap();
    let mut reader = csv::Reader::from_reader(csv_out.stdout.as_slice());
    assert_eq!(
        reader.headers().unwrap().iter().collect::<Vec<_>>(),
        [
            "participant",
            "unit",
            "seq",
            "event",
            "type",
            "date",
            "recorded_at",
            "by",
            "retracted_by",
            "data"
        ]
    );
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    let timeline = json["timeline"].as_array().unwrap();
    assert_eq!(rows.len(), timeline.len());
    for (row, entry) in rows.iter().zip(timeline) {
        assert_eq!(&row[2], entry["seq"].to_string());
        assert_eq!(&row[3], entry["event"]["id"].as_str().unwrap());
        assert_eq!(&row[4], entry["event"]["type"].as_str().unwrap());
        assert_eq!(&row[8], entry["retracted_by"].as_str().unwrap_or(""));
        assert_eq!(
            serde_json::from_str::<serde_json::Value>(&row[9]).unwrap(),
            entry["event"]["data"],
            "data as JSON, masked alike"
        );
    }
    assert!(
        rows.iter().any(|r| !r[8].is_empty()),
        "the retracted absence names its retraction"
    );
    assert!(
        rows[0][9].contains("*****"),
        "the identity number is masked: {}",
        &rows[0][9]
    );
}
