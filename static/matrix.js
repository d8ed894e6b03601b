// matrix.js: the matrix runner, article 000's experiment run live.
//
// The article ("How to solve CORS problems when redirecting to S3 signed
// URLs") asks: the page fetches a file from the api, the api checks access,
// signs an S3 URL and answers with a redirect to it, and the browser
// follows the redirect to the bucket. Which CORS headers must the api and
// the bucket send for JavaScript to read the file?
//
// Every cell of the table is one real fetch() that THIS browser makes,
// exactly as the lab makes it:
//
//   1. PUT /api/sessions/{id}/scenario   the cell's scenario: the api's
//      CORS headers (the row), the bucket's CORS rules (the column)
//   2. the hidden runner frame, on the page's origin, calls fetch()
//   3. POST /api/sessions/{id}/runs      what the browser saw; the server
//      answers with the run, the exchanges it caused and the model's verdict
//
// Nothing here knows the answer in advance: a cell is ✓ when the browser
// let JavaScript read the response, ✗ when it did not. Before running we
// remember the session's scenario, and afterwards we put it back, so the
// learner's lab is as they left it.
//
// corslab limits how many requests a session and an address may make, to
// keep a class running. Should it refuse one of a cell's requests, the
// browser's outcome says nothing about CORS: the cell is "not run", never
// ✓ or ✗, and it is tried again after a pause (see REFUSED_PAUSES).
//
// The other modules are the lab's own:
//   runner-frame.js  the hidden page on another origin that calls fetch()
//   stream.js        the websocket feed of what the servers saw
//   log.js           exchanges and runs as the lab's log shows them
//   diagram.js       the sequence diagram of one run
//   verdict.js       the model's explanation of a run
//   refused.js       a request corslab itself refused

import { el } from "./dom.js";
import { putScenario, postRun, getSession, getExchanges } from "./api.js";
import { fetchInit } from "./form.js";
import { RunnerFrame } from "./runner-frame.js";
import { Stream } from "./stream.js";
import { ExchangeLog, runOutcome, headerValue } from "./log.js";
import { drawDiagram } from "./diagram.js";
import { verdictOf, stageWords } from "./verdict.js";
import { copyText, confirmCopied } from "./clipboard.js";
import { REFUSED_TEXT, refusalsOf } from "./refused.js";

const data = JSON.parse(document.getElementById("matrix-data").textContent);
const sessionId = data.sessionId;
const urls = {};  // role → origin, e.g. api → "http://127.0.0.1:8082"
const bases = {}; // role → session base, e.g. api → "http://127.0.0.1:8082/k3xq…"
for (const o of data.origins ?? []) {
  urls[o.role] = o.url;
  bases[o.role] = o.base;
}

const $ = (id) => document.getElementById(id);

// ----- the experiment -----

// The object every cell asks for. Each session's bucket starts with it.
const FILE = "/files/hello.txt";

/**
 * The setups (scenario.setup): where the page runs and what it fetches.
 *   three-origins  the page on app fetches the api cross-origin;
 *                  the api redirects to s3, a third origin
 *   two-origins    the page is served by the api itself (same-origin
 *                  fetch); only the bucket is elsewhere
 *   one-origin     the app origin proxies /api/* to the api and the bucket
 *                  too, like a CDN: the page sees a single origin
 */
const SETUPS = {
  "three-origins": {
    title: "Three origins",
    from: "app",
    url: () => bases.api + FILE,
    story: () => `The page on app (${port("app")}) fetches the api (${port("api")}); the api redirects to the bucket on s3 (${port("s3")}).`,
  },
  "two-origins": {
    title: "Two origins",
    from: "api",
    url: () => bases.api + FILE,
    story: () => `The page is on the api's own origin (${port("api")}), so its fetch is same-origin; the api redirects to the bucket on s3 (${port("s3")}).`,
  },
  "one-origin": {
    title: "One origin",
    from: "app",
    url: () => `${bases.app}/api${FILE}`,
    story: () => `The page on app (${port("app")}) fetches /api${FILE} on its own origin; app proxies it to the api, and the bucket too, like a CDN.`,
  },
};

