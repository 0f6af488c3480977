// mnistlab explorer: plain JS, no build step, no network beyond this local server.
"use strict";

const SCALE = 2;          // thumbnails drawn at 2x their native 28 px, pixelated
const PAGE_SIZE = 100;    // one sprite sheet per page
const $ = (id) => document.getElementById(id);

const state = { meta: null, page: 0, loading: false, done: false, token: 0, box: null, emb: null };

function option(select, value, text) {
  const o = document.createElement("option");
  o.value = value; o.textContent = text; select.appendChild(o); return o;
}

function fmt(v) {
  if (v === null || v === undefined) return "–";
  if (typeof v === "number") return Number.isInteger(v) ? String(v) : v.toPrecision(4);
  return String(v);
}

function params(page) {
  const p = new URLSearchParams();
  const set = (k, v) => { if (v !== "" && v !== null && v !== undefined) p.set(k, v); };
  set("model", $("f-model").value);
  set("sort", $("f-sort").value);
  set("order", $("f-order").value);
  for (const k of ["label", "pred", "correct", "corruption", "severity"]) set(k, $("f-" + k).value);
  if ($("f-score").value) {
    set("score", $("f-score").value); set("min", $("f-min").value); set("max", $("f-max").value);
  }
  if (state.box) {
    set("emb", state.box.kind);
    set("x0", state.box.x0); set("x1", state.box.x1); set("y0", state.box.y0); set("y1", state.box.y1);
  }
  p.set("page", page); p.set("size", PAGE_SIZE);
  return p;
}

async function getJSON(url) {
  const r = await fetch(url);
  const body = await r.json();
  if (!r.ok) throw new Error(body.error || r.statusText);
  return body;
}

function reset() {
  state.token += 1; state.page = 0; state.done = false; state.loading = false;
  $("gallery").replaceChildren();
  $("gallery-wrap").scrollTop = 0;
  loadNext();
}

async function loadNext() {
  if (state.loading || state.done) return;
  state.loading = true;
  const token = state.token;
  $("sentinel").textContent = "loading…";
  let data;
  try {
    data = await getJSON("/api/page?" + params(state.page));
  } catch (err) {
    $("sentinel").textContent = "error: " + err.message;
    state.loading = false; state.done = true; return;
  }
  if (token !== state.token) return;  // filters changed while loading
  const classes = state.meta.classes;
  const [w, h] = data.thumb;
  const frag = document.createDocumentFragment();
  for (const it of data.items) {
    const d = document.createElement("div");
    d.className = "thumb" + (it.correct ? "" : " wrong");
    d.style.width = w * SCALE + "px"; d.style.height = h * SCALE + "px";
    d.style.backgroundImage = `url(${data.sprite})`;
    d.style.backgroundSize = `${data.columns * w * SCALE}px auto`;
    d.style.backgroundPosition = `-${it.sx * SCALE}px -${it.sy * SCALE}px`;
    d.dataset.variant = it.variant; d.dataset.sampleId = it.sample_id;
    d.dataset.label = it.label; d.dataset.pred = it.pred; d.dataset.value = it.value ?? "";
    d.title = `#${it.sample_id} ${it.variant}\ntrue: ${classes[it.label]}\npred: ${classes[it.pred]}\n` +
      `${data.sort}: ${fmt(it.value)}`;
    d.addEventListener("click", () => openDetail(it.variant, it.sample_id));
    frag.appendChild(d);
  }
  $("gallery").appendChild(frag);
  $("count").textContent = `${data.total.toLocaleString()} samples`;
  state.page += 1;
  state.loading = false;
  state.done = (state.page * PAGE_SIZE >= data.total) || data.items.length === 0;
  $("sentinel").textContent = state.done ? (data.total ? "end" : "no sample matches") : "";
  if (!state.done && sentinelVisible()) loadNext();
}

function sentinelVisible() {
  const r = $("sentinel").getBoundingClientRect();
  return r.top < window.innerHeight + 400;
}

