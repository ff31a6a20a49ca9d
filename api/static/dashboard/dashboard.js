/* The dashboard: vanilla JS, no framework and no build step, so the page works offline and a
 * researcher can read what it does. It reads the read-only JSON API under /v1/dashboard (contract: options,
 * summary, timeseries, groups, matrix, topics, documents) and POST /v1/compare.
 *
 * Flow: the URL's query string -> `state` -> the filter controls; every control change -> `state` -> the URL
 * (history.replaceState, so a link can be shared) -> every panel reloads. Each panel remembers its last response
 * so a language switch or a window resize redraws without asking the server again.
 *
 * All visible text comes from the dictionary I18N in i18n.js (NL default, EN); frame and stance labels come from
 * /options. Data is only ever put into the page through textContent / attributes, never innerHTML, so a title
 * or sentence from the corpus cannot inject markup.
 */
"use strict";

/* ------------------------------------------------------------------ constants */

// Okabe–Ito: distinguishable with every common colour-vision deficiency. Pressuring also gets a hatch pattern,
// and every chart has text (legend, numbers, a data table), so colour never carries meaning alone.
const COLOURS = { supportive: "#0072B2", pressuring: "#D55E00", neutral: "#999999" };
// Stack order: pressuring from the baseline, supportive to the top, neutral between: both poles are then read
// against an axis.
const STANCES = ["pressuring", "neutral", "supportive"];
const PERIODS = ["day", "week", "month", "year"];
const SINGLE_FILTERS = ["model_version", "date_from", "date_to", "genre", "corpus", "stance", "frame",
  "min_relevance", "speaker", "topic_model", "topic"];
const DEFAULT_MIN_RELEVANCE = "0.5";
const PAGE_SIZE = 20;
const SVG_NS = "http://www.w3.org/2000/svg";
// "/" for the page at "/" and at "/dashboard"; also right when the app sits under a path prefix.
const ROOT = location.pathname.replace(/dashboard\/?$/, "").replace(/\/?$/, "/");
const PRESETS = {
  parents: { a: "genre=interview", b: "genre=policy", label_a: "label_parents", label_b: "label_institutions" },
  mothers: { a: "parent=mother", b: "parent=father", label_a: "label_mothers", label_b: "label_fathers" },
};

/* ------------------------------------------------------------------ state */

const state = {
  lang: "nl",
  filters: emptyFilters(),
  period: "month",
  docs: { page: 1, sort: "-published", drill: null },
  doc: null,  // the id of the open document, kept in the URL too
};
let options = null;             // /v1/dashboard/options
const cache = {};               // panel name -> last response (redrawn on language switch / resize)
const tokens = {};              // panel name -> request counter: a late answer to an old query is dropped
const topicLists = {};          // topic model -> its topics, for the topic select
let lastOpener = null;          // the control that opened the document detail, to return focus on close
let summaryData = null;         // /v1/dashboard/summary, redrawn on a language switch

function emptyFilters() {
  const f = { source: [] };
  for (const key of SINGLE_FILTERS) f[key] = "";
  return f;
}

const $ = (selector, root = document) => root.querySelector(selector);
const t = (key, ...args) => {
  const entry = I18N[state.lang][key] ?? I18N.nl[key];
  if (entry === undefined) return key;
  return typeof entry === "function" ? entry(...args) : entry;
};

/* ------------------------------------------------------------------ formatting */

const locale = () => (state.lang === "nl" ? "nl-BE" : "en-GB");
const pct = (x) => (x == null || Number.isNaN(x) ? "–"
  : new Intl.NumberFormat(locale(), { style: "percent", maximumFractionDigits: 0 }).format(x));
const num = (x, digits = 2) => (x == null ? "–"
  : new Intl.NumberFormat(locale(), { minimumFractionDigits: digits, maximumFractionDigits: digits }).format(x));

function stanceLabel(id) {
  const found = options && options.stances && options.stances.find((s) => s.id === id);
  return (found && found[state.lang]) || t(`stance_${id}`);
}
function frameLabel(id) {
  const found = options && options.frames && options.frames.find((f) => f.id === id);
  return (found && found[state.lang]) || id;
}
function genreLabel(id) {
  const key = `genre_${id}`;
  return I18N.nl[key] ? t(key) : id;
}
function attrLabel(key) {
  return I18N.nl[`attr_${key}`] ? t(`attr_${key}`) : key;
}
function shareParts(r) {
  return STANCES.map((s) => `${stanceLabel(s)} ${pct(r[`share_${s}`])}`).join(", ");
}

/* ------------------------------------------------------------------ URL <-> state */

function readURL() {
  const q = new URLSearchParams(location.search);
  state.lang = q.get("lang") === "en" ? "en" : "nl";
  for (const key of SINGLE_FILTERS) state.filters[key] = q.get(key) || "";
  state.filters.source = q.getAll("source");
  state.period = PERIODS.includes(q.get("period")) ? q.get("period") : "month";
  state.doc = q.get("doc") || null;
}

function writeURL() {
  const q = filterParams({ forURL: true });
  if (state.period !== "month") q.set("period", state.period);
  q.set("lang", state.lang);
  if (state.doc) q.set("doc", state.doc);
  const view = new URLSearchParams(location.search).get("view");  // the coding view (coding.js) keeps its own
  if (view) q.set("view", view);
  history.replaceState(null, "", `${location.pathname}?${q}`);
}

// The filters as API query parameters. The topic model alone is only a choice in the UI (which topics to list),
// so the API gets it only together with a topic; the URL keeps it either way.
function filterParams({ forURL = false } = {}) {
  const q = new URLSearchParams();
  const f = state.filters;
  for (const key of ["model_version", "date_from", "date_to"]) if (f[key]) q.set(key, f[key]);
  for (const s of f.source) q.append("source", s);
  for (const key of ["genre", "corpus", "stance", "frame"]) if (f[key]) q.set(key, f[key]);
  if (f.min_relevance && f.min_relevance !== DEFAULT_MIN_RELEVANCE) q.set("min_relevance", f.min_relevance);
  if (f.speaker) q.set("speaker", f.speaker);
  if (f.topic_model && (forURL || f.topic)) q.set("topic_model", f.topic_model);
  if (f.topic && f.topic_model) q.set("topic", f.topic);
  return q;
}

/* ------------------------------------------------------------------ API */

