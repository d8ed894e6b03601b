// runner.js: runs inside the hidden "runner" frame that the lab loads from
// another origin (app, evil, the api itself, or a sandboxed frame of app's,
// whose origin is opaque, "null", without allow-same-origin, and app's with
// it).
//
// Because this page, not the lab, calls fetch(), the browser treats the
// request as coming from this page's origin: it sends Origin: <this origin>,
// preflights when needed, and applies CORS to the answer. We then report back
// exactly what JavaScript on this page could observe.
//
// Messages are checked both ways: we obey only our parent window, and only
// when it is the lab's origin; we answer only to that origin.
//
// With data-frame, app's runner page does not call fetch() itself: it makes
// a frame of that kind, loads this script in it, and passes the messages on
// (relay). The frame's runner takes orders from this page's origin instead
// of the lab's, checked the same way.
//
// A message may name another "door" than fetch(): an <img>, a <script>, a
// <form>, a WebSocket… (door.via). Those live in doors.js, which this
// script loads the first time one is asked for; its constants (timeouts,
// the stylesheet's and the font's probes) are at its top.

const root = document.getElementById("runner");
const uiOrigin = root.dataset.uiOrigin;
const MAX_BODY_BYTES = 16 * 1024;
// Each message an EventSource or a WebSocket got is cut to this.
const MAX_MESSAGE_BYTES = 1024;
// Names this document among the runner pages, so that the engine can tell
// a reloaded frame from the same one: some browsers keep what they cached
// for an opaque origin per document (the origin itself, not "null").
const DOCUMENT_ID = Math.random().toString(36).slice(2, 12);

if (root.dataset.frame) relay(root.dataset.frame);
else serve();

function serve() {
  window.addEventListener("message", async (event) => {
    if (event.source !== window.parent || event.origin !== uiOrigin) return;
    const msg = event.data;
    if (msg?.type === "corslab:ping") {
      // A page that framed us before it listened asks whether we are.
      window.parent.postMessage({ type: "corslab:ready" }, uiOrigin);
      return;
    }
    if (!msg || msg.type !== "corslab:run" || typeof msg.id !== "string") return;
    const door = msg.door && typeof msg.door === "object" && msg.door.via !== "fetch" ? msg.door : null;
    const outcome = door ? await runDoor(String(msg.url), msg.init || {}, door) : await runFetch(String(msg.url), msg.init || {});
    window.parent.postMessage({ type: "corslab:result", id: msg.id, outcome }, uiOrigin);
  });

  // Tell the lab we are listening.
  window.parent.postMessage({ type: "corslab:ready" }, uiOrigin);
}

/**
 * Makes the frame the learner's fetch() runs in, and passes the lab's
 * messages to it and its answers back. kind is "data" or "srcdoc".
 * html.spec.whatwg.org/#determining-the-origin decides each one's origin.
 */
function relay(kind) {
  const frame = document.createElement("iframe");
  frame.title = `corslab runner (${kind})`;
  const page = framePage(kind, location.origin);
  let frameOrigin; // what event.origin must be
  let frameTarget; // where we send
  if (kind === "data") {
    // A document from a data: URL gets a new opaque origin: its messages
    // come from "null", and it can only be addressed with "*".
    frame.src = `data:text/html;charset=utf-8,${encodeURIComponent(page)}`;
    frameOrigin = "null";
    frameTarget = "*";
  } else {
    // An <iframe srcdoc> document has no URL of its own: it takes the
    // origin of the document that holds the iframe, this page's.
    frame.srcdoc = page;
    frameOrigin = location.origin;
    frameTarget = location.origin;
  }

  window.addEventListener("message", (event) => {
    const msg = event.data;
    if (!msg || typeof msg !== "object") return;
    if (event.source === window.parent && event.origin === uiOrigin) {
      if (msg.type === "corslab:ping") {
        frame.contentWindow?.postMessage({ type: msg.type }, frameTarget);
        return;
      }
      if (msg.type !== "corslab:run" || typeof msg.id !== "string") return;
      frame.contentWindow?.postMessage({ type: msg.type, id: msg.id, url: msg.url, init: msg.init, door: msg.door }, frameTarget);
    } else if (event.source === frame.contentWindow && event.origin === frameOrigin) {
      // The frame's "ready" is ours: the lab may send once it is listening.
      if (msg.type === "corslab:ready") {
        window.parent.postMessage({ type: msg.type }, uiOrigin);
      } else if (msg.type === "corslab:result" && typeof msg.id === "string") {
        window.parent.postMessage({ type: msg.type, id: msg.id, outcome: msg.outcome }, uiOrigin);
      }
    }
  });
  root.append(frame);
}

/**
 * The frame's document: a runner that obeys only `parentOrigin`, with this
 * very script. Its URL is absolute, because a data: document has no base
 * URL to resolve a path against; it is on this page's origin, which the
 * runner's Content-Security-Policy names. Inline script would need that
 * policy to allow it: there is none.
 */
function framePage(kind, parentOrigin) {
  const script = new URL("runner.js", import.meta.url).href;
  return "<!DOCTYPE html>\n" +
    `<html lang="en"><head><meta charset="utf-8"><title>corslab runner · ${escapeHTML(kind)}</title></head>\n` +
    `<body><main id="runner" data-ui-origin="${escapeHTML(parentOrigin)}" data-role="${escapeHTML(kind)}"></main>\n` +
    `<script type="module" src="${escapeHTML(script)}"></script></body></html>\n`;
}

/** Text made safe for HTML, in an attribute value or between tags. */
function escapeHTML(s) {
  return String(s).replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;").replaceAll('"', "&quot;");
}

/** An outcome before anything happened: what the lab reads, every field. */
function newOutcome() {
  return {
    ok: false, status: 0, error: "", type: "", redirected: false, url: "",
    headers: [], body: "", bodyTruncated: false, durationMs: 0, documentId: DOCUMENT_ID,
  };
}

/** Calls fetch() and describes what this page could see of the result. */
async function runFetch(url, init) {
  const outcome = newOutcome();
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

/**
 * Goes through another door than fetch() (doors.js) and describes what
 * this page could see: the outcome's usual fields, and outcome.door.
 */
async function runDoor(url, init, door) {
  const outcome = newOutcome();
  const started = performance.now();
  try {
    const { openDoor } = await import("./doors.js");
    await openDoor(url, init, door, outcome);
  } catch (err) {
    outcome.ok = false;
    outcome.error = `the runner could not open the door: ${err}`;
  }
  // fetch()'s bound on the body, 16 KiB, and 1 KiB for each message (a
  // door keeps at most 16).
  const { text, truncated } = truncate(outcome.body, MAX_BODY_BYTES);
  outcome.body = text;
  outcome.bodyTruncated = truncated;
  if (outcome.door) outcome.door.messages = outcome.door.messages.map((m) => truncate(m, MAX_MESSAGE_BYTES).text);
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

/**
 * Cuts text to at most max bytes of UTF-8 (16 KiB unless told), at the
 * start of a character: a continuation byte is 10xxxxxx.
 */
function truncate(text, max = MAX_BODY_BYTES) {
  const bytes = new TextEncoder().encode(text);
  if (bytes.length <= max) return { text, truncated: false };
  let end = max;
  while (end > 0 && (bytes[end] & 0xc0) === 0x80) end--;
  return { text: new TextDecoder().decode(bytes.subarray(0, end)), truncated: true };
}
