//! Follow-up outcomes over time (issue 5): for each exit cohort (the year of
//! a completed or stopped exit), how many were reached at 2, 6 and 12 months
//! and how many of those were in work or education.

use std::collections::BTreeMap;

use chrono::Datelike;
use serde::Serialize;
use spor_domain::calendar;
use spor_domain::event::{EventKind, FollowUpOutcome};

use crate::Projections;

/// The contact points, in months after the exit.
pub const POINTS: [u32; 3] = [2, 6, 12];

/// One exit cohort.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Cohort {
    pub year: i32,
    /// Completed or stopped exits in the year.
    pub ended: u64,
    /// Per point (2, 6, 12 months): reached by a contact in its window.
    pub reached: [u64; 3],
    /// Per point: of those reached, in work or education.
    pub work_or_education: [u64; 3],
}

/// Every cohort from `first` to `last` (inclusive), in order. A contact
/// counts at a point when it is dated within the `post_exit` reminder's
/// window (a month by default) either side of exit + the point's months.
pub fn cohorts(projections: &Projections, first: i32, last: i32) -> Vec<Cohort> {
    let mut by_year: BTreeMap<i32, Cohort> = (first..=last)
        .map(|y| {
            (
                y,
                Cohort {
                    year: y,
                    ..Cohort::default()
                },
            )
        })
        .collect();
    for (p, t) in projections.timelines(None) {
        let f = projections.facts(p, t);
        let Some(x) = &f.exit else { continue };
        if !matches!(x.exit.kind(), EventKind::Completed | EventKind::Stopped) {
            continue;
        }
        let Some(c) = by_year.get_mut(&x.date.year()) else {
            continue;
        };
        c.ended += 1;
        for (i, months) in POINTS.iter().enumerate() {
            let due = calendar::add_months(x.date, *months);
            let window = projections.rules().post_exit_window_months;
            let (from, until) = (
                calendar::sub_months(due, window),
                calendar::add_months(due, window),
            );
            let outcomes: Vec<FollowUpOutcome> = f
                .follow_ups
                .iter()
                .filter(|(d, _)| from <= *d && *d <= until)
                .map(|(_, u)| u.outcome)
                .collect();
            if outcomes.iter().any(|o| *o != FollowUpOutcome::Unreachable) {
                c.reached[i] += 1;
                if outcomes
                    .iter()
                    .any(|o| matches!(o, FollowUpOutcome::Work | FollowUpOutcome::Education))
                {
                    c.work_or_education[i] += 1;
                }
            }
        }
    }
    by_year.into_values().collect()
}
