// verdict.js: the model's explanation of a run, in words and nodes.
//
// corslab's engine implements the Fetch standard's CORS algorithm and, for
// every run, predicts what the browser does and says why, step by step
// (run.verdict, see README). The learner's own browser stays the judge:
// when the two disagree we say so loudly.
//
// Step texts come from the server and may mark header names and values
// with `backticks`. They are split on backticks into text and <code> nodes,
// never parsed as HTML. Runs recorded before the engine existed have no
// verdict: every function here then returns null and nothing is shown.
// Nor has a run that corslab itself refused part of (refused.js): the pane
// shows that refusal instead.

import { el } from "./dom.js";
import { refusalsOf, refusalNote } from "./refused.js";

/** The stages where a run can fail, as the engine names them, in words. */
const STAGE_WORDS = {
  request: "before sending: fetch() throws",
  preflight: "at the preflight",
  response: "at the CORS check of the response",
  redirect: "at a redirect",
};

/** Which browser's rules the engine used. */
const BROWSER_NAMES = { chromium: "Chromium", firefox: "Firefox", webkit: "WebKit", safari: "Safari", spec: "the Fetch spec" };

/** "preflight" → "at the preflight"; unknown or "" → "". */
export function stageWords(stage) {
  return STAGE_WORDS[stage] ?? "";
}

/** "firefox" → "Firefox"; anything unknown is shown as sent. */
export function browserName(id) {
  return BROWSER_NAMES[id] ?? String(id ?? "");
}

/** A run's verdict if it has a usable one, else null (old runs, old server). */
export function verdictOf(run) {
  const v = run?.verdict;
  return v && typeof v === "object" && Array.isArray(v.steps) ? v : null;
}

/**
 * Splits "`x-user-id` was `content-type`" into
 * [{code: true, text: "x-user-id"}, {code: false, text: " was "}, …].
 * A backtick left unpaired stays a literal backtick.
 */
export function splitBackticks(text) {
  const parts = String(text ?? "").split("`");
  if (parts.length % 2 === 0) {
    // An odd number of backticks: the last one opens nothing.
    const last = parts.pop();
    parts[parts.length - 1] += "`" + last;
  }
  return parts
    .map((part, i) => ({ code: i % 2 === 1, text: part }))
    .filter((p) => p.text !== "");
}

/** The same text without the backticks, for places that show plain text (SVG, tooltips). */
export function plainText(text) {
  return splitBackticks(text).map((p) => p.text).join("");
}

/** A step's text as DOM nodes: text nodes and <code> elements. */
export function richText(text) {
  return splitBackticks(text).map((p) => (p.code ? el("code", {}, p.text) : p.text));
}

/**
 * The step that explains the failure: the failing step on the failing
 * exchange, else the first failing step. null when nothing failed.
 */
export function failingStep(verdict) {
  if (!verdict || verdict.ok) return null;
  const failed = verdict.steps.filter((s) => s && !s.ok);
  return failed.find((s) => Number(s.seq) === Number(verdict.failedSeq)) ?? failed[0] ?? null;
}

/** The step saying why no OPTIONS was sent (a cached preflight), or null. */
export function cacheStep(verdict) {
  return verdict?.steps.find((s) => s && s.stage === "cache") ?? null;
}

/**
 * Where the diagram should mark the model's failure, given the exchanges it
 * draws (in order):
 *   {index: i, label}   the response of exchanges[i] (verdict.failedSeq)
 *   {index: -1, label}  on the page, before anything was sent
 *   null                the model saw no failure, or it cannot be placed
 *                       (the exchange is not on screen): draw as before
 */
export function failureSpot(verdict, exchanges) {
  if (!verdict || verdict.ok || !verdict.stage) return null;
  const label = plainText(failingStep(verdict)?.text ?? "");
  const seq = Number(verdict.failedSeq ?? 0);
  if (seq > 0) {
    const index = exchanges.findIndex((e) => Number(e.seq) === seq);
    return index >= 0 ? { index, label } : null;
  }
  return verdict.stage === "request" ? { index: -1, label } : null;
}

