// dropviz live view: the iteration counter, the network diagram and the loss curves, drawn in the browser.
// It only draws: every word, number format, colour and line style comes in the data that
// dropviz/live/payload.py sends (Streamlit Components v2), so the Plotly figures and this view say the
// same. Streamlit calls this function again with each new `data`; the SVG is built once per network
// shape and pane size and afterwards only its attributes and texts change, so nothing jumps or flickers.
//
// Sizes: each SVG is laid out in the CSS pixels of its pane (no viewBox scaling), with text in CSS pixels
// times U: at least 16 px, larger on windows larger than 1280x720. Text therefore stays readable in a small
// pane and grows with browser zoom.
const NS = "http://www.w3.org/2000/svg";

function rgb(c) { return `rgb(${c[0]},${c[1]},${c[2]})`; }

// text scale: 1 up to a 1280x720 window, then with the window (1.5 at 1920x1080)
function unit() { return Math.max(1, Math.min(window.innerWidth / 1280, window.innerHeight / 720)); }

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

// the width of a text in px: the sum of its characters' widths, each measured once per size and weight by a
// scratch element of the svg (measuring whole texts every frame forced a layout each time)
const WIDTHS = new Map();
function measure(svg, text, size, weight) {
  const key = `${size}|${weight || 400}`;
  let table = WIDTHS.get(key);
  if (!table) WIDTHS.set(key, table = new Map());
  let w = 0;
  for (const ch of String(text)) {
    let cw = table.get(ch);
    if (cw === undefined) {
      if (!svg.__ruler) svg.__ruler = el("text", { x: -9999, y: -9999, visibility: "hidden" }, svg);
      const r = svg.__ruler;
      r.setAttribute("font-size", size);
      r.setAttribute("font-weight", weight || 400);
      r.textContent = `${ch}${ch}`;
      cw = r.getComputedTextLength ? r.getComputedTextLength() / 2 : 0;
      if (!(cw > 0)) cw = ch === " " ? 0.28 * size : 0.56 * size;
      table.set(ch, cw);
    }
    w += cw;
  }
  return w;
}

// words wrapped into lines no wider than max px
function wrap(svg, text, size, max, weight) {
  const lines = [];
  let line = "";
  String(text || "").split(" ").forEach((word) => {
    const next = line ? `${line} ${word}` : word;
    if (line && measure(svg, next, size, weight) > max) { lines.push(line); line = word; } else line = next;
  });
  if (line) lines.push(line);
  return lines;
}

// a text element showing `lines` one under the other, from baseline y
function setLines(t, lines, x, lineHeight) {
  t.textContent = "";
  lines.forEach((line, k) => el("tspan", { x, dy: k ? lineHeight : 0 }, t, line));
}

function shapeKey(d, w, h) {
  const cols = d.columns;
  return JSON.stringify([d.image, d.compact, cols[0].values.length, cols.slice(1, -1).map(c => c.act.length),
                         cols[cols.length - 1].probs.length, w, h, unit()]);
}

function paneSize(host, present, ratio) {
  const w = Math.max(320, Math.round(host.clientWidth || 800));
  const h = present && host.clientHeight > 100 ? Math.round(host.clientHeight)
    : Math.round(Math.max(380, Math.min(w * ratio, 0.8 * window.innerHeight)));
  return [w, h];
}