class ApiError extends Error {
  constructor(status, message) { super(message); this.status = status; }
}

function apiURL(path, params) {
  const url = new URL(`${ROOT}v1/${path}`, location.origin);
  if (params) url.search = params.toString();
  return url;
}

function errorMessage(body, status) {
  const detail = body && body.detail;
  if (Array.isArray(detail)) {
    return detail.map((d) => (d && d.field ? `${d.field}: ${d.message}` : (d && d.message) || String(d))).join("; ");
  }
  if (typeof detail === "string") return detail;
  return `HTTP ${status}`;
}

async function request(url, init) {
  let response;
  try {
    response = await fetch(url, init);
  } catch (e) {
    throw new ApiError(0, t("network_error"));
  }
  const type = response.headers.get("content-type") || "";
  const body = type.includes("json") ? await response.json().catch(() => null) : await response.text();
  if (!response.ok) throw new ApiError(response.status, errorMessage(body, response.status));
  return body;
}

const getJSON = (path, params) => request(apiURL(path, params), { headers: { Accept: "application/json" } });

function csvHref(path, params) {
  const q = new URLSearchParams(params);
  q.set("format", "csv");
  return apiURL(path, q).toString();
}

// The .qdpx download of the documents the filters select (the store filter syntax takes the dashboard's spellings);
// with no filter but the model version, every interview.
function qdpxHref() {
  const q = filterParams();
  const params = new URLSearchParams();
  if (q.get("model_version")) params.set("model_version", q.get("model_version"));
  const sources = q.getAll("source");
  for (const key of ["model_version", "source"]) q.delete(key);
  const conditions = [...q].map(([key, value]) => `${key}=${value}`);
  if (sources.length) conditions.push(`source=${sources.join("|")}`);
  if (conditions.length) params.set("filter", conditions.join(","));
  return apiURL("export/qdpx", params).toString();
}

/* ------------------------------------------------------------------ panels */

// A panel: its <section>, its error line (role=alert) and the element it draws into. `load` asks the API, keeps
// the answer for redraws and marks the target's data-state (loading|ready|empty|error) for tests and styling.
function panelParts(targetId) {
  const target = document.getElementById(targetId);
  const section = target.closest("section");
  return { target, section, error: $(".error", section) };
}

async function load(name, targetId, path, params, render, { onError } = {}) {
  const { target, section, error } = panelParts(targetId);
  const token = (tokens[name] = (tokens[name] || 0) + 1);
  target.dataset.state = "loading";
  section.setAttribute("aria-busy", "true");
  try {
    const data = await getJSON(path, params);
    if (token !== tokens[name]) return;
    cache[name] = { data, render, targetId };
    error.hidden = true;
    error.textContent = "";
    target.replaceChildren();
    target.dataset.state = render(data, target) || "ready";
  } catch (e) {
    if (token !== tokens[name]) return;
    delete cache[name];
    target.replaceChildren();
    if (onError && onError(e, target)) {
      error.hidden = true;
      target.dataset.state = "empty";
    } else {
      error.textContent = t("error_prefix") + e.message;
      error.hidden = false;
      target.dataset.state = "error";
    }
  } finally {
    if (token === tokens[name]) {
      target.dataset.query = params ? params.toString() : "";
      section.setAttribute("aria-busy", "false");
    }
  }
}

function redrawAll() {
  for (const { data, render, targetId } of Object.values(cache)) {
    const target = document.getElementById(targetId);
    target.replaceChildren();
    target.dataset.state = render(data, target) || "ready";
  }
}

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v == null || v === false) continue;
    if (k === "text") node.textContent = v;
    else if (k === "className") node.className = v;
    else node.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children) if (c != null) node.append(c);
  return node;
}

function svg(tag, attrs = {}, text) {
  const node = document.createElementNS(SVG_NS, tag);
  for (const [k, v] of Object.entries(attrs)) if (v != null) node.setAttribute(k, v);
  if (text != null) node.textContent = text;
  return node;
}

function message(target, text) {
  target.append(el("p", { className: "empty", text }));
  return "empty";
}

// Chart bars are SVG groups that behave like buttons: focusable, Enter/Space or a click activates them.
function makeBar(group, label, activate) {
  group.setAttribute("class", "bar");
  group.setAttribute("tabindex", "0");
  group.setAttribute("role", "button");
  group.setAttribute("aria-label", label);
  group.append(svg("title", {}, label));
  group.addEventListener("click", activate);
  group.addEventListener("keydown", (event) => {
    if (event.key === "Enter" || event.key === " ") {
      event.preventDefault();
      activate();
    }
  });
}

function dataTable(container, columns, rows) {
  container.replaceChildren();
  const table = el("table", { className: "plain" });
  table.append(el("thead", {}, el("tr", {}, ...columns.map((c) => el("th", { scope: "col", text: c.label })))));
  const body = el("tbody");
  for (const row of rows) body.append(el("tr", {}, ...columns.map((c) => el("td", { text: c.value(row) }))));
  table.append(body);
  container.append(table);
}

// The rows as the table beside a chart: `columns`, then a column per stance with its count and, in brackets, its
// share of the row. With no rows, the chart's place says `emptyKey` and the answer is false: nothing to draw.
function stanceTable(table, columns, rows, target, emptyKey) {
  const stances = STANCES.map((s) => ({ label: stanceLabel(s), value: (r) => `${r[s]} (${pct(r[`share_${s}`])})` }));
  dataTable(table, [...columns, ...stances], rows);
  if (!rows.length) message(target, t(emptyKey));
  return rows.length > 0;
}

function drawLegends() {
  for (const legend of document.querySelectorAll("[data-legend]")) {
    legend.replaceChildren(...STANCES.map((s) => el("span", { className: "legend-item" },
      el("span", { className: `swatch swatch-${s}`, "aria-hidden": "true" }), stanceLabel(s))));
  }
}

/* --- summary line */

function loadSummary() {
  const params = filterParams();
  const target = $("#summary");
  const token = (tokens.summary = (tokens.summary || 0) + 1);
  getJSON("dashboard/summary", params).then((s) => {
    if (token !== tokens.summary) return;
    summaryData = s;
    drawSummary();
  }, (e) => {
    if (token !== tokens.summary) return;
    summaryData = null;
    target.textContent = t("error_prefix") + e.message;
  });
}

