//! # Tutorial: the seed's neural network, retold with tapegrad
//!
//! Victor Zhou's "Machine Learning for Beginners: An Introduction to Neural Networks" builds a
//! neuron, wires three of them into a network, measures it with a loss, derives every
//! partial derivative by hand and trains it with stochastic gradient descent. This module walks
//! the same path with tapegrad, then goes one step further: micrograd's moons demo.
//! It has no code of its own; every example below is compiled and run by `cargo test`.
//!
//! ## 1. A neuron
//!
//! A neuron takes inputs, weights them, adds a bias and squashes the sum with an activation
//! function: `y = f(w . x + b)`, with `f` the sigmoid `1 / (1 + e^-x)`. The post's example:
//! `w = [0, 1]`, `b = 4`, `x = [2, 3]`, so `w . x + b = 7` and `y = f(7)`.
//!
//! ```
//! use tapegrad::{Activation, Neuron};
//! let neuron = Neuron::new(vec![0.0, 1.0], 4.0, Activation::Sigmoid);
//! assert_eq!(neuron.predict(&[2.0, 3.0])?, 0.9990889488055994);
//! # Ok::<(), tapegrad::Error>(())
//! ```
//!
//! The same computation on a [`Tape`](crate::Tape), op by op. Every `Value` remembers how it
//! was made, which is what lets us differentiate it later:
//!
//! ```
//! use tapegrad::Tape;
//! let tape = Tape::new();
//! let (w1, w2, b) = (tape.var(0.0), tape.var(1.0), tape.var(4.0));
//! let y = (w1 * 2.0 + w2 * 3.0 + b).sigmoid();
//! assert_eq!(y.value(), 0.9990889488055994);
//! ```
//!
//! ## 2. Feedforward: the network
//!
//! The post's network has two inputs, a hidden layer of two neurons `h1`, `h2` and an output
//! neuron `o1`, all sigmoid. Passing inputs forward through it is "feedforward". With every
//! neuron at `w = [0, 1]`, `b = 0` and `x = [2, 3]` the output is `0.7216`. An [`Mlp`](crate::Mlp)
//! holds its parameters in one flat list: layer by layer, neuron by neuron, weights then bias.
//!
//! ```
//! use tapegrad::{Activation, Mlp};
//! let params = [0.0, 1.0, 0.0, /* h2 */ 0.0, 1.0, 0.0, /* o1 */ 0.0, 1.0, 0.0];
//! let net = Mlp::from_parameters(&[2, 2, 1], Activation::Sigmoid, Activation::Sigmoid, &params)?;
//! assert_eq!(net.predict(&[2.0, 3.0])?, vec![0.7216325609518421]);
//! # Ok::<(), tapegrad::Error>(())
//! ```
//!
//! ## 3. The loss
//!
//! The post predicts gender from weight and height, shifted by 135 lb and 66 in to keep the
//! numbers small: Alice (-2, -1) and Diana (-15, -6) are female (1), Bob (25, 6) and Charlie
//! (17, 4) male (0). How good is a network? The mean squared error over the four people. A
//! network that always answers 0 is wrong by 1 on Alice and Diana: MSE 0.5.
//!
//! ```
//! use tapegrad::{Activation, Dataset, Loss, Mlp};
//! let people = Dataset::new(
//!     &[[-2.0, -1.0], [25.0, 6.0], [17.0, 4.0], [-15.0, -6.0]],
//!     &[[1.0], [0.0], [0.0], [1.0]],
//! )?;
//! let always_zero = Mlp::zeros(&[2, 1], Activation::Identity, Activation::Identity)?;
//! assert_eq!(always_zero.loss(&people, Loss::Mse)?, 0.5);
//! # Ok::<(), tapegrad::Error>(())
//! ```
//!
//! ## 4. Why the tape replaces the hand derivation
//!
//! To train, we need how the loss changes with each weight. The post derives `dL/dw1` by the
//! chain rule, for Alice alone with every weight 1 and every bias 0:
//! `dL/dw1 = dL/dy_pred * dy_pred/dh1 * dh1/dw1`, with `f'(x) = f(x) (1 - f(x))`. Here it is
//! both ways: by hand, and from one reverse sweep over the tape.
//!
//! ```
//! use tapegrad::{mse, Activation, Mlp, Tape};
//! let f = |x: f64| 1.0 / (1.0 + (-x).exp());
//! let df = |x: f64| f(x) * (1.0 - f(x));
//! let (x1, x2, y_true) = (-2.0, -1.0, 1.0); // Alice
//! let (w1, w2, w3, w4, w5, w6) = (1.0, 1.0, 1.0, 1.0, 1.0, 1.0);
//! let (b1, b2, b3) = (0.0, 0.0, 0.0);
//!
//! // By hand, as the post does.
//! let h1 = f(w1 * x1 + w2 * x2 + b1);
//! let h2 = f(w3 * x1 + w4 * x2 + b2);
//! let y_pred = f(w5 * h1 + w6 * h2 + b3);
//! let dl_dypred = -2.0 * (y_true - y_pred);
//! let dypred_dh1 = w5 * df(w5 * h1 + w6 * h2 + b3);
//! let dh1_dw1 = x1 * df(w1 * x1 + w2 * x2 + b1);
//! let by_hand = dl_dypred * dypred_dh1 * dh1_dw1;
//! assert_eq!(by_hand, 0.02146953526581111); // the post rounds to 0.0214
//!
//! // With the tape: record the forward pass and the loss, then one backward sweep.
//! let net = Mlp::from_parameters(&[2, 2, 1], Activation::Sigmoid, Activation::Sigmoid,
//!     &[w1, w2, b1, w3, w4, b2, w5, w6, b3])?;
//! let tape = Tape::new();
//! let bound = net.bind(&tape);
//! let loss = mse(&bound.forward(&[x1, x2])?, &[y_true])?;
//! let grads = loss.backward();
//! let by_tape = bound.gradients(&grads)[0]; // w1 is the first parameter
//! assert!((by_tape - by_hand).abs() <= 1e-17);
//! # Ok::<(), tapegrad::Error>(())
//! ```
//!
//! (The two may differ in the last bit: the sweep multiplies the same factors in another
//! order.) The hand derivation is nine formulas for nine parameters of one tiny network, and
//! has to be redone for every change of the network. The tape stores, for each operation, its
//! local derivative at the moment it runs; the reverse sweep multiplies them back along every
//! path, `grad[parent] += partial * grad[node]`, so the same code gives every parameter's
//! gradient for any network.
//!
//! ## 5. Training
//!
//! Stochastic gradient descent: for one person at a time, nudge every parameter against its
//! gradient, `w <- w - 0.1 * dL/dw`, and repeat for 1000 epochs. [`Trainer`](crate::Trainer)
//! runs that loop (one tape, reused every step). Afterwards Emily (-7, -3) comes out female and
//! Frank (20, 2) male, in the post's ranges (about 0.95 and 0.04).
//!
//! Two differences from the post's run: [`Mlp::random`](crate::Mlp::random) starts from its
//! own scaled uniform draws, not the post's nine standard-normal ones, so the numbers along
//! the way differ; and an epoch report's `loss` is the mean of the epoch's step losses, each
//! taken just before its update, while the post prints the MSE over all four people after
//! the epoch, which [`Mlp::loss`](crate::Mlp::loss) computes.
//!
//! ```
//! use rand::{rngs::StdRng, SeedableRng};
//! use tapegrad::{Activation, Dataset, Loss, Mlp, Sgd, TrainConfig, Trainer};
//! let people = Dataset::new(
//!     &[[-2.0, -1.0], [25.0, 6.0], [17.0, 4.0], [-15.0, -6.0]],
//!     &[[1.0], [0.0], [0.0], [1.0]],
//! )?;
//! let mut net = Mlp::random(&[2, 2, 1], Activation::Sigmoid, Activation::Sigmoid,
//!     &mut StdRng::seed_from_u64(42))?;
//! let mut losses = Vec::new();
//! Trainer::new(TrainConfig::default().epochs(1000))?
//!     .fit(&mut net, &mut Sgd::new(0.1)?, &people, |report| losses.push(report.loss))?;
//! assert!(losses[999] < losses[0] / 10.0);
//! // The post's number: the MSE over the four people after training, near 0.
//! assert!(net.loss(&people, Loss::Mse)? < 0.01);
//! let emily = net.predict(&[-7.0, -3.0])?[0]; // female: 1
//! let frank = net.predict(&[20.0, 2.0])?[0]; // male: 0
//! assert!((0.94..0.97).contains(&emily) && (0.03..0.06).contains(&frank), "{emily} {frank}");
//! # Ok::<(), tapegrad::Error>(())
//! ```
//!
//! `examples/gender_classifier.rs` is the post's own run: its nine standard-normal starting
//! weights, its printout (the MSE after every tenth epoch) and its loss curve.
//! For other data, the toolkit has more: [`bce_with_logits`](crate::bce_with_logits) (the loss
//! for a yes/no answer, stable at any logit), [`Adam`](crate::Adam), learning-rate
//! [`Schedule`](crate::Schedule)s, shuffling with [`Trainer::fit_shuffled`](crate::Trainer::fit_shuffled),
//! and `examples/train_csv.rs` for a CSV file of your own.
//!
//! ## 6. The moons demo
//!
//! micrograd's demo separates two interleaved half-moons with a 2-16-16-1 ReLU network, the
//! max-margin (hinge) loss `relu(1 - y * score)` with labels -1/+1, an L2 penalty on the
//! parameters and a learning rate that decays from 1.0 to 0.1. Written out with the tape (this
//! version uses 40 noise-free points to stay quick; `examples/moons.rs` runs the full demo and
//! draws the decision boundary):
//!
//! ```
//! use rand::{rngs::StdRng, RngExt, SeedableRng};
//! use tapegrad::{hinge, l2, Activation, Mlp, Optimizer, Schedule, Sgd, Tape};
//! let mut points = Vec::new();
//! let mut labels = Vec::new();
//! for i in 0..20 {
//!     let t = std::f64::consts::PI * i as f64 / 19.0;
//!     points.push([t.cos(), t.sin()]); // outer moon
//!     labels.push(-1.0);
//!     points.push([1.0 - t.cos(), 0.5 - t.sin()]); // inner moon
//!     labels.push(1.0);
//! }
//! // micrograd's initialisation: every weight uniform in [-1, 1), every bias 0.
//! let mut rng = StdRng::seed_from_u64(1);
//! let mut model = Mlp::with_init(&[2, 16, 16, 1], Activation::Relu, Activation::Identity, |slot| {
//!     if slot.is_bias() { 0.0 } else { rng.random_range(-1.0..1.0) }
//! })?;
//! let mut sgd = Sgd::with_schedule(Schedule::linear(1.0, 0.1, 100)?);
//! let mut tape = Tape::new();
//! for _step in 0..100 {
//!     let bound = model.bind(&tape);
//!     let mut scores = Vec::new();
//!     for p in &points {
//!         scores.push(bound.forward(p)?[0]);
//!     }
//!     let loss = hinge(&scores, &labels)? + l2(&bound.parameters(), 1e-4)?;
//!     let grads = loss.backward();
//!     let dl_dp = bound.gradients(&grads);
//!     sgd.step(model.parameters_mut(), dl_dp)?; // an error if an update would not be finite
//!     tape.clear(); // reuse the memory next step
//! }
//! let correct = points.iter().zip(&labels)
//!     .filter(|(p, y)| (model.predict(&p[..]).unwrap()[0] > 0.0) == (**y > 0.0))
//!     .count();
//! assert_eq!(correct, 40);
//! # Ok::<(), tapegrad::Error>(())
//! ```
//!
//! ## 7. More than two classes
//!
//! The seed's post ends by pointing at softmax: to tell more than two things apart, give the
//! network one output per class (its *logits*), turn them into probabilities with
//! [`softmax`](crate::softmax), and minimise the negative log-probability of the right class,
//! the cross-entropy. [`cross_entropy`](crate::cross_entropy) does both as one node that cannot
//! overflow, and [`Loss::CrossEntropy`](crate::Loss::CrossEntropy) trains on datasets whose target is the
//! class index. [`Mlp::builder`](crate::Mlp::builder) gives each layer its own activation, so
//! the output layer can stay linear:
//!
//! ```
//! use rand::{rngs::StdRng, SeedableRng};
//! use tapegrad::{Activation, Adam, Dataset, Loss, Mlp, TrainConfig, Trainer};
//! // Three people types by (weight, height), made up: 0 small, 1 tall, 2 heavy.
//! let data = Dataset::new(
//!     &[[-2.0, -1.0], [-3.0, -2.0], [1.0, 6.0], [2.0, 5.0], [6.0, 0.0], [7.0, 1.0]],
//!     &[[0.0], [0.0], [1.0], [1.0], [2.0], [2.0]],
//! )?;
//! let mut model = Mlp::builder(2)
//!     .dense(4, Activation::Tanh)
//!     .dense(3, Activation::Identity) // one logit per class
//!     .random(&mut StdRng::seed_from_u64(3))?;
//! let config = TrainConfig::default().epochs(200).loss(Loss::CrossEntropy);
//! Trainer::new(config)?.fit(&mut model, &mut Adam::new(0.05)?, &data, |_| {})?;
//! assert_eq!(model.classify(&[1.5, 5.5])?, 1); // tall
//! assert_eq!(model.accuracy(&data, Loss::CrossEntropy)?, Some(1.0));
//! # Ok::<(), tapegrad::Error>(())
//! ```
//!
//! `examples/digits.rs` does this on real data: 1797 handwritten digits, 10 classes.
//!
//! ## 8. Second derivatives: Newton's method
//!
//! Gradient descent only knows the slope. [`Value::grad`](crate::Value::grad) records the
//! gradient itself on a [traced](crate::Tape::traced) tape, so it can be differentiated again:
//! [`hessian`](crate::hessian) gives the curvature, and Newton's method steps straight to where
//! a quadratic model of the loss bottoms out. For one sigmoid neuron on the seed's people
//! (logistic regression, mean binary cross-entropy; not the post's network or loss), Newton's
//! 6 steps reach a lower loss than 1000 epochs of SGD with the post's schedule (rate 0.1, one
//! person at a time):
//!
//! ```
//! // The cross-entropy of a neuron [w, b] on one person (x = -2, female): ln(1 + e^z) - z.
//! let h = tapegrad::hessian(|p| {
//!     let z = p[0] * -2.0 + p[1];
//!     (1.0 + z.exp()).ln() - z
//! }, &[0.1, 0.2])?;
//! // H = s (1 - s) [x, 1]^T [x, 1] with s = sigmoid(z) = 1/2 at z = 0.1 * -2 + 0.2 = 0.
//! assert_eq!(h, vec![vec![1.0, -0.5], vec![-0.5, 0.25]]);
//! # Ok::<(), tapegrad::Error>(())
//! ```
//!
//! `examples/newton.rs` runs both and prints each Newton step.
