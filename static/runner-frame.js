// runner-frame.js: the lab's side of the runner protocol.
//
// The lab keeps one hidden iframe, loaded from the origin that should make
// the request (request.from). It asks that frame to call fetch() with
// postMessage and waits for the answer. Both directions are origin-checked:
// we only accept messages from our own iframe's window and from exactly the
// origin we loaded it from, and we address our messages to that origin.
// The frame learns ours from ?ui= (the server checks it): a look-alike
// page lives on another host name than the lab, so it cannot derive it.
// The runner says "corslab:ready" when it listens, and again whenever it
// is sent "corslab:ping": a page that rendered the frame in its HTML (the
// matrix) may only listen once the runner has spoken.
//
// Some pages are frames of app's page, each a different source of origin:
//   sandbox              our iframe, sandbox="allow-scripts": opaque, "null"
//   sandbox-same-origin  our iframe, sandbox="allow-scripts allow-same-origin":
//                        sandboxed, yet app's origin
//   data, srcdoc         app's runner (?frame=), which makes a frame whose
//                        document is a data: URL (opaque) or an <iframe
//                        srcdoc> (app's origin), and passes our messages on.
//                        We talk to app's runner, so to app's origin.

import { nonce } from "./dom.js";

export const RUNNER_TIMEOUT_MS = 15000;
const RUNNER_PATH = "/_corslab/runner";
const APP_FRAMES = new Set(["sandbox", "sandbox-same-origin", "data", "srcdoc"]);

export class RunnerFrame {
  /**
   * @param {HTMLElement} host  where the iframe lives (kept out of sight)
   * @param {Object<string,string>} originURLs  role → origin, e.g. {app: "http://127.0.0.1:8081"}
   */
  constructor(host, originURLs) {
    this.host = host;
    this.originURLs = originURLs;
    this.from = "";
    this.src = ""; // the runner page the frame was loaded from
    this.iframe = null;
    this.expectedOrigin = ""; // what event.origin must be
    this.targetOrigin = "";   // where we send
    this.pending = new Map(); // message id → resolve(outcome)
    this.ready = false;
    this.readyWaiters = [];
    window.addEventListener("message", (event) => this.receive(event));
  }

  /**
   * Makes sure the runner frame is the one for `from` (and, for the
   * look-alike page, for `lookalikeHost`).
   */
  use(from, lookalikeHost = "") {
    const origin = pageOrigin(this.originURLs, from, lookalikeHost);
    const frame = from === "data" || from === "srcdoc" ? `&frame=${from}` : "";
    const src = origin ? `${origin}${RUNNER_PATH}?ui=${encodeURIComponent(location.origin)}${frame}` : "";
    if (from === this.from && src === this.src && (this.iframe || !src)) return;
    this.from = from;
    this.src = src;
    this.iframe?.remove();
    this.iframe = null;
    this.failPending("the page that was running it was replaced");
    this.ready = false;
    if (!src) return; // no such page (a look-alike host being typed): a run times out

    // A page may have rendered this very runner frame with its HTML, so
    // that it loads while the page's own scripts do (the matrix does):
    // take it over rather than load it again.
    const rendered = APP_FRAMES.has(from) ? null : this.renderedFrame(src);
    if (rendered) {
      this.expectedOrigin = origin;
      this.targetOrigin = origin;
      this.iframe = rendered;
      // Its runner may have said it was ready before we listened: ask
      // again. While the frame still holds its first, empty document
      // (ours, so readable) the runner has not run yet, and will say so
      // itself; a message now would be addressed to the wrong origin.
      if (!readable(rendered)) rendered.contentWindow?.postMessage({ type: "corslab:ping" }, origin);
      return;
    }

    const iframe = document.createElement("iframe");
    iframe.title = `corslab runner (${from})`;
    iframe.tabIndex = -1;
    if (from === "sandbox") {
      // A sandboxed frame without allow-same-origin gets an opaque origin:
      // its requests carry Origin: null, and its messages arrive from "null".
      // Such an origin cannot be named, so we have to send with "*".
      iframe.setAttribute("sandbox", "allow-scripts");
      this.expectedOrigin = "null";
      this.targetOrigin = "*";
    } else {
      // With allow-same-origin the frame stays sandboxed but keeps the
      // origin of its URL, app's.
      if (from === "sandbox-same-origin") iframe.setAttribute("sandbox", "allow-scripts allow-same-origin");
      this.expectedOrigin = origin;
      this.targetOrigin = origin;
    }
    iframe.src = src;
    this.iframe = iframe;
    this.host.append(iframe);
  }