async function openDetail(variant, sid) {
  const q = new URLSearchParams({ model: $("f-model").value, variant, sample_id: sid });
  const s = await getJSON("/api/sample?" + q);
  const classes = state.meta.classes;
  $("detail-title").textContent =
    `sample ${s.sample_id} · ${s.variant} · true ${classes[s.label]} · predicted ${classes[s.pred]}` +
    (s.correct ? " ✓" : " ✗");
  $("detail-img").src = s.image; $("detail-clean").src = s.clean;
  $("detail-variant").textContent = s.variant;
  const probs = $("probs"); probs.replaceChildren();
  s.probs.forEach((p, c) => {
    const row = document.createElement("div");
    row.className = "prob" + (c === s.label ? " truth" : "") + (c === s.pred ? " predicted" : "");
    const name = document.createElement("span"); name.textContent = classes[c];
    const box = document.createElement("div"); box.className = "barbox";
    const bar = document.createElement("div"); bar.className = "bar";
    bar.style.width = `${Math.max(0, Math.min(1, p ?? 0)) * 100}%`; box.appendChild(bar);
    const val = document.createElement("span"); val.textContent = fmt(p);
    row.append(name, box, val); probs.appendChild(row);
  });
  kvTable($("detail-scores"), "scores", s.scores);
  kvTable($("detail-morpho"), "morphometrics", s.morpho);
  $("detail").hidden = false;
}

function kvTable(table, title, values) {
  table.replaceChildren();
  const head = table.insertRow(); const th = document.createElement("th");
  th.colSpan = 2; th.textContent = title; head.appendChild(th);
  const keys = Object.keys(values);
  if (!keys.length) { table.insertRow().insertCell().textContent = "not computed in this run"; return; }
  for (const k of keys) { const r = table.insertRow(); r.insertCell().textContent = k; r.insertCell().textContent = fmt(values[k]); }
}

// -- embedding view: a scatter on a canvas; dragging a box filters the gallery ---------------------

const PALETTE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"];

async function loadEmbedding() {
  const kind = $("f-emb").value;
  if (!kind) { state.emb = null; drawEmbedding(); return; }
  state.emb = await getJSON("/api/embedding?" + new URLSearchParams({ model: $("f-model").value, kind }));
  const e = state.emb;
  const pad = (lo, hi) => { const d = (hi - lo) * 0.04 || 1; return [lo - d, hi + d]; };
  [e.xmin, e.xmax] = pad(Math.min(...e.x), Math.max(...e.x));
  [e.ymin, e.ymax] = pad(Math.min(...e.y), Math.max(...e.y));
  const hs = e.h.filter((v) => v !== null);
  e.hmin = Math.min(...hs); e.hmax = Math.max(...hs);
  drawEmbedding();
}

function toCanvas(e, x, y, c) {
  return [(x - e.xmin) / (e.xmax - e.xmin) * c.width, c.height - (y - e.ymin) / (e.ymax - e.ymin) * c.height];
}
function toData(e, px, py, c) {
  return [e.xmin + px / c.width * (e.xmax - e.xmin), e.ymin + (c.height - py) / c.height * (e.ymax - e.ymin)];
}

function drawEmbedding(drag) {
  const c = $("emb"); const g = c.getContext("2d");
  g.clearRect(0, 0, c.width, c.height);
  const e = state.emb;
  if (!e) { g.fillStyle = "#888"; g.fillText("no embedding in this run", 10, 20); return; }
  const byHard = $("emb-hard").checked && e.hardness;
  for (let i = 0; i < e.x.length; i++) {
    const [px, py] = toCanvas(e, e.x[i], e.y[i], c);
    if (byHard) {
      const t = e.h[i] === null ? 0 : (e.h[i] - e.hmin) / ((e.hmax - e.hmin) || 1);
      g.fillStyle = `rgb(${Math.round(40 + 215 * t)},${Math.round(60 * (1 - t))},${Math.round(140 * (1 - t))})`;
    } else {
      g.fillStyle = PALETTE[e.label[i] % PALETTE.length];
    }
    g.fillRect(px - 1, py - 1, e.correct[i] ? 2 : 3, e.correct[i] ? 2 : 3);
  }
  const box = drag || (state.box && state.box.kind === e.kind ? state.box : null);
  if (box) {
    const [ax, ay] = toCanvas(e, box.x0, box.y0, c); const [bx, by] = toCanvas(e, box.x1, box.y1, c);
    g.strokeStyle = "#000"; g.lineWidth = 1.5; g.setLineDash([4, 3]);
    g.strokeRect(Math.min(ax, bx), Math.min(ay, by), Math.abs(bx - ax), Math.abs(by - ay));
    g.setLineDash([]);
  }
}

