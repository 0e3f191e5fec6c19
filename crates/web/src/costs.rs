//! Hidden costs on the web: the `/costs` page (totals, a monthly chart per factor, the
//! products that carry the most, and the products that could not be costed) and
//! `GET /api/costs`. Both are for admins and analysts — figures, no personal text — as the
//! people list's figures are; agents, who work with one person at a time, see a person's
//! hidden costs on their card instead.
//!
//! The figures are computed from the ledger on each request (one pass over the order events;
//! see docs/performance.md for how long that takes), so a catalogue imported on the command
//! line shows at once.

use std::collections::HashMap;
use std::sync::Arc;

use askama::Template;
use axum::extract::{Query, State};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use domain::costs::{By, Report, figure};

use crate::auth::{Bearer, Principal, Role, Signed};
use crate::charts;
use crate::error::{ApiError, PageError};
use crate::pages::Nav;
use crate::state::AppState;

/// Groups the API gives unless `limit` says otherwise, and the most it gives.
pub const DEFAULT_LIMIT: usize = 100;
pub const MAX_LIMIT: usize = 100_000;
/// Products the page lists.
const TOP: usize = 20;

pub fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/costs", get(page))
        .route("/api/costs", get(api))
}

/// Whether `who` may see everyone's hidden costs.
pub fn may_see(who: &Principal) -> bool {
    matches!(who.role, Role::Admin | Role::Analyst)
}

/// Reads `by` (person, product, month or order; absent: totals only) and `limit`.
pub fn parse_query(
    params: &HashMap<String, String>,
) -> Result<(Option<By>, usize), (&'static str, String)> {
    let by = match params.get("by").map(String::as_str) {
        None | Some("") => None,
        Some(b) => Some(By::parse(b).ok_or((
            "by",
            format!("{b:?} is not a grouping; give person, product, month or order"),
        ))?),
    };
    let limit = match params.get("limit").map(String::as_str) {
        None | Some("") => DEFAULT_LIMIT,
        Some(v) => v
            .parse::<usize>()
            .ok()
            .filter(|n| (1..=MAX_LIMIT).contains(n))
            .ok_or((
                "limit",
                format!("{v:?} is not a whole number from 1 to {MAX_LIMIT}"),
            ))?,
    };
    Ok((by, limit))
}

const NO_CATALOGUE: &str = "no product catalogue has been imported (rapport catalogue import products.csv --factors factors.csv)";

async fn api(
    State(state): State<Arc<AppState>>,
    Bearer(who): Bearer,
    Query(params): Query<HashMap<String, String>>,
) -> Result<Json<Report>, ApiError> {
    if !may_see(&who) {
        return Err(ApiError::forbidden(
            "hidden costs across everyone are for admins and analysts; an agent sees them on each card",
        ));
    }
    crate::api::no_empty(&params, &["by", "limit"])?;
    let (by, limit) = parse_query(&params).map_err(|(f, m)| ApiError::field(f, m))?;
    let s = state.clone();
    let report = tokio::task::spawn_blocking(move || s.app.costs(by, Some(limit)))
        .await
        .map_err(ApiError::internal)?
        .map_err(ApiError::store)?
        .ok_or_else(|| ApiError::not_found(NO_CATALOGUE))?;
    Ok(Json(report))
}

pub struct FactorRow {
    pub name: String,
    pub unit: String,
    pub source: String,
    pub total: String,
    pub lines: u64,
    pub missing: u64,
    pub chart: String,
}

pub struct ProductRow {
    pub product: String,
    pub name: String,
    pub lines: u64,
    pub net: i64,
    pub costs: Vec<String>,
    pub money: String,
}

pub struct UnmatchedRow {
    pub product: String,
    pub lines: u64,
    pub net: i64,
    pub money: String,
    pub why: &'static str,
}

#[derive(Template)]
#[template(path = "costs.html")]
struct CostsPage {
    nav: Option<Nav>,
    catalogue: bool,
    orders: u64,
    returns: u64,
    without_lines: u64,
    lines: u64,
    matched: u64,
    unmatched_lines: u64,
    money: String,
    factors: Vec<FactorRow>,
    products: Vec<ProductRow>,
    product_count: usize,
    unmatched: Vec<UnmatchedRow>,
}

