// dropviz live view: the iteration counter and the network diagram, drawn in the browser.
// Fed once per displayed frame with compact frame data by app.py (Streamlit Components v2).
// Streamlit calls this function again with each new `data`; the SVG is built once per network
// shape and afterwards only its attributes change, so nothing jumps or flickers.
const NS = "http://www.w3.org/2000/svg";
const W = 1200, H = 730;
const TOP = 215, BOTTOM = 600;           // neurons live between these y
const INK = "#1a1a1a", MUTED = "#4a4a4a", DROPPED = "#c62828", EDGE = "#6b6b6b";
const VIRIDIS = [[68, 1, 84], [59, 82, 139], [33, 145, 140], [94, 201, 98], [253, 231, 37]];

function viridis(t) {
  t = Math.max(0, Math.min(1, t)) * (VIRIDIS.length - 1);
  const i = Math.min(Math.floor(t), VIRIDIS.length - 2), f = t - i;
  const c = VIRIDIS[i].map((v, k) => Math.round(v + f * (VIRIDIS[i + 1][k] - v)));
  return `rgb(${c[0]},${c[1]},${c[2]})`;
}

function niceAxis(v) {  // finer than niceCeil, for axes: 2.3 -> 2.5, not 5
  if (!(v > 0) || !isFinite(v)) return 1;
  const b = Math.pow(10, Math.floor(Math.log10(v)));
  for (const s of [1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10]) if (v <= s * b * (1 + 1e-9)) return s * b;
  return 10 * b;
}

function niceCeil(v) {
  if (!(v > 0) || !isFinite(v)) return 1;
  const b = Math.pow(10, Math.floor(Math.log10(v)));
  for (const s of [1, 2, 5, 10]) if (v <= s * b * (1 + 1e-9)) return s * b;
  return 10 * b;
}

function el(tag, attrs, parent, text) {
  const e = document.createElementNS(NS, tag);
  for (const k in attrs) e.setAttribute(k, attrs[k]);
  if (text !== undefined) e.textContent = text;
  if (parent) parent.appendChild(e);
  return e;
}

function columnYs(n, rows) {
  const step = (BOTTOM - TOP) / Math.max(rows - 1, 1);
  return Array.from({ length: n }, (_, i) => (TOP + BOTTOM) / 2 + (i - (n - 1) / 2) * step);
}

function shapeKey(d) {
  return JSON.stringify([d.input.kind, d.input.values.length, d.layers.map(l => l.act.length),
                         d.output.probs.length]);
}

