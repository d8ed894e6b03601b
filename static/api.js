// api.js: the lab's calls to corslab's JSON API, on the UI origin.
// Each function returns plain data; errors a learner should see are
// returned as values rather than thrown, so the page can show them inline.

import { REFUSED_TEXT } from "./refused.js";

const base = (sessionId) => `/api/sessions/${encodeURIComponent(sessionId)}`;

// corslab's own refusals of the lab's API calls (a rate limit, 429, or a
// full class, 503) pass: the page waits as long as the answer's
// Retry-After says (1 to 10 s) and tries again, at most this many times
// in all.
const REFUSED_STATUSES = [429, 503];
const MAX_TRIES = 4;

/**
 * Sends a request with send() until corslab stops refusing it, or
 * MAX_TRIES. onWait(text) hears each wait, in words, e.g. for a status
 * line. Resolves to the last Response; send() may throw.
 */
async function sendPatiently(send, onWait) {
  for (let attempt = 1; ; attempt++) {
    const res = await send();
    if (!isRefusal(res) || attempt === MAX_TRIES) return res;
    const seconds = retryAfter(res);
    const why = (await readJSON(res.clone()))?.error ?? res.statusText;
    onWait?.(`${REFUSED_TEXT} (${why}). Trying again in ${seconds} s…`);
    await new Promise((wake) => setTimeout(wake, seconds * 1000));
  }
}

/** Is res corslab refusing a request of the UI's for a moment (429, 503)? */
export function isRefusal(res) {
  return REFUSED_STATUSES.includes(res.status);
}

/** Retry-After in whole seconds, kept from 1 to 10. */
export function retryAfter(res) {
  const seconds = Number.parseInt(res.headers.get("Retry-After") ?? "", 10);
  return Number.isFinite(seconds) ? Math.min(10, Math.max(1, seconds)) : 1;
}

/**
 * Saves the whole scenario. Resolves to one of:
 *   {ok: true, scenario, query}            the server applied it
 *   {ok: false, fieldErrors: {path: msg}}  400 with one message per field
 *   {ok: false, refused: true, error}      corslab kept refusing it (429, 503)
 *   {ok: false, error: "message"}          anything else (bad JSON, 404, network)
 * onWait(text): corslab refused it for now, and the page will try again.
 */
export async function putScenario(sessionId, scenario, { onWait } = {}) {
  let res;
  try {
    res = await sendPatiently(() => fetch(`${base(sessionId)}/scenario`, {
      method: "PUT",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(scenario),
    }), onWait);
  } catch (err) {
    return { ok: false, error: `Could not reach corslab to save the scenario (${err}).` };
  }
  const data = await readJSON(res);
  if (res.ok) return { ok: true, scenario: data?.scenario, query: data?.query ?? "" };
  if (data && data.errors && typeof data.errors === "object") {
    return { ok: false, fieldErrors: data.errors };
  }
  return failure(res, data);
}

/**
 * Records a run: what the page asked for, what its browser saw, the
 * browser's userAgent (the server picks the engine's browser rules from
 * it) and the learner's prediction, if any ({ok, stage} or null).
 * Resolves to {ok: true, run, score} or {ok: false, error} (with refused:
 * true when corslab kept refusing it); score is {right, total}, or null
 * from a server that keeps none. onWait(text): as for putScenario.
 *
 * The run itself may say that corslab refused one of its requests
 * (run.refused, see runOutcome in log.js): then it has no verdict.
 */
export async function postRun(sessionId, { request, url, since, browser, prediction }, { onWait } = {}) {
  // The runner's document id goes beside what the browser saw, not in it.
  const { documentId = "", ...seen } = browser;
  const run = { request, url, since, browser: seen, userAgent: navigator.userAgent, documentId };
  if (prediction) run.prediction = prediction;
  let { res, data, error } = await sendRun(sessionId, run, onWait);
  // A corslab from before the engine refuses fields it does not know, and
  // records nothing: send the run again as it understands it.
  if (res?.status === 400 && /unknown field "(userAgent|prediction|documentId)"/.test(data?.error ?? "")) {
    ({ res, data, error } = await sendRun(sessionId, { request, url, since, browser: seen }, onWait));
  }
  if (error) return { ok: false, error };
  if (res.ok && data) {
    // The answer is the run, carrying the updated score beside its fields
    // (or, should the server wrap them, {run, score}).
    const run = data.run && typeof data.run === "object" ? data.run : data;
    return { ok: true, run, score: data.score ?? null };
  }
  return failure(res, data);
}

async function sendRun(sessionId, body, onWait) {
  try {
    const res = await sendPatiently(() => fetch(`${base(sessionId)}/runs`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body),
    }), onWait);
    return { res, data: await readJSON(res) };
  } catch (err) {
    return { error: `Could not reach corslab to record the run (${err}).` };
  }
}

/** The session document (GET /api/sessions/{id}), or null if it cannot be had. */
export async function getSession(sessionId, { onWait } = {}) {
  try {
    const res = await sendPatiently(() => fetch(base(sessionId)), onWait);
    return res.ok ? await readJSON(res) : null;
  } catch {
    return null;
  }
}

/**
 * The session's exchanges after seq since, oldest first (one page of
 * GET /api/sessions/{id}/exchanges), or [] if they cannot be had.
 */
export async function getExchanges(sessionId, since, { onWait } = {}) {
  try {
    const res = await sendPatiently(() => fetch(`${base(sessionId)}/exchanges?since=${since}`), onWait);
    const list = res.ok ? await readJSON(res) : null;
    return Array.isArray(list) ? list : [];
  } catch {
    return [];
  }
}

/** Resolves to true when the server no longer knows this session (404). */
export async function sessionIsGone(sessionId) {
  try {
    const res = await fetch(`${base(sessionId)}/runs`);
    return res.status === 404;
  } catch {
    return false; // the server is down, which is not the same thing
  }
}

/** The address of the session's HAR download. */
export const harURL = (sessionId) => `${base(sessionId)}/har`;

/**
 * The session's websocket address (same origin as the page). watch: the
 * instructor's read-only view, which neither keeps the session alive nor
 * counts as the learner being online.
 */
export function streamURL(sessionId, since, runsSince, watch = false) {
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  const w = watch ? "&watch=1" : "";
  return `${scheme}//${location.host}${base(sessionId)}/ws?since=${since}&runsSince=${runsSince}${w}`;
}

async function readJSON(res) {
  try {
    return await res.json();
  } catch {
    return null;
  }
}

/** {ok: false, error} for a failed answer; refused: true when corslab refused it. */
function failure(res, data) {
  const detail = data && typeof data.error === "string" ? data.error : res.statusText;
  if (res.status === 404) return { ok: false, error: `This session no longer exists (${detail}). Open a new lab to go on.` };
  if (isRefusal(res)) {
    return { ok: false, refused: true, error: `${REFUSED_TEXT}, ${MAX_TRIES} times in a row (${detail}). Try again in a moment.` };
  }
  return { ok: false, error: `The server answered ${res.status}: ${detail}` };
}
