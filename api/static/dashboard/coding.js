/* The coding view: a coder codes the sentences of a queue one at a time, keyboard first, against /v1/annotations;
 * then the queue's agreement, its disagreements to adjudicate, its export, and a model trained from its codes.
 *
 * Loaded after dashboard.js and built on its helpers (t, el, $, request, apiURL, state.lang). The coder's API key
 * lives in sessionStorage only (gone with the tab) and goes out as X-API-Key; the server maps it to the coder.
 *
 * Never losing a code: a save that fails leaves the form as it was and says so; one save (and the load of the
 * next sentence) at a time, so a second Enter while the first is on its way does nothing; a new sentence starts
 * with an empty form and saving needs a relevance decision, so an Enter too many cannot save an empty code. Saving
 * is idempotent on the server, so retrying after an error never makes a second row. Undo brings a sentence back
 * with the codes the server removed, to edit and save again.
 */
"use strict";

const CODING_STORE = { key: "discourse.coding.key", queue: "discourse.coding.queue" };
const STANCE_KEYS = { 1: "supportive", 2: "pressuring", 3: "neutral" };
const TRAIN_POLL_MS = 2000;
// The new-queue form, field by field: id, label, control and its attributes, a wide field, the choices of a select.
const QUEUE_FIELDS = [
  ["new-name", "coding_new_name", "input", { type: "text", required: true, maxlength: 100 }],
  ["new-filter", "coding_new_filter", "input", { type: "text", "aria-describedby": "compare-help-coding" }, true],
  ["new-strategy", "coding_new_strategy", "select", {}, false,
    [["random", "strategy_random"], ["uncertain", "strategy_uncertain"], ["disagreement", "strategy_disagreement"]]],
  ["new-other-version", "coding_new_other_version", "input", { type: "text", maxlength: 64 }],
  ["new-size", "coding_new_size", "input", { type: "number", min: 1, value: 50, required: true }],
  ["new-overlap", "coding_new_overlap", "input", { type: "number", min: 0, max: 1, step: 0.05, value: 0.2,
    required: true }],
  ["new-coders", "coding_new_coders", "input", { type: "text", required: true }, true],
  ["new-stratify", "coding_new_stratify", "select", {}, false,
    [["", "none_chosen"], ["source", "source"], ["genre", "genre"]]],
  ["new-seed", "coding_new_seed", "input", { type: "number", min: 0, value: 0 }],
];

const coding = {
  key: sessionStorage.getItem(CODING_STORE.key) || "",
  coder: "",          // the key's coder, as GET /v1/annotations/me names them
  queue: sessionStorage.getItem(CODING_STORE.queue) || "",
  codebook: null,     // {stances: [{label, nl, en}], frames: [{label, side, nl, en}]} from GET /v1/models
  item: null,         // the sentence on screen (GET next / POST undo)
  done: null,         // {total} once the coder has coded the whole queue
  busy: false,        // a save, undo or next is on its way
  agreement: null,    // last answers, redrawn on a language switch
  disagreements: null,
  reviewQueue: "",
  job: null,
};

/* ------------------------------------------------------------------ API */

