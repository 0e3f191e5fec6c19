//! Deterministic minimisation for the maximum-likelihood fits.
//!
//! Fits must be reproducible (the same data gives the same parameters on every
//! machine) and must say honestly whether they converged, so there are no
//! random restarts: Nelder–Mead from a fixed start gets close without needing
//! derivatives, then damped Newton steps with a central-difference Hessian
//! polish to the optimum, and the same Hessian gives the standard errors.
//! All parameters are optimised on the log scale, which keeps them positive
//! and makes the surface rounder.

/// Result of [`minimize`].
#[derive(Debug, Clone)]
pub(crate) struct Outcome {
    pub theta: Vec<f64>,
    pub value: f64,
    pub iterations: usize,
    pub gradient_norm: f64,
    /// Inverse Hessian of the objective on the optimisation scale, when the
    /// Hessian is positive definite.
    pub inverse_hessian: Option<Vec<f64>>,
    pub converged: bool,
}

/// Log-parameters beyond this are treated as a fit running off to a boundary.
pub(crate) const THETA_LIMIT: f64 = 30.0;
const STEP: f64 = 1e-4;

/// Minimises `f` (which returns +inf or NaN for unusable points) from `start`.
pub(crate) fn minimize<F: Fn(&[f64]) -> f64>(f: F, start: &[f64]) -> Outcome {
    let n = start.len();
    let guarded = |x: &[f64]| {
        if x.iter().any(|v| !v.is_finite() || v.abs() > THETA_LIMIT) {
            return f64::INFINITY;
        }
        let v = f(x);
        if v.is_nan() { f64::INFINITY } else { v }
    };
    let (mut x, mut fx, mut iterations) = nelder_mead(&guarded, start, 1.0, 3000);
    // One restart from the best vertex with a smaller simplex: Nelder–Mead can
    // collapse early, a fresh simplex costs little and catches that.
    let (x2, f2, it2) = nelder_mead(&guarded, &x, 0.1, 3000);
    iterations += it2;
    if f2 <= fx {
        x = x2;
        fx = f2;
    }

    // Newton polish with Levenberg damping and a backtracking line search.
    let mut g;
    let mut h;
    let mut newton_iters = 0;
    loop {
        (g, h) = derivatives(&guarded, &x, fx);
        let gnorm = norm(&g);
        if !gnorm.is_finite() || newton_iters >= 100 {
            break;
        }
        if gnorm <= 1e-10 * fx.abs().max(1.0) {
            break;
        }
        newton_iters += 1;
        let mut improved = false;
        let max_diag = (0..n).map(|i| h[i * n + i].abs()).fold(0.0, f64::max).max(1e-12);
        let mut lambda = 0.0;
        for _ in 0..20 {
            let mut hd = h.clone();
            for i in 0..n {
                hd[i * n + i] += lambda;
            }
            if let Some(step) = cholesky_solve(&hd, &g, n) {
                let mut t = 1.0;
                for _ in 0..40 {
                    let cand: Vec<f64> = x.iter().zip(&step).map(|(xi, d)| xi - t * d).collect();
                    let fc = guarded(&cand);
                    if fc < fx {
                        x = cand;
                        fx = fc;
                        improved = true;
                        break;
                    }
                    t *= 0.5;
                }
                if improved {
                    break;
                }
            }
            lambda = if lambda == 0.0 { 1e-6 * max_diag } else { lambda * 10.0 };
        }
        if !improved {
            break;
        }
    }
    iterations += newton_iters;
    let gradient_norm = norm(&g);
    let inverse_hessian = invert_spd(&h, n);
    let converged = fx.is_finite()
        && gradient_norm <= 1e-6 * fx.abs().max(1.0)
        && inverse_hessian.is_some()
        && x.iter().all(|v| v.abs() < THETA_LIMIT - 1.0);
    Outcome {
        theta: x,
        value: fx,
        iterations,
        gradient_norm,
        inverse_hessian,
        converged,
    }
}

fn norm(v: &[f64]) -> f64 {
    v.iter().map(|x| x * x).sum::<f64>().sqrt()
}

