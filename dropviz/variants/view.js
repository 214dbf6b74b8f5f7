// dropviz Variants view: the counter, the masks of a conv net, an RNN or a dense net, the rescaling and the
// curves against the no-dropout twin, drawn in the browser. It only draws: every word, number and colour
// comes in the data dropviz/variants/payload.py sends (Streamlit Components v2). Each SVG is built once per
// shape and pane size; afterwards only attributes and texts change.
//
// Playback (data.pull): while playing, the browser asks Python for the next frames ("pull" trigger) while it
// still has about a round trip's worth to draw, with one request unanswered at most. Python computes them
// when asked, never ahead. Pause is seen here at the press, before Python hears of it: the asking stops, the
// frame on screen stays, and its iteration goes to Python ("pause" trigger), which takes the engine back to
// it; frames that arrive later are not drawn. So nothing moves after the press, and the frame on screen is
// the engine's state (a paused payload's frame is always drawn: if the engine could not go back, it shows).
// Space (dropviz/live/keys.js) and a hidden tab (Page Visibility) press the page's button, so they pause the
// same way (pressButtons).
const NS = "http://www.w3.org/2000/svg";
const MAX_AHEAD = 5;
const PAUSE_BUTTON = ".st-key-v_pause button";
const PLAY_BUTTON = ".st-key-v_play button";
const STOP_BUTTONS = [PAUSE_BUTTON, ".st-key-v_step button", ".st-key-v_reset button"];

// text scale: 1 up to a 1280x720 window, then with the window (1.5 at 1920x1080)
function unit() { return Math.max(1, Math.min(window.innerWidth / 1280, window.innerHeight / 720)); }
function rgb(c) { return `rgb(${c[0]},${c[1]},${c[2]})`; }

const COLORS = new Map();  // per scale (as JSON): its 101 colours of whole percents
function percentColors(scale) {
  const key = JSON.stringify(scale);
  let table = COLORS.get(key);
  if (!table) COLORS.set(key, table = Array.from({ length: 101 }, (_, k) => colorAt(scale, k / 100)));
  return table;
}

function colorAt(scale, t) {
  t = Math.max(0, Math.min(1, Number.isFinite(t) ? t : 0));
  let i = 0;
  while (i < scale.length - 2 && t > scale[i + 1][0]) i++;
  const [t0, c0] = scale[i], [t1, c1] = scale[i + 1];
  const f = t1 > t0 ? (t - t0) / (t1 - t0) : 0;
  return rgb(c0.map((v, k) => Math.round(v + f * (c1[k] - v))));
}

function niceAxis(v) {
  if (!(v > 0) || !isFinite(v)) return 1;
  const b = Math.pow(10, Math.floor(Math.log10(v)));
  for (const s of [1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10]) if (v <= s * b * (1 + 1e-9)) return s * b;
  return 10 * b;
}

// a round tick step (1, 2, 2.5 or 5 x 10^k) giving at most `n` steps up to v
function tickStep(v, n) {
  const raw = v / n, b = Math.pow(10, Math.floor(Math.log10(raw)));
  for (const s of [1, 2, 2.5, 5, 10]) if (raw <= s * b * (1 + 1e-9)) return s * b;
  return 10 * b;
}

function el(tag, attrs, parent, text) {
  const e = document.createElementNS(NS, tag);
  for (const k in attrs) e.setAttribute(k, attrs[k]);
  if (text !== undefined) e.textContent = text;
  if (parent) parent.appendChild(e);
  return e;
}

function setText(t, value) { if (t.textContent !== value) t.textContent = value; }

// words wrapped to lines no wider than max px (Arial's mean character width, about half the size)
function wrap(text, size, max) {
  const lines = [];
  let line = "";
  String(text || "").split(" ").forEach((word) => {
    const next = line ? `${line} ${word}` : word;
    if (line && next.length * 0.5 * size > max) { lines.push(line); line = word; } else line = next;
  });
  if (line) lines.push(line);
  return lines;
}

