//! Handing a ledger's events to a visitor person by person, as every backend's scan does: the
//! rows come in (person, seq) order for a range of people ranked `from..to`; each person's
//! events are put in time order and visited together, and people without events are visited
//! too, with none. The backends differ only in how they fetch the rows.

use domain::readings::Recorded;

use crate::StoreError;

/// Gathers rows in (person, seq) order into people, and visits each when the next begins.
pub struct People<'a> {
    /// Every person's ledger key, in rank order.
    keys: &'a [i64],
    rank: usize,
    to: usize,
    events: Vec<Recorded>,
    visit: &'a (dyn Fn(usize, &[Recorded]) + Sync),
}

impl<'a> People<'a> {
    /// For the people ranked `from..to` of `keys` (`from < to`).
    pub fn new(
        keys: &'a [i64],
        from: usize,
        to: usize,
        visit: &'a (dyn Fn(usize, &[Recorded]) + Sync),
    ) -> People<'a> {
        People {
            keys,
            rank: from,
            to,
            events: Vec::new(),
            visit,
        }
    }

    /// The next row: an event of the person with ledger key `pk`.
    pub fn push(&mut self, pk: i64, event: Recorded) -> Result<(), StoreError> {
        if pk != self.keys[self.rank] {
            self.finish_one();
            self.rank += 1;
            while self.rank < self.to && self.keys[self.rank] < pk {
                (self.visit)(self.rank, &[]);
                self.rank += 1;
            }
            if self.rank >= self.to || self.keys[self.rank] != pk {
                return Err(StoreError::Corrupt {
                    message: format!("event of unknown person {pk}"),
                });
            }
        }
        self.events.push(event);
        Ok(())
    }

    /// After the last row: the last person, and everyone after them without events.
    pub fn finish(mut self) {
        self.finish_one();
        for r in self.rank + 1..self.to {
            (self.visit)(r, &[]);
        }
    }

    fn finish_one(&mut self) {
        domain::readings::sort_in_time(&mut self.events);
        (self.visit)(self.rank, &self.events);
        self.events.clear();
    }
}
