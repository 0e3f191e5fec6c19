//! The product catalogue of hidden costs, and a scan of every order with its lines.
//!
//! The catalogue is small and replaced whole; the scan is what must be fast: it reads only
//! order events (`kind` 6 and 7), in the table's own order, and decodes their `lines` column.

use domain::costs::{Catalogue, Factor, PerUnit, Product};
use domain::readings::Recorded;
use domain::values::Label;
use domain::{Kind, PersonId};
use rusqlite::params;

use store::StoreError;

use crate::SqliteStore;
use crate::error::Result;
use crate::scan::decode_full_row;

fn corrupt(what: &str, e: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt {
        message: format!("catalogue {what}: {e}"),
    }
}

impl SqliteStore {
    pub(super) fn put_catalogue(&self, c: &Catalogue) -> Result<()> {
        let mut conn = self.conns.writer();
        let tx = conn.transaction()?;
        tx.execute_batch(
            "DELETE FROM cost_values; DELETE FROM cost_products; DELETE FROM cost_factors;",
        )?;
        {
            let mut f = tx.prepare(
                "INSERT INTO cost_factors (position, name, unit, source) VALUES (?1, ?2, ?3, ?4)",
            )?;
            for (i, factor) in c.factors().iter().enumerate() {
                f.execute(params![
                    i as i64,
                    factor.name.as_str(),
                    factor.unit.as_str(),
                    factor.source
                ])?;
            }
            let mut p = tx.prepare(
                "INSERT INTO cost_products (position, product, name) VALUES (?1, ?2, ?3)",
            )?;
            let mut v =
                tx.prepare("INSERT INTO cost_values (product, factor, value) VALUES (?1, ?2, ?3)")?;
            for (i, product) in c.products().iter().enumerate() {
                p.execute(params![i as i64, product.id.as_str(), product.name])?;
                for (f, value) in product.values.iter().enumerate() {
                    if let Some(value) = value {
                        v.execute(params![i as i64, f as i64, value.get()])?;
                    }
                }
            }
        }
        tx.commit()?;
        Ok(())
    }

    pub(super) fn read_catalogue(&self) -> Result<Option<Catalogue>> {
        self.conns.read(|c| self.catalogue_in(c))
    }

    fn catalogue_in(&self, conn: &rusqlite::Connection) -> Result<Option<Catalogue>> {
        let mut factors = Vec::new();
        let mut stmt =
            conn.prepare("SELECT name, unit, source FROM cost_factors ORDER BY position")?;
        let mut rows = stmt.query([])?;
        while let Some(r) = rows.next()? {
            factors.push(Factor {
                name: Label::parse(&r.get::<_, String>(0)?).map_err(|e| corrupt("factor", e))?,
                unit: Label::parse(&r.get::<_, String>(1)?).map_err(|e| corrupt("unit", e))?,
                source: r.get(2)?,
            });
        }
        if factors.is_empty() {
            return Ok(None);
        }
        let mut products = Vec::new();
        let mut stmt = conn.prepare("SELECT product, name FROM cost_products ORDER BY position")?;
        let mut rows = stmt.query([])?;
        while let Some(r) = rows.next()? {
            products.push(Product {
                id: Label::parse(&r.get::<_, String>(0)?).map_err(|e| corrupt("product", e))?,
                name: r.get(1)?,
                values: vec![None; factors.len()],
            });
        }
        let mut stmt = conn.prepare("SELECT product, factor, value FROM cost_values")?;
        let mut rows = stmt.query([])?;
        while let Some(r) = rows.next()? {
            let (p, f, v): (i64, i64, f64) = (r.get(0)?, r.get(1)?, r.get(2)?);
            let slot = usize::try_from(p)
                .ok()
                .and_then(|p| products.get_mut(p))
                .and_then(|p| usize::try_from(f).ok().and_then(|f| p.values.get_mut(f)))
                .ok_or_else(|| corrupt("value", format!("product {p}, factor {f}")))?;
            *slot = Some(PerUnit::new(v).map_err(|e| corrupt("value", e))?);
        }
        Ok(Catalogue::new(factors, products)
            .map(Some)
            .map_err(|e| corrupt("", e))?)
    }

    pub(super) fn scan_orders(&self, visit: &mut dyn FnMut(&PersonId, &Recorded)) -> Result<()> {
        self.conns.read(|conn| {
            let mut stmt = conn.prepare(
                "SELECT e.person, e.seq, e.at, e.kind, e.body, e.lines FROM events e
             WHERE e.kind IN (?1, ?2) OR (e.kind = ?3 AND e.lines IS NOT NULL)
             ORDER BY e.person, e.seq",
            )?;
            let mut people = conn.prepare_cached("SELECT id FROM people WHERE pk = ?1")?;
            let mut rows = stmt.query(params![
                Kind::OrderPlaced.code(),
                Kind::OrderReturned.code(),
                Kind::InvoiceIssued.code()
            ])?;
            let mut current: Option<(i64, PersonId)> = None;
            while let Some(row) = rows.next()? {
                let pk: i64 = row.get(0)?;
                if current.as_ref().is_none_or(|(k, _)| *k != pk) {
                    let id: String = people.query_row(params![pk], |r| r.get(0))?;
                    let id = PersonId::parse(&id).map_err(|e| StoreError::Corrupt {
                        message: format!("person id {id:?}: {e}"),
                    })?;
                    current = Some((pk, id));
                }
                let (_, recorded) = decode_full_row(row)?;
                if let Some((_, person)) = &current {
                    visit(person, &recorded);
                }
            }
            Ok(())
        })
    }
}
