// The playground page: wires the controls to tapegrad (compiled to WebAssembly by wasm-bindgen
// into ./pkg) and draws what it returns. Every number shown comes from the library; this file
// only formats and paints.

import init, {
  MoonsLab,
  SeedTraining,
  people_json,
  seed_parameter_names,
  seed_predict,
  seed_random_parameters,
  seed_step,
} from "./pkg/tapegrad_playground.js";
import { instance as vizInstance } from "./vendor/viz.js";
import { drawChart } from "./chart.js";

const $ = (id) => document.getElementById(id);

/** Six significant digits, trailing zeros dropped; tiny and huge numbers in exponent form. */
function fmt(x) {
  if (Number.isNaN(x)) return "NaN";
  if (!Number.isFinite(x)) return x > 0 ? "overflow (+inf)" : "overflow (-inf)";
  if (x === 0) return "0";
  if (Math.abs(x) < 1e-4 || Math.abs(x) >= 1e6) return x.toExponential(4);
  return String(+x.toPrecision(6));
}

/** Shows `x` in `el` and keeps the full f64 in `data-value`, for readers that need every digit. */
function show(el, x, text = fmt(x)) {
  el.textContent = text;
  el.dataset.value = String(x);
}

// ---------------------------------------------------------------------------------------------
// The seed's network

const WORKED_EXAMPLE = [1, 1, 1, 1, 1, 1, 0, 0, 0];
const PARAM_RANGE = 6;

const seed = {
  names: [],
  people: [],
  params: [...WORKED_EXAMPLE],
  pounds: 133,
  inches: 65,
  label: 1,
  viz: null,
  graphPending: null,
  graphBusy: false,
  training: null,
  losses: [],
  planned: 0,
};

function buildSeedControls() {
  seed.names = seed_parameter_names();
  seed.people = JSON.parse(people_json());

  const sliders = $("param-sliders");
  const rows = $("grad-rows");
  seed.names.forEach((name, k) => {
    const div = document.createElement("div");
    div.className = "slider";
    div.innerHTML = `<label for="p-${name}">${name}</label>
      <input id="p-${name}" type="range" min="${-PARAM_RANGE}" max="${PARAM_RANGE}" step="0.01">
      <output id="o-${name}"></output>`;
    sliders.append(div);
    div.querySelector("input").addEventListener("input", (e) => {
      seed.params[k] = e.target.valueAsNumber;
      refreshSeed();
    });

    const tr = document.createElement("tr");
    tr.innerHTML = `<th>${name}</th><td class="num" id="pv-${name}"></td>
      <td class="num grad" id="g-${name}"></td>
      <td class="bar-cell"><div class="bar"><span id="bar-${name}"></span></div></td>`;
    rows.append(tr);
  });

  const people = $("people");
  for (const p of seed.people) {
    const b = document.createElement("button");
    b.type = "button";
    b.className = "person";
    b.id = `person-${p.name}`;
    b.innerHTML = `<b>${p.name}</b><small>${p.pounds} lb, ${p.inches} in${p.trainedOn ? "" : " · not trained on"}</small>`;
    b.addEventListener("click", () => {
      seed.pounds = p.pounds;
      seed.inches = p.inches;
      seed.label = p.label;
      refreshSeed();
    });
    people.append(b);
  }
  $("in-pounds").addEventListener("input", (e) => {
    seed.pounds = e.target.valueAsNumber;
    refreshSeed();
  });
  $("in-inches").addEventListener("input", (e) => {
    seed.inches = e.target.valueAsNumber;
    refreshSeed();
  });
  for (const radio of document.querySelectorAll('input[name="label"]')) {
    radio.addEventListener("change", (e) => {
      seed.label = Number(e.target.value);
      refreshSeed();
    });
  }

  $("seed-ones").addEventListener("click", () => {
    seed.params = [...WORKED_EXAMPLE];
    refreshSeed();
  });
  $("seed-random").addEventListener("click", () => {
    const box = $("seed-random-seed");
    // The draw takes a u32: larger seeds would wrap onto earlier draws, so they stop there.
    const s = Math.min(2 ** 32 - 1, Math.max(0, Math.floor(box.valueAsNumber || 0)));
    seed.params = Array.from(seed_random_parameters(s));
    box.value = String(Math.min(s + 1, 2 ** 32 - 1)); // the next click draws a different start
    refreshSeed();
  });
  $("seed-train-button").addEventListener("click", () => {
    if (seed.training) stopSeedTraining("stopped");
    else startSeedTraining();
  });
  $("seed-epochs").addEventListener("input", () => {
    if (!seed.training && !seed.losses.length) drawSeedLoss(); // the empty chart's epoch axis
  });
  drawSeedLoss();
}