function drawSummary() {
  const s = summaryData;
  if (!s) return;
  const shares = STANCES.map((k) => `${stanceLabel(k)} ${pct(s.shares && s.shares[k])}`).join(" · ");
  $("#summary").textContent = t("summary", s, shares);
}

/* --- (1) stance over time: stacked share bars per period */

function loadTimeseries() {
  const params = filterParams();
  params.set("period", state.period);
  $("#timeseries-csv").href = csvHref("dashboard/timeseries", params);
  return load("timeseries", "stance-over-time", "dashboard/timeseries", params, drawTimeseries);
}

function drawTimeseries(data, target) {
  const rows = data.rows || [];
  $("#timeseries-undated").textContent = data.undated ? t("undated_note", data.undated) : "";
  const columns = [{ label: t("period_col"), value: (r) => r.period }, { label: t("n_col"), value: (r) => r.n }];
  if (!stanceTable($("#timeseries-table"), columns, rows, target, "no_dated")) return "empty";

  const { width, height, m, plotW, plotH, band, barW } = barLayout(target, rows.length, 280, 46);
  const chart = shareAxes(width, height, m, t("chart_time"), [0, 0.25, 0.5, 0.75, 1]);
  const every = Math.max(1, Math.ceil(rows.length * 64 / plotW));  // about one period label per 64 px
  rows.forEach((r, i) => {
    const x = m.left + band * i + (band - barW) / 2;
    const g = svg("g", { "data-period": r.period, "data-start": r.start, "data-testid": "time-bar" });
    let y = m.top + plotH;
    for (const s of STANCES) {
      const h = plotH * (r[`share_${s}`] || 0);
      y -= h;
      g.append(svg("rect", { x, y, width: barW, height: h, fill: COLOURS[s], class: `seg seg-${s}` }));
      if (s === "pressuring" && h > 0) {
        g.append(svg("rect", { x, y, width: barW, height: h, fill: "url(#dash-hatch)", class: "hatch" }));
      }
    }
    g.append(svg("rect", { x: x - 2, y: m.top - 2, width: barW + 4, height: plotH + 4, class: "focus-ring" }));
    makeBar(g, t("bar_time", r, shareParts(r)), () => drillPeriod(r));
    chart.append(g);
    if (i % every === 0) {
      chart.append(svg("text", { x: x + barW / 2, y: height - m.bottom + 18, "text-anchor": "middle",
        class: "tick" }, r.period));
    }
  });
  target.append(chart);
  return "ready";
}

// The geometry of a chart of `n` bars in `target`: margins, plot size, each bar's band and width.
function barLayout(target, n, height, bottom) {
  const width = Math.max(320, target.clientWidth || 800);
  const m = { top: 10, right: 10, bottom, left: 46 };
  const plotW = width - m.left - m.right;
  const band = plotW / n;
  return { width, height, m, plotW, plotH: height - m.top - m.bottom, band,
    barW: Math.max(2, Math.min(56, band * 0.75)) };
}

// An SVG of stacked share bars: its y axis, 0–100 % gridlines at `ticks`.
function shareAxes(width, height, m, label, ticks) {
  const chart = svg("svg", { viewBox: `0 0 ${width} ${height}`, width, height, role: "group",
    "aria-label": label, class: "stacked" });
  const plotH = height - m.top - m.bottom;
  for (const tick of ticks) {
    const y = m.top + plotH * (1 - tick);
    chart.append(svg("line", { x1: m.left, x2: width - m.right, y1: y, y2: y, class: "gridline" }));
    chart.append(svg("text", { x: m.left - 6, y: y + 4, "text-anchor": "end", class: "tick" }, pct(tick)));
  }
  return chart;
}

function periodEnd(start, period) {
  const d = new Date(`${start}T00:00:00Z`);
  let end;
  if (period === "day") end = d;
  else if (period === "week") end = new Date(d.getTime() + 6 * 86400000);
  else if (period === "month") end = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 0));
  else end = new Date(Date.UTC(d.getUTCFullYear(), 11, 31));
  return end.toISOString().slice(0, 10);
}

function drillPeriod(row) {
  state.docs.drill = { kind: "period", label: row.period, from: row.start, to: periodEnd(row.start, state.period) };
  state.docs.page = 1;
  loadDocuments();
  $("#panel-documents").scrollIntoView({ block: "start" });
}

function drillSource(row) {
  state.docs.drill = { kind: "source", label: row.label || row.group, value: row.group };
  state.docs.page = 1;
  loadDocuments();
  $("#panel-documents").scrollIntoView({ block: "start" });
}

/* --- (2) sources ranked by pressuring share: horizontal stacked bars */

function loadSources() {
  const params = filterParams();
  params.set("by", "source");
  params.set("sort", "share_pressuring");
  params.set("order", "desc");
  $("#sources-csv").href = csvHref("dashboard/groups", params);
  return load("sources", "source-ranking", "dashboard/groups", params, drawSources);
}

function drawSources(data, target) {
  const rows = data.rows || [];
  const columns = [
    { label: t("group_col"), value: (r) => r.label || r.group },
    { label: t("n_col"), value: (r) => r.n },
    { label: t("documents_col"), value: (r) => r.documents },
  ];
  if (!stanceTable($("#sources-table"), columns, rows, target, "no_groups")) return "empty";

  const width = Math.max(300, target.clientWidth || 500);
  const rowH = 30;
  const labelW = Math.min(200, width * 0.38);
  const valueW = 48;
  const barW = width - labelW - valueW - 8;
  const height = rows.length * rowH + 4;
  const chart = svg("svg", { viewBox: `0 0 ${width} ${height}`, width, height, role: "group",
    "aria-label": t("chart_sources"), class: "hbars" });
  rows.forEach((r, i) => {
    const y = 2 + i * rowH;
    const name = r.label || r.group;
    const g = svg("g", { "data-group": r.group, "data-testid": "source-bar" });
    g.append(svg("text", { x: labelW - 8, y: y + rowH / 2 + 4, "text-anchor": "end", class: "bar-label" },
      name.length > 28 ? `${name.slice(0, 27)}…` : name));
    let x = labelW;
    for (const s of STANCES) {
      const w = barW * (r[`share_${s}`] || 0);
      g.append(svg("rect", { x, y: y + 4, width: w, height: rowH - 8, fill: COLOURS[s], class: `seg seg-${s}` }));
      if (s === "pressuring" && w > 0) {
        g.append(svg("rect", { x, y: y + 4, width: w, height: rowH - 8, fill: "url(#dash-hatch)", class: "hatch" }));
      }
      x += w;
    }
    g.append(svg("text", { x: labelW + barW + 6, y: y + rowH / 2 + 4, class: "bar-value" },
      pct(r.share_pressuring)));
    g.append(svg("rect", { x: 1, y: y + 1, width: width - 2, height: rowH - 2, class: "focus-ring" }));
    makeBar(g, t("bar_source", { ...r, label: name }, shareParts(r)), () => drillSource(r));
    chart.append(g);
  });
  target.append(chart);
  return "ready";
}

