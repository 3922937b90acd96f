// The playground in a real browser: Debian's Chromium, headless, driven by playwright-core.
//
//   node playground/test/browser.mjs      (after playground/build.sh)
//
// Serves target/playground on a free localhost port, then checks what a learner would see:
// the page loads without console errors; the seed view shows the seed's worked numbers, and
// after a weight slider moves, every gradient shown is the one the seed's hand-derived chain
// rule gives (computed here, in JavaScript, independently of the library); training the seed's
// network brings the loss below 0.01 and Emily above 0.9; the moons demo reaches 100% training
// accuracy with its decision boundary repainted. Screenshots go to target/playground-screens/.

import { createServer } from "node:http";
import { readFile, mkdir } from "node:fs/promises";
import { existsSync } from "node:fs";
import { extname, join, normalize, resolve, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const site = join(root, "target/playground");
const screens = join(root, "target/playground-screens");
const chromiumPath = process.env.CHROMIUM || "/usr/bin/chromium";

const failures = [];
function check(ok, what, detail = "") {
  console.log(`${ok ? "ok  " : "FAIL"} ${what}${detail ? `: ${detail}` : ""}`);
  if (!ok) failures.push(what);
}

// --- The seed's hand-derived formulas (FACTS.md, "Hand-derived gradients"), the oracle. ------
const f = (z) => 1 / (1 + Math.exp(-z));
const df = (z) => f(z) * (1 - f(z));
/** [w1..w6, b1..b3], shifted input, label -> { o1, grads in the same order }. */
function seedOracle([w1, w2, w3, w4, w5, w6, b1, b2, b3], x1, x2, y) {
  const z1 = w1 * x1 + w2 * x2 + b1;
  const z2 = w3 * x1 + w4 * x2 + b2;
  const h1 = f(z1);
  const h2 = f(z2);
  const zo = w5 * h1 + w6 * h2 + b3;
  const o1 = f(zo);
  const dL = -2 * (y - o1); // dL/dy_pred
  const dh1 = dL * w5 * df(zo); // dL/dh1
  const dh2 = dL * w6 * df(zo);
  return {
    h1,
    h2,
    o1,
    loss: (y - o1) ** 2,
    grads: [
      dh1 * x1 * df(z1), dh1 * x2 * df(z1), dh2 * x1 * df(z2), dh2 * x2 * df(z2),
      dL * h1 * df(zo), dL * h2 * df(zo),
      dh1 * df(z1), dh2 * df(z2), dL * df(zo),
    ],
  };
}
const NAMES = ["w1", "w2", "w3", "w4", "w5", "w6", "b1", "b2", "b3"];

// --- A static server for the built page. ----------------------------------------------------
const TYPES = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".wasm": "application/wasm",
};
function serve() {
  const server = createServer(async (req, res) => {
    const path = normalize(decodeURIComponent(new URL(req.url, "http://x").pathname));
    const file = join(site, path.endsWith("/") ? `${path}index.html` : path);
    if (!file.startsWith(site)) return res.writeHead(403).end();
    try {
      const body = await readFile(file);
      res.writeHead(200, { "content-type": TYPES[extname(file)] || "application/octet-stream" });
      res.end(body);
    } catch {
      res.writeHead(404).end("not found");
    }
  });
  return new Promise((ok) => server.listen(0, "127.0.0.1", () => ok(server)));
}

