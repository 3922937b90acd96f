//! Tapegrad against backprop written by hand, on the fixed workloads of `benches/WORKLOADS.md`.
//!
//! ```text
//! cargo bench --bench workloads              # check every result, then time (a few minutes)
//! cargo bench --bench workloads -- --check   # only check results against the references
//! cargo bench --bench workloads -- --quick   # check, then a short timing run
//! ```
//!
//! Before timing anything, every implementation is run once and its final loss compared with
//! the reference in `benches/WORKLOADS.md` (1e-9 relative; W4 has none, so its tape and hand
//! versions must agree to 1e-9, and the threaded versions must agree bit for bit). Then each tapegrad run is
//! timed alternately with its hand-written twin, pair by pair, from the same initial weights.

mod common;

use common::data::*;
use common::{by_hand, micrograd_style, with_tape, Outcome, Workload};
use std::hint::black_box;
use std::time::{Duration, Instant};
use tapegrad::{Gradients, Tape, Value};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let check_only = args.iter().any(|a| a == "--check");
    let quick = args.iter().any(|a| a == "--quick");
    // `cargo bench` passes `--bench`; anything else we ignore.
    if let Some(k) = args.iter().position(|a| a == "--micrograd") {
        // For callgrind: N iterations of micrograd's README expression, `cleared` (one tape,
        // cleared each time, backward_into one buffer) or `new` (Tape::new and y.backward()).
        let reps: usize = args.get(k + 2).and_then(|r| r.parse().ok()).unwrap_or(1);
        let new = args.get(k + 1).is_some_and(|m| m == "new");
        let (mut tape, mut grads) = (Tape::new(), Gradients::new());
        let mut sum = 0.0;
        for _ in 0..reps {
            let (g, ..) = if new {
                micrograd_style::micrograd_expression_new_tape()
            } else {
                tape.clear();
                micrograd_style::micrograd_expression(&tape, &mut grads)
            };
            sum += black_box(g);
        }
        println!("{reps} iterations, sum {sum}");
        return;
    }
    if args.iter().any(|a| a == "--naive") {
        // Only the W3-naive rows (the general path), for quick before/after comparisons.
        print_header();
        naive_rows(Duration::from_millis(if quick { 300 } else { 3000 }));
        return;
    }
    if args.iter().any(|a| a == "--hvp") {
        // Only the Hessian-vector product rows.
        hvp_rows(Duration::from_millis(if quick { 300 } else { 3000 }));
        return;
    }
    if let Some(k) = args.iter().position(|a| a == "--profile") {
        // For perf / callgrind: run one implementation, untimed, e.g. `--profile w3-tape`.
        let reps = args.get(k + 2).and_then(|r| r.parse().ok()).unwrap_or(1);
        for _ in 0..reps {
            profile(args.get(k + 1).map_or("", String::as_str));
        }
        return;
    }
    println!(
        "tapegrad workloads bench (benches/WORKLOADS.md); {} threads available",
        threads_available()
    );
    if !check() {
        eprintln!("FAILED: a workload does not reproduce its reference result");
        std::process::exit(1);
    }
    if check_only {
        println!("\ncheck ok (timing skipped: --check)");
        return;
    }
    let budget = Duration::from_millis(if quick { 300 } else { 3000 });
    timing_table(budget);
    scaling(if quick { 5 } else { 7 });
    hvp_rows(budget);
}

fn threads_available() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

