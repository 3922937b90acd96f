//! tapegrad in the browser: the JavaScript-facing side of the playground page.
//!
//! Two views, each a thin [`wasm_bindgen`] wrapper over a plain Rust module that is tested
//! natively (`cargo test -p tapegrad-playground`):
//!
//! - [`seed`]: the seed's 2-2-1 network. [`seed_step`] records one forward and backward pass
//!   for a person on a traced tape and returns h1, h2, o1, the loss, every dL/dp and the DOT
//!   graph; [`SeedTraining`] runs the seed's SGD a slice of epochs at a time.
//! - [`moons`]: micrograd's moons. [`MoonsLab`] trains a slice of full-batch steps and samples
//!   the decision function on a grid for the page to paint.
//!
//! Only tapegrad's public API is used. Errors reach JavaScript as thrown `Error`s carrying
//! tapegrad's message.
#![forbid(unsafe_code)]

pub mod moons;
pub mod seed;

/// SplitMix64 and the moons data, shared with `examples/moons.rs` so that the page's default
/// run is the example's.
#[path = "../../examples/shared/splitmix.rs"]
pub mod splitmix;

use wasm_bindgen::prelude::*;

fn js(e: tapegrad::Error) -> JsError {
    JsError::new(&e.to_string())
}

/// The seed's people as JSON: `[{"name", "pounds", "inches", "label", "trainedOn"}, ...]`.
#[wasm_bindgen]
pub fn people_json() -> String {
    let rows: Vec<String> = seed::PEOPLE
        .iter()
        .map(|p| {
            format!(
                r#"{{"name":"{}","pounds":{},"inches":{},"label":{},"trainedOn":{}}}"#,
                p.name, p.pounds, p.inches, p.label, p.trained_on
            )
        })
        .collect();
    format!("[{}]", rows.join(","))
}

/// The nine parameter names in the order every `params` argument and result uses.
#[wasm_bindgen]
pub fn seed_parameter_names() -> Vec<String> {
    seed::SEED_NAMES.iter().map(|s| s.to_string()).collect()
}

/// The seed's shift: `[135, 66]` (pounds and inches).
#[wasm_bindgen]
pub fn seed_shift() -> Vec<f64> {
    seed::SHIFT.to_vec()
}

/// Nine standard-normal starting parameters from `seed`.
#[wasm_bindgen]
pub fn seed_random_parameters(seed: u32) -> Vec<f64> {
    seed::random_parameters(u64::from(seed)).to_vec()
}

fn nine(params: &[f64]) -> Result<[f64; 9], JsError> {
    params
        .try_into()
        .map_err(|_| JsError::new(&format!("expected 9 parameters, got {}", params.len())))
}

/// One step of the seed's network: see [`seed::step`].
#[wasm_bindgen]
pub struct SeedStep(seed::Step);

#[wasm_bindgen]
impl SeedStep {
    /// h1 = f(w1 x1 + w2 x2 + b1).
    #[wasm_bindgen(getter)]
    pub fn h1(&self) -> f64 {
        self.0.h1
    }
    /// h2 = f(w3 x1 + w4 x2 + b2).
    #[wasm_bindgen(getter)]
    pub fn h2(&self) -> f64 {
        self.0.h2
    }
    /// o1 = y_pred = f(w5 h1 + w6 h2 + b3).
    #[wasm_bindgen(getter)]
    pub fn o1(&self) -> f64 {
        self.0.o1
    }
    /// (y_true - y_pred)^2.
    #[wasm_bindgen(getter)]
    pub fn loss(&self) -> f64 {
        self.0.loss
    }
    /// dL/dp for the nine parameters, in [`seed_parameter_names`] order.
    #[wasm_bindgen(getter)]
    pub fn gradients(&self) -> Vec<f64> {
        self.0.gradients.to_vec()
    }
    /// The traced tape of the step as Graphviz DOT.
    #[wasm_bindgen(getter)]
    pub fn dot(&self) -> String {
        self.0.dot.clone()
    }
}

/// Records the seed's network for a person of `pounds` and `inches` (shifted here by 135 and
/// 66) with label `y_true`, and runs the reverse sweep.
#[wasm_bindgen]
pub fn seed_step(
    params: &[f64],
    pounds: f64,
    inches: f64,
    y_true: f64,
) -> Result<SeedStep, JsError> {
    let x = [pounds - seed::SHIFT[0], inches - seed::SHIFT[1]];
    seed::step(&nine(params)?, x, y_true)
        .map(SeedStep)
        .map_err(js)
}

