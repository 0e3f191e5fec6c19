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
    // Nelder–Mead only has to get into the basin: Newton does the rest.
    let (mut x, mut fx, mut iterations) = nelder_mead(&guarded, start, 1.0, 3000);

    // Newton polish with Levenberg damping (only when the Hessian is not
    // positive definite) and a backtracking line search.
    let mut g;
    let mut h;
    let mut newton_iters = 0;
    loop {
        (g, h) = derivatives(&guarded, &x, fx);
        let scale = fx.abs().max(1.0);
        let gnorm = norm(&g);
        if !gnorm.is_finite() || newton_iters >= 100 || gnorm <= 1e-10 * scale {
            break;
        }
        newton_iters += 1;
        let max_diag = (0..n)
            .map(|i| h[i * n + i].abs())
            .fold(0.0, f64::max)
            .max(1e-12);
        let mut lambda = 0.0;
        let mut step = None;
        for _ in 0..16 {
            let mut hd = h.clone();
            for i in 0..n {
                hd[i * n + i] += lambda;
            }
            if let Some(d) = cholesky_solve(&hd, &g, n) {
                step = Some(d);
                break;
            }
            lambda = if lambda == 0.0 {
                1e-6 * max_diag
            } else {
                lambda * 10.0
            };
        }
        let Some(step) = step else { break };
        // Predicted decrease of the quadratic model; when it is at rounding
        // level there is nothing left to gain.
        let predicted: f64 = g.iter().zip(&step).map(|(a, b)| a * b).sum();
        if predicted.is_nan() || predicted <= 1e-14 * scale {
            break;
        }
        let mut t = 1.0;
        let mut improved = false;
        for _ in 0..30 {
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
        if !improved {
            break;
        }
    }
    iterations += newton_iters;
    // Report (and judge convergence on) a gradient with a smaller step than
    // the Hessian's, so its truncation error does not mask convergence.
    let gradient_norm = norm(&gradient(&guarded, &x, STEP / 10.0));
    judge(x, fx, iterations, gradient_norm, &h, n)
}

/// [`minimize_with_gradient`], and if that does not converge, the
/// derivative-free path ([`minimize`]) from the same start; the better
/// converged result wins. Deterministic either way.
pub(crate) fn minimize_robust<F: Fn(&[f64]) -> (f64, Vec<f64>)>(fg: F, start: &[f64]) -> Outcome {
    let first = minimize_with_gradient(&fg, start);
    if first.converged {
        return first;
    }
    let second = minimize(|x: &[f64]| fg(x).0, start);
    let pick_second = second.converged && (!first.converged || second.value < first.value);
    let mut out = if pick_second { second } else { first.clone() };
    out.iterations = first.iterations + if pick_second { out.iterations } else { 0 };
    out
}