/// Central-difference gradient and Hessian, sharing the axis evaluations.
fn derivatives<F: Fn(&[f64]) -> f64>(f: &F, x: &[f64], fx: f64) -> (Vec<f64>, Vec<f64>) {
    let n = x.len();
    let h = STEP;
    let mut g = vec![0.0; n];
    let mut hess = vec![0.0; n * n];
    let mut p = x.to_vec();
    for i in 0..n {
        p[i] = x[i] + h;
        let fp = f(&p);
        p[i] = x[i] - h;
        let fm = f(&p);
        p[i] = x[i];
        g[i] = (fp - fm) / (2.0 * h);
        hess[i * n + i] = (fp - 2.0 * fx + fm) / (h * h);
    }
    for i in 0..n {
        for j in (i + 1)..n {
            let mut eval = |di: f64, dj: f64| {
                p[i] = x[i] + di;
                p[j] = x[j] + dj;
                let v = f(&p);
                p[i] = x[i];
                p[j] = x[j];
                v
            };
            let v = (eval(h, h) - eval(h, -h) - eval(-h, h) + eval(-h, -h)) / (4.0 * h * h);
            hess[i * n + j] = v;
            hess[j * n + i] = v;
        }
    }
    (g, hess)
}

/// Nelder–Mead with the dimension-adapted coefficients of Gao & Han (2012).
fn nelder_mead<F: Fn(&[f64]) -> f64>(
    f: &F,
    start: &[f64],
    scale: f64,
    max_iter: usize,
) -> (Vec<f64>, f64, usize) {
    let n = start.len();
    let nf = n as f64;
    let (alpha, gamma, rho, sigma) = (1.0, 1.0 + 2.0 / nf, 0.75 - 1.0 / (2.0 * nf), 1.0 - 1.0 / nf);
    let mut simplex: Vec<Vec<f64>> = Vec::with_capacity(n + 1);
    simplex.push(start.to_vec());
    for i in 0..n {
        let mut v = start.to_vec();
        v[i] += scale;
        simplex.push(v);
    }
    let mut values: Vec<f64> = simplex.iter().map(|v| f(v)).collect();
    let mut iter = 0;
    while iter < max_iter {
        iter += 1;
        let mut order: Vec<usize> = (0..=n).collect();
        order.sort_by(|&a, &b| values[a].total_cmp(&values[b]));
        simplex = order.iter().map(|&i| simplex[i].clone()).collect();
        values = order.iter().map(|&i| values[i]).collect();

        let best = values[0];
        let worst = values[n];
        let spread = (worst - best).abs();
        let size = simplex[1..]
            .iter()
            .flat_map(|v| v.iter().zip(&simplex[0]).map(|(a, b)| (a - b).abs()))
            .fold(0.0, f64::max);
        if spread.is_finite() && spread <= 1e-11 * best.abs().max(1.0) && size <= 1e-7 {
            break;
        }

        let mut centroid = vec![0.0; n];
        for v in &simplex[..n] {
            for (c, x) in centroid.iter_mut().zip(v) {
                *c += x / nf;
            }
        }
        let along = |t: f64| -> Vec<f64> {
            centroid
                .iter()
                .zip(&simplex[n])
                .map(|(c, w)| c + t * (c - w))
                .collect()
        };
        let xr = along(alpha);
        let fr = f(&xr);
        if fr < values[0] {
            let xe = along(alpha * gamma);
            let fe = f(&xe);
            if fe < fr {
                simplex[n] = xe;
                values[n] = fe;
            } else {
                simplex[n] = xr;
                values[n] = fr;
            }
            continue;
        }
        if fr < values[n - 1] {
            simplex[n] = xr;
            values[n] = fr;
            continue;
        }
        let (xc, fc) = if fr < values[n] {
            let xc = along(alpha * rho);
            let fc = f(&xc);
            (xc, fc)
        } else {
            let xc = along(-rho);
            let fc = f(&xc);
            (xc, fc)
        };
        if fc < values[n].min(fr) {
            simplex[n] = xc;
            values[n] = fc;
            continue;
        }
        // Shrink towards the best vertex.
        for k in 1..=n {
            let v: Vec<f64> = simplex[0]
                .iter()
                .zip(&simplex[k])
                .map(|(b, x)| b + sigma * (x - b))
                .collect();
            values[k] = f(&v);
            simplex[k] = v;
        }
    }
    let best = (0..=n)
        .min_by(|&a, &b| values[a].total_cmp(&values[b]))
        .unwrap_or(0);
    (simplex[best].clone(), values[best], iter)
}

