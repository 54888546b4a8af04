//! Every rule of `Timeline::admit` (contract §1), tested from both sides: an
//! event the rule lets through and one it refuses, with the refusal's text as
//! an inline snapshot and its stable code beside it.
//!
//! All events come from one helper, [`Given`], which builds a participant's
//! stream step by step the way an adviser would log it: fixed ids from a
//! counter, unit 0301, recorded the morning after the event's date, by
//! `adviser-1`. A step that the rules refuse stops the test with the refusal,
//! so every timeline a test starts from is one the rules accept.

use chrono::{DateTime, Days, NaiveDate, Utc};
use insta::assert_snapshot;
use spor_domain::event::{
    Absence, Basis, Completed, CompletedReason, Extended, FollowUp, FollowUpOutcome, Granted,
    Handover, HandoverTo, Hours, Interrupted, InterruptedReason, LeaveGranted, LeaveReason,
    MainActivity, MeasureEnded, MeasureStarted, Refused, Registered, Retracted, Stopped,
    StoppedReason, Support,
};
use spor_domain::person::{self, PersonNumber, SyntheticIds};
use spor_domain::{Event, EventBody, EventId, ParticipantId, Policy, Refusal, Timeline, UnitCode};
use uuid::Uuid;

// ---------------------------------------------------------------------------
// The helper
// ---------------------------------------------------------------------------

/// A participant's stream as logged so far, and the means to make the next event.
#[derive(Clone)]
struct Given {
    timeline: Timeline,
    policy: Policy,
    /// The number in the next event's id.
    next_id: u128,
    /// The next place in the global log.
    next_seq: u64,
}

impl Given {
    /// A stream with no events yet, under the default policy (synthetic ids refused).
    fn empty() -> Self {
        Self {
            timeline: Timeline::new(),
            policy: Policy::default(),
            next_id: 1,
            next_seq: 1,
        }
    }

    /// Event 1: registered on 2006-01-10 with a real fødselsnummer.
    fn registered() -> Self {
        let mut g = Self::empty();
        g.log(d(2006, 1, 10), registered(&fnr(born()), None));
        g
    }

    /// Event 2: claimed on 2006-01-20.
    fn claimed() -> Self {
        let mut g = Self::registered();
        g.log(d(2006, 1, 20), EventBody::Claimed);
        g
    }

    /// Event 3: granted for 24 months on 2006-02-01.
    fn granted() -> Self {
        let mut g = Self::claimed();
        g.log(d(2006, 2, 1), granted(24));
        g
    }

    /// Event 4: started on 2006-03-01.
    fn started() -> Self {
        let mut g = Self::granted();
        g.log(d(2006, 3, 1), EventBody::Started);
        g
    }

    /// Event 5: completed (work_full_time) with 2008-02-29 as the last day.
    fn ended() -> Self {
        let mut g = Self::started();
        g.log(
            d(2008, 2, 29),
            completed(CompletedReason::WorkFullTime, None, &[]),
        );
        g
    }

    /// The next event of this stream, not yet logged.
    fn event(&mut self, date: NaiveDate, body: EventBody) -> Event {
        let id = EventId(Uuid::from_u128(self.next_id));
        self.next_id += 1;
        Event {
            id,
            participant: ParticipantId(Uuid::from_u128(0xA)),
            unit: unit("0301"),
            date,
            recorded_at: morning(
                date.checked_add_days(Days::new(1))
                    .expect("a date in range"),
            ),
            by: Some("adviser-1".to_owned()),
            body,
        }
    }

    /// Makes the next event and logs it; it must be admitted.
    #[track_caller]
    fn log(&mut self, date: NaiveDate, body: EventBody) -> EventId {
        let e = self.event(date, body);
        self.log_event(e)
    }

    /// Logs an event made earlier; it must be admitted.
    #[track_caller]
    fn log_event(&mut self, e: Event) -> EventId {
        self.admits(&e);
        let id = e.id;
        self.timeline.push(self.next_seq, e);
        self.next_seq += 1;
        id
    }

    /// Asserts that the rules let `e` join the stream (without logging it).
    #[track_caller]
    fn admits(&self, e: &Event) {
        if let Err(r) = self.timeline.admit(e, &self.policy) {
            panic!("expected {} to be admitted, but: {r}", e.body.kind());
        }
    }

    /// Asserts that the rules refuse `e`, and returns the refusal.
    #[track_caller]
    fn refuses(&self, e: &Event) -> Refusal {
        match self.timeline.admit(e, &self.policy) {
            Ok(()) => panic!(
                "expected {} on {} to be refused, but it was admitted",
                e.body.kind(),
                e.date
            ),
            Err(r) => r,
        }
    }
}

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).expect("a valid date in a test")
}

/// 08:00 UTC on `date`.
fn morning(date: NaiveDate) -> DateTime<Utc> {
    date.and_hms_opt(8, 0, 0).expect("a valid time").and_utc()
}

/// `e`, recorded (late) on the morning of `on`.
fn recorded(mut e: Event, on: NaiveDate) -> Event {
    e.recorded_at = morning(on);
    e
}

fn unit(s: &str) -> UnitCode {
    UnitCode::parse(s).expect("a valid unit number in a test")
}

fn born() -> NaiveDate {
    d(1975, 3, 14)
}

/// A valid identity number for `birth` with the given month offset (0 real, 40 or 80 synthetic).
fn number(birth: NaiveDate, month_offset: u32) -> String {
    (100..500)
        .find_map(|i| person::make_fodselsnummer(birth, i, month_offset))
        .expect("some individual number has check digits")
}

fn fnr(birth: NaiveDate) -> String {
    number(birth, 0)
}

// Event bodies, with the fields a test varies as arguments.

fn registered(person: &str, birth_date: Option<NaiveDate>) -> EventBody {
    EventBody::Registered(Registered {
        person: PersonNumber::parse(person).expect("11 or 12 digits"),
        birth_date,
        basis: Basis::Resettlement,
    })
}

fn granted(months: u32) -> EventBody {
    EventBody::Granted(Granted { months })
}

fn refused(reason: &str) -> EventBody {
    EventBody::Refused(Refused {
        reason: reason.to_owned(),
    })
}

fn leave(from: NaiveDate, to: NaiveDate) -> EventBody {
    EventBody::LeaveGranted(LeaveGranted {
        from,
        to,
        reason: LeaveReason::Parental,
    })
}

fn extended(months: u32) -> EventBody {
    EventBody::Extended(Extended { months })
}

fn measure_started(measure: &str, hours_per_week_tenths: u32) -> EventBody {
    EventBody::MeasureStarted(MeasureStarted {
        measure: measure.to_owned(),
        hours_per_week: Hours::from_tenths(hours_per_week_tenths),
    })
}