function codingRequest(method, path, { params, body } = {}) {
  const headers = { Accept: "application/json" };
  if (coding.key) headers["X-API-Key"] = coding.key;
  const init = { method, headers };
  if (body !== undefined) {
    headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  return request(apiURL(path, params), init);
}

const queueParams = (queue) => new URLSearchParams({ queue });

// The server's refusal in the coder's words: no key, a key of no coder, or what the server said.
function codingProblem(error) {
  if (error.status === 401) return t("coding_401");
  if (error.status === 403) return t("coding_403");
  return error.message;
}

/* ------------------------------------------------------------------ labels */

function codeLabel(kind, id) {
  const list = (coding.codebook && coding.codebook[kind]) || [];
  const found = list.find((entry) => entry.label === id);
  if (!found) return kind === "stances" ? t(`stance_${id}`) : id;
  // The codebook's definitions read "Name — explanation"; the name is the label.
  return String(found[state.lang] || found.nl || id).split(" — ")[0];
}

function codesText(codes) {
  if (!codes) return "–";
  if (codes.relevant === false) return t("coding_not_relevant");
  if (codes.relevant == null) return "–";
  const parts = [t("coding_relevant")];
  if (codes.stance) parts.push(codeLabel("stances", codes.stance));
  if (codes.frames && codes.frames.length) parts.push(codes.frames.map((f) => codeLabel("frames", f)).join(", "));
  return parts.join(" · ");
}

/* ------------------------------------------------------------------ messages */

function codingError(text) {
  const box = $("#coding-error");
  box.textContent = text || "";
  box.hidden = !text;
}

function codingStatus(text) {
  $("#coding-status").textContent = text || "";
}

function showWho() {
  const who = $("#coding-who");
  if (!coding.key) who.textContent = t("coding_no_key");
  else who.textContent = coding.coder ? t("coding_as", coding.coder) : t("coding_key_set");
}

function setCoder(name) {
  if (!name || name === coding.coder) return;
  coding.coder = name;
  showWho();
  if (!$("#new-coders").value) $("#new-coders").value = name;
}

/* ------------------------------------------------------------------ the code form */

function codeInput(type, name, value, label, hint) {
  const id = `${name}-${value}`;
  const input = el("input", { type, name, value, id });
  const text = el("label", { for: id }, hint ? el("kbd", { text: hint }) : null, hint ? " " : null, label);
  return el("span", { className: "code" }, input, text);
}

function buildForm() {
  const kept = coding.item ? readCodes() : null;
  const relevance = $("#coding-relevance");
  relevance.replaceChildren(relevance.querySelector("legend"),
    codeInput("radio", "coding-relevant", "true", t("coding_relevant"), null),
    codeInput("radio", "coding-relevant", "false", t("coding_not_relevant"), "0"));
  const stance = $("#coding-stance");
  stance.replaceChildren(stance.querySelector("legend"), ...Object.entries(STANCE_KEYS).map(([key, id]) =>
    codeInput("radio", "coding-stance", id, codeLabel("stances", id), key)));
  const frames = $("#coding-frames");
  const all = (coding.codebook && coding.codebook.frames) || [];
  const sides = [...new Set(all.map((f) => f.side || ""))];
  frames.replaceChildren(frames.querySelector("legend"), ...sides.map((side) => el("div", { className: "frame-side" },
    el("span", { className: "frame-side-label", text: side ? stanceLabel(side) : "" }),
    ...all.filter((f) => (f.side || "") === side).map((f) =>
      codeInput("checkbox", "coding-frame", f.label, codeLabel("frames", f.label), null)))));
  if (kept) fillCodes(kept);
}

function readCodes() {
  const form = $("#coding-form");
  const relevant = form.querySelector("input[name=coding-relevant]:checked");
  const stance = form.querySelector("input[name=coding-stance]:checked");
  const memo = $("#coding-memo").value.trim();
  return {
    relevant: relevant ? relevant.value === "true" : null,
    stance: stance ? stance.value : null,
    frames: [...form.querySelectorAll("input[name=coding-frame]:checked")].map((i) => i.value),
    memo: memo || null,
  };
}

function fillCodes(codes) {
  const form = $("#coding-form");
  const relevant = codes && codes.relevant != null ? String(codes.relevant) : null;
  for (const input of form.querySelectorAll("input[name=coding-relevant]")) input.checked = input.value === relevant;
  for (const input of form.querySelectorAll("input[name=coding-stance]")) {
    input.checked = Boolean(codes && input.value === codes.stance);
  }
  const frames = new Set((codes && codes.frames) || []);
  for (const input of form.querySelectorAll("input[name=coding-frame]")) input.checked = frames.has(input.value);
  $("#coding-memo").value = (codes && codes.memo) || "";
}

function setRelevant(relevant) {
  const input = $(`#coding-relevant-${relevant}`);
  if (input) input.checked = true;
  if (!relevant) {  // a sentence that is not relevant has no stance and no frames (the server refuses them)
    for (const other of $("#coding-form").querySelectorAll("input[name=coding-stance], input[name=coding-frame]")) {
      other.checked = false;
    }
  }
}

// Clicks keep the codes consistent the same way the keys do.
function onFormChange(event) {
  const input = event.target;
  if (input.name === "coding-relevant") setRelevant(input.value === "true");
  else if ((input.name === "coding-stance" || input.name === "coding-frame") && input.checked) setRelevant(true);
}

/* ------------------------------------------------------------------ the sentence */

function contextLine(className, text) {
  return text ? el("p", { className: `context ${className}`, text }) : null;
}

function showItem(item) {
  coding.item = item;
  coding.done = null;
  const target = $("#coding-item");
  const meta = [item.title, item.source, item.speaker ? `${t("speaker")}: ${item.speaker}` : null].filter(Boolean);
  const parts = [el("p", { className: "item-meta", text: meta.join(" · ") }),
    contextLine("context-before", item.previous),
    el("p", { className: "sentence" }, el("mark", { className: "coding-sentence", "data-testid": "coding-sentence",
      text: item.text })),
    contextLine("context-after", item.next)];
  const s = item.suggestion;
  if (s) {
    const relevance = s.relevance == null ? "" : `${t("relevance")} ${num(s.relevance)} · `;
    parts.push(el("p", { className: "suggestion", "data-testid": "coding-suggestion",
      text: `${t("coding_suggestion")}: ${relevance}${s.stance ? codeLabel("stances", s.stance) : "–"}` +
        (s.frames && s.frames.length ? ` · ${s.frames.map((f) => codeLabel("frames", f)).join(", ")}` : "") }));
  }
  target.replaceChildren(...parts.filter(Boolean));
  target.dataset.state = "ready";
  target.dataset.itemId = item.item_id;
  $("#coding-form").hidden = false;
  fillCodes(null);
  showProgress(item.position.done, item.position.total);
}

function showProgress(done, total) {
  $("#coding-progress").textContent = total ? t("coding_progress", done, total) : "";
  $("#coding-progress-bar").max = total || 1;
  $("#coding-progress-bar").value = done || 0;
}

function showDone() {
  const total = (coding.item && coding.item.position.total) || (coding.done && coding.done.total) || 0;
  coding.done = { total };
  coding.item = null;
  const target = $("#coding-item");
  target.replaceChildren(el("p", { className: "done", text: t("coding_done", coding.queue) }));
  target.dataset.state = "done";
  delete target.dataset.itemId;
  $("#coding-form").hidden = false;
  fillCodes(null);
  $("#coding-save").disabled = true;
  showProgress(total, total);
}

function clearItem() {
  coding.item = null;
  coding.done = null;
  $("#coding-item").replaceChildren();
  $("#coding-item").dataset.state = "empty";
  $("#coding-form").hidden = true;
  showProgress(0, 0);
}

/* ------------------------------------------------------------------ actions */

// One action at a time: a key pressed while a save, an undo or a load is on its way is ignored.
async function exclusive(action) {
  if (coding.busy) return;
  coding.busy = true;
  $("#coding-card").setAttribute("aria-busy", "true");
  try {
    await action();
  } finally {
    coding.busy = false;
    $("#coding-card").setAttribute("aria-busy", "false");
  }
}

async function fetchNext() {
  const item = await codingRequest("GET", "annotations/next", { params: queueParams(coding.queue) });
  $("#coding-save").disabled = false;
  if (!item) showDone();
  else showItem(item);
  $("#coding-item").focus({ preventScroll: true });
}

function openQueue(queue) {
  coding.queue = queue;
  sessionStorage.setItem(CODING_STORE.queue, queue);
  $("#coding-queue").value = queue;
  codingError("");
  codingStatus("");
  if (!coding.key) {
    codingError(t("coding_401"));
    return Promise.resolve();
  }
  return exclusive(async () => {
    try {
      await fetchNext();
    } catch (e) {
      clearItem();
      codingError(t("coding_queue_problem", queue, codingProblem(e)));
    }
  });
}

function saveAndNext() {
  return exclusive(async () => {
    const item = coding.item;
    if (!item) return;
    const codes = readCodes();
    if (codes.relevant === null) {
      codingStatus(t("coding_choose_first"));
      return;
    }
    try {
      const saved = await codingRequest("POST", "annotations", { body: { item_id: item.item_id, ...codes } });
      setCoder(saved && saved.coder);
    } catch (e) {
      // The form keeps the codes: the coder presses Enter again when the server is back.
      codingError(t("coding_not_saved", codingProblem(e)));
      return;
    }
    codingError("");
    codingStatus(t("coding_saved", item.position.done + 1, item.position.total));
    try {
      await fetchNext();
    } catch (e) {
      // Saved, but the next sentence did not come: the saved one stays on screen; Enter saves it again (the
      // same row) and asks for the next once more.
      codingError(t("coding_next_failed", codingProblem(e)));
    }
  });
}

function undoLast() {
  if (!coding.queue || !coding.key) return Promise.resolve();
  return exclusive(async () => {
    try {
      const item = await codingRequest("POST", "annotations/undo", { params: queueParams(coding.queue) });
      $("#coding-save").disabled = false;
      showItem(item);
      fillCodes(item.undone || null);  // the coder's own codes, as the server removed them
      codingError("");
      codingStatus(t("coding_undone"));
      $("#coding-item").focus({ preventScroll: true });
    } catch (e) {
      codingError(t("coding_undo_failed", codingProblem(e)));
    }
  });
}

/* ------------------------------------------------------------------ keyboard */

const TYPING = new Set(["INPUT", "SELECT", "TEXTAREA"]);
const CHOICES = new Set(["radio", "checkbox"]);

function codingVisible() {
  return !$("#coding").hidden;
}

function onCodingKey(event) {
  if (!codingVisible() || event.defaultPrevented || event.isComposing) return;
  const target = event.target;
  const inCard = target === document.body || target.closest("#coding-card");
  if (!inCard) return;
  if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {  // saves from anywhere, the memo included
    event.preventDefault();
    saveAndNext();
    return;
  }
  if (target.id === "coding-memo") {
    if (event.key === "Escape") $("#coding-item").focus();
    return;
  }
  if (event.ctrlKey || event.metaKey || event.altKey) return;
  if (TYPING.has(target.tagName) && !CHOICES.has(target.type)) return;
  if (target.name === "coding-frame" && frameArrow(event)) return;
  if (codingShortcut(event.key, target)) event.preventDefault();
}

// One key, one action; true when the key was one of ours.
function codingShortcut(key, target) {
  if (key === "u") {
    undoLast();
    return true;
  }
  if (!coding.item) return false;
  if (STANCE_KEYS[key]) {
    setRelevant(true);
    $(`#coding-stance-${STANCE_KEYS[key]}`).checked = true;
  } else if (key === "0") {
    setRelevant(false);
  } else if (key === "f") {
    const first = $("#coding-frames input");
    if (first) first.focus();
  } else if (key === "m") {
    $("#coding-memo").focus();
  } else if (key === "Enter" && !["BUTTON", "A"].includes(target.tagName)) {  // a focused button clicks itself
    saveAndNext();
  } else {
    return false;
  }
  return true;
}

// Arrow keys walk the frame checkboxes (space ticks one, as everywhere).
function frameArrow(event) {
  const step = { ArrowDown: 1, ArrowRight: 1, ArrowUp: -1, ArrowLeft: -1 }[event.key];
  if (!step) return false;
  event.preventDefault();
  const boxes = [...document.querySelectorAll("#coding-frames input")];
  const next = boxes[(boxes.indexOf(event.target) + step + boxes.length) % boxes.length];
  next.focus();
  return true;
}

/* ------------------------------------------------------------------ key and queues */

// Labels carry data-i18n, so the page's language switch (dashboard.js) relabels them like the static ones.
function buildQueueForm() {
  const form = $("#coding-new-form");
  for (const [id, label, tag, attrs, wide, choices] of QUEUE_FIELDS) {
    const control = el(tag, { id, autocomplete: "off", ...attrs });
    for (const [value, key] of choices || []) control.append(el("option", { value, "data-i18n": key, text: t(key) }));
    form.append(el("div", { className: wide ? "field field-wide" : "field" },
      el("label", { for: id, "data-i18n": label, text: t(label) }), control));
  }
  const create = el("button", { type: "submit", id: "new-create", "data-i18n": "coding_new_create",
    text: t("coding_new_create") });
  form.append(el("div", { className: "field field-actions" }, create));
}

async function useKey(key) {
  if (key !== coding.key) {  // another key, another coder
    coding.coder = "";
  }
  coding.key = key;
  if (key) sessionStorage.setItem(CODING_STORE.key, key);
  else sessionStorage.removeItem(CODING_STORE.key);
  showWho();
  codingError("");
  if (!key) {
    clearItem();
    return;
  }
  const who = $("#coding-who");
  who.dataset.state = "checking";
  try {  // the key must name a coder: who it is, and the queues that give them sentences
    const me = await codingRequest("GET", "annotations/me");
    who.dataset.state = "accepted";
    setCoder(me.coder);
    $("#coding-queues").replaceChildren(...me.queues.map((q) => el("option", { value: q.name,
      label: `${q.name} (${q.done}/${q.total})` })));
    if (!coding.queue && me.queues.length) $("#coding-queue").value = me.queues[me.queues.length - 1].name;
  } catch (e) {
    who.dataset.state = e.status === 401 || e.status === 403 ? "refused" : "unchecked";
    if (who.dataset.state === "refused") {
      who.textContent = codingProblem(e);
      return;
    }
  }
  if (coding.queue) await openQueue(coding.queue);
}

async function createQueue(event) {
  event.preventDefault();
  const body = {
    name: $("#new-name").value.trim(),
    strategy: $("#new-strategy").value,
    size: Number($("#new-size").value),
    overlap: Number($("#new-overlap").value),
    coders: $("#new-coders").value.split(",").map((c) => c.trim()).filter(Boolean),
    seed: Number($("#new-seed").value || 0),
  };
  const filter = $("#new-filter").value.trim();
  if (filter) body.filter = filter;
  if ($("#new-stratify").value) body.stratify = $("#new-stratify").value;
  if ($("#new-other-version").value.trim()) body.other_model_version = $("#new-other-version").value.trim();
  const status = $("#coding-new-status");
  status.textContent = t("coding_new_running");
  try {
    const made = await codingRequest("POST", "annotations/queues", { body });
    status.textContent = t("coding_new_made", made.name, made.items, made.assignments);
    await openQueue(made.name);
  } catch (e) {
    status.textContent = "";
    codingError(t("coding_new_failed", codingProblem(e)));
  }
}

/* ------------------------------------------------------------------ agreement and disagreements */

function interval(ci) {
  return ci ? ` [${num(ci[0])}; ${num(ci[1])}]` : "";
}

function agreementRow(name, label, d) {
  return el("tr", { "data-dimension": name }, el("th", { scope: "row", text: label }),
    el("td", { className: "num", text: d.n }),
    el("td", { className: "num", text: pct(d.observed_agreement) }),
    el("td", { className: "num kappa", "data-value": d.cohen_kappa ?? "",
      text: num(d.cohen_kappa) + interval(d.cohen_kappa_ci) }),
    el("td", { className: "num alpha", "data-value": d.krippendorff_alpha ?? "",
      text: num(d.krippendorff_alpha) + interval(d.krippendorff_alpha_ci) }));
}

function drawAgreement(report) {
  const target = $("#coding-agreement");
  const head = el("tr", {}, ...["coding_dimension", "n_col", "coding_observed", "coding_kappa", "coding_alpha"]
    .map((key) => el("th", { scope: "col", text: t(key) })));
  const body = el("tbody");
  for (const [name, d] of Object.entries(report.dimensions || {})) {
    body.append(agreementRow(name, t(`dimension_${name}`), d));
  }
  for (const [frame, d] of Object.entries(report.frames || {})) {
    body.append(agreementRow(`frame:${frame}`, `${t("frame")}: ${codeLabel("frames", frame)}`, d));
  }
  target.replaceChildren(el("p", { className: "note", text: t("coding_agreement_summary", report) }),
    el("div", { className: "table-scroll" },
      el("table", { className: "plain agreement" }, el("thead", {}, head), body)));
  target.dataset.state = "ready";
}

function adjudicateForm(item) {
  const id = `adj-${item.item_id}`;
  const relevance = el("select", { id: `${id}-relevant` },
    el("option", { value: "true", text: t("coding_relevant") }),
    el("option", { value: "false", text: t("coding_not_relevant") }));
  const stance = el("select", { id: `${id}-stance` }, el("option", { value: "", text: t("none_chosen") }),
    ...Object.values(STANCE_KEYS).map((s) => el("option", { value: s, text: codeLabel("stances", s) })));
  const frames = el("fieldset", { className: "codes codes-frames" }, el("legend", { text: t("coding_frames") }),
    ...((coding.codebook && coding.codebook.frames) || []).map((f) =>
      codeInput("checkbox", `${id}-frame`, f.label, codeLabel("frames", f.label), null)));
  const memo = el("input", { type: "text", id: `${id}-memo`, maxlength: 10000, autocomplete: "off" });
  const form = el("form", { className: "compare-form adjudicate", "data-item-id": item.item_id },
    el("div", { className: "field" }, el("label", { for: relevance.id, text: t("coding_relevance") }), relevance),
    el("div", { className: "field" }, el("label", { for: stance.id, text: t("coding_stance") }), stance),
    frames,
    el("div", { className: "field field-wide" }, el("label", { for: memo.id, text: t("coding_memo") }), memo),
    el("div", { className: "field field-actions" }, el("button", { type: "submit", text: t("coding_adjudicate") })));
  const start = item.adjudicated || Object.values(item.codes)[0] || {};
  relevance.value = String(start.relevant !== false);
  stance.value = start.stance || "";
  for (const box of frames.querySelectorAll("input")) box.checked = (start.frames || []).includes(box.value);
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const relevant = relevance.value === "true";
    adjudicate(item.item_id, { relevant, stance: relevant ? stance.value || null : null,
      frames: relevant ? [...frames.querySelectorAll("input:checked")].map((b) => b.value) : [],
      memo: memo.value.trim() || null }, form);
  });
  return form;
}