  /**
   * Drops the runner page, so that the next use() loads a fresh one: after
   * a script door, the page ran another origin's script, which could have
   * changed it (replaced fetch(), say) for every run after.
   */
  discard() {
    this.iframe?.remove();
    this.iframe = null;
    this.from = "";
    this.src = "";
    this.ready = false;
  }

  /** An iframe of the host, not another RunnerFrame's, already loading src. */
  renderedFrame(src) {
    for (const iframe of this.host.querySelectorAll("iframe[data-runner]")) {
      if (iframe.getAttribute("src") === src && !iframe.hasAttribute("sandbox")) {
        delete iframe.dataset.runner; // ours now
        return iframe;
      }
    }
    return null;
  }

  receive(event) {
    if (!this.iframe || event.source !== this.iframe.contentWindow) return;
    if (event.origin !== this.expectedOrigin) return;
    const msg = event.data;
    if (!msg || typeof msg !== "object") return;
    if (msg.type === "corslab:ready") {
      this.ready = true;
      for (const wake of this.readyWaiters.splice(0)) wake();
    } else if (msg.type === "corslab:result" && this.pending.has(msg.id)) {
      const resolve = this.pending.get(msg.id);
      this.pending.delete(msg.id);
      resolve(msg.outcome);
    }
  }

  /** Resolves once the current runner frame has said it is ready. */
  whenReady() {
    if (this.ready) return Promise.resolve();
    return new Promise((resolve) => this.readyWaiters.push(resolve));
  }

  /**
   * Asks the runner to fetch(url, init), or with door ({via, crossOrigin,
   * withCredentials, enctype}) to go to url another way: an <img>, a
   * <script>, a <form>… (doors.js). Always resolves to an outcome (the
   * "browser" object of a run); if the runner does not answer within 15 s
   * the outcome says so.
   */
  async run(url, init, door = undefined) {
    const frame = this.iframe;
    const id = nonce();
    let timer;
    const timeout = new Promise((resolve) => {
      timer = setTimeout(() => resolve(failure("no answer from the runner within 15 s")), RUNNER_TIMEOUT_MS);
    });
    const answer = (async () => {
      await this.whenReady(); // the 15 s include loading the runner page
      if (this.iframe !== frame) return failure("the page that was running it was replaced");
      const result = new Promise((resolve) => this.pending.set(id, resolve));
      const msg = { type: "corslab:run", id, url, init };
      if (door) msg.door = door;
      frame.contentWindow.postMessage(msg, this.targetOrigin);
      return result;
    })();
    try {
      return await Promise.race([answer, timeout]);
    } finally {
      clearTimeout(timer);
      this.pending.delete(id); // a late answer is ignored
    }
  }

  failPending(reason) {
    for (const resolve of this.pending.values()) resolve(failure(reason));
    this.pending.clear();
  }
}

/**
 * The origin whose runner page the lab frames. The sandboxed frames are
 * served by app, and app's runner makes the data: and srcdoc frames. The
 * look-alike page is the app's origin with another host name (a name under
 * .localhost, which the browser sends to this machine), on the app's port:
 * http://app-corslab.localhost:8081.
 */
export function pageOrigin(originURLs, from, lookalikeHost = "") {
  if (APP_FRAMES.has(from)) return originURLs.app;
  if (from === "lookalike") {
    const u = new URL(originURLs.app);
    u.hostname = lookalikeHost;
    return u.hostname === lookalikeHost && lookalikeHost.endsWith(".localhost") ? u.origin : "";
  }
  return originURLs[from];
}

/** Whether we can read the frame's document: it is still its first, empty one. */
function readable(iframe) {
  try {
    return iframe.contentDocument !== null;
  } catch {
    return false;
  }
}

/** An outcome for a run that never got an answer from the browser. */
function failure(error) {
  return {
    ok: false, status: 0, error, type: "", redirected: false, url: "",
    headers: [], body: "", bodyTruncated: false, durationMs: 0,
  };
}
