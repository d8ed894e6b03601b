// lab.js: the lab page's entry point. It wires the parts together:
//
//   form.js          the scenario form; saves every change to the server
//   bucket.js        its editor of the bucket's CORS rules, with their XML (s3cors.js)
//   runner-frame.js  the hidden page on another origin that calls fetch()
//   stream.js        the websocket feed of what the servers saw
//   log.js           the exchange log, grouped by run
//   diagram.js       the sequence diagram of the selected run
//   verdict.js       the model's explanation of a run (run.verdict)
//   predict.js       "Predict: will JS get the response?" and the score
//   curl.js          an exchange as a curl command ("Copy as curl" in the log)
//   signed.js        a signed URL the api handed out, as the next request
//
// Pressing Run: save the scenario, ask the runner to fetch, record the run
// with the learner's prediction (POST /api/sessions/{id}/runs), and show it.

import { el } from "./dom.js";
import { putScenario, postRun, getSession } from "./api.js";
import { ScenarioForm, requestURL, fetchInit, fetchSource, pageComment } from "./form.js";
import { RunnerFrame } from "./runner-frame.js";
import { Stream } from "./stream.js";
import { ExchangeLog, browserOutcome } from "./log.js";
import { drawDiagram } from "./diagram.js";
import { ExplainPane } from "./verdict.js";
import { PredictControl, ScoreView } from "./predict.js";
import { copyText, confirmCopied } from "./clipboard.js";
import { signedFollowUp } from "./signed.js";

const data = JSON.parse(document.getElementById("lab-data").textContent);
const sessionId = data.sessionId;
const urls = {};  // role → origin, e.g. api → "http://127.0.0.1:8082"
const bases = {}; // role → session base, e.g. api → "http://127.0.0.1:8082/k3xq…"
for (const o of data.origins ?? []) {
  urls[o.role] = o.url;
  bases[o.role] = o.base;
}

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
const scoreEl = $("score");
const predict = new PredictControl($("predict"));
let shareURL = data.shareUrl;

// ----- the runner frame -----

const runner = new RunnerFrame($("runner-host"), urls);

// ----- the scenario form -----

const form = new ScenarioForm($("scenario"), {
  scenario: data.scenario,
  origins: urls,
  save: (scenario) => putScenario(sessionId, scenario),
  onChange: (scenario) => {
    showPreview(scenario);
    if (!log.selection()) redraw(); // the empty diagram shows the planned lanes
    if (!running) runner.use(scenario.request.from);
  },
  onSaved: ({ query }) => {
    // The address bar and the share link always describe the saved scenario.
    history.replaceState(null, "", labPath(query));
    shareURL = `${data.uiOrigin}/lab${query ? `?${query}` : ""}`;
    shareInput.value = shareURL;
  },
});

function labPath(query) {
  return `/lab/${encodeURIComponent(sessionId)}${query ? `?${query}` : ""}`;
}

function showPreview(scenario) {
  const { request, setup } = scenario;
  preview.textContent = `${pageComment(scenario, urls)}\n${fetchSource(requestURL(request, bases, setup), fetchInit(request))}`;
}

// ----- the log and the diagram -----

let redrawQueued = false;
function redraw() {
  if (redrawQueued) return;
  redrawQueued = true;
  requestAnimationFrame(() => {
    redrawQueued = false;
    const selection = log.selection();
    const outcome = browserOutcome(selection && !selection.pending ? selection.run.browser : null);
    pane.show(selection, outcome.text);
    const { request, setup } = form.read().scenario;
    drawDiagram(diagramEl, selection, {
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
  followUp: (run) => signedFollowUp(run, bases),
  onFollowUp: followSignedURL,
});
new ResizeObserver(redraw).observe(diagramEl);

// ----- the model's explanation and the score -----

// The pane beside the diagram appears once we know the server explains
// runs: it keeps a score, or a run came with a verdict. A corslab without
// the engine shows nothing extra.
const pane = new ExplainPane(explainEl, { onEnable: redraw });
const score = new ScoreView(scoreEl, {
  load: async () => (await getSession(sessionId))?.score,
  onScore: () => { pane.enable(); predict.enable(); },
});

// ----- copy as curl -----

function curlCopied() {
  $("copy-status").textContent = "Copied the curl command";
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

// ----- the live stream -----

// While our own run is being recorded, runs from the stream wait, so that
// the group already on screen for it becomes that run (no duplicate).
let recording = false;
const heldRuns = [];

const stream = new Stream(sessionId, {
  onExchange: (exchange) => log.addExchange(exchange),
  onRun: (run) => {
    if (recording) heldRuns.push(run);
    else log.addRun(run);
    // A run another tab of this session made may have changed the score.
    if (run.prediction && !ownRuns.has(String(run.id))) score.refresh();
  },
  onState: showConnection,
});

function showConnection(state) {
  const words = { connecting: "connecting…", live: "live", reconnecting: "reconnecting…", gone: "session ended" };
  $("conn").dataset.state = state;
  $("conn-text").textContent = words[state] ?? state;
  if (state === "gone") {
    runButton.disabled = true;
    runStatus.replaceChildren("This session has ended on the server. ",
      el("a", { href: shareURL }, "Start a new session with this scenario"));
  }
}

// ----- running -----

let running = false;
const ownRuns = new Set(); // ids of the runs this page recorded

async function run() {
  if (running || $("conn").dataset.state === "gone") return;
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
    runner.use(request.from);
    const url = requestURL(request, bases, setup);
    // The server gives the run every exchange after this one. Right after
    // the page loads, the stream may not have caught up yet: the newest
    // exchange when the page was rendered is the floor.
    const since = Math.max(stream.highestSeq, data.lastSeq);
    log.startPending({ request, url, since });
    setStatus(runner.ready ? "Running…" : "Waiting for the runner page to load…");
    const outcome = await runner.run(url, fetchInit(request));

    setStatus("Recording the run…");
    recording = true;
    const result = await postRun(sessionId, { request, url, since, browser: outcome, prediction });
    if (result.ok) {
      ownRuns.add(String(result.run.id));
      log.finishPending({ run: result.run });
      score.show(result.score);
      setStatus("");
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
    runner.use(form.read().scenario.request.from);
  }
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

// ----- copy link -----

copyButton.addEventListener("click", async () => {
  await form.flush(); // the link should hold what is on screen, if it is valid
  // Without the clipboard API, the link is selected in a box (clipboard.js).
  const copied = await copyText(shareURL, { field: shareInput, show: (on) => { copyFallback.hidden = !on; } });
  if (copied) {
    $("copy-status").textContent = form.hasErrors() ? "Copied (the last valid scenario)" : "Copied";
    confirmCopied(copyButton, "Copy link");
  } else {
    $("copy-status").textContent = "Press Ctrl+C to copy the selected link";
  }
});
// The fallback box closes when the learner is done with it.
shareInput.addEventListener("blur", () => { copyFallback.hidden = true; });
shareInput.addEventListener("keydown", (event) => {
  if (event.key === "Escape") {
    copyFallback.hidden = true;
    copyButton.focus();
  }
});

// ----- start -----

const initial = form.read().scenario;
showPreview(initial);
runner.use(initial.request.from);
stream.start();
runButton.disabled = false;

// The score: in the page data, or asked for (a server that keeps none
// answers without one, and then no score is shown).
if (data.score) score.show(data.score);
else score.refresh();

if (data.runOnLoad) {
  // A permalink with run=1: run once, as soon as the runner can, and drop
  // run=1 so that reloading the page does not run it again.
  runner.whenReady().then(() => {
    history.replaceState(null, "", labPath(data.query));
    run();
  });
}