/* --- (3) frame x source heat map: a table, shaded cells with the number in each */

function loadHeatmap() {
  const params = filterParams();
  params.set("rows", "frame");
  params.set("cols", "source");
  $("#heatmap-csv").href = csvHref("dashboard/matrix", params);
  return load("heatmap", "frame-heatmap", "dashboard/matrix", params, drawHeatmap);
}

// One hue (purple, unrelated to the stance colours), light to dark: readable in greyscale and by every common
// colour-vision deficiency; the number is printed in each cell anyway.
function heatColour(v) {
  const lo = [242, 240, 247];
  const hi = [63, 0, 125];
  const mix = lo.map((c, i) => Math.round(c + (hi[i] - c) * v));
  return `rgb(${mix.join(",")})`;
}

function drawHeatmap(data, target) {
  const rows = data.rows || [];
  const cols = data.cols || [];
  if (!rows.length || !cols.length) return message(target, t("no_matrix"));
  const cells = new Map((data.cells || []).map((c) => [`${c.row}\u0000${c.col}`, c]));
  const max = Math.max(0.0001, ...(data.cells || []).map((c) => c.share_of_col || 0));
  const table = el("table", { className: "heat", "data-testid": "heatmap-table" });
  table.append(el("caption", { className: "visually-hidden", text: t("heatmap_caption") }));
  table.append(el("thead", {}, el("tr", {}, el("th", { scope: "col", text: t("frame") }),
    ...cols.map((c) => el("th", { scope: "col" }, c.label || c.id,
      c.n != null ? el("span", { className: "col-n", text: ` (${c.n})` }) : null)))));
  const body = el("tbody");
  for (const r of rows) {
    const frame = options && options.frames && options.frames.find((f) => f.id === r.id);
    const side = frame && frame.side ? el("span", { className: `side side-${frame.side}`,
      text: ` (${t(`side_${frame.side}`)})` }) : null;
    const tr = el("tr", {}, el("th", { scope: "row" }, frame ? frameLabel(r.id) : (r.label || r.id), side));
    for (const c of cols) {
      const cell = cells.get(`${r.id}\u0000${c.id}`);
      const share = cell ? cell.share_of_col || 0 : 0;
      const n = cell ? cell.n : 0;
      const v = share / max;
      tr.append(el("td", { style: `background:${heatColour(v)};color:${v > 0.55 ? "#fff" : "#111"}`,
        "data-n": n, title: `${frameLabel(r.id)} · ${c.label || c.id}: ${n}` },
        pct(share), el("span", { className: "cell-n", text: ` (${n})` })));
    }
    body.append(tr);
  }
  table.append(body);
  target.append(el("div", { className: "table-scroll" }, table));
  return "ready";
}

/* --- (4) topics with their terms */

function currentTopicModel() {
  const models = (options && options.topic_models) || [];
  return state.filters.topic_model || models[0] || "";
}

function loadTopics() {
  const name = currentTopicModel();
  const link = $("#topics-csv");
  if (!name) {
    const { target, error } = panelParts("topic-list");
    tokens.topics = (tokens.topics || 0) + 1;
    delete cache.topics;
    error.hidden = true;
    target.replaceChildren();
    // Not an error: a store without topics is normal until someone fits a model.
    cache.topics = { data: null, render: (_, tgt) => message(tgt, t("no_topic_model")), targetId: "topic-list" };
    target.dataset.state = message(target, t("no_topic_model"));
    link.hidden = true;
    return Promise.resolve();
  }
  const params = filterParams();
  params.set("topic_model", name);
  link.href = csvHref("dashboard/topics", params);
  link.hidden = false;
  return load("topics", "topic-list", "dashboard/topics", params, drawTopics, {
    onError: (e, target) => {
      if (e.status !== 404) return false;
      link.hidden = true;
      message(target, t("topic_missing", name));
      return true;
    },
  });
}

function drawTopics(data, target) {
  const rows = data.rows || [];
  $("#topic-curation").hidden = !rows.length;
  if (!rows.length) return message(target, t("no_topics"));
  const list = el("ol", { className: "topics" });
  for (const r of rows) {
    const label = r.label || String(r.topic);
    // A checkbox per topic for curation (the outliers are no topic to merge or rename).
    const pick = r.topic === -1 ? null : el("input", { type: "checkbox", className: "topic-pick",
      value: String(r.topic), title: t("pick_topic", label), "data-testid": "topic-pick" });
    list.append(el("li", { "data-topic": r.topic },
      el("h3", {}, pick ? el("label", {}, pick, " ", label) : label),
      el("p", { className: "meta", text: t("topic_meta", r, pct(r.share), pct(r.share_pressuring)) }),
      el("ul", { className: "terms" }, ...(r.terms || []).map((term) => el("li", { text: term })))));
  }
  target.append(list);
  return "ready";
}

/* --- (4b) topic curation: merge or rename the ticked topics, as a new version of the topic model */

async function curate(operation) {
  const status = $("#curate-status");
  const error = $("#curate-error");
  const picked = [...document.querySelectorAll("#topic-list .topic-pick:checked")].map((c) => Number(c.value));
  const label = $("#curate-label").value.trim();
  const name = currentTopicModel();
  error.hidden = true;
  let body;
  if (operation === "merge") {
    if (picked.length < 2) return showCurateError(t("curate_pick_two"));
    body = { name, topics: picked, label: label || null };
  } else {
    if (picked.length !== 1 || !label) return showCurateError(t("curate_pick_one"));
    body = { name, topic: picked[0], label };
  }
  status.textContent = t("curate_busy");
  try {
    const made = await request(apiURL(`topics/${operation}`), {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "application/json",
        "X-API-Key": $("#curate-key").value },
      body: JSON.stringify(body),
    });
    status.textContent = t("curate_done", made.name, made.parent);
    $("#curate-label").value = "";
    options = await getJSON("dashboard/options");
    state.filters.topic_model = made.name;
    state.filters.topic = "";
    fillFilterOptions();
    writeURL();
    loadTopics();
    loadTopicShares();
  } catch (e) {
    status.textContent = "";
    showCurateError(t("error_prefix") + e.message);
  }
}

