// lab.js: the lab page's entry point. It wires the parts together:
//
//   form.js          the scenario form; saves every change to the server
//   bucket.js        its editor of the bucket's CORS rules, with their XML (s3cors.js)
//   runner-frame.js  the hidden page on another origin that makes the
//                    request: fetch(), or another door (request.via)
//   stream.js        the websocket feed of what the servers saw
//   log.js           the exchange log, grouped by run
//   frames.js        a WebSocket's frames, under its handshake in the log
//   diagram.js       the sequence diagram of the selected run
//   verdict.js       the model's explanation of a run (run.verdict)
//   predict.js       "Predict: will JS get the response?" and the score
//   refused.js       a request corslab itself refused (its rate limits):
//                    said instead of any verdict
//   curl.js          a run's request or an exchange as a curl command, or a
//                    websocat one for a WebSocket (the log's copy buttons)
//   layout.js        skip links, the form's jump strip, the Why and "All in
//                    full" toggles
//   announce.js      the live region: each run's verdict, in a sentence
//   signed.js        a signed URL the api handed out, as the next request
//   lesson.js        on a lesson page: its goals, hints and progress
//   workshop.js      in a class: the learner's name for the instructor,
//                    and the instructor's "everyone, open lesson X"
//
// lesson.js and workshop.js are imported only by the pages that use them
// (see "parts for some pages" below).
//
// Pressing Run: save the scenario, ask the runner to fetch, record the run
// with the learner's prediction (POST /api/sessions/{id}/runs), and show it.
//
// The same script drives the plain lab (/lab/{id}), a lesson page
// (/lessons/{slug}/{id}: data.lesson is set) and a lesson's embed view
// (/embed/{slug}/{id}: data.embed too, with no header, diagram or
// explanation pane, so those parts are optional here).
//
// With data.readOnly it is the instructor's view of a learner's page
// (/teach/learners/{id}): it follows the session's stream, and the
// scenario the learner saves, with every control disabled, no Run and no
// runner frame.

import { el } from "./dom.js";
import { putScenario, postRun, getSession } from "./api.js";
import { ScenarioForm, requestURL, fetchInit, requestSource, pageComment, loadDoorView, needsDoorView } from "./form.js";
import { RunnerFrame } from "./runner-frame.js";
import { Stream } from "./stream.js";
import { ExchangeLog, browserOutcome, runOutcome } from "./log.js";
import { drawDiagram } from "./diagram.js";
import { ExplainPane } from "./verdict.js";
import { PredictControl, ScoreView } from "./predict.js";
import { REFUSED_TEXT, refusalsOf } from "./refused.js";
import { copyText, confirmCopied } from "./clipboard.js";
import { signedFollowUp } from "./signed.js";
import { wireSkipLinks, wireGoalsToggle, JumpStrip, WhyToggle } from "./layout.js";
import { announce } from "./announce.js";
import { verdictOf, stageWords } from "./verdict.js";

const data = JSON.parse(document.getElementById("lab-data").textContent);
const sessionId = data.sessionId;
const lesson = data.lesson ?? null; // views.LessonView on a lesson page
const readOnly = Boolean(data.readOnly);
const urls = {};  // role → origin, e.g. api → "http://127.0.0.1:8082"
const bases = {}; // role → session base, e.g. api → "http://127.0.0.1:8082/k3xq…"
for (const o of data.origins ?? []) {
  urls[o.role] = o.url;
  bases[o.role] = o.base;
}

// ----- parts for some pages -----

// Two parts of the page are for some pages only, and only those load them:
// a first visit to the plain lab downloads some 13 KB less.
//
//   lesson.js    a lesson page (with progress.js and embed-cookies.js,
//                which it imports)
//   workshop.js  a class: the instructor's dashboard is on (data.workshop),
//                and it is the one source of announcements
//
// A page that needs them names them in <link rel="modulepreload">
// (views/lab.templ): they arrive with the other modules, so these awaits
// cost nothing, and everything below runs as it would with static imports.
const { LessonGoals, Hints, iframeSnippet } = lesson ? await import("./lesson.js") : {};
const { NicknameField, AnnouncementBanner } = data.workshop ? await import("./workshop.js") : {};

