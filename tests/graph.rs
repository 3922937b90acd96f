//! Graphviz export: structure of the DOT text for known graphs, labels against independent
//! numbers, escaping, determinism, errors, and that Graphviz's `dot` renders the text.

use std::collections::BTreeSet;
use std::process::Command;
use tapegrad::{mse, Activation, Error, Graphviz, Mlp, Tape};

/// A node line of the export: (index, attribute text).
fn nodes(dot: &str) -> Vec<(usize, String)> {
    dot.lines()
        .filter_map(|l| {
            let l = l.trim();
            let rest = l.strip_prefix('n')?;
            let (id, attrs) = rest.split_once(" [")?;
            Some((id.parse().ok()?, attrs.to_string()))
        })
        .collect()
}

/// Edge lines of the export, in order: (from, to).
fn edges(dot: &str) -> Vec<(usize, usize)> {
    dot.lines()
        .filter_map(|l| {
            let (a, b) = l.trim().strip_suffix(';')?.split_once(" -> ")?;
            Some((
                a.strip_prefix('n')?.parse().ok()?,
                b.strip_prefix('n')?.parse().ok()?,
            ))
        })
        .collect()
}

/// The label of node `i`, with DOT's `\n` line breaks split into lines.
fn label(dot: &str, i: usize) -> Vec<String> {
    let (_, attrs) = nodes(dot)
        .into_iter()
        .find(|(n, _)| *n == i)
        .unwrap_or_else(|| panic!("node {i} missing from\n{dot}"));
    let text = attrs.split_once("label=\"").unwrap().1;
    let text = text.strip_suffix("\"];").unwrap();
    text.split("\\n").map(str::to_string).collect()
}

/// The number after `key ` in node `i`'s label.
fn field(dot: &str, i: usize, key: &str) -> f64 {
    label(dot, i)
        .iter()
        .find_map(|line| line.strip_prefix(&format!("{key} ")))
        .unwrap_or_else(|| panic!("node {i} has no {key}"))
        .parse()
        .unwrap()
}