async function main() {
  if (!existsSync(join(site, "index.html"))) throw new Error(`${site} is not built: run playground/build.sh`);
  await mkdir(screens, { recursive: true });
  const server = await serve();
  const base = `http://127.0.0.1:${server.address().port}/`;
  const browser = await chromium.launch({
    executablePath: chromiumPath,
    headless: true,
    args: [
      "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync",
    ],
  });
  console.log(`chromium ${browser.version()}, page at ${base}`);
  const page = await browser.newPage({ viewport: { width: 1440, height: 1000 } });
  const errors = [];
  page.on("console", (m) => m.type() === "error" && errors.push(`console: ${m.text()}`));
  page.on("pageerror", (e) => errors.push(`page error: ${e.message}`));
  page.on("requestfailed", (r) => errors.push(`request failed: ${r.url()}`));
  page.on("response", (r) => r.status() >= 400 && errors.push(`HTTP ${r.status()}: ${r.url()}`));

  const value = async (selector) => Number(await page.locator(selector).getAttribute("data-value"));
  const grads = async () => Promise.all(NAMES.map((n) => value(`#g-${n}`)));
  const params = async () => Promise.all(NAMES.map((n) => value(`#o-${n}`)));

  try {
    // ---- The seed view -------------------------------------------------------------------
    const t0 = Date.now();
    await page.goto(`${base}#seed`);
    await page.waitForSelector("body[data-ready=true]", { timeout: 30000 });
    await page.waitForSelector("#seed-graph svg");
    check(true, "page loaded", `${Date.now() - t0} ms, wasm and Graphviz ready`);
    // Every number field's default is a value its own min/step allow (else the browser marks
    // it invalid and its arrows step to odd values such as 1001 epochs).
    const invalid = await page.evaluate(() =>
      [...document.querySelectorAll("input")].filter((i) => !i.checkValidity()).map((i) => `${i.id}=${i.value}`));
    check(invalid.length === 0, "every input's default is valid", invalid.join(", ") || "all valid");

    // The post's worked case: every weight 1, biases 0, Alice (-2, -1) -> 1.
    const w1Grad = await value("#g-w1");
    check(Math.abs(w1Grad - 0.02146953526581111) < 1e-12, "seed's worked dL/dw1 shown", `${w1Grad} (FACTS.md: 0.02146953526581111)`);
    check(Math.abs((await value("#v-o1")) - 0.5236951740839997) < 1e-15, "seed's worked o1 shown", String(await value("#v-o1")));
    const graphText = await page.locator("#seed-graph svg").textContent();
    check(/w1.*grad 0\.02147/s.test(graphText) && graphText.includes("h1") && graphText.includes("o1 = y_pred"),
      "graph drawn from the DOT export, with values and gradients on the nodes");

    // Move w1's slider five steps right with the keyboard, as a learner would: w1 = 1.05.
    const before = await grads();
    await page.locator("#p-w1").focus();
    for (let k = 0; k < 5; k++) await page.keyboard.press("ArrowRight");
    const w = await params();
    check(w[0] === 1.05 && w.slice(1).join() === "1,1,1,1,1,0,0,0", "slider moved w1 to 1.05", w.join(", "));
    const shown = await grads();
    const expected = seedOracle([1.05, 1, 1, 1, 1, 1, 0, 0, 0], -2, -1, 1).grads;
    const worst = Math.max(...shown.map((g, k) => Math.abs(g - expected[k])));
    check(shown[0] !== before[0], "dL/dw1 changed when w1 moved", `${before[0]} -> ${shown[0]}`);
    check(worst < 1e-9, "every shown dL/dp equals the seed's hand-derived chain rule", `max |diff| ${worst.toExponential(2)}; dL/dw1 ${shown[0]} vs ${expected[0]}`);
    const text = await page.locator("#g-w1").textContent();
    check(Math.abs(Number(text) - expected[0]) < 1e-6, "the visible dL/dw1 text is that number", text);

    // Another person, from the person buttons: Bob, male (0).
    await page.click("#person-Bob");
    const bob = seedOracle([1.05, 1, 1, 1, 1, 1, 0, 0, 0], 25, 6, 0);
    const bobShown = await grads();
    const bobWorst = Math.max(...bobShown.map((g, k) => Math.abs(g - bob.grads[k])));
    check(bobWorst < 1e-9 && Math.abs((await value("#v-loss")) - bob.loss) < 1e-12,
      "Bob's loss and gradients follow the person buttons", `loss ${await value("#v-loss")}, max |diff| ${bobWorst.toExponential(2)}`);
    await page.click("#person-Alice");
    await page.screenshot({ path: join(screens, "seed.png"), fullPage: true });

    // What a learner may type: each bad field is a message naming the range, not NaN or a run.
    const statusAfter = async (lr, epochs) => {
      await page.fill("#seed-lr", lr);
      await page.fill("#seed-epochs", epochs);
      await page.click("#seed-train-button");
      return page.locator("#seed-train-status").textContent();
    };
    const noLr = await statusAfter("", "10");
    check(noLr === "enter a learning rate from 0.001 to 10", "an empty learning rate is a message", noLr);
    const bigLr = await statusAfter("1000000", "10");
    check(bigLr === "enter a learning rate from 0.001 to 10", "a learning rate past the field's max is refused", bigLr);
    const manyEpochs = await statusAfter("0.1", "1000000");
    check(manyEpochs === "epochs must be a whole number from 1 to 100000", "epochs past the field's max are refused", manyEpochs);
    // Train then Stop before the first frame: no "undefined" in the status.
    await page.fill("#seed-epochs", "1000");
    await page.dblclick("#seed-train-button");
    const early = await page.locator("#seed-train-status").textContent();
    check(!/undefined|NaN/.test(early) && (await page.locator("#seed-train-status").getAttribute("data-state")) !== "running",
      "stopping at once reports a number or 'before the first epoch'", early.trim().split("\n")[0]);
    // A loss curve longer than a call stack's argument limit still draws.
    const longChart = await page.evaluate(async () => {
      const { drawChart } = await import("./chart.js");
      const canvas = document.createElement("canvas");
      canvas.width = 300;
      canvas.height = 150;
      document.body.append(canvas);
      try {
        drawChart(canvas, [Array.from({ length: 300000 }, (_, i) => 1 / (1 + i))]);
        return "drawn";
      } catch (e) {
        return e.message;
      } finally {
        canvas.remove();
      }
    });
    check(longChart === "drawn", "a 300000-point loss curve draws", longChart);

    // Train the seed's way from nine normal draws: lr 0.1, 1000 epochs.
    await page.fill("#seed-random-seed", "1");
    await page.click("#seed-random");
    await page.fill("#seed-lr", "0.1");
    await page.fill("#seed-epochs", "1000");
    const tTrain = Date.now();
    await page.click("#seed-train-button");
    // While it runs, the page keeps painting: the status shows several epochs on the way.
    const seen = new Set();
    while ((await page.locator("#seed-train-status").getAttribute("data-state")) === "running") {
      seen.add(await page.locator("#seed-train-status").textContent());
      await page.waitForTimeout(50);
      if (Date.now() - tTrain > 60000) throw new Error("seed training did not finish in 60 s");
    }
    check((await page.locator("#seed-train-status").getAttribute("data-state")) === "done", "seed training finished", `${Date.now() - tTrain} ms`);
    check(seen.size >= 3, "the page stayed live while training (progress shown in slices)", `${seen.size} distinct progress texts`);
    const finalLoss = Number(await page.locator("#seed-train-status").getAttribute("data-loss"));
    check(finalLoss < 0.01, "seed's loss below 0.01 after training", String(finalLoss));
    const emily = await value("#pred-Emily .num");
    const frank = await value("#pred-Frank .num");
    check(emily > 0.9, "Emily above 0.9", String(emily));
    check(frank < 0.1, "Frank below 0.1", String(frank));
    // The prediction shown is the one the shown (trained) parameters give.
    const trained = await params();
    const emilyOracle = seedOracle(trained, 128 - 135, 63 - 66, 1).o1;
    check(Math.abs(emily - emilyOracle) < 1e-12, "Emily's prediction matches the trained parameters on the page", `${emily} vs ${emilyOracle}`);
    await page.screenshot({ path: join(screens, "seed-trained.png"), fullPage: true });

    // ---- The moons view ------------------------------------------------------------------
    await page.click("#tab-moons");
    await page.waitForSelector("#view-moons:not([hidden])");
    const pixels = () => page.evaluate(() => document.getElementById("m-canvas").toDataURL());
    const untrained = await pixels();
    await page.screenshot({ path: join(screens, "moons-start.png"), fullPage: true });
    const acc0 = await value("#m-acc");
    const tMoons = Date.now();
    await page.click("#m-play");
    // Waits (and throws after 120 s) for the accuracy to show 100%, taking the step count in
    // the page at that moment: training goes on until the pause click lands, and a point on
    // the boundary may flip back.
    const reached = await page.waitForFunction(() =>
      document.getElementById("m-acc").dataset.value === "1" &&
      Number(document.getElementById("m-steps").textContent), null, { timeout: 120000 });
    const stepsToFull = await reached.jsonValue();
    await page.click("#m-play"); // pause
    check(acc0 < 1, "moons reaches 100% training accuracy",
      `from ${(acc0 * 100).toFixed(0)}% in ${stepsToFull} steps, ${Date.now() - tMoons} ms; ` +
      `${(await value("#m-acc")) * 100}% when paused at step ${await page.locator("#m-steps").textContent()}`);
    check((await pixels()) !== untrained, "the decision boundary was repainted");
    check((await value("#m-loss")) < 0.1, "moons loss fell", String(await value("#m-loss")));
    // A bad hidden-layer list: the message, the last network still painted, Step refusing
    // with that message (no page error, no learning-rate advice).
    await page.fill("#m-hidden", "abc");
    await page.locator("#m-hidden").blur();
    await page.click("#m-step");
    const hiddenError = await page.locator("#m-error").textContent();
    check(hiddenError.startsWith("hidden layers:") && !hiddenError.includes("learning rate"),
      "a bad hidden-layer list is its own message", hiddenError);
    check((await page.locator("#m-shape").textContent()).includes("last valid"), "the stale network says so");
    await page.screenshot({ path: join(screens, "moons.png"), fullPage: true });

    // Another architecture from the controls: tanh, one hidden layer of 8.
    await page.fill("#m-hidden", "8");
    await page.press("#m-hidden", "Enter");
    await page.selectOption("#m-activation", "tanh");
    check((await page.locator("#m-shape").textContent()).startsWith("2-8-1 network, 33 parameters"),
      "changing the hidden layers rebuilds the network", await page.locator("#m-shape").textContent());
    check((await page.locator("#m-steps").textContent()) === "0", "a rebuilt network starts at step 0");
  } finally {
    check(errors.length === 0, "no console errors, failed requests or page errors", errors.join(" | "));
    await browser.close();
    server.close();
  }
  console.log(`screenshots in ${screens}`);
  if (failures.length) {
    console.log(`${failures.length} check(s) failed`);
    process.exit(1);
  }
  console.log("browser test passed");
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