// Build the static skeleton: one <g> per column, edges behind neurons.
function build(root, d) {
  root.innerHTML = "";
  const svg = el("svg", { viewBox: `0 0 ${W} ${H}`, width: "100%", role: "img",
                          "aria-label": "network diagram", "font-family": "Arial, Helvetica, sans-serif" }, root);
  const s = { svg, cols: [], edges: [], texts: {} };
  s.texts.counter = el("text", { x: 10, y: 56, "font-size": 58, "font-weight": 700, fill: INK,
                                 "data-testid": "iteration-counter" }, svg, "");
  s.texts.status = el("text", { x: 10, y: 96, "font-size": 24, fill: MUTED }, svg, "");
  s.texts.metrics = el("text", { x: W - 10, y: 36, "font-size": 24, fill: INK, "text-anchor": "end" }, svg, "");
  s.texts.twin = el("text", { x: W - 10, y: 66, "font-size": 24, fill: MUTED, "text-anchor": "end" }, svg, "");
  s.texts.tracked = el("text", { x: W - 10, y: 96, "font-size": 20, fill: MUTED, "text-anchor": "end" }, svg, "");

  const nHidden = d.layers.length, nCols = nHidden + 2;
  const imageIn = d.input.kind === "image";
  const x0 = imageIn ? 150 : 110, x1 = W - 190;  // room right of the outputs for "class 1 100% ← true"
  const xs = Array.from({ length: nCols }, (_, i) => x0 + (i * (x1 - x0)) / (nCols - 1));
  const counts = [imageIn ? 0 : d.input.values.length, ...d.layers.map(l => l.act.length), d.output.probs.length];
  const rows = Math.max(...counts, 2);
  const r = Math.max(7, Math.min(20, ((BOTTOM - TOP) / Math.max(rows - 1, 1)) * 0.36));
  // many layers: the per-layer texts would overlap, so the shared ones are said once for all layers
  s.compact = nCols > 6;
  const mid = (xs[1] + xs[nCols - 2]) / 2;
  s.shared = el("text", { x: mid, y: TOP - 40, "font-size": 21, fill: INK, "text-anchor": "middle" }, svg, "");
  s.sharedNote = el("text", { x: mid, y: BOTTOM + 66, "font-size": 18, fill: MUTED, "text-anchor": "middle" }, svg, "");
  const edgeG = el("g", { "stroke-width": 1.4 }, svg);
  const nodeG = el("g", {}, svg);

  for (let c = 0; c < nCols; c++) {
    const col = { x: xs[c], ys: [], nodes: [], crosses: [], header: null, note: null };
    if (c === 0 && imageIn) {
      const side = 8, px = Math.min(22, (2 * x0 - 40) / side), left = xs[0] - (px * side) / 2;
      const top = (TOP + BOTTOM) / 2 - (px * side) / 2;
      col.pixels = [];
      for (let i = 0; i < side * side; i++) {
        const rx = left + (i % side) * px, ry = top + Math.floor(i / side) * px;
        const rect = el("rect", { x: rx, y: ry, width: px, height: px, stroke: "#bbb", "stroke-width": 0.5 }, nodeG);
        const cross = el("path", { d: `M${rx + 3},${ry + 3}L${rx + px - 3},${ry + px - 3}M${rx + px - 3},${ry + 3}L${rx + 3},${ry + px - 3}`,
                                    stroke: DROPPED, "stroke-width": 2.5, visibility: "hidden" }, nodeG);
        col.pixels.push(rect); col.crosses.push(cross);
      }
      col.ys = [(TOP + BOTTOM) / 2];
      col.anchorX = left + px * side;
    } else {
      col.ys = columnYs(counts[c], rows);
      col.anchorX = xs[c];
      col.ys.forEach((y) => {
        const circle = el("circle", { cx: xs[c], cy: y, r, "stroke-width": 2.5 }, nodeG);
        const k = r * 0.62;
        const cross = el("path", { d: `M${xs[c] - k},${y - k}L${xs[c] + k},${y + k}M${xs[c] + k},${y - k}L${xs[c] - k},${y + k}`,
                                    stroke: DROPPED, "stroke-width": 3, visibility: "hidden" }, nodeG);
        col.nodes.push(circle); col.crosses.push(cross);
      });
    }
    const isOut = c === nCols - 1;
    // the header lines must fit between columns (10 columns at depth 8)
    // (compact: only "layer N" per column, the p and scale lines are said once for all layers)
    const fs = s.compact ? 21 : Math.max(14, Math.min(21, ((x1 - x0) / (nCols - 1)) / 6));
    col.header = el("text", { x: xs[c], y: TOP - 80, "font-size": fs, "font-weight": 700, fill: INK,
                              "text-anchor": "middle" }, svg, c === 0 ? "input" : isOut ? "output" : `layer ${c}`);
    col.sub = el("text", { x: xs[c], y: TOP - 55, "font-size": fs, fill: INK, "text-anchor": "middle" }, svg, "");
    col.sub2 = el("text", { x: xs[c], y: TOP - 30, "font-size": fs, fill: INK, "text-anchor": "middle" }, svg, "");
    col.note = el("text", { x: xs[c], y: BOTTOM + 38, "font-size": 18, fill: MUTED, "text-anchor": "middle" }, svg, "");
    col.note2 = el("text", { x: xs[c], y: BOTTOM + 62, "font-size": 18, fill: MUTED, "text-anchor": "middle" }, svg, "");
    col.range = el("text", { x: xs[c], y: BOTTOM + 86, "font-size": 16, fill: MUTED, "text-anchor": "middle" }, svg, "");
    if (isOut || (c === 0 && !imageIn)) {
      col.labels = col.ys.map((y) => el("text", { x: xs[c] + (isOut ? r + 8 : -r - 8), y: y + 6, "font-size": 18,
                                                  fill: INK, "text-anchor": isOut ? "start" : "end" }, svg, ""));
    }
    s.cols.push(col);
  }
  // edges between consecutive columns (from the image's right edge for digits)
  for (let c = 0; c + 1 < nCols; c++) {
    const a = s.cols[c], b = s.cols[c + 1], lines = [];
    a.ys.forEach((ya) => b.ys.forEach((yb) => {
      lines.push(el("line", { x1: a.anchorX + (a.pixels ? 0 : r), y1: ya, x2: b.x - r, y2: yb, stroke: EDGE }, edgeG));
    }));
    s.edges.push(lines);
  }
  s.legend = el("text", { x: 10, y: H - 8, "font-size": 18, fill: MUTED }, svg, "");
  s.r = r;
  return s;
}