function showCurateError(text) {
  const error = $("#curate-error");
  error.textContent = text;
  error.hidden = false;
}

/* --- (4c) topic shares per period and group: stacked share bars, one chart per group */

const TOPIC_COLOURS = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000",
  "#999999", "#7F3C8D"];

// The dashboard filters in the string syntax of `filter=` (discourse.store.filters takes the dashboard's
// spellings: source=a|b, speaker=key:value, date_from=...). The topic model is the chart's own choice.
function filterSpec() {
  const byKey = new Map();
  for (const [key, value] of filterParams()) {
    if (key === "topic_model" || key === "topic") continue;
    byKey.set(key, [...(byKey.get(key) || []), value]);
  }
  return [...byKey].map(([key, values]) => `${key}=${values.join("|")}`).join(",");
}

function loadTopicShares() {
  const name = currentTopicModel();
  const link = $("#topic-shares-csv");
  if (!name) {
    const { target } = panelParts("topic-shares");
    target.replaceChildren();
    target.dataset.state = message(target, t("no_topic_model"));
    link.hidden = true;
    return Promise.resolve();
  }
  const params = new URLSearchParams({ name, interval: state.period === "year" ? "year" : "month" });
  const group = $("#topic-shares-group").value;
  if (group) params.set("group", group);
  const spec = filterSpec();
  if (spec) params.set("filter", spec);
  link.href = csvHref("topics/shares", params);
  link.hidden = false;
  return load("topicShares", "topic-shares", "topics/shares", params, drawTopicShares);
}

function drawTopicShares(data, target) {
  const rows = data.rows || [];
  const columns = [["period_col", (r) => r.period], ["group_by", (r) => r.group], ["topic", (r) => r.label],
    ["count_col", (r) => `${r.count} / ${r.n}`], ["share_col", (r) => pct(r.share)]];
  dataTable($("#topic-shares-table"), columns.map(([key, value]) => ({ label: t(key), value })),
    rows.filter((r) => r.count));
  $("#topic-shares-undated").textContent = data.undated ? t("topic_shares_undated", data.undated) : "";
  if (!rows.length) return message(target, t("no_topic_shares"));
  const colour = new Map(data.topics.map((topic, i) => [topic.id, TOPIC_COLOURS[i % TOPIC_COLOURS.length]]));
  target.append(el("ul", { className: "legend" }, ...data.topics.map((topic) => el("li", {},
    el("span", { className: "swatch", style: `background:${colour.get(topic.id)}` }), ` ${topic.label}`))));
  const groups = [...new Set(rows.map((r) => r.group))];
  for (const group of groups) {
    const periods = new Map();
    for (const r of rows.filter((r) => r.group === group)) {
      periods.set(r.period, [...(periods.get(r.period) || []), r]);
    }
    if (groups.length > 1) target.append(el("h3", { text: group }));
    target.append(topicShareChart(group, [...periods], colour));
  }
  return "ready";
}

function topicShareChart(group, periods, colour) {
  const { width, height, m, plotW, plotH, band, barW } = barLayout($("#topic-shares"), periods.length, 220, 40);
  const chart = shareAxes(width, height, m, `${t("topic_shares")}: ${group}`, [0, 0.5, 1]);
  const every = Math.max(1, Math.ceil(periods.length * 64 / plotW));
  periods.forEach(([period, parts], i) => {
    const x = m.left + band * i + (band - barW) / 2;
    const g = svg("g", { "data-period": period, "data-group": group, "data-testid": "topic-share-bar" });
    let y = m.top + plotH;
    for (const r of parts) {
      const h = plotH * r.share;
      y -= h;
      if (h > 0) g.append(svg("rect", { x, y, width: barW, height: h, fill: colour.get(r.topic), class: "seg" }));
    }
    const text = parts.filter((r) => r.count).map((r) => `${r.label} ${pct(r.share)}`).join(" · ");
    g.append(svg("title", {}, t("bar_topic_share", period, group, text)));
    g.setAttribute("tabindex", "0");
    g.setAttribute("aria-label", t("bar_topic_share", period, group, text));
    chart.append(g);
    if (i % every === 0) {
      chart.append(svg("text", { x: x + barW / 2, y: height - m.bottom + 18, "text-anchor": "middle",
        class: "tick" }, period));
    }
  });
  return chart;
}

/* --- (5) comparison A vs B: POST /v1/compare, the HTML report in a sandboxed iframe */

function applyPreset(key) {
  const preset = PRESETS[key];
  if (!preset) return;
  $("#compare-a").value = preset.a;
  $("#compare-b").value = preset.b;
  $("#compare-label-a").value = t(preset.label_a);
  $("#compare-label-b").value = t(preset.label_b);
}

async function runCompare(event) {
  event.preventDefault();
  const error = $("#compare-error");
  const status = $("#compare-status");
  const frame = $("#compare-report");
  const a = $("#compare-a").value.trim();
  const b = $("#compare-b").value.trim();
  error.hidden = true;
  if (!a || !b) {
    error.textContent = t("compare_empty");
    error.hidden = false;
    return;
  }
  const body = { a, b, label_a: $("#compare-label-a").value.trim() || "A",
    label_b: $("#compare-label-b").value.trim() || "B", format: "html" };
  const button = $("#compare-run");
  button.disabled = true;
  frame.dataset.state = "loading";
  status.textContent = t("compare_running");
  try {
    const html = await request(apiURL("compare"), { method: "POST", body: JSON.stringify(body),
      headers: { "Content-Type": "application/json", Accept: "text/html" } });
    // sandbox="" (no allow-scripts): the report has no script and gets no rights on this page.
    frame.srcdoc = html;
    frame.title = t("compare_title");
    frame.hidden = false;
    frame.dataset.state = "ready";
    status.textContent = t("compare_done");
  } catch (e) {
    error.textContent = t("error_prefix") + e.message;
    error.hidden = false;
    frame.dataset.state = "error";
    status.textContent = "";
  } finally {
    button.disabled = false;
  }
}

