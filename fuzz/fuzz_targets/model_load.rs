//! Bytes into the model loader: it must return a model or an error, never panic, and whatever
//! it accepts must save and load back to the same model.
//!
//! The first byte chooses how the rest is used: as a whole file (odd), or (even) as
//! header-level mutations of a valid file: a model whose sizes come from the next bytes is
//! saved, and tokens of its JSON header (numbers, strings, brackets) are replaced by values
//! chosen to reach every check (huge and negative numbers, other dtypes and names, a second
//! `__metadata__`, ...), with the length prefix rewritten to match, so the mutated header gets
//! past the length checks to the JSON, offset and architecture checks behind them.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tapegrad::{Activation, Mlp};

/// Replacement tokens.
const TOKENS: &[&str] = &[
    "0",
    "1",
    "2",
    "-1",
    "8",
    "16",
    "4294967296",
    "18446744073709551615",
    "18446744073709551616",
    "1e309",
    "0.5",
    "null",
    "[]",
    "{}",
    "[0,0]",
    "[1,1]",
    "\"F32\"",
    "\"F64\"",
    "\"I64\"",
    "\"BOOL\"",
    "\"layers.0.weight\"",
    "\"layers.0.bias\"",
    "\"layers.1.weight\"",
    "\"layers.00.bias\"",
    "\"__metadata__\"",
    "\"tapegrad.mlp\"",
    "\"pt\"",
    "\"1\"",
    "\"2\"",
    "\"0,1\"",
    "\"1,0\"",
    "\"1,1,1\"",
    "\"18446744073709551615,1\"",
    "\"tanh\"",
    "\"softmax\"",
    "\"identity,identity\"",
    "\"dtype\"",
    "\"shape\"",
    "\"data_offsets\"",
    "\"\"",
];

/// The header's tokens: (start, end) of each number, string, bracket and brace.
fn tokens(header: &[u8]) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < header.len() {
        let c = header[i];
        let start = i;
        if c == b'"' {
            i += 1;
            while i < header.len() && header[i] != b'"' {
                i += 1;
            }
            i += 1;
        } else if c == b'-' || c.is_ascii_digit() {
            while i < header.len() && (header[i] == b'-' || header[i].is_ascii_digit()) {
                i += 1;
            }
        } else if b"[]{}".contains(&c) {
            i += 1;
        } else {
            i += 1;
            continue;
        }
        out.push((start, i.min(header.len())));
    }
    out
}

fn mutated(data: &[u8]) -> Option<Vec<u8>> {
    let (&a, rest) = data.split_first()?;
    let (&b, rest) = rest.split_first()?;
    let sizes = [usize::from(a % 4) + 1, usize::from(b % 3) + 1, 1];
    let model = Mlp::with_init(&sizes, Activation::Tanh, Activation::Identity, |s| {
        s.neuron as f64 - 0.5 * s.layer as f64
    })
    .expect("a small model");
    let file = model.to_safetensors().expect("a finite model saves");
    // Not mutated at all, the file must load as the model it is (a loader that refused every
    // file would otherwise pass this target).
    if rest.is_empty() {
        assert_eq!(Mlp::from_safetensors(&file).as_ref(), Ok(&model));
    }
    let n = u64::from_le_bytes(file[..8].try_into().expect("8 bytes")) as usize;
    let mut header = file[8..8 + n].to_vec();
    let mut body = file[8 + n..].to_vec();
    // Each pair of bytes: which token to replace, and with what; a last odd byte changes the
    // data's length.
    let mut pairs = rest.chunks_exact(2);
    for pair in &mut pairs {
        let found = tokens(&header);
        if found.is_empty() {
            break;
        }
        let (start, end) = found[usize::from(pair[0]) % found.len()];
        let token = TOKENS[usize::from(pair[1]) % TOKENS.len()];
        header.splice(start..end, token.bytes());
    }
    if let [k] = pairs.remainder() {
        let len = body.len() as isize + isize::from(*k as i8);
        body.resize(len.max(0) as usize, 0);
    }
    let mut out = (header.len() as u64).to_le_bytes().to_vec();
    out.extend_from_slice(&header);
    out.extend_from_slice(&body);
    Some(out)
}

fn check(bytes: &[u8]) {
    let Ok(model) = Mlp::from_safetensors(bytes) else {
        return;
    };
    let bytes = model.to_safetensors().expect("a loaded model saves");
    let again = Mlp::from_safetensors(&bytes).expect("a saved model loads");
    assert_eq!(again, model);
    let x = vec![0.5; model.input_size()];
    let y = model.predict(&x).expect("input of the model's size");
    assert_eq!(y.len(), model.output_size());
}

fuzz_target!(|data: &[u8]| {
    match data.split_first() {
        Some((mode, rest)) if mode % 2 == 0 => {
            if let Some(bytes) = mutated(rest) {
                check(&bytes);
            }
        }
        Some((_, rest)) => check(rest),
        None => check(data),
    }
});
