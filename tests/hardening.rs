//! Bad sizes, values and call orders that once panicked, aborted or gave a wrong answer: each
//! is now an error (or a documented panic with a clear message). One test per finding of the
//! hardening issue, plus the same patterns found elsewhere.

use tapegrad::{
    bce_with_logits, hinge, mse, Activation, Adam, BatchGradient, Dataset, Error, Loss, Mlp,
    ModelFileError, Neuron, Optimizer, Schedule, Sgd, Tape, TrainConfig, Trainer,
};

const ID: Activation = Activation::Identity;

// ---- 1. sizes -------------------------------------------------------------------------------

#[test]
fn an_impossible_tape_capacity_is_a_hint_not_an_abort() {
    // 2^45 nodes would be 800 TB: the request is dropped and the tape grows as it records.
    for (nodes, edges) in [
        (usize::MAX, usize::MAX),
        (1 << 45, 1 << 45),
        (0, usize::MAX),
    ] {
        let tape = Tape::with_capacity(nodes, edges);
        assert!(tape.memory_bytes() < 1 << 40, "{nodes} nodes reserved");
        let x = tape.var(3.0);
        let y = x * x + tape.sum(&[x, x, x]);
        assert_eq!(y.backward()[x], 2.0 * 3.0 + 3.0);
    }
}

#[test]
fn impossible_model_sizes_are_errors_not_aborts() {
    // 2^40 hidden neurons: ~3.3e12 parameters, 26 TB; the allocator refuses.
    let huge = [1, 1 << 40, 1];
    let alloc = |r: Result<Mlp, Error>| matches!(r, Err(Error::Allocation { .. }));
    assert!(alloc(Mlp::zeros(&huge, ID, ID)));
    assert!(alloc(Mlp::with_init(&huge, ID, ID, |_| 1.0)));
    let mut rng = <rand::rngs::StdRng as rand::SeedableRng>::seed_from_u64(1);
    assert!(alloc(Mlp::random(&huge, ID, ID, &mut rng)));
    assert!(alloc(Mlp::from_parameters(&huge, ID, ID, &[0.0])));
    // The count itself overflows usize: (usize::MAX + 1) would wrap to 0 in release.
    for sizes in [
        &[usize::MAX, 1][..],
        &[1, usize::MAX][..],
        &[1 << 33, 1 << 33, 1][..],
    ] {
        let err = Mlp::zeros(sizes, ID, ID).unwrap_err();
        assert!(
            matches!(
                err,
                Error::Allocation {
                    what: "parameters",
                    ..
                }
            ),
            "{err}"
        );
        assert!(
            err.to_string().starts_with("cannot allocate memory for"),
            "{err}"
        );
    }
}

#[test]
fn a_dataset_larger_than_memory_is_an_error() {
    // 2^22 rows that all borrow one 2^22-value row: 2^44 values (128 TB) to copy.
    let row = vec![0.0; 1 << 22];
    let rows = vec![&row[..]; 1 << 22];
    let targets = vec![[0.0]; 1 << 22];
    let err = Dataset::new(&rows, &targets).unwrap_err();
    assert!(
        matches!(
            err,
            Error::Allocation {
                what: "dataset values",
                ..
            }
        ),
        "{err}"
    );
}

// ---- 3. one validation path -----------------------------------------------------------------

fn one_to_one() -> Mlp {
    Mlp::from_parameters(&[1, 1], ID, ID, &[0.5, 0.0]).unwrap()
}

#[test]
fn batch_gradient_checks_targets_as_the_trainer_does() {
    let model = one_to_one();
    let cases = [
        (Loss::BceWithLogits, [0.0, 5.0], 1),
        (Loss::BceWithLogits, [-3.0, 1.0], 0),
        (Loss::Hinge, [1.0, 0.0], 1),
    ];
    for (loss, targets, bad) in cases {
        let data = Dataset::new(&[[1.0], [2.0]], &[[targets[0]], [targets[1]]]).unwrap();
        let mut g = [0.0; 2];
        let from_batch = BatchGradient::new(2)
            .unwrap()
            .mean_gradient(&model, &data, 0..2, loss, &mut g)
            .unwrap_err();
        let mut m = model.clone();
        let from_trainer = Trainer::new(TrainConfig::default().loss(loss))
            .unwrap()
            .fit(&mut m, &mut Sgd::new(0.1).unwrap(), &data, |_| {})
            .unwrap_err();
        assert_eq!(from_batch, from_trainer);
        assert!(
            matches!(from_batch, Error::InvalidTarget { sample, position: 0, .. } if sample == bad),
            "{from_batch}"
        );
        // Mlp::loss checks them the same way, naming the sample (it said sample 0 before).
        assert_eq!(model.loss(&data, loss).unwrap_err(), from_batch);
    }
}