/** What the model predicts, in words: "JS gets the response" / "blocked at the preflight". */
export function modelOutcome(verdict) {
  if (verdict.ok) return "JS gets the response";
  const where = stageWords(verdict.stage);
  return where ? `blocked ${where}` : "JS does not get the response";
}

/** A learner's prediction ({ok, stage}) in words. */
export function predictionWords(prediction) {
  if (!prediction) return "";
  if (prediction.ok) return "JS gets the response";
  const where = stageWords(prediction.stage);
  return where ? `blocked ${where}` : "blocked (without saying where)";
}

/**
 * The whole explanation of a run, for the log and for the pane beside the
 * diagram. browserText is what the browser did, in words (browserOutcome()
 * in log.js). Returns null for a run without a verdict.
 *   heading: show a small heading naming the rules used (the pane has room)
 */
export function explanation(run, browserText, { heading = false } = {}) {
  const v = verdictOf(run);
  if (!v) return null;
  const rules = browserName(v.browser);
  if (heading) {
    // The pane beside the diagram: every step, in order.
    return el("div", { class: "explanation" },
      el("h3", { class: "explain-title" }, "Why ", el("span", { class: "muted" }, `(the model, ${rules} rules)`)),
      rulesNote(v),
      agreement(v, browserText, rules),
      predictionLine(run.prediction, v),
      stepsList(v),
      exposedLine(v));
  }
  // A run group in the log: the step that decided it, and the rest folded
  // (the pane shows them all for the selected run).
  const key = failingStep(v) ?? v.steps[v.steps.length - 1];
  return el("div", { class: "explanation" },
    agreement(v, browserText, rules),
    predictionLine(run.prediction, v),
    key ? el("div", { class: "key-step" }, stepItem(key, v, "div")) : null,
    v.steps.length > 1
      ? el("details", { class: "why" },
        el("summary", {}, `All ${v.steps.length} steps (the model, ${rules} rules)`),
        stepsList(v), exposedLine(v))
      : null);
}

/**
 * Which engine's rules the model used, and whether corslab's suite checks
 * them against that engine: "Firefox's rules (Gecko), checked against
 * Debian's Firefox ESR. Verified: every case of corslab's suite runs in it."
 */
function rulesNote(v) {
  if (!v.about) return null;
  return el("p", { class: "rules-note muted" }, v.about, " ",
    v.verified
      ? "Verified: corslab's conformance suite runs every case in this engine."
      : "Not verified: corslab's suite does not run in this browser, so the model follows the standard.");
}

/**
 * The model agrees: a quiet check mark. It does not: a banner nobody can
 * miss, with both outcomes, because the learner's browser is the truth and
 * a learner on Firefox or Safari deserves to know where the model is wrong.
 */
function agreement(v, browserText, rules) {
  if (v.agrees) {
    return el("p", { class: "agree" },
      el("span", { "aria-hidden": "true" }, "✓ "), "The model agrees with your browser.");
  }
  return el("div", { class: "disagree", role: "note" },
    el("p", { class: "disagree-title" },
      el("span", { "aria-hidden": "true" }, "⚠ "), "Your browser did something the model didn't predict"),
    el("dl", { class: "both-outcomes" },
      el("dt", {}, "Your browser"), el("dd", {}, browserText),
      el("dt", {}, `The model (${rules} rules)`), el("dd", {}, `${modelOutcome(v)}.`)),
    el("p", { class: "disagree-note" }, "Your browser is what really happened; the steps below are what the model expected."));
}

/** "Your prediction: right ✓ (you said: blocked at the preflight)". */
function predictionLine(prediction, v) {
  if (!prediction || typeof prediction !== "object") return null;
  const right = Boolean(prediction.correct);
  return el("p", { class: `prediction ${right ? "right" : "wrong"}` },
    "Your prediction: ", el("strong", {}, right ? "right ✓" : "wrong ✗"),
    ` (you said: ${predictionWords(prediction)}`,
    right ? ")" : `; what happened: ${v.agrees ? modelOutcome(v) : "see above"})`);
}

/** The engine's steps, in order. */
function stepsList(v) {
  if (v.steps.length === 0) return null;
  return el("ol", { class: "steps" }, v.steps.map((s) => stepItem(s, v)));
}