/// Minimises a function with an analytic gradient: BFGS from `start`, then
/// Newton steps with a Hessian from central differences of the gradient,
/// which is also the Hessian returned for standard errors.
///
/// `fg` returns the value and gradient; +inf or NaN marks unusable points.
pub(crate) fn minimize_with_gradient<F: Fn(&[f64]) -> (f64, Vec<f64>)>(
    fg: F,
    start: &[f64],
) -> Outcome {
    let n = start.len();
    let guarded = |x: &[f64]| -> (f64, Vec<f64>) {
        if x.iter().any(|v| !v.is_finite() || v.abs() > THETA_LIMIT) {
            return (f64::INFINITY, vec![f64::NAN; n]);
        }
        let (v, g) = fg(x);
        if v.is_nan() || g.iter().any(|d| !d.is_finite()) {
            (f64::INFINITY, g)
        } else {
            (v, g)
        }
    };
    let dot = |a: &[f64], b: &[f64]| a.iter().zip(b).map(|(x, y)| x * y).sum::<f64>();
    let mut x = start.to_vec();
    let (mut fx, mut g) = guarded(&x);
    let mut iterations = 0;
    if fx.is_finite() {
        // BFGS on the inverse Hessian.
        let mut hinv = identity(n);
        let mut first = true;
        while iterations < 1000 {
            let scale = fx.abs().max(1.0);
            if norm(&g) <= 1e-9 * scale {
                break;
            }
            iterations += 1;
            let mut d: Vec<f64> = (0..n)
                .map(|i| -(0..n).map(|j| hinv[i * n + j] * g[j]).sum::<f64>())
                .collect();
            let mut slope = dot(&g, &d);
            if slope.is_nan() || slope >= 0.0 {
                hinv = identity(n);
                d = g.iter().map(|v| -v).collect();
                slope = dot(&g, &d);
            }
            // Keep a single step on the log scale below 2 (a factor e²).
            let longest = d.iter().fold(0.0f64, |m, v| m.max(v.abs()));
            if longest > 2.0 {
                for v in d.iter_mut() {
                    *v *= 2.0 / longest;
                }
                slope *= 2.0 / longest;
            }
            let mut t = 1.0;
            let mut accepted = None;
            for _ in 0..50 {
                let cand: Vec<f64> = x.iter().zip(&d).map(|(a, b)| a + t * b).collect();
                let (fc, gc) = guarded(&cand);
                if fc.is_finite() && fc <= fx + 1e-4 * t * slope {
                    accepted = Some((cand, fc, gc));
                    break;
                }
                t *= 0.5;
            }
            let Some((xn, fnew, gn)) = accepted else {
                break;
            };
            let s: Vec<f64> = xn.iter().zip(&x).map(|(a, b)| a - b).collect();
            let y: Vec<f64> = gn.iter().zip(&g).map(|(a, b)| a - b).collect();
            let sy = dot(&s, &y);
            if sy > 1e-12 * norm(&s) * norm(&y) {
                if first {
                    let yy = dot(&y, &y);
                    hinv = identity(n).iter().map(|v| v * sy / yy).collect();
                    first = false;
                }
                let hy: Vec<f64> = (0..n)
                    .map(|i| (0..n).map(|j| hinv[i * n + j] * y[j]).sum::<f64>())
                    .collect();
                let yhy = dot(&y, &hy);
                for i in 0..n {
                    for j in 0..n {
                        hinv[i * n + j] += ((sy + yhy) * s[i] * s[j]) / (sy * sy)
                            - (hy[i] * s[j] + s[i] * hy[j]) / sy;
                    }
                }
            }
            let progress = fx - fnew;
            x = xn;
            fx = fnew;
            g = gn;
            if progress <= 1e-15 * fx.abs().max(1.0) && norm(&g) <= 1e-6 * fx.abs().max(1.0) {
                break;
            }
        }
    }
    // Newton polish with the finite-difference Hessian of the gradient.
    let mut h = hessian_from_gradient(&guarded, &x);
    for _ in 0..20 {
        let scale = fx.abs().max(1.0);
        if !fx.is_finite() || norm(&g) <= 1e-10 * scale {
            break;
        }
        let Some(step) = cholesky_solve(&h, &g, n) else {
            break;
        };
        let cand: Vec<f64> = x.iter().zip(&step).map(|(a, b)| a - b).collect();
        let (fc, gc) = guarded(&cand);
        if !(fc.is_finite() && norm(&gc) < norm(&g)) {
            break;
        }
        iterations += 1;
        x = cand;
        fx = fc;
        g = gc;
        h = hessian_from_gradient(&guarded, &x);
    }
    let gradient_norm = norm(&g);
    judge(x, fx, iterations, gradient_norm, &h, n)
}

fn identity(n: usize) -> Vec<f64> {
    (0..n * n)
        .map(|k| if k / n == k % n { 1.0 } else { 0.0 })
        .collect()
}

/// Symmetrised central-difference Hessian of an analytic gradient.
fn hessian_from_gradient<F: Fn(&[f64]) -> (f64, Vec<f64>)>(fg: &F, x: &[f64]) -> Vec<f64> {
    let n = x.len();
    let h = STEP;
    let mut hess = vec![0.0; n * n];
    let mut p = x.to_vec();
    for j in 0..n {
        p[j] = x[j] + h;
        let (_, gp) = fg(&p);
        p[j] = x[j] - h;
        let (_, gm) = fg(&p);
        p[j] = x[j];
        for i in 0..n {
            hess[i * n + j] += (gp[i] - gm[i]) / (4.0 * h);
            hess[j * n + i] += (gp[i] - gm[i]) / (4.0 * h);
        }
    }
    hess
}

