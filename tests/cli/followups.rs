//! `spor followups` as contract §3's command line.

use predicates::prelude::*;
use predicates::str::contains;

use crate::fixture::{Stream, d};
use crate::spor;

#[test]
fn followups_lists_open_reminders_in_the_contract_shape() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let mut s = Stream::started(1, "030105", "2005-02-01");
    s.push(
        "2005-02-20",
        spor_domain::EventBody::LeaveGranted(spor_domain::event::LeaveGranted {
            from: d("2005-03-01"),
            to: d("2005-03-31"),
            reason: spor_domain::event::LeaveReason::Illness,
        }),
    );
    spor(&data)
        .arg("import")
        .arg("-")
        .write_stdin(s.lines())
        .assert()
        .success();
    let out = spor(&data)
        .args(["followups", "--on", "2005-04-05", "--format", "json"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let p = s.participant.to_string();
    assert!(
        text.starts_with(&format!(
            r#"{{"on":"2005-04-05","items":[{{"participant":"{p}","unit":"030105","kind":"leave_ends","due":"2005-04-01","overdue":true}}"#
        )),
        "{text}"
    );
    spor(&data)
        .args(["followups", "--on", "2005-04-05", "--unit", "030105"])
        .assert()
        .success()
        .stdout(
            contains("Permisjon slutter")
                .and(contains("01.04.2005"))
                .and(contains("1 over frist")),
        );
    spor(&data)
        .args([
            "followups",
            "--on",
            "2005-04-05",
            "--unit",
            "030101",
            "--format",
            "csv",
        ])
        .assert()
        .success()
        .stdout("participant,unit,kind,due,overdue\n");
}

/// The calendar feed parses with an independent parser (calcard, not the
/// crate that wrote it), has one event per open reminder with a stable UID,
/// and carries no identity number.
#[test]
fn the_calendar_feed_has_one_event_per_reminder_and_no_identity_number() {
    use calcard::icalendar::{ICalendar, ICalendarComponentType, ICalendarProperty};
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    spor(&data)
        .args(["demo", "--participants", "200", "--seed", "3"])
        .assert()
        .success();
    let unit = "030101";
    // A day with reminders due ahead and some already overdue.
    let on = "2008-09-01";
    let json = spor(&data)
        .args([
            "followups",
            "--on",
            on,
            "--unit",
            unit,
            "--within",
            "60",
            "--format",
            "json",
        ])
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    let expected = v["items"].as_array().unwrap().len();
    assert!(expected > 0, "the demo has open reminders");
    let ics = spor(&data)
        .args([
            "followups",
            "--on",
            on,
            "--unit",
            unit,
            "--within",
            "60",
            "--format",
            "ics",
        ])
        .output()
        .unwrap();
    assert!(ics.status.success());
    let text = String::from_utf8(ics.stdout).unwrap();
    let cal = ICalendar::parse(&text).unwrap_or_else(|e| panic!("not iCalendar: {e:?}"));
    let events: Vec<_> = cal
        .components
        .iter()
        .filter(|c| c.component_type == ICalendarComponentType::VEvent)
        .collect();
    assert_eq!(events.len(), expected);
    let mut uids: Vec<String> = events
        .iter()
        .map(|e| {
            let uid = e
                .entries
                .iter()
                .find(|x| x.name == ICalendarProperty::Uid)
                .expect("every event has a UID");
            format!("{:?}", uid.values)
        })
        .collect();
    assert!(events.iter().all(|e| {
        e.entries
            .iter()
            .any(|x| x.name == ICalendarProperty::Dtstart)
    }));
    uids.sort();
    uids.dedup();
    assert_eq!(uids.len(), expected, "UIDs are unique");
    // As a calendar user expects: spor's own PRODID, DTSTAMP the time the
    // file was made, and every open reminder on the feed's day or later
    // (an overdue one on the feed's day, its due date in the text).
    assert!(text.contains("PRODID:-//spor//"), "{text}");
    let today = chrono::Utc::now().format("%Y%m%d").to_string();
    let stamps: Vec<&str> = text
        .lines()
        .filter_map(|l| l.strip_prefix("DTSTAMP:"))
        .collect();
    assert_eq!(stamps.len(), expected);
    assert!(stamps.iter().all(|s| s.starts_with(&today)), "{stamps:?}");
    let starts: Vec<String> = text
        .lines()
        .filter(|l| l.starts_with("DTSTART"))
        .map(|l| l.rsplit(':').next().unwrap().trim().to_owned())
        .collect();
    assert!(
        starts.iter().all(|d| d.as_str() >= "20080602"),
        "{starts:?}"
    );
    let overdue = v["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["due"].as_str().unwrap() < on)
        .count();
    assert!(overdue > 0, "the demo has overdue reminders on {on}");
    assert_eq!(text.matches("SUMMARY:Forfalt ").count(), overdue);
    // No identity number of any participant appears in the feed.
    let export = String::from_utf8(spor(&data).arg("export").output().unwrap().stdout).unwrap();
    let people: Vec<String> = export
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter_map(|v| v["data"]["person"].as_str().map(str::to_owned))
        .collect();
    assert!(people.len() > 100);
    assert!(
        people.iter().all(|p| !text.contains(p.as_str())),
        "an identity number is in the calendar feed"
    );
    spor(&data)
        .args(["followups", "--on", on, "--format", "ics"])
        .assert()
        .code(2);
}

/// One rule, one home: with `post_exit_window_months = 2`, a contact 41 days
/// after the 12-month due date answers the reminder in `followups` and counts
/// in the survey's one-year result alike; with the default month, in neither.
#[test]
fn a_configured_contact_window_is_the_same_for_followups_and_the_survey() {
    use spor_domain::EventBody;
    use spor_domain::event::{Completed, CompletedReason, FollowUp, FollowUpOutcome};
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let file = tmp.path().join("log.jsonl");
    let mut s = Stream::started(1, "0301", "2005-02-01");
    // A job seeker at exit (wage subsidy): in the one-year indicator.
    s.push(
        "2006-12-31",
        EventBody::Completed(Completed {
            reason: CompletedReason::WageSubsidy,
            main_activity: None,
            support: vec![],
        }),
    );
    // Due 31.12.2007; this contact is 41 days after.
    s.push(
        "2008-02-10",
        EventBody::FollowUp(FollowUp {
            outcome: FollowUpOutcome::Work,
            channel: None,
            note: None,
        }),
    );
    std::fs::write(&file, s.lines()).unwrap();
    spor(&data).arg("import").arg(&file).assert().success();

    let twelve_month_open = |window: &str| {
        let out = spor(&data)
            .env("SPOR_REMINDERS__POST_EXIT_WINDOW_MONTHS", window)
            .args([
                "followups",
                "--on",
                "2008-02-15",
                "--within",
                "0",
                "--format",
                "json",
            ])
            .output()
            .unwrap();
        assert!(out.status.success());
        let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        doc["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|i| i["kind"] == "post_exit" && i["due"] == "2007-12-31")
    };
    let one_year = |window: &str| {
        let out = spor(&data)
            .env("SPOR_REMINDERS__POST_EXIT_WINDOW_MONTHS", window)
            .args([
                "survey",
                "--year",
                "2006",
                "--by",
                "national",
                "--known-at",
                "2008-12-31",
                "--format",
                "json",
            ])
            .output()
            .unwrap();
        assert!(out.status.success());
        let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        doc["total"]["one_year"]["work_or_education"]
            .as_u64()
            .unwrap()
    };
    // A two-month window: answered, and counted.
    assert!(
        !twelve_month_open("2"),
        "with a two-month window the contact answers the reminder"
    );
    assert_eq!(
        one_year("2"),
        1,
        "with a two-month window the contact counts in the one-year result"
    );
    // The default month: the window closed on 31.01.2008 unanswered; not counted.
    assert_eq!(one_year("1"), 0);
}