fn sigmoid(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

#[test]
fn known_graph_has_the_right_nodes_edges_and_labels() {
    let tape = Tape::traced();
    let a = tape.var(0.5).named("a");
    let b = tape.var(-1.5).named("b");
    let unrelated = b * 3.0; // node 2: does not lead to e
    let c = a * b; // 3
    let d = c + a; // 4
    let e = d.sigmoid(); // 5
    let _after = e * 2.0; // 6: recorded after the output
    let grads = e.backward();
    let dot = Graphviz::new(e)
        .gradients(&grads)
        .precision(None)
        .render()
        .unwrap();

    let ids: Vec<usize> = nodes(&dot).iter().map(|(i, _)| *i).collect();
    assert_eq!(ids, [0, 1, 3, 4, 5], "nodes leading to e, in order:\n{dot}");
    assert!(!ids.contains(&unrelated.index()));
    let found: BTreeSet<(usize, usize)> = edges(&dot).into_iter().collect();
    let expected: BTreeSet<(usize, usize)> = [(0, 3), (1, 3), (3, 4), (0, 4), (4, 5)].into();
    assert_eq!(found, expected);
    assert_eq!(edges(&dot).len(), 5);

    // Leaves carry their names, ops their op name and index; the output has a double border.
    assert_eq!(label(&dot, 0)[0], "a");
    assert_eq!(label(&dot, 1)[0], "b");
    assert_eq!(label(&dot, 3)[0], "mul #3");
    assert_eq!(label(&dot, 4)[0], "add #4");
    assert_eq!(label(&dot, 5)[0], "sigmoid #5");
    assert!(nodes(&dot)[0].1.starts_with("shape=ellipse"));
    assert!(nodes(&dot)[2].1.starts_with("shape=box,"));
    assert!(nodes(&dot)[4].1.contains("peripheries=2"));

    // Values and gradients against the hand-derived formulas: e = s(ab + a),
    // de/da = s'(b + 1), de/db = s' a, with s' = s (1 - s).
    let z = 0.5 * -1.5 + 0.5;
    let s = sigmoid(z);
    let ds = s * (1.0 - s);
    assert_eq!(field(&dot, 3, "value"), 0.5 * -1.5);
    assert_eq!(field(&dot, 5, "value"), s);
    assert_eq!(field(&dot, 5, "grad"), 1.0);
    assert!((field(&dot, 0, "grad") - ds * (-1.5 + 1.0)).abs() < 1e-15);
    assert!((field(&dot, 1, "grad") - ds * 0.5).abs() < 1e-15);
    assert!((field(&dot, 3, "grad") - ds).abs() < 1e-15);
}

#[test]
fn without_gradients_labels_have_values_only() {
    let tape = Tape::traced();
    let x = tape.var(2.0);
    let y = x.powi(3);
    let dot = Graphviz::new(y).render().unwrap();
    assert_eq!(label(&dot, 0), ["leaf #0", "value 2"]);
    assert_eq!(label(&dot, 1), ["powi #1", "value 8"]);
}

#[test]
fn a_value_used_twice_draws_two_edges() {
    let tape = Tape::traced();
    let x = tape.var(3.0);
    let y = x * x;
    let dot = Graphviz::new(y).render().unwrap();
    assert_eq!(edges(&dot), [(0, 1), (0, 1)]);
}

#[test]
fn a_leaf_alone_is_one_node_and_no_edges() {
    let tape = Tape::traced();
    let x = tape.var(1.0).named("x");
    let dot = Graphviz::new(x).render().unwrap();
    assert_eq!(nodes(&dot).len(), 1);
    assert!(edges(&dot).is_empty());
}

/// The seed's 2-2-1 sigmoid network with every weight 1 and every bias 0 (FACTS.md's worked case).
fn seed_net() -> Mlp {
    Mlp::from_parameters(
        &[2, 2, 1],
        Activation::Sigmoid,
        Activation::Sigmoid,
        &[1.0, 1.0, 0.0, 1.0, 1.0, 0.0, 1.0, 1.0, 0.0],
    )
    .unwrap()
}

/// The seed's 2-2-1 network, every weight 1 and every bias 0, inputs recorded as leaves, on
/// Alice (-2, -1) -> 1, with the seed's names. Returns the DOT text.
fn seed_network_graph(digits: Option<usize>) -> String {
    let net = seed_net();
    let tape = Tape::traced();
    let bound = net.bind(&tape);
    let names = ["w1", "w2", "b1", "w3", "w4", "b2", "w5", "w6", "b3"];
    for (p, name) in bound.parameters().into_iter().zip(names) {
        let _ = p.named(name);
    }
    let x = [tape.var(-2.0).named("x1"), tape.var(-1.0).named("x2")];
    let y = bound.forward_unfused(&x).unwrap();
    let loss = mse(&y, &[1.0]).unwrap().named("loss");
    let grads = loss.backward();
    Graphviz::new(loss)
        .gradients(&grads)
        .precision(digits)
        .render()
        .unwrap()
}

#[test]
fn the_seed_network_graph_matches_the_hand_derivation() {
    let dot = seed_network_graph(None);
    // 9 parameters + 2 inputs + 3 neurons of 2 muls and 2 adds + 3 sigmoids + the loss.
    assert_eq!(nodes(&dot).len(), 11 + 3 * 4 + 3 + 1, "{dot}");
    // Each mul and add has 2 operands; each sigmoid 1; the loss reads o1.
    assert_eq!(edges(&dot).len(), 3 * 4 * 2 + 3 + 1, "{dot}");
    // The seed's worked case (FACTS.md): o1 and dL/dw1.
    let w1 = nodes(&dot)
        .iter()
        .position(|(_, a)| a.contains("label=\"w1\\n"))
        .unwrap();
    assert!((field(&dot, w1, "grad") - 0.02146953526581111).abs() < 1e-12);
    let loss = nodes(&dot).last().unwrap().0;
    assert_eq!(label(&dot, loss)[0], format!("loss: loss #{loss}"));
    let o1: f64 = 0.5236951740839997;
    assert!((field(&dot, loss, "value") - (1.0 - o1).powi(2)).abs() < 1e-12);
    assert!(dot.contains("label=\"x1\\nvalue -2\\n"));
}

#[test]
fn output_is_deterministic() {
    assert_eq!(seed_network_graph(Some(4)), seed_network_graph(Some(4)));
}

#[test]
fn names_with_quotes_and_backslashes_are_escaped() {
    let tape = Tape::traced();
    let x = tape.var(1.0).named(r#"say "hi" \ bye"#);
    let y = (x + 1.0).named("line1\nline2");
    let dot = Graphviz::new(y).render().unwrap();
    assert!(
        dot.contains(r#"label="say \"hi\" \\ bye\nvalue 1""#),
        "{dot}"
    );
    assert!(
        dot.contains(r#"label="line1\nline2: add #1\nvalue 2""#),
        "{dot}"
    );
    // Every quote inside a label is escaped: each node line has exactly two bare quotes
    // around its label (plus none elsewhere).
    for line in dot.lines().filter(|l| l.contains("label=")) {
        let bare = line
            .char_indices()
            .filter(|&(i, c)| c == '"' && !escaped(line, i))
            .count();
        assert_eq!(bare, 2, "{line}");
    }
}

/// Whether the character at byte `i` is preceded by an odd number of backslashes.
fn escaped(line: &str, i: usize) -> bool {
    line[..i].chars().rev().take_while(|&c| c == '\\').count() % 2 == 1
}

#[test]
fn renaming_replaces_and_clear_forgets_names() {
    let mut tape = Tape::traced();
    let x = tape.var(1.0).named("first").named("second");
    assert_eq!(tape.name_of(x.index()).as_deref(), Some("second"));
    tape.clear();
    let y = tape.var(1.0);
    assert_eq!(tape.name_of(y.index()), None);
    assert_eq!(label(&Graphviz::new(y).render().unwrap(), 0)[0], "leaf #0");
}

#[test]
fn an_untraced_tape_is_an_error_not_a_panic() {
    let tape = Tape::new();
    let x = tape.var(1.0).named("ignored");
    let y = x.exp();
    assert_eq!(tape.name_of(x.index()), None);
    let err = Graphviz::new(y).render().unwrap_err();
    assert_eq!(err, Error::UntracedTape);
    assert!(err.to_string().contains("Tape::traced"));
}

#[test]
fn gradients_of_another_recording_are_refused() {
    let other = Tape::traced();
    let g = (other.var(1.0) * 2.0).backward();
    let mut tape = Tape::traced();
    let y = tape.var(1.0) * 2.0;
    assert_eq!(
        Graphviz::new(y).gradients(&g).render(),
        Err(Error::ForeignGradients)
    );
    let stale = y.backward();
    tape.clear();
    let y = tape.var(1.0) * 2.0;
    assert_eq!(
        Graphviz::new(y).gradients(&stale).render(),
        Err(Error::ForeignGradients)
    );
}

/// Runs `dot -Tsvg` on `text`. The tests that call this are `#[ignore]`d, so they run only
/// when asked for (`cargo test -- --ignored`, as .ci/run does); asked for, they fail if `dot`
/// cannot be run.
fn render_svg(text: &str) -> String {
    use std::io::Write;
    let child = Command::new("dot")
        .arg("-Tsvg")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn();
    let mut child = match child {
        Ok(c) => c,
        Err(e) => panic!("Graphviz `dot` cannot be run here ({e}); install graphviz"),
    };
    child
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "dot failed: {}\n{text}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
#[ignore = "needs Graphviz's dot; .ci/run installs it and runs this"]
fn graphviz_renders_the_seed_network() {
    let text = seed_network_graph(Some(4));
    let svg = render_svg(&text);
    assert!(svg.contains("<svg"));
    assert_eq!(svg.matches("class=\"node\"").count(), 27);
    assert_eq!(svg.matches("class=\"edge\"").count(), 28);
    assert!(svg.contains(">w1</text>"), "the name w1 is drawn");
}

#[test]
#[ignore = "needs Graphviz's dot; .ci/run installs it and runs this"]
fn graphviz_draws_escaped_names_literally() {
    let tape = Tape::traced();
    let x = tape.var(1.0).named(r#"say "hi" \ bye"#);
    let text = Graphviz::new(x.exp()).render().unwrap();
    let svg = render_svg(&text);
    assert!(
        svg.contains(r">say &quot;hi&quot; \ bye</text>"),
        "the name is drawn as written:\n{svg}"
    );
}

#[path = "../examples/gender_classifier.rs"]
#[allow(dead_code)]
mod gender_classifier;

#[test]
fn the_example_graph_of_one_training_step_matches_finite_differences() {
    let model = gender_classifier::network(gender_classifier::SEED).unwrap();
    let dot = gender_classifier::step_graph(&model, [-2.0, -1.0], 1.0).unwrap();
    assert_eq!(nodes(&dot).len(), 27, "{dot}");
    assert_eq!(edges(&dot).len(), 28, "{dot}");
    for name in ["x1", "w1", "b3", "h1: sigmoid", "o1: sigmoid", "mse: loss"] {
        assert!(dot.contains(&format!("label=\"{name}")), "{name} in\n{dot}");
    }
    // Each parameter's gradient label (4 significant digits) against a central difference of
    // the loss (1 - predict)^2 computed without any tape.
    let loss = |p: &[f64]| {
        let mut m = model.clone();
        m.set_parameters(p).unwrap();
        (1.0 - m.predict(&[-2.0, -1.0]).unwrap()[0]).powi(2)
    };
    let names = ["w1", "w2", "b1", "w3", "w4", "b2", "w5", "w6", "b3"];
    for (k, name) in names.iter().enumerate() {
        let (id, _) = nodes(&dot)
            .into_iter()
            .find(|(_, a)| a.contains(&format!("label=\"{name}\\n")))
            .unwrap();
        let mut p = model.parameters().to_vec();
        let h = 1e-6;
        p[k] += h;
        let up = loss(&p);
        p[k] -= 2.0 * h;
        let fd = (up - loss(&p)) / (2.0 * h);
        let shown = field(&dot, id, "grad");
        assert!(
            (shown - fd).abs() <= 5e-4 * fd.abs() + 1e-9,
            "{name}: label {shown}, finite difference {fd}"
        );
    }
}

#[test]
fn a_fused_dense_layer_is_drawn_as_one_box() {
    // Bound::forward records each layer as one fused node; the export draws it as one box with
    // its sizes and activation, and one edge per input node (not one per output).
    let net = seed_net();
    let tape = Tape::traced();
    let y = net.bind(&tape).forward(&[-2.0, -1.0]).unwrap()[0];
    let dot = Graphviz::new(y).render().unwrap();
    // 9 parameter leaves and two boxes (the inputs are constants of the first layer).
    assert_eq!(nodes(&dot).len(), 9 + 2, "{dot}");
    assert!(dot.contains("dense 2->2 sigmoid #9..10"), "{dot}");
    assert!(dot.contains("dense 2->1 sigmoid #11..11"), "{dot}");
    assert!(
        dot.contains("shape=box3d, peripheries=2"),
        "the output's box: {dot}"
    );
    // First box: 4 weights and 2 biases; second: 2 weights, 1 bias and the first box once.
    assert_eq!(edges(&dot).len(), 6 + 4, "{dot}");
    assert!(dot.contains("n9 -> n11;"), "{dot}");
}

/// More significant digits than an f64 holds are taken as 17, not passed to the formatter
/// (which panics past 65535).
#[test]
fn any_precision_renders() {
    let at_17 = seed_network_graph(Some(17));
    for digits in [18, 65535, 65536, 65537, usize::MAX] {
        assert_eq!(
            seed_network_graph(Some(digits)),
            at_17,
            "precision {digits}"
        );
    }
    assert_eq!(seed_network_graph(Some(0)), seed_network_graph(Some(1)));
    assert!(at_17.contains("grad 0.021469535265811107"), "{at_17}");
}