/**
 * Recomputes the step for the current parameters and person, and redraws the view (the graph
 * too unless `graph` is false: its layout is the slowest part of a redraw).
 */
function refreshSeed({ graph = true } = {}) {
  seed.names.forEach((name, k) => {
    $(`p-${name}`).value = String(seed.params[k]);
    const v = seed.params[k];
    show($(`o-${name}`), v, Math.abs(v) < 1e4 ? v.toFixed(2) : fmt(v));
  });
  $("in-pounds").value = String(seed.pounds);
  $("in-inches").value = String(seed.inches);
  $("out-pounds").textContent = `${seed.pounds} lb`;
  $("out-inches").textContent = `${seed.inches} in`;
  show($("x1"), seed.pounds - 135);
  show($("x2"), seed.inches - 66);
  $("label-f").checked = seed.label === 1;
  $("label-m").checked = seed.label === 0;
  for (const p of seed.people) {
    const on = p.pounds === seed.pounds && p.inches === seed.inches && p.label === seed.label;
    $(`person-${p.name}`).classList.toggle("selected", on);
  }

  const step = seed_step(Float64Array.from(seed.params), seed.pounds, seed.inches, seed.label);
  try {
    show($("v-h1"), step.h1);
    show($("v-h2"), step.h2);
    show($("v-o1"), step.o1);
    show($("v-loss"), step.loss);
    const grads = step.gradients;
    const biggest = Math.max(...grads.map(Math.abs), 1e-12);
    seed.names.forEach((name, k) => {
      show($(`pv-${name}`), seed.params[k]);
      show($(`g-${name}`), grads[k]);
      const bar = $(`bar-${name}`);
      const share = (Math.abs(grads[k]) / biggest) * 50;
      bar.style.width = `${share}%`;
      bar.style.left = grads[k] >= 0 ? "50%" : `${50 - share}%`;
      bar.className = grads[k] >= 0 ? "pos" : "neg";
    });
    if (graph) drawGraph(step.dot);
  } finally {
    step.free();
  }
  refreshPredictions();
}

/** Lays out the DOT text with Graphviz; while a layout runs, only the newest request waits. */
function drawGraph(dot) {
  seed.graphPending = dot;
  if (seed.graphBusy || !seed.viz) return;
  seed.graphBusy = true;
  requestAnimationFrame(() => {
    const text = seed.graphPending;
    seed.graphPending = null;
    const svg = seed.viz.renderSVGElement(styleDot(text));
    const box = $("seed-graph");
    box.replaceChildren(svg);
    seed.graphBusy = false;
    if (seed.graphPending) drawGraph(seed.graphPending);
  });
}

/**
 * Colours the exported graph for reading: parameters blue, inputs grey, the loss red. Only
 * attributes are added (the export's labels, values and gradients are left as they are).
 */
function styleDot(dot) {
  const params = new Set(seed.names);
  return dot
    .replace(
      'node [fontname="Helvetica", fontsize=10];',
      'node [fontname="Helvetica", fontsize=10, style="filled", fillcolor="#ffffff", color="#8a94a6"];\n  edge [color="#8a94a6", arrowsize=0.6];\n  bgcolor="transparent";\n  nodesep=0.18; ranksep=0.3;',
    )
    .replace(/^(\s*n\d+ \[shape=)(\w+)(.*label=")([^"\\]*)(.*)$/gm, (line, a, shape, b, name, rest) => {
      let fill = "";
      if (shape === "ellipse" && params.has(name)) fill = ', fillcolor="#dcebfa", color="#0b6fb8"';
      else if (shape === "ellipse") fill = ', fillcolor="#eef0f3"';
      else if (name.startsWith("L =")) fill = ', fillcolor="#fde2e0", color="#c0392b"';
      else if (/^(h1|h2|o1)/.test(name)) fill = ', fillcolor="#e6f4ea", color="#2e7d32"';
      return `${a}${shape}${fill}${b}${name}${rest}`;
    });
}

function refreshPredictions() {
  const body = $("predictions").querySelector("tbody");
  const params = Float64Array.from(seed.params);
  body.replaceChildren(
    ...seed.people.map((p) => {
      const y = seed_predict(params, p.pounds, p.inches);
      const tr = document.createElement("tr");
      tr.id = `pred-${p.name}`;
      const guess = y > 0.5 ? "female" : "male";
      const right = (y > 0.5) === (p.label === 1);
      tr.innerHTML = `<th>${p.name}${p.trainedOn ? "" : "*"}</th><td class="num"></td>
        <td class="${right ? "right" : "wrong"}">${guess}</td>`;
      show(tr.querySelector(".num"), y, y.toFixed(3));
      return tr;
    }),
  );
}

