// api.js: the lab's calls to corslab's JSON API, on the UI origin.
// Each function returns plain data; errors a learner should see are
// returned as values rather than thrown, so the page can show them inline.

const base = (sessionId) => `/api/sessions/${encodeURIComponent(sessionId)}`;

/**
 * Saves the whole scenario. Resolves to one of:
 *   {ok: true, scenario, query}            the server applied it
 *   {ok: false, fieldErrors: {path: msg}}  400 with one message per field
 *   {ok: false, error: "message"}          anything else (bad JSON, 404, network)
 */
export async function putScenario(sessionId, scenario) {
  let res;
  try {
    res = await fetch(`${base(sessionId)}/scenario`, {
      method: "PUT",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(scenario),
    });
  } catch (err) {
    return { ok: false, error: `Could not reach corslab to save the scenario (${err}).` };
  }
  const data = await readJSON(res);
  if (res.ok) return { ok: true, scenario: data?.scenario, query: data?.query ?? "" };
  if (data && data.errors && typeof data.errors === "object") {
    return { ok: false, fieldErrors: data.errors };
  }
  return { ok: false, error: describeFailure(res, data) };
}

/**
 * Records a run: what the page asked for, what its browser saw, the
 * browser's userAgent (the server picks the engine's browser rules from
 * it) and the learner's prediction, if any ({ok, stage} or null).
 * Resolves to {ok: true, run, score} or {ok: false, error}; score is
 * {right, total}, or null from a server that keeps none.
 */
export async function postRun(sessionId, { request, url, since, browser, prediction }) {
  const run = { request, url, since, browser, userAgent: navigator.userAgent };
  if (prediction) run.prediction = prediction;
  let { res, data, error } = await sendRun(sessionId, run);
  // A corslab from before the engine refuses fields it does not know, and
  // records nothing: send the run again as it understands it.
  if (res?.status === 400 && /unknown field "(userAgent|prediction)"/.test(data?.error ?? "")) {
    ({ res, data, error } = await sendRun(sessionId, { request, url, since, browser }));
  }
  if (error) return { ok: false, error };
  if (res.ok && data) {
    // The answer is the run, carrying the updated score beside its fields
    // (or, should the server wrap them, {run, score}).
    const run = data.run && typeof data.run === "object" ? data.run : data;
    return { ok: true, run, score: data.score ?? null };
  }
  return { ok: false, error: describeFailure(res, data) };
}

async function sendRun(sessionId, body) {
  try {
    const res = await fetch(`${base(sessionId)}/runs`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body),
    });
    return { res, data: await readJSON(res) };
  } catch (err) {
    return { error: `Could not reach corslab to record the run (${err}).` };
  }
}

/** The session document (GET /api/sessions/{id}), or null if it cannot be had. */
export async function getSession(sessionId) {
  try {
    const res = await fetch(base(sessionId));
    return res.ok ? await readJSON(res) : null;
  } catch {
    return null;
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

function describeFailure(res, data) {
  const detail = data && typeof data.error === "string" ? data.error : res.statusText;
  if (res.status === 404) return `This session no longer exists (${detail}). Open a new lab to go on.`;
  return `The server answered ${res.status}: ${detail}`;
}
