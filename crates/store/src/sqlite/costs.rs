//! The product catalogue of hidden costs, and a scan of every order with its lines.
//!
//! The catalogue is small and replaced whole; the scan is what must be fast: it reads only
//! order events (`kind` 6 and 7), in the table's own order, and decodes their `lines` column.

use domain::costs::{Catalogue, Factor, PerUnit, Product};
use domain::readings::Recorded;
use domain::values::Label;
use domain::{Kind, PersonId};
use rusqlite::params;

use super::SqliteStore;
use super::scan::decode_full_row;
use crate::StoreError;

fn corrupt(what: &str, e: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt {
        message: format!("catalogue {what}: {e}"),
    }
}

impl SqliteStore {
    pub(super) fn put_catalogue(&mut self, c: &Catalogue) -> Result<(), StoreError> {
        let tx = self.conn.transaction()?;
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

    pub(super) fn read_catalogue(&self) -> Result<Option<Catalogue>, StoreError> {
        let mut factors = Vec::new();
        let mut stmt = self
            .conn
            .prepare("SELECT name, unit, source FROM cost_factors ORDER BY position")?;
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
        let mut stmt = self
            .conn
            .prepare("SELECT product, name FROM cost_products ORDER BY position")?;
        let mut rows = stmt.query([])?;
        while let Some(r) = rows.next()? {
            products.push(Product {
                id: Label::parse(&r.get::<_, String>(0)?).map_err(|e| corrupt("product", e))?,
                name: r.get(1)?,
                values: vec![None; factors.len()],
            });
        }
        let mut stmt = self
            .conn
            .prepare("SELECT product, factor, value FROM cost_values")?;
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
        Catalogue::new(factors, products)
            .map(Some)
            .map_err(|e| corrupt("", e))
    }

    pub(super) fn scan_orders(
        &self,
        visit: &mut dyn FnMut(&PersonId, &Recorded),
    ) -> Result<(), StoreError> {
        let mut stmt = self.conn.prepare(
            "SELECT e.person, e.seq, e.at, e.kind, e.body, e.lines FROM events e
             WHERE e.kind IN (?1, ?2) ORDER BY e.person, e.seq",
        )?;
        let mut people = self
            .conn
            .prepare_cached("SELECT id FROM people WHERE pk = ?1")?;
        let mut rows = stmt.query(params![
            Kind::OrderPlaced.code(),
            Kind::OrderReturned.code()
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
    }
}

#[cfg(test)]
mod tests {
    use domain::NewEvent;

    use super::*;
    use crate::vault::MasterKey;
    use crate::{Costs, Store};

    fn catalogue(products: &[(&str, Option<f64>)]) -> Catalogue {
        Catalogue::new(
            vec![Factor {
                name: Label::parse("co2e_kg").unwrap(),
                unit: Label::parse("kg CO2e").unwrap(),
                source: "test".into(),
            }],
            products
                .iter()
                .map(|(id, v)| Product {
                    id: Label::parse(id).unwrap(),
                    name: Some(format!("<b>{id}</b>")),
                    values: vec![v.map(|v| PerUnit::new(v).unwrap())],
                })
                .collect(),
        )
        .unwrap()
    }

    #[test]
    fn a_catalogue_comes_back_as_it_was_put_and_a_new_one_replaces_it_whole() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = SqliteStore::create(&dir.path().join("l.db"), MasterKey::generate()).unwrap();
        assert_eq!(s.catalogue().unwrap(), None);
        let first = catalogue(&[("A", Some(1.5)), ("B", None)]);
        s.catalogue_put(&first).unwrap();
        assert_eq!(s.catalogue().unwrap(), Some(first));
        let second = catalogue(&[("C", Some(0.0))]);
        s.catalogue_put(&second).unwrap();
        let back = s.catalogue().unwrap().unwrap();
        assert_eq!(back, second);
        assert!(back.product("A").is_none());
    }

    #[test]
    fn the_order_scan_gives_every_order_with_its_lines_and_nothing_else() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = SqliteStore::create(&dir.path().join("l.db"), MasterKey::generate()).unwrap();
        let mut b = s.batch("t").unwrap();
        for line in domain::examples::ALL {
            b.append(NewEvent::from_json_line(line).unwrap()).unwrap();
        }
        b.append(NewEvent::from_json_line(r#"{"source":"s","id":"o9","kind":"order.returned","person":"q","at":"2020-01-01T00:00:00Z","order":"C9","lines":[{"product":"A","qty":2,"unit_price":"1.25"}]}"#).unwrap()).unwrap();
        b.commit().unwrap();
        let mut seen = Vec::new();
        s.visit_orders(&mut |person, r| {
            let lines = match &r.body {
                domain::Body::OrderPlaced { lines, .. }
                | domain::Body::OrderReturned { lines, .. } => lines.len(),
                _ => usize::MAX,
            };
            seen.push((person.to_string(), r.body.kind(), lines));
        })
        .unwrap();
        assert!(
            seen.iter()
                .all(|(_, k, _)| matches!(k, Kind::OrderPlaced | Kind::OrderReturned))
        );
        assert!(seen.contains(&("q".to_owned(), Kind::OrderReturned, 1)));
        let examples = seen.iter().filter(|(p, _, _)| p != "q").count();
        let expected = domain::examples::ALL
            .iter()
            .filter(|l| l.contains("\"order.placed\"") || l.contains("\"order.returned\""))
            .count();
        assert_eq!(examples, expected);
    }
}