/** One step: ✓/✗, its text, the exchange it is about, a spec link, the browser's difference. */
function stepItem(step, v, tag = "li") {
  const failed = !step.ok;
  const cls = ["step", failed ? "step-fail" : "step-ok"];
  if (step.stage === "cache") cls.push("step-cache");
  // The traffic differed from what the model predicted here.
  if (step.unexpected) cls.push("step-unexpected");
  if (failed && Number(step.seq) === Number(v.failedSeq)) cls.push("step-failing");
  return el(tag, { class: cls.join(" ") },
    el("span", { class: "step-mark", "aria-hidden": "true" }, failed ? "✗" : "✓"),
    el("span", { class: "visually-hidden" }, failed ? "Fails: " : "Passes: "),
    el("span", { class: "step-body" },
      el("span", { class: "step-text" }, richText(step.text)),
      Number(step.seq) > 0 ? el("span", { class: "step-seq", title: `exchange #${step.seq} in the log` }, ` #${step.seq}`) : null,
      specLink(step.spec),
      step.note ? el("span", { class: "step-note" },
        el("span", { class: "step-note-label" }, "Browser difference: "), richText(step.note)) : null,
      step.unexpected ? el("span", { class: "step-note step-surprise" },
        el("span", { class: "step-note-label" }, "Model surprise: "), "your browser's traffic differed from what the model predicted here.") : null));
}

/** A small link to the spec section, opening in a new tab. Only https links. */
function specLink(href) {
  if (typeof href !== "string" || !href.startsWith("https://")) return null;
  return el("a", { class: "spec-link", href, target: "_blank", rel: "noopener noreferrer", title: href },
    "spec", el("span", { class: "visually-hidden" }, " (opens in a new tab)"));
}

/** The response headers the model says JS can read, when it gets the response. */
function exposedLine(v) {
  if (!v.ok || !Array.isArray(v.exposed)) return null;
  return el("p", { class: "exposed" },
    "Headers JS can read, says the model: ",
    v.exposed.length === 0 ? "none" : v.exposed.flatMap((name, i) => [i ? ", " : "", el("code", {}, String(name))]));
}

/**
 * The pane beside the diagram: the selected run's explanation. It stays
 * hidden until enable() (the server explains runs), and is rebuilt only
 * when the run it shows changes, so streaming exchanges do not reset the
 * learner's scroll position or focus in it.
 */
export class ExplainPane {
  /** onEnable(): the pane just appeared (the diagram lost some width) */
  constructor(node, { onEnable }) {
    this.node = node;
    this.onEnable = onEnable;
    this.enabled = false;
    this.shown = null; // the run on show, or "pending" / "none"
  }

  enable() {
    if (this.enabled) return;
    this.enabled = true;
    this.node.hidden = false;
    this.onEnable();
  }

  /** selection: from ExchangeLog.selection(); browserText: the browser's outcome in words. */
  show(selection, browserText) {
    if (selection && (verdictOf(selection.run) || refusalsOf(selection.run).length > 0)) this.enable();
    if (!this.enabled) return;
    const run = selection && !selection.pending ? selection.run : null;
    const shown = run ?? (selection ? "pending" : "none");
    if (shown === this.shown) return;
    this.shown = shown;
    const say = (text) => el("p", { class: "explain-empty" }, text);
    this.node.replaceChildren(
      !selection ? say("Press Run: the model will explain here, step by step, what the browser should do and why.")
        : !run ? say("Running… the explanation follows the browser's answer.")
        : refusalNote(run) ?? explanation(run, browserText, { heading: true }) ?? say("The model has no explanation for this run."));
    this.node.scrollTop = 0;
    // When the model agrees the run failed, the failing step is the news:
    // bring it into view (a disagreement banner stays on top instead).
    const failing = this.node.querySelector(".step-failing");
    if (failing && verdictOf(run)?.agrees) {
      const offset = failing.getBoundingClientRect().top - this.node.getBoundingClientRect().top;
      if (offset + failing.offsetHeight > this.node.clientHeight) this.node.scrollTop = offset - 8;
    }
  }
}
