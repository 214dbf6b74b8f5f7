// dropviz live view: the iteration counter, the network diagram and the loss curves, drawn in the browser.
// It only draws: every word, number format, colour and line style comes in the data that
// dropviz/live/payload.py sends (Streamlit Components v2), so the Plotly figures and this view say the
// same. Streamlit calls this function again with each new `data`; the SVG is built once per network
// shape and afterwards only its attributes and texts change, so nothing jumps or flickers.
const NS = "http://www.w3.org/2000/svg";
const W = 1200, H = 730;
const TOP = 215, BOTTOM = 600;           // neurons live between these y

function rgb(c) { return `rgb(${c[0]},${c[1]},${c[2]})`; }

// scale: [[position, [r, g, b]], ...] from 0 to 1, as the payload sends it
function colorAt(scale, t) {
  t = Math.max(0, Math.min(1, Number.isFinite(t) ? t : 0));
  let i = 0;
  while (i < scale.length - 2 && t > scale[i + 1][0]) i++;
  const [t0, c0] = scale[i], [t1, c1] = scale[i + 1];
  const f = t1 > t0 ? (t - t0) / (t1 - t0) : 0;
  return rgb(c0.map((v, k) => Math.round(v + f * (c1[k] - v))));
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
  const cols = d.columns;
  return JSON.stringify([d.image, d.compact, cols[0].values.length, cols.slice(1, -1).map(c => c.act.length),
                         cols[cols.length - 1].probs.length]);
}