function setLines(t, lines, x, lh) {
  const key = lines.join("\n");
  if (t.__key === key) return;
  t.__key = key;
  t.textContent = "";
  lines.forEach((line, k) => el("tspan", { x, dy: k ? lh : 0 }, t, line));
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

function newSvg(host, w, h, look, label) {
  host.innerHTML = "";
  return el("svg", { viewBox: `0 0 ${w} ${h}`, width: w, height: h, role: "img", "aria-label": label,
                     "font-family": look.font }, host);
}

// ------------------------------------------------------------------ the header: counter and numbers
function buildHeader(host, look, w) {
  const U = unit(), C = look.colors, big = Math.round(40 * U), n = 18 * U, lh = 23 * U;
  const h = Math.round(big + 2 * lh + 6 * U);
  const svg = newSvg(host, w, h, look, "iteration and test numbers");
  return {
    w, U, lh, n,
    counter: el("text", { x: 6 * U, y: big * 0.9, "font-size": big, "font-weight": 700, fill: C.ink,
                          "data-testid": "iteration-counter" }, svg, ""),
    metrics: el("text", { x: 6 * U, y: big + lh * 0.9, "font-size": n, fill: C.ink }, svg, ""),
    twin: el("text", { x: 6 * U, y: big + 1.9 * lh, "font-size": n, fill: C.muted }, svg, ""),
  };
}

function drawHeader(s, f) {
  setText(s.counter, f.counter);
  setText(s.metrics, f.metrics);
  setText(s.twin, f.twin);
}

// ------------------------------------------------------------------ the mask panel's title lines
function headHeight(f, w, U) {  // the title and subtitle wrapped to the pane, and a gap under them
  const pad = 6 * U;
  return 21 * U + (wrap(f.title, 21 * U, w - 2 * pad).length - 1) * 1.3 * 21 * U +
         wrap(f.subtitle, 16 * U, w - 2 * pad).length * 1.3 * 16 * U + 16 * U;
}

function titleBlock(svg, look, f, w, U) {
  const C = look.colors, t = 21 * U, sm = 16 * U, lh = 1.3 * t, slh = 1.3 * sm, pad = 6 * U;
  const tl = wrap(f.title, t, w - 2 * pad), sl = wrap(f.subtitle, sm, w - 2 * pad);
  const title = el("text", { x: pad, y: t, "font-size": t, "font-weight": 700, fill: C.ink }, svg);
  const sub = el("text", { x: pad, y: t + (tl.length - 1) * lh + slh + 2 * U, "font-size": sm, fill: C.muted }, svg);
  return { title, sub, pad, t, sm, lh, slh, bottom: t + (tl.length - 1) * lh + sl.length * slh + 12 * U };
}

function drawTitle(b, f, w) {
  setLines(b.title, wrap(f.title, b.t, w - 2 * b.pad), b.pad, b.lh);
  setLines(b.sub, wrap(f.subtitle, b.sm, w - 2 * b.pad), b.pad, b.slh);
}

// ------------------------------------------------------------------ conv: feature maps, crosses on dropped cells
const PER_ROW = 8;

function buildConv(host, look, f, w) {
  const U = unit(), C = look.colors, layers = f.masks.layers;
  const rows = layers.reduce((a, l) => a + Math.ceil(l.channels / PER_ROW), 0);
  const head = headHeight(f, w, U);
  const gap = 8 * U, labelH = 26 * U;
  const maxH = Math.max(300, 0.9 * window.innerHeight - 140 * U);
  let tile = (w - 12 * U - (PER_ROW - 1) * gap) / PER_ROW;
  tile = Math.max(32, Math.min(tile, (maxH - head - layers.length * labelH - rows * gap) / rows));
  const h = Math.round(head + layers.length * labelH + rows * (tile + gap) + 4 * U);
  const svg = newSvg(host, w, h, look, "feature maps and their masks");
  const s = { svg, w, h, kind: "conv", tb: titleBlock(svg, look, f, w, U), layers: [] };
  let y = head;
  layers.forEach((layer) => {
    const L = { cells: [], big: [], label: el("text", { x: 6 * U, y: y + 18 * U, "font-size": 16 * U, fill: C.ink }, svg, "") };
    y += labelH;
    const side = layer.side, cell = tile / side;
    const g = el("g", {}, svg);
    for (let c = 0; c < layer.channels; c++) {
      const x0 = 6 * U + (c % PER_ROW) * (tile + gap), y0 = y + Math.floor(c / PER_ROW) * (tile + gap);
      for (let i = 0; i < side * side; i++) {
        L.cells.push(el("rect", { x: (x0 + (i % side) * cell).toFixed(1), y: (y0 + Math.floor(i / side) * cell).toFixed(1),
                                  width: (cell + 0.4).toFixed(1), height: (cell + 0.4).toFixed(1) }, g));
      }
      // a whole dropped channel: faded, with one large cross
      const big = el("g", { visibility: "hidden" }, svg);
      el("rect", { x: x0, y: y0, width: tile, height: tile, fill: "rgba(255,255,255,0.55)", stroke: C.dropped,
                   "stroke-width": 2 * U }, big);
      el("path", { d: `M${x0},${y0}L${x0 + tile},${y0 + tile}M${x0 + tile},${y0}L${x0},${y0 + tile}`,
                   stroke: C.dropped, "stroke-width": 5 * U }, big);
      L.big.push(big);
    }
    L.cell = cell;
    L.side = side;
    const top = y;  // this layer's first row of tiles (y moves on to the next layer)
    L.origin = (c) => [6 * U + (c % PER_ROW) * (tile + gap), top + Math.floor(c / PER_ROW) * (tile + gap)];
    L.crosses = el("path", { stroke: C.dropped, "stroke-width": Math.max(1.6, Math.min(3 * U, cell * 0.22)),
                             fill: "none", "stroke-linecap": "round" }, svg);
    y += Math.ceil(layer.channels / PER_ROW) * (tile + gap);
    s.layers.push(L);
  });
  return s;
}

function drawConv(s, f, look) {
  drawTitle(s.tb, f, s.w);
  const colors = percentColors(look.activation_scale);
  f.masks.layers.forEach((layer, k) => {
    const L = s.layers[k], n = L.side * L.side, whole = new Set(layer.whole);
    setText(L.label, layer.label);
    // only the cells whose colour changed: a style change per cell is what the browser pays for
    layer.values.forEach((v, i) => {
      const cell = L.cells[i];
      if (cell.__v !== v) { cell.__v = v; cell.setAttribute("fill", colors[Math.max(0, Math.min(100, v))]); }
    });
    let d = "";
    const q = L.cell * 0.2;
    for (let i = 0; i < layer.dropped.length; i++) {
      if (layer.dropped[i] !== "1") continue;
      const c = Math.floor(i / n);
      if (whole.has(c)) continue;
      const [x0, y0] = L.origin(c), j = i % n;
      const x = x0 + (j % L.side) * L.cell, y = y0 + Math.floor(j / L.side) * L.cell;
      d += `M${(x + q).toFixed(1)},${(y + q).toFixed(1)}L${(x + L.cell - q).toFixed(1)},${(y + L.cell - q).toFixed(1)}` +
           `M${(x + L.cell - q).toFixed(1)},${(y + q).toFixed(1)}L${(x + q).toFixed(1)},${(y + L.cell - q).toFixed(1)}`;
    }
    L.crosses.setAttribute("d", d);
    L.big.forEach((g, c) => g.setAttribute("visibility", whole.has(c) ? "visible" : "hidden"));
  });
}

// ------------------------------------------------------------------ recurrent: time x unit grids
function buildRnn(host, look, f, w) {
  const U = unit(), C = look.colors, grids = f.masks.grids;
  const head = headHeight(f, w, U);
  const left = 6 * U + 24 * U + 22 * U;  // the steps' title (turned) and their numbers
  const inner = w - left - 10 * U, between = 28 * U;
  const totalCols = grids.reduce((a, g) => a + g.cols, 0);
  const cw = (inner - between * (grids.length - 1)) / totalCols;
  const rows = grids[0].rows;
  const ch = Math.min(44 * U, Math.max(cw * 2.5, 22 * U));
  const h = Math.round(head + rows * ch + 3 * 22 * U + 10 * U);
  const svg = newSvg(host, w, h, look, "masks over time");
  const s = { svg, w, h, kind: "rnn", tb: titleBlock(svg, look, f, w, U), grids: [] };
  let x = left;
  const top = head, sm = 16 * U;
  for (let r = 0; r < rows; r++) {
    el("text", { x: left - 8 * U, y: top + (r + 0.5) * ch + 0.35 * sm, "font-size": sm, fill: C.ink, "text-anchor": "end" },
       svg, String(r + 1));
  }
  const yMid = top + rows * ch / 2;
  s.stepsLabel = el("text", { x: 6 * U + sm, y: yMid, "font-size": sm, fill: C.ink, "text-anchor": "middle",
                              transform: `rotate(-90 ${6 * U + sm} ${yMid})` }, svg, "");
  grids.forEach((g) => {
    const G = { cells: [] }, gw = g.cols * cw;
    for (let r = 0; r < g.rows; r++) {
      for (let c = 0; c < g.cols; c++) {
        G.cells.push(el("rect", { x: (x + c * cw + 0.5).toFixed(1), y: (top + r * ch + 0.5).toFixed(1),
                                  width: Math.max(1, cw - 1).toFixed(1), height: (ch - 1).toFixed(1) }, svg));
      }
    }
    G.label = el("text", { x: x + gw / 2, y: top + rows * ch + 1.6 * 22 * U, "font-size": sm, fill: C.ink,
                           "text-anchor": gw < 160 * U ? "start" : "middle" }, svg, "");
    if (gw < 160 * U) G.label.setAttribute("x", x);
    el("text", { x, y: top + rows * ch + 0.9 * 22 * U, "font-size": sm, fill: C.ink }, svg, "1");
    el("text", { x: x + gw, y: top + rows * ch + 0.9 * 22 * U, "font-size": sm, fill: C.ink, "text-anchor": "end" },
       svg, String(g.cols));
    s.grids.push(G);
    x += gw + between;
  });
  return s;
}

function drawRnn(s, f, look) {
  const C = look.colors;
  drawTitle(s.tb, f, s.w);
  setText(s.stepsLabel, f.masks.steps_label);
  f.masks.grids.forEach((g, k) => {
    const G = s.grids[k];
    setText(G.label, g.label);
    G.cells.forEach((r, i) => {
      const gone = g.dropped[i] === "1";
      if (r.__gone !== gone) { r.__gone = gone; r.setAttribute("fill", gone ? C.dropped : C.input); }
    });
  });
}

// ------------------------------------------------------------------ dense: dropped units or dropped edges
function buildDense(host, look, f, w) {
  const U = unit(), C = look.colors, m = f.masks;
  const head = headHeight(f, w, U);
  const r = 13 * U, colH = 30 * U;
  const h = Math.round(Math.min(Math.max(380, 0.62 * window.innerHeight), head + colH + m.units * 46 * U) + 40 * U);
  const svg = newSvg(host, w, h, look, "edges from pixels to hidden units");
  const s = { svg, w, h, kind: "dense", tb: titleBlock(svg, look, f, w, U), edges: [], units: [], crosses: [] };
  const xa = w * 0.28, xb = w * 0.72, top = head + colH + r, bottom = h - 40 * U - r;
  const ys = (n, pad) => Array.from({ length: n }, (_, i) => top + pad + (i * (bottom - top - 2 * pad)) / Math.max(n - 1, 1));
  const yi = ys(m.inputs, 0.1 * (bottom - top)), yo = ys(m.units, 0);
  s.colTitles = [xa, xb].map(x => el("text", { x, y: head + 18 * U, "font-size": 18 * U, fill: C.ink,
                                                "text-anchor": "middle" }, svg, ""));
  const eg = el("g", {}, svg);
  yi.forEach((a) => yo.forEach((b) => s.edges.push(el("line", { x1: xa + r, y1: a, x2: xb - r, y2: b }, eg))));
  yi.forEach((a) => el("circle", { cx: xa, cy: a, r, fill: C.input, stroke: C.ink, "stroke-width": 1.5 }, svg));
  yo.forEach((b) => {
    s.units.push(el("circle", { cx: xb, cy: b, r, stroke: C.ink, "stroke-width": 1.5 }, svg));
    const k = r * 0.7;
    s.crosses.push(el("path", { d: `M${xb - k},${b - k}L${xb + k},${b + k}M${xb + k},${b - k}L${xb - k},${b + k}`,
                                stroke: C.dropped, "stroke-width": 4 * U, visibility: "hidden" }, svg));
  });
  // the legend: what a kept and a dropped edge look like
  s.legend = [0, 1].map((k) => {
    const x = 6 * U + k * 200 * U, y = h - 14 * U;
    const line = el("line", { x1: x, y1: y - 6 * U, x2: x + 30 * U, y2: y - 6 * U }, svg);
    const q = 7 * U, cx = x + 15 * U, cy = y - 6 * U;  // a dropped unit's mark: its red cross
    const cross = el("path", { d: `M${cx - q},${cy - q}L${cx + q},${cy + q}M${cx + q},${cy - q}L${cx - q},${cy + q}`,
                               stroke: C.dropped, "stroke-width": 3 * U, visibility: "hidden" }, svg);
    return { line, cross, text: el("text", { x: x + 38 * U, y, "font-size": 16 * U, fill: C.ink }, svg, "") };
  });
  s.U = U;
  return s;
}

function drawDense(s, f, look) {
  const C = look.colors, m = f.masks, U = s.U;
  drawTitle(s.tb, f, s.w);
  s.colTitles.forEach((t, k) => setText(t, m.columns[k]));
  const unitDropped = (b) => m.dropped_units[b] === "1";
  s.edges.forEach((e, i) => {
    const b = i % m.units, gone = m.edges ? m.edges[i] === "1" : unitDropped(b);
    e.setAttribute("stroke", gone && m.edges ? C.dropped : C.edge);
    e.setAttribute("stroke-width", gone && m.edges ? 2 * U : 2.5 * U);
    e.setAttribute("stroke-dasharray", gone ? `${4 * U} ${5 * U}` : "");
    e.setAttribute("stroke-opacity", gone && !m.edges ? 0.35 : 1);
  });
  s.units.forEach((u, b) => u.setAttribute("fill", unitDropped(b) ? C.empty : C.input));
  s.crosses.forEach((c, b) => c.setAttribute("visibility", unitDropped(b) ? "visible" : "hidden"));
  const items = [[m.names.kept, C.edge, ""], m.edges ? [m.names.dropped, C.dropped, `${4 * U} ${5 * U}`]
                                                    : m.dropped_units ? [m.names.unit, C.dropped, "", true] : null];
  s.legend.forEach((L, k) => {
    const item = items[k];
    L.line.setAttribute("visibility", item && !item[3] ? "visible" : "hidden");
    L.cross.setAttribute("visibility", item && item[3] ? "visible" : "hidden");
    setText(L.text, item ? item[0] : "");
    if (!item) return;
    L.line.setAttribute("stroke", item[1]);
    L.line.setAttribute("stroke-width", 3 * U);
    L.line.setAttribute("stroke-dasharray", item[2]);
  });
}

const MASKS = { conv: [buildConv, drawConv], recurrent: [buildRnn, drawRnn], dense: [buildDense, drawDense] };

function masksKey(f, w) {
  const m = f.masks;
  const shape = f.family === "conv" ? m.layers.map(l => [l.channels, l.side])
    : f.family === "recurrent" ? m.grids.map(g => [g.rows, g.cols]) : [m.inputs, m.units];
  return JSON.stringify([f.family, shape, f.title, f.subtitle, w, unit(), window.innerHeight]);
}

// ------------------------------------------------------------------ curves: accuracy and loss against the twin
function buildCurves(host, look, d, w) {
  const U = unit(), C = look.colors, sm = 16 * U, lh = 21 * U;
  const h = Math.round(Math.max(300 * U, Math.min(w * 0.62, 420 * U)));
  const svg = newSvg(host, w, h, look, "test accuracy and test loss against the twin");
  const c = { svg, w, h, U, sm, lh, charts: [] };
  c.title = el("text", { x: 6 * U, y: 21 * U, "font-size": 21 * U, "font-weight": 700, fill: C.ink }, svg, "");
  c.note = el("text", { x: 6 * U, y: 21 * U + lh + 2 * U, "font-size": sm, fill: C.muted }, svg, "");
  const PT = 21 * U + 3 * lh + 18 * U, PB = h - 2 * lh - 16 * U - 2 * lh;
  const PL0 = 6 * U + sm + 52 * U, half = (w - 6 * U) / 2;
  [0, 1].forEach((k) => {
    const PL = PL0 + k * half, PR = k * half + half - 14 * U;
    const ch = { PL, PR, PT, PB, grid: el("g", {}, svg), lines: [el("polyline", { fill: "none" }, svg),
                                                              el("polyline", { fill: "none" }, svg)] };
    el("line", { x1: PL, y1: PB, x2: PR, y2: PB, stroke: C.ink, "stroke-width": 2 }, svg);
    el("line", { x1: PL, y1: PT, x2: PL, y2: PB, stroke: C.ink, "stroke-width": 2 }, svg);
    const ym = (PT + PB) / 2, xt = PL - 50 * U;
    ch.yTitle = el("text", { x: xt, y: ym, "font-size": sm, fill: C.ink, "text-anchor": "middle",
                             transform: `rotate(-90 ${xt} ${ym})` }, svg, "");
    ch.xTitle = el("text", { x: (PL + PR) / 2, y: PB + 2 * lh, "font-size": sm, fill: C.ink, "text-anchor": "middle" }, svg, "");
    c.charts.push(ch);
  });
  const ly = h - 2 * lh + 14 * U;
  c.legend = [0, 1].map((k) => {
    const y = ly + k * lh;
    return { line: el("line", { x1: 6 * U, y1: y - 6 * U, x2: 40 * U, y2: y - 6 * U }, svg),
             text: el("text", { x: 48 * U, y, "font-size": sm, fill: C.ink }, svg, "") };
  });
  return c;
}

function style(line, s) {
  line.setAttribute("stroke", s.color);
  line.setAttribute("stroke-width", s.width);
  line.setAttribute("stroke-dasharray", s.dash);
  line.setAttribute("stroke-opacity", s.opacity);
}

function drawCurves(c, d, f, look) {
  const C = look.colors;
  setText(c.title, d.title);
  setLines(c.note, wrap(f.curves_note, c.sm, c.w - 12 * c.U).slice(0, 2), 6 * c.U, c.lh);
  [look.main, look.twin].forEach((s, k) => { style(c.legend[k].line, s); setText(c.legend[k].text, d.names[k]); });
  // the curves follow the frame on screen: points of later iterations wait for their frame
  let n = d.step.length;
  while (n > 0 && d.step[n - 1] > f.step) n--;
  const xstep = tickStep(Math.max(10, n ? d.step[n - 1] : 0), 4);
  const xmax = xstep * Math.ceil(Math.max(10, n ? d.step[n - 1] : 0) / xstep);
  [[d.acc, d.twin_acc, d.acc_title], [d.loss, d.twin_loss, d.loss_title]].forEach(([mine, twin, title], k) => {
    const ch = c.charts[k];
    setText(ch.yTitle, title);
    setText(ch.xTitle, d.x_title);
    let ymax = 1, ystep = 0.25;
    if (k === 1) {
      let top = 0;
      for (let i = 0; i < n; i++) top = Math.max(top, mine[i] || 0, twin[i] || 0);
      ystep = tickStep(top || 1, 4);
      ymax = ystep * Math.ceil((top || 1) / ystep - 1e-9);
    }
    const X = v => ch.PL + (v / xmax) * (ch.PR - ch.PL);
    const Y = v => ch.PB - (Math.min(v, ymax) / ymax) * (ch.PB - ch.PT);
    const key = `${xmax}|${ymax}`;
    if (ch.key !== key) {
      ch.key = key;
      ch.grid.innerHTML = "";
      for (let yv = 0; yv <= ymax * 1.0001; yv += ystep) {
        el("line", { x1: ch.PL, y1: Y(yv), x2: ch.PR, y2: Y(yv), stroke: C.grid }, ch.grid);
        el("text", { x: ch.PL - 6 * c.U, y: Y(yv) + 0.35 * c.sm, "font-size": c.sm, fill: C.ink, "text-anchor": "end" },
           ch.grid, +yv.toPrecision(3));
      }
      const xs = xmax / xstep > 2 ? 2 * xstep : xstep;  // at most three numbers: they never touch
      for (let xv = 0; xv <= xmax * 1.0001; xv += xs) {
        el("text", { x: X(xv), y: ch.PB + c.lh, "font-size": c.sm, fill: C.ink,
                     "text-anchor": xv === 0 ? "start" : xv + xs > xmax * 1.0001 ? "end" : "middle" }, ch.grid, +xv.toPrecision(4));
      }
    }
    [[mine, look.main], [twin, look.twin]].forEach(([ys, s], j) => {
      const pts = [];
      for (let i = 0; i < n; i++) if (ys[i] !== null) pts.push(`${X(d.step[i]).toFixed(1)},${Y(ys[i]).toFixed(1)}`);
      ch.lines[j].setAttribute("points", pts.join(" "));
      style(ch.lines[j], s);
    });
  });
}

// ------------------------------------------------------------------ the rescaling's bars
function buildRescale(host, look, w) {
  const U = unit(), C = look.colors, sm = 16 * U, lh = 21 * U;
  const h = Math.round(300 * U);
  const svg = newSvg(host, w, h, look, "rescaling");
  const r = { svg, w, h, U, sm, lh, bars: [], values: [], names: [] };
  r.title = el("text", { x: 6 * U, y: 21 * U, "font-size": 21 * U, "font-weight": 700, fill: C.ink }, svg, "");
  r.sub = el("text", { x: 6 * U, y: 21 * U + lh + 2 * U, "font-size": sm, fill: C.muted }, svg, "");
  r.PT = 21 * U + 2 * lh + 24 * U;
  r.PB = h - 2 * lh - 10 * U;
  r.base = el("line", { x1: 6 * U, y1: r.PB, x2: w - 6 * U, y2: r.PB, stroke: C.ink, "stroke-width": 2 }, svg);
  const slot = (w - 12 * U) / 4;
  for (let k = 0; k < 4; k++) {
    const x = 6 * U + k * slot;
    r.bars.push(el("rect", { x: x + slot * 0.18, width: slot * 0.64, fill: look.bars[k] }, svg));
    r.values.push(el("text", { x: x + slot / 2, "font-size": sm, fill: C.ink, "text-anchor": "middle" }, svg, ""));
    r.names.push(el("text", { x: x + slot / 2, y: r.PB + lh, "font-size": sm, fill: C.ink, "text-anchor": "middle" }, svg));
  }
  return r;
}

function drawRescale(r, f) {
  const d = f.rescale;
  setText(r.title, d.title);
  setText(r.sub, d.subtitle);
  const vals = d.values.map(v => v === null ? 0 : v);
  const top = niceAxis(Math.max(...vals.map(Math.abs), 1e-6) * 1.05);
  vals.forEach((v, k) => {
    const hgt = (Math.abs(v) / top) * (r.PB - r.PT), y = v >= 0 ? r.PB - hgt : r.PB;
    r.bars[k].setAttribute("y", y.toFixed(1));
    r.bars[k].setAttribute("height", hgt.toFixed(1));
    r.values[k].setAttribute("y", (r.PB - hgt - 6 * r.U).toFixed(1));
    setText(r.values[k], d.values[k] === null ? "–" : v.toFixed(3));
    setLines(r.names[k], d.names[k].split("\n"), r.names[k].getAttribute("x"), r.lh);
  });
}

// ------------------------------------------------------------------ a frame on screen
function show(st, f) {
  st.frame = f;
  const root = st.root;
  const head = pane(root, "head"), row = pane(root, "row");
  const mHost = pane(row, "masks"), side = pane(row, "side");
  const cHost = pane(side, "curves"), rHost = pane(side, "rescale");
  const hw = Math.max(320, Math.round(head.clientWidth || 800));
  if (!st.head || st.head.key !== `${hw}|${unit()}`) { st.head = buildHeader(head, st.look, hw); st.head.key = `${hw}|${unit()}`; }
  drawHeader(st.head, f);
  const mw = Math.max(320, Math.round(mHost.clientWidth || 700));
  const key = masksKey(f, mw);
  const [build, draw] = MASKS[f.family];
  if (!st.masks || st.masks.key !== key) { st.masks = build(mHost, st.look, f, mw); st.masks.key = key; }
  draw(st.masks, f, st.look);
  const sw = Math.max(320, Math.round(cHost.clientWidth || 500));
  const skey = `${sw}|${unit()}`;
  if (!st.curves || st.curves.key !== skey) { st.curves = buildCurves(cHost, st.look, st.curvesData, sw); st.curves.key = skey; }
  drawCurves(st.curves, st.curvesData, f, st.look);
  if (!st.rescale || st.rescale.key !== skey) { st.rescale = buildRescale(rHost, st.look, sw); st.rescale.key = skey; }
  drawRescale(st.rescale, f);
}

// ------------------------------------------------------------------ playback
function stopPulling(st, pause) {
  if (!st.want) return;
  st.want = false;
  st.stopped = st.playId;
  if (st.timer) { clearTimeout(st.timer); st.timer = null; }
  if (st.pumpTimer) { clearTimeout(st.pumpTimer); st.pumpTimer = null; }
  st.queue = [];
  if (pause && st.frame) { st.pauses = (st.pauses || 0) + 1; st.send("pause", { step: st.frame.step, n: st.pauses }); }
}

function ask(st) {
  st.timer = null;
  if (!st.want || st.asked - st.answered >= st.depth) return;
  st.asked += 1;
  st.askedAt = performance.now();
  st.send("pull", st.asked);
}

function schedule(st) {
  if (!st.want || st.asked - st.answered >= st.depth || st.timer || st.queue.length > (st.ahead || 1)) return;
  const now = performance.now();
  st.timer = setTimeout(() => ask(st), Math.max(0, (st.askedAt || 0) + st.interval - now));
}

function pump(st) {
  st.pumpTimer = null;
  if (!st.queue.length) { schedule(st); return; }
  show(st, st.queue.shift());
  schedule(st);
  if (!st.queue.length) return;
  const now = performance.now();
  st.due = Math.max(now, (st.due || now) + st.interval);
  st.pumpTimer = setTimeout(() => pump(st), st.due - now);
}

function listen(st) {
  if (st.listening) return;
  st.listening = true;
  // Pause while this view plays: the view pauses (its "pause" trigger carries the iteration on screen) and the
  // button's own click is swallowed: two requests at once (the trigger's and the click's) lost the click now
  // and then (seen in Chromium: the Pause button stayed), and the trigger's callback reruns the whole page.
  const onPress = (event) => {
    const target = event.target && event.target.closest ? event.target : null;
    if (!target || !STOP_BUTTONS.some(sel => target.closest(sel))) return;
    const pause = !!target.closest(PAUSE_BUTTON);
    if (pause && event.type === "click" && st.swallow) {
      event.preventDefault();
      event.stopPropagation();
      st.swallow = false;
      return;
    }
    if (pause && st.want && st.frame) st.swallow = event.type === "pointerdown";
    if (pause && st.want && st.frame && event.type === "click") { event.preventDefault(); event.stopPropagation(); }
    stopPulling(st, pause);
  };
  document.addEventListener("pointerdown", onPress, true);
  document.addEventListener("click", onPress, true);
  // a request folded into another rerun is never answered: ask again
  setInterval(() => {
    if (st.asked > st.answered && performance.now() - st.askedAt > 2000) { st.answered = st.asked; schedule(st); }
  }, 500);
  let resizeTimer = null;
  window.addEventListener("resize", () => {
    clearTimeout(resizeTimer);
    resizeTimer = setTimeout(() => { if (st.frame) show(st, st.frame); }, 150);
  });
}

// Space and a hidden tab click the page's button: Space the Play or Pause shown, a hidden tab Pause (listen's
// onPress catches Pause's while the view plays); shown again, the tab stays paused, Play on the page. Once per
// page load: they act on the page, not on one view, and a view mounted again must not click twice.
function pressButtons() {
  if (window.__dropvizVariantsKeys) return;
  window.__dropvizVariantsKeys = true;
  const press = (selector) => { const b = document.querySelector(selector); if (b && !b.disabled) b.click(); };
  document.addEventListener("dropviz-key", (event) => {
    if (event.detail && event.detail.action === "play_pause") press(`${PAUSE_BUTTON}, ${PLAY_BUTTON}`);
  });
  document.addEventListener("visibilitychange", () => { if (document.hidden) press(PAUSE_BUTTON); });
}

export default function (component) {
  const { data, parentElement } = component;
  if (!data || !data.frames || !data.frames.length) return;
  const st = parentElement.__playback || (parentElement.__playback = { queue: [], asked: 0, answered: 0 });
  st.root = pane(parentElement, "dropviz-variants");
  st.look = data.look;
  st.curvesData = data.curves;
  st.interval = data.interval_ms;
  st.depth = data.pull_depth || 1;
  st.send = component.setTriggerValue;
  listen(st);
  pressButtons();
  if (st.epoch !== data.epoch) {  // a new run: nothing of the old one is drawn
    st.epoch = data.epoch;
    st.queue = [];
    st.frame = null;
    if (st.pumpTimer) { clearTimeout(st.pumpTimer); st.pumpTimer = null; }
  }
  if (data.pulled > st.answered && data.pulled === st.asked && st.askedAt) {
    const rtt = performance.now() - st.askedAt;  // the round trip, smoothed, sets when the next request goes
    st.rtt = st.rtt ? 0.7 * st.rtt + 0.3 * rtt : rtt;
    st.ahead = Math.max(1, Math.min(MAX_AHEAD, Math.ceil(st.rtt / st.interval)));
  }
  st.answered = Math.max(st.answered, data.pulled || 0);
  if (st.answered > st.asked) st.asked = st.answered;  // a new element for an old session
  st.playId = data.play_id;
  st.want = !!data.playing && data.play_id !== st.stopped;
  const engine = data.frames[data.frames.length - 1];
  if (!data.playing) {  // paused: the engine's frame, now (after Pause, the one on screen: Python went back to it)
    if (st.timer) { clearTimeout(st.timer); st.timer = null; }
    if (st.pumpTimer) { clearTimeout(st.pumpTimer); st.pumpTimer = null; }
    st.queue = [];
    show(st, engine);
    return;
  }
  if (!st.want) {  // paused here, Python not told yet: frames answered meanwhile are not drawn
    if (!st.frame) show(st, engine);
    return;
  }
  // playing: every frame Python computed is drawn, in order
  const last = st.queue.length ? st.queue[st.queue.length - 1].step : (st.frame ? st.frame.step : -1);
  st.queue.push(...data.frames.filter(f => f.step > last));
  if (!st.queue.length && !st.frame) st.queue.push(engine);
  if (!st.pumpTimer) { st.due = performance.now(); pump(st); }
  schedule(st);
}
