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
//   1. the cell's scenario is set: the api's CORS headers (the row), the
//      bucket's CORS rules (the column)
//   2. the hidden runner frame, on the page's origin, calls fetch()
//   3. what the browser saw is recorded as a run: the server answers with
//      it, the exchanges it caused and the model's verdict
//
// The cells follow one another (the session has one scenario at a time),
// and nothing waits that a bare page making the same fetches would not
// wait for. Such a page sets a cell's scenario (PUT /scenario), makes the
// fetch, and goes on to the next cell. So does the matrix: between two
// fetches it sends corslab one request, a step (POST /step), which records
// the fetch just made (3) and sets the next cell's scenario (1); the next
// fetch goes as soon as the step is answered, and the cell just tried is
// drawn as the rest of the answer arrives. One runner frame per origin
// serves all its cells, those frames come with the page's HTML, the page
// is redrawn in batches during a run, not once a cell, and the live feed
// (the websocket) of a run on load connects once the run is over.
// BenchmarkMatrixFill times the matrix against such a bare page.
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
import { getSession, isRefusal, retryAfter } from "./api.js";
import { RunnerFrame } from "./runner-frame.js";
import { Stream } from "./stream.js";
import { verdictOf, stageWords } from "./verdict.js";
import { copyText, confirmCopied } from "./clipboard.js";
import { REFUSED_TEXT, refusalsOf } from "./refused.js";

// The modules that only the details pane needs (log.js, diagram.js) and
// form.js, the lab's fetch() options, are the biggest: they load beside
// the page rather than before it starts. The first cell needs form.js
// only once its scenario is set; a click on a cell, the other two.
const form = import("./form.js");
let details$ = null;
const detailsModules = () => (details$ ??= Promise.all([import("./log.js"), import("./diagram.js")]));

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
let tablesFresh = false; // drawn and never run: a run may use them as they are

