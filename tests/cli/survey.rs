//! `spor survey` as contract §2's command line: the JSON document's shape,
//! the spreadsheet CSV, and `--known-at`.

use predicates::prelude::*;
use predicates::str::contains;

use crate::spor;

fn demo() -> (tempfile::TempDir, std::path::PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    spor(&data)
        .args(["demo", "--participants", "300", "--seed", "5"])
        .assert()
        .success();
    (tmp, data)
}

fn json(data: &std::path::Path, args: &[&str]) -> serde_json::Value {
    let out = spor(data)
        .arg("survey")
        .args(args)
        .args(["--format", "json"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn the_json_document_has_the_contract_shape_and_adds_up() {
    let (_tmp, data) = demo();
    let by_county = json(&data, &["--year", "2007", "--by", "county"]);
    assert_eq!(by_county["year"], 2007);
    assert_eq!(by_county["by"], "county");
    let rows = by_county["rows"].as_array().unwrap();
    let codes: Vec<&str> = rows.iter().map(|r| r["code"].as_str().unwrap()).collect();
    let mut sorted = codes.clone();
    sorted.sort_unstable();
    assert_eq!(codes, sorted, "rows are sorted by code");
    assert!(
        rows.iter()
            .any(|r| r["code"] == "03" && r["name"] == "Oslo")
    );
    let q = |v: &serde_json::Value, k: &str| v["answers"][k].as_u64().unwrap();
    for row in rows.iter().chain([&by_county["total"]]) {
        assert_eq!(q(row, "q1"), q(row, "q2") + q(row, "q4"));
    }
    let total_q1: u64 = rows.iter().map(|r| q(r, "q1")).sum();
    assert_eq!(total_q1, q(&by_county["total"], "q1"));
    assert!(total_q1 > 50, "the demo gives a real survey");
    let national = json(&data, &["--year", "2007", "--by", "national"]);
    assert_eq!(national["total"], by_county["total"]);
    let by_unit = json(&data, &["--year", "2007", "--by", "unit"]);
    assert!(
        by_unit["rows"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["indicators"]["size_class"].is_string())
    );
}

#[test]
fn the_csv_opens_in_a_spreadsheet_with_norwegian_headers() {
    let (_tmp, data) = demo();
    let out = spor(&data)
        .args([
            "survey", "--year", "2007", "--by", "county", "--format", "csv",
        ])
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(
        out.stdout.starts_with(b"\xEF\xBB\xBF"),
        "UTF-8 byte-order mark"
    );
    let text = String::from_utf8(out.stdout[3..].to_vec()).unwrap();
    let header = text.lines().next().unwrap();
    assert!(
        header.starts_with("kode,navn,q1 Deltakere i løpet av året,q2 Deltakere ved årets slutt")
    );
    assert!(text.lines().last().unwrap().starts_with("total,Totalt,"));
    assert!(!text.contains('\u{a0}'), "no locale-formatted numbers");
}

/// A share of nothing is `.` (Statistics Norway's sign for "cannot be
/// computed"), never an empty cell or `:`: read with the csv crate.
#[test]
fn a_share_of_nothing_is_a_dot_in_the_csv() {
    let (_tmp, data) = demo();
    let out = spor(&data)
        .args([
            "survey", "--year", "2005", "--by", "unit", "--format", "csv",
        ])
        .output()
        .unwrap();
    let mut reader = csv::Reader::from_reader(&out.stdout[3..]);
    let header = reader.headers().unwrap().clone();
    let q4 = header.iter().position(|h| h.starts_with("q4 ")).unwrap();
    let share = header
        .iter()
        .position(|h| h.contains("andel") || h.contains("share"))
        .expect("a share column");
    let mut seen = 0;
    for row in reader.records() {
        let row = row.unwrap();
        if &row[q4] == "0" {
            assert_eq!(&row[share], ".", "{row:?}");
            seen += 1;
        } else {
            assert!(row[share].parse::<f64>().is_ok(), "{row:?}");
        }
    }
    assert!(seen > 0, "2005 has units with no exits");
}

#[test]
fn known_at_before_the_year_sees_nothing_and_a_bad_time_is_a_usage_error() {
    let (_tmp, data) = demo();
    let early = json(
        &data,
        &[
            "--year",
            "2007",
            "--by",
            "national",
            "--known-at",
            "2004-12-31",
        ],
    );
    assert_eq!(early["total"]["answers"]["q1"], 0);
    spor(&data)
        .args(["survey", "--year", "2007", "--known-at", "31.12.2007"])
        .assert()
        .code(2)
        .stderr(contains("neither an RFC 3339 time"));
    spor(&data)
        .args(["survey", "--year", "2007", "--by", "county"])
        .assert()
        .success()
        .stdout(contains("Resultatrapportering 2007 (per fylke)").and(contains("Totalt")));
}

#[test]
fn explain_lists_the_participants_behind_a_count_and_those_close_to_it() {
    let (_tmp, data) = demo();
    let county = json(&data, &["--year", "2007", "--by", "unit"]);
    let row = county["rows"]
        .as_array()
        .unwrap()
        .iter()
        .max_by_key(|r| r["answers"]["q4"].as_u64())
        .unwrap()
        .clone();
    let unit = row["code"].as_str().unwrap();
    let out = spor(&data)
        .args([
            "survey", "explain", "--year", "2007", "--unit", unit, "--key", "q4", "--format",
            "json",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let listed = v["participants"].as_array().unwrap();
    assert_eq!(listed.len() as u64, row["answers"]["q4"].as_u64().unwrap());
    assert!(listed.iter().all(|p| {
        p["events"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["by"].is_string())
    }));
    spor(&data)
        .args([
            "survey", "explain", "--year", "2007", "--unit", unit, "--key", "q4", "--not",
        ])
        .assert()
        .success()
        .stdout(contains("nær, men ikke talt med"));
    spor(&data)
        .args([
            "survey", "explain", "--year", "2007", "--unit", unit, "--key", "q99",
        ])
        .assert()
        .code(2)
        .stdout("")
        .stderr(
            contains("`q99` is not a survey question")
                .and(contains("q7a, q7b, q7c"))
                .and(contains("q13c")),
        );
}

#[test]
fn publish_hides_small_counts_in_every_format() {
    let (_tmp, data) = demo();
    let v = json(&data, &["--year", "2007", "--by", "unit", "--publish"]);
    assert_eq!(v["suppressed_up_to"], 4);
    let rows = v["rows"].as_array().unwrap();
    let mut hidden = 0;
    for row in rows {
        for (key, n) in row["answers"].as_object().unwrap() {
            match n.as_u64() {
                Some(n) => assert!(n == 0 || n > 4, "{} {key} = {n} published", row["code"]),
                None => hidden += 1,
            }
        }
    }
    assert!(hidden > 0, "a demo of 300 people has small unit counts");
    let out = spor(&data)
        .args([
            "survey",
            "--year",
            "2007",
            "--by",
            "unit",
            "--publish",
            "--format",
            "csv",
        ])
        .output()
        .unwrap();
    assert!(
        String::from_utf8(out.stdout).unwrap().contains(",:,"),
        "suppressed cells are shown as :"
    );
}

/// Imports, recorded now, a participant of `unit` who started on 1 March
/// 2007 and completed on 1 September 2007: one more in the unit's q1 and q4
/// of 2007.
fn import_a_late_participant(tmp: &std::path::Path, data: &std::path::Path, unit: &str) {
    let mut late = crate::fixture::Stream::started(777, unit, "2007-03-01");
    late.push(
        "2007-09-01",
        spor_domain::EventBody::Completed(spor_domain::event::Completed {
            reason: spor_domain::event::CompletedReason::WorkFullTime,
            main_activity: None,
            support: Vec::new(),
        }),
    );
    let lines: String = late
        .lines()
        .lines()
        .map(|l| {
            let mut v: serde_json::Value = serde_json::from_str(l).unwrap();
            v.as_object_mut().unwrap().remove("recorded_at");
            v.to_string() + "\n"
        })
        .collect();
    let file = tmp.join("late.jsonl");
    std::fs::write(&file, lines).unwrap();
    spor(data).arg("import").arg(&file).assert().success();
}

/// A unit's submission (issue 10, item 5): later events show as changes
/// against it, a publication that would show the unit otherwise is refused
/// (reliability P4) until made as the submission was, and submitting other
/// figures again asks for --again.
#[test]
fn a_submission_shows_what_changed_since_and_holds_publications_to_it() {
    let (tmp, data) = demo();
    // The unit with the most participants in 2007.
    let survey = json(&data, &["--year", "2007", "--by", "unit"]);
    let unit = survey["rows"]
        .as_array()
        .unwrap()
        .iter()
        .max_by_key(|r| r["answers"]["q1"].as_u64())
        .unwrap()["code"]
        .as_str()
        .unwrap()
        .to_owned();
    let submit = |extra: &[&str]| {
        spor(&data)
            .args(["survey", "submit", "--year", "2007", "--unit", &unit])
            .args(extra)
            .output()
            .unwrap()
    };
    let first = submit(&[]);
    assert!(
        first.status.success(),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    let submissions = || -> serde_json::Value {
        let out = spor(&data)
            .args([
                "survey",
                "submissions",
                "--year",
                "2007",
                "--format",
                "json",
            ])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).unwrap()
    };
    let before = submissions();
    assert_eq!(before["submissions"].as_array().unwrap().len(), 1);
    let submitted = &before["submissions"][0];
    assert_eq!(submitted["unit"], unit.as_str());
    assert_eq!(submitted["changed"], serde_json::json!([]));
    let q1 = submitted["answers"]["q1"].as_u64().unwrap();
    let row = survey["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["code"] == unit.as_str())
        .unwrap();
    assert_eq!(
        submitted["answers"], row["answers"],
        "what was submitted is the survey's row"
    );

    import_a_late_participant(tmp.path(), &data, &unit);
    let changed = submissions()["submissions"][0]["changed"].clone();
    let change = |key: &str| {
        changed
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["key"] == key)
            .cloned()
            .unwrap_or_else(|| panic!("{key} is not among the changes: {changed}"))
    };
    assert_eq!(change("q1")["submitted"], q1);
    assert_eq!(change("q1")["now"], q1 + 1);
    assert_eq!(
        change("q4")["now"].as_u64(),
        change("q4")["submitted"].as_u64().map(|n| n + 1)
    );

    // The unit's q1 is large enough to be published: a publication now
    // would show a figure other than the one submitted.
    let published = spor(&data)
        .args([
            "survey",
            "--year",
            "2007",
            "--by",
            "unit",
            "--publish",
            "--format",
            "json",
        ])
        .output()
        .unwrap();
    let err = String::from_utf8(published.stderr).unwrap();
    assert_eq!(published.status.code(), Some(3), "{err}");
    assert!(err.contains(&format!("Enhet {unit} leverte 2007")), "{err}");
    let known_at = err
        .split("--known-at ")
        .nth(1)
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap()
        .trim_end_matches(['.', ';']);
    let as_submitted = json(
        &data,
        &[
            "--year",
            "2007",
            "--by",
            "unit",
            "--publish",
            "--known-at",
            known_at,
        ],
    );
    let row = as_submitted["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["code"] == unit.as_str())
        .unwrap();
    assert_eq!(row["answers"]["q1"].as_u64(), Some(q1));

    // Submitting other figures is a correction, made only when asked.
    let again = submit(&[]);
    assert_eq!(again.status.code(), Some(3));
    assert!(
        String::from_utf8_lossy(&again.stderr).contains(&format!("q1 {q1} → {}", q1 + 1)),
        "{}",
        String::from_utf8_lossy(&again.stderr)
    );
    assert!(submit(&["--again"]).status.success());
    let after = submissions();
    assert_eq!(after["submissions"][0]["changed"], serde_json::json!([]));
    assert_eq!(after["submissions"][0]["answers"]["q1"], q1 + 1);
}

/// A spreadsheet built on the survey's CSV reads a published one the same
/// way: the same columns with or without --publish; and with nothing to
/// withhold (`survey.suppress_up_to` 0) the published CSV is the
/// unpublished one, byte for byte, though each is made by its own path.
#[test]
fn the_published_csv_has_the_same_columns_and_with_nothing_withheld_the_same_figures() {
    let (_tmp, data) = demo();
    let csv = |by: &str, publish: bool, up_to: &str| {
        let mut cmd = spor(&data);
        cmd.env("SPOR_SURVEY__SUPPRESS_UP_TO", up_to)
            .args(["survey", "--year", "2007", "--by", by, "--format", "csv"]);
        if publish {
            cmd.arg("--publish");
        }
        let out = cmd.output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    for by in ["unit", "county", "national"] {
        let plain = csv(by, false, "4");
        let published = csv(by, true, "4");
        let header = |s: &str| s.lines().next().unwrap().to_owned();
        assert_eq!(header(&published), header(&plain), "--by {by}");
        assert_eq!(
            published.lines().count(),
            plain.lines().count(),
            "the same rows, --by {by}"
        );
        assert_eq!(csv(by, true, "0"), plain, "--by {by} with nothing withheld");
    }
}

/// The national figures a directorate needs are published unless they are
/// small or needed to protect another; each withheld one is named with its
/// reason, in JSON and under the table.
#[test]
fn publish_names_each_withheld_national_figure_and_why() {
    let (_tmp, data) = demo();
    let v = json(&data, &["--year", "2007", "--by", "national", "--publish"]);
    let national = &v["rows"][0];
    assert!(
        national["answers"]["q1"].as_u64().is_some_and(|n| n > 4),
        "{national}"
    );
    let mut nulls: Vec<String> = national["answers"]
        .as_object()
        .unwrap()
        .iter()
        .filter(|(_, n)| n.is_null())
        .map(|(k, _)| k.clone())
        .collect();
    let listed: Vec<String> = v["withheld_totals"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["figure"].as_str().unwrap().to_owned())
        .collect();
    nulls.retain(|k| !listed.contains(k));
    assert!(nulls.is_empty(), "withheld but not listed: {nulls:?}");
    for w in v["withheld_totals"].as_array().unwrap() {
        assert!(
            ["small", "every_exit", "protects"].contains(&w["why"].as_str().unwrap()),
            "{w}"
        );
    }
    let out = spor(&data)
        .args([
            "survey",
            "--year",
            "2007",
            "--by",
            "national",
            "--publish",
            "--format",
            "table",
        ])
        .output()
        .unwrap();
    let table = String::from_utf8(out.stdout).unwrap();
    assert_eq!(
        table.matches("Skjult for hele landet: ").count(),
        listed.len(),
        "{table}"
    );
}

/// Reliability P4: a year is published by its report, and a later
/// publication of it with other figures is refused, with a message that
/// names the `--known-at` that makes the published version again; that
/// version equals the first.
#[test]
fn a_published_year_is_published_again_only_as_it_was() {
    let (tmp, data) = demo();
    let published = |extra: &[&str]| {
        let out = spor(&data)
            .args([
                "survey",
                "--year",
                "2007",
                "--by",
                "unit",
                "--publish",
                "--format",
                "json",
            ])
            .args(extra)
            .output()
            .unwrap();
        (
            out.status.code(),
            String::from_utf8(out.stdout).unwrap(),
            String::from_utf8(out.stderr).unwrap(),
        )
    };
    let (code, before, _) = published(&[]);
    assert_eq!(code, Some(0));
    spor(&data)
        .args(["report", "--year", "2007", "--out"])
        .arg(tmp.path().join("r"))
        .assert()
        .success();
    let recorded: serde_json::Value =
        serde_json::from_slice(&std::fs::read(data.join("publications.json")).unwrap()).unwrap();
    assert_eq!(recorded.as_array().unwrap().len(), 1);
    assert_eq!(recorded[0]["year"], 2007);
    // Unchanged figures may be published again, and the same report made
    // again records nothing new.
    assert_eq!(published(&[]).0, Some(0));
    spor(&data)
        .args(["report", "--year", "2007", "--out"])
        .arg(tmp.path().join("r"))
        .assert()
        .success();
    let again: serde_json::Value =
        serde_json::from_slice(&std::fs::read(data.join("publications.json")).unwrap()).unwrap();
    assert_eq!(again.as_array().unwrap().len(), 1);

    // A participant of 2007 registered late: the 2007 figures change.
    import_a_late_participant(tmp.path(), &data, "0301");

    let (code, out, err) = published(&[]);
    assert_eq!(code, Some(3), "{err}");
    assert_eq!(out, "");
    assert!(
        err.contains("2007 ble publisert") && err.contains("--known-at "),
        "{err}"
    );
    spor(&data)
        .args(["report", "--year", "2007", "--out"])
        .arg(tmp.path().join("r2"))
        .assert()
        .code(3)
        .stderr(contains("ble publisert"));
    assert!(
        !tmp.path().join("r2").join("report.html").exists(),
        "nothing written when refused"
    );

    let known_at = err
        .split("--known-at ")
        .nth(1)
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap()
        .trim_end_matches(['.', ';']);
    let (code, reproduced, err) = published(&["--known-at", known_at]);
    assert_eq!(code, Some(0), "{err}");
    let figures = |doc: &str| {
        let v: serde_json::Value = serde_json::from_str(doc).unwrap();
        (v["rows"].clone(), v["total"].clone())
    };
    assert_eq!(figures(&reproduced), figures(&before));
}
