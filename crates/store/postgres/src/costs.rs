//! The product catalogue of hidden costs, and a scan of every order with its lines.

use domain::costs::{Catalogue, Factor, PerUnit, Product};
use domain::readings::Recorded;
use domain::values::Label;
use domain::{Kind, PersonId};
use futures_util::StreamExt;
use store::StoreError;
use tokio_postgres::types::ToSql;

use crate::PostgresStore;
use crate::scan::decode;

fn corrupt(what: &str, e: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt {
        message: format!("catalogue {what}: {e}"),
    }
}

impl store::Costs for PostgresStore {
    fn catalogue_put(&self, c: &Catalogue) -> Result<(), StoreError> {
        self.run(async {
            let mut conn = self.db.get().await?;
            let tx = conn.transaction().await?;
            tx.batch_execute(
                "DELETE FROM rapport.cost_values; DELETE FROM rapport.cost_products;
                 DELETE FROM rapport.cost_factors;",
            )
            .await?;
            for (i, f) in c.factors().iter().enumerate() {
                tx.execute(
                    "INSERT INTO rapport.cost_factors (position, name, unit, source) VALUES ($1, $2, $3, $4)",
                    &[&(i as i64), &f.name.as_str(), &f.unit.as_str(), &f.source],
                )
                .await?;
            }
            let p = tx
                .prepare("INSERT INTO rapport.cost_products (position, product, name) VALUES ($1, $2, $3)")
                .await?;
            let v = tx
                .prepare("INSERT INTO rapport.cost_values (product, factor, value) VALUES ($1, $2, $3)")
                .await?;
            for (i, product) in c.products().iter().enumerate() {
                tx.execute(&p, &[&(i as i64), &product.id.as_str(), &product.name])
                    .await?;
                for (f, value) in product.values.iter().enumerate() {
                    if let Some(value) = value {
                        tx.execute(&v, &[&(i as i64), &(f as i64), &value.get()]).await?;
                    }
                }
            }
            tx.commit().await?;
            Ok(())
        })
    }

    fn catalogue(&self) -> Result<Option<Catalogue>, StoreError> {
        self.run(async {
            let c = self.db.get().await?;
            let mut factors = Vec::new();
            // Asked on every card (its hidden costs): prepared once per connection.
            let stmt = c
                .prepare_cached(
                    "SELECT name, unit, source FROM rapport.cost_factors ORDER BY position",
                )
                .await?;
            for r in c.query(&stmt, &[]).await? {
                factors.push(Factor {
                    name: Label::parse(r.get::<_, &str>(0)).map_err(|e| corrupt("factor", e))?,
                    unit: Label::parse(r.get::<_, &str>(1)).map_err(|e| corrupt("unit", e))?,
                    source: r.get(2),
                });
            }
            if factors.is_empty() {
                return Ok(None);
            }
            let mut products = Vec::new();
            for r in c
                .query(
                    "SELECT product, name FROM rapport.cost_products ORDER BY position",
                    &[],
                )
                .await?
            {
                products.push(Product {
                    id: Label::parse(r.get::<_, &str>(0)).map_err(|e| corrupt("product", e))?,
                    name: r.get(1),
                    values: vec![None; factors.len()],
                });
            }
            for r in c
                .query(
                    "SELECT product, factor, value FROM rapport.cost_values",
                    &[],
                )
                .await?
            {
                let (p, f, v): (i64, i64, f64) = (r.get(0), r.get(1), r.get(2));
                let slot = usize::try_from(p)
                    .ok()
                    .and_then(|p| products.get_mut(p))
                    .and_then(|p| usize::try_from(f).ok().and_then(|f| p.values.get_mut(f)))
                    .ok_or_else(|| corrupt("value", format!("product {p}, factor {f}")))?;
                *slot = Some(PerUnit::new(v).map_err(|e| corrupt("value", e))?);
            }
            Ok(Some(
                Catalogue::new(factors, products).map_err(|e| corrupt("", e))?,
            ))
        })
    }

    fn visit_orders(&self, visit: &mut dyn FnMut(&PersonId, &Recorded)) -> Result<(), StoreError> {
        let (placed, returned, invoiced) = (
            i16::from(Kind::OrderPlaced.code()),
            i16::from(Kind::OrderReturned.code()),
            i16::from(Kind::InvoiceIssued.code()),
        );
        let (_conn, mut rows) = self.run(async {
            let c = self.db.get().await?;
            let rows = c
                .query_raw(
                    "SELECT p.id, e.seq, e.at, e.kind, e.body, e.lines
                     FROM rapport.events e JOIN rapport.people p ON p.pk = e.person
                     WHERE e.kind IN ($1, $2) OR (e.kind = $3 AND e.lines IS NOT NULL)
                     ORDER BY e.person, e.seq",
                    [&placed as &(dyn ToSql + Sync), &returned, &invoiced],
                )
                .await?;
            Ok((c, Box::pin(rows)))
        })?;
        // Rows are fetched inside the store's runtime, and `visit` called outside it.
        let mut current: Option<(String, PersonId)> = None;
        while let Some(row) = self.db.block(rows.next()) {
            let row = row.map_err(|e| self.db.place.error(e.into()))?;
            let id: &str = row.get(0);
            if current.as_ref().is_none_or(|(k, _)| k != id) {
                let person = PersonId::parse(id).map_err(|e| StoreError::Corrupt {
                    message: format!("person id {id:?}: {e}"),
                })?;
                current = Some((id.to_owned(), person));
            }
            let lines: Option<&str> = row.get(5);
            let recorded = decode(row.get(1), row.get(2), row.get(3), row.get(4), lines, true)
                .map_err(StoreError::from)?;
            if let Some((_, person)) = &current {
                visit(person, &recorded);
            }
        }
        Ok(())
    }
}