fn profile(which: &str) {
    match which {
        "w1-tape" => with_tape::W1::new().train(),
        "w1-hand" => by_hand::W1::new().train(),
        "w2-tape" => with_tape::W2::new().train(),
        "w2-hand" => by_hand::W2::new().train(),
        "w3-tape" => with_tape::Wide3::new(1).train(),
        "w3-hand" => by_hand::Wide3::new(1).train(),
        "w4-tape" => with_tape::Wide3::new(W4_BATCH).train(),
        "w4-hand" => by_hand::Wide3::new(W4_BATCH).train(),
        "w4-x1" => with_tape::W4Parallel::new(1).train(),
        "w4-x2" => with_tape::W4Parallel::new(2).train(),
        "w3-naive-new" => micrograd_style::W3Naive::new(true).train(),
        "w3-naive-reused" => micrograd_style::W3Naive::new(false).train(),
        "graph" => {
            let (mut tape, mut grads) = (Tape::new(), Gradients::new());
            random_graph(&mut tape, 1_000_000, 1, &mut grads);
        }
        _ => {
            eprintln!("--profile takes w1..w4-tape, w1..w4-hand, w4-x1, w4-x2, w3-naive-new or w3-naive-reused");
            std::process::exit(2);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Correctness first.
// ---------------------------------------------------------------------------------------------

struct Checker {
    ok: bool,
}

impl Checker {
    fn close(&mut self, what: &str, found: f64, expected: f64, tolerance: f64) {
        let err = relative_error(found, expected);
        let pass = err <= tolerance;
        self.ok &= pass;
        println!(
            "  {:<44} {found:<22e} vs {expected:<22e} rel err {err:.1e} {}",
            what,
            if pass { "ok" } else { "FAIL" }
        );
    }

    fn equal(&mut self, what: &str, found: &[f64], expected: &[f64]) {
        let same = found.len() == expected.len()
            && found
                .iter()
                .zip(expected)
                .all(|(a, b)| a.to_bits() == b.to_bits());
        self.ok &= same;
        println!(
            "  {what:<44} {} parameters {}",
            found.len(),
            if same {
                "bit-identical ok"
            } else {
                "DIFFER: FAIL"
            }
        );
    }
}

fn check_outcome(c: &mut Checker, name: &str, o: &Outcome, loss: f64, accuracy: Option<f64>) {
    c.close(&format!("{name} final loss"), o.loss, loss, 1e-9);
    if let (Some(found), Some(expected)) = (o.accuracy, accuracy) {
        c.close(&format!("{name} accuracy"), found, expected, 0.0);
    }
}

fn check() -> bool {
    println!("\ncorrectness (against the references of benches/WORKLOADS.md, before timing):");
    let mut c = Checker { ok: true };

    let mut t1 = with_tape::W1::new();
    t1.train();
    let mut h1 = by_hand::W1::new();
    h1.train();
    for (name, o) in [("W1 tapegrad", t1.outcome()), ("W1 by hand", h1.outcome())] {
        check_outcome(&mut c, name, &o, W1_MSE, None);
        c.close(&format!("{name} Emily"), o.predictions[0], W1_EMILY, 1e-9);
        c.close(&format!("{name} Frank"), o.predictions[1], W1_FRANK, 1e-9);
    }

    let mut t2 = with_tape::W2::new();
    t2.train();
    let mut h2 = by_hand::W2::new();
    h2.train();
    check_outcome(
        &mut c,
        "W2 tapegrad",
        &t2.outcome(),
        W2_LOSS,
        Some(W2_ACCURACY),
    );
    check_outcome(
        &mut c,
        "W2 by hand",
        &h2.outcome(),
        W2_LOSS,
        Some(W2_ACCURACY),
    );

    let mut t3 = with_tape::Wide3::new(1);
    t3.train();
    let mut h3 = by_hand::Wide3::new(1);
    h3.train();
    check_outcome(
        &mut c,
        "W3 tapegrad",
        &t3.outcome(),
        W3_MSE,
        Some(W3_ACCURACY),
    );
    check_outcome(
        &mut c,
        "W3 by hand",
        &h3.outcome(),
        W3_MSE,
        Some(W3_ACCURACY),
    );

    for new_tape in [true, false] {
        let mut n3 = micrograd_style::W3Naive::new(new_tape);
        n3.train();
        let name = format!("W3 micrograd-style (new tape per sample: {new_tape})");
        check_outcome(&mut c, &name, &n3.outcome(), W3_MSE, Some(W3_ACCURACY));
    }
    // micrograd's README prints g = 24.7041, dg/da = 138.8338, dg/db = 645.5773.
    let (mut tape, mut grads) = (Tape::new(), Gradients::new());
    for (name, (g, da, db)) in [
        (
            "cleared tape",
            micrograd_style::micrograd_expression(&tape, &mut grads),
        ),
        ("new tape", micrograd_style::micrograd_expression_new_tape()),
    ] {
        c.close(
            &format!("micrograd expression g ({name})"),
            g,
            24.7041,
            5e-5 / 24.7041,
        );
        c.close(
            &format!("micrograd expression dg/da ({name})"),
            da,
            138.8338,
            5e-5 / 138.8338,
        );
        c.close(
            &format!("micrograd expression dg/db ({name})"),
            db,
            645.5773,
            5e-5 / 645.5773,
        );
    }
    tape.clear();

    let mut h4 = by_hand::Wide3::new(W4_BATCH);
    h4.train();
    let h4 = h4.outcome();
    let mut t4 = with_tape::Wide3::new(W4_BATCH);
    t4.train();
    let t4 = t4.outcome();
    println!("  (W4 has no reference: the hand-written result is the oracle)");
    check_outcome(&mut c, "W4 tapegrad Trainer", &t4, h4.loss, h4.accuracy);
    let mut parallel = Vec::new();
    for threads in [1, 2, 3] {
        let mut p = with_tape::W4Parallel::new(threads);
        p.train();
        let o = p.outcome();
        check_outcome(
            &mut c,
            &format!("W4 tapegrad BatchGradient x{threads}"),
            &o,
            h4.loss,
            h4.accuracy,
        );
        parallel.push(o);
    }
    for (k, o) in parallel.iter().enumerate().skip(1) {
        c.equal(
            &format!("W4 BatchGradient x{} vs x1", k + 1),
            &o.parameters,
            &parallel[0].parameters,
        );
    }
    c.ok
}

// ---------------------------------------------------------------------------------------------
// Timing.
// ---------------------------------------------------------------------------------------------

/// User + system CPU time of this process, all threads (Linux; 0 elsewhere). Clock ticks of
/// 10 ms: only meaningful summed over many runs.
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
    let rest = stat.rsplit(')').next().unwrap_or("");
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |k: usize| {
        fields
            .get(k)
            .and_then(|f| f.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    (ticks(11) + ticks(12)) / 100.0
}

fn time(f: impl FnOnce()) -> Duration {
    let start = Instant::now();
    f();
    start.elapsed()
}

fn median(xs: &mut [f64]) -> f64 {
    xs.sort_by(f64::total_cmp);
    let n = xs.len();
    if n % 2 == 1 {
        xs[n / 2]
    } else {
        (xs[n / 2 - 1] + xs[n / 2]) / 2.0
    }
}

/// Times `a` and `b` alternately, `a` first then `b` first, until `budget` is spent (at least 5
/// pairs); returns the median time of each and the median of the per-pair ratios a / b.
fn pairs(
    budget: Duration,
    mut a: impl FnMut() -> Duration,
    mut b: impl FnMut() -> Duration,
) -> (f64, f64, f64, usize) {
    let (mut ta, mut tb, mut ratio) = (Vec::new(), Vec::new(), Vec::new());
    // Warm up both once.
    a();
    b();
    let start = Instant::now();
    while ta.len() < 5 || (start.elapsed() < budget && ta.len() < 201) {
        let (x, y) = if ta.len() % 2 == 0 {
            let x = a();
            (x, b())
        } else {
            let y = b();
            (a(), y)
        };
        let (x, y) = (x.as_secs_f64(), y.as_secs_f64());
        ta.push(x);
        tb.push(y);
        ratio.push(x / y);
    }
    let n = ta.len();
    (median(&mut ta), median(&mut tb), median(&mut ratio), n)
}

/// Times tapegrad's run `t` against the hand-written `h` in alternating pairs, each run from its
/// initial weights; see [`pairs`].
fn time_pair(
    budget: Duration,
    t: &mut impl Workload,
    h: &mut impl Workload,
) -> (f64, f64, f64, usize) {
    pairs(
        budget,
        || {
            t.reset();
            time(|| t.train())
        },
        || {
            h.reset();
            time(|| {
                h.train();
                black_box(&*h);
            })
        },
    )
}

/// What one unit of work records on a tape.
struct TapeStats {
    nodes: usize,
    edges: usize,
    /// Bytes the recording uses (`Tape::bytes_used`).
    bytes: usize,
    peak_bytes: usize,
}

impl TapeStats {
    fn of(tape: &Tape) -> Self {
        TapeStats {
            nodes: tape.len(),
            edges: tape.edge_count(),
            bytes: tape.bytes_used(),
            peak_bytes: tape.memory_bytes(),
        }
    }

    /// Bytes the recording uses per node.
    fn bytes_per_node(&self) -> f64 {
        self.bytes as f64 / self.nodes as f64
    }
}

struct Row {
    name: &'static str,
    unit: &'static str,
    tape: f64,
    hand: f64,
    ratio: f64,
    pairs: usize,
    /// Nodes and edges per unit (a unit may hold several steps' recordings).
    nodes: usize,
    edges: usize,
    /// benches/WORKLOADS.md's canonical nodes per unit (elementary ops; leaves not counted).
    canon: usize,
    stats: TapeStats,
}

/// The W3-naive rows: W3 written micrograd-style (the general path), with a new tape per sample
/// or one reused, each beside the hand-written W3.
fn naive_rows(budget: Duration) {
    // W3 written micrograd-style (the general path): a new tape per sample, or one reused.
    for (name, new_tape) in [
        ("W3 naive (new tape)", true),
        ("W3 naive (reused tape)", false),
    ] {
        let (mut t, mut h) = (
            micrograd_style::W3Naive::new(new_tape),
            by_hand::Wide3::new(1),
        );
        let (tt, th, ratio, n) = time_pair(budget, &mut t, &mut h);
        let per = (W3_EPOCHS * 256) as f64;
        let tape = Tape::new();
        t.step(&tape, 0);
        let stats = TapeStats::of(&tape);
        print_row(&Row {
            name,
            unit: "sample",
            tape: tt / per,
            hand: th / per,
            ratio,
            pairs: n,
            nodes: stats.nodes,
            edges: stats.edges,
            canon: 6878,
            stats,
        });
    }
}

fn print_row(r: &Row) {
    println!(
        "| {:<28} | {:<6} | {:>10} | {:>10} | {:>5.2}x | {:>8} | {:>8} | {:>6.1} | {:>7.1} | {:>9} | {:>5} |",
        r.name,
        r.unit,
        fmt_time(r.tape),
        fmt_time(r.hand),
        r.ratio,
        r.nodes,
        r.edges,
        r.stats.bytes_per_node(),
        r.stats.bytes_per_node() * r.nodes as f64 / r.canon as f64,
        fmt_bytes(r.stats.peak_bytes),
        r.pairs,
    );
}

fn fmt_time(s: f64) -> String {
    if s >= 1e-3 {
        format!("{:.3} ms", s * 1e3)
    } else if s >= 1e-6 {
        format!("{:.2} us", s * 1e6)
    } else {
        format!("{:.1} ns", s * 1e9)
    }
}

fn fmt_bytes(b: usize) -> String {
    if b >= 1 << 20 {
        format!("{:.1} MiB", b as f64 / (1 << 20) as f64)
    } else if b >= 1 << 10 {
        format!("{:.1} KiB", b as f64 / 1024.0)
    } else {
        format!("{b} B")
    }
}

/// W4's canonical nodes per step: 32 samples of W3's 6878, then the mean (31 adds, 1 scale).
const W4_CANON: usize = 32 * 6878 + 32;
/// `BatchGradient` records W4's batch as fixed groups of this many samples, one tape each.
const W4_GROUP: usize = 8;

fn print_header() {
    println!("\ntiming: median over alternating pairs of full training runs (each from the initial weights)");
    println!("| workload                     | unit   |   tapegrad |    by hand | ratio  | nodes/u  | edges/u  | B/node | B/canon | peak tape | pairs |");
    println!("|------------------------------|--------|------------|------------|--------|----------|----------|--------|---------|-----------|-------|");
}

fn timing_table(budget: Duration) {
    print_header();

    // W1: per epoch (4 SGD steps); the tape holds one step at a time.
    let (mut t, mut h) = (with_tape::W1::new(), by_hand::W1::new());
    let (tt, th, ratio, n) = time_pair(budget, &mut t, &mut h);
    let tape = Tape::new();
    t.record_step(&tape);
    let stats = TapeStats::of(&tape);
    let per = W1_EPOCHS as f64;
    print_row(&Row {
        name: "W1 gender (Trainer)",
        unit: "epoch",
        tape: tt / per,
        hand: th / per,
        ratio,
        pairs: n,
        nodes: 4 * stats.nodes,
        edges: 4 * stats.edges,
        canon: 68,
        stats,
    });

    // W2: per full-batch step.
    let (mut t, mut h) = (with_tape::W2::new(), by_hand::W2::new());
    let (tt, th, ratio, n) = time_pair(budget, &mut t, &mut h);
    let (peak_bytes, nodes, edges, bytes) = t.stats;
    let per = W2_STEPS as f64;
    print_row(&Row {
        name: "W2 moons (hinge + l2)",
        unit: "step",
        tape: tt / per,
        hand: th / per,
        ratio,
        pairs: n,
        nodes,
        edges,
        canon: 65075,
        stats: TapeStats {
            nodes,
            edges,
            bytes,
            peak_bytes,
        },
    });

    // W3: per sample (= per SGD step).
    let (mut t, mut h) = (with_tape::Wide3::new(1), by_hand::Wide3::new(1));
    let (tt, th, ratio, n) = time_pair(budget, &mut t, &mut h);
    let tape = Tape::new();
    t.record_step(&tape, 1);
    let stats = TapeStats::of(&tape);
    let per = (W3_EPOCHS * 256) as f64;
    print_row(&Row {
        name: "W3 wide (Trainer)",
        unit: "sample",
        tape: tt / per,
        hand: th / per,
        ratio,
        pairs: n,
        nodes: stats.nodes,
        edges: stats.edges,
        canon: 6878,
        stats,
    });

    naive_rows(budget);

    // W4: per mini-batch step of 32 samples.
    let steps = (W4_EPOCHS * 256 / W4_BATCH) as f64;
    let mut h = by_hand::Wide3::new(W4_BATCH);
    let mut t = with_tape::Wide3::new(W4_BATCH);
    let (tt, th, ratio, n) = time_pair(budget, &mut t, &mut h);
    let tape = Tape::new();
    t.record_step(&tape, W4_BATCH);
    let stats = TapeStats::of(&tape);
    print_row(&Row {
        name: "W4 batch (Trainer)",
        unit: "step",
        tape: tt / steps,
        hand: th / steps,
        ratio,
        pairs: n,
        nodes: stats.nodes,
        edges: stats.edges,
        canon: W4_CANON,
        stats,
    });

    let mut one = with_tape::W4Parallel::new(1);
    let mut two = with_tape::W4Parallel::new(2);
    // Each group of W4_GROUP samples is one recording: bind + the group's samples + losses.
    let tape = Tape::new();
    t.record_step(&tape, W4_GROUP);
    let group = TapeStats::of(&tape);
    let groups = W4_BATCH / W4_GROUP;
    for (name, p) in [
        ("W4 batch (BatchGradient x1)", &mut one),
        ("W4 batch (BatchGradient x2)", &mut two),
    ] {
        let (tt, th, ratio, n) = time_pair(budget, p, &mut h);
        let stats = TapeStats { ..group };
        print_row(&Row {
            name,
            unit: "step",
            tape: tt / steps,
            hand: th / steps,
            ratio,
            pairs: n,
            nodes: groups * stats.nodes,
            edges: groups * stats.edges,
            canon: W4_CANON,
            stats,
        });
    }
    // CPU time (all threads) beside wall time: on a busy machine the wall-clock speedup says
    // more about the neighbours than about the code; the CPU time per step says how much work
    // the second thread adds (2 x cpu(1) / cpu(2) bounds the speedup on two idle cores).
    let (mut cpu1, mut cpu2) = (0.0, 0.0);
    let (t1, t2, speedup, n) = pairs(
        budget,
        || {
            one.reset();
            let c = cpu_seconds();
            let t = time(|| one.train());
            cpu1 += cpu_seconds() - c;
            t
        },
        || {
            two.reset();
            let c = cpu_seconds();
            let t = time(|| two.train());
            cpu2 += cpu_seconds() - c;
            t
        },
    );
    let runs = (n + 1) as f64; // `pairs` also runs each once to warm up
    println!(
        "\nW4 data-parallel: 1 thread {} per step, 2 threads {} per step: speedup {speedup:.2}x \
         (median of {n} alternating pairs; parameters bit-identical, checked above)\n\
         CPU time per step (all threads, /proc/self/stat): 1 thread {}, 2 threads {} \
         (work added by the second thread: {:+.0}%)",
        fmt_time(t1 / steps),
        fmt_time(t2 / steps),
        fmt_time(cpu1 / runs / steps),
        fmt_time(cpu2 / runs / steps),
        100.0 * (cpu2 / cpu1 - 1.0),
    );
    println!(
        "units: W1 epoch = 4 SGD steps; W2 step = 100 samples; W3 sample = 1 SGD step; \
         W4 step = 32 samples. nodes/edges per unit include parameter leaves; \
         edges count the parent links a fused dense layer stands for (bias, weight and input \
         of each neuron) as well as stored ones; B/node = bytes the recording uses \
         (Tape::bytes_used) per node; B/canon = the same bytes per canonical node \
         (elementary op, benches/WORKLOADS.md); peak tape = the tape's allocated bytes."
    );
}

// ---------------------------------------------------------------------------------------------
// Scaling: random graphs of 10^3 .. 10^max nodes.
// ---------------------------------------------------------------------------------------------

/// How far back a random graph's second parent may lie. Real graphs have locality; uniformly
/// random parents over 10^7 nodes would measure the memory system's random-access latency
/// (about 200 ns a node here, mostly in the bench's own lookup of the parent's `Value`).
const WINDOW: usize = 4096;

/// Records a random graph of `n` nodes: 16 leaves, then node i = op(node i-1, a random node among
/// the previous `WINDOW`) with op one of add, sub, mul (binary) or tanh (unary), so every node
/// reaches the output; then one reverse sweep. Returns (record seconds, backward seconds, tape
/// bytes used).
fn random_graph(tape: &mut Tape, n: usize, seed: u64, grads: &mut Gradients) -> (f64, f64, usize) {
    tape.clear();
    let mut rng = common::splitmix::SplitMix64::new(seed);
    let picks: Vec<(u32, u64)> = (0..n)
        .map(|i| {
            let r = rng.next_u64();
            // The second parent: one of the previous `WINDOW` nodes, uniformly.
            let back = (r >> 32) as usize % i.clamp(1, WINDOW);
            ((i.max(1) - 1 - back) as u32, r & 7)
        })
        .collect();
    let leaves: Vec<f64> = (0..16).map(|_| rng.uniform(-1.0, 1.0)).collect();
    let tape = &*tape;
    let start = Instant::now();
    let mut values: Vec<Value> = Vec::with_capacity(n);
    values.extend(tape.vars(&leaves));
    for &(j, op) in &picks[16..] {
        let (a, b) = (values[values.len() - 1], values[j as usize]);
        values.push(match op {
            0..=2 => a + b,
            3..=4 => a * b,
            5 => a - b,
            _ => a.tanh(),
        });
    }
    let record = start.elapsed().as_secs_f64();
    let out = values[n - 1];
    let start = Instant::now();
    out.backward_into(grads);
    let backward = start.elapsed().as_secs_f64();
    black_box(grads.as_slice()[0]);
    assert_eq!(tape.len(), n);
    (record, backward, tape.bytes_used())
}

fn scaling(max_exp: u32) {
    println!(
        "\nscaling: random graphs (record + backward), time per node, median of runs; 3/4 of the \
         nodes binary (add, sub, mul), 1/4 tanh; every elementary node is 24 B of tape"
    );
    println!("| nodes      | record/node | backward/node | total/node | B/node | runs |");
    println!("|------------|-------------|---------------|------------|--------|------|");
    let mut tape = Tape::new();
    let mut grads = Gradients::new();
    for e in 3..=max_exp {
        let n = 10usize.pow(e);
        let runs = (10_000_000 / n).clamp(3, 31);
        let (mut rec, mut back, mut tot) = (Vec::new(), Vec::new(), Vec::new());
        let mut bytes = 0;
        for run in 0..runs {
            let (r, b, used) = random_graph(&mut tape, n, run as u64, &mut grads);
            rec.push(r / n as f64);
            back.push(b / n as f64);
            tot.push((r + b) / n as f64);
            bytes = used;
        }
        println!(
            "| {:<10} | {:>11} | {:>13} | {:>10} | {:>6.1} | {:>4} |",
            n,
            fmt_time(median(&mut rec)),
            fmt_time(median(&mut back)),
            fmt_time(median(&mut tot)),
            bytes as f64 / n as f64,
            runs
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Second derivatives: one Hessian-vector product against one gradient.
// ---------------------------------------------------------------------------------------------

/// W3's network (64-32-32-10, tanh hidden, linear output) and loss on sample 0 as a function of
/// its 3466 parameters, from scalar ops (`Tape::dot` per neuron), so `Value::grad` can
/// differentiate it twice.
fn w3_scalar_loss<'t>(p: &[Value<'t>], x: &[f64], t: &[f64]) -> Value<'t> {
    let tape = p[0].tape();
    let mut at = 0;
    let mut layer_input: Vec<Value<'t>> = Vec::new();
    for (l, w) in W3_SIZES.windows(2).enumerate() {
        let (nin, nout) = (w[0], w[1]);
        let out: Vec<Value<'t>> = (0..nout)
            .map(|_| {
                let row = &p[at..at + nin];
                let z = if l == 0 {
                    tape.dot(row, x)
                } else {
                    tape.dot(row, &layer_input)
                } + p[at + nin];
                at += nin + 1;
                if l + 2 < W3_SIZES.len() {
                    z.tanh()
                } else {
                    z
                }
            })
            .collect();
        layer_input = out;
    }
    let squares: Vec<Value<'t>> = layer_input
        .iter()
        .zip(t)
        .map(|(&o, &tk)| (o - tk).square())
        .collect();
    tape.sum(&squares) * 0.1
}

/// The random graph of `random_graph` (seed 7) on the 16 leaves `xs`, `n` nodes in all.
fn random_graph_on<'t>(xs: &[Value<'t>], n: usize) -> Value<'t> {
    let mut rng = common::splitmix::SplitMix64::new(7);
    let mut values: Vec<Value<'t>> = xs.to_vec();
    for i in xs.len()..n {
        let r = rng.next_u64();
        let back = (r >> 32) as usize % i.clamp(1, WINDOW);
        let (a, b) = (values[i - 1], values[i - 1 - back]);
        values.push(match r & 7 {
            0..=2 => a + b,
            3..=4 => a * b,
            5 => a - b,
            _ => a.tanh(),
        });
    }
    values[n - 1]
}

/// Median seconds of `f` over repeated runs within `budget` (at least 5).
fn median_time(budget: Duration, mut f: impl FnMut()) -> f64 {
    let mut times = Vec::new();
    let start = Instant::now();
    while times.len() < 5 || (start.elapsed() < budget && times.len() < 1001) {
        times.push(time(&mut f).as_secs_f64());
    }
    median(&mut times)
}

/// One gradient (record on an ordinary tape + one reverse sweep) against one Hessian-vector
/// product (record on a traced tape, `Value::grad`, a dot with the direction, one reverse
/// sweep), for W3's network and for random graphs as in the scaling rows.
fn hvp_rows(budget: Duration) {
    println!(
        "\nsecond derivatives: one Hessian-vector product vs one gradient (median times; \
         hvp = traced recording + Value::grad + dot with v + backward)"
    );
    println!("| function                          | inputs | gradient   | traced grad | Value::grad | hvp        | hvp / gradient |");
    println!("|-----------------------------------|--------|------------|-------------|-------------|------------|----------------|");
    let row = |name: &str, inputs: usize, [grad, traced, value_grad, hvp]: [f64; 4]| {
        println!(
            "| {name:<33} | {inputs:>6} | {:>10} | {:>11} | {:>11} | {:>10} | {:>13.2}x |",
            fmt_time(grad),
            fmt_time(traced),
            fmt_time(value_grad),
            fmt_time(hvp),
            hvp / grad
        );
    };
    let data = w3_data();
    let (x, t) = (&data.inputs[0], &data.targets[0]);
    let params = w3_parameters();
    let v: Vec<f64> = (0..params.len())
        .map(|k| ((k % 7) as f64 - 3.0) / 3.0)
        .collect();
    let grad = median_time(budget, || {
        let tape = Tape::new();
        let p = tape.vars(&params);
        black_box(w3_scalar_loss(&p, x, t).backward().as_slice()[0]);
    });
    let traced = median_time(budget, || {
        let tape = Tape::traced();
        let p = tape.vars(&params);
        black_box(w3_scalar_loss(&p, x, t).backward().as_slice()[0]);
    });
    let value_grad = median_time(budget, || {
        let tape = Tape::traced();
        let p = tape.vars(&params);
        black_box(w3_scalar_loss(&p, x, t).grad(&p).unwrap()[0].value());
    });
    let hvp = median_time(budget, || {
        black_box(tapegrad::hvp(|p| w3_scalar_loss(p, x, t), &params, &v).unwrap()[0]);
    });
    row(
        "W3 network, sample 0 (scalar ops)",
        params.len(),
        [grad, traced, value_grad, hvp],
    );
    for n in [10_000usize, 100_000] {
        let leaves: Vec<f64> = (0..16).map(|k| (k as f64 - 7.5) / 16.0).collect();
        let v = vec![1.0; 16];
        let grad = median_time(budget, || {
            let tape = Tape::new();
            let xs = tape.vars(&leaves);
            black_box(random_graph_on(&xs, n).backward().as_slice()[0]);
        });
        let traced = median_time(budget, || {
            let tape = Tape::traced();
            let xs = tape.vars(&leaves);
            black_box(random_graph_on(&xs, n).backward().as_slice()[0]);
        });
        let value_grad = median_time(budget, || {
            let tape = Tape::traced();
            let xs = tape.vars(&leaves);
            black_box(random_graph_on(&xs, n).grad(&xs).unwrap()[0].value());
        });
        let hvp = median_time(budget, || {
            let tape = Tape::traced();
            let xs = tape.vars(&leaves);
            let g = random_graph_on(&xs, n).grad(&xs).unwrap();
            let grads = tape.dot(&g, &v).backward();
            black_box(grads[xs[0]]);
        });
        row(
            &format!("random graph, {n} nodes"),
            16,
            [grad, traced, value_grad, hvp],
        );
    }
}
