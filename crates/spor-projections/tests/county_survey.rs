//! A log whose 2007 survey is known in advance, at county level: a few
//! hundred participants in three counties, each group written out with the
//! answers it must give, and noise that must not count (exits in 2006,
//! starts in 2008, grants never started, refusals, retracted exits and a
//! retracted start). Every cell is compared.

#![allow(clippy::unwrap_used)] // in a test, a failed unwrap is a failed test, with its line

mod common;

use common::{Person, d, leave};
use spor_domain::EventBody;
use spor_domain::event::*;
use spor_projections::Projections;
use spor_projections::survey::{Answers, Grouping, SurveyRequest, survey};

/// Builds `n` participants of `unit`, each with `story` applied after the
/// registration, claim and grant.
fn group(
    log: &mut Vec<Person>,
    next: &mut u128,
    unit: &str,
    n: usize,
    story: impl Fn(&mut Person),
) {
    for _ in 0..n {
        *next += 1;
        let mut p = Person::in_unit(*next, unit);
        story(&mut p);
        log.push(p);
    }
}

fn completed(reason: CompletedReason, support: Vec<Support>) -> EventBody {
    EventBody::Completed(Completed {
        reason,
        main_activity: None,
        support,
    })
}

#[test]
fn the_2007_survey_of_three_counties_is_what_was_written_down() {
    let mut people = Vec::new();
    let mut n = 0;
    // Oslo (03), Gamle Oslo ward: 120 people.
    group(&mut people, &mut n, "030101", 60, |p| {
        p.at("2006-03-01", EventBody::Started); // active all of 2007
    });
    group(&mut people, &mut n, "030101", 25, |p| {
        p.at("2006-03-01", EventBody::Started);
        p.at(
            "2007-05-31",
            completed(CompletedReason::WorkFullTime, vec![]),
        ); // under two years
    });
    group(&mut people, &mut n, "030101", 10, |p| {
        p.at("2006-03-01", EventBody::Started);
        p.at(
            "2007-09-30",
            EventBody::Interrupted(Interrupted {
                reason: InterruptedReason::Moved,
                to_unit: None,
                support: vec![],
            }),
        );
    });
    group(&mut people, &mut n, "030101", 5, |p| {
        p.at("2006-03-01", EventBody::Started);
        p.at(
            "2007-11-30",
            EventBody::Stopped(Stopped {
                reason: StoppedReason::Health,
                main_activity: None,
                support: vec![Support::SocialAssistance],
            }),
        );
    });
    group(&mut people, &mut n, "030101", 20, |p| {
        p.at("2005-03-01", EventBody::Started);
        p.at(
            "2006-12-31",
            completed(CompletedReason::UpperSecondary, vec![]),
        ); // noise: ended in 2006
    });
    // Bergen (12): 90 people.
    group(&mut people, &mut n, "1201", 40, |p| {
        p.at("2007-03-01", EventBody::Started);
        p.at("2007-12-01", leave("2007-12-15", "2008-02-15")); // on leave on 31 December
    });
    group(&mut people, &mut n, "1201", 30, |p| {
        p.at("2005-02-01", EventBody::Started);
        p.at("2006-12-01", EventBody::Extended(Extended { months: 30 }));
        p.at(
            "2007-08-01",
            completed(
                CompletedReason::HigherEducation,
                vec![Support::InsuranceBenefit],
            ),
        ); // granted over two years
    });
    group(&mut people, &mut n, "1201", 12, |p| {
        p.at("2008-01-02", EventBody::Started); // noise: starts in 2008
    });
    group(&mut people, &mut n, "1201", 8, |p| {
        p.at("2006-02-01", EventBody::Started);
        let exit = p.at("2007-04-30", completed(CompletedReason::NavMeasure, vec![]));
        p.at(
            "2007-05-15",
            EventBody::Retracted(Retracted {
                event: exit,
                why: "feil person".into(),
            }),
        ); // noise: retracted
    });
    // Tromsø (19): 70 people.
    group(&mut people, &mut n, "1902", 35, |p| {
        p.at("2006-01-02", EventBody::Started);
        p.at(
            "2008-01-01",
            completed(CompletedReason::WorkPartTime, vec![]),
        ); // in the programme at the end of 2007
    });
    group(&mut people, &mut n, "1902", 20, |p| {
        p.at("2005-06-01", EventBody::Started);
        p.at(
            "2007-06-01",
            completed(CompletedReason::WageSubsidy, vec![Support::OtherSupport]),
        ); // exactly two years
    });
    group(&mut people, &mut n, "1902", 9, |_| {}); // noise: granted, never started
    group(&mut people, &mut n, "1902", 6, |p| {
        p.at("2006-05-01", EventBody::Started);
        p.at(
            "2007-02-28",
            EventBody::Stopped(Stopped {
                reason: StoppedReason::Other,
                main_activity: Some(MainActivity::NoActivity),
                support: vec![],
            }),
        );
    });

    // Noise in every county: claims refused (one after an offer), and a
    // start retracted before anything else happened.
    for unit in ["030101", "1201", "1902"] {
        for _ in 0..7 {
            n += 1;
            let mut p = Person::claimed_in(n, unit);
            p.at("2006-11-20", EventBody::Offered);
            p.at(
                "2007-01-15",
                EventBody::Refused(Refused {
                    reason: "har ikke rett".into(),
                }),
            );
            people.push(p);
        }
        n += 1;
        let mut p = Person::claimed_in(n, unit);
        p.at(
            "2007-03-10",
            EventBody::Refused(Refused {
                reason: "søkt for sent".into(),
            }),
        );
        people.push(p);
        n += 1;
        let mut p = Person::in_unit(n, unit);
        let start = p.at("2007-04-02", EventBody::Started);
        p.at(
            "2007-04-03",
            EventBody::Retracted(Retracted {
                event: start,
                why: "registrert på feil person".into(),
            }),
        );
        people.push(p);
    }

    let mut proj = Projections::new();
    let mut seq = 0;
    for p in &people {
        for e in p.projections_events() {
            seq += 1;
            proj.apply(seq, e);
        }
    }
    let request = SurveyRequest {
        year: 2007,
        by: Grouping::County,
        known_at: None,
        as_of: d("2030-01-01"),
    };
    let walked = survey(&proj, &request);
    proj.settle(2);
    let s = survey(&proj, &request);
    assert_eq!(walked, s, "walked and settled");
    let row = |code: &str| {
        s.rows
            .iter()
            .find(|r| r.code == code)
            .unwrap_or_else(|| panic!("no row {code}"))
            .answers
    };

    let oslo = Answers {
        q1: 100,
        q2: 60,
        q4: 40,
        q5: 40,
        q7b: 10,
        q8a: 5,
        q10a: 25,
        q13a: 5,
        ..Answers::default()
    };
    let bergen = Answers {
        q1: 78,
        q2: 48,
        q3: 40,
        q4: 30,
        q6: 30,
        q9b: 30,
        q13b: 30,
        ..Answers::default()
    };
    let tromso = Answers {
        q1: 61,
        q2: 35,
        q4: 26,
        q5: 6,
        q11a: 20,
        q12c: 6,
        q13c: 20,
        ..Answers::default()
    };
    assert_eq!(row("03"), oslo, "Oslo");
    assert_eq!(row("12"), bergen, "Hordaland");
    assert_eq!(row("19"), tromso, "Troms");
    assert_eq!(s.rows.len(), 3);
}
