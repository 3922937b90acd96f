//! Arbitrary bytes into the model loader: it must return a model or an error, never panic,
//! and whatever it accepts must save and load back to the same model.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tapegrad::Mlp;

fuzz_target!(|data: &[u8]| {
    let Ok(model) = Mlp::from_safetensors(data) else {
        return;
    };
    let bytes = model.to_safetensors().expect("a loaded model saves");
    let again = Mlp::from_safetensors(&bytes).expect("a saved model loads");
    assert_eq!(again, model);
    let x = vec![0.5; model.input_size()];
    let y = model.predict(&x).expect("input of the model's size");
    assert_eq!(y.len(), model.output_size());
});
