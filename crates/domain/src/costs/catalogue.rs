//! The product catalogue: which hidden costs are tracked (factors, each with its unit and
//! where its figures come from) and, per product, how much of each one unit carries.
//!
//! A product may lack a figure for a factor; that is kept as *unknown*, never as zero, so
//! that totals can say how many order lines they cover instead of quietly under-counting.

use std::fmt;

use rustc_hash::FxHashMap;
use serde::Serialize;

use crate::values::{Label, ValueError};

/// One hidden cost the catalogue tracks, e.g. `co2e_kg` in "kg CO2e" from a named study.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Factor {
    /// The factor's name, as the catalogue's column header gives it.
    pub name: Label,
    /// What one unit of the figure is ("kg CO2e", "litres", "g packaging").
    pub unit: Label,
    /// Where the figures come from: a study, a supplier's declaration, "illustrative".
    pub source: String,
}

/// A per-unit amount of a factor: finite and not negative. Hidden costs are not money, and
/// are estimates by nature, so a float is the honest type; it never enters money sums.
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd, Serialize)]
#[serde(transparent)]
pub struct PerUnit(f64);

impl PerUnit {
    pub fn new(v: f64) -> Result<PerUnit, ValueError> {
        if !v.is_finite() {
            return Err(ValueError(format!("{v} is not a finite number")));
        }
        if v < 0.0 {
            return Err(ValueError(format!(
                "{v} is negative; a hidden cost per unit is zero or more"
            )));
        }
        Ok(PerUnit(v))
    }

    pub fn get(self) -> f64 {
        self.0
    }
}

/// One product with its per-unit figures: `values[i]` belongs to the catalogue's `i`-th
/// factor, `None` where the figure is unknown.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Product {
    pub id: Label,
    pub name: Option<String>,
    pub values: Vec<Option<PerUnit>>,
}

impl Product {
    /// Whether the product carries no figure at all (it then counts as unmatched).
    pub fn has_no_factors(&self) -> bool {
        self.values.iter().all(Option::is_none)
    }
}

/// Why a catalogue could not be put together (the importer reports file and line itself;
/// these are the checks that hold whatever the catalogue came from).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CatalogueError {
    #[error("factor {0:?} is declared twice")]
    DuplicateFactor(String),
    #[error("product {0:?} is listed twice")]
    DuplicateProduct(String),
    #[error("product {product:?} has {got} figures for {expected} factors")]
    Width {
        product: String,
        got: usize,
        expected: usize,
    },
}

/// Factors and products, with products found by id in constant time.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Catalogue {
    factors: Vec<Factor>,
    products: Vec<Product>,
    index: FxHashMap<Label, usize>,
}

impl Catalogue {
    pub fn new(factors: Vec<Factor>, products: Vec<Product>) -> Result<Catalogue, CatalogueError> {
        for (i, f) in factors.iter().enumerate() {
            if factors[..i].iter().any(|g| g.name == f.name) {
                return Err(CatalogueError::DuplicateFactor(f.name.to_string()));
            }
        }
        let mut index = FxHashMap::default();
        index.reserve(products.len());
        for (i, p) in products.iter().enumerate() {
            if p.values.len() != factors.len() {
                return Err(CatalogueError::Width {
                    product: p.id.to_string(),
                    got: p.values.len(),
                    expected: factors.len(),
                });
            }
            if index.insert(p.id.clone(), i).is_some() {
                return Err(CatalogueError::DuplicateProduct(p.id.to_string()));
            }
        }
        Ok(Catalogue {
            factors,
            products,
            index,
        })
    }

    pub fn factors(&self) -> &[Factor] {
        &self.factors
    }

    pub fn products(&self) -> &[Product] {
        &self.products
    }

    pub fn product(&self, id: &str) -> Option<&Product> {
        self.index_of(id).map(|i| &self.products[i])
    }

    pub(crate) fn index_of(&self, id: &str) -> Option<usize> {
        // `Label` hashes and compares as its text, so a `&str` finds it without allocating.
        self.index.get(id).copied()
    }

    pub fn is_empty(&self) -> bool {
        self.factors.is_empty() && self.products.is_empty()
    }
}

impl fmt::Display for Factor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.name, self.unit)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn factor(name: &str) -> Factor {
        Factor {
            name: Label::parse(name).unwrap(),
            unit: Label::parse("kg").unwrap(),
            source: "test".into(),
        }
    }

    fn product(id: &str, values: Vec<Option<f64>>) -> Product {
        Product {
            id: Label::parse(id).unwrap(),
            name: None,
            values: values
                .into_iter()
                .map(|v| v.map(|v| PerUnit::new(v).unwrap()))
                .collect(),
        }
    }

    #[test]
    fn a_negative_or_infinite_figure_is_refused() {
        assert!(PerUnit::new(-0.1).is_err());
        assert!(PerUnit::new(f64::NAN).is_err());
        assert!(PerUnit::new(f64::INFINITY).is_err());
        assert_eq!(PerUnit::new(0.0).unwrap().get(), 0.0);
    }

    #[test]
    fn a_product_listed_twice_is_refused() {
        let e = Catalogue::new(
            vec![factor("co2e")],
            vec![product("A", vec![Some(1.0)]), product("A", vec![None])],
        )
        .unwrap_err();
        assert_eq!(e, CatalogueError::DuplicateProduct("A".into()));
    }

    #[test]
    fn a_factor_declared_twice_is_refused() {
        let e = Catalogue::new(vec![factor("co2e"), factor("co2e")], vec![]).unwrap_err();
        assert_eq!(e, CatalogueError::DuplicateFactor("co2e".into()));
    }

    #[test]
    fn products_are_found_by_their_id() {
        let c = Catalogue::new(
            vec![factor("co2e")],
            vec![product("A", vec![Some(1.0)]), product("B", vec![None])],
        )
        .unwrap();
        assert_eq!(c.product("B").unwrap().id.as_str(), "B");
        assert!(c.product("B").unwrap().has_no_factors());
        assert!(c.product("C").is_none());
    }
}