/**
 * The rows: what the api sends on its redirect response (scenario.api).
 * page is the page's origin, written out ("http://127.0.0.1:8081").
 * The first two send no Vary: Origin, like the article's handlers.
 */
const ROWS = [
  {
    key: "none", label: "no CORS",
    sends: () => "no CORS headers",
    api: () => ({ allowOrigin: "", allowCredentials: false, vary: false }),
  },
  {
    key: "star", label: "*",
    sends: () => "Access-Control-Allow-Origin: *",
    api: () => ({ allowOrigin: "*", allowCredentials: false, vary: false }),
  },
  {
    key: "page", label: "page origin + credentials",
    sends: (page) => `Access-Control-Allow-Origin: ${page}, Access-Control-Allow-Credentials: true, Vary: Origin`,
    api: (page) => ({ allowOrigin: page, allowCredentials: true, vary: true }),
  },
];

/**
 * The columns: the bucket's CORS configuration (scenario.bucket.cors), as
 * S3's PutBucketCors takes it. null: the bucket has none.
 */
const COLUMNS = [
  { key: "none", label: "none", rules: () => "no CORS configuration", cors: () => null },
  {
    key: "star", label: "*", rules: () => "AllowedOrigin *, AllowedMethod GET and HEAD",
    cors: () => [{ allowedOrigins: ["*"], allowedMethods: ["GET", "HEAD"] }],
  },
  {
    key: "null", label: "null", rules: () => "AllowedOrigin null, AllowedMethod GET",
    cors: () => [{ allowedOrigins: ["null"], allowedMethods: ["GET"] }],
  },
  {
    key: "page", label: "page origin", rules: (page) => `AllowedOrigin ${page}, AllowedMethod GET`,
    cors: (page) => [{ allowedOrigins: [page], allowedMethods: ["GET"] }],
  },
];

const CREDENTIALS_TITLES = { include: "credentials: include", "same-origin": "credentials: same-origin", omit: "credentials: omit" };

/** ":8081", the way the lab's header names an origin. */
function port(role) {
  const u = urls[role] ?? "";
  const i = u.lastIndexOf(":");
  return i > u.indexOf("://") + 2 ? u.slice(i) : u;
}

/** The scenario of one cell: what PUT /api/sessions/{id}/scenario gets. */
function cellScenario({ setup: setupName, credentials, redirect }, row, col) {
  const setup = SETUPS[setupName];
  const page = urls[setup.from];
  return {
    setup: setupName,
    request: {
      from: setup.from, target: "api", method: "GET", path: FILE,
      credentials, mode: "cors", redirect: "follow",
    },
    // hello.txt is stored with Cache-Control: no-store, so even two cells
    // that get the same signed URL (it is signed to the second) both reach
    // the bucket: no answer comes from the browser's cache.
    api: { ...row.api(page), redirect },
    bucket: { cors: col.cors(page) },
  };
}

// ----- the settings and the address bar -----

const settings = { setup: data.setup, credentials: data.credentials, redirect: Number(data.redirect) };
const selects = { setup: $("m-setup"), credentials: $("m-credentials"), redirect: $("m-redirect") };
const runButton = $("run");
const stopButton = $("stop");
const runStatus = $("run-status");
const details = $("details");
let shareURL = data.shareUrl;

function query() {
  const q = new URLSearchParams();
  q.set("setup", settings.setup);
  q.set("credentials", settings.credentials);
  q.set("redirect", String(settings.redirect));
  return q.toString();
}

/** The address bar and the share link always describe what is on screen. */
function showSettings() {
  history.replaceState(null, "", `/matrix/${encodeURIComponent(sessionId)}?${query()}`);
  shareURL = `${data.uiOrigin}/matrix?${query()}`;
  $("share-url").value = shareURL;
}

