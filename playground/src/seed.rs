//! The seed's 2-2-1 sigmoid network (Victor Zhou's "An Introduction to Neural Networks"): one
//! recorded step for a person, drawn as a graph, and the seed's per-sample SGD.
//!
//! The page names the nine parameters the way the seed does, `w1..w6, b1..b3`
//! ([`SEED_NAMES`]); [`Mlp`] keeps them neuron by neuron, weights then bias
//! (`w1 w2 b1 | w3 w4 b2 | w5 w6 b3`). [`to_mlp_order`] and [`from_mlp_order`] convert.

use crate::splitmix::SplitMix64;
use tapegrad::{Activation, Dataset, Graphviz, Loss, Mlp, Sgd, Tape, TrainConfig, Trainer, Value};

/// The parameters in the seed's order, as the page shows them.
pub const SEED_NAMES: [&str; 9] = ["w1", "w2", "w3", "w4", "w5", "w6", "b1", "b2", "b3"];

/// Where each seed-order parameter sits in [`Mlp::parameters`].
const MLP_INDEX: [usize; 9] = [0, 1, 3, 4, 6, 7, 2, 5, 8];

/// The seed's shift of the inputs: pounds minus 135, inches minus 66.
pub const SHIFT: [f64; 2] = [135.0, 66.0];

/// A person of the seed: name, weight (lb), height (in), label (1 female, 0 male), and whether
/// the seed trains on them (Emily and Frank are the two it predicts afterwards).
pub struct Person {
    pub name: &'static str,
    pub pounds: f64,
    pub inches: f64,
    pub label: f64,
    pub trained_on: bool,
}

/// The seed's four training people, then Emily and Frank.
pub const PEOPLE: [Person; 6] = [
    Person {
        name: "Alice",
        pounds: 133.0,
        inches: 65.0,
        label: 1.0,
        trained_on: true,
    },
    Person {
        name: "Bob",
        pounds: 160.0,
        inches: 72.0,
        label: 0.0,
        trained_on: true,
    },
    Person {
        name: "Charlie",
        pounds: 152.0,
        inches: 70.0,
        label: 0.0,
        trained_on: true,
    },
    Person {
        name: "Diana",
        pounds: 120.0,
        inches: 60.0,
        label: 1.0,
        trained_on: true,
    },
    Person {
        name: "Emily",
        pounds: 128.0,
        inches: 63.0,
        label: 1.0,
        trained_on: false,
    },
    Person {
        name: "Frank",
        pounds: 155.0,
        inches: 68.0,
        label: 0.0,
        trained_on: false,
    },
];

/// Seed-order parameters to [`Mlp`] order.
pub fn to_mlp_order(seed: &[f64; 9]) -> [f64; 9] {
    let mut mlp = [0.0; 9];
    for (k, &i) in MLP_INDEX.iter().enumerate() {
        mlp[i] = seed[k];
    }
    mlp
}

/// [`Mlp`]-order parameters (or gradients) to the seed's order.
pub fn from_mlp_order(mlp: &[f64]) -> [f64; 9] {
    MLP_INDEX.map(|i| mlp[i])
}

/// One recorded forward and backward pass of the seed's network on one person.
#[derive(Debug, Clone)]
pub struct Step {
    pub h1: f64,
    pub h2: f64,
    pub o1: f64,
    /// `(y_true - o1)^2`, the seed's loss for one sample.
    pub loss: f64,
    /// dL/dp for every parameter, in the seed's order.
    pub gradients: [f64; 9],
    /// The traced tape of the step as Graphviz DOT, values and gradients on the nodes.
    pub dot: String,
}

/// Records the seed's network on a traced tape, one scalar op at a time, exactly as the seed
/// writes it (`h1 = f(w1 x1 + w2 x2 + b1)`, ...), so that the graph has one box per op and
/// every node carries the seed's name; then runs the reverse sweep.
///
/// `x` is the shifted input (pounds - 135, inches - 66) and `y_true` the label.
pub fn step(params: &[f64; 9], x: [f64; 2], y_true: f64) -> tapegrad::Result<Step> {
    let tape = Tape::traced();
    let p: Vec<Value<'_>> = params
        .iter()
        .zip(SEED_NAMES)
        .map(|(&v, name)| tape.var(v).named(name))
        .collect();
    let [w1, w2, w3, w4, w5, w6, b1, b2, b3] = p[..] else {
        unreachable!("nine parameters")
    };
    let x1 = tape.var(x[0]).named("x1 (weight - 135)");
    let x2 = tape.var(x[1]).named("x2 (height - 66)");
    let h1 = (w1 * x1 + w2 * x2 + b1).sigmoid().named("h1");
    let h2 = (w3 * x1 + w4 * x2 + b2).sigmoid().named("h2");
    let o1 = (w5 * h1 + w6 * h2 + b3).sigmoid().named("o1 = y_pred");
    let loss = (y_true - o1).powi(2).named("L = (y_true - y_pred)^2");
    let grads = loss.backward();
    let dot = Graphviz::new(loss).gradients(&grads).render()?;
    Ok(Step {
        h1: h1.value(),
        h2: h2.value(),
        o1: o1.value(),
        loss: loss.value(),
        gradients: p
            .iter()
            .map(|&v| grads[v])
            .collect::<Vec<_>>()
            .try_into()
            .expect("nine parameters"),
        dot,
    })
}

