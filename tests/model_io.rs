//! Model files: round trips bit for bit, resumed training, the layout as another reader sees
//! it, every corrupt-file case with its own error, atomic saves, and a cross-check by Python
//! (safetensors + NumPy).

use rand::{rngs::StdRng, RngExt, SeedableRng};
use safetensors::{tensor::TensorView, Dtype, SafeTensors};
use std::path::{Path, PathBuf};
use std::process::Command;
use tapegrad::{Activation, Dataset, Error, Mlp, ModelFileError, Sgd, TrainConfig, Trainer};

/// A fresh, empty directory for one test.
fn scratch_dir(test: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("tapegrad-model-io-{}-{test}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Models of several shapes and activations with seeded random parameters.
fn models() -> Vec<Mlp> {
    use Activation::*;
    let shapes: [(&[usize], Activation, Activation); 5] = [
        (&[2, 2, 1], Sigmoid, Sigmoid),
        (&[3, 5, 4, 2], Tanh, Identity),
        (&[4, 8, 3], Relu, Sigmoid),
        (&[1, 1], Identity, Identity),
        (&[6, 3, 3, 3, 1], Tanh, Tanh),
    ];
    shapes
        .iter()
        .enumerate()
        .map(|(k, &(sizes, hidden, output))| {
            Mlp::random(sizes, hidden, output, &mut StdRng::seed_from_u64(k as u64)).unwrap()
        })
        .collect()
}

fn inputs(model: &Mlp, n: usize, seed: u64) -> Vec<Vec<f64>> {
    let mut rng = StdRng::seed_from_u64(seed);
    (0..n)
        .map(|_| {
            (0..model.input_size())
                .map(|_| rng.random_range(-3.0..3.0))
                .collect()
        })
        .collect()
}

fn bits(xs: &[f64]) -> Vec<u64> {
    xs.iter().map(|x| x.to_bits()).collect()
}

#[test]
fn save_then_load_gives_identical_predictions_bit_for_bit() {
    let dir = scratch_dir("round-trip");
    for (k, model) in models().iter().enumerate() {
        let path = dir.join(format!("model{k}.safetensors"));
        model.save(&path).unwrap();
        let loaded = Mlp::load(&path).unwrap();
        assert_eq!(loaded.sizes(), model.sizes());
        assert_eq!(loaded.activations(), model.activations());
        assert_eq!(bits(loaded.parameters()), bits(model.parameters()));
        for x in inputs(model, 100, k as u64) {
            let (a, b) = (model.predict(&x).unwrap(), loaded.predict(&x).unwrap());
            assert_eq!(bits(&a), bits(&b), "model {k} at {x:?}");
        }
    }
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn training_resumes_from_a_loaded_model() {
    let data = Dataset::new(
        &[[-2.0, -1.0], [25.0, 6.0], [17.0, 4.0], [-15.0, -6.0]],
        &[[1.0], [0.0], [0.0], [1.0]],
    )
    .unwrap();
    let fit = |model: &mut Mlp, epochs: usize| {
        let config = TrainConfig::default().epochs(epochs).batch_size(1);
        Trainer::new(config)
            .unwrap()
            .fit(model, &mut Sgd::new(0.1).unwrap(), &data, |_| {})
            .unwrap();
    };
    let start = models().remove(0);
    let mut straight = start.clone();
    fit(&mut straight, 200);

    let mut first_half = start;
    fit(&mut first_half, 100);
    let bytes = first_half.to_safetensors().unwrap();
    let mut resumed = Mlp::from_safetensors(&bytes).unwrap();
    fit(&mut resumed, 100);
    // Plain SGD has no state, so 100 + 100 epochs through a file equal 200 in one go.
    assert_eq!(bits(resumed.parameters()), bits(straight.parameters()));
}

#[test]
fn the_file_layout_is_what_other_readers_expect() {
    // 2-2-1 with distinct parameters, in tapegrad's order: h1 (w1 w2 b1), h2 (w3 w4 b2), o1.
    let params = [1.5, -2.0, 0.25, 3.0, 4.0, -0.5, 5.0, 6.0, 7.0];
    let model =
        Mlp::from_parameters(&[2, 2, 1], Activation::Tanh, Activation::Identity, &params).unwrap();
    let bytes = model.to_safetensors().unwrap();
    let file = SafeTensors::deserialize(&bytes).unwrap();
    let values = |name: &str| -> (Vec<usize>, Vec<f64>) {
        let t = file.tensor(name).unwrap();
        assert_eq!(t.dtype(), Dtype::F64, "{name}");
        let v = t
            .data()
            .chunks_exact(8)
            .map(|b| f64::from_le_bytes(b.try_into().unwrap()))
            .collect();
        (t.shape().to_vec(), v)
    };
    assert_eq!(
        values("layers.0.weight"),
        (vec![2, 2], vec![1.5, -2.0, 3.0, 4.0])
    );
    assert_eq!(values("layers.0.bias"), (vec![2], vec![0.25, -0.5]));
    assert_eq!(values("layers.1.weight"), (vec![1, 2], vec![5.0, 6.0]));
    assert_eq!(values("layers.1.bias"), (vec![1], vec![7.0]));
    assert_eq!(file.len(), 4);
    let (_, meta) = SafeTensors::read_metadata(&bytes).unwrap();
    let meta = meta.metadata().clone().unwrap();
    assert_eq!(meta["format"], "tapegrad.mlp");
    assert_eq!(meta["format_version"], "1");
    assert_eq!(meta["sizes"], "2,2,1");
    assert_eq!(meta["activations"], "tanh,identity");
}

// ---------------------------------------------------------------------------------------------
// Corrupt files.
// ---------------------------------------------------------------------------------------------

/// A tensor for a hand-made file: name, dtype, shape, little-endian bytes.
type Tensor = (&'static str, Dtype, Vec<usize>, Vec<u8>);

fn f64s(xs: &[f64]) -> Vec<u8> {
    xs.iter().flat_map(|x| x.to_le_bytes()).collect()
}

/// The tensors of a valid 2-2-1 file.
fn good_tensors() -> Vec<Tensor> {
    vec![
        (
            "layers.0.weight",
            Dtype::F64,
            vec![2, 2],
            f64s(&[1.0, 2.0, 3.0, 4.0]),
        ),
        ("layers.0.bias", Dtype::F64, vec![2], f64s(&[0.5, -0.5])),
        (
            "layers.1.weight",
            Dtype::F64,
            vec![1, 2],
            f64s(&[1.0, -1.0]),
        ),
        ("layers.1.bias", Dtype::F64, vec![1], f64s(&[0.0])),
    ]
}

fn good_meta() -> Vec<(&'static str, &'static str)> {
    vec![
        ("format", "tapegrad.mlp"),
        ("format_version", "1"),
        ("sizes", "2,2,1"),
        ("activations", "sigmoid,sigmoid"),
    ]
}

/// A safetensors file written by the safetensors crate itself, not by tapegrad.
fn file(tensors: &[Tensor], meta: Option<&[(&str, &str)]>) -> Vec<u8> {
    let views: Vec<(String, TensorView)> = tensors
        .iter()
        .map(|(n, d, s, b)| (n.to_string(), TensorView::new(*d, s.clone(), b).unwrap()))
        .collect();
    let meta = meta.map(|m| {
        m.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    });
    safetensors::serialize(views, meta).unwrap()
}

fn with_meta(key: &str, value: &'static str) -> Vec<u8> {
    let mut meta = good_meta();
    meta.iter_mut().find(|(k, _)| *k == key).unwrap().1 = value;
    file(&good_tensors(), Some(&meta))
}

fn with_tensor(name: &str, change: impl FnOnce(&mut Tensor)) -> Vec<u8> {
    let mut tensors = good_tensors();
    change(tensors.iter_mut().find(|t| t.0 == name).unwrap());
    file(&tensors, Some(&good_meta()))
}

/// A valid file with its 8-byte header length replaced.
fn with_header_length(n: u64) -> Vec<u8> {
    let mut bytes = file(&good_tensors(), Some(&good_meta()));
    bytes[..8].copy_from_slice(&n.to_le_bytes());
    bytes
}

/// A valid header (as JSON text) followed by `data`.
fn raw(header: &str, data: &[u8]) -> Vec<u8> {
    let mut bytes = (header.len() as u64).to_le_bytes().to_vec();
    bytes.extend_from_slice(header.as_bytes());
    bytes.extend_from_slice(data);
    bytes
}

/// What a corrupt-file case must produce.
type Expect = fn(&ModelFileError) -> bool;

/// The model-file error inside `err`; any other error fails the test.
fn file_error(err: &Error) -> &ModelFileError {
    match err {
        Error::ModelFile(e) => e,
        other => panic!("not a model-file error: {other:?}"),
    }
}

#[test]
fn every_corrupt_file_gets_its_own_clear_error() {
    let good = file(&good_tensors(), Some(&good_meta()));
    assert!(Mlp::from_safetensors(&good).is_ok());
    let meta_json = r#""__metadata__":{"format":"tapegrad.mlp","format_version":"1","sizes":"1,1","activations":"identity"}"#;

    let cases: Vec<(&str, Vec<u8>, Expect)> = vec![
        ("empty file", vec![], |e| {
            matches!(
                e,
                ModelFileError::Truncated {
                    expected: 8,
                    found: 0
                }
            )
        }),
        ("5 bytes", vec![1, 2, 3, 4, 5], |e| {
            matches!(
                e,
                ModelFileError::Truncated {
                    expected: 8,
                    found: 5
                }
            )
        }),
        (
            "last data byte cut off",
            good[..good.len() - 1].to_vec(),
            |e| matches!(e, ModelFileError::Truncated { .. }),
        ),
        ("header cut in half", good[..40].to_vec(), |e| {
            matches!(e, ModelFileError::HeaderTooLarge { .. })
        }),
        ("one trailing byte", [&good[..], &[0]].concat(), |e| {
            matches!(e, ModelFileError::Oversized { .. })
        }),
        (
            "a megabyte of trailing zeros",
            [&good[..], &vec![0; 1 << 20]].concat(),
            |e| matches!(e, ModelFileError::Oversized { .. }),
        ),
        (
            "header length past the 100 MB limit, in a file that long",
            {
                let mut bytes = 100_000_001u64.to_le_bytes().to_vec();
                bytes.push(b'{');
                bytes.resize(8 + 110_000_000, b' ');
                bytes
            },
            |e| {
                matches!(
                    e,
                    ModelFileError::HeaderTooLarge {
                        claimed: 100_000_001,
                        available: 100_000_000,
                    }
                )
            },
        ),
        ("header length 2^40", with_header_length(1 << 40), |e| {
            matches!(
                e,
                ModelFileError::HeaderTooLarge {
                    claimed: 1099511627776,
                    ..
                }
            )
        }),
        (
            "header length u64::MAX",
            with_header_length(u64::MAX),
            |e| {
                matches!(
                    e,
                    ModelFileError::HeaderTooLarge {
                        claimed: u64::MAX,
                        ..
                    }
                )
            },
        ),
        ("a text file", b"# README: not a model file".to_vec(), |e| {
            matches!(e, ModelFileError::NotSafetensors { found: b':' })
        }),
        (
            "random bytes",
            (0..200u32).map(|i| (i * 97 + 13) as u8).collect(),
            |e| matches!(e, ModelFileError::NotSafetensors { .. }),
        ),
        ("header length 0", with_header_length(0), |e| {
            matches!(e, ModelFileError::Format(_))
        }),
        ("header not JSON", raw("{not json", &[]), |e| {
            matches!(e, ModelFileError::Format(_))
        }),
        (
            "header not UTF-8",
            [&7u64.to_le_bytes()[..], b"{\"\xff\xfe\":1}"].concat(),
            |e| matches!(e, ModelFileError::Format(_)),
        ),
        (
            "tensor offsets overlap",
            raw(
                &format!(
                    r#"{{{meta_json},"layers.0.weight":{{"dtype":"F64","shape":[1,1],"data_offsets":[0,8]}},"layers.0.bias":{{"dtype":"F64","shape":[1],"data_offsets":[0,8]}}}}"#
                ),
                &f64s(&[1.0]),
            ),
            |e| matches!(e, ModelFileError::Format(_)),
        ),
        (
            "offsets disagree with shape",
            raw(
                &format!(
                    r#"{{{meta_json},"layers.0.weight":{{"dtype":"F64","shape":[1,1],"data_offsets":[0,16]}},"layers.0.bias":{{"dtype":"F64","shape":[1],"data_offsets":[16,24]}}}}"#
                ),
                &f64s(&[1.0, 2.0, 3.0]),
            ),
            |e| matches!(e, ModelFileError::Format(_)),
        ),
        (
            "shape whose size overflows",
            raw(
                &format!(
                    r#"{{{meta_json},"layers.0.weight":{{"dtype":"F64","shape":[4294967296,4294967296],"data_offsets":[0,8]}}}}"#
                ),
                &f64s(&[1.0]),
            ),
            |e| matches!(e, ModelFileError::Format(_)),
        ),
        ("no metadata", file(&good_tensors(), None), |e| {
            matches!(e, ModelFileError::Metadata(_))
        }),
        (
            "metadata without sizes",
            file(&good_tensors(), Some(&good_meta()[..2])),
            |e| matches!(e, ModelFileError::Metadata(m) if m.contains("sizes")),
        ),
        (
            "format is not tapegrad.mlp",
            with_meta("format", "pytorch"),
            |e| matches!(e, ModelFileError::Metadata(_)),
        ),
        ("format version 2", with_meta("format_version", "2"), |e| {
            matches!(e, ModelFileError::Version { supported: 1, .. })
        }),
        (
            "format version not a number",
            with_meta("format_version", "one"),
            |e| matches!(e, ModelFileError::Version { .. }),
        ),
        ("sizes not numbers", with_meta("sizes", "2,two,1"), |e| {
            matches!(e, ModelFileError::Metadata(_))
        }),
        ("a zero size", with_meta("sizes", "2,0,1"), |e| {
            matches!(e, ModelFileError::Metadata(_))
        }),
        ("one size only", with_meta("sizes", "2"), |e| {
            matches!(e, ModelFileError::Metadata(_))
        }),
        (
            "unknown activation",
            with_meta("activations", "sigmoid,softmax"),
            |e| matches!(e, ModelFileError::Metadata(m) if m.contains("softmax")),
        ),
        (
            "one activation for two layers",
            with_meta("activations", "sigmoid"),
            |e| matches!(e, ModelFileError::Metadata(_)),
        ),
        (
            "sizes disagree with the tensors",
            with_meta("sizes", "2,3,1"),
            |e| {
                matches!(e, ModelFileError::TensorShape { name, expected, found }
                if name == "layers.0.weight" && expected == &[3, 2] && found == &[2, 2])
            },
        ),
        (
            "huge sizes, one activation too many",
            with_meta("sizes", "1000000000000,1000000000000"),
            |e| matches!(e, ModelFileError::Metadata(_)),
        ),
        (
            "huge sizes with matching layer count",
            {
                let mut meta = good_meta();
                meta[2].1 = "1000000000000,1000000000000,1";
                file(&good_tensors(), Some(&meta))
            },
            |e| matches!(e, ModelFileError::TensorShape { .. }),
        ),
        (
            "weights transposed",
            with_tensor("layers.1.weight", |t| t.2 = vec![2, 1]),
            |e| matches!(e, ModelFileError::TensorShape { name, .. } if name == "layers.1.weight"),
        ),
        (
            "bias as a 2-d tensor",
            with_tensor("layers.0.bias", |t| t.2 = vec![2, 1]),
            |e| matches!(e, ModelFileError::TensorShape { name, .. } if name == "layers.0.bias"),
        ),
        (
            "missing tensor",
            file(&good_tensors()[..3], Some(&good_meta())),
            |e| matches!(e, ModelFileError::MissingTensor { name } if name == "layers.1.bias"),
        ),
        (
            "extra tensor",
            {
                let mut t = good_tensors();
                t.push(("layers.2.weight", Dtype::F64, vec![1, 1], f64s(&[1.0])));
                file(&t, Some(&good_meta()))
            },
            |e| matches!(e, ModelFileError::UnexpectedTensor { name } if name == "layers.2.weight"),
        ),
        (
            "F32 weights",
            with_tensor("layers.0.weight", |t| {
                t.1 = Dtype::F32;
                t.3.truncate(16);
            }),
            |e| matches!(e, ModelFileError::TensorDtype { name, found } if name == "layers.0.weight" && found == "F32"),
        ),
        (
            "I64 bias",
            with_tensor("layers.1.bias", |t| t.1 = Dtype::I64),
            |e| matches!(e, ModelFileError::TensorDtype { .. }),
        ),
        (
            "NaN weight",
            with_tensor("layers.0.weight", |t| {
                t.3 = f64s(&[1.0, 2.0, f64::NAN, 4.0])
            }),
            |e| matches!(e, ModelFileError::NonFiniteWeight { name, position: 2, .. } if name == "layers.0.weight"),
        ),
        (
            "infinite bias",
            with_tensor("layers.1.bias", |t| t.3 = f64s(&[f64::NEG_INFINITY])),
            |e| matches!(e, ModelFileError::NonFiniteWeight { position: 0, value, .. } if *value == f64::NEG_INFINITY),
        ),
    ];
    let dir = scratch_dir("corrupt");
    for (k, (what, bytes, expected)) in cases.iter().enumerate() {
        let err = Mlp::from_safetensors(bytes).expect_err(what);
        println!("{what:<40} -> {err:?}\n{:<40}    \"{err}\"", "");
        assert!(
            expected(file_error(&err)),
            "{what}: unexpected error {err:?}"
        );
        assert!(!err.to_string().is_empty());
        // Loading the same bytes from a file (which checks the header before reading the
        // data) gives the same kind of error. (Not always the same text: with two tensors at
        // one offset, which one safetensors names depends on its hash map's order.)
        let path = dir.join(format!("case{k}.safetensors"));
        std::fs::write(&path, bytes).unwrap();
        let from_file = Mlp::load(&path).unwrap_err();
        assert!(
            expected(file_error(&from_file)),
            "{what} from a file: {from_file:?}"
        );
    }
    std::fs::remove_dir_all(dir).unwrap();
    println!(
        "{} corrupt-file cases, each refused with the expected error",
        cases.len()
    );
}

#[test]
fn no_prefix_and_no_bit_flip_of_a_good_file_panics() {
    let model = &models()[1];
    let good = model.to_safetensors().unwrap();
    for len in 0..good.len() {
        assert!(
            Mlp::from_safetensors(&good[..len]).is_err(),
            "prefix of {len} bytes"
        );
    }
    let mut loaded = 0;
    for i in 0..good.len() {
        for bit in 0..8 {
            let mut bytes = good.clone();
            bytes[i] ^= 1 << bit;
            // Either a clear error or a model (a flipped weight bit is still a valid file);
            // a loaded model must have the same shape.
            if let Ok(m) = Mlp::from_safetensors(&bytes) {
                assert_eq!(m.sizes(), model.sizes());
                loaded += 1;
            }
        }
    }
    assert!(loaded > 0, "flips inside the weights still load");
}

// ---------------------------------------------------------------------------------------------
// Saving.
// ---------------------------------------------------------------------------------------------

fn names_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn saving_replaces_the_old_file_and_leaves_no_temporary_files() {
    let dir = scratch_dir("replace");
    let path = dir.join("model.safetensors");
    let [a, b] = [&models()[0], &models()[2]];
    a.save(&path).unwrap();
    b.save(&path).unwrap();
    assert_eq!(&Mlp::load(&path).unwrap(), b);
    assert_eq!(names_in(&dir), ["model.safetensors"]);
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn a_failed_save_leaves_the_target_and_directory_as_they_were() {
    let dir = scratch_dir("failed-save");
    // The target is a directory: refused before anything is written.
    let target = dir.join("model.safetensors");
    std::fs::create_dir(&target).unwrap();
    std::fs::write(target.join("keep"), b"old").unwrap();
    let err = models()[0].save(&target).unwrap_err();
    assert!(
        matches!(&err, Error::ModelFile(ModelFileError::Io(e)) if e.action() == "replace"),
        "{err:?}"
    );
    assert!(err.to_string().contains("model.safetensors"), "{err}");
    let source = std::error::Error::source(&err)
        .expect("the reason")
        .to_string();
    assert!(source.contains("not a regular file"), "{source}");
    assert_eq!(names_in(&dir), ["model.safetensors"], "no temporary file");
    assert_eq!(std::fs::read(target.join("keep")).unwrap(), b"old");

    // A socket (as a pipe or a device such as /dev/null) is not replaced by a regular file.
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        let socket = dir.join("socket.safetensors");
        let _listener = std::os::unix::net::UnixListener::bind(&socket).unwrap();
        let err = models()[0].save(&socket).unwrap_err();
        assert!(
            matches!(&err, Error::ModelFile(ModelFileError::Io(e)) if e.action() == "replace"),
            "{err:?}"
        );
        let kind = std::fs::symlink_metadata(&socket).unwrap().file_type();
        assert!(kind.is_socket(), "the socket was replaced");
        std::fs::remove_file(&socket).unwrap();
    }

    // A directory that does not exist: nothing is created.
    let missing = dir.join("no-such-dir").join("model.safetensors");
    let err = models()[0].save(&missing).unwrap_err();
    assert!(
        matches!(&err, Error::ModelFile(ModelFileError::Io(e)) if e.action() == "create"),
        "{err:?}"
    );
    assert_eq!(names_in(&dir), ["model.safetensors"]);
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn loading_a_missing_file_names_it() {
    let err = Mlp::load("/nonexistent/tapegrad/model.safetensors").unwrap_err();
    let Error::ModelFile(ModelFileError::Io(io)) = &err else {
        panic!("not an I/O error: {err:?}");
    };
    assert_eq!(io.action(), "read");
    assert_eq!(io.kind(), std::io::ErrorKind::NotFound);
    assert!(err
        .to_string()
        .contains("/nonexistent/tapegrad/model.safetensors"));
    // The operating system's error is the source, not a string.
    let source = std::error::Error::source(&err).expect("a source");
    let os = source
        .downcast_ref::<std::io::Error>()
        .expect("an io::Error");
    assert_eq!(os.kind(), std::io::ErrorKind::NotFound);
}

// ---------------------------------------------------------------------------------------------
// A real client: Python with safetensors and NumPy.
// ---------------------------------------------------------------------------------------------

/// The Python interpreter to use: `TAPEGRAD_PYTHON`, else `target/pyenv/bin/python` (where
/// .ci/run installs safetensors and NumPy), else `python3`. The tests that call this are
/// `#[ignore]`d, so they run only when asked for (`cargo test -- --ignored`, as .ci/run does);
/// asked for, they fail, with the reasons, if no interpreter can import both.
fn python() -> PathBuf {
    let venv = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/pyenv/bin/python");
    let candidates: Vec<PathBuf> = match std::env::var_os("TAPEGRAD_PYTHON") {
        Some(p) => vec![p.into()],
        None => vec![venv, "python3".into()],
    };
    let mut reasons = Vec::new();
    for py in candidates {
        match Command::new(&py)
            .args(["-c", "import safetensors, numpy"])
            .output()
        {
            Ok(out) if out.status.success() => return py,
            Ok(out) => reasons.push(format!(
                "{}: {}",
                py.display(),
                String::from_utf8_lossy(&out.stderr).trim()
            )),
            Err(e) => reasons.push(format!("{}: {e}", py.display())),
        }
    }
    panic!(
        "no Python with safetensors and numpy ({}); install them (pip install safetensors \
         numpy) or point TAPEGRAD_PYTHON at an interpreter that has them",
        reasons.join("; ")
    );
}

#[test]
#[ignore = "needs Python with safetensors and numpy (TAPEGRAD_PYTHON); .ci/run installs them and runs it"]
fn python_with_numpy_recomputes_our_predictions() {
    let py = python();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/python/check_model.py");
    let dir = scratch_dir("python");
    for (k, model) in models().iter().enumerate() {
        let path = dir.join(format!("model{k}.safetensors"));
        model.save(&path).unwrap();
        let mut cases = String::new();
        for x in inputs(model, 50, 100 + k as u64) {
            let y = model.predict(&x).unwrap();
            let text = |v: &[f64]| {
                v.iter()
                    .map(|f| format!("{f:?}"))
                    .collect::<Vec<_>>()
                    .join(" ")
            };
            cases.push_str(&format!("{} | {}\n", text(&x), text(&y)));
        }
        let cases_path = dir.join(format!("cases{k}.txt"));
        std::fs::write(&cases_path, cases).unwrap();
        let out = Command::new(&py)
            .arg(&script)
            .arg(&path)
            .arg(&cases_path)
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        print!("{stdout}");
        assert!(
            out.status.success(),
            "python check failed for model {k}:\n{stdout}{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(stdout.contains("max |numpy - tapegrad|"));
    }
    // The check can fail: a prediction off by 1e-9 is caught.
    let path = dir.join("model0.safetensors");
    let x = [0.5, -1.0];
    let y = models()[0].predict(&x).unwrap()[0] + 1e-9;
    let cases_path = dir.join("off.txt");
    std::fs::write(&cases_path, format!("{:?} {:?} | {y:?}\n", x[0], x[1])).unwrap();
    let out = Command::new(&py)
        .arg(&script)
        .arg(&path)
        .arg(&cases_path)
        .output()
        .unwrap();
    assert!(!out.status.success(), "a 1e-9 error must fail the check");
    assert!(String::from_utf8_lossy(&out.stdout).contains("MISMATCH"));
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
#[ignore = "needs Python with safetensors and numpy (TAPEGRAD_PYTHON); .ci/run installs them and runs it"]
fn we_read_a_model_that_python_wrote() {
    let py = python();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/python/check_model.py");
    let dir = scratch_dir("python-wrote");
    let (model_path, cases_path) = (dir.join("numpy.safetensors"), dir.join("cases.txt"));
    let out = Command::new(&py)
        .arg(&script)
        .arg("--write")
        .arg(&model_path)
        .arg(&cases_path)
        .output()
        .unwrap();
    print!("{}", String::from_utf8_lossy(&out.stdout));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let model = Mlp::load(&model_path).unwrap();
    assert_eq!(model.sizes(), [3, 4, 2]);
    assert_eq!(model.activations(), [Activation::Tanh, Activation::Sigmoid]);
    let cases = std::fs::read_to_string(&cases_path).unwrap();
    let mut worst: f64 = 0.0;
    for line in cases.lines() {
        let (xs, ys) = line.split_once('|').unwrap();
        let parse =
            |s: &str| -> Vec<f64> { s.split_whitespace().map(|v| v.parse().unwrap()).collect() };
        let (x, expected) = (parse(xs), parse(ys));
        for (got, want) in model.predict(&x).unwrap().iter().zip(&expected) {
            worst = worst.max((got - want).abs());
        }
    }
    println!("numpy-written model: 50 cases, max |tapegrad - numpy| = {worst:.3e}");
    assert!(worst <= 1e-12, "{worst}");
    std::fs::remove_dir_all(dir).unwrap();
}

/// NumPy recomputes softmax cross-entropy and its gradient by hand
/// (tests/python/check_cross_entropy.py) for every sample of two small classifiers, one of
/// them with large weights so that some samples' class is nearly certain, and for their mean
/// over the batch as the trainer computes it; all must agree to 1e-12.
#[test]
#[ignore = "needs Python with safetensors and numpy (TAPEGRAD_PYTHON); .ci/run installs them and runs it"]
fn python_with_numpy_recomputes_cross_entropy_gradients() {
    use tapegrad::{cross_entropy, BatchGradient, Loss, Tape};
    let py = python();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/python/check_cross_entropy.py");
    let dir = scratch_dir("python-ce");
    let mut rng = StdRng::seed_from_u64(14);
    let mut big =
        Mlp::random(&[3, 6, 4], Activation::Tanh, Activation::Identity, &mut rng).unwrap();
    for p in big.parameters_mut() {
        *p *= 30.0;
    }
    let classifiers = [
        Mlp::builder(4)
            .dense(5, Activation::Sigmoid)
            .dense(4, Activation::Relu)
            .dense(3, Activation::Identity)
            .random(&mut rng)
            .unwrap(),
        big,
    ];
    let text = |v: &[f64]| {
        v.iter()
            .map(|f| format!("{f:?}"))
            .collect::<Vec<_>>()
            .join(" ")
    };
    for (k, model) in classifiers.iter().enumerate() {
        let path = dir.join(format!("classifier{k}.safetensors"));
        model.save(&path).unwrap();
        let xs = inputs(model, 20, 200 + k as u64);
        let classes: Vec<usize> = (0..xs.len()).map(|i| i % model.output_size()).collect();
        let mut cases = String::new();
        for (x, &c) in xs.iter().zip(&classes) {
            let tape = Tape::new();
            let bound = model.bind(&tape);
            let loss = cross_entropy(&bound.forward(x).unwrap(), c).unwrap();
            let grads = loss.backward();
            let g = bound.gradients(&grads);
            cases.push_str(&format!(
                "{} | {c} | {:?} | {}\n",
                text(x),
                loss.value(),
                text(g)
            ));
        }
        let targets: Vec<[f64; 1]> = classes.iter().map(|&c| [c as f64]).collect();
        let data = Dataset::new(&xs, &targets).unwrap();
        let mut g = vec![0.0; model.parameter_count()];
        let loss = BatchGradient::new(2)
            .unwrap()
            .mean_gradient(model, &data, 0..data.len(), Loss::CrossEntropy, &mut g)
            .unwrap();
        cases.push_str(&format!("batch | {loss:?} | {}\n", text(&g)));
        let cases_path = dir.join(format!("ce{k}.txt"));
        std::fs::write(&cases_path, &cases).unwrap();
        let run = |cases_path: &Path| {
            Command::new(&py)
                .arg(&script)
                .arg(&path)
                .arg(cases_path)
                .output()
                .unwrap()
        };
        let out = run(&cases_path);
        let stdout = String::from_utf8_lossy(&out.stdout);
        print!("{stdout}");
        assert!(
            out.status.success(),
            "cross-entropy check failed for classifier {k}:\n{stdout}{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(stdout.contains("max |numpy - tapegrad|"));
        // The check can fail: one gradient off by 1e-10 is caught.
        let first = cases.lines().next().unwrap();
        let (head, grads) = first.rsplit_once(" | ").unwrap();
        let mut g: Vec<f64> = grads.split(' ').map(|v| v.parse().unwrap()).collect();
        g[0] += 1e-10;
        let off_path = dir.join(format!("off{k}.txt"));
        std::fs::write(&off_path, format!("{head} | {}\n", text(&g))).unwrap();
        let out = run(&off_path);
        assert!(!out.status.success(), "a 1e-10 error must fail the check");
        assert!(String::from_utf8_lossy(&out.stdout).contains("MISMATCH"));
    }
    std::fs::remove_dir_all(dir).unwrap();
}