/* --- (6) document list (paginated, sortable) and drill-down */

const DOC_COLUMNS = [
  { key: "title", label: "col_title", sort: "title" },
  { key: "source", label: "col_source", sort: "source" },
  { key: "genre", label: "col_genre" },
  { key: "published", label: "col_published", sort: "published", firstDesc: true },
  { key: "n", label: "col_n", sort: "n", firstDesc: true },
  { key: "share_pressuring", label: "col_share_pressuring", sort: "share_pressuring", firstDesc: true },
  { key: "label", label: "col_label" },
];

function documentParams() {
  const params = filterParams();
  const drill = state.docs.drill;
  if (drill && drill.kind === "period") {
    // Intersect the bar's period with the filter's own dates.
    const from = params.get("date_from");
    const to = params.get("date_to");
    params.set("date_from", from && from > drill.from ? from : drill.from);
    params.set("date_to", to && to < drill.to ? to : drill.to);
  } else if (drill && drill.kind === "source") {
    params.delete("source");
    params.append("source", drill.value);
  }
  params.set("sort", state.docs.sort);
  params.set("page", String(state.docs.page));
  params.set("page_size", String(PAGE_SIZE));
  return params;
}

function loadDocuments() {
  const params = documentParams();
  const drill = state.docs.drill;
  $("#document-drill").hidden = !drill;
  $("#document-drill-text").textContent = !drill ? ""
    : drill.kind === "period" ? t("drill_period", drill.label) : t("drill_source", drill.label);
  const csv = new URLSearchParams(params);
  csv.delete("page");
  csv.set("page_size", "200");
  $("#documents-csv").href = csvHref("dashboard/documents", csv);
  return load("documents", "document-list", "dashboard/documents", params, drawDocuments);
}

function drawDocuments(data, target) {
  const rows = data.rows || [];
  const pages = Math.max(1, Math.ceil((data.total || 0) / (data.page_size || PAGE_SIZE)));
  $("#documents-page").textContent = t("page_of", data.page || 1, pages, data.total || 0);
  $("#documents-prev").disabled = (data.page || 1) <= 1;
  $("#documents-next").disabled = (data.page || 1) >= pages;
  if (!rows.length) return message(target, t("no_documents"));

  const sortKey = state.docs.sort.replace(/^-/, "");
  const descending = state.docs.sort.startsWith("-");
  const head = el("tr");
  for (const col of DOC_COLUMNS) {
    const label = t(col.label);
    if (!col.sort) {
      head.append(el("th", { scope: "col", text: label }));
      continue;
    }
    const active = sortKey === col.sort;
    const button = el("button", { type: "button", className: "sort", "data-sort": col.sort,
      title: t("sort_hint", label) }, label, el("span", { "aria-hidden": "true",
      text: active ? (descending ? " ▼" : " ▲") : "" }));
    button.addEventListener("click", () => {
      const desc = active ? !descending : Boolean(col.firstDesc);
      state.docs.sort = (desc ? "-" : "") + col.sort;
      state.docs.page = 1;
      loadDocuments();
    });
    head.append(el("th", { scope: "col", "aria-sort": active ? (descending ? "descending" : "ascending") : null },
      button));
  }
  const body = el("tbody");
  for (const r of rows) {
    const open = el("button", { type: "button", className: "link", "data-doc-id": r.id,
      text: r.title || r.id });
    open.addEventListener("click", () => {
      lastOpener = open;
      openDocument(r.id, { focus: true });
    });
    body.append(el("tr", { "data-doc-id": r.id },
      el("td", {}, open),
      el("td", { text: r.source || "" }),
      el("td", { text: genreLabel(r.genre || "") }),
      el("td", { className: "date", text: r.published || t("undated") }),
      el("td", { className: "num", text: r.n }),
      el("td", { className: "num", text: pct(r.share_pressuring) }),
      el("td", {}, stanceBadge(r.label))));
  }
  const table = el("table", { className: "documents" }, el("thead", {}, head), body);
  target.append(el("div", { className: "table-scroll" }, table));
  return "ready";
}

function stanceBadge(label) {
  if (!label) return el("span", { className: "badge", text: t("no_label") });
  return el("span", { className: `badge badge-${label}` },
    el("span", { className: `swatch swatch-${label}`, "aria-hidden": "true" }), stanceLabel(label));
}

function scoreText(scores) {
  if (!scores) return "";
  return STANCES.map((s) => `${stanceLabel(s)} ${num(scores[s])}`).join(" · ");
}

function openDocument(id, { focus = false } = {}) {
  state.doc = id;
  writeURL();
  const section = $("#panel-document");
  section.hidden = false;
  const params = new URLSearchParams();
  if (state.filters.model_version) params.set("model_version", state.filters.model_version);
  $("#document-heading").textContent = id;
  return load("document", "document-detail", `dashboard/documents/${encodeURIComponent(id)}`, params,
    drawDocument).then(() => {
    if (focus && state.doc === id) {
      section.scrollIntoView({ block: "start" });
      $("#document-heading").focus({ preventScroll: true });
    }
  });
}