for (const [name, select] of Object.entries(selects)) {
  select.addEventListener("change", () => {
    settings[name] = name === "redirect" ? Number(select.value) : select.value;
    showSettings();
    drawTables();
  });
}

/** The (setup, credentials) pairs the settings ask for, one table each. */
function tablesWanted() {
  const setups = settings.setup === "all" ? data.setups.filter((s) => s !== "all") : [settings.setup];
  const modes = settings.credentials === "all" ? data.credentialsModes.filter((c) => c !== "all") : [settings.credentials];
  return setups.filter((s) => SETUPS[s]).flatMap((setup) => modes.map((credentials) => ({ setup, credentials })));
}

// ----- the tables -----

/**
 * One table per (setup, credentials): the live table, and beside it the
 * table this browser produced last time for the same setup, credentials
 * and redirect status (kept in localStorage).
 */
let tables = [];

function drawTables() {
  tables = tablesWanted().map(({ setup, credentials }) => newTable(setup, credentials));
  $("matrices").replaceChildren(...tables.map((t) => t.el));
}

function newTable(setupName, credentials) {
  const setup = SETUPS[setupName];
  const page = urls[setup.from];
  const t = {
    setup: setupName, credentials, redirect: settings.redirect,
    cells: new Map(),    // "row/col" → {row, col, button, result}
    last: loadLast(setupName, credentials, settings.redirect),
    lastEl: el("div", { class: "matrix-last" }),
  };
  const title = `${setup.title} · ${CREDENTIALS_TITLES[credentials]} · ${settings.redirect}`;
  const head = el("tr", {},
    el("th", { scope: "col", class: "corner" },
      el("span", { class: "corner-rows" }, "api sends ↓"), el("span", { class: "corner-cols" }, "bucket CORS →")),
    COLUMNS.map((col) => el("th", { scope: "col", title: col.rules(page) },
      col.label, col.key === "page" ? el("span", { class: "axis-note" }, port(setup.from)) : null)));
  const body = ROWS.map((row) => el("tr", {},
    el("th", { scope: "row", title: row.sends(page) },
      row.label, row.key === "page" ? el("span", { class: "axis-note" }, port(setup.from)) : null),
    COLUMNS.map((col) => {
      const key = `${row.key}/${col.key}`;
      const button = el("button", { type: "button", class: "cell", "data-cell": key, "data-state": "idle", disabled: true });
      const cell = { row, col, button, result: null };
      t.cells.set(key, cell);
      showCell(t, cell);
      button.addEventListener("click", () => select(t, key));
      return el("td", {}, button);
    })));
  t.el = el("section", { class: "matrix-block", "data-setup": setupName, "data-credentials": credentials, "aria-label": title },
    el("h3", {}, title),
    el("p", { class: "matrix-story" }, setup.story()),
    el("div", { class: "matrix-pair" },
      el("table", { class: "matrix-table live" },
        el("caption", {}, "This run"),
        el("thead", {}, head),
        el("tbody", {}, body)),
      t.lastEl));
  drawLast(t);
  return t;
}

