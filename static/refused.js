// refused.js: requests corslab itself turned away.
//
// To keep a class running, corslab limits how many requests one session
// and one address may make (HTTP 429, see README "Run a workshop"). Such
// a refusal is corslab's, not the scenario's servers': the browser's CORS
// check never saw a server's answer, so there is nothing to explain as
// CORS, and a cross-origin fetch that failed on it would look exactly
// like a CORS failure. So the servers note every refusal in the session,
// and the run that claims it comes back with run.refused, no verdict and
// an unscored prediction. The page then says so, instead of any verdict.

import { el } from "./dom.js";

/** The words every page uses for a corslab refusal, so nobody mistakes it for the browser's. */
export const REFUSED_TEXT = "corslab refused this request, not your browser's CORS check";

/** The requests of a run that corslab refused ([{origin, method, target, status, reason}]), or []. */
export function refusalsOf(run) {
  return Array.isArray(run?.refused) ? run.refused : [];
}

/**
 * What the log and the explanation pane show in place of the model's
 * explanation for a run that corslab refused part of; null for any other
 * run. shortTarget shortens a request target for display.
 */
export function refusalNote(run, shortTarget = (target) => target) {
  const refused = refusalsOf(run);
  if (refused.length === 0) return null;
  return el("div", { class: "refused", role: "note" },
    el("p", { class: "refused-title" }, el("span", { "aria-hidden": "true" }, "⊘ "), `${REFUSED_TEXT}.`),
    el("ul", { class: "refused-list" }, refused.map((r) => el("li", {},
      el("span", { class: "mono" }, `${r.status} from ${r.origin}: ${r.method} ${shortTarget(r.target)}`),
      el("span", { class: "refused-reason" }, String(r.reason ?? ""))))),
    el("p", { class: "refused-note" },
      "What the page saw was corslab's refusal, not the scenario's answer: the model does not explain it",
      run.prediction ? ", and your prediction was not scored" : "",
      ". Run it again in a moment."));
}
