//! Calendar arithmetic, stated once (contract §2): planned end and days on leave.

use chrono::{Days, Months, NaiveDate};

/// A span of days, both ends included. Two dates side by side invite swaps;
/// a `Period` names which is which.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
pub struct Period {
    pub from: NaiveDate,
    pub to: NaiveDate,
}

impl Period {
    pub fn contains(&self, d: NaiveDate) -> bool {
        self.from <= d && d <= self.to
    }

    /// Number of days in the period (0 when `to` is before `from`).
    pub fn days(&self) -> u32 {
        let n = (self.to - self.from).num_days() + 1;
        u32::try_from(n.max(0)).unwrap_or(u32::MAX)
    }
}

/// `date` plus `months` calendar months; a day that does not exist in the
/// target month becomes that month's last day (31 January + 1 month is
/// 28 or 29 February). Saturates at chrono's last date.
pub fn add_months(date: NaiveDate, months: u32) -> NaiveDate {
    date.checked_add_months(Months::new(months))
        .unwrap_or(NaiveDate::MAX)
}

/// `date` minus `months` calendar months, clamped the same way.
pub fn sub_months(date: NaiveDate, months: u32) -> NaiveDate {
    date.checked_sub_months(Months::new(months))
        .unwrap_or(NaiveDate::MIN)
}

/// `date` plus `days` days, saturating.
pub fn add_days(date: NaiveDate, days: u32) -> NaiveDate {
    date.checked_add_days(Days::new(u64::from(days)))
        .unwrap_or(NaiveDate::MAX)
}

/// Planned end = start + granted months (after extensions) + days on leave.
pub fn planned_end(start: NaiveDate, months: u32, leave_days: u32) -> NaiveDate {
    add_days(add_months(start, months), leave_days)
}

/// A granted leave as the rules read it: its period and the first
/// `leave_ended` dated after its `from`, if any (the first day back).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LeaveSpan {
    pub period: Period,
    pub returned: Option<NaiveDate>,
}

impl LeaveSpan {
    /// Builds the span of a leave from all `leave_ended` dates of the timeline:
    /// the first one dated after the leave's `from` ends it.
    pub fn new(period: Period, leave_ended: &[NaiveDate]) -> Self {
        let returned = leave_ended
            .iter()
            .copied()
            .filter(|d| *d > period.from)
            .min();
        Self { period, returned }
    }

    /// The days actually on leave: the period, cut the day before the return.
    pub fn effective(&self) -> Option<Period> {
        let to = match self.returned {
            Some(back) => self.period.to.min(back.pred_opt()?),
            None => self.period.to,
        };
        (to >= self.period.from).then_some(Period {
            from: self.period.from,
            to,
        })
    }

    /// On leave on `d` (contract §1): `from <= d <= to` and no return on or before `d`.
    pub fn covers(&self, d: NaiveDate) -> bool {
        self.period.contains(d) && self.returned.is_none_or(|back| d < back)
    }
}

/// Days on leave (contract §2): the days on or after `start` (and, for
/// someone who has ended, on or before `exit`) on which any leave covers the
/// day. A leave's future days count as planned. Overlapping leaves count a
/// day once.
pub fn leave_days(start: NaiveDate, exit: Option<NaiveDate>, leaves: &[LeaveSpan]) -> u32 {
    let mut periods: Vec<Period> = leaves
        .iter()
        .filter_map(LeaveSpan::effective)
        .filter_map(|p| {
            let from = p.from.max(start);
            let to = exit.map_or(p.to, |e| p.to.min(e));
            (from <= to).then_some(Period { from, to })
        })
        .collect();
    periods.sort();
    let mut total = 0u32;
    let mut covered_to: Option<NaiveDate> = None;
    for p in periods {
        let from = match covered_to {
            Some(c) if c >= p.to => continue,
            Some(c) if c >= p.from => c.succ_opt().unwrap_or(NaiveDate::MAX),
            _ => p.from,
        };
        total = total.saturating_add(Period { from, to: p.to }.days());
        covered_to = Some(p.to);
    }
    total
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    fn span(from: &str, to: &str, ended: &[&str]) -> LeaveSpan {
        let ended: Vec<NaiveDate> = ended.iter().map(|s| d(s)).collect();
        LeaveSpan::new(
            Period {
                from: d(from),
                to: d(to),
            },
            &ended,
        )
    }

    #[test]
    fn months_clamp_to_the_end_of_the_month() {
        assert_eq!(add_months(d("2006-01-31"), 1), d("2006-02-28"));
        assert_eq!(add_months(d("2007-08-31"), 6), d("2008-02-29"));
        assert_eq!(add_months(d("2006-03-01"), 24), d("2008-03-01"));
        assert_eq!(sub_months(d("2008-03-31"), 1), d("2008-02-29"));
    }

    #[test]
    fn planned_end_adds_leave_days() {
        assert_eq!(planned_end(d("2006-03-01"), 24, 0), d("2008-03-01"));
        assert_eq!(planned_end(d("2006-03-01"), 24, 10), d("2008-03-11"));
    }

    #[test]
    fn leave_days_count_each_day_once_and_stop_at_the_return() {
        // 1-10 March and 5-20 March overlap: 20 days.
        let leaves = [
            span("2006-03-01", "2006-03-10", &[]),
            span("2006-03-05", "2006-03-20", &[]),
        ];
        assert_eq!(leave_days(d("2006-01-01"), None, &leaves), 20);
        // Back on 15 March: 1-14 March.
        let leaves = [span("2006-03-01", "2006-03-31", &["2006-03-15"])];
        assert_eq!(leave_days(d("2006-01-01"), None, &leaves), 14);
        // A return dated on the leave's first day does not end it (must be after `from`).
        let leaves = [span("2006-03-01", "2006-03-10", &["2006-03-01"])];
        assert_eq!(leave_days(d("2006-01-01"), None, &leaves), 10);
    }

    #[test]
    fn leave_days_stop_at_the_exit_and_start_at_the_start() {
        let leaves = [span("2006-03-01", "2006-03-31", &[])];
        assert_eq!(leave_days(d("2006-03-11"), None, &leaves), 21);
        assert_eq!(
            leave_days(d("2006-01-01"), Some(d("2006-03-05")), &leaves),
            5
        );
    }

    #[test]
    fn on_leave_follows_the_contract_rule() {
        let s = span("2006-03-01", "2006-03-31", &["2006-03-15"]);
        assert!(!s.covers(d("2006-02-28")));
        assert!(s.covers(d("2006-03-01")));
        assert!(s.covers(d("2006-03-14")));
        assert!(!s.covers(d("2006-03-15")));
    }
}