/// The network's answer for a person of `pounds` and `inches`, without recording anything.
#[wasm_bindgen]
pub fn seed_predict(params: &[f64], pounds: f64, inches: f64) -> Result<f64, JsError> {
    let net = seed::network(&nine(params)?).map_err(js)?;
    let x = [pounds - seed::SHIFT[0], inches - seed::SHIFT[1]];
    Ok(net.predict(&x).map_err(js)?[0])
}

/// The seed's training, run a slice of epochs at a time: see [`seed::Training`].
#[wasm_bindgen]
pub struct SeedTraining(seed::Training);

#[wasm_bindgen]
impl SeedTraining {
    /// Starts from these nine parameters with this learning rate.
    #[wasm_bindgen(constructor)]
    pub fn new(params: &[f64], learning_rate: f64) -> Result<SeedTraining, JsError> {
        seed::Training::new(&nine(params)?, learning_rate)
            .map(SeedTraining)
            .map_err(js)
    }

    /// Runs `epochs` more epochs; the MSE over the four people after each.
    pub fn run(&mut self, epochs: usize) -> Result<Vec<f64>, JsError> {
        self.0.run(epochs).map_err(js)
    }

    /// Epochs run so far.
    #[wasm_bindgen(getter, js_name = epochsDone)]
    pub fn epochs_done(&self) -> usize {
        self.0.epochs_done()
    }

    /// The current nine parameters.
    pub fn parameters(&self) -> Vec<f64> {
        self.0.parameters().to_vec()
    }

    /// The network's answer for a person of `pounds` and `inches`.
    pub fn predict(&self, pounds: f64, inches: f64) -> Result<f64, JsError> {
        self.0
            .predict([pounds - seed::SHIFT[0], inches - seed::SHIFT[1]])
            .map_err(js)
    }
}

/// The moons lab: see [`moons::Lab`].
#[wasm_bindgen]
pub struct MoonsLab(moons::Lab);

#[wasm_bindgen]
impl MoonsLab {
    /// Moons with `noise` and a fresh network with these hidden sizes and activation
    /// ("relu", "tanh" or "sigmoid"), weights from SplitMix64 `init_seed`.
    #[wasm_bindgen(constructor)]
    pub fn new(
        hidden: &[u32],
        activation: &str,
        noise: f64,
        init_seed: u32,
    ) -> Result<MoonsLab, JsError> {
        let act = moons::activation(activation)
            .ok_or_else(|| JsError::new(&format!("unknown activation {activation:?}")))?;
        let hidden: Vec<usize> = hidden.iter().map(|&h| h as usize).collect();
        moons::Lab::new(&hidden, act, noise, u64::from(init_seed))
            .map(MoonsLab)
            .map_err(js)
    }

    /// The first initial-weight seed, the example's.
    #[wasm_bindgen(js_name = defaultInitSeed)]
    pub fn default_init_seed() -> u32 {
        moons::INIT_SEED as u32
    }

    /// `n` steps; returns `loss, accuracy` per step, flattened.
    pub fn train(&mut self, n: usize, learning_rate: f64, alpha: f64) -> Result<Vec<f64>, JsError> {
        let reports = self.0.train(n, learning_rate, alpha).map_err(js)?;
        Ok(reports.iter().flat_map(|r| [r.loss, r.accuracy]).collect())
    }

    /// `[loss, accuracy]` of the model as it stands.
    pub fn evaluate(&self, alpha: f64) -> Result<Vec<f64>, JsError> {
        let r = self.0.evaluate(alpha).map_err(js)?;
        Ok(vec![r.loss, r.accuracy])
    }

    /// Scores on an `nx` by `ny` grid over `[x0, x1] x [y0, y1]`, top row first.
    pub fn grid(
        &self,
        x0: f64,
        x1: f64,
        y0: f64,
        y1: f64,
        nx: usize,
        ny: usize,
    ) -> Result<Vec<f64>, JsError> {
        self.0.grid((x0, x1), (y0, y1), nx, ny).map_err(js)
    }

    /// The points, flattened `x, y, ...`.
    pub fn points(&self) -> Vec<f64> {
        self.0.points()
    }

    /// The labels, -1 or +1.
    pub fn labels(&self) -> Vec<f64> {
        self.0.labels().to_vec()
    }

    /// Steps taken.
    #[wasm_bindgen(getter)]
    pub fn steps(&self) -> usize {
        self.0.steps()
    }

    /// Parameters of the model.
    #[wasm_bindgen(getter, js_name = parameterCount)]
    pub fn parameter_count(&self) -> usize {
        self.0.parameter_count()
    }
}