/** A cell's face: what the browser did, where it failed, and any flags. */
function showCell(t, cell) {
  const { button, result } = cell;
  const name = `${cell.row.label} × bucket ${cell.col.label}`;
  let state, face, words;
  if (!result) {
    state = cell.state ?? "idle";
    face = { idle: ["·"], queued: ["queued"], running: ["running…"] }[state];
    words = { idle: "not run yet", queued: "queued", running: "running" }[state];
  } else if (result.refused) {
    // corslab's refusal, not the browser's outcome: never ✓ or ✗.
    state = "refused";
    const retry = cell.retryIn ? `; trying again in ${cell.retryIn} s` : "";
    face = ["not run", el("span", { class: "hop" }, `corslab refused it${retry}`)];
    words = `not run: ${REFUSED_TEXT} (${result.refused})${retry}`;
  } else if (result.error) {
    state = "error";
    face = ["could not run", el("span", { class: "hop" }, result.error)];
    words = `could not run: ${result.error}`;
  } else {
    state = result.ok ? "pass" : "fail";
    face = [
      el("span", { class: "outcome" }, result.ok ? "✓ JS reads it" : "✗ blocked"),
      result.hop ? el("span", { class: "hop" }, result.hop) : null,
      result.nullOrigin ? el("span", { class: "badge null-origin" }, "Origin: null") : null,
      result.agrees === false ? el("span", { class: "disagree-flag", title: "The model predicted the opposite: click for both accounts" }, "⚠ model disagrees") : null,
    ];
    words = `${result.ok ? "JS reads the file" : `blocked${result.hop ? ` at ${result.hop}` : ""}`}${result.agrees === false ? "; the model disagrees" : ""}`;
  }
  const changed = changeFrom(t, cell);
  if (changed) {
    face.push(el("span", { class: "changed-flag" }, `changed: was ${changed}`));
    words += `; last time it was ${changed}`;
  }
  button.dataset.state = state;
  button.dataset.hop = result?.hop ?? "";
  button.dataset.nullOrigin = String(Boolean(result?.nullOrigin));
  button.dataset.agrees = result && !result.error && !result.refused ? String(result.agrees) : "";
  button.classList.toggle("changed", Boolean(changed));
  button.disabled = !result?.run; // a cell with a recorded run opens it
  // Its name is what it shows, then the row and column it is in (which
  // the table's headers show): no aria-label that says it otherwise.
  button.replaceChildren(...face.filter(Boolean), el("span", { class: "visually-hidden" }, ` (${name})`));
  button.title = words;
}

/** The details pane: the selected cell's run, as the lab would show it. */
let selected = null; // {table, key}

function select(t, key) {
  const cell = t.cells.get(key);
  if (!cell?.result?.run) return;
  selected = { table: t, key };
  for (const other of tables) {
    for (const [k, c] of other.cells) c.button.setAttribute("aria-pressed", String(other === t && k === key));
  }
  const { run, exchanges, query: labQuery } = cell.result;
  const setup = SETUPS[t.setup];
  const page = urls[setup.from];
  const outcome = runOutcome(run);
  const diagram = el("div", { class: "diagram matrix-diagram", role: "img", "aria-label": "Sequence diagram of this run" });
  const logEl = el("div", { class: "log matrix-log" });
  details.replaceChildren(
    el("div", { class: "details-head" },
      el("h2", {}, `${setup.title} · ${CREDENTIALS_TITLES[t.credentials]} · ${t.redirect}`),
      el("dl", { class: "facts" },
        el("dt", {}, "api sends"), el("dd", {}, cell.row.sends(page)),
        el("dt", {}, "bucket CORS"), el("dd", {}, cell.col.rules(page))),
      el("p", { class: `verdict tone-${outcome.tone}` }, outcome.text),
      // Opening a cell in the lab sets the session's scenario to the
      // cell's: not while the matrix is still changing it.
      running
        ? el("p", { class: "muted" }, "The link to open this cell in the lab appears when the run is over.")
        : el("p", {},
          el("a", { class: "button-link secondary", href: `/lab/${encodeURIComponent(sessionId)}${labQuery ? `?${labQuery}` : ""}`, target: "_blank", rel: "noopener" },
            "Open this cell in the lab"),
          " ", el("span", { class: "muted" }, "(a new tab; it sets the lab to this cell's scenario)"))),
    diagram,
    logEl);
  // The lab's own log, holding just this run: the model's explanation
  // (all its steps, unfolded) and every exchange, raw.
  const log = new ExchangeLog(logEl, { sessionId, originURLs: urls, onSelect() {}, onUpdate() {}, onCurlCopied() {} });
  log.addRun(run);
  for (const ex of exchanges) log.addExchange(ex);
  for (const why of logEl.querySelectorAll("details.why")) why.open = true;
  drawDiagram(diagram, log.selection(), {
    originURLs: urls, shortTarget: (target) => log.shortTarget(target), outcome, request: run.request,
  });
  details.scrollTop = 0;
}