function fmt(v, digits = 3) { return Number.isFinite(v) ? v.toFixed(digits) : String(v); }

function draw(s, d) {
  const test = d.test_time;
  s.texts.counter.textContent = `Iteration ${d.step}`;
  s.texts.status.textContent = d.status;
  s.texts.metrics.textContent = `test loss ${fmt(d.metrics.test_loss)} · test accuracy ${(100 * d.metrics.test_acc).toFixed(0)}%`;
  s.texts.twin.textContent = `p = 0 twin: test loss ${fmt(d.metrics.twin_test_loss)} · accuracy ${(100 * d.metrics.twin_test_acc).toFixed(0)}%`;
  s.texts.tracked.textContent = d.tracked;


  const keeps = [];
  // input column
  const inCol = s.cols[0];
  const inKeep = d.input.values.map((_, i) => test || !d.input.mask || d.input.mask[i] === 1);
  if (inCol.pixels) {
    inCol.pixels.forEach((rect, i) => {
      const g = Math.round(255 * (1 - Math.max(0, Math.min(1, d.input.values[i]))));
      rect.setAttribute("fill", inKeep[i] ? `rgb(${g},${g},${g})` : "#fff");
      inCol.crosses[i].setAttribute("visibility", inKeep[i] ? "hidden" : "visible");
    });
    keeps.push([true]);
  } else {
    inCol.nodes.forEach((n, i) => {
      n.setAttribute("fill", inKeep[i] ? "#e8eef7" : "#fff");
      n.setAttribute("stroke", inKeep[i] ? INK : DROPPED);
      n.setAttribute("stroke-dasharray", inKeep[i] ? "" : "5 4");
      inCol.crosses[i].setAttribute("visibility", inKeep[i] ? "hidden" : "visible");
      inCol.labels[i].textContent = `x${i + 1} = ${fmt(d.input.values[i], 2)}`;
    });
    keeps.push(inKeep);
  }
  inCol.sub.textContent = d.input_p > 0 ? (test ? "all kept" : `p = ${d.input_p}`) : "";
  inCol.sub2.textContent = d.input_p > 0 && !test ? d.input_scale : "";
  inCol.note.textContent = d.input.kind === "image" ? "8×8 image" : "";
  inCol.note2.textContent = "";

  d.layers.forEach((l, j) => {
    const col = s.cols[j + 1];
    const keep = l.act.map((_, i) => test || l.mask[i] === 1);
    // colour range per layer: a round number above its largest activation, so it rarely changes
    const vmax = niceCeil(Math.max(...l.act.map(Math.abs)));
    col.nodes.forEach((n, i) => {
      n.setAttribute("fill", keep[i] ? viridis(Math.abs(l.act[i]) / vmax) : "#fff");
      n.setAttribute("stroke", keep[i] ? INK : DROPPED);
      n.setAttribute("stroke-dasharray", keep[i] ? "" : "5 4");
      col.crosses[i].setAttribute("visibility", keep[i] ? "hidden" : "visible");
    });
    if (s.compact) {
      col.note.textContent = test ? "" : `${l.n_dropped}`;
      if (j === 0) {
        s.shared.textContent = `every hidden layer: ${l.header[0]}, ${l.header[1]}`;
        s.sharedNote.textContent = (test ? "none dropped" : `dropped this iteration, of ${l.width} per layer`) +
          (l.more ? ` · first ${l.act.length} neurons drawn` : "");
      }
    } else {
      col.sub.textContent = l.header[0];
      col.sub2.textContent = l.header[1];
      col.note.textContent = l.more;
      col.note2.textContent = l.dropped;
      col.range.textContent = `colour: 0 … ${vmax}`;
    }
    keeps.push(keep);
  });

  const outCol = s.cols[s.cols.length - 1];
  const best = d.output.probs.indexOf(Math.max(...d.output.probs));
  outCol.nodes.forEach((n, i) => {
    n.setAttribute("fill", viridis(d.output.probs[i]));
    n.setAttribute("stroke", i === d.output.label ? INK : MUTED);
    n.setAttribute("stroke-width", i === d.output.label ? 4 : 2);
    outCol.labels[i].textContent = `${d.output.names[i]} ${(100 * d.output.probs[i]).toFixed(0)}%` +
      (i === d.output.label ? " ← true" : "");
    outCol.labels[i].setAttribute("font-weight", i === best ? 700 : 400);
  });
  outCol.sub.textContent = test ? "prediction" : "this pass";
  outCol.sub2.textContent = "";
  outCol.note.textContent = "never dropped";
  if (s.compact) { outCol.note.setAttribute("text-anchor", "start"); outCol.note.setAttribute("x", outCol.x - s.r); }
  outCol.note2.textContent = "";
  keeps.push(d.output.probs.map(() => true));

  s.edges.forEach((lines, c) => {
    const a = keeps[c], b = keeps[c + 1];
    let k = 0;
    for (let i = 0; i < a.length; i++) for (let m = 0; m < b.length; m++, k++) {
      const on = a[i] && b[m];
      lines[k].setAttribute("stroke-opacity", on ? 0.38 : 0.05);
    }
  });
  s.legend.textContent = test
    ? "Test time: nothing is dropped, every neuron is active. Colour = activation (dark = 0, yellow = high)."
    : "Filled = kept, colour = activation (dark = 0, yellow = high). Empty with red ✕ = dropped this iteration: sends 0, gets no gradient.";
}