/// The seed's network with these seed-order parameters.
pub fn network(params: &[f64; 9]) -> tapegrad::Result<Mlp> {
    Mlp::from_parameters(
        &[2, 2, 1],
        Activation::Sigmoid,
        Activation::Sigmoid,
        &to_mlp_order(params),
    )
}

/// The seed's training data: the four people, shifted, with their labels.
pub fn dataset() -> Dataset {
    let people = PEOPLE.iter().filter(|p| p.trained_on);
    let inputs: Vec<[f64; 2]> = people
        .clone()
        .map(|p| [p.pounds - SHIFT[0], p.inches - SHIFT[1]])
        .collect();
    let targets: Vec<[f64; 1]> = people.map(|p| [p.label]).collect();
    Dataset::new(&inputs, &targets).expect("the seed's data is rectangular and finite")
}

/// Nine standard-normal draws (SplitMix64 with this seed, Box-Muller), as the seed starts its
/// training from `np.random.normal()`.
pub fn random_parameters(seed: u64) -> [f64; 9] {
    let mut rng = SplitMix64::new(seed);
    std::array::from_fn(|_| rng.normal())
}

/// The seed's training, resumable: per-sample SGD in the table's order, MSE loss.
pub struct Training {
    model: Mlp,
    data: Dataset,
    sgd: Sgd,
    epochs_done: usize,
}

impl Training {
    /// Starts from these seed-order parameters with learning rate `learning_rate`.
    pub fn new(params: &[f64; 9], learning_rate: f64) -> tapegrad::Result<Self> {
        Ok(Training {
            model: network(params)?,
            data: dataset(),
            sgd: Sgd::new(learning_rate)?,
            epochs_done: 0,
        })
    }

    /// Runs `epochs` more epochs; returns the MSE over the four people after each one (the
    /// model as it stands, the number the seed prints every ten epochs).
    pub fn run(&mut self, epochs: usize) -> tapegrad::Result<Vec<f64>> {
        let mut losses = Vec::with_capacity(epochs);
        let mut trainer = Trainer::new(TrainConfig::default().epochs(epochs))?;
        let data = &self.data;
        trainer.fit(&mut self.model, &mut self.sgd, data, |report| {
            losses.push(report.model.loss(data, Loss::Mse).unwrap_or(f64::NAN));
        })?;
        self.epochs_done += epochs;
        Ok(losses)
    }

    /// Epochs run so far.
    pub fn epochs_done(&self) -> usize {
        self.epochs_done
    }

    /// The current parameters, in the seed's order.
    pub fn parameters(&self) -> [f64; 9] {
        from_mlp_order(self.model.parameters())
    }