// Build the static skeleton: one <g> per column, edges behind neurons.
function build(root, d, look) {
  root.innerHTML = "";
  const C = look.colors;
  const svg = el("svg", { viewBox: `0 0 ${W} ${H}`, width: "100%", role: "img",
                          "aria-label": look.aria.diagram, "font-family": look.font }, root);
  const s = { svg, cols: [], edges: [], texts: {} };
  s.texts.counter = el("text", { x: 10, y: 56, "font-size": 58, "font-weight": 700, fill: C.ink,
                                 "data-testid": "iteration-counter" }, svg, "");
  s.texts.status = el("text", { x: 10, y: 96, "font-size": 24, fill: C.muted }, svg, "");
  s.texts.metrics = el("text", { x: W - 10, y: 36, "font-size": 24, fill: C.ink, "text-anchor": "end" }, svg, "");
  s.texts.twin = el("text", { x: W - 10, y: 66, "font-size": 24, fill: C.muted, "text-anchor": "end" }, svg, "");
  s.texts.tracked = el("text", { x: W - 10, y: 96, "font-size": 20, fill: C.muted, "text-anchor": "end" }, svg, "");

  const nCols = d.columns.length, imageIn = d.image;
  const x0 = imageIn ? 150 : 110, x1 = W - 190;  // room right of the outputs for "class 1 100% ← true"
  const xs = Array.from({ length: nCols }, (_, i) => x0 + (i * (x1 - x0)) / (nCols - 1));
  const counts = d.columns.map((col, c) => c === 0 ? (imageIn ? 0 : col.values.length)
                                           : c === nCols - 1 ? col.probs.length : col.act.length);
  const rows = Math.max(...counts, 2);
  const r = Math.max(7, Math.min(20, ((BOTTOM - TOP) / Math.max(rows - 1, 1)) * 0.36));
  // many layers: the payload says the per-layer texts once for all layers, in the middle
  s.compact = d.compact;
  const mid = (xs[1] + xs[nCols - 2]) / 2;
  s.shared = el("text", { x: mid, y: TOP - 40, "font-size": 21, fill: C.ink, "text-anchor": "middle" }, svg, "");
  s.sharedNote = el("text", { x: mid, y: BOTTOM + 66, "font-size": 18, fill: C.muted, "text-anchor": "middle" }, svg, "");
  const edgeG = el("g", { "stroke-width": 1.4 }, svg);
  const nodeG = el("g", {}, svg);

  for (let c = 0; c < nCols; c++) {
    const col = { x: xs[c], ys: [], nodes: [], crosses: [] };
    if (c === 0 && imageIn) {
      const side = Math.round(Math.sqrt(d.columns[0].values.length));
      const px = Math.min(22, (2 * x0 - 40) / side), left = xs[0] - (px * side) / 2;
      const top = (TOP + BOTTOM) / 2 - (px * side) / 2;
      col.pixels = [];
      for (let i = 0; i < side * side; i++) {
        const rx = left + (i % side) * px, ry = top + Math.floor(i / side) * px;
        const rect = el("rect", { x: rx, y: ry, width: px, height: px, stroke: C.pixel_edge, "stroke-width": 0.5 }, nodeG);
        const cross = el("path", { d: `M${rx + 3},${ry + 3}L${rx + px - 3},${ry + px - 3}M${rx + px - 3},${ry + 3}L${rx + 3},${ry + px - 3}`,
                                    stroke: C.dropped, "stroke-width": 2.5, visibility: "hidden" }, nodeG);
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
                                    stroke: C.dropped, "stroke-width": 3, visibility: "hidden" }, nodeG);
        col.nodes.push(circle); col.crosses.push(cross);
      });
    }
    const isOut = c === nCols - 1;
    // the header lines must fit between columns (10 columns at depth 8)
    const fs = s.compact ? 21 : Math.max(14, Math.min(21, ((x1 - x0) / (nCols - 1)) / 6));
    col.title = el("text", { x: xs[c], y: TOP - 80, "font-size": fs, "font-weight": 700, fill: C.ink,
                             "text-anchor": "middle" }, svg, "");
    col.lines = [TOP - 55, TOP - 30].map(y => el("text", { x: xs[c], y, "font-size": fs, fill: C.ink,
                                                          "text-anchor": "middle" }, svg, ""));
    col.notes = [[BOTTOM + 38, 18], [BOTTOM + 62, 18], [BOTTOM + 86, 16]].map(([y, size]) =>
      el("text", { x: xs[c], y, "font-size": size, fill: C.muted, "text-anchor": "middle" }, svg, ""));
    if (isOut && s.compact) { col.notes[0].setAttribute("text-anchor", "start"); col.notes[0].setAttribute("x", xs[c] - r); }
    if (isOut || (c === 0 && !imageIn)) {
      col.labels = col.ys.map((y) => el("text", { x: xs[c] + (isOut ? r + 8 : -r - 8), y: y + 6, "font-size": 18,
                                                  fill: C.ink, "text-anchor": isOut ? "start" : "end" }, svg, ""));
    }
    s.cols.push(col);
  }
  // edges between consecutive columns (from the image's right edge for an image input)
  for (let c = 0; c + 1 < nCols; c++) {
    const a = s.cols[c], b = s.cols[c + 1], lines = [];
    a.ys.forEach((ya) => b.ys.forEach((yb) => {
      lines.push(el("line", { x1: a.anchorX + (a.pixels ? 0 : r), y1: ya, x2: b.x - r, y2: yb, stroke: C.edge }, edgeG));
    }));
    s.edges.push(lines);
  }
  s.legend = el("text", { x: 10, y: H - 8, "font-size": 18, fill: C.muted }, svg, "");
  return s;
}

function setNode(n, cross, kept, fill, look) {
  const C = look.colors;
  n.setAttribute("fill", kept ? fill : C.empty);
  n.setAttribute("stroke", kept ? C.ink : C.dropped);
  n.setAttribute("stroke-dasharray", kept ? "" : look.dropped_dash);
  cross.setAttribute("visibility", kept ? "hidden" : "visible");
}