const $ = (id) => document.getElementById(id);
const runButton = $("run");
const runStatus = $("run-status");
const preview = $("fetch-preview");
const diagramEl = $("diagram");
const caption = $("diagram-caption");
const copyButton = $("copy-link");
const copyFallback = $("copy-fallback");
const shareInput = $("share-url");
const explainEl = $("explain");
const diagramText = $("diagram-text");
const scoreEl = $("score");
const predict = new PredictControl($("predict"));
let shareURL = data.shareUrl;
let embedURL = lesson?.embedUrl ?? "";

/**
 * Where this page and its links point for a saved scenario's query (the
 * changes from the default scenario, or on a lesson from the lesson's
 * start). The address bar keeps the session; a shared link opens a new one.
 */
function addresses(query) {
  const q = query ? `?${query}` : "";
  const page = (data.pagePath || `/lab/${encodeURIComponent(sessionId)}`) + q;
  if (!lesson) {
    return { page, share: `${data.uiOrigin}/lab${q}` };
  }
  const slug = encodeURIComponent(lesson.slug);
  return {
    page,
    share: `${data.uiOrigin}/lessons/${slug}${q}`,
    embed: `${data.uiOrigin}/embed/${slug}${q}`,
    // The embed view's "Open in corslab": the full page, same session.
    lab: `${data.uiOrigin}/lessons/${slug}/${encodeURIComponent(sessionId)}${q}`,
  };
}

// ----- the runner frame -----

// None in the read-only view: it never runs anything.
const runner = readOnly ? null : new RunnerFrame($("runner-host"), urls);

// ----- the scenario form -----

const form = new ScenarioForm($("scenario"), {
  scenario: data.scenario,
  origins: urls,
  // corslab may refuse a save for a moment (its rate limits): api.js
  // tries again, and the status line says why it waits.
  save: (scenario) => putScenario(sessionId, scenario, { onWait: (text) => setStatus(text, "error") }),
  readOnly,
  onChange: (scenario) => {
    showPreview(scenario);
    if (!log.selection()) redraw(); // the empty diagram shows the planned lanes
    if (!running) runner?.use(scenario.request.from, scenario.request.lookalikeHost);
  },
  onSaved: ({ query }) => {
    showSaved(query);
    // A save that had to wait for corslab (onWait above) is through.
    if (!running && runStatus.textContent.startsWith(REFUSED_TEXT)) setStatus("");
  },
});

/**
 * The address bar and the links always describe the saved scenario. (The
 * read-only view keeps its own address: the instructor's.)
 */
function showSaved(query) {
  const to = addresses(query);
  if (!readOnly) history.replaceState(null, "", to.page);
  shareURL = to.share;
  if (shareInput) shareInput.value = shareURL;
  if (lesson) {
    embedURL = to.embed;
    const open = $("open-in-corslab");
    if (open) open.href = to.lab;
  }
}

function showPreview(scenario) {
  const { request, setup } = scenario;
  const source = requestSource(requestURL(request, bases, setup), request);
  if (source === null) {
    // Another door's code: door-view.js's, once it is here.
    loadDoorView().then(() => showPreview(form.read().scenario));
    return;
  }
  preview.textContent = `${pageComment(scenario, urls)}\n${source}`;
}

// ----- the log and the diagram -----

let redrawQueued = false;
function redraw() {
  if (redrawQueued) return;
  redrawQueued = true;
  requestAnimationFrame(() => {
    redrawQueued = false;
    const selection = log.selection();
    const outcome = selection && !selection.pending ? runOutcome(selection.run) : browserOutcome(null);
    pane?.show(selection, outcome.text);
    if (!diagramEl) return; // the embed view draws no diagram
    const { request, setup } = form.read().scenario;
    drawDiagram(diagramEl, selection, {
      describe: diagramText,
      originURLs: urls,
      shortTarget: (t) => log.shortTarget(t),
      outcome,
      // Drawn before the first run: the lanes of what the form asks for.
      request,
      url: requestURL(request, bases, setup),
    });
    if (!selection) {
      caption.textContent = "Press Run to see what crosses the wire.";
      caption.className = "diagram-caption";
      caption.title = "";
      return;
    }
    const r = selection.run;
    const name = selection.pending ? "Running" : /^\d+$/.test(selection.key) ? `Run #${selection.key}` : "Run";
    const what = `${r.request?.method ?? ""} ${r.request?.path ?? ""}`;
    caption.textContent = selection.pending ? `${name} ${what}…` : `${name}, ${what}: ${outcome.text}`;
    caption.className = `diagram-caption tone-${outcome.tone}`;
    caption.title = caption.textContent; // the line may be cut short on screen
  });
}