function drawDisagreements(items) {
  const target = $("#coding-disagreements");
  if (!items.length) {
    target.replaceChildren(el("p", { className: "empty", text: t("coding_no_disagreements") }));
    target.dataset.state = "empty";
    return;
  }
  const list = el("ol", { className: "disagreements" });
  for (const item of items) {
    const codes = el("table", { className: "plain" }, el("tbody", {}, ...Object.entries(item.codes).map(([coder, c]) =>
      el("tr", { "data-coder": coder }, el("th", { scope: "row", text: coder }), el("td", { text: codesText(c) }),
        el("td", { text: c.memo || "" })))));
    list.append(el("li", { "data-item-id": item.item_id },
      el("p", { className: "sentence" }, el("mark", { text: item.text || "" })),
      el("p", { className: "note", text: `${t("coding_differs")}: ${item.differs.map(dimensionText).join(", ")}` }),
      codes,
      el("p", { className: "adjudicated", "data-testid": "adjudicated",
        text: item.adjudicated ? `${t("coding_adjudicated")}: ${codesText(item.adjudicated)}` : "" }),
      adjudicateForm(item)));
  }
  target.replaceChildren(list);
  target.dataset.state = "ready";
}

function dimensionText(name) {
  return name.startsWith("frame:") ? `${t("frame")} ${codeLabel("frames", name.slice(6))}` : t(`dimension_${name}`);
}

