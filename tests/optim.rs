//! Optimizers and schedules against hand-written reference updates, their hyperparameter checks,
//! and the `Optimizer` contract: a failing step changes nothing, state included.
#![allow(clippy::needless_range_loop)] // index loops read like the formulas

use tapegrad::{Adam, Error, Optimizer, Schedule, Sgd};

/// Adam written straight from the paper (Kingma and Ba, Algorithm 1), independent of the crate.
struct ReferenceAdam {
    lr: f64,
    b1: f64,
    b2: f64,
    eps: f64,
    m: Vec<f64>,
    v: Vec<f64>,
    t: i32,
}

impl ReferenceAdam {
    fn new(lr: f64, n: usize) -> Self {
        ReferenceAdam {
            lr,
            b1: 0.9,
            b2: 0.999,
            eps: 1e-8,
            m: vec![0.0; n],
            v: vec![0.0; n],
            t: 0,
        }
    }
    fn step(&mut self, p: &mut [f64], g: &[f64]) {
        self.t += 1;
        for k in 0..p.len() {
            self.m[k] = self.b1 * self.m[k] + (1.0 - self.b1) * g[k];
            self.v[k] = self.b2 * self.v[k] + (1.0 - self.b2) * g[k] * g[k];
            let m_hat = self.m[k] / (1.0 - self.b1.powf(f64::from(self.t)));
            let v_hat = self.v[k] / (1.0 - self.b2.powf(f64::from(self.t)));
            p[k] -= self.lr * m_hat / (v_hat.sqrt() + self.eps);
        }
    }
}

/// Deterministic, varied gradients for step `t`.
fn gradient(t: usize, n: usize) -> Vec<f64> {
    (0..n)
        .map(|k| ((t * 7 + k * 3) as f64).sin() * (1.0 + k as f64))
        .collect()
}

#[test]
fn adam_matches_the_paper_over_many_steps() {
    let n = 5;
    let mut adam = Adam::new(0.01).unwrap();
    let mut reference = ReferenceAdam::new(0.01, n);
    let (mut p, mut q) = (vec![0.5; n], vec![0.5; n]);
    for t in 0..200 {
        let g = gradient(t, n);
        adam.step(&mut p, &g).unwrap();
        reference.step(&mut q, &g);
    }
    for k in 0..n {
        assert!((p[k] - q[k]).abs() < 1e-12, "{k}: {} vs {}", p[k], q[k]);
    }
    assert_eq!(adam.steps(), 200);
}

#[test]
fn adam_defaults_and_first_step() {
    let adam = Adam::default();
    assert_eq!(adam.learning_rate(), 0.001);
    assert_eq!(adam.hyperparameters(), (0.9, 0.999, 1e-8));
    // Bias correction makes the first step lr * g / (|g| + eps): about lr, for any gradient size.
    let mut adam = Adam::default();
    let mut p = [0.0, 0.0, 0.0];
    adam.step(&mut p, &[1e-3, -5.0, 0.0]).unwrap();
    assert!((p[0] - -0.001 * 1e-3 / (1e-3 + 1e-8)).abs() < 1e-15);
    assert!((p[1] - 0.001 * 5.0 / (5.0 + 1e-8)).abs() < 1e-15);
    assert_eq!(p[2], 0.0);
}

#[test]
fn sgd_defaults_and_first_step() {
    let mut sgd = Sgd::default();
    assert_eq!(
        (sgd.learning_rate(), sgd.momentum_factor(), sgd.steps()),
        (0.01, 0.0, 0)
    );
    let mut p = [1.0, -2.0];
    sgd.step(&mut p, &[3.0, -0.5]).unwrap();
    assert_eq!(p, [1.0 - 0.01 * 3.0, -2.0 + 0.01 * 0.5]);
    assert_eq!(sgd.steps(), 1);
}

#[test]
fn sgd_momentum_matches_the_recurrence() {
    // v1 = g1; v2 = mu v1 + g2; v3 = mu v2 + g3; p -= lr v at each step.
    let (lr, mu) = (0.1, 0.9);
    let g = [2.0, -1.0, 0.5];
    let mut sgd = Sgd::with_momentum(lr, mu).unwrap();
    let mut p = [1.0];
    for gk in g {
        sgd.step(&mut p, &[gk]).unwrap();
    }
    let v1 = g[0];
    let v2 = mu * v1 + g[1];
    let v3 = mu * v2 + g[2];
    let expected = 1.0 - lr * v1 - lr * v2 - lr * v3;
    assert!((p[0] - expected).abs() < 1e-15, "{} vs {expected}", p[0]);
    // Momentum 0 is exactly plain SGD.
    let (mut a, mut b) = ([1.0, -2.0], [1.0, -2.0]);
    let mut plain = Sgd::new(0.3).unwrap();
    let mut zero = Sgd::with_momentum(0.3, 0.0).unwrap();
    for t in 0..10 {
        let g = gradient(t, 2);
        plain.step(&mut a, &g).unwrap();
        zero.step(&mut b, &g).unwrap();
    }
    assert_eq!(a, b);
}