// Build the static skeleton in a w x h pane: one <g> per column, edges behind neurons.
function build(root, d, look, w, h, present) {
  root.innerHTML = "";
  const C = look.colors, U = unit();
  const svg = el("svg", { viewBox: `0 0 ${w} ${h}`, width: w, height: h, role: "img",
                          "aria-label": look.aria.diagram, "font-family": look.font }, root);
  const s = { svg, cols: [], edges: [], texts: {}, w, h, U };
  const pad = 6 * U, small = 16 * U, normal = 18 * U, lh = 21 * U;
  // header: the counter, the status under it; the metrics at the right
  const big = Math.round(Math.min(46 * U, Math.max(30 * U, w / 20)));
  s.texts.counter = el("text", { x: pad, y: big * 0.92, "font-size": big, "font-weight": 700, fill: C.ink,
                                 "data-testid": "iteration-counter" }, svg, "");
  // on the stage the status follows the counter on its line (placed when drawn); else under it
  s.statusInline = present;
  s.texts.status = el("text", { x: pad, y: present ? big * 0.92 : big + lh, "font-size": normal, fill: C.muted }, svg, "");
  s.texts.metrics = el("text", { x: w - pad, y: normal, "font-size": normal, fill: C.ink, "text-anchor": "end" }, svg, "");
  s.texts.twin = el("text", { x: w - pad, y: normal + lh, "font-size": normal, fill: C.muted, "text-anchor": "end" }, svg, "");
  const headerBottom = present ? big + 8 * U : big + lh + 8 * U;

  // bottom: the legend (wrapped), the tracked example's line
  s.legendLines = wrap(svg, present ? d.legend_short : d.legend, small, w - 2 * pad);
  s.trackedLines = present ? [] : wrap(svg, d.tracked, small, w - 2 * pad);  // the stage has no room for it
  s.present = present;
  s.legendSize = small;
  const bottomLines = Math.max(present ? 1 : 2, s.legendLines.length) + (present ? 0 : Math.max(1, s.trackedLines.length));
  s.legend = el("text", { x: pad, y: h - pad - (bottomLines - 1) * lh, "font-size": small, fill: C.muted }, svg, "");
  s.legendY = h - pad - (bottomLines - 1) * lh;
  s.lh = lh;
  s.pad = pad;
  const bottomTop = h - pad - bottomLines * lh;

  const nCols = d.columns.length, imageIn = d.image;
  const first = d.columns[0], last = d.columns[nCols - 1];
  // room left of the inputs and right of the outputs for their labels, measured: they always fit
  const inLabel = imageIn ? 0 : Math.max(0, ...first.labels.map(t => measure(svg, t, small)));
  const outLabel = Math.max(...last.labels.map(t => measure(svg, t, small, 700)));
  const counts = d.columns.map((col, c) => c === 0 ? (imageIn ? 0 : col.values.length)
                                           : c === nCols - 1 ? col.probs.length : col.act.length);
  const rows = Math.max(...counts, 2);
  // column heads: title + two lines; notes under the neurons: up to three lines
  const headTop = headerBottom + lh;
  const notesLines = present ? 2 : 3;
  const top0 = headTop + 2 * lh + 10 * U, bottom0 = bottomTop - notesLines * lh - 6 * U;
  const r = Math.max(5, Math.min(18 * U, ((bottom0 - top0) / Math.max(rows, 2)) * 0.36));
  const TOP = top0 + r, BOTTOM = bottom0 - r;
  const imgSide = imageIn ? Math.min(BOTTOM - TOP + 2 * r, 0.24 * w) : 0;
  const x0 = imageIn ? pad + imgSide / 2 : pad + inLabel + 10 * U + r;
  const x1 = w - pad - outLabel - 10 * U - r;
  const xs = Array.from({ length: nCols }, (_, i) => x0 + (i * (x1 - x0)) / (nCols - 1));
  const dx = (x1 - x0) / (nCols - 1);
  const ys = (n) => {
    const step = (BOTTOM - TOP) / Math.max(rows - 1, 1);
    return Array.from({ length: n }, (_, i) => (TOP + BOTTOM) / 2 + (i - (n - 1) / 2) * step);
  };
  // many layers: the payload says the per-layer texts once for all layers, in the middle
  s.compact = d.compact;
  const mid = (xs[1] + xs[nCols - 2]) / 2;
  s.shared = el("text", { x: mid, y: headTop + lh, "font-size": normal, fill: C.ink, "text-anchor": "middle" }, svg, "");
  s.sharedNote = el("text", { x: mid, y: BOTTOM + r + lh + 4 * U, "font-size": small, fill: C.muted,
                              "text-anchor": "middle" }, svg, "");
  // the hidden layers' two head lines, said once between them when they are the same and too wide for a column
  // (a narrow stage at test time: "all active", "×0.80 = 1−p" over columns 70 px apart ran into each other)
  s.sharedHead = [headTop + lh, headTop + 2 * lh].map(y => el("text", { x: mid, y, "font-size": normal, fill: C.ink,
                                                                        "text-anchor": "middle" }, svg, ""));
  const edgeG = el("g", { "stroke-width": 1.4 }, svg);
  const nodeG = el("g", {}, svg);
  // head texts must fit between columns: a title too wide for its column alternates rows with its neighbours
  const titleW = Math.max(...d.columns.map(col => measure(svg, col.title, normal, 700)));
  const stagger = titleW > dx - 6 * U;
  s.colWidth = dx - 6 * U;

  for (let c = 0; c < nCols; c++) {
    const col = { x: xs[c], ys: [], nodes: [], crosses: [] };
    if (c === 0 && imageIn) {
      const side = Math.round(Math.sqrt(first.values.length));
      const px = imgSide / side, left = xs[0] - imgSide / 2, top = (TOP + BOTTOM) / 2 - imgSide / 2;
      col.pixels = [];
      for (let i = 0; i < side * side; i++) {
        const rx = left + (i % side) * px, ry = top + Math.floor(i / side) * px, k = px * 0.15;
        const rect = el("rect", { x: rx, y: ry, width: px, height: px, stroke: C.pixel_edge, "stroke-width": 0.5 }, nodeG);
        const cross = el("path", { d: `M${rx + k},${ry + k}L${rx + px - k},${ry + px - k}M${rx + px - k},${ry + k}L${rx + k},${ry + px - k}`,
                                    stroke: C.dropped, "stroke-width": 2.5, visibility: "hidden" }, nodeG);
        col.pixels.push(rect); col.crosses.push(cross);
      }
      col.ys = [(TOP + BOTTOM) / 2];
      col.anchorX = left + imgSide;
    } else {
      col.ys = ys(counts[c]);
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
    const down = stagger && c % 2 === 1 ? lh : 0;
    col.title = el("text", { x: xs[c], y: headTop + down, "font-size": normal, "font-weight": 700, fill: C.ink,
                             "text-anchor": "middle" }, svg, "");
    col.lines = [headTop + lh, headTop + 2 * lh].map(y => el("text", { x: xs[c], y, "font-size": normal, fill: C.ink,
                                                                      "text-anchor": "middle" }, svg, ""));
    col.notes = el("text", { x: xs[c], y: BOTTOM + r + lh + 2 * U, "font-size": small, fill: C.muted,
                             "text-anchor": "middle" }, svg, "");
    col.notesX = xs[c];
    if (isOut) { col.notes.setAttribute("text-anchor", "start"); col.notesX = xs[c] - r; }
    if (isOut || (c === 0 && !imageIn)) {
      col.labels = col.ys.map((y) => el("text", { x: xs[c] + (isOut ? r + 8 * U : -r - 8 * U), y: y + small * 0.35,
                                                  "font-size": small, fill: C.ink, "text-anchor": isOut ? "start" : "end" }, svg, ""));
    }
    s.cols.push(col);
  }
  s.notesLines = notesLines;
  // edges between consecutive columns (from the image's right edge for an image input)
  for (let c = 0; c + 1 < nCols; c++) {
    const a = s.cols[c], b = s.cols[c + 1], lines = [];
    a.ys.forEach((ya) => b.ys.forEach((yb) => {
      lines.push(el("line", { x1: a.anchorX + (a.pixels ? 0 : r), y1: ya, x2: b.x - r, y2: yb, stroke: C.edge }, edgeG));
    }));
    s.edges.push(lines);
  }
  return s;
}

function setNode(n, cross, kept, fill, look) {
  const C = look.colors;
  n.setAttribute("fill", kept ? fill : C.empty);
  n.setAttribute("stroke", kept ? C.ink : C.dropped);
  n.setAttribute("stroke-dasharray", kept ? "" : look.dropped_dash);
  cross.setAttribute("visibility", kept ? "hidden" : "visible");
}

function setText(t, value) { if (t.textContent !== value) t.textContent = value; }

function draw(s, d, look) {
  const C = look.colors;
  setText(s.texts.counter, d.counter);
  const cw = measure(s.svg, d.counter, Number(s.texts.counter.getAttribute("font-size")), 700);
  setText(s.texts.status, d.status);
  let used = cw;
  if (s.statusInline) {
    s.texts.status.setAttribute("x", s.pad + cw + 14 * s.U);
    used += 14 * s.U + measure(s.svg, d.status, 18 * s.U);
  }
  setText(s.texts.metrics, d.metrics);
  setText(s.texts.twin, d.twin);
  // the metrics move under the counter's line when they would run into it
  const mw = Math.max(measure(s.svg, d.metrics, 18 * s.U), measure(s.svg, d.twin, 18 * s.U));
  s.texts.metrics.style.display = s.texts.twin.style.display = used + mw + 30 * s.U > s.w ? "none" : "";
  setText(s.shared, d.shared);
  setText(s.sharedNote, d.shared_note);
  const legend = s.present ? d.legend_short : d.legend;
  const bottomKey = `${legend}|${d.tracked}`;
  if (s.bottomKey !== bottomKey) {
    s.bottomKey = bottomKey;
    const lines = [...wrap(s.svg, legend, s.legendSize, s.w - 2 * s.pad),
                   ...(s.present ? [] : wrap(s.svg, d.tracked, s.legendSize, s.w - 2 * s.pad))];
    setLines(s.legend, lines, s.pad, s.lh);
  }
  const hidden = d.columns.slice(1, -1);
  const merge = !d.compact && hidden.length > 1 && hidden.every(h => h.lines.join("|") === hidden[0].lines.join("|"))
    && hidden[0].lines.some(t => t && measure(s.svg, t, 18 * s.U) > s.colWidth);
  s.sharedHead.forEach((t, k) => setText(t, merge ? hidden[0].lines[k] : ""));
  d.columns.forEach((data, c) => {
    const col = s.cols[c];
    setText(col.title, data.title);
    const merged = merge && c > 0 && c < d.columns.length - 1;
    col.lines.forEach((t, k) => setText(t, merged ? "" : data.lines[k]));
    const key = data.notes.join("|");
    if (col.notesKey !== key) {  // wrapped to the column's width, at most as many lines as there is room for
      col.notesKey = key;
      const max = c === d.columns.length - 1 ? 1e9 : s.colWidth;
      const lines = data.notes.filter(t => t).flatMap(t => wrap(s.svg, t, s.legendSize, max)).slice(0, s.notesLines);
      setLines(col.notes, lines, col.notesX, s.lh);
    }
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
      setText(inCol.labels[i], input.labels[i]);
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
    setText(outCol.labels[i], out.labels[i]);
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
function buildCurves(root, d, look, w, h) {
  root.innerHTML = "";
  const C = look.colors, U = unit();
  const svg = el("svg", { viewBox: `0 0 ${w} ${h}`, width: w, height: h, role: "img", "aria-label": look.aria.curves,
                          "font-family": look.font }, root);
  const c = { svg, w, h, U, pad: 6 * U, lh: 21 * U, small: 16 * U, normal: 18 * U };
  c.title = el("text", { x: c.pad, y: 24 * U, "font-size": 22 * U, "font-weight": 700, fill: C.ink }, svg, "");
  c.sub = el("text", { x: c.pad, y: 24 * U + c.lh, "font-size": c.small, fill: C.muted }, svg, "");
  c.gap = el("text", { x: c.pad, y: 0, "font-size": c.normal, "font-weight": 700, fill: C.ink }, svg, "");
  c.grid = el("g", {}, svg);
  c.markers = el("g", {}, svg);
  c.lines = el("g", { fill: "none", "stroke-linejoin": "round" }, svg);
  c.axes = el("g", {}, svg);
  c.xTitle = el("text", { "font-size": c.small, fill: C.ink, "text-anchor": "middle" }, svg, "");
  c.legend = el("g", {}, svg);
  return c;
}

// the header (title, subtitle wrapped) and the legend (rows that wrap) decide where the plot area is
function layoutCurves(c, d, look) {
  const key = JSON.stringify([d.title, d.subtitle, d.legend]);
  if (c.layoutKey === key) return;
  c.layoutKey = key;
  const C = look.colors, U = c.U;
  c.title.textContent = d.title;
  const sub = wrap(c.svg, d.subtitle, c.small, c.w - 2 * c.pad).slice(0, 2);
  setLines(c.sub, sub, c.pad, c.lh);
  // the gap line goes at the right of the title when the longest it can be fits there
  const inline = measure(c.svg, d.title, 22 * U, 700) + measure(c.svg, d.gap_widest, c.normal, 700) + 24 * U < c.w;
  // else at the right of the subtitle's last line when it fits there (a narrow pane: the subtitle wraps)
  const gapWidth = measure(c.svg, d.gap_widest, c.normal, 700);
  const besideSub = !inline && sub.length > 1 && measure(c.svg, sub[sub.length - 1], c.small) + gapWidth + 24 * U < c.w;
  const headBottom = 24 * U + sub.length * c.lh - (inline || besideSub ? c.lh : 0);
  c.gap.setAttribute("text-anchor", inline || besideSub ? "end" : "start");
  c.gap.setAttribute("x", inline || besideSub ? c.w - c.pad : c.pad);
  c.gap.setAttribute("y", inline ? 24 * U : besideSub ? headBottom + c.lh : headBottom + c.lh + 2 * U);
  c.sub.setAttribute("y", 24 * U + c.lh);
  // legend rows from the bottom up
  c.legend.innerHTML = "";
  const rows = [[]];
  let x = c.pad;
  d.legend.forEach((item) => {
    const tw = measure(c.svg, item.text, c.small);
    const wItem = 36 * U + tw;
    if (x > c.pad && x + wItem > c.w - c.pad) { rows.push([]); x = c.pad; }
    rows[rows.length - 1].push([item, x]);
    x += wItem + 22 * U;
  });
  const legendTop = c.h - c.pad - rows.length * c.lh;
  rows.forEach((row, k) => row.forEach(([item, x0]) => {
    const g = el("g", { transform: `translate(${x0},${legendTop + (k + 1) * c.lh - 5 * U})` }, c.legend);
    el("line", { x1: 0, y1: -6 * U, x2: 28 * U, y2: -6 * U, stroke: item.color, "stroke-width": item.width,
                 "stroke-dasharray": item.dash, "stroke-opacity": item.opacity }, g);
    el("text", { x: 34 * U, y: 0, "font-size": c.small, fill: C.ink }, g, item.text);
  }));
  c.PT = headBottom + 2 * c.lh + 6 * U;
  c.PB = legendTop - 2 * c.lh - 8 * U;
  c.PR = 14 * U;
  c.PL = measure(c.svg, "0.000", c.small) + 16 * U;
  // short of height (the stage beside the lesson's step): the axis title goes on the tick numbers' line, left of
  // the 0, instead of on a line of its own
  const beside = c.PB - c.PT < 150 * U;
  if (beside) {  // and the plot starts just under the header: room for its top tick number only
    c.PT -= c.lh - 12 * U;
    c.PB += c.lh;
    c.PL = Math.max(c.PL, measure(c.svg, d.x_title, c.small) + 24 * U);
  }
  c.xTitle.setAttribute("text-anchor", beside ? "end" : "middle");
  c.xTitle.setAttribute("x", beside ? c.PL - 12 * U : (c.PL + c.w - c.PR) / 2);
  c.xTitle.setAttribute("y", beside ? c.PB + c.lh : c.PB + 2 * c.lh);
  c.axes.innerHTML = "";
  el("line", { x1: c.PL, y1: c.PB, x2: c.w - c.PR, y2: c.PB, stroke: C.ink, "stroke-width": 2 }, c.axes);
  el("line", { x1: c.PL, y1: c.PT, x2: c.PL, y2: c.PB, stroke: C.ink, "stroke-width": 2 }, c.axes);
  c.gkey = null;
}

function upTo(s, step) {
  if (s.run === "ghost") return s;
  let n = s.x.length;
  while (n > 0 && s.x[n - 1] > step) n--;
  return { ...s, x: s.x.slice(0, n), y: s.y.slice(0, n) };
}

function drawCurves(c, d, frame, look) {
  const C = look.colors;
  layoutCurves(c, d, look);
  const { PL, PR, PT, PB } = c, CW = c.w;
  setText(c.xTitle, d.x_title);
  setText(c.gap, frame.gap);
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
    // round tick steps (1, 2 or 5 x 10^k), few enough that their numbers never touch
    const ys = niceCeil(ymax / Math.max(2, Math.min(5, Math.floor((PB - PT) / (2.2 * c.lh)))));
    let xs = niceCeil(xmax / 5);
    while ((CW - PR - PL) * xs / xmax < measure(c.svg, String(+xmax.toPrecision(4)), c.small) + 16 * c.U) xs = niceCeil(xs * 1.5);
    for (let yv = 0; yv <= ymax * 1.0001; yv += ys) {
      el("line", { x1: PL, y1: Y(yv), x2: CW - PR, y2: Y(yv), stroke: C.grid }, c.grid);
      el("text", { x: PL - 8 * c.U, y: Y(yv) + 0.35 * c.small, "font-size": c.small, fill: C.ink, "text-anchor": "end" }, c.grid,
         +yv.toPrecision(3));
    }
    for (let xv = 0; xv <= xmax * 1.0001; xv += xs) {
      el("text", { x: X(xv), y: PB + c.lh, "font-size": c.small, fill: C.ink, "text-anchor": "middle" }, c.grid,
         +xv.toPrecision(4));
    }
  }
  // polylines: reuse elements, one per series, in a stable order (ghosts behind)
  while (c.lines.childNodes.length < all.length) el("polyline", {}, c.lines);
  while (c.lines.childNodes.length > all.length) c.lines.removeChild(c.lines.lastChild);
  all.forEach((s, i) => {
    const pl = c.lines.childNodes[i];
    pl.setAttribute("points", s.x.map((x, k) => `${X(x).toFixed(1)},${Y(s.y[k]).toFixed(1)}`).join(" "));
    pl.setAttribute("stroke", s.color);
    pl.setAttribute("stroke-width", s.width);
    pl.setAttribute("stroke-dasharray", s.dash);
    pl.setAttribute("stroke-opacity", s.opacity);
  });
  // p-change markers: every line drawn; labels inside the plot, in up to three staggered rows, newest first,
  // a label that fits in no row is left out (its line stays)
  const mkey = JSON.stringify([gkey, d.markers.filter(m => m.step <= frame.step).map(m => m.step)]);
  if (c.mkey === mkey) return;
  c.mkey = mkey;
  c.markers.innerHTML = "";
  const ends = [1e9, 1e9, 1e9];  // per row: the left edge of the label placed to its right
  const shown = d.markers.filter(m => m.step <= frame.step);
  for (let i = shown.length - 1; i >= 0; i--) {
    const m = shown[i], x = X(m.step);
    el("line", { x1: x, y1: PT, x2: x, y2: PB, stroke: m.color, "stroke-width": m.width,
                 "stroke-dasharray": m.dash }, c.markers);
    const tw = measure(c.svg, m.text, c.small);
    const right = x + 4 * c.U + tw > CW - PR;  // near the right edge: the label goes left of its line
    const left = right ? x - 4 * c.U - tw : x + 4 * c.U;
    const row = ends.findIndex(end => left + tw + 6 * c.U <= end);
    if (row < 0) continue;
    ends[row] = left;
    el("text", { x: right ? x - 4 * c.U : x + 4 * c.U, y: PT + (row + 1) * c.lh, "font-size": c.small, fill: m.color,
                 "text-anchor": right ? "end" : "start" }, c.markers, m.text);
  }
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

// ------------------------------------------------------------------ drawing a frame
function show(st, frame) {
  st.frame = frame;
  if (st.notice && frame.step !== st.notice.step) st.notice = null;  // the run moved on: said enough
  const note = st.lost ? st.look.notices.disconnected : st.stalled ? st.look.notices.stalled
    : st.notice ? st.notice.text : null;
  if (note) frame = { ...frame, status: note };
  const dHost = pane(st.row, "diagram"), cHost = pane(st.row, "curves");
  const [dw, dh] = paneSize(dHost, st.present, 0.62);
  const key = shapeKey(frame, dw, dh);
  if (!st.diagram || st.diagram.key !== key) {
    st.diagram = build(dHost, frame, st.look, dw, dh, st.present);
    st.diagram.key = key;
  }
  draw(st.diagram, frame, st.look);
  const [cw, ch] = paneSize(cHost, st.present, 0.85);
  const ckey = `${cw}|${ch}|${unit()}`;
  if (!st.curves || st.curves.key !== ckey) {
    st.curves = buildCurves(cHost, st.curvesData, st.look, cw, ch);
    st.curves.key = ckey;
  }
  drawCurves(st.curves, st.curvesData, frame, st.look);
}

// ------------------------------------------------------------------ playback
// Pulled (data.pull): while playing, the browser asks Python for the next frames ("pull" trigger): about two
// seconds of them per request (a request is a Streamlit rerun, which costs the server more than a frame), with at
// most data.pull_depth requests unanswered, asked while it still has a round trip's worth to draw (measured,
// smoothed; at most MAX_AHEAD), so the round trip hides behind frames being drawn. Pause (the Play/Pause button,
// Space, Step, or the tab hidden) is seen here at the press, before Python hears of it: the asking stops, the
// frame on screen stays, and its iteration goes to Python (the "pause" trigger, or with a key the key's own
// trigger), which takes the run back to it. Frames that arrive before Python is told are not drawn. So nothing
// moves after the press, and the frame on screen is the engine's state, which Step continues from.
// Otherwise Python sends several frames at once, shown one every interval_ms; a new epoch drops those
// not yet shown, and a paused payload's frame (the teacher's, to a follower) drops those after it.
const STOP_KEYS = ["play_pause", "step"];
const MAX_AHEAD = 10;  // frames left to draw when the next request goes out, at most (0.4 s: a request computes 2 s)
const PAUSE_BUTTONS = { ".st-key-play button": "", ".st-key-step button": "step" };  // -> what follows the pause
const RESET_BUTTON = ".st-key-reset button";
// a hold not answered within this long is given up (its request was lost): a page run under load took over 2 s
const HOLD_MS = 6000;

function halt(st) {
  if (st.timer) { clearTimeout(st.timer); st.timer = null; }
  if (st.pumpTimer) { clearTimeout(st.pumpTimer); st.pumpTimer = null; }
  st.queue = [];
}

// stop asking and drawing; the iteration on screen (null if nothing is, or this view was not playing)
function stopPulling(st) {
  if (!st.want) return null;
  st.want = false;
  st.stopped = st.playId;
  halt(st);
  return st.frame ? st.frame.step : null;
}

// pause at the frame on screen; then: "step" for a Step (one iteration from it), "" for a Pause
function pauseHere(st, then) {
  const step = stopPulling(st);
  if (step === null) return false;
  st.pauses = (st.pauses || 0) + 1;
  st.send("pause", { step, n: st.pauses, then });
  return true;
}

// whether the page's Plotly panels (data.panels: their container's selector) are in the window now: below the fold
// (the full page at 1280x720) Python skips redrawing them while playing, and does once they are scrolled to
function panelsInView(st) {
  const box = st.panels ? document.querySelector(st.panels) : null;
  if (!box) return true;
  const r = box.getBoundingClientRect();
  return r.bottom > 0 && r.top < window.innerHeight;
}

function ask(st) {
  st.timer = null;
  if (!st.want || st.asked - st.answered >= st.depth) return;
  st.asked += 1;
  st.askedAt = performance.now();
  st.send("pull", { n: st.asked, panels: panelsInView(st) });
}

function schedule(st) {
  // ask for the next frames while a round trip's worth of these is still to be drawn
  if (!st.want || st.holding || st.asked - st.answered >= st.depth || st.timer || st.queue.length > (st.ahead || 1)) return;
  const now = performance.now();
  const due = Math.max(now, (st.askedAt || 0) + st.interval);
  st.timer = setTimeout(() => ask(st), due - now);
}

function listen(st) {
  if (st.listening) return;
  st.listening = true;
  // a key's trigger carries the iteration on screen (keys.js reads it from the event), so it needs no other request
  const here = () => st.row && st.row.isConnected;  // this view is still on the page (not another page's)
  document.addEventListener("dropviz-key", (event) => {
    if (!here()) return;
    const detail = event.detail || {};
    if (STOP_KEYS.includes(detail.action)) {
      const step = stopPulling(st);
      if (step !== null) detail.shown = step;
    }
  });
  // Pause or Step pressed while playing: the view pauses at the frame on screen ("pause" trigger) and the button's
  // own click is swallowed: two requests at once (the trigger's and the click's) lose the click now and then (seen
  // on the Variants page), and the trigger's callback does what the click would have done
  const onPress = (event) => {
    const target = event.target && event.target.closest ? event.target : null;
    if (!target || !here()) return;
    if (target.closest(RESET_BUTTON)) { stopPulling(st); return; }
    const button = Object.keys(PAUSE_BUTTONS).find(sel => target.closest(sel));
    if (!button) return;
    if (event.type === "click" && st.swallow) { st.swallow = false; event.preventDefault(); event.stopPropagation(); return; }
    if (!pauseHere(st, PAUSE_BUTTONS[button])) return;
    if (event.type === "click") { event.preventDefault(); event.stopPropagation(); } else st.swallow = true;
  };
  document.addEventListener("pointerdown", onPress, true);  // a real click: as soon as the button is pressed
  document.addEventListener("click", onPress, true);
  // the tab hidden while playing: pause, as if Pause were pressed
  document.addEventListener("visibilitychange", () => { if (document.hidden && here()) pauseHere(st, ""); });
  // Streamlit shows its connection status only while it cannot reach the server: say so in the status line
  setInterval(() => {
    const lost = !!document.querySelector('[data-testid="stConnectionStatus"]');
    if (lost !== !!st.lost) { st.lost = lost; if (st.frame) show(st, st.frame); }
  }, 500);
  // a frame asked for and never answered (the request was folded into another rerun): ask again
  setInterval(() => {
    if (st.asked > st.answered && performance.now() - st.askedAt > 2000) { st.answered = st.asked; schedule(st); }
    if (st.holding && performance.now() - st.heldAt > HOLD_MS) { st.holding = 0; schedule(st); }  // never answered
  }, 500);
  // a new pane size: lay out again
  let resizeTimer = null;
  window.addEventListener("resize", () => {
    clearTimeout(resizeTimer);
    resizeTimer = setTimeout(() => { if (st.frame) show(st, st.frame); }, 150);
  });
}

function pump(st) {
  st.pumpTimer = null;
  if (!st.queue.length) { if (st.pulling) schedule(st); return; }
  show(st, st.queue.shift());
  if (st.pulling) schedule(st);
  if (!st.queue.length) return;
  // keep the cadence: aim at the next slot rather than "interval after this (late) draw"
  const now = performance.now();
  st.due = Math.max(now, (st.due || now) + st.interval);
  st.pumpTimer = setTimeout(() => pump(st), st.due - now);
}

// a request answered: the round trip, smoothed, sets how many frames ahead the next request goes out
function answered(st, now) {
  if (!st.askedAt) return;
  const rtt = now - st.askedAt;
  st.rtt = st.rtt ? 0.7 * st.rtt + 0.3 * rtt : rtt;
  st.ahead = Math.max(1, Math.min(MAX_AHEAD, Math.ceil(st.rtt / st.interval)));
}

// A run that started again, in a new session (a reload) or a new server process (a restart), is said in
// the status line until it moves on; the tab remembers (sessionStorage) the last iteration it showed here.
function checkOrigin(st, data) {
  const key = `dropviz-live:${location.pathname}`;
  const step = data.frames[data.frames.length - 1].step;
  let saved = null;
  try { saved = JSON.parse(sessionStorage.getItem(key) || "null"); } catch (e) { saved = null; }
  if (saved && saved.session !== data.session && saved.step > step) {
    const text = data.look.notices[saved.boot !== data.boot ? "restarted" : "reloaded"].replace("{step}", step);
    st.notice = { text, step };
  }
  try { sessionStorage.setItem(key, JSON.stringify({ boot: data.boot, session: data.session, step })); } catch (e) { /* private mode */ }
}

export default function (component) {
  const { parentElement } = component;
  // the payload comes as JSON text (dropviz/live/payload.py payload_text: Streamlit then only escapes it)
  const data = typeof component.data === "string" ? JSON.parse(component.data) : component.data;
  if (!data || !data.frames) return;
  const st = parentElement.__playback || (parentElement.__playback = { queue: [], timer: null, asked: 0 });
  // nothing new: only a follower's rerun, which still says whether the class stalled, has anything to show
  if (!data.frames.length && (data.pull || !st.frame)) return;
  st.look = data.look;
  if (data.session) checkOrigin(st, data);
  st.row = pane(parentElement, "dropviz-live");
  st.present = !!data.present;
  st.row.classList.toggle("present", st.present);
  if (st.present && data.layout) {  // the stage's size, as app_pages/stage.py lays out the page around it
    st.row.style.height = data.layout.height;
    st.row.style.gridTemplateRows = data.layout.rows;
  }
  st.curvesData = data.curves;
  st.look = data.look;
  st.interval = data.interval_ms;
  st.send = component.setTriggerValue;
  st.epochSeen = data.epoch;
  if (data.pull) {
    listen(st);
    st.depth = data.pull_depth || 1;
    st.panels = data.panels || "";
    if (data.pulled > (st.answered || 0) && data.pulled === st.asked) answered(st, performance.now());
    st.answered = Math.max(st.answered || 0, data.pulled);
    if (st.answered > st.asked) st.asked = st.answered;  // a new element for an old session
    st.playId = data.play_id;
    st.want = !!data.playing && data.play_id !== st.stopped;
    st.pulling = true;
    const engine = data.frames[data.frames.length - 1];
    if (!data.playing) {  // paused: the engine's frame, now (after a Pause here, the one on screen: Python went back)
      halt(st);
      show(st, engine);
    } else if (!st.want) {  // paused here, Python not told yet: frames answered meanwhile are not drawn
      if (!st.frame) show(st, engine);
    } else if (data.rush && st.frame && engine.step > st.frame.step) {
      // a setting changed while an earlier frame than the run's was on screen: nothing more is drawn, and Python
      // takes the run back to the frame on screen, the change applying from it ("hold"); then playing goes on
      halt(st);
      st.holds = (st.holds || 0) + 1;
      st.holding = st.holds;
      st.heldAt = performance.now();
      st.send("hold", { step: st.frame.step, n: st.holds });
    } else if (st.holding && (data.held || 0) < st.holding && performance.now() - st.heldAt < HOLD_MS) {
      // frames answered before the hold was: computed with the old setting, not drawn
    } else {
      st.holding = 0;
      // every frame Python computed is drawn, in order (a frame already drawn is not drawn again)
      const last = st.queue.length ? st.queue[st.queue.length - 1].step : (st.frame ? st.frame.step : -1);
      const fresh = data.frames.filter(f => f.step > last);
      st.queue.push(...(fresh.length ? fresh : [engine]));
      if (!st.pumpTimer) { st.due = performance.now(); pump(st); }
      schedule(st);
    }
  } else {
    st.pulling = false;
    // a class whose teacher's page stopped sending frames while playing: said in the status line, not "playing"
    if (!!data.stalled !== !!st.stalled) {
      st.stalled = !!data.stalled;
      if (st.frame) show(st, st.frame);
    }
    if (st.epoch !== data.epoch) {
      st.epoch = data.epoch;
      st.queue = [];
      if (st.pumpTimer) { clearTimeout(st.pumpTimer); st.pumpTimer = null; }
    }
    if (!data.playing && data.frames.length) {  // the teacher paused here: the frames after it were never shown
      const at = data.frames[data.frames.length - 1].step;
      st.queue = st.queue.filter(f => f.step < at);
    }
    if (data.frames.length) {  // a rerun with nothing new leaves the frames still to draw as they are
      st.queue.push(...data.frames);
      // never fall more than two reruns behind the engine
      const limit = 2 * data.frames.length + 1;
      if (st.queue.length > limit) st.queue.splice(0, st.queue.length - limit);
    }
    if (!st.pumpTimer) { st.due = performance.now(); pump(st); }
  }
  // first view of a session: the frame is on screen, now ask Python for the rest of the page
  if (data.request_panels && !st.requested) {
    st.requested = true;
    requestAnimationFrame(() => component.setTriggerValue("ready", true));
  }
}