async function adjudicate(itemId, codes, form) {
  const button = form.querySelector("button");
  button.disabled = true;
  try {
    await codingRequest("POST", "annotations/adjudications", { body: { item_id: itemId, ...codes } });
    await loadReview();
  } catch (e) {
    reviewError(t("coding_adjudicate_failed", codingProblem(e)));
    button.disabled = false;
  }
}

function reviewError(text) {
  const box = $("#coding-review .error");
  box.textContent = text || "";
  box.hidden = !text;
}

function exportLinks(queue) {
  for (const format of ["csv", "jsonl"]) {
    const link = $(`#coding-export-${format}`);
    link.href = apiURL("annotations/export", new URLSearchParams({ format, queue })).toString();
    link.hidden = !queue;
  }
}

async function loadReview() {
  const queue = $("#coding-queue").value.trim();
  coding.reviewQueue = queue;
  $("#review-queue-name").textContent = queue ? t("coding_review_of", queue) : "";
  exportLinks(queue);
  reviewError("");
  if (!queue) {
    reviewError(t("coding_pick_queue"));
    return;
  }
  const params = queueParams(queue);
  for (const id of ["#coding-agreement", "#coding-disagreements"]) $(id).dataset.state = "loading";
  const [agreement, disagreements] = await Promise.allSettled([
    codingRequest("GET", "annotations/agreement", { params }),
    codingRequest("GET", "annotations/disagreements", { params })]);
  if (coding.reviewQueue !== queue) return;  // another queue was asked for meanwhile
  const problems = [];
  if (agreement.status === "fulfilled") {
    coding.agreement = agreement.value;
    drawAgreement(agreement.value);
  } else {
    $("#coding-agreement").replaceChildren();
    $("#coding-agreement").dataset.state = "error";
    problems.push(codingProblem(agreement.reason));
  }
  if (disagreements.status === "fulfilled") {
    coding.disagreements = disagreements.value.items;
    drawDisagreements(disagreements.value.items);
  } else {
    $("#coding-disagreements").replaceChildren();
    $("#coding-disagreements").dataset.state = "error";
    problems.push(codingProblem(disagreements.reason));
  }
  if (problems.length) reviewError(t("error_prefix") + [...new Set(problems)].join("; "));
}