#[test]
fn schedules() {
    // W2's rate, exactly: lr_k = 1.0 - 0.9 k / 100.
    let lr = Schedule::linear(1.0, 0.1, 100).unwrap();
    for k in 0..100 {
        assert_eq!(lr.at(k), 1.0 - 0.9 * k as f64 / 100.0, "k {k}");
    }
    assert_eq!(lr.at(100), 0.1);
    assert_eq!(lr.at(usize::MAX), 0.1);
    // Rates near f64::MAX (accepted, so finite all the way): (end - start) t overflows, the
    // rate does not.
    let huge = Schedule::linear(f64::MAX, 0.0, 4).unwrap();
    for k in 0..=4 {
        let want = f64::MAX * (1.0 - k as f64 / 4.0);
        let got = huge.at(k);
        assert!(
            (got - want).abs() <= 1e-15 * f64::MAX,
            "step {k}: {got:e}, want {want:e}"
        );
    }
    assert_eq!(Schedule::constant(0.25).unwrap().at(12345), 0.25);
    let halving = Schedule::from_fn(|t| 1.0 / (1u64 << t) as f64);
    assert_eq!(halving.at(4), 0.0625);

    // The optimizer takes one schedule step per update.
    let mut sgd = Sgd::with_schedule(Schedule::linear(1.0, 0.5, 2).unwrap());
    let mut p = [0.0];
    for expected_lr in [1.0, 0.75, 0.5, 0.5] {
        assert_eq!(sgd.learning_rate(), expected_lr);
        let before = p[0];
        sgd.step(&mut p, &[1.0]).unwrap();
        assert_eq!(before - p[0], expected_lr);
    }
}

#[test]
fn a_closure_rate_that_is_not_usable_refuses_the_step() {
    let mut sgd = Sgd::with_schedule(Schedule::from_fn(|t| if t == 1 { f64::NAN } else { 0.1 }));
    let mut p = [1.0];
    sgd.step(&mut p, &[1.0]).unwrap();
    let err = sgd.step(&mut p, &[1.0]).unwrap_err();
    assert!(
        matches!(err, Error::InvalidSchedule { step: 1, rate } if rate.is_nan()),
        "{err}"
    );
    assert_eq!(
        err.to_string(),
        "the learning-rate schedule gives NaN at step 1, but a rate must be finite and >= 0"
    );
    assert_eq!((p, sgd.steps()), ([0.9], 1)); // nothing changed, the step not counted
    let mut adam = Adam::with_schedule(Schedule::from_fn(|_| -1.0));
    assert_eq!(
        adam.step(&mut p, &[1.0]),
        Err(Error::InvalidSchedule {
            step: 0,
            rate: -1.0
        })
    );
    assert_eq!(p, [0.9]);
}

fn hyperparameter(result: Result<impl std::fmt::Debug, Error>) -> String {
    match result {
        Err(e @ Error::InvalidHyperparameter { .. }) => e.to_string(),
        other => panic!("expected InvalidHyperparameter, got {other:?}"),
    }
}

#[test]
fn every_hyperparameter_is_checked_on_construction() {
    for lr in [0.0, -0.1, f64::NAN, f64::INFINITY] {
        hyperparameter(Sgd::new(lr));
        hyperparameter(Adam::new(lr));
        hyperparameter(Schedule::constant(lr));
        hyperparameter(Schedule::linear(lr, 0.1, 10));
        hyperparameter(Sgd::with_momentum(lr, 0.9));
    }
    assert_eq!(
        hyperparameter(Sgd::new(0.0)),
        "learning rate must be finite and > 0, got 0"
    );
    for mu in [-0.1, 1.0, 1.5, f64::NAN] {
        let msg = hyperparameter(Sgd::with_momentum(0.1, mu));
        assert!(msg.starts_with("momentum must be in [0, 1)"), "{msg}");
    }
    for beta in [-0.1, 1.0, f64::NAN] {
        assert!(hyperparameter(Adam::default().betas(beta, 0.999)).starts_with("beta1"));
        assert!(hyperparameter(Adam::default().betas(0.9, beta)).starts_with("beta2"));
    }
    for eps in [0.0, -1e-8, f64::NAN, f64::INFINITY] {
        assert!(hyperparameter(Adam::default().eps(eps)).starts_with("eps must be finite and > 0"));
    }
    assert_eq!(
        hyperparameter(Schedule::linear(1.0, -0.1, 10)),
        "final learning rate must be finite and >= 0, got -0.1"
    );
    assert_eq!(
        hyperparameter(Schedule::linear(1.0, 0.1, 0)),
        "decay steps must be at least 1, got 0"
    );
    assert!(Schedule::linear(1.0, 0.0, 10).is_ok()); // decaying to 0 is allowed
}