fn measure_ended(measure: &str) -> EventBody {
    EventBody::MeasureEnded(MeasureEnded {
        measure: measure.to_owned(),
    })
}

fn absence(hours_tenths: u32) -> EventBody {
    EventBody::Absence(Absence {
        hours: Hours::from_tenths(hours_tenths),
        approved: true,
    })
}

fn handover() -> EventBody {
    EventBody::Handover(Handover {
        to: HandoverTo::Nav,
    })
}

fn completed(
    reason: CompletedReason,
    main_activity: Option<MainActivity>,
    support: &[Support],
) -> EventBody {
    EventBody::Completed(Completed {
        reason,
        main_activity,
        support: support.to_vec(),
    })
}

fn stopped(
    reason: StoppedReason,
    main_activity: Option<MainActivity>,
    support: &[Support],
) -> EventBody {
    EventBody::Stopped(Stopped {
        reason,
        main_activity,
        support: support.to_vec(),
    })
}

fn interrupted(reason: InterruptedReason, to_unit: Option<&str>, support: &[Support]) -> EventBody {
    EventBody::Interrupted(Interrupted {
        reason,
        to_unit: to_unit.map(unit),
        support: support.to_vec(),
    })
}

fn follow_up(note: Option<&str>) -> EventBody {
    EventBody::FollowUp(FollowUp {
        outcome: FollowUpOutcome::Work,
        channel: None,
        note: note.map(str::to_owned),
    })
}

fn retracted(target: EventId, why: &str) -> EventBody {
    EventBody::Retracted(Retracted {
        event: target,
        why: why.to_owned(),
    })
}

// ---------------------------------------------------------------------------
// Registration and identity
// ---------------------------------------------------------------------------

#[test]
fn a_stream_begins_with_registered() {
    let mut g = Given::empty();
    let claimed = g.event(d(2006, 1, 20), EventBody::Claimed);
    let r = g.refuses(&claimed);
    assert_eq!(r.rule().code(), "first_not_registered");
    assert_snapshot!(r, @"event 00000000-0000-0000-0000-000000000001: `claimed` cannot come first; every stream begins with `registered`");

    g.log(d(2006, 1, 10), registered(&fnr(born()), None));
    g.admits(&claimed);

    // Judged by date: a claim dated before the registration comes first.
    let early = g.event(d(2006, 1, 5), EventBody::Claimed);
    let r = g.refuses(&early);
    assert_eq!(r.rule().code(), "first_not_registered");
    assert_snapshot!(r, @"event 00000000-0000-0000-0000-000000000003: `claimed` cannot come first; every stream begins with `registered`");
}

#[test]
fn a_stream_has_one_registered() {
    let mut g = Given::registered();
    let again = g.event(d(2006, 2, 1), registered(&fnr(born()), None));
    let r = g.refuses(&again);
    assert_eq!(r.rule().code(), "already_registered");
    assert_snapshot!(r, @"event 00000000-0000-0000-0000-000000000002: the participant is already registered; a stream has one `registered`");

    let mut fresh = Given::empty();
    let first = fresh.event(d(2006, 2, 1), registered(&fnr(born()), None));
    fresh.admits(&first);
}

#[test]
fn an_identity_number_with_wrong_check_digits_is_refused() {
    let mut g = Given::empty();
    let good = fnr(born());
    let mut bad = good.clone().into_bytes();
    bad[10] = if bad[10] == b'9' { b'0' } else { bad[10] + 1 };
    let bad = String::from_utf8(bad).expect("ASCII digits");

    let e = g.event(d(2006, 1, 10), registered(&bad, None));
    let r = g.refuses(&e);
    assert_eq!(r.rule().code(), "person_number");
    assert_snapshot!(r, @"event 00000000-0000-0000-0000-000000000001: the identity number's check digits are wrong (mistyped?)");

    let e = g.event(d(2006, 1, 10), registered(&good, None));
    g.admits(&e);
}

#[test]
fn synthetic_identity_numbers_need_the_policy() {
    let synthetic = number(born(), 40);
    let mut g = Given::empty();
    let e = g.event(d(2006, 1, 10), registered(&synthetic, None));
    let r = g.refuses(&e);
    assert_eq!(r.rule().code(), "person_number");
    assert_snapshot!(r, @"event 00000000-0000-0000-0000-000000000001: the identity number is a synthetic test number; they are accepted only when ids.allow_synthetic is on");

    let allowed = Given {
        policy: Policy {
            synthetic_ids: SyntheticIds::Allowed,
        },
        ..Given::empty()
    };
    allowed.admits(&e);
}

#[test]
fn a_duf_number_needs_a_birth_date() {
    let mut g = Given::empty();
    let without = g.event(d(2006, 1, 10), registered("200612345678", None));
    let r = g.refuses(&without);
    assert_eq!(r.rule().code(), "duf_without_birth_date");
    assert_snapshot!(r, @"event 00000000-0000-0000-0000-000000000001: a DUF-nummer needs `birth_date` beside it");

    let with = g.event(
        d(2006, 1, 10),
        registered("200612345678", Some(d(1980, 5, 5))),
    );
    g.admits(&with);
}

#[test]
fn a_birth_date_must_agree_with_the_fodselsnummer() {
    let mut g = Given::empty();
    let wrong = g.event(
        d(2006, 1, 10),
        registered(&fnr(born()), Some(d(1975, 3, 15))),
    );
    let r = g.refuses(&wrong);
    assert_eq!(r.rule().code(), "birth_date_mismatch");
    assert_snapshot!(r, @"event 00000000-0000-0000-0000-000000000001: `birth_date` 1975-03-15 contradicts the identity number, which gives 1975-03-14");

    let same = g.event(d(2006, 1, 10), registered(&fnr(born()), Some(born())));
    g.admits(&same);
}

// ---------------------------------------------------------------------------
// Application and decision
// ---------------------------------------------------------------------------

#[test]
fn a_decision_needs_a_claim_or_an_offer() {
    let mut g = Given::registered();
    let grant = g.event(d(2006, 2, 1), granted(24));
    let r = g.refuses(&grant);
    assert_eq!(r.rule().code(), "decision_without_application");
    assert_snapshot!(r, @"event 00000000-0000-0000-0000-000000000002: `granted` needs a `claimed` or `offered` before it");

    let refusal = g.event(d(2006, 2, 1), refused("no right to the programme"));
    let r = g.refuses(&refusal);
    assert_eq!(r.rule().code(), "decision_without_application");
    assert_snapshot!(r, @"event 00000000-0000-0000-0000-000000000003: `refused` needs a `claimed` or `offered` before it");

    for application in [EventBody::Claimed, EventBody::Offered] {
        let mut applied = g.clone();
        applied.log(d(2006, 1, 20), application);
        applied.admits(&grant);
        applied.admits(&refusal);
    }
}