/* ------------------------------------------------------------------ training */

async function startTraining() {
  const queue = $("#coding-queue").value.trim();
  if (!queue) {
    reviewError(t("coding_pick_queue"));
    return;
  }
  const button = $("#coding-train");
  button.disabled = true;
  try {
    const job = await codingRequest("POST", "annotations/train", { body: { queue } });
    coding.job = { id: job.job_id, state: job.state || "queued" };
    drawJob();
    pollJob(job.job_id);
  } catch (e) {
    reviewError(t("coding_train_failed", codingProblem(e)));
    button.disabled = false;
  }
}

async function pollJob(id) {
  try {
    const job = await codingRequest("GET", `annotations/train/${id}`);
    if (!coding.job || coding.job.id !== id) return;
    coding.job = job;
    coding.job.id = id;
    drawJob();
    if (job.state === "finished" || job.state === "failed") {
      $("#coding-train").disabled = false;
      return;
    }
  } catch (e) {
    reviewError(t("coding_train_failed", codingProblem(e)));
  }
  setTimeout(() => pollJob(id), TRAIN_POLL_MS);
}

function drawJob() {
  const job = coding.job;
  const target = $("#coding-train-job");
  if (!job) return;
  target.dataset.state = job.state;
  const parts = [el("p", { text: t("coding_job", job.id, t(`job_${job.state}`)) })];
  if (job.state === "failed" && job.error) parts.push(el("pre", { className: "error", text: job.error }));
  const p = job.state === "finished" ? job.progress : null;
  if (p) {
    const held = (model) => ["relevance", "stance"].map((task) =>
      `${t(`dimension_${task}`)} ${num(p.held_out && p.held_out[model] && p.held_out[model][task])}`).join(", ");
    parts.push(el("dl", { className: "doc-meta" },
      el("dt", { text: t("coding_new_version") }), el("dd", { text: p.version }),
      el("dt", { text: t("coding_codes_used") }), el("dd", { text: JSON.stringify(p.codes) }),
      el("dt", { text: t("coding_held_new") }), el("dd", { text: held("new") }),
      el("dt", { text: t("coding_held_current") }), el("dd", { text: held("current") }),
      el("dt", { text: t("coding_folder") }), el("dd", { text: p.folder })));
    // Serving a model is an admin's call (an X-API-Key of DISCOURSE_API_API_KEYS), not every coder's.
    const admin = el("input", { type: "password", id: "coding-admin-key", autocomplete: "off" });
    const activate = el("button", { type: "button", id: "coding-activate", text: t("coding_activate") });
    activate.addEventListener("click", () => activateModel(p.folder, admin.value.trim(), activate));
    parts.push(el("div", { className: "compare-form" },
      el("div", { className: "field field-wide" }, el("label", { for: admin.id, text: t("coding_admin_key") }), admin),
      el("div", { className: "field field-actions" }, activate)),
    el("p", { id: "coding-activate-status", className: "note", role: "status" }));
  }
  target.replaceChildren(...parts);
}