const log = new ExchangeLog($("log"), {
  sessionId, originURLs: urls, onSelect: redraw, onUpdate: redraw, onCurlCopied: curlCopied,
  followUp: readOnly ? null : (run) => signedFollowUp(run, bases),
  onFollowUp: followSignedURL,
});
if (diagramEl) new ResizeObserver(redraw).observe(diagramEl);
// The projector's text size (textsize.js) changes what fits in the diagram.
document.addEventListener("corslab:textsize", redraw);

// ----- the model's explanation and the score -----

// The pane beside the diagram appears once we know the server explains
// runs: it keeps a score, or a run came with a verdict. A corslab without
// the engine shows nothing extra.
// Where the column is narrow, the pane takes the diagram's place on
// request (layout.js).
const why = $("why-toggle") ? new WhyToggle($("why-toggle"), $("diagram-row"), explainEl) : null;
const pane = explainEl ? new ExplainPane(explainEl, { onEnable: () => { why?.sync(); redraw(); } }) : null;
const score = new ScoreView(scoreEl, {
  load: async () => (await getSession(sessionId))?.score,
  onScore: () => { pane?.enable(); predict.enable(); },
});

// ----- copy as curl -----

function curlCopied() {
  const status = $("copy-status");
  if (status) status.textContent = "Copied the curl command";
  // Once per page: what curl's answer does and does not prove.
  const hint = $("curl-hint");
  if (!hint.dataset.shown) {
    hint.dataset.shown = "yes";
    hint.hidden = false;
  }
}
$("curl-hint-close").addEventListener("click", () => {
  $("curl-hint").hidden = true;
  $("log").focus();
});

// ----- following a signed URL -----

// A run read a signed URL of the bucket ("Fetch this signed URL" in the
// log): the form now asks for it, and the learner presses Run. Waiting
// longer than api.signedUrlExpires first shows S3's "Request has expired".
function followSignedURL(next) {
  form.useSignedURL(next);
  const verb = next.method === "PUT" ? "upload to" : "fetch";
  setStatus(`The form now asks s3 to ${next.method} the signed URL. Press Run to ${verb} it.`);
  runButton.focus();
}

// ----- the workshop -----

// In a class, the instructor's announcement shows on every page but their
// own read-only view, and the header asks for the learner's name.
const banner = data.workshop && !readOnly
  ? new AnnouncementBanner({ lesson: lesson?.slug ?? "", embed: Boolean(data.embed) })
  : null;
const topbar = document.querySelector(".topbar"); // the embed view has none
if (data.workshop && !readOnly && topbar) new NicknameField(topbar, sessionId);

// ----- the live stream -----

// While our own run is being recorded, runs from the stream wait, so that
// the group already on screen for it becomes that run (no duplicate).
let recording = false;
const heldRuns = [];

const stream = new Stream(sessionId, {
  watch: readOnly,
  onExchange: (exchange) => {
    log.addExchange(exchange);
    goals?.refresh(); // a goal may be about an exchange
  },
  onFrame: (frame) => log.addFrame(frame),
  onRun: (run) => {
    if (recording) heldRuns.push(run);
    else log.addRun(run);
    goals?.refresh();
    // A run another tab of this session made may have changed the score.
    if (run.prediction && !ownRuns.has(String(run.id))) score.refresh();
  },
  onState: showConnection,
  onMessage: (msg) => {
    if (msg.type === "announce") banner?.show(msg);
    // corslab refused requests over this session's rate limit: say why,
    // since the browser only reports a failed fetch.
    if (msg.type === "notice" && !readOnly) runStatus.textContent = msg.text;
    // Only the read-only view follows saves: on the learner's own page,
    // the form is the author, and a frame is its own save coming back.
    if (msg.type === "scenario" && readOnly && msg.scenario) {
      form.set(msg.scenario);
      showSaved(msg.query ?? "");
    }
  },
});