function drawSeedLoss() {
  drawChart($("seed-loss"), [seed.losses], {
    title: "loss (MSE over Alice, Bob, Charlie, Diana) after each epoch",
    xLabel: "epoch",
    xMax: seed.planned || $("seed-epochs").valueAsNumber || 0,
    empty: "press Train to draw the loss curve",
  });
}

function setSeedInputsDisabled(disabled) {
  for (const el of document.querySelectorAll("#seed-params input, #seed-params button, #seed-lr, #seed-epochs")) {
    el.disabled = disabled;
  }
}

function startSeedTraining() {
  const status = $("seed-train-status");
  const lrBox = $("seed-lr");
  const epochsBox = $("seed-epochs");
  const lr = lrBox.valueAsNumber;
  const epochs = Math.floor(epochsBox.valueAsNumber);
  // The fields' own ranges (min and max in index.html), checked here: a browser does not
  // stop a script from reading an out-of-range value.
  const [lrMin, lrMax] = [Number(lrBox.min), Number(lrBox.max)];
  if (!(lr >= lrMin && lr <= lrMax)) {
    status.textContent = `enter a learning rate from ${lrMin} to ${lrMax}`;
    return;
  }
  const epochsMax = Number(epochsBox.max);
  if (!(epochs >= 1 && epochs <= epochsMax)) {
    status.textContent = `epochs must be a whole number from 1 to ${epochsMax}`;
    return;
  }
  try {
    seed.training = new SeedTraining(Float64Array.from(seed.params), lr);
  } catch (e) {
    status.textContent = e.message;
    return;
  }
  seed.losses = [];
  seed.planned = epochs;
  const slice = Math.max(1, Math.ceil(epochs / 80)); // about 80 frames, whatever the length
  $("seed-train-button").textContent = "Stop";
  status.dataset.state = "running";
  setSeedInputsDisabled(true);

  let frames = 0;
  const frame = () => {
    const t = seed.training;
    if (!t) return;
    try {
      const n = Math.min(slice, epochs - t.epochsDone);
      for (const loss of t.run(n)) seed.losses.push(loss); // no spread: a slice may be long
      seed.params = Array.from(t.parameters());
    } catch (e) {
      stopSeedTraining(`stopped: ${e.message}`);
      return;
    }
    frames += 1;
    refreshSeed({ graph: frames % 6 === 0 }); // the graph a few times a second, the rest every frame
    drawSeedLoss();
    const last = seed.losses[seed.losses.length - 1];
    status.textContent = `epoch ${t.epochsDone} of ${epochs}: loss ${fmt(last)}`;
    if (t.epochsDone >= epochs) stopSeedTraining("done");
    else requestAnimationFrame(frame);
  };
  requestAnimationFrame(frame);
}

function stopSeedTraining(how) {
  const t = seed.training;
  if (!t) return;
  seed.training = null;
  const status = $("seed-train-status");
  const last = seed.losses[seed.losses.length - 1];
  const emily = seed.people.find((p) => p.name === "Emily");
  const frank = seed.people.find((p) => p.name === "Frank");
  const yE = t.predict(emily.pounds, emily.inches);
  const yF = t.predict(frank.pounds, frank.inches);
  seed.params = Array.from(t.parameters()); // the predictions' parameters, shown beside them
  t.free();
  refreshSeed();
  status.dataset.state = how === "done" ? "done" : "stopped";
  status.dataset.loss = last === undefined ? "" : String(last);
  const after = last === undefined ? "before the first epoch" : `${seed.losses.length} epochs, loss ${fmt(last)}`;
  status.innerHTML = `${how === "done" ? "Trained" : how}: ${after}.
    <b>Emily ${yE.toFixed(3)}</b> (${yE > 0.5 ? "female" : "male"}), <b>Frank ${yF.toFixed(3)}</b> (${yF > 0.5 ? "female" : "male"}).`;
  $("seed-train-button").textContent = "Train";
  setSeedInputsDisabled(false);
  document.querySelectorAll("#pred-Emily, #pred-Frank").forEach((tr) => tr.classList.add("highlight"));
}

// ---------------------------------------------------------------------------------------------
// Moons

const DOMAIN = { x0: -1.75, x1: 2.75, y0: -1.25, y1: 1.75 };
const GRID = { nx: 150, ny: 100 };
const STEPS_PER_FRAME = 2;

const moons = {
  lab: null,
  initSeed: 0,
  losses: [],
  accuracies: [],
  running: false,
};