// ----- last time, in this browser -----

// Each finished table is kept under its setup, credentials and redirect,
// with when it ran and in which browser, so that the next run (after a
// browser update, a settings change, another browser) shows what changed.
const STORE_PREFIX = "corslab.matrix.v1";

function storeKey(setup, credentials, redirect) {
  return `${STORE_PREFIX}:${setup}:${credentials}:${redirect}`;
}

function loadLast(setup, credentials, redirect) {
  try {
    const saved = JSON.parse(localStorage.getItem(storeKey(setup, credentials, redirect)) ?? "null");
    return saved && typeof saved === "object" && saved.cells ? saved : null;
  } catch {
    return null; // storage disabled, or something else under our key
  }
}

function saveLast(t) {
  const cells = {};
  for (const [key, cell] of t.cells) {
    const r = cell.result;
    if (!r || r.error || r.refused) return; // only whole tables are kept
    cells[key] = { ok: r.ok, hop: r.hop ?? "" };
  }
  const record = { at: new Date().toISOString(), browser: browserLabel(navigator.userAgent), userAgent: navigator.userAgent, cells };
  try {
    localStorage.setItem(storeKey(t.setup, t.credentials, t.redirect), JSON.stringify(record));
  } catch { /* storage full or disabled: nothing to compare next time */ }
}

/** "✓" or "✗ at s3 · redirected GET" when the cell differs from last time, else "". */
function changeFrom(t, cell) {
  const r = cell.result;
  const before = t.last?.cells?.[`${cell.row.key}/${cell.col.key}`];
  if (!r || r.error || r.refused || !before) return "";
  if (before.ok === r.ok && (r.ok || (before.hop ?? "") === (r.hop ?? ""))) return "";
  return before.ok ? "✓" : `✗${before.hop ? ` at ${before.hop}` : ""}`;
}

/** The small table beside the live one. */
function drawLast(t) {
  const last = t.last;
  if (!last) {
    t.lastEl.replaceChildren(el("p", { class: "last-empty" },
      "Last time in this browser: nothing yet. After a run, the table stays here to compare the next one against."));
    return;
  }
  const when = new Date(last.at);
  const whenText = Number.isNaN(when.getTime()) ? "" : when.toLocaleString([], { dateStyle: "medium", timeStyle: "short" });
  t.lastEl.replaceChildren(
    el("table", { class: "matrix-table last" },
      el("caption", {}, "Last time",
        el("span", { class: "last-when", title: last.userAgent ?? "" }, `${String(last.browser ?? "")}${whenText ? ` · ${whenText}` : ""}`)),
      el("thead", {}, el("tr", {},
        el("td", {}),
        COLUMNS.map((col) => el("th", { scope: "col" }, col.key === "page" ? "page" : col.label)))),
      el("tbody", {}, ROWS.map((row) => el("tr", {},
        el("th", { scope: "row", title: row.label }, row.key === "page" ? "page" : row.key === "none" ? "none" : row.label),
        COLUMNS.map((col) => {
          const key = `${row.key}/${col.key}`;
          const before = last.cells[key];
          const cell = t.cells.get(key);
          const changed = cell && changeFrom(t, cell) !== "";
          const mark = !before ? "?" : before.ok ? "✓" : "✗";
          return el("td", {
            class: `last-cell${before ? (before.ok ? " pass" : " fail") : ""}${changed ? " changed" : ""}`,
            "data-cell": key,
            title: before ? (before.ok ? "JS read the file" : `blocked${before.hop ? ` at ${before.hop}` : ""}`) : "",
          }, mark);
        }))))));
}