function drawDocument(doc, target) {
  $("#document-heading").textContent = doc.title || doc.id;
  const meta = el("dl", { className: "doc-meta" },
    el("dt", { text: t("col_source") }), el("dd", { text: doc.source || "–" }),
    el("dt", { text: t("col_genre") }), el("dd", { text: genreLabel(doc.genre || "") }),
    el("dt", { text: t("col_published") }), el("dd", { text: doc.published || t("undated") }));
  const score = doc.score || {};
  meta.append(el("dt", { text: t("doc_stance") }), el("dd", {}, stanceBadge(score.label),
    score.scores ? ` ${scoreText(score.scores)}` : ""));
  if (score.relevance != null) meta.append(el("dt", { text: t("relevance") }), el("dd", { text: num(score.relevance) }));
  const docFrames = (score.frames || []).map((f) => (typeof f === "string" ? f : f.frame)).filter(Boolean);
  if (docFrames.length) {
    meta.append(el("dt", { text: t("frames") }), el("dd", { text: docFrames.map(frameLabel).join(", ") }));
  }
  if (doc.url && /^https?:\/\//.test(doc.url)) {
    meta.append(el("dt", { text: t("original") }), el("dd", {},
      el("a", { href: doc.url, rel: "noopener noreferrer", target: "_blank", text: doc.url })));
  }
  target.append(meta);

  target.append(el("h3", { text: t("sentences") }), el("p", { className: "note", text: t("evidence_legend") }));
  const list = el("ol", { className: "segments" });
  for (const s of doc.segments || []) {
    const item = el("li", { "data-position": s.position, "data-label": s.label || "",
      "data-evidence": s.evidence || null, className: s.evidence ? `segment evidence evidence-${s.evidence}` : "segment" });
    if (s.evidence) {
      item.append(el("span", { className: `evidence-label evidence-label-${s.evidence}`,
        text: t(`evidence_${s.evidence}`) }), " ", el("mark", { className: `evidence-${s.evidence}`, text: s.text }));
    } else {
      item.append(el("span", { className: "segment-text", text: s.text }));
    }
    const details = [scoreText(s.scores)];
    if (s.relevance != null) details.push(`${t("relevance")} ${num(s.relevance)}`);
    if (s.frames && s.frames.length) details.push(`${t("frames")}: ${s.frames.map(frameLabel).join(", ")}`);
    if (s.speaker) details.push(`${t("speaker")}: ${s.speaker}${s.speaker_role ? ` (${s.speaker_role})` : ""}`);
    if (s.passed_prefilter === false) details.push(t("not_prefiltered"));
    item.append(el("div", { className: "segment-meta" }, stanceBadge(s.label), ` ${details.filter(Boolean).join(" · ")}`));
    list.append(item);
  }
  target.append(list);
  return "ready";
}

function closeDocument() {
  state.doc = null;
  tokens.document = (tokens.document || 0) + 1;  // an answer still on its way is dropped
  delete cache.document;
  $("#panel-document").hidden = true;
  $("#document-detail").replaceChildren();
  $("#document-detail").dataset.state = "empty";
  writeURL();
  if (lastOpener && document.contains(lastOpener)) lastOpener.focus();
  else $("#document-list").closest("section").scrollIntoView({ block: "start" });
}

/* ------------------------------------------------------------------ filter bar */

function fillSelect(select, items, { allLabel = t("all"), keep = [] } = {}) {
  const wanted = new Set(keep.filter(Boolean));
  select.replaceChildren();
  if (allLabel !== null) select.append(el("option", { value: "", text: allLabel }));
  const values = new Set();
  for (const item of items) {
    if (item.group) {
      const group = el("optgroup", { label: item.group });
      for (const child of item.items) {
        group.append(el("option", { value: child.value, text: child.label }));
        values.add(child.value);
      }
      select.append(group);
    } else {
      select.append(el("option", { value: item.value, text: item.label }));
      values.add(item.value);
    }
  }
  // A value from a shared link that this store does not offer stays visible (and selected) rather than vanishing.
  for (const v of wanted) if (!values.has(v)) select.append(el("option", { value: v, text: v }));
  for (const option of select.options) option.selected = wanted.has(option.value);
  if (select.multiple === false && !wanted.size) select.value = "";
}

function fillFilterOptions() {
  const o = options || {};
  const f = state.filters;
  fillSelect($("#filter-model-version"), (o.model_versions || []).map((v) => ({ value: v.version,
    label: `${v.version} (${v.model}, ${v.segments})` })),
  { allLabel: `${t("latest")}${o.latest ? ` (${o.latest})` : ""}`, keep: [f.model_version] });
  fillSelect($("#filter-source"), (o.sources || []).map((s) => ({ value: s.name, label: `${s.name} (${s.documents})` })),
    { allLabel: null, keep: f.source });
  fillSelect($("#filter-genre"), (o.genres || []).map((g) => ({ value: g, label: genreLabel(g) })), { keep: [f.genre] });
  fillSelect($("#filter-corpus"), (o.corpora || []).map((g) => ({ value: g, label: genreLabel(g) })),
    { keep: [f.corpus] });
  fillSelect($("#filter-stance"), STANCES.map((s) => ({ value: s, label: stanceLabel(s) })), { keep: [f.stance] });
  const frames = o.frames || [];
  const sides = [...new Set(frames.map((fr) => fr.side || ""))];
  fillSelect($("#filter-frame"), sides.map((side) => ({
    group: side ? stanceLabel(side) : t("frame"),
    items: frames.filter((fr) => (fr.side || "") === side).map((fr) => ({ value: fr.id, label: fr[state.lang] || fr.id })),
  })), { keep: [f.frame] });
  const [key, value] = splitSpeaker(f.speaker);
  const attributes = o.speaker_attributes || {};
  fillSelect($("#filter-speaker-key"), Object.keys(attributes).map((k) => ({ value: k, label: attrLabel(k) })),
    { allLabel: t("none_chosen"), keep: [key] });
  fillSpeakerValues(key, value);
  const models = o.topic_models || [];
  fillSelect($("#filter-topic-model"), models.map((m) => ({ value: m, label: m })),
    { allLabel: models.length ? `${t("all")}` : t("none_chosen"), keep: [f.topic_model] });
  $("#filter-topic-model").disabled = !models.length && !f.topic_model;
  fillTopicSelect();
  $("#filter-date-from").value = f.date_from;
  $("#filter-date-to").value = f.date_to;
  for (const input of [$("#filter-date-from"), $("#filter-date-to")]) {
    if (o.date_range) {
      input.min = o.date_range.min || "";
      input.max = o.date_range.max || "";
    }
  }
  $("#filter-min-relevance").value = f.min_relevance || DEFAULT_MIN_RELEVANCE;
  $("#period").value = state.period;
}

function splitSpeaker(spec) {
  const i = (spec || "").indexOf(":");
  return i < 0 ? [spec || "", ""] : [spec.slice(0, i), spec.slice(i + 1)];
}

function fillSpeakerValues(key, value) {
  const values = (options && options.speaker_attributes && options.speaker_attributes[key]) || [];
  const select = $("#filter-speaker-value");
  fillSelect(select, values.map((v) => ({ value: String(v), label: String(v) })), { keep: [value] });
  select.disabled = !key;
}