function showConnection(state) {
  const words = { connecting: "connecting…", live: "live", reconnecting: "reconnecting…", gone: "session ended" };
  $("conn").dataset.state = state;
  $("conn-text").textContent = words[state] ?? state;
  if (state === "gone") {
    runButton.disabled = true;
    // In the embed view, the new session stays in the iframe.
    runStatus.replaceChildren("This session has ended on the server. ",
      el("a", { href: data.embed ? embedURL : shareURL }, "Start a new session with this scenario"));
  }
}

// ----- running -----

let running = false;
const ownRuns = new Set(); // ids of the runs this page recorded

async function run() {
  if (readOnly || running || $("conn").dataset.state === "gone") return;
  running = true;
  runButton.disabled = true;
  const prediction = predict.value();
  predict.setDisabled(true);
  setStatus("Saving the scenario…");
  try {
    if (!(await form.flush())) {
      setStatus("Fix the highlighted fields first: the server still has the previous scenario.", "error");
      return;
    }
    const { request, setup } = form.read().scenario;
    runner.use(request.from, request.lookalikeHost);
    const url = requestURL(request, bases, setup);
    // door-view.js: the runner's door settings, and what the log shows.
    const door = needsDoorView(request) ? (await loadDoorView()).runDoor(request) : undefined;
    // The server gives the run every exchange after this one. Right after
    // the page loads, the stream may not have caught up yet: the newest
    // exchange when the page was rendered is the floor.
    const since = Math.max(stream.highestSeq, data.lastSeq);
    log.startPending({ request, url, since });
    setStatus(runner.ready ? "Running…" : "Waiting for the runner page to load…");
    const outcome = await runner.run(url, fetchInit(request), door);
    if (door?.via === "script") runner.discard();

    setStatus("Recording the run…");
    recording = true;
    const result = await postRun(sessionId, { request, url, since, browser: outcome, prediction },
      { onWait: (text) => setStatus(text, "error") });
    if (result.ok) {
      ownRuns.add(String(result.run.id));
      log.finishPending({ run: result.run });
      announce(runSentence(result.run));
      score.show(result.score);
      // corslab refused one of the run's requests: the run has no verdict
      // and its prediction was not scored (refused.js).
      const [refused] = refusalsOf(result.run);
      if (refused) setStatus(`${REFUSED_TEXT}: ${refused.reason} Run it again in a moment.`, "error");
      else setStatus("");
      goals?.refresh(); // the run is recorded: the server can check it
    } else {
      log.finishPending({ outcome, note: result.error });
      setStatus(result.error, "error");
    }
  } finally {
    recording = false;
    for (const held of heldRuns.splice(0)) log.addRun(held);
    running = false;
    runButton.disabled = $("conn").dataset.state === "gone";
    predict.clear(); // each prediction is for one run
    predict.setDisabled(false);
    const { from, lookalikeHost } = form.read().scenario.request;
    runner.use(from, lookalikeHost);
  }
}

/**
 * A recorded run in one sentence, for the live region: what the browser
 * did (runOutcome() in log.js) and, when it was blocked and the model
 * agrees, where:
 *   "Run 3: JS read the response, 200 OK"
 *   "Run 4: blocked by CORS at the preflight"
 */
function runSentence(run) {
  const name = run?.id ? `Run ${run.id}` : "Run";
  const outcome = runOutcome(run);
  const model = verdictOf(run);
  const stage = model?.agrees && !model.ok ? model.stage : "";
  if (outcome.tone === "ok") return `${name}: ${outcome.text.replace(/^JS read the response: /, "JS read the response, ")}`;
  if (outcome.tone === "blocked" && stage === "request" && !needsDoorView(run.request)) return `${name}: fetch() threw before sending anything`;
  if (outcome.tone === "blocked" && stageWords(stage)) return `${name}: blocked by CORS ${stageWords(stage)}`;
  return `${name}: ${outcome.text}`;
}

