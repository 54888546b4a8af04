//! Choosing a suppression pattern: which further cells to withhold so that
//! no withheld cell can be worked out (secondary suppression).
//!
//! The cells are numbered; every relation lists cell numbers, its total
//! first. Each cell has a tier (a unit before a county, a county before the
//! nation; a part before its total). Secondary suppression takes the
//! cheapest cell a relation offers: a margin (the nation) only when nothing
//! else is left; a non-zero count before a zero, since a withheld zero
//! protects in one direction only and is soon pinned down itself; then the
//! lowest tier; then the smallest count. So totals are withheld only when no
//! cell beneath them can protect what needs protecting.

use crate::audit::{Exposure, exposures, passes};

/// The cells of a table and what binds them.
pub(crate) struct Grid<'a> {
    pub values: &'a [u64],
    /// Per cell: lower tiers are withheld first.
    pub tier: &'a [u8],
    /// Cells of this tier and above are margins, withheld only as a last resort.
    pub margin_tier: u8,
    pub relations: &'a [Vec<usize>],
    /// Per cell: the relations (indexes into `relations`) it is in.
    pub relations_of_cell: &'a [Vec<usize>],
}

/// A relation needed one more withheld cell and had none it may withhold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Stuck {
    /// The withheld cell left unprotected.
    pub cell: usize,
}