// The topic select lists the topics of the chosen model (or of the only one), fetched once per model.
function fillTopicSelect() {
  const select = $("#filter-topic");
  const name = state.filters.topic_model;
  const topics = topicLists[name];
  fillSelect(select, (topics || []).map((r) => ({ value: String(r.topic), label: r.label || String(r.topic) })),
    { keep: [state.filters.topic] });
  select.disabled = !name;
  if (name && !topics) {
    const params = new URLSearchParams({ topic_model: name });
    if (state.filters.model_version) params.set("model_version", state.filters.model_version);
    getJSON("dashboard/topics", params).then((data) => {
      topicLists[name] = data.rows || [];
      if (state.filters.topic_model === name) fillTopicSelect();
    }, () => {
      topicLists[name] = [];  // the topics panel shows the reason
    });
  }
}

function readControls(changed) {
  const f = state.filters;
  f.model_version = $("#filter-model-version").value;
  f.date_from = $("#filter-date-from").value;
  f.date_to = $("#filter-date-to").value;
  f.source = [...$("#filter-source").selectedOptions].map((o) => o.value);
  f.genre = $("#filter-genre").value;
  f.corpus = $("#filter-corpus").value;
  f.stance = $("#filter-stance").value;
  f.frame = $("#filter-frame").value;
  const relevance = $("#filter-min-relevance").value.trim();
  f.min_relevance = relevance === DEFAULT_MIN_RELEVANCE || relevance === "" ? "" : relevance;
  const key = $("#filter-speaker-key").value;
  if (changed && changed.id === "filter-speaker-key") fillSpeakerValues(key, "");
  const value = $("#filter-speaker-value").value;
  f.speaker = key && value ? `${key}:${value}` : "";
  f.topic_model = $("#filter-topic-model").value;
  if (changed && changed.id === "filter-topic-model") {
    state.filters.topic = "";
    fillTopicSelect();
  }
  f.topic = $("#filter-topic").value;
}

// Every filter change: URL first (so a reload restores it), then every panel. A drill-down from a chart belongs
// to the old filter, so it is dropped.
function refresh() {
  state.docs.page = 1;
  state.docs.drill = null;
  writeURL();
  $("#qdpx-export").href = qdpxHref();
  loadSummary();
  loadTimeseries();
  loadSources();
  loadHeatmap();
  loadTopics();
  loadTopicShares();
  loadDocuments();
}

/* ------------------------------------------------------------------ language */

function applyLanguage() {
  document.documentElement.lang = state.lang;
  for (const node of document.querySelectorAll("[data-i18n]")) node.textContent = t(node.dataset.i18n);
  const toggle = $("#lang-toggle");
  toggle.textContent = t("lang_toggle");
  toggle.setAttribute("lang", state.lang === "nl" ? "en" : "nl");
  toggle.setAttribute("aria-label", t("lang_toggle_label"));
  const frame = $("#compare-report");
  if (!frame.hidden) frame.title = t("compare_title");
  drawLegends();
}

function switchLanguage() {
  state.lang = state.lang === "nl" ? "en" : "nl";
  applyLanguage();
  fillFilterOptions();
  // The preset names follow the language if the user has not typed their own.
  const preset = PRESETS[$("#compare-preset").value];
  if (preset) applyPreset($("#compare-preset").value);
  drawSummary();
  redrawAll();
  if (cache.documents) loadDocuments();  // the drill text and pager line are outside the redrawn list
  writeURL();
}

/* ------------------------------------------------------------------ start */

function hatchDefs() {
  // One pattern for the whole page (ids are document-wide), so pressuring is also told apart by texture.
  const defs = svg("svg", { width: 0, height: 0, "aria-hidden": "true", focusable: "false", class: "defs" });
  const pattern = svg("pattern", { id: "dash-hatch", width: 6, height: 6, patternUnits: "userSpaceOnUse",
    patternTransform: "rotate(45)" });
  pattern.append(svg("line", { x1: 0, y1: 0, x2: 0, y2: 6, stroke: "rgba(255,255,255,0.55)", "stroke-width": 2 }));
  const d = svg("defs");
  d.append(pattern);
  defs.append(d);
  document.body.prepend(defs);
}

function debounce(fn, ms) {
  let timer;
  return (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => fn(...args), ms);
  };
}

async function start() {
  readURL();
  hatchDefs();
  applyLanguage();
  fillFilterOptions();

  $("#filters").addEventListener("change", (event) => {
    readControls(event.target);
    refresh();
  });
  $("#filters").addEventListener("submit", (event) => {  // Enter in a field: no page reload
    event.preventDefault();
    readControls(null);
    refresh();
  });
  $("#filter-reset").addEventListener("click", () => {
    state.filters = emptyFilters();
    fillFilterOptions();
    refresh();
  });
  $("#period").addEventListener("change", (event) => {
    state.period = event.target.value;
    writeURL();
    loadTimeseries();
    loadTopicShares();
  });
  $("#topic-shares-group").addEventListener("change", loadTopicShares);
  $("#curate-merge").addEventListener("click", () => curate("merge"));
  $("#curate-rename").addEventListener("click", () => curate("rename"));
  $("#topic-curation").addEventListener("submit", (event) => {  // Enter in the label field renames
    event.preventDefault();
    curate("rename");
  });
  $("#lang-toggle").addEventListener("click", switchLanguage);
  $("#compare-preset").addEventListener("change", (event) => applyPreset(event.target.value));
  $("#compare-form").addEventListener("submit", runCompare);
  $("#documents-prev").addEventListener("click", () => {
    state.docs.page = Math.max(1, state.docs.page - 1);
    loadDocuments();
  });
  $("#documents-next").addEventListener("click", () => {
    state.docs.page += 1;
    loadDocuments();
  });
  $("#document-drill-clear").addEventListener("click", () => {
    state.docs.drill = null;
    state.docs.page = 1;
    loadDocuments();
  });
  $("#document-close").addEventListener("click", closeDocument);
  window.addEventListener("resize", debounce(redrawAll, 150));

  try {
    options = await getJSON("dashboard/options");
    $("#options-error").hidden = true;
  } catch (e) {
    $("#options-error").textContent = t("error_prefix") + e.message;
    $("#options-error").hidden = false;
  }
  fillFilterOptions();
  drawLegends();
  refresh();
  if (state.doc) openDocument(state.doc);
  document.body.dataset.ready = "true";
}

start();