/// A step that would overflow parameter 1 must leave parameters and optimizer state untouched:
/// continuing with good gradients gives exactly what an optimizer that never saw the bad step
/// gives.
fn failing_step_changes_nothing(mut make: impl FnMut() -> Box<dyn Optimizer>, bad: [f64; 2]) {
    let good = [[0.5, -1.0], [0.25, 2.0], [-1.0, 0.1]];
    let mut a = make();
    let mut b = make();
    let (mut p, mut q) = ([1.0, 1e308], [1.0, 1e308]);
    a.step(&mut p, &good[0]).unwrap();
    b.step(&mut q, &good[0]).unwrap();
    let before = p;
    assert_eq!(
        a.step(&mut p, &bad),
        Err(tapegrad::Error::NonFiniteParameter { parameter: 1 })
    );
    assert_eq!(p, before);
    for g in &good[1..] {
        a.step(&mut p, g).unwrap();
        b.step(&mut q, g).unwrap();
    }
    assert_eq!(p, q);
}

#[test]
fn the_optimizer_contract_holds_with_state() {
    // p1 = 1e308 - (-1e308) overflows.
    failing_step_changes_nothing(|| Box::new(Sgd::new(1.0).unwrap()), [1.0, -1e308]);
    failing_step_changes_nothing(
        || Box::new(Sgd::with_momentum(1.0, 0.9).unwrap()),
        [1.0, -1e308],
    );
    // The second moment (1e200)^2 overflows.
    failing_step_changes_nothing(|| Box::new(Adam::new(1.0).unwrap()), [1.0, 1e200]);
}

/// `step_into` writes what `step` would, bit for bit, leaves its input alone, and on a refused
/// step changes no optimizer state: continuing gives what an optimizer that never saw the bad
/// step gives.
fn step_into_is_step_elsewhere(mut make: impl FnMut() -> Box<dyn Optimizer>, bad: [f64; 2]) {
    let good = [[0.5, -1.0], [0.25, 2.0], [-1.0, 0.1]];
    let (mut a, mut b) = (make(), make());
    let (mut p, mut q) = ([1.0, 1e308], [1.0, 1e308]);
    let mut out = [0.0; 2];
    a.step(&mut p, &good[0]).unwrap();
    b.step_into(&q.clone(), &good[0], &mut out).unwrap();
    q = out;
    assert_eq!(p.map(f64::to_bits), q.map(f64::to_bits));
    let before = q;
    assert_eq!(
        b.step_into(&q, &bad, &mut out),
        Err(Error::NonFiniteParameter { parameter: 1 })
    );
    assert_eq!(q, before);
    for g in &good[1..] {
        a.step(&mut p, g).unwrap();
        b.step_into(&q.clone(), g, &mut out).unwrap();
        q = out;
    }
    assert_eq!(p.map(f64::to_bits), q.map(f64::to_bits));
}

#[test]
fn step_into_matches_step_and_keeps_the_contract() {
    step_into_is_step_elsewhere(|| Box::new(Sgd::new(1.0).unwrap()), [1.0, -1e308]);
    step_into_is_step_elsewhere(|| Box::new(Sgd::new(1.0).unwrap()), [1.0, f64::NAN]);
    step_into_is_step_elsewhere(
        || Box::new(Sgd::with_schedule(Schedule::linear(1.0, 0.5, 2).unwrap())),
        [1.0, f64::INFINITY],
    );
    step_into_is_step_elsewhere(
        || Box::new(Sgd::with_momentum(1.0, 0.9).unwrap()),
        [1.0, -1e308],
    );
    step_into_is_step_elsewhere(|| Box::new(Adam::new(1.0).unwrap()), [1.0, 1e200]);
    step_into_is_step_elsewhere(|| Box::new(Adam::new(1.0).unwrap()), [1.0, f64::NAN]);
}

