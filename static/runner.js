// runner.js: runs inside the hidden "runner" frame that the lab loads from
// another origin (app, evil, the api itself, or a sandboxed frame whose
// origin is opaque, "null").
//
// Because this page, not the lab, calls fetch(), the browser treats the
// request as coming from this page's origin: it sends Origin: <this origin>,
// preflights when needed, and applies CORS to the answer. We then report back
// exactly what JavaScript on this page could observe.
//
// Messages are checked both ways: we obey only our parent window, and only
// when it is the lab's origin; we answer only to that origin.

const root = document.getElementById("runner");
const uiOrigin = root.dataset.uiOrigin;
const MAX_BODY_BYTES = 16 * 1024;

window.addEventListener("message", async (event) => {
  if (event.source !== window.parent || event.origin !== uiOrigin) return;
  const msg = event.data;
  if (!msg || msg.type !== "corslab:run" || typeof msg.id !== "string") return;
  const outcome = await runFetch(String(msg.url), msg.init || {});
  window.parent.postMessage({ type: "corslab:result", id: msg.id, outcome }, uiOrigin);
});

// Tell the lab we are listening.
window.parent.postMessage({ type: "corslab:ready" }, uiOrigin);

/** Calls fetch() and describes what this page could see of the result. */
async function runFetch(url, init) {
  const outcome = {
    ok: false, status: 0, error: "", type: "", redirected: false, url: "",
    headers: [], body: "", bodyTruncated: false, durationMs: 0,
  };
  const started = performance.now();
  try {
    const response = await fetch(url, cleanInit(init));
    outcome.type = response.type;
    // An "opaque" (no-cors) or "opaqueredirect" (redirect: "manual")
    // response resolves, but JS sees status 0, no headers and no body.
    outcome.ok = response.type !== "opaque" && response.type !== "opaqueredirect";
    outcome.status = response.status;
    outcome.redirected = response.redirected;
    outcome.url = response.url;
    // Only the headers CORS lets JS read: the safelisted response headers
    // plus whatever Access-Control-Expose-Headers allowed.
    outcome.headers = [...response.headers];
    try {
      const { text, truncated } = truncate(await response.text());
      outcome.body = text;
      outcome.bodyTruncated = truncated;
    } catch (err) {
      outcome.error = `reading the body failed: ${err}`;
    }
  } catch (err) {
    // fetch() rejects with a TypeError when CORS blocks the response (and
    // on network errors). The message is all JS gets; the details are
    // only in the browser's console.
    outcome.error = String(err);
  }
  outcome.durationMs = Math.round((performance.now() - started) * 100) / 100;
  return outcome;
}

/** Copies only the fetch options the lab may set. */
function cleanInit(init) {
  const out = {};
  for (const key of ["method", "headers", "body", "credentials", "mode", "redirect"]) {
    if (init[key] !== undefined) out[key] = init[key];
  }
  return out;
}

/** Cuts text to at most 16 KiB of UTF-8. */
function truncate(text) {
  const bytes = new TextEncoder().encode(text);
  if (bytes.length <= MAX_BODY_BYTES) return { text, truncated: false };
  const cut = new TextDecoder().decode(bytes.slice(0, MAX_BODY_BYTES));
  return { text: cut, truncated: true };
}