#[test]
fn free_losses_check_targets_like_the_trainer() {
    let tape = Tape::new();
    let y = tape.vars(&[0.5, 0.25]);
    for bad in [f64::NAN, f64::INFINITY] {
        let err = mse(&y, &[1.0, bad]).unwrap_err();
        assert!(
            matches!(
                err,
                Error::InvalidTarget {
                    sample: 0,
                    position: 1,
                    ..
                }
            ),
            "{err}"
        );
        let same = Loss::Mse.check_targets(0, &[1.0, bad]).unwrap_err();
        assert_eq!(err.to_string(), same.to_string()); // (NaN != NaN, so compare the text)
    }
    assert!(hinge(&y, &[1.0, 0.0]).is_err());
    assert!(bce_with_logits(&y, &[1.0, 5.0]).is_err());
}

// ---- 4. panics reachable with bad values ----------------------------------------------------

#[test]
fn optimizer_step_with_mismatched_lengths_is_an_error_and_changes_nothing() {
    let mut p = [1.0, 2.0];
    let expected = Err(Error::GradientCount {
        parameters: 2,
        gradients: 3,
    });
    let optimizers: [Box<dyn Optimizer>; 3] = [
        Box::new(Sgd::new(0.1).unwrap()),
        Box::new(Sgd::with_momentum(0.1, 0.9).unwrap()),
        Box::new(Adam::new(0.1).unwrap()),
    ];
    for mut opt in optimizers {
        assert_eq!(opt.step(&mut p, &[1.0, 1.0, 1.0]), expected);
        assert_eq!(p, [1.0, 2.0]);
    }
}

#[test]
fn one_optimizer_on_two_models_is_an_error_not_an_internal_panic() {
    let data = Dataset::new(&[[1.0]], &[[1.0]]).unwrap();
    let mut small = one_to_one();
    let mut big = Mlp::zeros(&[1, 3, 1], Activation::Tanh, ID).unwrap();
    for mut opt in [
        Box::new(Adam::new(0.01).unwrap()) as Box<dyn Optimizer>,
        Box::new(Sgd::with_momentum(0.1, 0.5).unwrap()),
    ] {
        let mut trainer = Trainer::new(TrainConfig::default()).unwrap();
        trainer.fit(&mut small, &mut *opt, &data, |_| {}).unwrap();
        let before = big.clone();
        let err = trainer.fit(&mut big, &mut *opt, &data, |_| {}).unwrap_err();
        assert_eq!(
            err,
            Error::OptimizerState {
                expected: 2,
                found: 10
            }
        );
        assert!(
            err.to_string().contains("use one optimizer per model"),
            "{err}"
        );
        assert_eq!(big, before);
    }
}

#[test]
#[should_panic(expected = "these gradients come from a value recorded before the model was bound")]
fn gradients_from_before_the_bind_panic_with_a_clear_message() {
    let model = Mlp::zeros(&[1, 1], ID, ID).unwrap();
    let tape = Tape::new();
    let x = tape.var(1.0);
    let stale = (x * 2.0).backward();
    let bound = model.bind(&tape);
    let _ = bound.gradients(&stale);
}

// ---- 8. threads -----------------------------------------------------------------------------

#[test]
fn thread_counts_are_capped() {
    for threads in [0, BatchGradient::MAX_THREADS + 1, 1 << 40, usize::MAX] {
        let err = BatchGradient::new(threads).unwrap_err();
        assert!(
            matches!(
                err,
                Error::InvalidHyperparameter {
                    name: "thread count",
                    ..
                }
            ),
            "{err}"
        );
    }
}