function setupBrush() {
  const c = $("emb"); let start = null;
  const pos = (ev) => { const r = c.getBoundingClientRect(); return [(ev.clientX - r.left) * c.width / r.width, (ev.clientY - r.top) * c.height / r.height]; };
  c.addEventListener("mousedown", (ev) => { if (state.emb) start = pos(ev); });
  c.addEventListener("mousemove", (ev) => {
    if (!start) return;
    const e = state.emb; const [x0, y0] = toData(e, ...start, c); const [x1, y1] = toData(e, ...pos(ev), c);
    drawEmbedding({ x0, y0, x1, y1 });
  });
  window.addEventListener("mouseup", (ev) => {
    if (!start) return;
    const end = pos(ev); const e = state.emb;
    if (Math.abs(end[0] - start[0]) > 3 && Math.abs(end[1] - start[1]) > 3) {
      const [x0, y0] = toData(e, ...start, c); const [x1, y1] = toData(e, ...end, c);
      state.box = { kind: e.kind, x0: Math.min(x0, x1), x1: Math.max(x0, x1), y0: Math.min(y0, y1), y1: Math.max(y0, y1) };
      $("emb-clear").disabled = false; $("emb-hint").textContent = "gallery filtered by the box";
      reset();
    }
    start = null; drawEmbedding();
  });
  $("emb-clear").addEventListener("click", () => {
    state.box = null; $("emb-clear").disabled = true; $("emb-hint").textContent = "drag a box to filter the gallery";
    drawEmbedding(); reset();
  });
}

async function loadMeta() {
  const model = $("f-model").value;
  const meta = await getJSON("/api/meta" + (model ? "?model=" + encodeURIComponent(model) : ""));
  state.meta = meta;
  $("title").textContent = `mnistlab explorer · ${meta.run}`;
  const fill = (id, values, keepFirst = true) => {
    const s = $(id); const prev = s.value;
    while (s.options.length > (keepFirst ? 1 : 0)) s.remove(s.options.length - 1);
    for (const [v, t] of values) option(s, v, t);
    if ([...s.options].some((o) => o.value === prev)) s.value = prev;
  };
  fill("f-model", meta.models.map((m) => [m, m]), false); $("f-model").value = meta.model;
  fill("f-sort", meta.sortable.map((c) => [c, c]), false);
  if (!meta.sortable.includes(state.sortChosen)) $("f-sort").value = meta.hardness || "sample_id";
  const classes = meta.classes.map((n, i) => [i, `${i} ${n}`]);
  fill("f-label", classes); fill("f-pred", classes);
  fill("f-corruption", meta.corruptions.map((c) => [c, c === "identity" ? "none (clean)" : c]));
  fill("f-severity", meta.severities.map((s) => [s, s]));
  fill("f-score", meta.sortable.filter((c) => !["sample_id", "label", "pred"].includes(c)).map((c) => [c, c]));
  fill("f-emb", meta.embeddings.map((k) => [k, k.toUpperCase()]), false);
  if (!meta.embeddings.length) option($("f-emb"), "", "none");
}

async function main() {
  await loadMeta();
  for (const id of ["f-sort", "f-order", "f-label", "f-pred", "f-correct", "f-corruption", "f-severity", "f-score"]) {
    $(id).addEventListener("change", () => { if (id === "f-sort") state.sortChosen = $(id).value; reset(); });
  }
  for (const id of ["f-min", "f-max"]) $(id).addEventListener("change", reset);
  $("f-model").addEventListener("change", async () => { state.box = null; await loadMeta(); await loadEmbedding(); reset(); });
  $("f-emb").addEventListener("change", loadEmbedding);
  $("emb-hard").addEventListener("change", () => drawEmbedding());
  $("detail-close").addEventListener("click", () => { $("detail").hidden = true; });
  $("detail").addEventListener("click", (ev) => { if (ev.target === $("detail")) $("detail").hidden = true; });
  document.addEventListener("keydown", (ev) => { if (ev.key === "Escape") $("detail").hidden = true; });
  new IntersectionObserver((entries) => { if (entries.some((x) => x.isIntersecting)) loadNext(); },
    { root: $("gallery-wrap"), rootMargin: "400px" }).observe($("sentinel"));
  setupBrush();
  reset();
  await loadEmbedding();
}

main().catch((err) => { $("sentinel").textContent = "error: " + err.message; });
