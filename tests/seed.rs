//! The seed's numbers and its hand-derived backpropagation, as an oracle for the tape.

use rand::{rngs::StdRng, RngExt, SeedableRng};
use tapegrad::{mse, Activation, Layer, Mlp, Neuron, Tape};

fn f(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

/// f'(x) = f(x) (1 - f(x)), as the seed writes it, with 1 - f(x) written as f(-x) (the same
/// number, 1 / (e^x + 1)) so that it keeps its digits when f(x) is near 1: the seed's
/// `f(x) * (1 - f(x))` loses them there, and the random cases below reach it.
fn deriv_f(x: f64) -> f64 {
    f(x) * f(-x)
}

/// The seed's nine parameters, in its naming.
#[derive(Clone, Copy, Debug)]
struct Seed {
    w: [f64; 6],
    b: [f64; 3],
}

impl Seed {
    /// tapegrad's order: h1 (w1, w2, b1), h2 (w3, w4, b2), o1 (w5, w6, b3).
    fn tapegrad_order(&self) -> [f64; 9] {
        let (w, b) = (self.w, self.b);
        [w[0], w[1], b[0], w[2], w[3], b[1], w[4], w[5], b[2]]
    }

    fn network(&self) -> Mlp {
        Mlp::from_parameters(
            &[2, 2, 1],
            Activation::Sigmoid,
            Activation::Sigmoid,
            &self.tapegrad_order(),
        )
        .unwrap()
    }

    /// The seed's `train` loop body: every partial derivative of L = (y_true - y_pred)^2, by
    /// hand, returned in tapegrad's parameter order.
    fn hand_gradients(&self, x: [f64; 2], y_true: f64) -> [f64; 9] {
        let (w, b) = (self.w, self.b);
        let sum_h1 = w[0] * x[0] + w[1] * x[1] + b[0];
        let h1 = f(sum_h1);
        let sum_h2 = w[2] * x[0] + w[3] * x[1] + b[1];
        let h2 = f(sum_h2);
        let sum_o1 = w[4] * h1 + w[5] * h2 + b[2];
        let y_pred = f(sum_o1);

        let d_l_d_ypred = -2.0 * (y_true - y_pred);
        // Neuron o1
        let d_ypred_d_w5 = h1 * deriv_f(sum_o1);
        let d_ypred_d_w6 = h2 * deriv_f(sum_o1);
        let d_ypred_d_b3 = deriv_f(sum_o1);
        let d_ypred_d_h1 = w[4] * deriv_f(sum_o1);
        let d_ypred_d_h2 = w[5] * deriv_f(sum_o1);
        // Neuron h1
        let d_h1_d_w1 = x[0] * deriv_f(sum_h1);
        let d_h1_d_w2 = x[1] * deriv_f(sum_h1);
        let d_h1_d_b1 = deriv_f(sum_h1);
        // Neuron h2
        let d_h2_d_w3 = x[0] * deriv_f(sum_h2);
        let d_h2_d_w4 = x[1] * deriv_f(sum_h2);
        let d_h2_d_b2 = deriv_f(sum_h2);

        [
            d_l_d_ypred * d_ypred_d_h1 * d_h1_d_w1,
            d_l_d_ypred * d_ypred_d_h1 * d_h1_d_w2,
            d_l_d_ypred * d_ypred_d_h1 * d_h1_d_b1,
            d_l_d_ypred * d_ypred_d_h2 * d_h2_d_w3,
            d_l_d_ypred * d_ypred_d_h2 * d_h2_d_w4,
            d_l_d_ypred * d_ypred_d_h2 * d_h2_d_b2,
            d_l_d_ypred * d_ypred_d_w5,
            d_l_d_ypred * d_ypred_d_w6,
            d_l_d_ypred * d_ypred_d_b3,
        ]
    }
}

fn tape_gradients(net: &Mlp, x: [f64; 2], y_true: f64) -> Vec<f64> {
    let tape = Tape::new();
    let bound = net.bind(&tape);
    let y_pred = bound.forward(&x).unwrap();
    let loss = mse(&y_pred, &[y_true]).unwrap();
    bound.gradients(&loss.backward()).to_vec()
}

#[test]
fn seed_neuron_and_network_outputs() {
    let neuron = Neuron::new(vec![0.0, 1.0], 4.0, Activation::Sigmoid);
    assert_eq!(neuron.predict(&[2.0, 3.0]).unwrap(), 0.9990889488055994);

    let same = || Neuron::new(vec![0.0, 1.0], 0.0, Activation::Sigmoid);
    let net = Mlp::new(vec![
        Layer::new(vec![same(), same()]).unwrap(),
        Layer::new(vec![same()]).unwrap(),
    ])
    .unwrap();
    assert_eq!(net.predict(&[2.0, 3.0]).unwrap(), vec![0.7216325609518421]);

    // The recorded forward pass agrees bit for bit with plain prediction.
    let tape = Tape::new();
    assert_eq!(
        net.bind(&tape).forward(&[2.0, 3.0]).unwrap()[0].value(),
        0.7216325609518421
    );
}

#[test]
fn seed_worked_case_alice() {
    // Every weight 1, every bias 0, Alice (-2, -1) -> 1: the seed's dL/dw1 = 0.0214...
    let seed = Seed {
        w: [1.0; 6],
        b: [0.0; 3],
    };
    let grads = tape_gradients(&seed.network(), [-2.0, -1.0], 1.0);
    assert!(
        (grads[0] - 0.02146953526581111).abs() < 1e-15,
        "{}",
        grads[0]
    );
    let hand = seed.hand_gradients([-2.0, -1.0], 1.0);
    assert!((hand[0] - 0.02146953526581111).abs() < 1e-15);
    // The worked case's intermediate numbers.
    let h = f(-3.0);
    assert!((h - 0.04742587317756678).abs() < 1e-16);
    assert!((f(2.0 * h) - 0.5236951740839997).abs() < 1e-16);
}

#[test]
fn tape_equals_hand_derivation_at_random_points() {
    let mut rng = StdRng::seed_from_u64(2019);
    for case in 0..500 {
        let seed = Seed {
            w: std::array::from_fn(|_| rng.random_range(-3.0..3.0)),
            b: std::array::from_fn(|_| rng.random_range(-3.0..3.0)),
        };
        let x = [rng.random_range(-30.0..30.0), rng.random_range(-10.0..10.0)];
        let y_true = if rng.random_bool(0.5) { 1.0 } else { 0.0 };
        let tape = tape_gradients(&seed.network(), x, y_true);
        let hand = seed.hand_gradients(x, y_true);
        for k in 0..9 {
            let err = (tape[k] - hand[k]).abs();
            assert!(
                err <= 1e-12 * hand[k].abs().max(1e-300) || err <= 1e-15,
                "case {case}, parameter {k}: tape {} vs hand {} ({seed:?}, x {x:?}, y {y_true})",
                tape[k],
                hand[k]
            );
        }
    }
}
