//! The catalogue reader on any bytes. An even first byte reads the rest as `products.csv`
//! against two known factors; an odd one splits the rest at a NUL into `factors.csv` and
//! `products.csv`. Either file may be refused with its errors, but nothing panics, and a
//! catalogue that is read has every figure it declares.
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;
use rapport_import::catalogue::{parse_factors, parse_products};

const FACTORS: &[u8] = b"factor,unit,source\nco2e_kg,kg CO2e,test\nwater_l,litres,test\n";

fuzz_target!(|data: &[u8]| {
    let Some((&choice, rest)) = data.split_first() else {
        return;
    };
    let (factors, products) = if choice % 2 == 0 {
        (FACTORS, rest)
    } else {
        match rest.iter().position(|b| *b == 0) {
            Some(nul) => (&rest[..nul], &rest[nul + 1..]),
            None => (rest, &[][..]),
        }
    };
    let Ok(factors) = parse_factors(Path::new("factors.csv"), factors) else {
        return;
    };
    if let Ok(products) = parse_products(Path::new("products.csv"), products, &factors) {
        for p in &products {
            assert_eq!(p.values.len(), factors.len());
        }
    }
});