async function activateModel(folder, adminKey, button) {
  button.disabled = true;
  const status = $("#coding-activate-status");
  const headers = { Accept: "application/json", "Content-Type": "application/json", "X-API-Key": adminKey };
  const init = { method: "POST", headers, body: JSON.stringify({ folder }) };
  try {
    const served = await request(apiURL("models/reload"), init);
    status.textContent = t("coding_activated", served.model_version || served.folder);
  } catch (e) {
    status.textContent = t("coding_activate_failed", e.message);
    button.disabled = false;
  }
}

/* ------------------------------------------------------------------ the two views */

function showView(view) {
  const codingView = view === "coding";
  $("#coding").hidden = !codingView;
  $("#main").hidden = codingView;
  $("#filters").hidden = codingView;
  $("#summary").hidden = codingView;
  for (const [tab, on] of [[$("#tab-dashboard"), !codingView], [$("#tab-coding"), codingView]]) {
    tab.setAttribute("aria-selected", String(on));
    tab.tabIndex = on ? 0 : -1;
  }
  $(".skip-link").setAttribute("href", codingView ? "#coding" : "#main");
  const q = new URLSearchParams(location.search);
  if (codingView) q.set("view", "coding");
  else q.delete("view");
  history.replaceState(null, "", `${location.pathname}?${q}`);
}

