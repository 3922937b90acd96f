// A small line chart on a <canvas>: axes, a few round ticks, one or more series. The page
// needs two kinds (a loss falling toward 0, an accuracy between 0 and 1), which is less than a
// plotting package is worth.

/** Sizes the canvas's backing store for the screen's pixel ratio; returns its 2D context in CSS pixels. */
function context(canvas) {
  const ratio = window.devicePixelRatio || 1;
  const w = canvas.clientWidth || canvas.width;
  const h = canvas.clientHeight || canvas.height;
  if (canvas.width !== Math.round(w * ratio) || canvas.height !== Math.round(h * ratio)) {
    canvas.width = Math.round(w * ratio);
    canvas.height = Math.round(h * ratio);
  }
  const ctx = canvas.getContext("2d");
  ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
  return { ctx, w, h };
}

/** About `count` round tick values covering [lo, hi]. */
function ticks(lo, hi, count) {
  const span = hi - lo || 1;
  const raw = span / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw);
  const out = [];
  for (let t = Math.ceil(lo / step) * step; t <= hi + step * 1e-9; t += step) out.push(+t.toPrecision(12));
  return out;
}

function label(v) {
  if (v === 0) return "0";
  if (Math.abs(v) >= 1e4 || Math.abs(v) < 1e-3) return v.toExponential(0);
  return String(+v.toPrecision(3));
}

/**
 * Draws `series` (arrays of y values at x = 0, 1, ...) on `canvas`.
 * options: title, xLabel, xMax (at least this many points wide), yMin, yMax (fixed range; by
 * default 0 to the largest value), colors, percent (y labels as percentages).
 */
export function drawChart(canvas, series, options = {}) {
  const { ctx, w, h } = context(canvas);
  const colors = options.colors || ["#0b6fb8", "#e8711c"];
  const pad = { left: 46, right: 12, top: 24, bottom: 30 };
  ctx.clearRect(0, 0, w, h);
  ctx.font = "12px system-ui, sans-serif";
  ctx.fillStyle = "#333";
  ctx.textAlign = "left"; // the context keeps its state from the previous drawing
  ctx.textBaseline = "alphabetic";
  if (options.title) {
    ctx.font = "600 12px system-ui, sans-serif";
    ctx.fillText(options.title, pad.left, 15);
    ctx.font = "11px system-ui, sans-serif";
  }

  const n = Math.max(options.xMax || 0, ...series.map((s) => s.length), 2);
  const finite = series.flat().filter(Number.isFinite);
  const yMin = options.yMin ?? 0;
  // A loop, not Math.max(...finite): spreading a long series (over about 120k values) into
  // arguments overflows the call stack.
  let yMax = options.yMax ?? (finite.length ? finite.reduce((m, v) => (v > m ? v : m)) : yMin + 1);
  if (!(yMax > yMin)) yMax = yMin + 1;
  const px = (i) => pad.left + (i / (n - 1)) * (w - pad.left - pad.right);
  const py = (v) => h - pad.bottom - ((v - yMin) / (yMax - yMin)) * (h - pad.top - pad.bottom);

  // Grid lines and labels.
  ctx.strokeStyle = "#e4e7ec";
  ctx.lineWidth = 1;
  ctx.fillStyle = "#667";
  ctx.textAlign = "right";
  ctx.textBaseline = "middle";
  for (const t of ticks(yMin, yMax, 4)) {
    const y = Math.round(py(t)) + 0.5;
    ctx.beginPath();
    ctx.moveTo(pad.left, y);
    ctx.lineTo(w - pad.right, y);
    ctx.stroke();
    ctx.fillText(options.percent ? `${Math.round(t * 100)}%` : label(t), pad.left - 6, y);
  }
  ctx.textAlign = "center";
  ctx.textBaseline = "top";
  for (const t of ticks(0, n - 1, 5)) {
    const x = px(t);
    ctx.fillText(label(t), x, h - pad.bottom + 5);
  }
  if (options.xLabel) {
    ctx.textAlign = "right";
    ctx.fillText(options.xLabel, w - pad.right, h - 13);
  }
  ctx.strokeStyle = "#99a";
  ctx.beginPath();
  ctx.moveTo(pad.left + 0.5, pad.top);
  ctx.lineTo(pad.left + 0.5, h - pad.bottom + 0.5);
  ctx.lineTo(w - pad.right, h - pad.bottom + 0.5);
  ctx.stroke();

  // The series, clipped to the plot area.
  ctx.save();
  ctx.beginPath();
  ctx.rect(pad.left, pad.top - 2, w - pad.left - pad.right, h - pad.top - pad.bottom + 4);
  ctx.clip();
  series.forEach((s, k) => {
    ctx.strokeStyle = colors[k % colors.length];
    ctx.lineWidth = 2;
    ctx.lineJoin = "round";
    ctx.beginPath();
    let drawing = false;
    s.forEach((v, i) => {
      if (!Number.isFinite(v)) {
        drawing = false;
        return;
      }
      if (drawing) ctx.lineTo(px(i), py(v));
      else ctx.moveTo(px(i), py(v));
      drawing = true;
    });
    ctx.stroke();
  });
  ctx.restore();
  if (!finite.length) {
    ctx.fillStyle = "#99a";
    ctx.textAlign = "center";
    ctx.textBaseline = "middle";
    ctx.fillText(options.empty || "no data yet", (pad.left + w - pad.right) / 2, (pad.top + h - pad.bottom) / 2);
  }
}