// ------------------------------------------------------------------ live loss curves
const CW = 800, CH = 730, PL = 96, PR = 30, PT = 116, PB = 560;

function buildCurves(root) {
  root.innerHTML = "";
  const svg = el("svg", { viewBox: `0 0 ${CW} ${CH}`, width: "100%", role: "img", "aria-label": "loss curves",
                          "font-family": "Arial, Helvetica, sans-serif" }, root);
  const c = { svg };
  el("text", { x: 10, y: 36, "font-size": 28, "font-weight": 700, fill: INK }, svg, "Loss (cross-entropy)");
  c.sub = el("text", { x: 10, y: 64, "font-size": 19, fill: MUTED }, svg,
             "both measured without dropout; lower is better");
  c.grid = el("g", {}, svg);
  c.markers = el("g", {}, svg);
  c.lines = el("g", { fill: "none", "stroke-linejoin": "round" }, svg);
  c.labels = el("g", {}, svg);
  el("line", { x1: PL, y1: PB, x2: CW - PR, y2: PB, stroke: INK, "stroke-width": 2 }, svg);
  el("line", { x1: PL, y1: PT, x2: PL, y2: PB, stroke: INK, "stroke-width": 2 }, svg);
  el("text", { x: (PL + CW - PR) / 2, y: PB + 62, "font-size": 20, fill: INK, "text-anchor": "middle" }, svg, "iteration");
  c.gap = el("text", { x: 10, y: 96, "font-size": 22, "font-weight": 700, fill: INK }, svg, "");
  // legend
  const ly = PB + 100, items = [["test", "#d95f02", ""], ["train", "#1b63b5", ""]];
  items.forEach(([name, color], i) => {
    const x = 10 + i * 140;
    el("line", { x1: x, y1: ly - 7, x2: x + 40, y2: ly - 7, stroke: color, "stroke-width": 5 }, svg);
    el("text", { x: x + 48, y: ly, "font-size": 20, fill: INK }, svg, name);
  });
  el("line", { x1: 300, y1: ly - 7, x2: 350, y2: ly - 7, stroke: INK, "stroke-width": 4 }, svg);
  c.mainName = el("text", { x: 358, y: ly, "font-size": 20, fill: INK }, svg, "this run");
  el("line", { x1: 540, y1: ly - 7, x2: 590, y2: ly - 7, stroke: INK, "stroke-width": 3, "stroke-dasharray": "10 7" }, svg);
  el("text", { x: 598, y: ly, "font-size": 20, fill: INK }, svg, "twin, p = 0");
  return c;
}

