//! The audit of a suppression pattern (reliability P2): can anyone who
//! reads every published table of a year pin down a suppressed count?
//!
//! The reader knows every relation the tables obey (a total is the sum of
//! its parts), every published count, and that every count lies between 0
//! and the largest count of the tables (the nation's participants). The
//! published tables do not say which nulls are small counts (primary) and
//! which hide larger ones (secondary), so a null is not bounded to 1..k;
//! docs/contract-readings.md says why, and what that leaves open. For each
//! suppressed cell the audit solves
//! two linear programs over those facts, the least and the greatest value
//! the cell can take (its feasibility interval); a cell whose interval holds
//! only one whole number is exposed. A relation whose only two suppressed
//! cells include a count of 1 (a singleton pair) is exposed too: the one
//! person counted there knows their own part and can subtract it.
//!
//! Cells are numbered `0..values.len()`; a relation lists cell numbers, its
//! total first. Suppressed cells that share no relation are independent, so
//! each connected group of them is solved on its own. Every solution found
//! on the way is a feasible table, so a cell already seen at two whole
//! numbers apart needs no programs of its own.

use microlp::{ComparisonOp, OptimizationDirection, Problem};

/// Why a suppressed cell is exposed.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Exposure {
    /// Its feasibility interval holds one whole number at most.
    Interval { cell: usize, low: f64, high: f64 },
    /// It shares a relation only with a suppressed count of 1.
    SingletonPair { cell: usize, singleton: usize },
}

impl Exposure {
    pub fn cell(&self) -> usize {
        match self {
            Self::Interval { cell, .. } | Self::SingletonPair { cell, .. } => *cell,
        }
    }
}

const EPS: f64 = 1e-6;

/// Whether `[low, high]` holds at least two whole numbers.
fn spans_two(low: f64, high: f64) -> bool {
    (high + EPS).floor() - (low - EPS).ceil() >= 1.0
}

/// Every exposed suppressed cell of a pattern. `values` are the true counts,
/// `hidden` marks the suppressed ones.
pub fn exposures(values: &[u64], hidden: &[bool], relations: &[Vec<usize>]) -> Vec<Exposure> {
    find(values, hidden, relations, false)
}

/// Whether nothing in the pattern is exposed: [`exposures`], stopping at
/// the first found.
pub fn passes(values: &[u64], hidden: &[bool], relations: &[Vec<usize>]) -> bool {
    find(values, hidden, relations, true).is_empty()
}

fn find(
    values: &[u64],
    hidden: &[bool],
    relations: &[Vec<usize>],
    first_only: bool,
) -> Vec<Exposure> {
    let mut out = singleton_pairs(values, hidden, relations);
    if first_only && !out.is_empty() {
        return out;
    }
    // Group the suppressed cells that share a relation (union-find).
    let mut parent: Vec<usize> = (0..values.len()).collect();
    fn root(parent: &mut [usize], mut i: usize) -> usize {
        while parent[i] != i {
            parent[i] = parent[parent[i]];
            i = parent[i];
        }
        i
    }
    let touching: Vec<&Vec<usize>> = relations
        .iter()
        .filter(|r| r.iter().any(|c| hidden[*c]))
        .collect();
    for r in &touching {
        let mut cells = r.iter().copied().filter(|c| hidden[*c]);
        if let Some(first) = cells.next() {
            for c in cells {
                let (a, b) = (root(&mut parent, first), root(&mut parent, c));
                parent[a] = b;
            }
        }
    }
    let mut groups: std::collections::BTreeMap<usize, Vec<usize>> =
        std::collections::BTreeMap::new();
    for c in (0..values.len()).filter(|c| hidden[*c]) {
        groups.entry(root(&mut parent, c)).or_default().push(c);
    }
    let mut by_group: std::collections::BTreeMap<usize, Vec<&Vec<usize>>> =
        std::collections::BTreeMap::new();
    for r in touching {
        let c = r.iter().copied().find(|c| hidden[*c]).expect("touching");
        by_group.entry(root(&mut parent, c)).or_default().push(r);
    }
    for (g, cells) in groups {
        let rels = by_group.remove(&g).unwrap_or_default();
        out.extend(group_exposures(values, hidden, &cells, &rels, first_only));
        if first_only && !out.is_empty() {
            return out;
        }
    }
    out.sort_by_key(Exposure::cell);
    out
}

/// Relations whose suppressed cells are exactly two, one of them a count of 1.
fn singleton_pairs(values: &[u64], hidden: &[bool], relations: &[Vec<usize>]) -> Vec<Exposure> {
    let mut out = Vec::new();
    for r in relations {
        let h: Vec<usize> = r.iter().copied().filter(|c| hidden[*c]).collect();
        // Two parts (the total not among them), one of them a single person:
        // that person knows their own part and learns the other.
        if let [a, b] = h[..]
            && a != r[0]
            && b != r[0]
        {
            if values[a] == 1 {
                out.push(Exposure::SingletonPair {
                    cell: b,
                    singleton: a,
                });
            } else if values[b] == 1 {
                out.push(Exposure::SingletonPair {
                    cell: a,
                    singleton: b,
                });
            }
        }
    }
    out
}

