//! The seed's 2-2-1 sigmoid network (Victor Zhou's post): over random weights, inputs and
//! labels, the tape's gradients equal the hand-derived backpropagation formulas.
//!
//! h1 = f(w1 x1 + w2 x2 + b1), h2 = f(w3 x1 + w4 x2 + b2), o = f(w5 h1 + w6 h2 + b3),
//! L = (y - o)^2, and by the chain rule
//!
//! - dL/do = -2 (y - o)
//! - do/dw5 = h1 f'(zo), do/dw6 = h2 f'(zo), do/db3 = f'(zo)
//! - do/dh1 = w5 f'(zo), do/dh2 = w6 f'(zo)
//! - dh1/dw1 = x1 f'(z1), dh1/dw2 = x2 f'(z1), dh1/db1 = f'(z1) (h2 likewise with z2)
//! - f'(z) = f(z) (1 - f(z))

mod common;

use common::config;
use proptest::prelude::*;
use tapegrad::{mse, Activation, Mlp, Tape};

/// The logistic function.
fn f(z: f64) -> f64 {
    1.0 / (1.0 + (-z).exp())
}

/// f'(z) = f(z) (1 - f(z)), with 1 - f(z) written as f(-z) (the same number: 1 - 1/(1 + e^-z)
/// = e^-z / (1 + e^-z) = 1 / (e^z + 1)) so that it keeps its digits when f(z) is near 1.
fn f_prime(z: f64) -> f64 {
    f(z) * f(-z)
}

proptest! {
    #![proptest_config(config("proptest-regressions/prop_seed.txt", 256))]

    /// All nine gradients match the hand-derived formulas to 1e-12 relative.
    #[test]
    fn tape_gradients_equal_hand_derived_formulas(
        w in prop::collection::vec(-3.0..3.0f64, 9),
        x1 in -30.0..30.0f64,
        x2 in -10.0..10.0f64,
        y in prop_oneof![Just(0.0), Just(1.0), 0.0..1.0f64],
    ) {
        // parameters() order: h1 (w1, w2, b1), h2 (w3, w4, b2), o1 (w5, w6, b3)
        let (w1, w2, b1, w3, w4, b2, w5, w6, b3) =
            (w[0], w[1], w[2], w[3], w[4], w[5], w[6], w[7], w[8]);
        let net = Mlp::from_parameters(&[2, 2, 1], Activation::Sigmoid, Activation::Sigmoid, &w)
            .unwrap();
        let tape = Tape::new();
        let bound = net.bind(&tape);
        let out = bound.forward(&[x1, x2]).unwrap();
        let loss = mse(&out, &[y]).unwrap();
        let grads = loss.backward();
        let tape_grads = bound.gradients(&grads);

        let (z1, z2) = (w1 * x1 + w2 * x2 + b1, w3 * x1 + w4 * x2 + b2);
        let (h1, h2) = (f(z1), f(z2));
        let zo = w5 * h1 + w6 * h2 + b3;
        let o = f(zo);
        prop_assert!((out[0].value() - o).abs() <= 1e-13 * o, "o: tape {} hand {}", out[0].value(), o);

        let dl_do = -2.0 * (y - o);
        let do_dh1 = w5 * f_prime(zo);
        let do_dh2 = w6 * f_prime(zo);
        let expected = [
            dl_do * do_dh1 * x1 * f_prime(z1), // w1
            dl_do * do_dh1 * x2 * f_prime(z1), // w2
            dl_do * do_dh1 * f_prime(z1),      // b1
            dl_do * do_dh2 * x1 * f_prime(z2), // w3
            dl_do * do_dh2 * x2 * f_prime(z2), // w4
            dl_do * do_dh2 * f_prime(z2),      // b2
            dl_do * h1 * f_prime(zo),          // w5
            dl_do * h2 * f_prime(zo),          // w6
            dl_do * f_prime(zo),               // b3
        ];
        // y - o may cancel: measure its rounding against |y| + |o|, the size of what was
        // subtracted; every other factor is a product, exact to a few ulps either way.
        let cancel = (y.abs() + o) / (y - o).abs().max(f64::MIN_POSITIVE);
        for (k, (&t, &e)) in tape_grads.iter().zip(&expected).enumerate() {
            prop_assert!(
                (t - e).abs() <= 1e-12 * e.abs() * cancel.max(1.0),
                "parameter {}: tape {:e} vs hand-derived {:e} (z1 {}, z2 {}, zo {})",
                k, t, e, z1, z2, zo
            );
        }
    }
}