#[test]
fn no_application_or_refusal_after_the_grant() {
    let mut g = Given::granted();
    let claimed = g.event(d(2006, 2, 10), EventBody::Claimed);
    let r = g.refuses(&claimed);
    assert_eq!(r.rule().code(), "application_after_grant");
    assert_snapshot!(r, @"event 00000000-0000-0000-0000-000000000004: `claimed` after the programme was granted on 2006-02-01");

    let offered = g.event(d(2006, 2, 10), EventBody::Offered);
    let r = g.refuses(&offered);
    assert_eq!(r.rule().code(), "application_after_grant");
    assert_snapshot!(r, @"event 00000000-0000-0000-0000-000000000005: `offered` after the programme was granted on 2006-02-01");

    let refusal = g.event(d(2006, 2, 10), refused("changed our minds"));
    let r = g.refuses(&refusal);
    assert_eq!(r.rule().code(), "application_after_grant");
    assert_snapshot!(r, @"event 00000000-0000-0000-0000-000000000006: `refused` after the programme was granted on 2006-02-01");

    // An offer dated before the grant, logged late, is in its place.
    let offered_before = recorded(g.event(d(2006, 1, 25), EventBody::Offered), d(2006, 2, 10));
    g.admits(&offered_before);
}

#[test]
fn the_programme_is_granted_once() {
    let mut g = Given::granted();
    let again = g.event(d(2006, 2, 15), granted(30));
    let r = g.refuses(&again);
    assert_eq!(r.rule().code(), "already_granted");
    assert_snapshot!(r, @"event 00000000-0000-0000-0000-000000000004: the programme was already granted on 2006-02-01; use `extended` to change its length");

    let mut first = Given::claimed();
    let grant = first.event(d(2006, 2, 15), granted(30));
    first.admits(&grant);
}

#[test]
fn a_grant_is_for_1_to_36_months() {
    let mut g = Given::claimed();
    let one = g.event(d(2006, 2, 1), granted(1));
    g.admits(&one);
    let thirty_six = g.event(d(2006, 2, 1), granted(36));
    g.admits(&thirty_six);

    let zero = g.event(d(2006, 2, 1), granted(0));
    let r = g.refuses(&zero);
    assert_eq!(r.rule().code(), "months_out_of_range");
    assert_snapshot!(r, @"event 00000000-0000-0000-0000-000000000005: 0 months; a programme is granted for 1 to 36 months");

    let thirty_seven = g.event(d(2006, 2, 1), granted(37));
    let r = g.refuses(&thirty_seven);
    assert_eq!(r.rule().code(), "months_out_of_range");
    assert_snapshot!(r, @"event 00000000-0000-0000-0000-000000000006: 37 months; a programme is granted for 1 to 36 months");
}

// ---------------------------------------------------------------------------
// Start
// ---------------------------------------------------------------------------

#[test]
fn a_start_needs_a_grant_dated_on_or_before_it() {
    let mut g = Given::claimed();
    let start = g.event(d(2006, 3, 1), EventBody::Started);
    let r = g.refuses(&start);
    assert_eq!(r.rule().code(), "start_without_grant");
    assert_snapshot!(r, @"event 00000000-0000-0000-0000-000000000003: `started` needs a `granted` before it");

    g.log(d(2006, 2, 1), granted(24));
    g.admits(&start);

    // Same date as the grant, recorded after it: the grant comes first.
    let same_day = g.event(d(2006, 2, 1), EventBody::Started);
    g.admits(&same_day);

    let before_grant = g.event(d(2006, 1, 25), EventBody::Started);
    let r = g.refuses(&before_grant);
    assert_eq!(r.rule().code(), "start_without_grant");
    assert_snapshot!(r, @"event 00000000-0000-0000-0000-000000000006: `started` needs a `granted` before it");
}

#[test]
fn the_programme_starts_once() {
    let mut g = Given::started();
    let again = g.event(d(2006, 4, 1), EventBody::Started);
    let r = g.refuses(&again);
    assert_eq!(r.rule().code(), "already_started");
    assert_snapshot!(r, @"event 00000000-0000-0000-0000-000000000005: the programme already started on 2006-03-01");

    // An earlier start logged late turns the stored start into a second one.
    let earlier = g.event(d(2006, 2, 15), EventBody::Started);
    let r = g.refuses(&earlier);
    assert_eq!(r.rule().code(), "already_started");
    assert_snapshot!(r, @"event 00000000-0000-0000-0000-000000000006: in its place by date the timeline breaks a rule: event 00000000-0000-0000-0000-000000000004: the programme already started on 2006-02-15");

    let mut first = Given::granted();
    let start = first.event(d(2006, 4, 1), EventBody::Started);
    first.admits(&start);
}

// ---------------------------------------------------------------------------
// In the programme: leave, extension, measures, absence, handover
// ---------------------------------------------------------------------------