function moonsSettings() {
  const hidden = $("m-hidden")
    .value.split(/[\s,]+/)
    .filter((s) => s !== "")
    .map(Number);
  if (hidden.some((h) => !Number.isInteger(h) || h < 1 || h > 64) || hidden.length > 4) {
    throw new Error("hidden layers: up to 4 whole numbers from 1 to 64, e.g. 16, 16");
  }
  return {
    hidden,
    activation: $("m-activation").value,
    lr: Number($("m-lr").value),
    l2: Number($("m-l2").value),
    noise: $("m-noise").valueAsNumber,
  };
}

function moonsError(message) {
  const el = $("m-error");
  el.hidden = !message;
  el.textContent = message || "";
}

/** A new lab from the controls (the same initial-weight seed unless `reseed`). */
function buildMoons(reseed = false) {
  pauseMoons();
  let s;
  try {
    s = moonsSettings();
  } catch (e) {
    // The last valid network stays, and says so; Step and Train refuse until this is fixed.
    moonsError(e.message);
    $("m-shape").textContent = "The network below is the last valid one: fix the hidden layers to rebuild it.";
    return;
  }
  if (reseed) moons.initSeed += 1;
  moons.lab?.free();
  moons.lab = new MoonsLab(Uint32Array.from(s.hidden), s.activation, s.noise, moons.initSeed);
  moons.losses = [];
  moons.accuracies = [];
  moonsError("");
  const shape = [2, ...s.hidden, 1].join("-");
  $("m-shape").textContent = `${shape} network, ${moons.lab.parameterCount} parameters, initial weights from seed ${moons.initSeed}.`;
  paintMoons();
}

function moonsStep(n) {
  const s = moonsSettings();
  const r = moons.lab.train(n, s.lr, s.l2);
  for (let k = 0; k < r.length; k += 2) {
    moons.losses.push(r[k]);
    moons.accuracies.push(r[k + 1]);
  }
}

function playMoons() {
  if (!moons.lab) return;
  moons.running = true;
  $("m-play").textContent = "Pause";
  const frame = () => {
    if (!moons.running) return;
    try {
      moonsStep(STEPS_PER_FRAME);
    } catch (e) {
      pauseMoons();
      // Only a diverging step is helped by a smaller rate; a settings error is its own advice.
      const settings = e.message.startsWith("hidden layers");
      moonsError(settings ? e.message : `${e.message}. Try a smaller learning rate, then Reset.`);
      return;
    }
    paintMoons();
    requestAnimationFrame(frame);
  };
  requestAnimationFrame(frame);
}

function pauseMoons() {
  moons.running = false;
  $("m-play").textContent = "Train";
}

const ORANGE = [232, 113, 28];
const BLUE = [11, 111, 184];

function paintMoons() {
  const lab = moons.lab;
  // Only the penalty is read here: a half-typed hidden-layer list must not stop the painting
  // of the network that is still there.
  const [loss, acc] = lab.evaluate(Number($("m-l2").value));
  show($("m-loss"), loss);
  show($("m-acc"), acc, `${(acc * 100).toFixed(0)}%`);
  $("m-steps").textContent = String(lab.steps);

  const canvas = $("m-canvas");
  const ctx = canvas.getContext("2d");
  const { nx, ny } = GRID;
  const scores = lab.grid(DOMAIN.x0, DOMAIN.x1, DOMAIN.y0, DOMAIN.y1, nx, ny);
  const image = new ImageData(nx, ny);
  for (let i = 0; i < nx * ny; i++) {
    const t = Math.tanh(scores[i]);
    const c = t >= 0 ? BLUE : ORANGE;
    const a = 0.15 + 0.5 * Math.abs(t);
    for (let k = 0; k < 3; k++) image.data[4 * i + k] = Math.round(255 * (1 - a) + c[k] * a);
    image.data[4 * i + 3] = 255;
  }
  const small = new OffscreenCanvas(nx, ny);
  small.getContext("2d").putImageData(image, 0, 0);
  const W = canvas.width;
  const H = canvas.height;
  ctx.imageSmoothingEnabled = true;
  ctx.drawImage(small, 0, 0, W, H);

  const X = (x) => ((x - DOMAIN.x0) / (DOMAIN.x1 - DOMAIN.x0)) * W;
  const Y = (y) => ((DOMAIN.y1 - y) / (DOMAIN.y1 - DOMAIN.y0)) * H;
  // Axes through the origin, faint.
  ctx.strokeStyle = "rgba(0,0,0,0.15)";
  ctx.lineWidth = 1;
  ctx.beginPath();
  ctx.moveTo(X(0), 0);
  ctx.lineTo(X(0), H);
  ctx.moveTo(0, Y(0));
  ctx.lineTo(W, Y(0));
  ctx.stroke();
  drawZeroContour(ctx, scores, nx, ny, W / nx, H / ny);

  const pts = lab.points();
  const labels = lab.labels();
  for (let i = 0; i < labels.length; i++) {
    ctx.beginPath();
    ctx.arc(X(pts[2 * i]), Y(pts[2 * i + 1]), 4.5, 0, 2 * Math.PI);
    const c = labels[i] > 0 ? BLUE : ORANGE;
    ctx.fillStyle = `rgb(${c.join(",")})`;
    ctx.fill();
    ctx.strokeStyle = "#fff";
    ctx.lineWidth = 1.5;
    ctx.stroke();
  }

  const n = Math.max(100, moons.losses.length);
  drawChart($("m-loss-chart"), [moons.losses], {
    title: "loss (hinge + L2), each step",
    xLabel: "step",
    xMax: n,
    empty: "press Train",
  });
  drawChart($("m-acc-chart"), [moons.accuracies], {
    title: "training accuracy, each step",
    xLabel: "step",
    xMax: n,
    yMin: 0,
    yMax: 1,
    percent: true,
    colors: ["#2e7d32"],
    empty: "press Train",
  });
}