impl Grid<'_> {
    /// The order cells are withheld in: margins last, zeros after
    /// non-zero counts, then by tier, then the smaller count.
    fn cost(&self, cell: usize) -> (bool, bool, u8, u64) {
        let tier = self.tier[cell];
        (
            tier >= self.margin_tier,
            self.values[cell] == 0,
            tier,
            self.values[cell],
        )
    }

    /// Withholds the cheapest open cell of a relation that `may_hide`
    /// allows; whether there was one.
    fn hide_one(
        &self,
        relation: &[usize],
        hidden: &mut [bool],
        may_hide: &dyn Fn(usize) -> bool,
    ) -> bool {
        let pick = relation
            .iter()
            .copied()
            .filter(|c| !hidden[*c] && may_hide(*c))
            .min_by_key(|c| self.cost(*c));
        if let Some(c) = pick {
            hidden[c] = true;
        }
        pick.is_some()
    }

    /// Until nothing changes, a relation with exactly one withheld cell
    /// (which subtraction would give back) gets a second, one that
    /// `may_hide` allows.
    pub fn close(
        &self,
        hidden: &mut [bool],
        may_hide: &dyn Fn(usize) -> bool,
    ) -> Result<(), Stuck> {
        loop {
            let mut changed = false;
            for r in self.relations {
                let mut withheld = r.iter().copied().filter(|c| hidden[*c]);
                if let (Some(only), None) = (withheld.next(), withheld.next()) {
                    if !self.hide_one(r, hidden, may_hide) {
                        return Err(Stuck { cell: only });
                    }
                    changed = true;
                }
            }
            if !changed {
                return Ok(());
            }
        }
    }

    /// [`Grid::close`] inside [`Grid::protect`]: where a relation's only
    /// other cells are published ones the reader knew already, a lone cell
    /// withheld to protect is published too (the relation gives it away),
    /// and a lone cell that must stay withheld gets one of them withheld
    /// again, which then must stay withheld as well.
    fn settle(&self, hidden: &mut [bool], known: &mut [bool], must: &mut [bool]) {
        loop {
            let mut changed = false;
            for r in self.relations {
                let mut withheld = r.iter().copied().filter(|c| hidden[*c]);
                if let (Some(only), None) = (withheld.next(), withheld.next()) {
                    changed = true;
                    if self.hide_one(r, hidden, &|c| !known[c]) {
                        continue;
                    }
                    if must[only] {
                        let again = r
                            .iter()
                            .copied()
                            .filter(|c| !hidden[*c])
                            .min_by_key(|c| self.cost(*c));
                        if let Some(c) = again {
                            hidden[c] = true;
                            known[c] = false;
                            must[c] = true;
                        }
                    } else {
                        hidden[only] = false;
                        known[only] = true;
                    }
                }
            }
            if !changed {
                return;
            }
        }
    }

    /// Whether the pattern needs nothing more: no relation with a single
    /// withheld cell, and nothing the audit can pin down.
    pub fn is_safe(&self, hidden: &[bool]) -> bool {
        self.relations
            .iter()
            .all(|r| r.iter().filter(|c| hidden[**c]).count() != 1)
            && passes(self.values, hidden, self.relations)
    }

    /// Extends `hidden` to a pattern the audit passes. `must` marks the
    /// cells that must stay withheld (small counts; they start withheld).
    ///
    /// A cell withheld only to protect that the audit pins down is published
    /// instead: the reader already knows its value, so showing it tells
    /// them nothing, and it is never withheld again. Every other exposure
    /// (a small count pinned down, a singleton pair) is shielded
    /// ([`Grid::shield`]).
    pub fn protect(&self, hidden: &mut [bool], must: &[bool]) -> Result<(), Stuck> {
        let mut must = must.to_vec();
        let mut known = vec![false; hidden.len()];
        loop {
            self.settle(hidden, &mut known, &mut must);
            let exposed = exposures(self.values, hidden, self.relations);
            if exposed.is_empty() {
                return Ok(());
            }
            let (to_show, to_shield): (Vec<Exposure>, Vec<Exposure>) = exposed
                .into_iter()
                .partition(|e| matches!(e, Exposure::Interval { cell, .. } if !must[*cell]));
            for e in &to_show {
                hidden[e.cell()] = false;
                known[e.cell()] = true;
            }
            // A shield can find nothing left to withhold after the shields
            // before it in the round; only a round that changes nothing is stuck.
            let mut stuck = None;
            let mut moved = !to_show.is_empty();
            for e in &to_shield {
                match self.shield(e, hidden, &mut known, &mut must) {
                    Ok(()) => moved = true,
                    Err(s) => stuck = Some(s),
                }
            }
            if let (false, Some(s)) = (moved, stuck) {
                return Err(s);
            }
        }
    }

    /// One more withheld cell in every relation around an exposed cell, so
    /// that whichever relation pins it has a cell to absorb a change. Where
    /// those relations are withheld whole, the pin comes from further out:
    /// look at the relations of their cells, and so on, until some relation
    /// has a cell to withhold. Margins are taken only when no relation out
    /// to the farthest has any other cell.
    ///
    /// A published cell the reader knew already is withheld again only when
    /// nothing else is left; it then must stay withheld, and is shielded in
    /// turn if the reader can still pin it down.
    fn shield(
        &self,
        exposure: &Exposure,
        hidden: &mut [bool],
        known: &mut [bool],
        must: &mut [bool],
    ) -> Result<(), Stuck> {
        let before = hidden.to_vec();
        let shielded = {
            let known = &*known;
            self.shield_with(exposure, hidden, &|c| {
                self.tier[c] < self.margin_tier && !known[c]
            }) || self.shield_with(exposure, hidden, &|c| !known[c])
                || self.shield_with(exposure, hidden, &|_| true)
        };
        if shielded {
            for c in 0..hidden.len() {
                if hidden[c] && !before[c] && known[c] {
                    known[c] = false;
                    must[c] = true;
                }
            }
            Ok(())
        } else {
            Err(Stuck {
                cell: exposure.cell(),
            })
        }
    }

    fn shield_with(
        &self,
        exposure: &Exposure,
        hidden: &mut [bool],
        may_hide: &dyn Fn(usize) -> bool,
    ) -> bool {
        let (cell, with) = match *exposure {
            Exposure::Interval { cell, .. } => (cell, None),
            Exposure::SingletonPair { cell, singleton } => (cell, Some(singleton)),
        };
        let mut frontier = vec![cell];
        let mut seen_cells: std::collections::HashSet<usize> = frontier.iter().copied().collect();
        let mut seen_relations: std::collections::HashSet<usize> = std::collections::HashSet::new();
        while !frontier.is_empty() {
            let near: Vec<usize> = frontier
                .iter()
                .flat_map(|c| self.relations_of_cell[*c].iter().copied())
                .filter(|r| seen_relations.insert(*r))
                .filter(|r| with.is_none_or(|s| self.relations[*r].contains(&s)))
                .collect();
            let mut hid = false;
            for r in &near {
                hid |= self.hide_one(&self.relations[*r], hidden, may_hide);
            }
            if hid {
                return true;
            }
            frontier = near
                .iter()
                .flat_map(|r| self.relations[*r].iter().copied())
                .filter(|c| seen_cells.insert(*c))
                .collect();
        }
        false
    }

    /// Publishes again each withheld cell of `candidates` (in their order)
    /// that the pattern can do without.
    pub fn release(&self, hidden: &mut [bool], candidates: impl IntoIterator<Item = usize>) {
        for c in candidates {
            if hidden[c] {
                hidden[c] = false;
                if !self.is_safe(hidden) {
                    hidden[c] = true;
                }
            }
        }
    }
}

/// Per cell, the relations it is in.
pub(crate) fn relations_of_cells(cells: usize, relations: &[Vec<usize>]) -> Vec<Vec<usize>> {
    let mut out = vec![Vec::new(); cells];
    for (i, r) in relations.iter().enumerate() {
        for c in r {
            out[*c].push(i);
        }
    }
    out
}