#[test]
fn a_batch_of_many_windows_gives_the_same_bits_for_every_thread_count() {
    // 1003 samples = 126 groups: 16 windows of 8 groups with two threads, 63 of 2 with one...
    let n = 1003;
    let inputs: Vec<[f64; 2]> = (0..n)
        .map(|i| [(i as f64 * 0.37).sin(), (i as f64 * 0.11).cos()])
        .collect();
    let targets: Vec<[f64; 1]> = (0..n).map(|i| [(i % 3) as f64 * 0.5]).collect();
    let data = Dataset::new(&inputs, &targets).unwrap();
    let model = Mlp::with_init(&[2, 5, 1], Activation::Tanh, ID, |s| {
        0.1 * (s.neuron as f64 + 1.0) - 0.05 * s.input.unwrap_or(3) as f64
    })
    .unwrap();
    // Reference: the same sums, by hand, in group order.
    let mut expected = vec![0.0; model.parameter_count()];
    let mut total = 0.0;
    for start in (0..n).step_by(8) {
        let end = (start + 8).min(n);
        let tape = Tape::new();
        let bound = model.bind(&tape);
        let losses: Vec<_> = (start..end)
            .map(|i| mse(&bound.forward(data.input(i)).unwrap(), data.target(i)).unwrap())
            .collect();
        let sum = if losses.len() == 1 {
            losses[0]
        } else {
            tape.sum(&losses)
        };
        let g = sum.backward();
        for (e, v) in expected.iter_mut().zip(bound.gradients(&g)) {
            *e += v;
        }
        total += sum.value();
    }
    let scale = 1.0 / n as f64;
    expected.iter_mut().for_each(|e| *e *= scale);
    // The size of the summed terms: the mean absolute per-sample gradient.
    let mut size = vec![0.0; model.parameter_count()];
    for i in 0..n {
        let tape = Tape::new();
        let bound = model.bind(&tape);
        let loss = mse(&bound.forward(data.input(i)).unwrap(), data.target(i)).unwrap();
        for (a, v) in size.iter_mut().zip(bound.gradients(&loss.backward())) {
            *a += scale * v.abs();
        }
    }
    let mut first: Option<Vec<f64>> = None;
    for threads in [1, 2, 3, 7] {
        let mut g = vec![0.0; model.parameter_count()];
        let loss = BatchGradient::new(threads)
            .unwrap()
            .mean_gradient(&model, &data, 0..n, Loss::Mse, &mut g)
            .unwrap();
        // A group's forward passes keep each sample's summation order: the same loss bits.
        assert_eq!(loss, scale * total, "{threads} threads");
        // A group goes through each layer as one batch (matrix products), which sums its
        // samples' gradients in another order than the sweeps above: they agree to rounding,
        // 1e-12 relative to the size of the summed terms (plain relative error means nothing
        // where they cancel). Every thread count gives the same bits.
        for (k, (a, e)) in g.iter().zip(&expected).enumerate() {
            assert!(
                (a - e).abs() <= 1e-12 * size[k],
                "{threads} threads, parameter {k}: {a} vs {e}"
            );
        }
        let first = first.get_or_insert_with(|| g.clone());
        let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(&g), bits(first), "{threads} threads vs 1");
    }
}

// ---- 9. predictions and schedules -----------------------------------------------------------

#[test]
fn predictions_and_forward_passes_reject_non_finite_inputs() {
    let model = Mlp::zeros(&[3, 2, 1], Activation::Tanh, ID).unwrap();
    for bad in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
        let x = [1.0, bad, 2.0];
        let expected = Error::NonFiniteInput {
            position: 1,
            value: bad,
        };
        assert_eq!(
            model.predict(&x).unwrap_err().to_string(),
            expected.to_string()
        );
        let tape = Tape::new();
        let err = model.bind(&tape).forward(&x).unwrap_err();
        assert!(
            matches!(err, Error::NonFiniteInput { position: 1, .. }),
            "{err}"
        );
        let xs = tape.vars(&x);
        let err = model.bind(&tape).forward_values(&xs).unwrap_err();
        assert!(
            matches!(err, Error::NonFiniteInput { position: 1, .. }),
            "{err}"
        );
        let neuron = Neuron::new(vec![1.0; 3], 0.0, ID);
        assert!(matches!(
            neuron.predict(&x),
            Err(Error::NonFiniteInput { position: 1, .. })
        ));
        let layer = model.layer(0).unwrap();
        assert!(matches!(
            layer.predict(&x),
            Err(Error::NonFiniteInput { position: 1, .. })
        ));
    }
    assert_eq!(
        model
            .predict(&[f64::MAX, f64::MIN_POSITIVE, -0.0])
            .map(|y| y.len()),
        Ok(1)
    );
}