function draw(s, d, look) {
  const C = look.colors;
  s.texts.counter.textContent = d.counter;
  s.texts.status.textContent = d.status;
  s.texts.metrics.textContent = d.metrics;
  s.texts.twin.textContent = d.twin;
  s.texts.tracked.textContent = d.tracked;
  s.shared.textContent = d.shared;
  s.sharedNote.textContent = d.shared_note;
  s.legend.textContent = d.legend;
  d.columns.forEach((data, c) => {
    const col = s.cols[c];
    col.title.textContent = data.title;
    col.lines.forEach((t, k) => { t.textContent = data.lines[k]; });
    col.notes.forEach((t, k) => { t.textContent = data.notes[k]; });
  });

  const keeps = [];
  const last = d.columns.length - 1;
  // input column: pixels of an image, or one neuron per feature
  const inCol = s.cols[0], input = d.columns[0];
  if (inCol.pixels) {
    inCol.pixels.forEach((rect, i) => {
      rect.setAttribute("fill", input.keep[i] ? colorAt(look.image_scale, input.values[i]) : C.empty);
      inCol.crosses[i].setAttribute("visibility", input.keep[i] ? "hidden" : "visible");
    });
    keeps.push([true]);
  } else {
    inCol.nodes.forEach((n, i) => {
      setNode(n, inCol.crosses[i], input.keep[i] === 1, C.input, look);
      inCol.labels[i].textContent = input.labels[i];
    });
    keeps.push(input.keep.map(k => k === 1));
  }
  // hidden layers: kept neurons coloured by activation, dropped ones empty and crossed out
  for (let c = 1; c < last; c++) {
    const col = s.cols[c], layer = d.columns[c];
    const keep = layer.keep.map(k => k === 1);
    col.nodes.forEach((n, i) => {
      setNode(n, col.crosses[i], keep[i], colorAt(look.activation_scale, Math.abs(layer.act[i]) / layer.color_max), look);
    });
    keeps.push(keep);
  }
  // outputs: never dropped; the true class ringed, the most probable one in bold
  const outCol = s.cols[last], out = d.columns[last];
  outCol.nodes.forEach((n, i) => {
    n.setAttribute("fill", colorAt(look.activation_scale, out.probs[i]));
    n.setAttribute("stroke", i === out.label ? C.ink : C.muted);
    n.setAttribute("stroke-width", i === out.label ? 4 : 2);
    outCol.labels[i].textContent = out.labels[i];
    outCol.labels[i].setAttribute("font-weight", i === out.best ? 700 : 400);
  });
  keeps.push(out.probs.map(() => true));

  s.edges.forEach((lines, c) => {
    const a = keeps[c], b = keeps[c + 1];
    let k = 0;
    for (let i = 0; i < a.length; i++) for (let m = 0; m < b.length; m++, k++) {
      lines[k].setAttribute("stroke-opacity", a[i] && b[m] ? 0.38 : 0.05);
    }
  });
}

// ------------------------------------------------------------------ live loss curves
const CW = 800, CH = 730, PL = 96, PR = 30, PT = 116, PB = 560;

function textWidth(t, size) {  // measured when laid out, else estimated
  const w = t.getComputedTextLength ? t.getComputedTextLength() : 0;
  return w > 0 ? w : 0.55 * size * t.textContent.length;
}

function buildCurves(root, d, look) {
  root.innerHTML = "";
  const C = look.colors;
  const svg = el("svg", { viewBox: `0 0 ${CW} ${CH}`, width: "100%", role: "img", "aria-label": look.aria.curves,
                          "font-family": look.font }, root);
  const c = { svg };
  c.title = el("text", { x: 10, y: 36, "font-size": 28, "font-weight": 700, fill: C.ink }, svg, "");
  c.sub = el("text", { x: 10, y: 64, "font-size": 19, fill: C.muted }, svg, "");
  c.grid = el("g", {}, svg);
  c.markers = el("g", {}, svg);
  c.lines = el("g", { fill: "none", "stroke-linejoin": "round" }, svg);
  c.labels = el("g", {}, svg);
  el("line", { x1: PL, y1: PB, x2: CW - PR, y2: PB, stroke: C.ink, "stroke-width": 2 }, svg);
  el("line", { x1: PL, y1: PT, x2: PL, y2: PB, stroke: C.ink, "stroke-width": 2 }, svg);
  c.xTitle = el("text", { x: (PL + CW - PR) / 2, y: PB + 62, "font-size": 20, fill: C.ink, "text-anchor": "middle" }, svg, "");
  c.gap = el("text", { x: 10, y: 96, "font-size": 22, "font-weight": 700, fill: C.ink }, svg, "");
  c.legend = el("g", {}, svg);
  return c;
}

// the legend: a swatch and a text per item, in rows that wrap at the chart's width
function drawLegend(c, items, look) {
  const key = JSON.stringify(items);
  if (c.legendKey === key) return;
  c.legendKey = key;
  c.legend.innerHTML = "";
  let x = 10, y = PB + 100;
  items.forEach((item) => {
    const g = el("g", {}, c.legend);
    el("line", { x1: 0, y1: -7, x2: 40, y2: -7, stroke: item.color, "stroke-width": item.width,
                 "stroke-dasharray": item.dash }, g);
    const t = el("text", { x: 48, y: 0, "font-size": 20, fill: look.colors.ink }, g, item.text);
    const w = 48 + textWidth(t, 20);
    if (x > 10 && x + w > CW - 10) { x = 10; y += 30; }
    g.setAttribute("transform", `translate(${x},${y})`);
    x += w + 30;
  });
}