/** "Firefox 128", "Chrome 140", … from navigator.userAgent: which browser made a table. */
function browserLabel(ua) {
  const find = (re) => String(ua ?? "").match(re)?.[1];
  for (const [re, name] of [
    [/Firefox\/(\d+)/, "Firefox"], [/Edg\/(\d+)/, "Edge"], [/OPR\/(\d+)/, "Opera"],
    [/HeadlessChrome\/(\d+)/, "Headless Chrome"], [/Chrome\/(\d+)/, "Chrome"],
    // Safari runs on Apple's systems only: WebKit on Linux is WebKitGTK
    // (or WPE), whose User-Agent claims Safari.
    [/Linux.*AppleWebKit\/(\d+)/, "WebKitGTK · AppleWebKit"],
    [/Version\/(\d+(?:\.\d+)?).*Safari\//, "Safari"],
  ]) {
    const version = find(re);
    if (version) return `${name} ${version}`;
  }
  return String(ua ?? "").slice(0, 40) || "an unknown browser";
}

// ----- the exchanges the servers saw -----

const seen = new Map(); // seq → exchange, from the stream or asked for

/** A run's exchanges, in order: from the stream if it has them all, else from the API. */
async function exchangesOf(run) {
  const seqs = (run.exchanges ?? []).map(Number);
  if (seqs.length === 0) return [];
  if (seqs.some((seq) => !seen.has(seq))) {
    // Else show what we have.
    for (const ex of await getExchanges(sessionId, Math.min(...seqs) - 1, { onWait: setStatus })) seen.set(Number(ex.seq), ex);
  }
  return seqs.map((seq) => seen.get(seq)).filter(Boolean);
}

/**
 * Where the run failed, as "role · what": the exchange the model blames
 * (verdict.failedSeq), e.g. "s3 · redirected GET" or "api · 303 redirect".
 * With no such exchange, the stage in words ("at the preflight").
 */
function failingHop(run, exchanges) {
  const v = verdictOf(run);
  if (!v || v.ok) return "";
  const index = exchanges.findIndex((e) => Number(e.seq) === Number(v.failedSeq));
  if (index < 0) return stageWords(v.stage);
  const ex = exchanges[index];
  const method = String(ex.request?.method ?? "");
  const afterRedirect = exchanges.slice(0, index).some((e) => e.kind === "redirect");
  const what = ex.kind === "preflight" ? "preflight"
    : ex.kind === "redirect" ? `${ex.response?.status} redirect`
    : afterRedirect ? `redirected ${method}` : method;
  return `${ex.origin} · ${what}`;
}

// ----- running -----

const runner = new RunnerFrame($("runner-host"), urls);
let running = false;
let stopping = false;
let lastClaimed = 0;  // the newest exchange a run of ours claimed
let restoreOnLeave = null; // the learner's scenario, while the matrix has replaced it

async function runMatrix() {
  if (running || $("conn").dataset.state === "gone") return;
  running = true;
  stopping = false;
  setRunning(true);
  drawTables(); // fresh tables, each compared with the last one kept
  selected = null;
  details.replaceChildren(el("p", { class: "explain-empty" }, "Running… click a cell once it has run to see its exchanges and the model's explanation."));
  const cells = tables.flatMap((t) => [...t.cells.values()].map((cell) => ({ t, cell })));
  for (const { t, cell } of cells) { cell.state = "queued"; showCell(t, cell); }
  const started = performance.now();
  let done = 0;
  let problem = "";
  // 1. Remember the learner's scenario: each cell replaces it.
  setStatus("Remembering your lab's scenario…");
  const saved = (await getSession(sessionId, { onWait: setStatus }))?.scenario ?? null;
  restoreOnLeave = saved;
  try {
    for (const t of tables) {
      for (const cell of t.cells.values()) {
        if (stopping) break;
        setStatus(`Running cell ${done + 1} of ${cells.length}: ${SETUPS[t.setup].title}, ${t.credentials}, ${cell.row.label} × bucket ${cell.col.label}…`);
        await runCellUntilRun(t, cell);
        done++;
      }
      if (stopping) break;
      // 2. A whole table: compare it with last time, then keep it.
      drawLast(t);
      saveLast(t);
    }
  } catch (err) {
    problem = String(err);
  } finally {
    for (const { t, cell } of cells) {
      if (!cell.result) { cell.state = "idle"; showCell(t, cell); }
    }
    // 3. Put the learner's scenario back.
    const restored = saved ? (await putScenario(sessionId, saved, { onWait: setStatus })).ok : false;
    restoreOnLeave = null;
    running = false;
    setRunning(false);
    const seconds = ((performance.now() - started) / 1000).toFixed(1);
    const disagreements = cells.filter(({ cell }) => cell.result && cell.result.agrees === false).length;
    const errors = cells.filter(({ cell }) => cell.result?.error).length;
    const refused = cells.filter(({ cell }) => cell.result?.refused).length;
    const parts = [stopping ? `Stopped after ${done} of ${cells.length} cells (${seconds} s).` : `Done: ${done} cells in ${seconds} s.`];
    if (disagreements) parts.push(`The model disagreed with your browser on ${disagreements} (marked ⚠).`);
    if (errors) parts.push(`${errors} could not run.`);
    if (refused) parts.push(`${refused} not run: ${REFUSED_TEXT}${stopping ? "" : ", even after waiting"}. Press Run to try again.`);
    if (problem) parts.push(problem);
    parts.push(restored ? "Your lab's scenario is back as it was."
      : saved ? "Putting your lab's scenario back failed: check it in the lab."
      : "corslab did not say what your lab's scenario was, so the last cell's stays: check it in the lab.");
    setStatus(parts.join(" "), errors || refused || problem || !restored ? "error" : "");
    if (selected) select(selected.table, selected.key); // now with its lab link
    else details.replaceChildren(el("p", { class: "explain-empty" }, "Click a cell: its exchanges, raw, and the model's explanation appear here."));
  }
}

// The pauses before trying a refused cell again, in seconds. Each try that
// corslab refuses waits longer; after the last, the cell stays "not run".
const REFUSED_PAUSES = [1, 2, 4, 8, 16];

/**
 * One cell, tried again while corslab refuses it (a rate limit): a
 * refused try tells nothing about CORS, so it never stands as the cell's
 * outcome while another try may give a real one.
 */
async function runCellUntilRun(t, cell) {
  await runCell(t, cell);
  for (const pause of REFUSED_PAUSES) {
    if (!cell.result?.refused || stopping) return;
    cell.retryIn = pause;
    showCell(t, cell);
    await new Promise((wake) => setTimeout(wake, pause * 1000));
    cell.retryIn = 0;
    if (stopping) {
      showCell(t, cell);
      return;
    }
    await runCell(t, cell);
  }
}

/** One try of a cell: its scenario, the browser's fetch, the recorded run. */
async function runCell(t, cell) {
  cell.state = "running";
  cell.result = null;
  showCell(t, cell);
  // While corslab refuses an API call for a moment, api.js waits and
  // tries again: say so on the status line.
  const onWait = (text) => setStatus(text, "error");
  const scenario = cellScenario(t, cell.row, cell.col);
  const put = await putScenario(sessionId, scenario, { onWait });
  if (put.refused) {
    cell.result = { refused: put.error };
    showCell(t, cell);
    return;
  }
  if (!put.ok) {
    const fields = Object.entries(put.fieldErrors ?? {}).map(([f, m]) => `${f}: ${m}`);
    cell.result = { error: put.error ?? fields.join("; ") };
    showCell(t, cell);
    return;
  }
  const { request } = scenario;
  const url = SETUPS[t.setup].url();
  runner.use(request.from);
  // The server gives the run every exchange after `since` (and after what
  // earlier runs claimed). The stream may lag behind: the newest exchange
  // when the page was rendered, and our own last run's, are floors.
  const since = Math.max(stream.highestSeq, data.lastSeq, lastClaimed);
  const browser = await runner.run(url, fetchInit(request));
  const recorded = await postRun(sessionId, { request, url, since, browser }, { onWait });
  if (recorded.refused) {
    cell.result = { refused: recorded.error };
    showCell(t, cell);
    return;
  }
  if (!recorded.ok) {
    cell.result = { error: recorded.error };
    showCell(t, cell);
    return;
  }
  const run = recorded.run;
  for (const seq of run.exchanges ?? []) lastClaimed = Math.max(lastClaimed, Number(seq));
  const exchanges = await exchangesOf(run);
  const [refusal] = refusalsOf(run);
  if (refusal) {
    // corslab refused one of the browser's requests: the run has no
    // verdict, and what the browser reported is not the cell's outcome.
    cell.result = { run, exchanges, query: put.query, refused: refusal.reason };
    showCell(t, cell);
    return;
  }
  const verdict = verdictOf(run);
  cell.result = {
    run, exchanges, query: put.query,
    ok: Boolean(run.browser?.ok),
    agrees: verdict ? Boolean(verdict.agrees) : null,
    hop: run.browser?.ok ? "" : failingHop(run, exchanges),
    // Whether the browser sent Origin: null on some hop, pass or fail: the
    // tainted origin is why only some cells work.
    nullOrigin: exchanges.some((e) => headerValue(e.request?.headers, "Origin") === "null"),
  };
  showCell(t, cell);
}

function setRunning(on) {
  runButton.disabled = on || $("conn").dataset.state === "gone";
  stopButton.hidden = !on;
  stopButton.disabled = false;
  for (const select of Object.values(selects)) select.disabled = on;
}

function setStatus(text, tone = "") {
  runStatus.textContent = text;
  runStatus.className = `run-status${tone ? ` ${tone}` : ""}`;
}

runButton.addEventListener("click", runMatrix);
stopButton.addEventListener("click", () => {
  stopping = true;
  stopButton.disabled = true;
  setStatus("Stopping after this cell…");
});

// Leaving in the middle of a run: put the learner's scenario back anyway.
// keepalive lets the request outlive the page.
window.addEventListener("pagehide", () => {
  if (!restoreOnLeave) return;
  fetch(`/api/sessions/${encodeURIComponent(sessionId)}/scenario`, {
    method: "PUT", keepalive: true,
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(restoreOnLeave),
  });
});

// ----- the live stream -----

const stream = new Stream(sessionId, {
  onExchange: (exchange) => seen.set(Number(exchange.seq), exchange),
  onRun: () => {}, // our runs come back from POST /runs
  onState: showConnection,
});
// Nothing older than this page concerns it: start the feed there.
stream.highestSeq = data.lastSeq;

function showConnection(state) {
  const words = { connecting: "connecting…", live: "live", reconnecting: "reconnecting…", gone: "session ended" };
  $("conn").dataset.state = state;
  $("conn-text").textContent = words[state] ?? state;
  if (state === "gone") {
    runButton.disabled = true;
    runStatus.replaceChildren("This session has ended on the server. ",
      el("a", { href: shareURL }, "Start a new session with this matrix"));
  }
}

// ----- copy link -----

const copyButton = $("copy-link");
const copyFallback = $("copy-fallback");
const shareInput = $("share-url");
copyButton.addEventListener("click", async () => {
  // Without the clipboard API, the link is selected in a box (clipboard.js).
  const copied = await copyText(shareURL, { field: shareInput, show: (on) => { copyFallback.hidden = !on; } });
  $("copy-status").textContent = copied ? "Copied" : "Press Ctrl+C to copy the selected link";
  if (copied) confirmCopied(copyButton, "Copy link");
});
shareInput.addEventListener("blur", () => { copyFallback.hidden = true; });
shareInput.addEventListener("keydown", (event) => {
  if (event.key === "Escape") {
    copyFallback.hidden = true;
    copyButton.focus();
  }
});

// ----- start -----

showSettings(); // also drops run=1 from the address bar
drawTables();
runner.use(SETUPS[tables[0]?.setup]?.from ?? "app"); // load the first runner page now
stream.start();
runButton.disabled = false;
if (data.runOnLoad) runMatrix();
