// toyjax report glue: unpack the inlined plotly.js, draw the figures built in Python, and wire clicks and
// selectors to Plotly.react. No chart is drawn here; the figures and every model's numbers are in DATA.
"use strict";
const DATA = JSON.parse(document.getElementById("toyjax-data").textContent);
const G = DATA.grid, M = DATA.model;
const STATUS = ["trained", "diverged", "missing"];
const strides = G.shape.map((_, i) => G.shape.slice(i + 1).reduce((a, b) => a * b, 1));
const unravel = k => G.shape.map((s, i) => Math.floor(k / strides[i]) % s);
const ravel = idx => idx.reduce((a, v, i) => a + v * strides[i], 0);
const fmt = v => (v === null || v === undefined) ? "–" : (typeof v === "number" ? String(+v.toPrecision(4)) : String(v));
const el = (tag, attrs = {}, text = "") => { const e = document.createElement(tag); Object.assign(e, attrs); e.textContent = text; return e; };
const seedAxis = G.dims.indexOf("seed");

async function loadPlotly() {
  const b64 = document.getElementById("plotly-gz").textContent;
  const bytes = Uint8Array.from(atob(b64), c => c.charCodeAt(0));
  const stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("gzip"));
  const script = document.createElement("script");
  script.textContent = await new Response(stream).text();
  document.head.appendChild(script);
}

function draw(id) {
  const fig = DATA.figures[id];
  const layout = Object.assign({template: DATA.template}, fig.layout);
  return Plotly.newPlot(id, fig.data, layout, {responsive: true, displaylogo: false});
}

function setPath(obj, path, value) {  // a copy of obj with obj[a][b]... = value for path "a.b..."
  const [head, ...rest] = path.split(".");
  const out = Object.assign({}, obj);
  out[head] = rest.length ? setPath(obj[head] || {}, rest.join("."), value) : value;
  return out;
}

function react(id, traces, relayout = {}) {  // traces: {index: {prop: value}}
  const gd = document.getElementById(id);
  const data = gd.data.map((tr, t) => Object.entries(traces[t] || {}).reduce((o, [p, v]) => setPath(o, p, v), tr));
  const layout = Object.assign({}, gd.layout, relayout);
  layout.datarevision = (layout.datarevision || 0) + 1;
  return Plotly.react(gd, data, layout);
}

function modelUpdates(row) {  // {figure: {trace: {prop: value}}} from the bindings
  const out = {};
  for (const b of M.bindings) {
    let v = b.i.reduce((v, p) => (v === null || v === undefined) ? v : v[p], row[M.fields.indexOf(b.k)]);
    if (b.a) v = [0, v];
    if (b.c) v = v.map(x => [x]);
    ((out[b.f] = out[b.f] || {})[b.t] = out[b.f][b.t] || {})[b.p] = v;
  }
  return out;
}

function matrixTable(id, name, rows) {
  const t = el("table", {id, className: "mat"});
  t.appendChild(el("caption", {}, name));
  rows.forEach(r => { const tr = el("tr"); r.forEach(v => tr.appendChild(el("td", {}, fmt(v)))); t.appendChild(tr); });
  return t;
}

function describe(k, row) {
  const box = document.getElementById("model-info");
  box.replaceChildren();
  const idx = unravel(k);
  G.dims.forEach((d, i) => {
    const s = el("span", {className: "kv"}); s.dataset.axis = d;
    s.append(G.names[d] + " ", el("b", {}, G.labels[d][idx[i]])); box.appendChild(s);
  });
  const facts = [["status", STATUS[G.status[k]]], ["training loss", fmt(G.loss[k])], ["expected loss", fmt(G.eval_loss[k])]];
  facts.forEach(([n, v]) => { const s = el("span", {className: "kv"}); s.dataset.key = n; s.append(n + " ", el("b", {}, v)); box.appendChild(s); });
  if (!row) { box.appendChild(el("p", {className: "note"}, "This model's details are not embedded (" + M.note + ").")); return; }
  const W = row[M.fields.indexOf("W")], b = row[M.fields.indexOf("b")];
  const tables = el("div", {className: "row scroll"});
  if (W && W.length * W[0].length <= M.list_max) tables.appendChild(matrixTable("model-W", M.matrix + " (hidden dimension × feature)", W));
  if (b && b.length <= M.list_max / 2) tables.appendChild(matrixTable("model-b", "b", [b]));
  box.appendChild(tables);
}