function drawTables() {
  tablesFresh = true;
  tables = tablesWanted().map(({ setup, credentials }) => newTable(setup, credentials));
  $("matrices").replaceChildren(...tables.map((t) => t.el));
  for (const t of tables) runnerFor(SETUPS[t.setup].from); // load their runner pages now
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

// While the matrix runs, a cell changes every few milliseconds. Drawn as
// they change, each change is a frame for the browser to render, on the
// very thread that runs the runner frames (they share our process), so the
// next cell's fetch() waits for it. During a run, the cells and the status
// line are drawn at most every REDRAW_MS instead, and once more at the end:
// a few frames rather than one a cell, and the same table in the end. (On
// a busy 2-core machine a frame of this page takes 10 to 25 ms, and a
// 12-cell matrix 300 to 600: at one frame every 100 ms, they made a tenth
// of its time. A 12-cell matrix is now mostly drawn once, when it is done;
// the 108 cells of every setup show their progress twice a second.)
const REDRAW_MS = 500;
const redraw = { batching: false, cells: new Map(), status: null, timer: 0 };

/** Starts or stops drawing in batches; stopping draws what is waiting. */
function batchDrawing(on) {
  redraw.batching = on;
  if (!on) drawWaiting();
}

function drawWaiting() {
  clearTimeout(redraw.timer);
  redraw.timer = 0;
  for (const [cell, t] of redraw.cells) drawCell(t, cell);
  redraw.cells.clear();
  if (redraw.status) drawStatus(...redraw.status);
  redraw.status = null;
}

function drawSoon() {
  if (!redraw.timer) redraw.timer = setTimeout(drawWaiting, REDRAW_MS);
}

/** Shows a cell as it is now: at once, or with the next batch during a run. */
function showCell(t, cell) {
  if (!redraw.batching) {
    drawCell(t, cell);
    return;
  }
  redraw.cells.set(cell, t);
  drawSoon();
}

/** A cell's face: what the browser did, where it failed, and any flags. */
function drawCell(t, cell) {
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

async function select(t, key) {
  const cell = t.cells.get(key);
  if (!cell?.result?.run) return;
  const chosen = selected = { table: t, key };
  for (const other of tables) {
    for (const [k, c] of other.cells) c.button.setAttribute("aria-pressed", String(other === t && k === key));
  }
  const [{ ExchangeLog, runOutcome }, { drawDiagram }] = await detailsModules();
  if (selected !== chosen) return; // another cell was clicked meanwhile
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

/** A header's value in an exchange's [name, value] list, or null. */
function headerValue(headers, name) {
  const n = name.toLowerCase();
  const found = (headers ?? []).find(([k]) => String(k).toLowerCase() === n);
  return found ? String(found[1]) : null;
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

// One runner frame per origin the cells run from, kept for all its cells.
// The page's HTML already holds the ones its settings need (matrix.templ),
// so that they load while this module does: RunnerFrame takes them over.
const runners = new Map(); // from → RunnerFrame

function runnerFor(from) {
  let runner = runners.get(from);
  if (!runner) {
    runner = new RunnerFrame($("runner-host"), urls);
    runner.use(from);
    runners.set(from, runner);
  }
  return runner;
}

let running = false;
let stopping = false;
let restoreOnLeave = null; // the learner's scenario, while the matrix has replaced it
// The session's scenario as the page was rendered. A run on load puts it
// back without asking corslab again; any later run asks, since the lab
// may have changed it since.
let renderedScenario = data.runOnLoad ? data.scenario ?? null : null;

async function runMatrix() {
  if (running || $("conn").dataset.state === "gone") return;
  running = true;
  stopping = false;
  setRunning(true);
  if (!tablesFresh) drawTables(); // fresh tables, each compared with the last one kept
  tablesFresh = false;
  selected = null;
  details.replaceChildren(el("p", { class: "explain-empty" }, "Running… click a cell once it has run to see its exchanges and the model's explanation."));
  const cells = tables.flatMap((t) => [...t.cells.values()].map((cell) => ({ t, cell })));
  for (const { t, cell } of cells) { cell.state = "queued"; showCell(t, cell); }
  const started = performance.now();
  let problem = "";
  // 1. Remember the learner's scenario: each cell replaces it.
  let saved = renderedScenario;
  renderedScenario = null;
  if (!saved) {
    setStatus("Remembering your lab's scenario…");
    saved = (await getSession(sessionId, { onWait: setStatus }))?.scenario ?? null;
  }
  restoreOnLeave = saved;
  batchDrawing(true);
  try {
    await runCells(cells);
  } catch (err) {
    problem = String(err);
  } finally {
    batchDrawing(false); // the last cells, at once
    detailsModules().catch(() => {}); // for the first click on a cell
    const done = cells.filter(({ cell }) => cell.result).length;
    for (const { t, cell } of cells) {
      if (!cell.result) { cell.state = "idle"; showCell(t, cell); }
    }
    // 3. Put the learner's scenario back.
    const restored = saved ? (await step({ scenario: saved })).ok : false;
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

// The pauses before trying refused cells again, in seconds. Each round
// that corslab refuses waits longer; after the last, the cells stay "not
// run".
const REFUSED_PAUSES = [1, 2, 4, 8, 16];

/**
 * 2. Every cell, one after the other, then again those whose try corslab
 * refused (a rate limit: a refused try tells nothing about CORS, so it
 * never stands as the cell's outcome while another try may give a real
 * one), after a pause.
 */
async function runCells(cells) {
  let tries = await runInTurn(cells);
  for (const pause of REFUSED_PAUSES) {
    if (stopping || tries.length === 0) break;
    for (const { t, cell } of tries) { cell.retryIn = pause; showCell(t, cell); }
    await new Promise((wake) => setTimeout(wake, pause * 1000));
    for (const { t, cell } of tries) { cell.retryIn = 0; showCell(t, cell); }
    if (stopping) break;
    tries = await runInTurn(tries);
  }
  batchDrawing(false); // every cell as it ended, at once; then the rest
  for (const t of tables) keepIfDone(t, true);
}

/**
 * Runs cells in turn, and resolves to those corslab refused. The session
 * has one scenario at a time, so each cell needs its own set before its
 * fetch; a page making these fetches by hand would do just that, and the
 * matrix waits for nothing more: one request to corslab between two
 * fetches (a step, POST /step), which records the try just made, with
 * the exchanges it caused and the model's verdict, and sets the next
 * cell's scenario. The next fetch goes as soon as the step's answer
 * begins; the cell just tried shows its outcome as the rest arrives,
 * once corslab has said whether it refused one of its requests.
 */
async function runInTurn(list) {
  const refused = [];
  const shown = []; // the tries being shown
  let made = null;  // the try just made, for the next step to record
  for (const [i, { t, cell }] of list.entries()) {
    if (stopping) break;
    setStatus(`Running cell ${i + 1} of ${list.length}: ${SETUPS[t.setup].title}, ${t.credentials}, ${cell.row.label} × bucket ${cell.col.label}…`);
    const scenario = cellScenario(t, cell.row, cell.col);
    const sent = await step({ made, scenario });
    if (made) shown.push(showTry(made, sent.answer, refused));
    made = null;
    if (!sent.ok) {
      // The scenario was not set: the cell cannot run now.
      const answer = await sent.answer;
      cell.result = answer.refused ? { refused: answer.refused } : { error: answer.error };
      if (answer.refused) refused.push({ t, cell });
      showCell(t, cell);
      continue;
    }
    cell.state = "running";
    cell.result = null;
    showCell(t, cell);
    const { request } = scenario;
    const url = SETUPS[t.setup].url();
    const { fetchInit } = await form;
    const browser = await runnerFor(request.from).run(url, fetchInit(request));
    made = { t, cell, set: sent.answer, request, url, browser };
  }
  if (made) shown.push(showTry(made, (await step({ made })).answer, refused));
  await Promise.all(shown);
  return refused;
}

/**
 * A cell's face once its try is recorded (or was not): the browser's
 * outcome, where it failed and whether the model agrees; or "not run"
 * when corslab refused one of its requests (then it goes in refused, to
 * be tried again). set is the answer of the step that set its scenario.
 */
async function showTry({ t, cell, set }, recorded, refused) {
  const answer = await recorded;
  const run = answer.run;
  if (!run) {
    cell.result = answer.refused ? { refused: answer.refused } : { error: answer.error ?? "corslab did not record the run" };
    if (answer.refused) refused.push({ t, cell });
    showCell(t, cell);
    return;
  }
  const query = (await set).query ?? "";
  const exchanges = answer.exchanges ?? [];
  const [refusal] = refusalsOf(run);
  if (refusal) {
    // corslab refused one of the browser's requests: the run has no
    // verdict, and what the browser reported is not the cell's outcome.
    cell.result = { run, exchanges, query, refused: refusal.reason };
    refused.push({ t, cell });
    showCell(t, cell);
    return;
  }
  const verdict = verdictOf(run);
  cell.result = {
    run, exchanges, query,
    ok: Boolean(run.browser?.ok),
    agrees: verdict ? Boolean(verdict.agrees) : null,
    hop: run.browser?.ok ? "" : failingHop(run, exchanges),
    // Whether the browser sent Origin: null on some hop, pass or fail: the
    // tainted origin is why only some cells work.
    nullOrigin: exchanges.some((e) => headerValue(e.request?.headers, "Origin") === "null"),
  };
  showCell(t, cell);
  // Not before the next cell's fetch, nor the last cells' faces.
  setTimeout(() => keepIfDone(t, false));
}

/**
 * A table whose cells all show their outcome is compared with last time,
 * then kept. At the end of a run (over), one whose cells all ran, some
 * refused or broken, is compared too (saveLast keeps only whole tables).
 */
function keepIfDone(t, over) {
  const cells = [...t.cells.values()];
  if (t.kept || !cells.every((c) => c.result && (over || !c.result.refused))) return;
  t.kept = true;
  drawLast(t);
  saveLast(t);
}

// How many times a step is sent while corslab refuses it, as api.js does.
const MAX_TRIES = 4;

/**
 * One step (POST /api/sessions/{id}/step, handle_step.go): records the
 * try just made, if any, then sets the next scenario, if any. Resolves
 * as soon as corslab's answer begins (as a bare page goes on once its PUT
 * of a scenario is answered, without reading the answer), to
 *   ok      true when corslab did both: the next fetch may go
 *   answer  a promise of what corslab answered: {run, exchanges,
 *           scenario, query, lastSeq}, with refused (corslab kept
 *           refusing the step) or error (in words) when not ok
 */
async function step({ made = null, scenario = null }) {
  const body = {};
  if (made) {
    // The runner's document id goes beside what the browser saw, not in it.
    const { documentId = "", ...seen } = made.browser;
    // The run claims the exchanges after the newest one when its scenario
    // was set: its fetch's.
    const since = (await made.set).lastSeq ?? data.lastSeq;
    body.run = { request: made.request, url: made.url, since, browser: seen, userAgent: navigator.userAgent, documentId };
  }
  if (scenario) body.scenario = scenario;
  for (let attempt = 1; ; attempt++) {
    let res;
    try {
      res = await fetch(`/api/sessions/${encodeURIComponent(sessionId)}/step`, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify(body),
      });
    } catch (err) {
      return { ok: false, answer: Promise.resolve({ error: `Could not reach corslab (${err}).` }) };
    }
    if (isRefusal(res)) {
      // While corslab refuses it for a moment (429, 503), wait as long as
      // Retry-After says and try again, as api.js does.
      const why = (await res.json().catch(() => null))?.error ?? res.statusText;
      if (attempt === MAX_TRIES) return { ok: false, answer: Promise.resolve({ refused: why }) };
      const seconds = retryAfter(res);
      setStatus(`${REFUSED_TEXT} (${why}). Trying again in ${seconds} s…`, "error");
      await new Promise((wake) => setTimeout(wake, seconds * 1000));
      continue;
    }
    const answer = res.json().catch(() => null).then((got) => {
      if (res.ok) return got ?? {};
      const fields = Object.entries(got?.errors ?? {}).map(([f, m]) => `${f}: ${m}`).join("; ");
      return { ...got, error: got?.error ?? (fields || `${res.status} ${res.statusText}`) };
    });
    return { ok: res.ok, answer };
  }
}

function setRunning(on) {
  runButton.disabled = on || $("conn").dataset.state === "gone";
  stopButton.hidden = !on;
  stopButton.disabled = false;
  for (const select of Object.values(selects)) select.disabled = on;
}

function setStatus(text, tone = "") {
  if (!redraw.batching) {
    drawStatus(text, tone);
    return;
  }
  redraw.status = [text, tone];
  drawSoon();
}

function drawStatus(text, tone) {
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
  onExchange: () => {}, // a cell's exchanges come with its step's answer
  onRun: () => {}, // and so does its run
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
runButton.disabled = false;
// A run on load goes first, and the live feed connects once it is over:
// the steps bring the cells all they need, and a page making these fetches
// by hand would have no websocket to open and read meanwhile.
if (data.runOnLoad) runMatrix().finally(() => stream.start());
else stream.start();