/// The least or greatest value of an objective (a weight per cell) over the
/// group's feasible tables:
/// `Some(solution)` with every cell's value, `None` if unbounded. A solver
/// failure counts as "nothing learnt" (`Err`), and the caller treats the cell
/// as exposed, which only ever suppresses more.
fn extreme(
    values: &[u64],
    hidden: &[bool],
    cells: &[usize],
    relations: &[&Vec<usize>],
    objective: &dyn Fn(usize) -> f64,
    direction: OptimizationDirection,
) -> Result<Option<Vec<f64>>, ()> {
    // No count exceeds the largest (the nation's participants; a reader who
    // knows it is a stronger reader, so the audit assumes they do).
    #[allow(clippy::cast_precision_loss)]
    let ceiling = values.iter().copied().max().unwrap_or(0) as f64;
    let mut problem = Problem::new(direction);
    let vars: Vec<microlp::Variable> = cells
        .iter()
        .map(|c| problem.add_var(objective(*c), (0.0, ceiling)))
        .collect();
    let var_of = |c: usize| cells.binary_search(&c).ok().map(|i| vars[i]);
    for r in relations {
        // parts - total = 0, the published cells moved to the right-hand side.
        let mut expr = Vec::new();
        let mut rhs = 0.0;
        for (i, c) in r.iter().enumerate() {
            let coeff = if i == 0 { -1.0 } else { 1.0 };
            if hidden[*c] {
                expr.push((var_of(*c).expect("a hidden cell of the group"), coeff));
            } else {
                #[allow(clippy::cast_precision_loss)]
                let v = values[*c] as f64;
                rhs -= coeff * v;
            }
        }
        problem.add_constraint(expr.as_slice(), ComparisonOp::Eq, rhs);
    }
    match problem.solve().map(microlp::SolveOutcome::into_solution) {
        Ok(Ok(solution)) => Ok(Some(vars.iter().map(|v| solution.var_value(*v)).collect())),
        Err(microlp::Error::Unbounded) => Ok(None),
        Ok(Err(_)) | Err(_) => Err(()),
    }
}

fn group_exposures(
    values: &[u64],
    hidden: &[bool],
    cells: &[usize],
    relations: &[&Vec<usize>],
    first_only: bool,
) -> Vec<Exposure> {
    // The true table is feasible: every cell has been seen at its value.
    #[allow(clippy::cast_precision_loss)]
    let mut low: Vec<f64> = cells.iter().map(|c| values[*c] as f64).collect();
    let mut high = low.clone();
    let mut out = Vec::new();
    let seen = |low: &mut [f64], high: &mut [f64], s: &[f64]| {
        for (i, v) in s.iter().enumerate() {
            low[i] = low[i].min(*v);
            high[i] = high[i].max(*v);
        }
    };
    // First push every cell not yet seen at two whole numbers up at once,
    // then down at once: each solution moves many cells, so most need no
    // programs of their own. Repeat while that settles more cells.
    let mut open = cells.len();
    while open > 1 {
        for direction in [
            OptimizationDirection::Maximize,
            OptimizationDirection::Minimize,
        ] {
            let unsettled: Vec<bool> = (0..cells.len())
                .map(|i| !spans_two(low[i], high[i]))
                .collect();
            let weight = |c: usize| {
                cells
                    .binary_search(&c)
                    .map_or(0.0, |i| if unsettled[i] { 1.0 } else { 0.0 })
            };
            if let Ok(Some(s)) = extreme(values, hidden, cells, relations, &weight, direction) {
                seen(&mut low, &mut high, &s);
            }
        }
        let still = (0..cells.len())
            .filter(|i| !spans_two(low[*i], high[*i]))
            .count();
        if still >= open {
            break;
        }
        open = still;
    }
    for (i, &c) in cells.iter().enumerate() {
        let mut failed = false;
        for direction in [
            OptimizationDirection::Maximize,
            OptimizationDirection::Minimize,
        ] {
            if spans_two(low[i], high[i]) {
                break;
            }
            let only = |x: usize| if x == c { 1.0 } else { 0.0 };
            match extreme(values, hidden, cells, relations, &only, direction) {
                Ok(Some(s)) => seen(&mut low, &mut high, &s),
                Ok(None) => high[i] = f64::INFINITY,
                Err(_) => failed = true,
            }
        }
        if failed || !spans_two(low[i], high[i]) {
            out.push(Exposure::Interval {
                cell: c,
                low: low[i],
                high: high[i],
            });
            if first_only {
                break;
            }
        }
    }
    out
}