fn gradient<F: Fn(&[f64]) -> f64>(f: &F, x: &[f64], h: f64) -> Vec<f64> {
    let mut p = x.to_vec();
    (0..x.len())
        .map(|i| {
            p[i] = x[i] + h;
            let fp = f(&p);
            p[i] = x[i] - h;
            let fm = f(&p);
            p[i] = x[i];
            (fp - fm) / (2.0 * h)
        })
        .collect()
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
        if spread.is_finite() && spread <= 1e-10 * best.abs().max(1.0) && size <= 1e-5 {
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
                if s.is_nan() || s <= 0.0 || !s.is_finite() {
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

/// The covariance of θ' = J θ + c given that of θ: J Σ Jᵀ, with J (n × m) given by its
/// entries `j(row, column)` and Σ (m × m, row-major). How a search on other axes (ln μ for
/// ln β, a parameter held fixed and so left out) hands `finish` the covariance of the
/// log-parameters.
pub(crate) fn carry_covariance(
    sigma: &[f64],
    m: usize,
    n: usize,
    j: impl Fn(usize, usize) -> f64,
) -> Vec<f64> {
    let mut out = vec![0.0; n * n];
    for a in 0..n {
        for b in 0..n {
            let mut acc = 0.0;
            for k in 0..m {
                for l in 0..m {
                    acc += j(a, k) * sigma[k * m + l] * j(b, l);
                }
            }
            out[a * n + b] = acc;
        }
    }
    out
}

/// Marks `fit`'s parameter `name` as held at `value` while the others were fitted: its
/// value is exactly `value`, its standard error `NaN` (it has none) and `why` says so.
pub(crate) fn hold<P>(
    fit: &mut crate::Fit<P>,
    name: &str,
    value: f64,
    slot: impl Fn(&mut P) -> &mut f64,
    why: String,
) {
    *slot(&mut fit.params) = value;
    *slot(&mut fit.std_errors) = f64::NAN;
    fit.held = Some(crate::Held {
        parameter: name.to_owned(),
        value,
        why,
    });
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
    let se: Vec<f64> = (0..n)
        .map(|i| params[i] * inv[i * n + i].max(0.0).sqrt())
        .collect();
    Ok(crate::Fit {
        params: make(&params),
        log_likelihood: -out.value,
        std_errors: make(&se),
        log_covariance: inv.clone(),
        iterations: out.iterations,
        gradient_norm: out.gradient_norm,
        converged: true,
        held: None,
    })
}

/// The outcome of a search at `x`: converged when the value is finite, the gradient is
/// negligible against it, the Hessian can be inverted (so standard errors exist) and no
/// parameter ran off to the edge of the search space.
fn judge(
    x: Vec<f64>,
    fx: f64,
    iterations: usize,
    gradient_norm: f64,
    h: &[f64],
    n: usize,
) -> Outcome {
    let inverse_hessian = invert_spd(h, n);
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minimize_with_gradient_finds_the_rosenbrock_minimum() {
        let fg = |x: &[f64]| {
            let (a, b) = (1.0 - x[0], x[1] - x[0] * x[0]);
            (
                10.0 + a * a + 100.0 * b * b,
                vec![-2.0 * a - 400.0 * x[0] * b, 200.0 * b],
            )
        };
        let out = minimize_with_gradient(fg, &[-1.2, 1.0]);
        assert!(out.converged, "{out:?}");
        assert!((out.theta[0] - 1.0).abs() < 1e-6 && (out.theta[1] - 1.0).abs() < 1e-6);
    }

    #[test]
    fn minimize_without_gradient_finds_the_minimum_of_a_smooth_bowl() {
        let f = |x: &[f64]| {
            let (a, b) = (x[0] - 1.0, x[1] + 2.0);
            10.0 + a * a + 2.0 * b * b + a * b + 0.1 * a.powi(4)
        };
        let out = minimize(f, &[-3.0, 4.0]);
        assert!(out.converged, "{out:?}");
        assert!((out.theta[0] - 1.0).abs() < 1e-5 && (out.theta[1] + 2.0).abs() < 1e-5);
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
