//! The command line as a new user meets it (issue 13): dates as people type
//! them, defaults that mean today, an empty answer that says what it means,
//! and identity numbers masked in what spor prints.

use predicates::prelude::*;
use predicates::str::contains;

use crate::fixture::{Stream, synthetic_person};
use crate::spor;

fn demo() -> (tempfile::TempDir, std::path::PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    spor(&data)
        .args(["demo", "--participants", "150", "--seed", "4"])
        .assert()
        .success();
    (tmp, data)
}

fn stdout(data: &std::path::Path, args: &[&str]) -> String {
    let out = spor(data).args(args).output().unwrap();
    assert!(
        out.status.success(),
        "spor {}: {}",
        args.join(" "),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn a_date_may_be_typed_the_norwegian_way_and_followups_default_to_today() {
    let (_tmp, data) = demo();
    assert_eq!(
        stdout(&data, &["status", "--on", "01.06.2007", "--format", "json"]),
        stdout(&data, &["status", "--on", "2007-06-01", "--format", "json"]),
    );
    spor(&data)
        .args(["status", "--on", "2007-02-30"])
        .assert()
        .code(2)
        .stderr(contains("`2007-02-30` is not a day in the calendar"));
    let today = chrono::Utc::now().date_naive().to_string();
    let without = stdout(&data, &["followups", "--format", "json"]);
    let with = stdout(&data, &["followups", "--on", &today, "--format", "json"]);
    // The day could turn between the two runs; then they differ in `on`.
    let on = |s: &str| serde_json::from_str::<serde_json::Value>(s).unwrap()["on"].clone();
    if on(&without) == on(&with) {
        assert_eq!(without, with);
    }
}

#[test]
fn an_empty_unit_and_an_empty_year_say_what_they_mean() {
    let (_tmp, data) = demo();
    // A unit of the code table with no participant in the demo.
    let status = stdout(&data, &["status", "--format", "csv"]);
    let (code, name) = [
        ("0118", "Aremark"),
        ("0119", "Marker"),
        ("0111", "Hvaler"),
        ("0101", "Halden"),
    ]
    .into_iter()
    .find(|(code, _)| !status.contains(&format!(",{code},")))
    .unwrap();
    spor(&data)
        .args(["status", "--unit", code, "--on", "2007-06-01"])
        .assert()
        .success()
        .stderr(contains(format!(
            "unit {code} ({name}) has no participants on 01.06.2007"
        )));
    spor(&data)
        .args(["status", "--unit", "0399", "--on", "2007-06-01"])
        .assert()
        .success()
        .stderr(contains(
            "unit 0399 has no participants on 01.06.2007, and is not in Statistics Norway's code table then",
        ));
    spor(&data)
        .args(["survey", "--year", "1995", "--by", "national"])
        .assert()
        .success()
        .stderr(contains("nobody took part in the programme in 1995"));
    let next = chrono::Datelike::year(&chrono::Utc::now()) + 1;
    spor(&data)
        .args(["survey", "--year", &next.to_string(), "--by", "national"])
        .assert()
        .success()
        .stderr(contains(format!("{next} has not begun")));
    spor(&data)
        .args(["survey", "--year", "2007", "--by", "national"])
        .assert()
        .success()
        .stderr(contains("nobody").not().and(contains("not begun").not()));
}

#[test]
fn the_survey_table_names_the_time_it_is_known_at() {
    let (_tmp, data) = demo();
    let table = stdout(
        &data,
        &["survey", "--year", "2007", "--known-at", "2008-01-15"],
    );
    assert!(
        table
            .lines()
            .next()
            .unwrap()
            .ends_with(", slik loggen sto 15.01.2008 kl. 23.59 UTC"),
        "{table}"
    );
}

#[test]
fn log_prints_the_event_as_stored_with_the_identity_number_masked() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    spor(&data).args(["import", "/dev/null"]).assert().success();
    let s = Stream::started(5, "0301", "2007-02-01");
    let registered = s.lines().lines().next().unwrap().to_owned();
    let person = synthetic_person(crate::fixture::d("1980-04-02"));
    assert!(registered.contains(&person));
    let printed = stdout(&data, &["log", "--json", &registered]);
    assert!(!printed.contains(&person), "{printed}");
    assert!(
        printed.contains(&format!("\"person\":\"{}*****\"", &person[..6])),
        "{printed}"
    );
    // What was stored is the whole number (export is where it leaves).
    assert!(stdout(&data, &["export", "-"]).contains(&person));
}

/// One person in two streams at once is a duplicate registration; a move
/// (the old stream ends, the new begins) is not.
#[test]
fn lint_finds_a_person_registered_twice_and_not_one_who_moved() {
    use spor_domain::EventBody;
    use spor_domain::event::{Basis, Interrupted, InterruptedReason, Registered};
    use spor_domain::person::PersonNumber;
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    // The fixture registers every stream's person with the same number.
    let first = Stream::started(1, "0301", "2005-02-01");
    let twice = Stream::started(2, "1201", "2005-03-01");
    // Another person, who moves from Oslo to Bergen: a new stream there
    // from the day after the old one's last day.
    let person = PersonNumber::parse(&synthetic_person(crate::fixture::d("1975-08-09"))).unwrap();
    let mut before = Stream::new(3, "0301");
    let registered = |s: &mut Stream, date: &str| {
        s.push(
            date,
            EventBody::Registered(Registered {
                person: person.clone(),
                birth_date: None,
                basis: Basis::Asylum,
            }),
        );
    };
    registered(&mut before, "2005-01-03");
    before.push("2005-01-04", EventBody::Claimed);
    before.push(
        "2005-01-10",
        EventBody::Granted(spor_domain::event::Granted { months: 24 }),
    );
    before.push("2005-02-01", EventBody::Started);
    before.push(
        "2005-08-31",
        EventBody::Interrupted(Interrupted {
            reason: InterruptedReason::Moved,
            to_unit: Some(spor_domain::UnitCode::parse("1201").unwrap()),
            support: vec![],
        }),
    );
    let mut after = Stream::new(4, "1201");
    registered(&mut after, "2005-09-01");
    let lines = [first.lines(), twice.lines(), before.lines(), after.lines()].concat();
    spor(&data)
        .args(["import", "-"])
        .write_stdin(lines)
        .assert()
        .success();
    let out = stdout(&data, &["lint", "--on", "2005-10-01", "--format", "json"]);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let twice_found: Vec<(String, String)> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == "registered_twice")
        .map(|f| {
            (
                f["participant"].as_str().unwrap().to_owned(),
                f["other"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let (a, b) = (first.participant.to_string(), twice.participant.to_string());
    assert_eq!(twice_found.len(), 2, "{twice_found:?}");
    assert!(twice_found.contains(&(a.clone(), b.clone())));
    assert!(twice_found.contains(&(b, a)));
    spor(&data)
        .args(["lint", "--on", "2005-10-01"])
        .assert()
        .success()
        .stdout(contains(
            "samme identitetsnummer er registrert hos deltaker",
        ));
}

/// An event for a participant the log does not hold is named as that (a
/// mistyped id), not as a rule about which event comes first; a bad date in
/// a line names its field and value.
#[test]
fn log_for_an_unknown_participant_and_a_bad_date_say_what_is_wrong() {
    let (tmp, data) = demo();
    spor(&data)
        .args([
            "log",
            "--type",
            "started",
            "--participant",
            "00000000-0000-0000-0000-0000000000b9",
            "--unit",
            "0301",
            "--date",
            "2008-01-01",
        ])
        .assert()
        .code(8)
        .stderr(contains(
            "no participant 00000000-0000-0000-0000-0000000000b9 in",
        ));
    let line = r#"{"id":"00000000-0000-0000-0000-0000000000a1","participant":"00000000-0000-0000-0000-0000000000b1","unit":"0301","type":"claimed","date":"2005-13-01","data":{}}"#;
    let file = tmp.path().join("bad.jsonl");
    std::fs::write(&file, format!("{line}\n")).unwrap();
    spor(&data)
        .arg("import")
        .arg(&file)
        .assert()
        .code(3)
        .stderr(contains(
            "line 1: not a valid event: `date`: `2005-13-01` is not a day in the calendar",
        ));
}

/// A participant may be named by the first digits of its id, as git takes
/// a short hash: one match is that participant; several are listed; none,
/// or too few digits, are said plainly.
#[test]
fn a_participant_may_be_named_by_a_short_id() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    // The fixture's ids: a0000000-0000-0000-0000-000000000001 and
    // a0000000-0000-0001-0000-000000000000.
    let one = Stream::started(1, "0301", "2007-02-01");
    let two = Stream::started(1 << 64, "0301", "2007-02-01");
    spor(&data)
        .args(["import", "-"])
        .write_stdin([one.lines(), two.lines()].concat())
        .assert()
        .success();
    let full = one.participant.to_string();
    let whole = stdout(&data, &["show", &full, "--format", "json"]);
    // Dashes may be typed or left out.
    let short = "a0000000-0000-0000-0";
    assert_eq!(stdout(&data, &["show", short, "--format", "json"]), whole);
    spor(&data)
        .args(["show", "a0000000"])
        .assert()
        .code(2)
        .stderr(
            contains("`a0000000` begins the id of more than one participant")
                .and(contains(full.as_str()))
                .and(contains(two.participant.to_string())),
        );
    spor(&data)
        .args(["show", "b00000"])
        .assert()
        .code(8)
        .stderr(contains("no participant's id begins with `b00000`"));
    spor(&data)
        .args(["show", "a00"])
        .assert()
        .code(2)
        .stderr(contains("at least its first 4 hexadecimal digits"));
    // log takes a short id too.
    spor(&data)
        .args([
            "log",
            "--type",
            "absence",
            "--participant",
            "a000000000000001",
            "--unit",
            "0301",
            "--date",
            "2007-03-01",
            "--fields",
            r#"{"hours":7.5,"approved":true}"#,
        ])
        .assert()
        .success()
        .stdout(contains(two.participant.to_string()));
}

/// An import whose registrations are refused names those root causes line
/// by line, and counts the lines refused only because of them, instead of
/// a refusal per line that cannot come first.
#[test]
fn an_import_reports_root_causes_first_and_counts_the_knock_on_refusals() {
    let (tmp, data) = demo();
    let file = tmp.path().join("demo.jsonl");
    spor(&data).arg("export").arg(&file).assert().success();
    // The first 300 lines: fewer refusals than the import stops reading at.
    let text: String = std::fs::read_to_string(&file)
        .unwrap()
        .lines()
        .take(300)
        .map(|l| format!("{l}\n"))
        .collect();
    std::fs::write(&file, &text).unwrap();
    let registrations = text.matches(r#""type":"registered""#).count();
    assert!(registrations > 5);
    // Without ids.allow_synthetic, every registration is refused.
    let out = spor(&tmp.path().join("elsewhere"))
        .env_remove("SPOR_ALLOW_SYNTHETIC_IDS")
        .arg("import")
        .arg(&file)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    let err = String::from_utf8(out.stderr).unwrap();
    // Each root cause on its own line: the registrations refused.
    let roots = err.lines().filter(|l| l.contains(": line ")).count();
    let refused_registrations = err.matches("[rule: person_number]").count();
    assert!(refused_registrations + 5 >= registrations, "{err}");
    // The rest in one line that counts them.
    let summary: Vec<&str> = err
        .lines()
        .filter(|l| {
            l.contains("refused because no registration of the participant comes before them")
        })
        .collect();
    assert_eq!(summary.len(), 1, "{err}");
    let knock_on: usize = summary[0]
        .split(": ")
        .nth(1)
        .and_then(|s| s.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap();
    let total: usize = err
        .lines()
        .filter(|l| l.ends_with("nothing was imported"))
        .find_map(|l| l.strip_prefix("spor: "))
        .and_then(|l| l.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap();
    assert_eq!(roots + knock_on, total, "{err}");
    assert!(knock_on > roots, "{err}");
    assert!(!err.contains("cannot come first"), "{err}");
}