function upTo(s, step) {
  if (s.run === "ghost") return s;
  let n = s.x.length;
  while (n > 0 && s.x[n - 1] > step) n--;
  return { ...s, x: s.x.slice(0, n), y: s.y.slice(0, n) };
}

function drawCurves(c, d, step) {
  // the curves follow the frame on screen: points of later iterations wait for their frame
  const all = d.series.map(s => upTo(s, step)).filter(s => s.x.length);
  let xmax = 10, ymax = 0;
  all.forEach(s => { xmax = Math.max(xmax, s.x[s.x.length - 1]); });
  // the y range follows this run and its twin; a ghost that blew up must not flatten them
  all.filter(s => s.run !== "ghost").forEach(s => s.y.forEach(v => { if (isFinite(v)) ymax = Math.max(ymax, v); }));
  xmax = niceAxis(xmax); ymax = niceAxis(ymax || 1);
  const X = v => PL + (v / xmax) * (CW - PR - PL);
  const Y = v => PB - (Math.min(v, ymax) / ymax) * (PB - PT);
  const gkey = `${xmax}|${ymax}`;
  if (c.gkey !== gkey) {
    c.gkey = gkey;
    c.grid.innerHTML = "";
    const ys = niceCeil(ymax / 5), xs = niceCeil(xmax / 5);  // round tick steps: 1, 2 or 5 x 10^k
    for (let yv = 0; yv <= ymax * 1.0001; yv += ys) {
      el("line", { x1: PL, y1: Y(yv), x2: CW - PR, y2: Y(yv), stroke: "#d0d0d0" }, c.grid);
      el("text", { x: PL - 10, y: Y(yv) + 7, "font-size": 19, fill: INK, "text-anchor": "end" }, c.grid,
         +yv.toPrecision(3));
    }
    for (let xv = 0; xv <= xmax * 1.0001; xv += xs) {
      el("text", { x: X(xv), y: PB + 30, "font-size": 19, fill: INK, "text-anchor": "middle" }, c.grid,
         +xv.toPrecision(4));
    }
  }
  // polylines: reuse elements, one per series, in a stable order (ghosts behind)
  while (c.lines.childNodes.length < all.length) el("polyline", {}, c.lines);
  while (c.lines.childNodes.length > all.length) c.lines.removeChild(c.lines.lastChild);
  c.labels.innerHTML = "";
  all.forEach((s, i) => {
    const pl = c.lines.childNodes[i];
    pl.setAttribute("points", s.x.map((x, k) => `${X(x).toFixed(1)},${Y(s.y[k]).toFixed(1)}`).join(" "));
    pl.setAttribute("stroke", s.color);
    pl.setAttribute("stroke-width", s.width);
    pl.setAttribute("stroke-dasharray", s.dash);
    pl.setAttribute("stroke-opacity", s.opacity);
    if (s.label) {
      const n = s.x.length - 1;
      el("text", { x: Math.min(X(s.x[n]), CW - PR), y: Y(s.y[n]) - 8, "font-size": 16, fill: "#555",
                   "text-anchor": "end" }, c.labels, s.label);
    }
  });
  c.markers.innerHTML = "";
  d.p_changes.forEach(([step, p]) => {
    el("line", { x1: X(step), y1: PT, x2: X(step), y2: PB, stroke: INK, "stroke-width": 2, "stroke-dasharray": "3 5" }, c.markers);
    el("text", { x: X(step) + 4, y: PT + 20, "font-size": 19, fill: INK }, c.markers, `p → ${p}`);
  });
  c.mainName.textContent = `this run, p = ${d.p}`;
  const last = run => { const s = all.find(t => t.run === run && t.name === "test"); return s ? s.y[s.y.length - 1] : null; };
  const a = last("main"), b = last("twin");
  const gap = a === null || b === null ? null : a - b;
  const verdict = gap === null || Math.abs(gap) < 0.0005 ? "" : gap < 0 ? " (dropout better)" : " (twin better)";
  c.gap.textContent = gap === null ? "" :
    `test loss, this run − twin: ${gap >= 0 ? "+" : "−"}${Math.abs(gap).toFixed(3)}${verdict}`;
}