    /// The network's output for a shifted input.
    pub fn predict(&self, x: [f64; 2]) -> tapegrad::Result<f64> {
        Ok(self.model.predict(&x)?[0])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ONES: [f64; 9] = [1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 0.0, 0.0, 0.0];

    /// The seed's worked case (FACTS.md): every weight 1, every bias 0, Alice.
    #[test]
    fn step_reproduces_the_seeds_worked_numbers() {
        let s = step(&ONES, [-2.0, -1.0], 1.0).unwrap();
        assert_eq!(s.h1, 0.04742587317756678);
        assert_eq!(s.h2, 0.04742587317756678);
        assert_eq!(s.o1, 0.5236951740839997);
        assert!((s.gradients[0] - 0.02146953526581111).abs() < 1e-15);
        assert!((s.loss - (1.0 - 0.5236951740839997f64).powi(2)).abs() < 1e-15);
    }

    /// Every gradient against the seed's hand-derived chain rule, on a point where no two
    /// parameters share a value (so a swapped name or order shows).
    #[test]
    fn step_gradients_match_the_hand_derived_formulas() {
        let p = [0.3, -0.7, 1.1, 0.4, -0.9, 1.6, 0.2, -0.5, 0.8];
        let [w1, w2, w3, w4, w5, w6, b1, b2, b3] = p;
        let (x1, x2, y) = (17.0 - 2.5, 4.0 - 1.25, 0.0);
        let f = |z: f64| 1.0 / (1.0 + (-z).exp());
        let df = |z: f64| f(z) * (1.0 - f(z));
        let (z1, z2) = (w1 * x1 + w2 * x2 + b1, w3 * x1 + w4 * x2 + b2);
        let (h1, h2) = (f(z1), f(z2));
        let zo = w5 * h1 + w6 * h2 + b3;
        let dl_dy = -2.0 * (y - f(zo));
        let expected = [
            dl_dy * w5 * df(zo) * x1 * df(z1),
            dl_dy * w5 * df(zo) * x2 * df(z1),
            dl_dy * w6 * df(zo) * x1 * df(z2),
            dl_dy * w6 * df(zo) * x2 * df(z2),
            dl_dy * h1 * df(zo),
            dl_dy * h2 * df(zo),
            dl_dy * w5 * df(zo) * df(z1),
            dl_dy * w6 * df(zo) * df(z2),
            dl_dy * df(zo),
        ];
        let s = step(&p, [x1, x2], y).unwrap();
        for (k, (got, want)) in s.gradients.iter().zip(expected).enumerate() {
            assert!(
                (got - want).abs() < 1e-12,
                "{}: {got} vs {want}",
                SEED_NAMES[k]
            );
        }
        assert!((s.o1 - f(zo)).abs() < 1e-15);
    }

    /// The scalar recording and the library's bound `Mlp` are two roads to the same numbers;
    /// this also pins the seed-order <-> Mlp-order mapping.
    #[test]
    fn step_agrees_with_the_bound_mlp() {
        let p = [0.3, -0.7, 1.1, 0.4, -0.9, 1.6, 0.2, -0.5, 0.8];
        let net = network(&p).unwrap();
        let tape = Tape::new();
        let bound = net.bind(&tape);
        let y_pred = bound.forward(&[-15.0, -6.0]).unwrap();
        let loss = tapegrad::mse(&y_pred, &[1.0]).unwrap();
        let grads = loss.backward();
        let via_mlp = from_mlp_order(bound.gradients(&grads));
        let s = step(&p, [-15.0, -6.0], 1.0).unwrap();
        assert_eq!(s.o1, y_pred[0].value());
        for k in 0..9 {
            assert!(
                (s.gradients[k] - via_mlp[k]).abs() < 1e-15,
                "{}",
                SEED_NAMES[k]
            );
        }
        assert_eq!(from_mlp_order(&to_mlp_order(&p)), p);
    }

    #[test]
    fn the_graph_names_the_seeds_nodes_and_carries_gradients() {
        let s = step(&ONES, [-2.0, -1.0], 1.0).unwrap();
        assert!(s.dot.starts_with("digraph tape {"));
        for name in [
            "w1",
            "b3",
            "h1",
            "h2",
            "o1 = y_pred",
            "L = (y_true - y_pred)^2",
        ] {
            assert!(s.dot.contains(name), "{name} missing from\n{}", s.dot);
        }
        // dL/dw1 = 0.02147 to four digits, on w1's own node.
        assert!(
            s.dot.contains("label=\"w1\\nvalue 1\\ngrad 0.02147\""),
            "{}",
            s.dot
        );
    }

    /// The seed's run: 1000 epochs at 0.1 from normal draws ends near 0 and gets Emily and
    /// Frank right (FACTS.md: Emily ~0.95, Frank ~0.04).
    #[test]
    fn training_in_slices_learns_the_seeds_data() {
        let mut t = Training::new(&random_parameters(1), 0.1).unwrap();
        let mut losses = Vec::new();
        while t.epochs_done() < 1000 {
            losses.extend(t.run(100).unwrap());
        }
        assert_eq!(losses.len(), 1000);
        assert!(losses[999] < 0.01, "final loss {}", losses[999]);
        assert!(losses[999] < losses[0]);
        let emily = t.predict([128.0 - 135.0, 63.0 - 66.0]).unwrap();
        let frank = t.predict([155.0 - 135.0, 68.0 - 66.0]).unwrap();
        assert!(emily > 0.9 && frank < 0.1, "Emily {emily}, Frank {frank}");
        // Slicing changes nothing: one run of 1000 epochs gives the same parameters.
        let mut whole = Training::new(&random_parameters(1), 0.1).unwrap();
        whole.run(1000).unwrap();
        assert_eq!(whole.parameters(), t.parameters());
    }
}