/// The month report and the product report, from one pass over the orders.
fn reports(app: &app::App) -> Result<Option<(Report, Report)>, store::StoreError> {
    let Some(mut both) =
        app.costs_by(&[(Some(By::Month), None), (Some(By::Product), Some(TOP))])?
    else {
        return Ok(None);
    };
    let products = both.pop();
    let months = both.pop();
    Ok(months.zip(products))
}

async fn page(State(state): State<Arc<AppState>>, who: Signed) -> Result<Response, PageError> {
    if !may_see(&who.0) {
        return Err(PageError::Forbidden(
            "Hidden costs across everyone are for admins and analysts; an agent sees a person's on their card."
                .into(),
        ));
    }
    let s = state.clone();
    let found = tokio::task::spawn_blocking(move || reports(&s.app)).await??;
    let nav = Nav::of(&who);
    let Some((months, products)) = found else {
        let page = CostsPage {
            nav,
            catalogue: false,
            orders: 0,
            returns: 0,
            without_lines: 0,
            lines: 0,
            matched: 0,
            unmatched_lines: 0,
            money: String::new(),
            factors: Vec::new(),
            products: Vec::new(),
            product_count: 0,
            unmatched: Vec::new(),
        };
        return Ok(html(page.render()?));
    };
    let t = &months.total;
    let factors = months
        .factors
        .iter()
        .enumerate()
        .map(|(i, f)| {
            let series: Vec<(String, f64)> = months
                .groups
                .iter()
                .map(|g| {
                    (
                        g.key.clone(),
                        g.figures.costs.get(i).map_or(0.0, |c| c.total),
                    )
                })
                .collect();
            let c = &t.costs[i];
            FactorRow {
                name: f.name.to_string(),
                unit: f.unit.to_string(),
                source: f.source.clone(),
                total: figure(c.total),
                lines: c.lines,
                missing: c.missing_lines,
                chart: charts::monthly(&series, &format!("{} ({})", f.name, f.unit)),
            }
        })
        .collect();
    let product_rows = products
        .groups
        .iter()
        .map(|g| ProductRow {
            product: g.key.clone(),
            name: g.name.clone().unwrap_or_default(),
            lines: g.figures.lines,
            net: g.figures.net_quantity,
            costs: g
                .figures
                .costs
                .iter()
                .map(|c| {
                    if c.lines == 0 {
                        "–".to_owned()
                    } else {
                        figure(c.total)
                    }
                })
                .collect(),
            money: g.figures.money_in_words(),
        })
        .collect();
    let unmatched = months
        .unmatched
        .iter()
        .map(|u| UnmatchedRow {
            product: u.product.clone(),
            lines: u.lines,
            net: u.net_quantity,
            money: u
                .money
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(" + "),
            why: if u.in_catalogue {
                "listed without figures"
            } else {
                "not in the catalogue"
            },
        })
        .collect();
    let page = CostsPage {
        nav,
        catalogue: true,
        orders: months.orders,
        returns: months.returns,
        without_lines: months.orders_without_lines,
        lines: t.lines,
        matched: t.matched_lines,
        unmatched_lines: t.unmatched_lines,
        money: t.money_in_words(),
        factors,
        products: product_rows,
        product_count: products.group_count,
        unmatched,
    };
    Ok(html(page.render()?))
}

fn html(body: String) -> Response {
    let mut r = Html(body).into_response();
    r.headers_mut().insert(
        axum::http::header::CACHE_CONTROL,
        axum::http::HeaderValue::from_static("no-store"),
    );
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn the_query_names_what_is_wrong() {
        assert_eq!(parse_query(&params(&[])).unwrap(), (None, DEFAULT_LIMIT));
        assert_eq!(
            parse_query(&params(&[("by", "month"), ("limit", "3")])).unwrap(),
            (Some(By::Month), 3)
        );
        assert_eq!(
            parse_query(&params(&[("by", "customer")])).unwrap_err().0,
            "by"
        );
        assert_eq!(
            parse_query(&params(&[("limit", "0")])).unwrap_err().0,
            "limit"
        );
        assert_eq!(
            parse_query(&params(&[("limit", "x")])).unwrap_err().0,
            "limit"
        );
    }
}