function pane(parent, cls) {
  let host = parent.querySelector(`div.${cls}`);
  if (!host) {
    host = document.createElement("div");
    host.className = cls;
    parent.appendChild(host);
  }
  return host;
}

// ------------------------------------------------------------------ playback
// Python sends frames in batches (one Streamlit rerun per batch); they are shown one every
// interval_ms. A new epoch (settings changed, step, reset) drops frames not yet shown.
function show(root, st, frame) {
  const key = shapeKey(frame);
  if (!st.diagram || st.diagram.key !== key) {
    st.diagram = build(pane(st.row, "diagram"), frame);
    st.diagram.key = key;
  }
  draw(st.diagram, frame);
  if (!st.curves) st.curves = buildCurves(pane(st.row, "curves"));
  drawCurves(st.curves, st.curvesData, frame.step);
  const w = window.__dropviz || (window.__dropviz = { draws: 0, times: [] });
  w.draws += 1;
  w.step = frame.step;
  w.p = frame.p;
  w.times.push(performance.now());
  if (w.times.length > 4000) w.times.splice(0, 2000);
}

function pump(root, st) {
  st.timer = null;
  if (!st.queue.length) return;
  show(root, st, st.queue.shift());
  if (!st.queue.length) return;
  // keep the cadence: aim at the next slot rather than "interval after this (late) draw"
  const now = performance.now();
  st.due = Math.max(now, (st.due || now) + st.interval);
  st.timer = setTimeout(() => pump(root, st), st.due - now);
}

export default function (component) {
  const { data, parentElement } = component;
  if (!data || !data.frames || !data.frames.length) return;
  const st = parentElement.__dropviz || (parentElement.__dropviz = { queue: [], timer: null });
  st.row = pane(parentElement, "dropviz-live");
  st.curvesData = data.curves;
  st.interval = data.interval_ms;
  if (st.epoch !== data.epoch) {
    st.epoch = data.epoch;
    st.queue = [];
    if (st.timer) { clearTimeout(st.timer); st.timer = null; }
  }
  st.queue.push(...data.frames);
  // never fall more than two batches behind the engine
  const limit = 2 * data.frames.length + 1;
  if (st.queue.length > limit) st.queue.splice(0, st.queue.length - limit);
  if (!st.timer) { st.due = performance.now(); pump(parentElement, st); }
  // first view of a session: the frame is on screen, now ask Python for the rest of the page
  if (data.request_panels && !st.requested) {
    st.requested = true;
    requestAnimationFrame(() => component.setTriggerValue("ready", true));
  }
}