#[test]
fn a_refused_step_into_names_the_first_non_finite_gradient() {
    // Parameter 0 overflows, but gradient 1 is NaN: the gradient is named, as the trainer
    // always did before asking the optimizer.
    let (params, grads) = ([1e308, 1.0], [-1e308, f64::NAN]);
    let mut out = [0.0; 2];
    let nan_gradient = Err(Error::NonFiniteParameter { parameter: 1 });
    assert_eq!(
        Sgd::new(1.0).unwrap().step_into(&params, &grads, &mut out),
        nan_gradient
    );
    let mut momentum = Sgd::with_momentum(1.0, 0.5).unwrap();
    assert_eq!(momentum.step_into(&params, &grads, &mut out), nan_gradient);
    assert_eq!(
        Adam::new(1.0)
            .unwrap()
            .step_into(&[1.0, 1.0], &[1e200, f64::NAN], &mut out),
        nan_gradient
    );
}

/// An optimizer written outside the crate, with `step` only: p <- p - 0.5 g, no checks.
struct Halving {
    steps: usize,
}

impl Optimizer for Halving {
    fn step(&mut self, params: &mut [f64], grads: &[f64]) -> Result<(), Error> {
        for (p, g) in params.iter_mut().zip(grads) {
            *p -= 0.5 * g;
        }
        self.steps += 1;
        Ok(())
    }
}

#[test]
fn the_default_step_into_refuses_non_finite_gradients_before_step_runs() {
    let mut opt = Halving { steps: 0 };
    let mut out = [0.0; 3];
    opt.step_into(&[1.0, 2.0, 3.0], &[2.0, 2.0, 2.0], &mut out)
        .unwrap();
    assert_eq!((out, opt.steps), ([0.0, 1.0, 2.0], 1));
    let refused = opt.step_into(&[1.0, 2.0, 3.0], &[0.0, f64::INFINITY, f64::NAN], &mut out);
    assert_eq!(refused, Err(Error::NonFiniteParameter { parameter: 1 }));
    assert_eq!(opt.steps, 1);
}

/// SGD's `step_into` checks its new values lane by lane over blocks of eight, then the rest:
/// a non-finite value anywhere (in a block, at a block's edge, in the rest; an infinite or NaN
/// gradient or an update that overflows) is refused and named, and a good step writes
/// `p - lr g` exactly (compared with the formula, not with the crate's other path).
#[test]
fn sgd_step_into_checks_every_position_of_a_long_vector() {
    let n = 19; // two blocks of eight and three more
    let params: Vec<f64> = (0..n).map(|k| 1.5 * k as f64 - 7.0).collect();
    let grads: Vec<f64> = (0..n).map(|k| 0.25 - 0.125 * k as f64).collect();
    let mut out = vec![0.0; n];
    let mut sgd = Sgd::new(0.5).unwrap();
    sgd.step_into(&params, &grads, &mut out).unwrap();
    for k in 0..n {
        assert_eq!(
            out[k].to_bits(),
            (params[k] - 0.5 * grads[k]).to_bits(),
            "{k}"
        );
    }
    for k in 0..n {
        for (bad_p, bad_g) in [
            (params[k], f64::INFINITY),
            (params[k], f64::NEG_INFINITY),
            (params[k], f64::NAN),
            (1.7e308, -1.7e308), // finite gradient, the update overflows
        ] {
            let (mut p, mut g) = (params.clone(), grads.clone());
            (p[k], g[k]) = (bad_p, bad_g);
            let steps = sgd.steps();
            assert_eq!(
                sgd.step_into(&p, &g, &mut out),
                Err(Error::NonFiniteParameter { parameter: k }),
                "position {k}, gradient {bad_g}"
            );
            assert_eq!(sgd.steps(), steps, "a refused step is not counted");
        }
    }
}

/// A refused first step changes nothing, the optimizer's state size included: the optimizer
/// can then be used on a model of another size, as a fresh one can (the trait's contract).
#[test]
fn a_refused_first_step_leaves_the_state_unsized() {
    let optimizers: [(&str, Box<dyn Optimizer>); 2] = [
        ("adam", Box::new(Adam::new(0.1).unwrap())),
        (
            "sgd with momentum",
            Box::new(Sgd::new(0.1).unwrap().momentum(0.9).unwrap()),
        ),
    ];
    for (name, mut opt) in optimizers {
        let mut two = [1.0, 2.0];
        let err = opt.step(&mut two, &[f64::NAN, 1.0]).unwrap_err();
        assert_eq!(err, Error::NonFiniteParameter { parameter: 0 }, "{name}");
        assert_eq!(two, [1.0, 2.0], "{name}");
        let mut one = [1.0];
        opt.step(&mut one, &[1.0])
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(one[0] < 1.0, "{name}: {one:?}");
    }
}