function upTo(s, step) {
  if (s.run === "ghost") return s;
  let n = s.x.length;
  while (n > 0 && s.x[n - 1] > step) n--;
  return { ...s, x: s.x.slice(0, n), y: s.y.slice(0, n) };
}

function drawCurves(c, d, frame, look) {
  const C = look.colors;
  c.title.textContent = d.title;
  c.sub.textContent = d.subtitle;
  c.xTitle.textContent = d.x_title;
  c.gap.textContent = frame.gap;
  drawLegend(c, d.legend, look);
  // the curves follow the frame on screen: points of later iterations wait for their frame
  const all = d.series.map(s => upTo(s, frame.step)).filter(s => s.x.length);
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
      el("line", { x1: PL, y1: Y(yv), x2: CW - PR, y2: Y(yv), stroke: C.grid }, c.grid);
      el("text", { x: PL - 10, y: Y(yv) + 7, "font-size": 19, fill: C.ink, "text-anchor": "end" }, c.grid,
         +yv.toPrecision(3));
    }
    for (let xv = 0; xv <= xmax * 1.0001; xv += xs) {
      el("text", { x: X(xv), y: PB + 30, "font-size": 19, fill: C.ink, "text-anchor": "middle" }, c.grid,
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
      el("text", { x: Math.min(X(s.x[n]), CW - PR), y: Y(s.y[n]) - 8, "font-size": 16, fill: C.muted,
                   "text-anchor": "end" }, c.labels, s.label);
    }
  });
  c.markers.innerHTML = "";
  d.markers.forEach((m) => {
    el("line", { x1: X(m.step), y1: PT, x2: X(m.step), y2: PB, stroke: m.color, "stroke-width": m.width,
                 "stroke-dasharray": m.dash }, c.markers);
    el("text", { x: X(m.step) + 4, y: PT + 20, "font-size": 19, fill: m.color }, c.markers, m.text);
  });
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
// Python sends a rerun's frames together; they are shown one every interval_ms. A new epoch
// (settings changed, step, reset) drops frames not yet shown.
function show(st, frame) {
  const key = shapeKey(frame);
  if (!st.diagram || st.diagram.key !== key) {
    st.diagram = build(pane(st.row, "diagram"), frame, st.look);
    st.diagram.key = key;
  }
  draw(st.diagram, frame, st.look);
  if (!st.curves) st.curves = buildCurves(pane(st.row, "curves"), st.curvesData, st.look);
  drawCurves(st.curves, st.curvesData, frame, st.look);
}

function pump(st) {
  st.timer = null;
  if (!st.queue.length) return;
  show(st, st.queue.shift());
  if (!st.queue.length) return;
  // keep the cadence: aim at the next slot rather than "interval after this (late) draw"
  const now = performance.now();
  st.due = Math.max(now, (st.due || now) + st.interval);
  st.timer = setTimeout(() => pump(st), st.due - now);
}

export default function (component) {
  const { data, parentElement } = component;
  if (!data || !data.frames || !data.frames.length) return;
  const st = parentElement.__playback || (parentElement.__playback = { queue: [], timer: null });
  st.row = pane(parentElement, "dropviz-live");
  st.curvesData = data.curves;
  st.look = data.look;
  st.interval = data.interval_ms;
  if (st.epoch !== data.epoch) {
    st.epoch = data.epoch;
    st.queue = [];
    if (st.timer) { clearTimeout(st.timer); st.timer = null; }
  }
  st.queue.push(...data.frames);
  // never fall more than two reruns behind the engine
  const limit = 2 * data.frames.length + 1;
  if (st.queue.length > limit) st.queue.splice(0, st.queue.length - limit);
  if (!st.timer) { st.due = performance.now(); pump(st); }
  // first view of a session: the frame is on screen, now ask Python for the rest of the page
  if (data.request_panels && !st.requested) {
    st.requested = true;
    requestAnimationFrame(() => component.setTriggerValue("ready", true));
  }
}