function seedSelector(k) {
  const sel = document.getElementById("seed-select");
  if (seedAxis < 0) { sel.parentElement.hidden = true; return; }
  const idx = unravel(k);
  sel.replaceChildren();
  for (let s = 0; s < G.shape[seedAxis]; s++) {
    const ks = k + (s - idx[seedAxis]) * strides[seedAxis];
    const o = el("option", {value: ks}, `seed ${G.labels.seed[s]}: expected loss ${fmt(G.eval_loss[ks])}` +
      (G.status[ks] ? ` (${STATUS[G.status[ks]]})` : "") + (M.rows[ks] ? "" : " (not embedded)"));
    o.selected = s === idx[seedAxis];
    sel.appendChild(o);
  }
}

function showModel(k) {
  k = +k;
  const row = M.rows[k];
  describe(k, row);
  seedSelector(k);
  document.getElementById("model").dataset.model = k;
  if (!row) return Promise.resolve();
  return Promise.all(Object.entries(modelUpdates(row)).map(([id, traces]) => react(id, traces)));
}

function gridControls() {
  const box = document.getElementById("grid-controls");
  if (!box) return;
  const xsel = el("select", {id: "grid-x"});
  G.dims.forEach((d, i) => xsel.appendChild(el("option", {value: i}, G.names[d])));
  const label = el("label", {}, "against "); label.appendChild(xsel); box.appendChild(label);
  const sels = G.dims.map((d, i) => {
    const s = el("select", {id: "grid-" + d});
    G.labels[d].forEach((v, j) => s.appendChild(el("option", {value: j}, v)));
    const l = el("label", {}, G.names[d] + " "); l.appendChild(s); box.appendChild(l);
    return s;
  });
  const update = () => {
    const x = +xsel.value, d = G.dims[x], base = sels.map(s => +s.value);
    sels.forEach((s, i) => { s.disabled = i === x; });
    const ks = G.labels[d].map((_, j) => { const idx = base.slice(); idx[x] = j; return ravel(idx); });
    const xs = G.coords[d] || G.labels[d];
    react("grid-loss", {0: {x: xs, y: ks.map(k => G.loss[k]), customdata: ks}, 1: {x: xs, y: ks.map(k => G.eval_loss[k]), customdata: ks}},
          {xaxis: Object.assign({title: {text: G.names[d]}}, G.axis[d])});
  };
  [xsel, ...sels].forEach(s => s.addEventListener("change", update));
  return update();
}

async function main() {
  if (typeof DecompressionStream === "undefined") {
    document.getElementById("loading").textContent = "This browser cannot unpack the embedded plotly.js (it needs DecompressionStream: Chrome 80, Firefox 113, Safari 16.4 or later).";
    return;
  }
  await loadPlotly();
  await Promise.all(Object.keys(DATA.figures).map(draw));
  for (const id of DATA.clicks) {
    document.getElementById(id).on("plotly_click", e => {
      const cd = e.points[0].customdata;
      const k = Array.isArray(cd) ? cd[0] : cd;
      if (k !== null && k !== undefined) showModel(k);
    });
  }
  document.getElementById("seed-select").addEventListener("change", e => showModel(e.target.value));
  document.addEventListener("click", e => { const r = e.target.closest("[data-model]"); if (r && r.tagName === "TR") showModel(r.dataset.model); });
  await gridControls();
  await showModel(M.initial);
  document.getElementById("loading").remove();
  document.body.dataset.ready = "1";
}
main().catch(err => { console.error(err); document.getElementById("loading").textContent = "Report failed: " + err; });