#[test]
fn a_schedule_that_gives_nan_is_a_schedule_error_in_training() {
    let data = Dataset::new(&[[1.0], [2.0]], &[[1.0], [2.0]]).unwrap();
    let mut model = one_to_one();
    let mut sgd = Sgd::with_schedule(Schedule::from_fn(|t| if t == 1 { f64::NAN } else { 0.1 }));
    let mut trainer = Trainer::new(TrainConfig::default()).unwrap();
    let err = trainer
        .fit(&mut model, &mut sgd, &data, |_| {})
        .unwrap_err();
    assert!(
        matches!(err, Error::InvalidSchedule { step: 1, rate } if rate.is_nan()),
        "{err}"
    );
    assert!(err.to_string().contains("schedule"), "{err}");
}

// ---- 2. loading is bounded by the header ----------------------------------------------------

fn scratch(name: &str) -> std::path::PathBuf {
    let dir =
        std::env::temp_dir().join(format!("tapegrad-hardening-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A safetensors file of `header` (JSON, padded to 8 bytes) followed by `data_len` bytes that
/// are never written (a sparse file: no disk space, reads give zeros).
fn sparse_file(path: &std::path::Path, header: &str, data_len: u64) {
    use std::io::Write;
    let mut h = header.as_bytes().to_vec();
    h.resize(h.len().next_multiple_of(8), b' ');
    let mut f = std::fs::File::create(path).unwrap();
    f.write_all(&(h.len() as u64).to_le_bytes()).unwrap();
    f.write_all(&h).unwrap();
    f.set_len(8 + h.len() as u64 + data_len).unwrap();
}

#[test]
fn a_32_gb_pytorch_checkpoint_is_refused_from_its_header() {
    let dir = scratch("pt");
    let path = dir.join("checkpoint.safetensors");
    // 2^33 F32 values, 32 GiB, consistent with the header (it aborted allocating 32 GB).
    let n: u64 = 1 << 33;
    let header = format!(
        r#"{{"__metadata__":{{"format":"pt"}},"model.weight":{{"dtype":"F32","shape":[8,{}],"data_offsets":[0,{}]}}}}"#,
        n / 8,
        n * 4
    );
    sparse_file(&path, &header, n * 4);
    let err = Mlp::load(&path).unwrap_err();
    assert_eq!(
        err,
        Error::ModelFile(ModelFileError::Metadata(
            r#"format is "pt", expected "tapegrad.mlp""#.into()
        ))
    );
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn a_model_of_80000_layers_saves_and_loads() {
    // Loading was quadratic in the layers (80,000: 28 s); now linear.
    let model = Mlp::with_init(&vec![1; 80_001], Activation::Tanh, ID, |s| {
        0.5 + s.layer as f64 * 1e-6 + if s.is_bias() { 0.25 } else { 0.0 }
    })
    .unwrap();
    let bytes = model.to_safetensors().unwrap();
    assert_eq!(Mlp::from_safetensors(&bytes).unwrap(), model);
    let dir = scratch("deep");
    let path = dir.join("deep.safetensors");
    model.save(&path).unwrap();
    assert_eq!(Mlp::load(&path).unwrap(), model);
    std::fs::remove_dir_all(dir).unwrap();
}

/// A header for a 1-1 model with these tensor entries (and 16 data bytes: 1.0 and 2.0).
fn one_layer_file(entries: &str) -> Vec<u8> {
    let meta = r#""__metadata__":{"format":"tapegrad.mlp","format_version":"1","sizes":"1,1","activations":"identity"}"#;
    let mut h = format!("{{{meta},{entries}}}").into_bytes();
    h.resize(h.len().next_multiple_of(8), b' ');
    let mut bytes = (h.len() as u64).to_le_bytes().to_vec();
    bytes.extend_from_slice(&h);
    bytes.extend_from_slice(&1.0f64.to_le_bytes());
    bytes.extend_from_slice(&2.0f64.to_le_bytes());
    bytes
}

#[test]
fn tensor_names_are_read_exactly_and_once() {
    let w =
        |name: &str| format!(r#""{name}":{{"dtype":"F64","shape":[1,1],"data_offsets":[0,8]}}"#);
    let b = |name: &str| format!(r#""{name}":{{"dtype":"F64","shape":[1],"data_offsets":[8,16]}}"#);
    let good = one_layer_file(&format!("{},{}", w("layers.0.weight"), b("layers.0.bias")));
    assert_eq!(
        Mlp::from_safetensors(&good).unwrap().parameters(),
        &[1.0, 2.0]
    );
    // A name spelled another way is not layer 0's.
    for odd in [
        "layers.00.weight",
        "layers.+0.weight",
        "layers.0.weight.",
        "layers.0",
    ] {
        let bytes = one_layer_file(&format!("{},{}", w(odd), b("layers.0.bias")));
        let err = Mlp::from_safetensors(&bytes).unwrap_err();
        assert!(
            matches!(&err, Error::ModelFile(ModelFileError::MissingTensor { name }) if name == "layers.0.weight"),
            "{odd}: {err}"
        );
    }
    let bytes = one_layer_file(&format!(
        "{},{},{}",
        w("layers.0.weight"),
        b("layers.0.bias"),
        r#""layers.00.bias":{"dtype":"F64","shape":[0],"data_offsets":[16,16]}"#
    ));
    let err = Mlp::from_safetensors(&bytes).unwrap_err();
    assert_eq!(
        err,
        Error::ModelFile(ModelFileError::UnexpectedTensor {
            name: "layers.00.bias".into()
        })
    );
    // The same name twice (JSON allows it; a map would silently keep one).
    let bytes = one_layer_file(&format!(
        "{},{},{}",
        w("layers.0.weight"),
        b("layers.0.bias"),
        r#""layers.0.bias":{"dtype":"F64","shape":[0],"data_offsets":[16,16]}"#
    ));
    let err = Mlp::from_safetensors(&bytes).unwrap_err();
    assert!(
        matches!(&err, Error::ModelFile(ModelFileError::Format(m)) if m.contains("twice")),
        "{err}"
    );
    // __metadata__ twice.
    let bytes = one_layer_file(&format!(
        r#"{},{},"__metadata__":{{"format":"pt"}}"#,
        w("layers.0.weight"),
        b("layers.0.bias")
    ));
    let err = Mlp::from_safetensors(&bytes).unwrap_err();
    assert!(
        matches!(&err, Error::ModelFile(ModelFileError::Format(m)) if m.contains("twice")),
        "{err}"
    );
}

// ---- 5. what save writes, load reads --------------------------------------------------------

#[test]
fn a_model_with_no_inputs_saves_and_loads() {
    let model = Mlp::from(Neuron::new(vec![], 0.5, Activation::Tanh));
    assert_eq!(model.sizes(), [0, 1]);
    let bytes = model.to_safetensors().unwrap();
    let back = Mlp::from_safetensors(&bytes).unwrap();
    assert_eq!(back, model);
    assert_eq!(back.predict(&[]).unwrap(), [0.5f64.tanh()]);
    // Only the input size may be 0: a layer has at least one neuron.
    assert!(Mlp::zeros(&[1, 0], ID, ID).is_err());
}

#[test]
fn non_finite_parameters_are_refused_where_they_enter_and_where_they_are_saved() {
    let err = Mlp::from_parameters(&[1, 1], ID, ID, &[1.0, f64::NAN]).unwrap_err();
    assert!(
        matches!(err, Error::InvalidParameter { index: 1, .. }),
        "{err}"
    );
    let mut model = one_to_one();
    assert!(matches!(
        model.set_parameters(&[f64::INFINITY, 0.0]),
        Err(Error::InvalidParameter { index: 0, .. })
    ));
    assert_eq!(model, one_to_one());
    // Set behind the check's back: save refuses, naming the tensor, and writes nothing.
    let mut model = Mlp::zeros(&[2, 2, 1], Activation::Tanh, ID).unwrap();
    model.parameters_mut()[5] = f64::NAN; // layer 0, neuron 1, its bias
    let err = model.to_safetensors().unwrap_err();
    assert!(
        matches!(&err, Error::ModelFile(ModelFileError::NonFiniteWeight { name, position: 1, .. }) if name == "layers.0.bias"),
        "{err}"
    );
    model.parameters_mut()[5] = 0.0;
    model.parameters_mut()[7] = f64::NEG_INFINITY; // layer 1, neuron 0, weight 1
    let dir = scratch("nan-save");
    let path = dir.join("m.safetensors");
    let err = model.save(&path).unwrap_err();
    assert!(
        matches!(&err, Error::ModelFile(ModelFileError::NonFiniteWeight { name, position: 1, .. }) if name == "layers.1.weight"),
        "{err}"
    );
    assert!(
        std::fs::read_dir(&dir).unwrap().next().is_none(),
        "nothing written"
    );
    std::fs::remove_dir_all(dir).unwrap();
}

// ---- 6. save keeps what the user had --------------------------------------------------------

#[cfg(unix)]
fn mode(path: &std::path::Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o7777
}

#[cfg(unix)]
fn set_mode(path: &std::path::Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

/// Whether this process may write files whatever their permission bits (root): then the
/// operating system lets it write a 0444 file, and so does `save`.
#[cfg(unix)]
fn writes_read_only_files(dir: &std::path::Path) -> bool {
    let probe = dir.join("probe");
    std::fs::write(&probe, b"").unwrap();
    set_mode(&probe, 0o444);
    let can = std::fs::OpenOptions::new().write(true).open(&probe).is_ok();
    std::fs::remove_file(&probe).unwrap();
    can
}

#[cfg(unix)]
#[test]
fn saving_keeps_the_old_files_permissions() {
    let dir = scratch("modes");
    let model = one_to_one();
    for old_mode in [0o600, 0o640, 0o604, 0o755] {
        let path = dir.join(format!("m{old_mode:o}.safetensors"));
        std::fs::write(&path, b"old").unwrap();
        set_mode(&path, old_mode);
        model.save(&path).unwrap();
        assert_eq!(mode(&path), old_mode, "{old_mode:o}");
        assert_eq!(Mlp::load(&path).unwrap(), model);
    }
    // A symbolic link stays a link; its target is replaced and keeps its mode.
    let target = dir.join("target.safetensors");
    std::fs::write(&target, b"old").unwrap();
    set_mode(&target, 0o600);
    let link = dir.join("link.safetensors");
    std::os::unix::fs::symlink(&target, &link).unwrap();
    model.save(&link).unwrap();
    assert!(std::fs::symlink_metadata(&link)
        .unwrap()
        .file_type()
        .is_symlink());
    assert_eq!(mode(&target), 0o600);
    assert_eq!(Mlp::load(&target).unwrap(), model);
    std::fs::remove_dir_all(dir).unwrap();
}

/// The body of [`a_read_only_file_is_not_replaced`], for a user the permission bits bind.
#[cfg(unix)]
fn read_only_file_is_refused(dir: &std::path::Path) {
    let path = dir.join("read-only.safetensors");
    std::fs::write(&path, b"precious").unwrap();
    set_mode(&path, 0o444);
    let err = one_to_one().save(&path).unwrap_err();
    assert!(
        matches!(&err, Error::ModelFile(ModelFileError::Io(e))
            if e.action() == "write" && e.path().ends_with("read-only.safetensors")),
        "{err}"
    );
    assert_eq!(std::fs::read(&path).unwrap(), b"precious");
    assert_eq!(mode(&path), 0o444);
    let names: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names.len(), 1, "no temporary file left: {names:?}");
}

#[cfg(unix)]
#[test]
fn a_read_only_file_is_not_replaced() {
    // Re-run as an unprivileged user: the child's half of this test.
    if let Some(dir) = std::env::var_os("TAPEGRAD_READ_ONLY_DIR") {
        read_only_file_is_refused(std::path::Path::new(&dir));
        return;
    }
    let dir = scratch("read-only");
    if !writes_read_only_files(&dir) {
        read_only_file_is_refused(&dir);
        std::fs::remove_dir_all(dir).unwrap();
        return;
    }
    // Root: the operating system lets it write a 0444 file, so save may replace one, keeping
    // its mode...
    let path = dir.join("root.safetensors");
    std::fs::write(&path, b"old").unwrap();
    set_mode(&path, 0o444);
    one_to_one().save(&path).unwrap();
    assert_eq!(mode(&path), 0o444);
    std::fs::remove_file(&path).unwrap();
    // ...and the refusal is checked as user nobody, this test run again under setpriv (from
    // a copy of the test binary that nobody may run, wherever the build directory is).
    set_mode(&dir, 0o777);
    let bin = scratch("read-only-bin");
    set_mode(&bin, 0o755);
    let exe = bin.join("hardening");
    std::fs::copy(std::env::current_exe().unwrap(), &exe).unwrap();
    set_mode(&exe, 0o755);
    let run = std::process::Command::new("setpriv")
        .args(["--reuid=65534", "--regid=65534", "--clear-groups", "--"])
        .arg(&exe)
        .args(["--exact", "a_read_only_file_is_not_replaced", "--nocapture"])
        .env("TAPEGRAD_READ_ONLY_DIR", &dir)
        .output();
    match run {
        Ok(out) => {
            let text = String::from_utf8_lossy(&out.stdout);
            assert!(
                out.status.success(),
                "as nobody: {text}{}",
                String::from_utf8_lossy(&out.stderr)
            );
            assert!(text.contains("1 passed"), "as nobody: {text}");
            println!("running as root: the refusal was checked as user nobody (setpriv)");
        }
        // Not a silent pass: without setpriv the refusal cannot be checked as root, and a
        // passing test would claim it was.
        Err(e) => panic!(
            "running as root, the refusal half needs setpriv (util-linux) to run as nobody, \
             and it cannot run ({e}); install util-linux or run the tests as a user"
        ),
    }
    std::fs::remove_dir_all(dir).unwrap();
    std::fs::remove_dir_all(bin).unwrap();
}

/// Leaves cost a tape almost nothing (a run of them is one record), so binding a large model
/// again and again without `clear` reaches the tape's 2^32 - 2 nodes with little memory: the
/// next node panics with the documented message, not an index wrap or an abort.
#[test]
fn a_full_tape_panics_with_its_limit() {
    let model = Mlp::zeros(
        &[1 << 12, 1 << 8],
        Activation::Identity,
        Activation::Identity,
    )
    .unwrap();
    let tape = Tape::new();
    let binds = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        for _ in 0..5000 {
            let _ = model.bind(&tape);
        }
    }));
    let payload = binds.expect_err("5000 binds of 2^20 parameters exceed 2^32 - 2 nodes");
    let message = payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap();
    assert_eq!(message, "tapegrad: tape is full (at most 2^32 - 2 nodes)");
    assert!(
        tape.len() <= (u32::MAX - 1) as usize,
        "{} nodes",
        tape.len()
    );
    assert!(
        tape.len() > (u32::MAX as usize) - (1 << 21),
        "{} nodes",
        tape.len()
    );
}

/// A neuron index whose offset overflows is no neuron (it wrapped to neuron 0 in release).
#[test]
fn a_huge_neuron_index_is_none() {
    let layer = tapegrad::Layer::new(vec![Neuron::new(vec![7.0], 1.0, Activation::Relu)]).unwrap();
    for j in [1, usize::MAX / 2 + 1, usize::MAX] {
        assert_eq!(layer.neuron(j), None, "neuron {j}");
    }
}

/// `Dataset::input` and `target` panic as documented past the last sample, with the index in
/// the message, also for rows of no values (which index any `i`) and for `usize::MAX`.
#[test]
fn a_sample_past_the_end_panics_with_its_index() {
    let empty_targets: [Vec<f64>; 1] = [Vec::new()];
    let data = Dataset::new(&[vec![1.0]], &empty_targets).unwrap();
    for i in [1, usize::MAX] {
        for which in ["input", "target"] {
            let result = std::panic::catch_unwind(|| {
                if which == "input" {
                    data.input(i).len()
                } else {
                    data.target(i).len()
                }
            });
            let payload = result.expect_err("past the end");
            let message = payload.downcast_ref::<String>().unwrap();
            assert_eq!(
                message,
                &format!("tapegrad: sample {i} of a dataset of 1 samples")
            );
        }
    }
    assert_eq!(data.target(0), &[] as &[f64]);
}

/// A class index out of range is reported as given, not rounded through f64.
#[test]
fn a_huge_class_index_is_reported_exactly() {
    let tape = Tape::new();
    let logits = tape.vars(&[0.5, -0.5]);
    let err = tapegrad::cross_entropy(&logits, usize::MAX).unwrap_err();
    let message = err.to_string();
    assert!(message.contains(&format!("[{}]", usize::MAX)), "{message}");
    assert!(
        matches!(err, Error::ClassTarget { classes: 2, .. }),
        "{err:?}"
    );
}