function setStatus(text, tone = "") {
  runStatus.textContent = text;
  runStatus.className = `run-status${tone ? ` ${tone}` : ""}`;
}

runButton.addEventListener("click", run);
document.addEventListener("keydown", (event) => {
  if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
    event.preventDefault();
    run();
  }
});

// ----- copy link, copy iframe -----

/**
 * A copy button: text() is what it copies, once the form is saved (the
 * link should hold what is on screen, if it is valid). Without the
 * clipboard API the text is selected in the fallback box (clipboard.js),
 * which closes when the learner is done with it.
 */
function copyButtonFor(button, fallback, field, what, text) {
  if (!button) return; // the embed view copies nothing
  const label = button.textContent;
  button.addEventListener("click", async () => {
    await form.flush();
    const copied = await copyText(text(), { field, show: (on) => { fallback.hidden = !on; } });
    if (copied) {
      $("copy-status").textContent = form.hasErrors() ? `Copied the ${what} (of the last valid scenario)` : `Copied the ${what}`;
      confirmCopied(button, label);
    } else {
      $("copy-status").textContent = `Press Ctrl+C to copy the selected ${what}`;
    }
  });
  field.addEventListener("blur", () => { fallback.hidden = true; });
  field.addEventListener("keydown", (event) => {
    if (event.key === "Escape") {
      fallback.hidden = true;
      button.focus();
    }
  });
}

copyButtonFor(copyButton, copyFallback, shareInput, "link", () => shareURL);
// On a lesson page: the embed view as an iframe, ready to paste into docs.
copyButtonFor($("copy-iframe"), $("embed-fallback"), $("embed-code"), "iframe",
  () => iframeSnippet(embedURL, lesson.title));

// ----- the lesson -----

// Its goals, checked by the server on this session's traffic; its hints;
// the form narrowed to the settings it is about.
const goals = lesson && $("goals")
  ? new LessonGoals($("goals"), {
    slug: lesson.slug,
    goalsUrl: lesson.goalsUrl,
    counters: [$("goal-count"), $("goal-progress")],
    done: $("lesson-done"),
    // Said beside Run, where the learner is looking (and read out).
    onMet: (words) => { if (!running) setStatus(words, "met"); },
    onShowRun: (runId) => log.select(String(runId)),
    remember: !readOnly,
  })
  : null;
if (lesson) {
  if ($("hint-list")) new Hints($("hint-list"), $("next-hint"));
  form.focusOn({ show: lesson.show ?? [], lock: lesson.lock ?? [] });
  const showAll = $("show-all");
  showAll?.addEventListener("click", () => {
    const on = showAll.getAttribute("aria-pressed") !== "true";
    showAll.setAttribute("aria-pressed", String(on));
    showAll.textContent = on ? "Show only this lesson's settings" : "Show all settings";
    form.showAll(on);
    jump?.refresh();
  });
}

// ----- getting around the page -----

wireSkipLinks();
wireGoalsToggle($("goals-full"));
// The form's groups, one click each (after the lesson hid some).
const jump = $("jump") ? new JumpStrip($("jump"), $("scenario").closest(".scenario-panel")) : null;

// ----- start -----

const initial = form.read().scenario;
showPreview(initial);
runner?.use(initial.request.from, initial.request.lookalikeHost);
stream.start();
goals?.start();
if (readOnly) {
  // Nothing here acts on the learner's session.
  for (const part of [runButton, $("predict"), document.querySelector(".runbar .shortcut")]) {
    if (part) part.hidden = true;
  }
} else {
  runButton.disabled = false;
  // Predict mode (lessons): the guess is offered from the start, and Run
  // still works without one.
  if (data.predict) predict.invite();
}

// The score: in the page data, or asked for (a server that keeps none
// answers without one, and then no score is shown).
if (data.score) score.show(data.score);
else score.refresh();

if (data.runOnLoad && !readOnly) {
  // A permalink with run=1: run once, as soon as the runner can, and drop
  // run=1 so that reloading the page does not run it again.
  runner.whenReady().then(() => {
    history.replaceState(null, "", addresses(data.query).page);
    run();
  });
}