/** The decision boundary (score 0) by marching squares over the grid's cell centres. */
function drawZeroContour(ctx, v, nx, ny, cw, ch) {
  ctx.strokeStyle = "rgba(20,20,30,0.85)";
  ctx.lineWidth = 2;
  ctx.beginPath();
  const at = (c, r) => v[r * nx + c];
  const px = (c) => (c + 0.5) * cw;
  const py = (r) => (r + 0.5) * ch;
  for (let r = 0; r + 1 < ny; r++) {
    for (let c = 0; c + 1 < nx; c++) {
      const a = at(c, r), b = at(c + 1, r), d = at(c, r + 1), e = at(c + 1, r + 1);
      const pts = [];
      // Edges: top (a-b), right (b-e), bottom (d-e), left (a-d).
      if ((a > 0) !== (b > 0)) pts.push([px(c) + (a / (a - b)) * cw, py(r)]);
      if ((b > 0) !== (e > 0)) pts.push([px(c + 1), py(r) + (b / (b - e)) * ch]);
      if ((d > 0) !== (e > 0)) pts.push([px(c) + (d / (d - e)) * cw, py(r + 1)]);
      if ((a > 0) !== (d > 0)) pts.push([px(c), py(r) + (a / (a - d)) * ch]);
      for (let k = 0; k + 1 < pts.length; k += 2) {
        ctx.moveTo(pts[k][0], pts[k][1]);
        ctx.lineTo(pts[k + 1][0], pts[k + 1][1]);
      }
    }
  }
  ctx.stroke();
}

function buildMoonsControls() {
  moons.initSeed = MoonsLab.defaultInitSeed();
  const noise = $("m-noise");
  const showNoise = () => ($("m-noise-out").textContent = noise.valueAsNumber.toFixed(2));
  showNoise();
  noise.addEventListener("input", () => {
    showNoise();
    buildMoons();
  });
  for (const id of ["m-hidden", "m-activation"]) $(id).addEventListener("change", () => buildMoons());
  $("m-play").addEventListener("click", () => (moons.running ? pauseMoons() : playMoons()));
  $("m-step").addEventListener("click", () => {
    pauseMoons();
    try {
      moonsStep(1);
    } catch (e) {
      moonsError(e.message);
    }
    paintMoons();
  });
  $("m-reset").addEventListener("click", () => buildMoons(true));
  buildMoons();
}

// ---------------------------------------------------------------------------------------------
// Tabs and start-up

function route() {
  const name = location.hash === "#moons" ? "moons" : "seed";
  for (const v of ["seed", "moons"]) {
    $(`view-${v}`).hidden = v !== name;
    $(`tab-${v}`).classList.toggle("active", v === name);
  }
  // The charts size themselves to their canvases, which have a size only when visible.
  if (name !== "moons") {
    pauseMoons();
    drawSeedLoss();
  } else paintMoons();
}

async function main() {
  await init();
  seed.viz = await vizInstance();
  buildSeedControls();
  buildMoonsControls();
  refreshSeed();
  window.addEventListener("hashchange", route);
  route();
  $("status").hidden = true;
  document.body.dataset.ready = "true";
}

main().catch((e) => {
  const status = $("status");
  status.textContent = `The playground failed to start: ${e.message || e}`;
  status.classList.add("error");
  console.error(e);
});