function onTabKey(event) {
  if (!["ArrowLeft", "ArrowRight", "Home", "End"].includes(event.key)) return;
  event.preventDefault();
  const other = event.target.id === "tab-coding" ? $("#tab-dashboard") : $("#tab-coding");
  other.focus();
  other.click();
}

function codingLanguage() {
  for (const node of document.querySelectorAll("[data-i18n-label]")) {
    node.setAttribute("aria-label", t(node.dataset.i18nLabel));
  }
  showWho();
  buildForm();
  if (coding.item) {
    const codes = readCodes();
    showItem(coding.item);
    fillCodes(codes);
  } else if (coding.done) {
    showDone();
  }
  if (coding.reviewQueue) $("#review-queue-name").textContent = t("coding_review_of", coding.reviewQueue);
  if (coding.agreement) drawAgreement(coding.agreement);
  if (coding.disagreements) drawDisagreements(coding.disagreements);
  drawJob();
}

async function startCoding() {
  $("#tab-dashboard").addEventListener("click", () => showView("dashboard"));
  $("#tab-coding").addEventListener("click", () => showView("coding"));
  for (const tab of document.querySelectorAll("[role=tab]")) tab.addEventListener("keydown", onTabKey);
  // after dashboard.js's own listener (registered first), which has switched state.lang and the static labels
  $("#lang-toggle").addEventListener("click", codingLanguage);
  document.addEventListener("keydown", onCodingKey);
  $("#coding-form").addEventListener("change", onFormChange);
  $("#coding-form").addEventListener("submit", (event) => {
    event.preventDefault();
    saveAndNext();
  });
  $("#coding-undo").addEventListener("click", undoLast);
  $("#coding-key-form").addEventListener("submit", (event) => {
    event.preventDefault();
    useKey($("#coding-key").value.trim());
    $("#coding-key").value = "";
  });
  $("#coding-key-forget").addEventListener("click", () => useKey(""));
  $("#coding-queue-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const queue = $("#coding-queue").value.trim();
    if (queue) openQueue(queue);
  });
  buildQueueForm();
  $("#coding-new-form").addEventListener("submit", createQueue);
  $("#review-run").addEventListener("click", loadReview);
  $("#coding-train").addEventListener("click", startTraining);

  showView(new URLSearchParams(location.search).get("view") === "coding" ? "coding" : "dashboard");
  codingLanguage();
  $("#coding-queue").value = coding.queue;
  try {
    coding.codebook = (await codingRequest("GET", "models")).codebook;
  } catch (e) {
    codingError(t("error_prefix") + e.message);
  }
  buildForm();
  if (coding.key) await useKey(coding.key);  // names the coder, offers their queues, opens the last one
  document.body.dataset.codingReady = "true";
}

startCoding();