/// Cholesky factorisation of a symmetric matrix (row-major); `None` if it is
/// not positive definite.
fn cholesky(a: &[f64], n: usize) -> Option<Vec<f64>> {
    let mut l = vec![0.0; n * n];
    for i in 0..n {
        for j in 0..=i {
            let mut s = a[i * n + j];
            for k in 0..j {
                s -= l[i * n + k] * l[j * n + k];
            }
            if i == j {
                if !(s > 0.0) || !s.is_finite() {
                    return None;
                }
                l[i * n + i] = s.sqrt();
            } else {
                l[i * n + j] = s / l[j * n + j];
            }
        }
    }
    Some(l)
}

fn cholesky_solve(a: &[f64], b: &[f64], n: usize) -> Option<Vec<f64>> {
    let l = cholesky(a, n)?;
    let mut y = vec![0.0; n];
    for i in 0..n {
        let mut s = b[i];
        for k in 0..i {
            s -= l[i * n + k] * y[k];
        }
        y[i] = s / l[i * n + i];
    }
    let mut x = vec![0.0; n];
    for i in (0..n).rev() {
        let mut s = y[i];
        for k in (i + 1)..n {
            s -= l[k * n + i] * x[k];
        }
        x[i] = s / l[i * n + i];
    }
    Some(x)
}

/// Inverse of a symmetric positive-definite matrix, column by column.
fn invert_spd(a: &[f64], n: usize) -> Option<Vec<f64>> {
    let mut inv = vec![0.0; n * n];
    for j in 0..n {
        let mut e = vec![0.0; n];
        e[j] = 1.0;
        let col = cholesky_solve(a, &e, n)?;
        for i in 0..n {
            inv[i * n + j] = col[i];
        }
    }
    Some(inv)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minimize_finds_the_rosenbrock_minimum() {
        let f = |x: &[f64]| (1.0 - x[0]).powi(2) + 100.0 * (x[1] - x[0] * x[0]).powi(2);
        let out = minimize(f, &[-1.2, 1.0]);
        assert!(out.converged, "{out:?}");
        assert!((out.theta[0] - 1.0).abs() < 1e-6 && (out.theta[1] - 1.0).abs() < 1e-6);
    }

    #[test]
    fn minimize_reports_a_fit_that_runs_off_to_a_boundary_as_not_converged() {
        // exp(-x) has no minimum: x runs away.
        let out = minimize(|x: &[f64]| (-x[0]).exp(), &[0.0]);
        assert!(!out.converged);
    }

    #[test]
    fn inverse_hessian_of_a_quadratic_is_exact() {
        let f = |x: &[f64]| 2.0 * x[0] * x[0] + x[0] * x[1] + x[1] * x[1];
        let out = minimize(f, &[1.0, 1.0]);
        let inv = out.inverse_hessian.unwrap();
        // Hessian [[4,1],[1,2]], inverse [[2,-1],[-1,4]]/7.
        assert!((inv[0] - 2.0 / 7.0).abs() < 1e-5);
        assert!((inv[1] + 1.0 / 7.0).abs() < 1e-5);
        assert!((inv[3] - 4.0 / 7.0).abs() < 1e-5);
    }
}

/// Turns an optimiser outcome on log-parameters into a checked [`crate::Fit`]:
/// a non-finite or runaway parameter, or a fit that did not converge, is an
/// error rather than a result someone might use by mistake.
pub(crate) fn finish<P>(
    out: Outcome,
    names: &[&'static str],
    make: impl Fn(&[f64]) -> P,
) -> Result<crate::Fit<P>, crate::FitError> {
    let params: Vec<f64> = out.theta.iter().map(|t| t.exp()).collect();
    for ((&name, &p), &t) in names.iter().zip(&params).zip(&out.theta) {
        if !p.is_finite() || p <= 0.0 || t.abs() >= THETA_LIMIT - 1.0 {
            return Err(crate::FitError::NonFiniteParameter { name, value: p });
        }
    }
    if !out.value.is_finite() {
        return Err(crate::FitError::NotConverged {
            iterations: out.iterations,
            gradient_norm: out.gradient_norm,
        });
    }
    let inv = match (&out.inverse_hessian, out.converged) {
        (Some(inv), true) => inv,
        _ => {
            return Err(crate::FitError::NotConverged {
                iterations: out.iterations,
                gradient_norm: out.gradient_norm,
            });
        }
    };
    let n = params.len();
    let se: Vec<f64> = (0..n).map(|i| params[i] * inv[i * n + i].max(0.0).sqrt()).collect();
    Ok(crate::Fit {
        params: make(&params),
        log_likelihood: -out.value,
        std_errors: make(&se),
        iterations: out.iterations,
        gradient_norm: out.gradient_norm,
        converged: true,
    })
}
