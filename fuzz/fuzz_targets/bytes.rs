//! A cursor over the fuzzer's bytes, shared by the targets (`#[path]`-included).
#![allow(dead_code)]

/// Reads small numbers from the input; past the end it yields zeros, so every input is a
/// complete program.
pub struct Bytes<'a> {
    data: &'a [u8],
}

impl<'a> Bytes<'a> {
    pub fn new(data: &'a [u8]) -> Self {
        Bytes { data }
    }

    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    pub fn u8(&mut self) -> u8 {
        match self.data.split_first() {
            Some((&b, rest)) => {
                self.data = rest;
                b
            }
            None => 0,
        }
    }

    /// An index below `n` (n > 0).
    pub fn index(&mut self, n: usize) -> usize {
        let hi = usize::from(self.u8());
        let lo = usize::from(self.u8());
        (hi << 8 | lo) % n
    }

    /// A number: mostly small "nice" values in [-12.8, 12.7] (steps of 0.1), sometimes one of
    /// the IEEE edge cases, sometimes any 8 raw bytes (NaN payloads, subnormals, huge values).
    pub fn f64(&mut self) -> f64 {
        match self.u8() {
            0..=199 => (f64::from(self.u8()) - 128.0) / 10.0,
            200..=239 => {
                const EDGES: [f64; 14] = [
                    0.0,
                    -0.0,
                    1.0,
                    -1.0,
                    f64::INFINITY,
                    f64::NEG_INFINITY,
                    f64::NAN,
                    f64::MAX,
                    f64::MIN_POSITIVE,
                    5e-324,
                    709.79,
                    -745.2,
                    1000.0,
                    -1000.0,
                ];
                EDGES[usize::from(self.u8()) % EDGES.len()]
            }
            _ => {
                let mut raw = [0u8; 8];
                raw.iter_mut().for_each(|b| *b = self.u8());
                f64::from_le_bytes(raw)
            }
        }
    }
}

/// Equal as numbers, with every NaN equal to every other NaN.
pub fn same(a: f64, b: f64) -> bool {
    a == b || (a.is_nan() && b.is_nan())
}