#[test]
fn programme_events_need_the_start() {
    let mut g = Given::granted();
    let bodies = [
        leave(d(2006, 3, 1), d(2006, 3, 31)),
        EventBody::LeaveEnded,
        extended(30),
        measure_started("NORSK", 150),
        measure_ended("NORSK"),
        absence(40),
        handover(),
    ];
    let before_start: Vec<Event> = bodies
        .iter()
        .map(|b| g.event(d(2006, 2, 20), b.clone()))
        .collect();
    let refusals: Vec<String> = before_start
        .iter()
        .map(|e| {
            let r = g.refuses(e);
            format!("{} | {r}", r.rule().code())
        })
        .collect();
    assert_snapshot!(refusals.join("\n"), @r"
    not_in_programme | event 00000000-0000-0000-0000-000000000004: `leave_granted` needs the programme to have started (a `started` dated on or before it)
    not_in_programme | event 00000000-0000-0000-0000-000000000005: `leave_ended` needs the programme to have started (a `started` dated on or before it)
    not_in_programme | event 00000000-0000-0000-0000-000000000006: `extended` needs the programme to have started (a `started` dated on or before it)
    not_in_programme | event 00000000-0000-0000-0000-000000000007: `measure_started` needs the programme to have started (a `started` dated on or before it)
    not_in_programme | event 00000000-0000-0000-0000-000000000008: `measure_ended` needs the programme to have started (a `started` dated on or before it)
    not_in_programme | event 00000000-0000-0000-0000-000000000009: `absence` needs the programme to have started (a `started` dated on or before it)
    not_in_programme | event 00000000-0000-0000-0000-00000000000a: `handover` needs the programme to have started (a `started` dated on or before it)
    ");

    // Logged after the start but dated before it, they are still outside.
    g.log(d(2006, 3, 1), EventBody::Started);
    let r = g.refuses(&before_start[5]);
    assert_eq!(r.rule().code(), "not_in_programme");

    // Dated in the programme, each is admitted.
    g.log(d(2006, 3, 10), leave(d(2006, 4, 1), d(2006, 4, 30)));
    g.log(d(2006, 4, 20), EventBody::LeaveEnded);
    g.log(d(2006, 5, 1), extended(30));
    g.log(d(2006, 5, 2), measure_started("NORSK", 150));
    g.log(d(2006, 6, 1), measure_ended("NORSK"));
    g.log(d(2006, 6, 2), absence(40));
    g.log(d(2007, 6, 1), handover());
}

#[test]
fn a_leave_cannot_begin_before_the_start() {
    let mut g = Given::started();
    let early = g.event(d(2006, 3, 10), leave(d(2006, 2, 20), d(2006, 3, 20)));
    let r = g.refuses(&early);
    assert_eq!(r.rule().code(), "leave_before_start");
    assert_snapshot!(r, @"event 00000000-0000-0000-0000-000000000005: leave from 2006-02-20 is before the start on 2006-03-01; a leave lies inside the programme");

    let from_start = g.event(d(2006, 3, 10), leave(d(2006, 3, 1), d(2006, 3, 20)));
    g.admits(&from_start);
}

#[test]
fn a_leave_cannot_begin_after_the_exit() {
    let mut g = Given::ended();
    // Decided before the exit, logged after it, but beginning the day after the last day.
    let after = recorded(
        g.event(d(2008, 2, 1), leave(d(2008, 3, 1), d(2008, 4, 30))),
        d(2008, 3, 5),
    );
    let r = g.refuses(&after);
    assert_eq!(r.rule().code(), "leave_after_exit");
    assert_snapshot!(r, @"event 00000000-0000-0000-0000-000000000006: leave from 2008-03-01 is after the exit on 2008-02-29; a leave lies inside the programme (retract the leave or date the exit later)");

    // Beginning on the last day, it lies inside the programme.
    let on_last_day = recorded(
        g.event(d(2008, 2, 1), leave(d(2008, 2, 29), d(2008, 4, 30))),
        d(2008, 3, 5),
    );
    g.admits(&on_last_day);
}

#[test]
fn an_exit_before_a_logged_leave_begins_is_refused() {
    let mut g = Given::started();
    g.log(d(2007, 5, 2), leave(d(2007, 6, 1), d(2007, 8, 31)));
    let exit = g.event(
        d(2007, 5, 15),
        completed(CompletedReason::WorkFullTime, None, &[]),
    );
    let r = g.refuses(&exit);
    assert_eq!(r.rule().code(), "leave_after_exit");
    assert_snapshot!(r, @"event 00000000-0000-0000-0000-000000000006: in its place by date the timeline breaks a rule: event 00000000-0000-0000-0000-000000000005: leave from 2007-06-01 is after the exit on 2007-05-15; a leave lies inside the programme (retract the leave or date the exit later)");

    let exit_on_first_leave_day = g.event(
        d(2007, 6, 1),
        completed(CompletedReason::WorkFullTime, None, &[]),
    );
    g.admits(&exit_on_first_leave_day);
}

#[test]
fn leave_ended_needs_a_leave_that_began_before_it() {
    let mut g = Given::started();
    let back = g.event(d(2006, 5, 1), EventBody::LeaveEnded);
    let r = g.refuses(&back);
    assert_eq!(r.rule().code(), "leave_ended_without_leave");
    assert_snapshot!(r, @"event 00000000-0000-0000-0000-000000000005: `leave_ended` needs a leave whose `from` is before 2006-05-01");

    g.log(d(2006, 4, 1), leave(d(2006, 5, 1), d(2006, 6, 30)));
    // Back on the leave's first day is no leave at all.
    let r = g.refuses(&back);
    assert_eq!(r.rule().code(), "leave_ended_without_leave");
    assert_snapshot!(r, @"event 00000000-0000-0000-0000-000000000005: `leave_ended` needs a leave whose `from` is before 2006-05-01");

    let next_day = g.event(d(2006, 5, 2), EventBody::LeaveEnded);
    g.admits(&next_day);
}

#[test]
fn a_leave_period_runs_forward() {
    let mut g = Given::started();
    let reversed = g.event(d(2006, 4, 1), leave(d(2006, 5, 10), d(2006, 5, 9)));
    let r = g.refuses(&reversed);
    assert_eq!(r.rule().code(), "leave_period_reversed");
    assert_snapshot!(r, @"event 00000000-0000-0000-0000-000000000005: leave `to` 2006-05-09 is before `from` 2006-05-10");

    let one_day = g.event(d(2006, 4, 1), leave(d(2006, 5, 10), d(2006, 5, 10)));
    g.admits(&one_day);
}

#[test]
fn an_extension_goes_to_at_most_36_months() {
    let mut g = Given::started();
    let to_36 = g.event(d(2007, 12, 1), extended(36));
    g.admits(&to_36);

    let to_37 = g.event(d(2007, 12, 1), extended(37));
    let r = g.refuses(&to_37);
    assert_eq!(r.rule().code(), "extension_too_long");
    assert_snapshot!(r, @"event 00000000-0000-0000-0000-000000000006: extension to 37 months; the limit is 36");
}

#[test]
fn an_extension_must_be_longer_than_what_is_granted() {
    let mut g = Given::started();
    let same = g.event(d(2007, 12, 1), extended(24));
    let r = g.refuses(&same);
    assert_eq!(r.rule().code(), "extension_not_longer");
    assert_snapshot!(r, @"event 00000000-0000-0000-0000-000000000005: extension to 24 months, but 24 months are already granted; `months` is the new total and must be longer");

    let shorter = g.event(d(2007, 12, 1), extended(20));
    let r = g.refuses(&shorter);
    assert_eq!(r.rule().code(), "extension_not_longer");
    assert_snapshot!(r, @"event 00000000-0000-0000-0000-000000000006: extension to 20 months, but 24 months are already granted; `months` is the new total and must be longer");

    g.log(d(2007, 12, 1), extended(30));
    let longer = g.event(d(2008, 1, 15), extended(33));
    g.admits(&longer);

    // A longer extension logged late, dated before the stored one, makes that one shorter.
    let earlier_longer = g.event(d(2007, 11, 1), extended(33));
    let r = g.refuses(&earlier_longer);
    assert_eq!(r.rule().code(), "extension_not_longer");
    assert_snapshot!(r, @"event 00000000-0000-0000-0000-000000000009: in its place by date the timeline breaks a rule: event 00000000-0000-0000-0000-000000000007: extension to 30 months, but 33 months are already granted; `months` is the new total and must be longer");
}

#[test]
fn a_measure_runs_from_its_start_to_its_end() {
    let mut g = Given::started();
    let end = g.event(d(2006, 4, 1), measure_ended("NORSK"));
    let r = g.refuses(&end);
    assert_eq!(r.rule().code(), "measure_not_started");
    assert_snapshot!(r, @"event 00000000-0000-0000-0000-000000000005: measure `NORSK` has no `measure_started` before it");

    g.log(d(2006, 3, 15), measure_started("NORSK", 150));
    g.admits(&end);

    let again = g.event(d(2006, 3, 20), measure_started("NORSK", 100));
    let r = g.refuses(&again);
    assert_eq!(r.rule().code(), "measure_already_open");
    assert_snapshot!(r, @"event 00000000-0000-0000-0000-000000000007: measure `NORSK` is already running; end it before starting it again");

    let other = g.event(d(2006, 3, 20), measure_started("ARBP", 100));
    g.admits(&other);

    g.log_event(end);
    let restart = g.event(d(2006, 4, 2), measure_started("NORSK", 100));
    g.admits(&restart);
}

// ---------------------------------------------------------------------------
// Exit and after
// ---------------------------------------------------------------------------

#[test]
fn only_a_started_programme_can_end() {
    let mut g = Given::granted();
    let exit = g.event(d(2006, 2, 20), stopped(StoppedReason::Health, None, &[]));
    let r = g.refuses(&exit);
    assert_eq!(r.rule().code(), "exit_before_start");
    assert_snapshot!(r, @"event 00000000-0000-0000-0000-000000000004: `stopped` needs the programme to have started; only a started programme can end");

    g.log(d(2006, 3, 1), EventBody::Started);
    let later = g.event(d(2006, 6, 30), stopped(StoppedReason::Health, None, &[]));
    g.admits(&later);
}

#[test]
fn a_participant_has_one_exit() {
    let mut g = Given::ended();
    let again = g.event(
        d(2008, 3, 10),
        interrupted(InterruptedReason::Unknown, None, &[]),
    );
    let r = g.refuses(&again);
    assert_eq!(r.rule().code(), "second_exit");
    assert_snapshot!(r, @"event 00000000-0000-0000-0000-000000000006: the programme already ended on 2008-02-29; a participant has one exit");

    // An earlier exit logged late turns the stored exit into a second one.
    let earlier = g.event(d(2008, 1, 31), stopped(StoppedReason::Health, None, &[]));
    let r = g.refuses(&earlier);
    assert_eq!(r.rule().code(), "second_exit");
    assert_snapshot!(r, @"event 00000000-0000-0000-0000-000000000007: in its place by date the timeline breaks a rule: event 00000000-0000-0000-0000-000000000005: the programme already ended on 2008-01-31; a participant has one exit");

    let mut first = Given::started();
    let exit = first.event(
        d(2008, 3, 10),
        interrupted(InterruptedReason::Unknown, None, &[]),
    );
    first.admits(&exit);
}

#[test]
fn only_follow_up_may_follow_the_exit() {
    let mut g = Given::ended();
    let absent = g.event(d(2008, 3, 3), absence(40));
    let r = g.refuses(&absent);
    assert_eq!(r.rule().code(), "after_exit");
    assert_snapshot!(r, @"event 00000000-0000-0000-0000-000000000006: `absence` after the exit on 2008-02-29; only follow_up or retracted may follow");

    let claimed = g.event(d(2008, 3, 3), EventBody::Claimed);
    let r = g.refuses(&claimed);
    assert_eq!(r.rule().code(), "after_exit");
    assert_snapshot!(r, @"event 00000000-0000-0000-0000-000000000007: `claimed` after the exit on 2008-02-29; only follow_up or retracted may follow");

    let contact = g.event(d(2008, 5, 2), follow_up(None));
    g.admits(&contact);

    // Logged after the exit but dated before it, an absence is in the programme.
    let late = recorded(g.event(d(2008, 2, 20), absence(40)), d(2008, 3, 10));
    g.admits(&late);
}

#[test]
fn an_exit_dated_before_logged_events_is_refused() {
    let mut g = Given::started();
    g.log(d(2007, 6, 1), absence(40));
    let exit = g.event(
        d(2007, 5, 31),
        completed(CompletedReason::WorkFullTime, None, &[]),
    );
    let r = g.refuses(&exit);
    assert_eq!(r.rule().code(), "after_exit");
    assert_snapshot!(r, @"event 00000000-0000-0000-0000-000000000006: in its place by date the timeline breaks a rule: event 00000000-0000-0000-0000-000000000005: `absence` after the exit on 2007-05-31; only follow_up or retracted may follow");

    let exit_on_that_day = g.event(
        d(2007, 6, 1),
        completed(CompletedReason::WorkFullTime, None, &[]),
    );
    g.admits(&exit_on_that_day);
}

#[test]
fn events_of_the_same_date_are_judged_in_recording_order() {
    // The exit is logged first, so an absence on the same day comes after it.
    let mut g = Given::ended();
    let same_day = g.event(d(2008, 2, 29), absence(40));
    let r = g.refuses(&same_day);
    assert_eq!(r.rule().code(), "after_exit");
    assert_snapshot!(r, @"event 00000000-0000-0000-0000-000000000006: `absence` after the exit on 2008-02-29; only follow_up or retracted may follow");

    // The absence logged first, the exit of the same day follows it.
    let mut h = Given::started();
    h.log(d(2008, 2, 29), absence(40));
    let exit = h.event(
        d(2008, 2, 29),
        completed(CompletedReason::WorkFullTime, None, &[]),
    );
    h.admits(&exit);
}

#[test]
fn a_follow_up_needs_an_exit_before_it() {
    let mut g = Given::started();
    let early = g.event(d(2007, 1, 10), follow_up(None));
    let r = g.refuses(&early);
    assert_eq!(r.rule().code(), "follow_up_without_exit");
    assert_snapshot!(r, @"event 00000000-0000-0000-0000-000000000005: `follow_up` is contact after exit; there is no exit before it");

    g.log(
        d(2007, 6, 30),
        completed(CompletedReason::WorkFullTime, None, &[]),
    );
    // Still dated before the exit.
    let r = g.refuses(&early);
    assert_eq!(r.rule().code(), "follow_up_without_exit");

    let on_last_day = g.event(d(2007, 6, 30), follow_up(None));
    g.admits(&on_last_day);
    let later = g.event(d(2007, 9, 1), follow_up(None));
    g.admits(&later);
}

#[test]
fn main_activity_is_required_with_reason_other() {
    let mut g = Given::started();
    let c = g.event(d(2007, 6, 30), completed(CompletedReason::Other, None, &[]));
    let r = g.refuses(&c);
    assert_eq!(r.rule().code(), "main_activity_required");
    assert_snapshot!(r, @"event 00000000-0000-0000-0000-000000000005: reason `other` needs `main_activity`");

    let s = g.event(d(2007, 6, 30), stopped(StoppedReason::Other, None, &[]));
    let r = g.refuses(&s);
    assert_eq!(r.rule().code(), "main_activity_required");
    assert_snapshot!(r, @"event 00000000-0000-0000-0000-000000000006: reason `other` needs `main_activity`");

    let c = g.event(
        d(2007, 6, 30),
        completed(CompletedReason::Other, Some(MainActivity::NoActivity), &[]),
    );
    g.admits(&c);
    let s = g.event(
        d(2007, 6, 30),
        stopped(StoppedReason::Other, Some(MainActivity::Work), &[]),
    );
    g.admits(&s);
}

#[test]
fn main_activity_is_refused_with_any_other_reason() {
    let mut g = Given::started();
    let c = g.event(
        d(2007, 6, 30),
        completed(CompletedReason::WorkFullTime, Some(MainActivity::Work), &[]),
    );
    let r = g.refuses(&c);
    assert_eq!(r.rule().code(), "main_activity_not_allowed");
    assert_snapshot!(r, @"event 00000000-0000-0000-0000-000000000005: `main_activity` is given only with reason `other`, not with `work_full_time`");

    let s = g.event(
        d(2007, 6, 30),
        stopped(StoppedReason::Health, Some(MainActivity::NoActivity), &[]),
    );
    let r = g.refuses(&s);
    assert_eq!(r.rule().code(), "main_activity_not_allowed");
    assert_snapshot!(r, @"event 00000000-0000-0000-0000-000000000006: `main_activity` is given only with reason `other`, not with `health`");

    let c = g.event(
        d(2007, 6, 30),
        completed(CompletedReason::WorkFullTime, None, &[]),
    );
    g.admits(&c);
    let s = g.event(d(2007, 6, 30), stopped(StoppedReason::Health, None, &[]));
    g.admits(&s);
}

#[test]
fn to_unit_is_given_only_when_moved() {
    let mut g = Given::started();
    let death = g.event(
        d(2007, 6, 30),
        interrupted(InterruptedReason::Death, Some("4601"), &[]),
    );
    let r = g.refuses(&death);
    assert_eq!(r.rule().code(), "to_unit_only_when_moved");
    assert_snapshot!(r, @"event 00000000-0000-0000-0000-000000000005: `to_unit` is given only with reason `moved`");

    let unknown = g.event(
        d(2007, 6, 30),
        interrupted(InterruptedReason::Unknown, Some("4601"), &[]),
    );
    let r = g.refuses(&unknown);
    assert_eq!(r.rule().code(), "to_unit_only_when_moved");

    let moved = g.event(
        d(2007, 6, 30),
        interrupted(InterruptedReason::Moved, Some("4601"), &[]),
    );
    g.admits(&moved);
    let moved_unknown_where = g.event(
        d(2007, 6, 30),
        interrupted(InterruptedReason::Moved, None, &[]),
    );
    g.admits(&moved_unknown_where);
}

#[test]
fn to_unit_is_another_unit() {
    let mut g = Given::started();
    let own = g.event(
        d(2007, 6, 30),
        interrupted(InterruptedReason::Moved, Some("0301"), &[]),
    );
    let r = g.refuses(&own);
    assert_eq!(r.rule().code(), "to_unit_is_own_unit");
    assert_snapshot!(r, @"event 00000000-0000-0000-0000-000000000005: `to_unit` 0301 is the participant's own unit");

    let other = g.event(
        d(2007, 6, 30),
        interrupted(InterruptedReason::Moved, Some("1103"), &[]),
    );
    g.admits(&other);
}

#[test]
fn support_lists_each_kind_once() {
    use Support::{InsuranceBenefit, OtherSupport, SocialAssistance};
    let mut g = Given::started();
    let twice = g.event(
        d(2007, 6, 30),
        completed(
            CompletedReason::WorkPartTime,
            None,
            &[SocialAssistance, InsuranceBenefit, SocialAssistance],
        ),
    );
    let r = g.refuses(&twice);
    assert_eq!(r.rule().code(), "duplicate_support");
    assert_snapshot!(r, @"event 00000000-0000-0000-0000-000000000005: `support` lists social_assistance twice");

    let stopped_twice = g.event(
        d(2007, 6, 30),
        stopped(StoppedReason::Health, None, &[OtherSupport, OtherSupport]),
    );
    let r = g.refuses(&stopped_twice);
    assert_eq!(r.rule().code(), "duplicate_support");
    assert_snapshot!(r, @"event 00000000-0000-0000-0000-000000000006: `support` lists other_support twice");

    let interrupted_twice = g.event(
        d(2007, 6, 30),
        interrupted(
            InterruptedReason::Moved,
            None,
            &[InsuranceBenefit, InsuranceBenefit],
        ),
    );
    let r = g.refuses(&interrupted_twice);
    assert_eq!(r.rule().code(), "duplicate_support");

    let all = g.event(
        d(2007, 6, 30),
        completed(
            CompletedReason::WorkPartTime,
            None,
            &[SocialAssistance, InsuranceBenefit, OtherSupport],
        ),
    );
    g.admits(&all);
}

// ---------------------------------------------------------------------------
// Free text, hours and dates on their own
// ---------------------------------------------------------------------------

#[test]
fn required_text_must_not_be_empty() {
    let mut g = Given::claimed();
    let empty = g.event(d(2006, 2, 1), refused(""));
    let r = g.refuses(&empty);
    assert_eq!(r.rule().code(), "text_missing");
    assert_snapshot!(r, @"event 00000000-0000-0000-0000-000000000003: `reason` must not be empty");

    let blank = g.event(d(2006, 2, 1), refused(" \t "));
    let r = g.refuses(&blank);
    assert_eq!(r.rule().code(), "text_missing");
    assert_snapshot!(r, @"event 00000000-0000-0000-0000-000000000004: `reason` must not be empty");

    let mut by_nobody = g.event(d(2006, 2, 1), refused("no right to the programme"));
    by_nobody.by = Some(String::new());
    let r = g.refuses(&by_nobody);
    assert_eq!(r.rule().code(), "text_missing");
    assert_snapshot!(r, @"event 00000000-0000-0000-0000-000000000005: `by` must not be empty");

    // `by` may be left out altogether (it is optional on import).
    by_nobody.by = None;
    g.admits(&by_nobody);

    let mut g = Given::started();
    let unnamed = g.event(d(2006, 4, 1), measure_started("", 150));
    let r = g.refuses(&unnamed);
    assert_eq!(r.rule().code(), "text_missing");
    assert_snapshot!(r, @"event 00000000-0000-0000-0000-000000000005: `measure` must not be empty");
    let named = g.event(d(2006, 4, 1), measure_started("NORSK", 150));
    g.admits(&named);

    let why_not = g.event(d(2006, 4, 1), retracted(EventId(Uuid::from_u128(4)), ""));
    let r = g.refuses(&why_not);
    assert_eq!(r.rule().code(), "text_missing");
    assert_snapshot!(r, @"event 00000000-0000-0000-0000-000000000007: `why` must not be empty");
}

#[test]
fn free_text_has_a_limit_in_characters() {
    // Characters, not bytes: `ø` is two bytes in UTF-8.
    let mut g = Given::claimed();
    let at_limit = g.event(d(2006, 2, 1), refused(&"ø".repeat(1000)));
    g.admits(&at_limit);
    let over = g.event(d(2006, 2, 1), refused(&"ø".repeat(1001)));
    let r = g.refuses(&over);
    assert_eq!(r.rule().code(), "text_too_long");
    assert_snapshot!(r, @"event 00000000-0000-0000-0000-000000000004: `reason` is 1001 characters; the limit is 1000");

    let mut by = g.event(d(2006, 2, 1), refused("no right to the programme"));
    by.by = Some("å".repeat(100));
    g.admits(&by);
    by.by = Some("å".repeat(101));
    let r = g.refuses(&by);
    assert_eq!(r.rule().code(), "text_too_long");
    assert_snapshot!(r, @"event 00000000-0000-0000-0000-000000000005: `by` is 101 characters; the limit is 100");

    let mut g = Given::started();
    let measure = g.event(d(2006, 4, 1), measure_started(&"M".repeat(32), 150));
    g.admits(&measure);
    let measure = g.event(d(2006, 4, 1), measure_started(&"M".repeat(33), 150));
    let r = g.refuses(&measure);
    assert_eq!(r.rule().code(), "text_too_long");
    assert_snapshot!(r, @"event 00000000-0000-0000-0000-000000000006: `measure` is 33 characters; the limit is 32");

    let why = g.event(
        d(2006, 4, 1),
        retracted(EventId(Uuid::from_u128(4)), &"æ".repeat(1001)),
    );
    let r = g.refuses(&why);
    assert_eq!(r.rule().code(), "text_too_long");
    assert_snapshot!(r, @"event 00000000-0000-0000-0000-000000000007: `why` is 1001 characters; the limit is 1000");
    g.log(d(2006, 4, 1), absence(40));
    let why = g.event(
        d(2006, 4, 2),
        retracted(EventId(Uuid::from_u128(8)), &"æ".repeat(1000)),
    );
    g.admits(&why);

    let mut g = Given::ended();
    let note = g.event(d(2008, 5, 1), follow_up(Some(&"n".repeat(2000))));
    g.admits(&note);
    let note = g.event(d(2008, 5, 1), follow_up(Some(&"n".repeat(2001))));
    let r = g.refuses(&note);
    assert_eq!(r.rule().code(), "text_too_long");
    assert_snapshot!(r, @"event 00000000-0000-0000-0000-000000000007: `note` is 2001 characters; the limit is 2000");
}

#[test]
fn hours_are_more_than_zero_and_within_a_limit() {
    let mut g = Given::started();
    let none = g.event(d(2006, 4, 1), measure_started("NORSK", 0));
    let r = g.refuses(&none);
    assert_eq!(r.rule().code(), "hours_out_of_range");
    assert_snapshot!(r, @"event 00000000-0000-0000-0000-000000000005: `hours_per_week` is 0 hours; it must be more than 0 and at most 60");

    let too_many = g.event(d(2006, 4, 1), measure_started("NORSK", 601));
    let r = g.refuses(&too_many);
    assert_eq!(r.rule().code(), "hours_out_of_range");
    assert_snapshot!(r, @"event 00000000-0000-0000-0000-000000000006: `hours_per_week` is 60.1 hours; it must be more than 0 and at most 60");

    for tenths in [1, 375, 600] {
        let ok = g.event(d(2006, 4, 1), measure_started("NORSK", tenths));
        g.admits(&ok);
    }

    let none = g.event(d(2006, 4, 1), absence(0));
    let r = g.refuses(&none);
    assert_eq!(r.rule().code(), "hours_out_of_range");
    assert_snapshot!(r, @"event 00000000-0000-0000-0000-00000000000a: `hours` is 0 hours; it must be more than 0 and at most 24");

    let too_many = g.event(d(2006, 4, 1), absence(245));
    let r = g.refuses(&too_many);
    assert_eq!(r.rule().code(), "hours_out_of_range");
    assert_snapshot!(r, @"event 00000000-0000-0000-0000-00000000000b: `hours` is 24.5 hours; it must be more than 0 and at most 24");

    for tenths in [5, 240] {
        let ok = g.event(d(2006, 4, 1), absence(tenths));
        g.admits(&ok);
    }
}

#[test]
fn an_event_is_dated_at_most_one_day_after_it_was_recorded() {
    let mut g = Given::started();
    // Late evening in UTC is already the next day in Norway.
    let mut next_day = g.event(d(2006, 4, 10), absence(40));
    next_day.recorded_at = d(2006, 4, 9)
        .and_hms_opt(23, 30, 0)
        .expect("a valid time")
        .and_utc();
    g.admits(&next_day);
    let same_day = recorded(g.event(d(2006, 4, 10), absence(40)), d(2006, 4, 10));
    g.admits(&same_day);

    let two_days = recorded(g.event(d(2006, 4, 11), absence(40)), d(2006, 4, 9));
    let r = g.refuses(&two_days);
    assert_eq!(r.rule().code(), "date_after_recording");
    assert_snapshot!(r, @"event 00000000-0000-0000-0000-000000000007: dated 2006-04-11, after it was recorded (2006-04-09); an event is logged when or after it takes effect");
}

#[test]
fn dates_before_1990_are_refused() {
    let mut g = Given::empty();
    let old = g.event(d(1989, 12, 31), registered(&fnr(born()), None));
    let r = g.refuses(&old);
    assert_eq!(r.rule().code(), "date_out_of_range");
    assert_snapshot!(r, @"event 00000000-0000-0000-0000-000000000001: the date 1989-12-31 is before 1990; check the year");

    let first_day = g.event(d(1990, 1, 1), registered(&fnr(born()), None));
    g.admits(&first_day);
}

#[test]
fn every_event_carries_the_stream_unit() {
    let mut g = Given::registered();
    let mut elsewhere = g.event(d(2006, 1, 20), EventBody::Claimed);
    elsewhere.unit = unit("4601");
    let r = g.refuses(&elsewhere);
    assert_eq!(r.rule().code(), "unit_mismatch");
    assert_snapshot!(r, @"event 00000000-0000-0000-0000-000000000002: the stream belongs to unit 0301, not 4601; a move is an `interrupted` exit (moved) and a new stream in the new unit");

    let here = g.event(d(2006, 1, 20), EventBody::Claimed);
    g.admits(&here);

    // A new stream may belong to any unit.
    let mut fresh = Given::empty();
    let mut there = fresh.event(d(2006, 1, 10), registered(&fnr(born()), None));
    there.unit = unit("4601");
    fresh.admits(&there);
}

// ---------------------------------------------------------------------------
// Late events
// ---------------------------------------------------------------------------

#[test]
fn a_late_event_is_judged_in_its_place_by_date() {
    let mut g = Given::registered();
    g.log(d(2006, 1, 15), EventBody::Offered);
    g.log(d(2006, 2, 1), granted(24));

    // The claim came before the grant, but was logged after it.
    let late_claim = recorded(g.event(d(2006, 1, 12), EventBody::Claimed), d(2006, 2, 10));
    g.log_event(late_claim);
    assert_eq!(g.timeline.facts().claimed, Some(d(2006, 1, 12)));

    // A claim dated on the grant's day, logged after it, comes after it.
    let same_day = recorded(g.event(d(2006, 2, 1), EventBody::Claimed), d(2006, 2, 10));
    let r = g.refuses(&same_day);
    assert_eq!(r.rule().code(), "application_after_grant");
    assert_snapshot!(r, @"event 00000000-0000-0000-0000-000000000005: `claimed` after the programme was granted on 2006-02-01");
}

// ---------------------------------------------------------------------------
// Retraction
// ---------------------------------------------------------------------------

#[test]
fn a_retraction_names_an_event_of_this_participant() {
    let mut g = Given::started();
    let unknown = g.event(
        d(2006, 4, 1),
        retracted(EventId(Uuid::from_u128(999)), "typo"),
    );
    let r = g.refuses(&unknown);
    assert_eq!(r.rule().code(), "retract_unknown");
    assert_snapshot!(r, @"event 00000000-0000-0000-0000-000000000005: retracts event 00000000-0000-0000-0000-0000000003e7, which is not an event of this participant");

    let absent = g.log(d(2006, 4, 1), absence(40));
    let known = g.event(d(2006, 4, 2), retracted(absent, "wrong person"));
    g.admits(&known);
}

#[test]
fn a_retraction_is_final_and_happens_once() {
    let mut g = Given::started();
    let absent = g.log(d(2006, 4, 1), absence(40));
    let retraction = g.log(d(2006, 4, 2), retracted(absent, "wrong person"));

    let undo = g.event(
        d(2006, 4, 3),
        retracted(retraction, "it was right after all"),
    );
    let r = g.refuses(&undo);
    assert_eq!(r.rule().code(), "retract_retraction");
    assert_snapshot!(r, @"event 00000000-0000-0000-0000-000000000007: retracts event 00000000-0000-0000-0000-000000000006, which is itself a retraction; a retraction cannot be undone, log the event again with a new id");

    let again = g.event(d(2006, 4, 3), retracted(absent, "wrong person"));
    let r = g.refuses(&again);
    assert_eq!(r.rule().code(), "already_retracted");
    assert_snapshot!(r, @"event 00000000-0000-0000-0000-000000000008: event 00000000-0000-0000-0000-000000000005 was already retracted by event 00000000-0000-0000-0000-000000000006");

    // The retracted absence counts nowhere: logging it again is fine.
    g.log(d(2006, 4, 1), absence(40));
}

#[test]
fn a_retraction_that_breaks_the_timeline_names_the_cause() {
    let mut g = Given::started();
    let grant = EventId(Uuid::from_u128(3));
    let retract_grant = g.event(d(2006, 4, 1), retracted(grant, "entered in error"));
    let r = g.refuses(&retract_grant);
    assert_eq!(r.rule().code(), "start_without_grant");
    assert_snapshot!(r, @"event 00000000-0000-0000-0000-000000000005: without event 00000000-0000-0000-0000-000000000003 the timeline breaks a rule: event 00000000-0000-0000-0000-000000000004: `started` needs a `granted` before it");

    // Before the start, the grant can be retracted.
    let mut h = Given::granted();
    let retract = h.event(d(2006, 2, 5), retracted(grant, "entered in error"));
    h.admits(&retract);

    // Retracting the start first, then the grant, is fine as well.
    let start = EventId(Uuid::from_u128(4));
    g.log(d(2006, 4, 1), retracted(start, "did not show up"));
    g.log(d(2006, 4, 1), retracted(grant, "entered in error"));
}

#[test]
fn retracting_the_exit_allows_a_new_exit() {
    let mut g = Given::ended();
    let exit = EventId(Uuid::from_u128(5));
    let corrected = g.event(d(2008, 2, 29), stopped(StoppedReason::Health, None, &[]));
    let r = g.refuses(&corrected);
    assert_eq!(r.rule().code(), "second_exit");
    assert_snapshot!(r, @"event 00000000-0000-0000-0000-000000000006: the programme already ended on 2008-02-29; a participant has one exit");

    g.log(
        d(2008, 3, 1),
        retracted(exit, "it was a stop, not completion"),
    );
    g.log_event(corrected);
    assert_eq!(
        g.timeline.facts().exit.map(|x| x.exit.kind().as_str()),
        Some("stopped")
    );
}

#[test]
fn a_leave_decided_after_the_return_can_still_be_closed() {
    // Decided on 1 May for 1 April to 30 June; the person was back on 20 April.
    let mut g = Given::started();
    g.log(d(2006, 5, 1), leave(d(2006, 4, 1), d(2006, 6, 30)));
    let back = g.event(d(2006, 4, 20), EventBody::LeaveEnded);
    g.admits(&back);
    g.log_event(back);
    assert_eq!(g.timeline.facts().leave_days(), 19);
}

#[test]
fn a_leave_decided_before_the_start_is_valid_when_it_lies_inside_the_programme() {
    // Started 1 March; the leave for April was decided on 10 February and is logged late.
    let g = Given::started();
    let mut decided_early = g.clone();
    let leave_event = decided_early.event(d(2006, 2, 10), leave(d(2006, 4, 1), d(2006, 4, 30)));
    decided_early.admits(&leave_event);
    // Without any start the leave lies outside the programme.
    let mut never_started = Given::granted();
    let early = never_started.event(d(2006, 2, 10), leave(d(2006, 4, 1), d(2006, 4, 30)));
    let r = never_started.refuses(&early);
    assert_eq!(r.rule().code(), "not_in_programme");
}

#[test]
fn after_a_refusal_a_new_decision_needs_a_new_application() {
    let mut g = Given::claimed();
    g.log(d(2006, 2, 1), refused("not in the target group"));
    let grant = g.event(d(2006, 3, 1), granted(24));
    let r = g.refuses(&grant);
    assert_eq!(r.rule().code(), "decision_without_application");
    assert_snapshot!(r, @"event 00000000-0000-0000-0000-000000000004: `granted` needs a `claimed` or `offered` before it since the refusal on 2006-02-01; a new decision needs a new claim or offer");
    g.log(d(2006, 2, 20), EventBody::Claimed);
    g.admits(&grant);
}
