// doors.js: the other ways a page reaches another origin, besides fetch().
//
// runner.js loads this module the first time the lab asks for a door other
// than fetch(), and calls openDoor(). Each door below is one small function
// that does what a real page would do, here, in this page, so the browser
// applies its real rules: it sends what it always sends for that door, and
// lets the page see only what that door lets a page see. The function
// writes that down in outcome.door, and says in outcome.ok whether the
// door did what the page wanted.
//
// What each door lets a page observe, in short:
//
//   xhr          like fetch(): status, headers and body, if CORS allows
//   img          the image shows (width, height) whatever CORS says; its
//   img+canvas   pixels are readable from a canvas only with crossorigin
//                and a CORS answer, or the canvas is "tainted"
//   script       the script runs whatever CORS says; its errors' messages
//                are muted ("Script error.") unless crossorigin and CORS
//   stylesheet   the sheet applies whatever CORS says; its rules
//                (sheet.cssRules) are readable only with crossorigin and CORS
//   font         a web font is always fetched in CORS mode: no CORS, no font
//   eventsource  CORS, like fetch(): no CORS answer, no messages
//   websocket    no CORS at all: the server alone decides, from Origin
//   form         no CORS: the browser sends it, and the page sees nothing
//                of the answer (only that its target frame loaded)
//   beacon       a POST the page never reads (no-cors, unless its type needs
//                a preflight): it only learns whether the browser queued it

// Every door settles within this time, well within the lab's 15 s
// (RUNNER_TIMEOUT_MS in runner-frame.js).
const DOOR_TIMEOUT_MS = 6000;

// The stylesheet's probe: an element of this class is this wide once the
// api's style.css applied (playground/origins/doors.go, StyleProbeClass).
const STYLE_PROBE_CLASS = "corslab-door-probe";
const STYLE_PROBE_WIDTH = "123px";

// The font's probe: the api's font.ttf draws "X" 3 em wide, so "X" at
// 16px measures 48px in that font, and about 10px in the fallback,
// monospace (playground/origins/font.go, FontAdvanceRatio).
const FONT_PROBE_TEXT = "X";
const FONT_PROBE_SIZE_PX = 16;
const FONT_PROBE_WIDTH_PX = 48;

// After an EventSource fails, how long the runner waits for the server to
// end the stream the browser refused (see eventSourceDoor).
const STREAM_SETTLE_MS = 250;
// EventSource: the runner closes the stream after this many messages, on
// its first error, or after EVENTSOURCE_MS. An EventSource reconnects by
// itself when a stream ends; a page that wants no more must close it.
const EVENTSOURCE_MESSAGES = 3;
const EVENTSOURCE_MS = 5000;

// WebSocket: once open, the runner listens this long, then closes the
// socket itself (code 1000), and gives up waiting after WEBSOCKET_MS.
const WEBSOCKET_LISTEN_MS = 1000;
const WEBSOCKET_MS = 5000;

// sendBeacon() returns before the beacon has left: the runner waits up to
// this long for the browser to list it in Resource Timing, so that the
// request is in the lab's log before the run is.
const BEACON_WAIT_MS = 1000;

// The most messages a door keeps (runner.js cuts each to 1 KiB).
const MAX_MESSAGES = 16;

/** The doors, by the lab's name for them (door.via). */
const DOORS = {
  xhr: xhrDoor,
  img: (url, init, door, outcome) => imageDoor(url, door, outcome, false),
  "img+canvas": (url, init, door, outcome) => imageDoor(url, door, outcome, true),
  script: scriptDoor,
  stylesheet: stylesheetDoor,
  font: fontDoor,
  eventsource: eventSourceDoor,
  websocket: webSocketDoor,
  form: formDoor,
  beacon: beaconDoor,
};

/**
 * Goes through door.via to url, and fills in outcome (runner.js made it,
 * with fetch()'s fields) and outcome.door.
 */
export async function openDoor(url, init, door, outcome) {
  const via = String(door.via);
  outcome.door = {
    via, event: "", width: 0, height: 0, canvas: "", scriptError: "", rules: "",
    applied: false, messages: [], closeCode: 0,
  };
  if (!Object.hasOwn(DOORS, via)) {
    outcome.error = `no such door: ${via}`;
    return;
  }
  try {
    await DOORS[via](url, init, door, outcome);
  } catch (err) {
    // Something the page itself did threw: an invalid URL or header
    // name, a method a form cannot use, sendBeacon's TypeError.
    outcome.ok = false;
    outcome.error = describe(err);
  }
}

// ----- XMLHttpRequest -----

/**
 * XMLHttpRequest: fetch()'s elder, with the same CORS rules. Credentials go
 * only with withCredentials; an error gives the page no reason at all.
 * xhr.spec.whatwg.org/#the-send()-method
 */
function xhrDoor(url, init, door, outcome) {
  const xhr = new XMLHttpRequest();
  xhr.open(init.method || "GET", url);
  for (const [name, value] of headerPairs(init.headers)) xhr.setRequestHeader(name, value);
  xhr.withCredentials = door.withCredentials === true;
  xhr.timeout = DOOR_TIMEOUT_MS;
  const d = outcome.door;
  return new Promise((resolve) => {
    xhr.onload = () => {
      d.event = "load";
      outcome.ok = true;
      outcome.status = xhr.status;
      outcome.url = xhr.responseURL;
      outcome.redirected = xhr.responseURL !== "" && xhr.responseURL !== new URL(url, location.href).href.split("#")[0];
      // Only the headers CORS lets JS read, as with fetch().
      outcome.headers = parseHeaders(xhr.getAllResponseHeaders());
      outcome.body = xhr.responseText; // runner.js cuts it to 16 KiB
    };
    xhr.onerror = () => {
      d.event = "error";
      outcome.error = "the XHR's error event fired: a network error or a CORS failure (the page is not told which)";
    };
    xhr.ontimeout = () => {
      d.event = "timeout";
      outcome.error = `no answer within ${DOOR_TIMEOUT_MS / 1000} s`;
    };
    xhr.onloadend = () => resolve();
    // A GET or HEAD sends no body, whatever send() is given.
    xhr.send(init.body ?? null);
  });
}

/** getAllResponseHeaders()'s lines as lower-case [name, value] pairs. */
function parseHeaders(text) {
  const pairs = [];
  for (const line of text.split("\r\n")) {
    const colon = line.indexOf(":");
    if (colon > 0) pairs.push([line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim()]);
  }
  return pairs;
}

// ----- <img>, and a canvas -----

/**
 * <img>: a page may show any image from anywhere, so without crossorigin
 * the browser asks in no-cors mode and the image loads whatever CORS
 * says. Its pixels are another matter: drawn on a canvas, an image CORS
 * did not vouch for "taints" it, and getImageData() throws a
 * SecurityError. With crossorigin the request is a CORS request: no CORS
 * answer, no image at all (the error event).
 * html.spec.whatwg.org/#cors-settings-attributes
 * html.spec.whatwg.org/#security-with-canvas-elements
 */
async function imageDoor(url, door, outcome, canvas) {
  const d = outcome.door;
  const img = new Image(); // never added to the page: it loads all the same
  setCrossOrigin(img, door.crossOrigin);
  const seen = firstEvent(img, ["load", "error"], DOOR_TIMEOUT_MS);
  img.src = url;
  d.event = await seen;
  if (d.event !== "load") {
    img.removeAttribute("src"); // stops a load still under way
    outcome.error = d.event === "error"
      ? "the image's error event fired (a network error, an answer that is not an image, or with crossorigin a failed CORS check: the page is not told which)"
      : `the image did not load within ${DOOR_TIMEOUT_MS / 1000} s`;
    return;
  }
  d.width = img.naturalWidth;
  d.height = img.naturalHeight;
  if (!canvas) {
    outcome.ok = true;
    return;
  }
  d.canvas = readPixels(img);
  outcome.ok = d.canvas === "readable";
  if (!outcome.ok) outcome.error = "SecurityError: getImageData() refused: the image tainted the canvas (no crossorigin, or no CORS answer)";
}

/** Draws img on a canvas and says whether the page may read its pixels. */
function readPixels(img) {
  const canvas = document.createElement("canvas");
  canvas.width = 1;
  canvas.height = 1;
  const ctx = canvas.getContext("2d");
  ctx.drawImage(img, 0, 0);
  try {
    ctx.getImageData(0, 0, 1, 1);
    return "readable";
  } catch (err) {
    if (err?.name === "SecurityError") return "tainted";
    throw err;
  }
}

// ----- <script> -----

/**
 * <script src>: a page may run a script from anywhere (without
 * crossorigin, in no-cors mode), so it runs whatever CORS says. What the
 * page may not see is the script's errors: the browser "mutes" them, and
 * window's error event says only "Script error.". With crossorigin the
 * request is a CORS request: no CORS answer, no script. (Firefox departs
 * from this: it does not mute an error thrown by such a script.)
 * html.spec.whatwg.org/#muted-errors
 * html.spec.whatwg.org/#cors-settings-attributes
 */
async function scriptDoor(url, init, door, outcome) {
  const d = outcome.door;
  const script = document.createElement("script");
  setCrossOrigin(script, door.crossOrigin);
  script.src = url;
  // What window's error event reports while the script runs. (The
  // element's own error event, a failed load, does not bubble to window.)
  const onError = (event) => {
    if (event instanceof ErrorEvent && d.scriptError === "") d.scriptError = String(event.message);
  };
  window.addEventListener("error", onError);
  const seen = firstEvent(script, ["load", "error"], DOOR_TIMEOUT_MS);
  document.head.append(script);
  try {
    d.event = await seen;
  } finally {
    window.removeEventListener("error", onError);
    script.remove(); // it ran already: removing it undoes nothing it did
  }
  outcome.ok = d.event === "load";
  if (d.event === "error") outcome.error = "the script's error event fired (a network error, a type that is not JavaScript, or with crossorigin a failed CORS check: the page is not told which)";
  if (d.event === "timeout") outcome.error = `the script did not load within ${DOOR_TIMEOUT_MS / 1000} s`;
}

// ----- <link rel=stylesheet> -----

/**
 * <link rel=stylesheet>: a cross-origin stylesheet applies whatever CORS
 * says (it only needs to be served as text/css), but its rules are
 * readable from script (sheet.cssRules) only with crossorigin and a CORS
 * answer; otherwise reading them throws a SecurityError. With crossorigin
 * and no CORS answer, the sheet does not load at all.
 * html.spec.whatwg.org/#link-type-stylesheet
 * drafts.csswg.org/cssom/#dom-cssstylesheet-cssrules
 */
async function stylesheetDoor(url, init, door, outcome) {
  const d = outcome.door;
  const link = document.createElement("link");
  link.rel = "stylesheet";
  setCrossOrigin(link, door.crossOrigin);
  link.href = url;
  const seen = firstEvent(link, ["load", "error"], DOOR_TIMEOUT_MS);
  document.head.append(link);
  try {
    d.event = await seen;
    if (d.event === "load") {
      d.rules = readRules(link.sheet);
      d.applied = probeWidth() === STYLE_PROBE_WIDTH;
    }
  } finally {
    link.remove();
  }
  outcome.ok = d.event === "load";
  if (d.event === "error") outcome.error = "the stylesheet's error event fired (a network error, a type that is not text/css, or with crossorigin a failed CORS check: the page is not told which)";
  if (d.event === "timeout") outcome.error = `the stylesheet did not load within ${DOOR_TIMEOUT_MS / 1000} s`;
}

/** "readable" if the page may read the sheet's rules, "blocked" if not. */
function readRules(sheet) {
  if (!sheet) return "";
  try {
    void sheet.cssRules;
    return "readable";
  } catch (err) {
    if (err?.name === "SecurityError") return "blocked";
    throw err;
  }
}

/** The width an element of the probe class gets from the page's styles. */
function probeWidth() {
  const probe = document.createElement("div");
  probe.className = STYLE_PROBE_CLASS;
  document.body.append(probe);
  const width = getComputedStyle(probe).width;
  probe.remove();
  return width;
}

// ----- @font-face -----

/**
 * @font-face: web fonts are always fetched in CORS mode, without
 * credentials: a font from another origin needs a CORS answer, or the
 * browser falls back to the next family, and the page sees it only in
 * how its text measures.
 * (WebKit departs from this: it fetches a font in no-cors mode, and uses
 * it whatever the answer's CORS headers say.)
 * The rule is a real @font-face rule, in a constructed stylesheet
 * (document.adoptedStyleSheets), which CSP does not count as inline
 * style. Each run names a new family, so a face cached by an earlier run
 * cannot answer for this one.
 * drafts.csswg.org/css-fonts-4/#font-fetching-requirements
 * drafts.csswg.org/css-font-loading/#dom-fontfaceset-load
 */
async function fontDoor(url, init, door, outcome) {
  const d = outcome.door;
  const family = `corslab-door-${Math.random().toString(36).slice(2, 10)}`;
  const sheet = new CSSStyleSheet();
  sheet.replaceSync(`@font-face { font-family: "${family}"; src: url("${cssString(new URL(url, location.href).href)}"); }`);
  document.adoptedStyleSheets = [...document.adoptedStyleSheets, sheet];
  const span = document.createElement("span");
  span.textContent = FONT_PROBE_TEXT;
  span.style.position = "absolute";
  span.style.whiteSpace = "pre";
  span.style.font = `${FONT_PROBE_SIZE_PX}px "${family}", monospace`;
  document.body.append(span);
  try {
    const font = `${FONT_PROBE_SIZE_PX}px "${family}"`;
    // load() rejects, or resolves without the face, when the face failed.
    const loading = document.fonts.load(font, FONT_PROBE_TEXT).then(
      (faces) => (faces.length > 0 ? "load" : "error"),
      () => "error",
    );
    d.event = await withTimeout(loading, DOOR_TIMEOUT_MS, "timeout");
    d.applied = Math.abs(span.getBoundingClientRect().width - FONT_PROBE_WIDTH_PX) < 1;
  } finally {
    span.remove();
    document.adoptedStyleSheets = document.adoptedStyleSheets.filter((s) => s !== sheet);
  }
  outcome.ok = d.applied;
  if (d.event === "error") outcome.error = "the font failed to load (a network error, no CORS answer, or a file the browser's font checker refused: the page is not told which)";
  else if (d.event === "timeout") outcome.error = `the font did not load within ${DOOR_TIMEOUT_MS / 1000} s`;
  else if (!d.applied) outcome.error = `the font loaded, but "${FONT_PROBE_TEXT}" does not measure ${FONT_PROBE_WIDTH_PX}px in it`;
}

/** s as the inside of a CSS string in double quotes. */
function cssString(s) {
  return s.replace(/["\\\n\r\f]/g, (c) => `\\${c.charCodeAt(0).toString(16)} `);
}

// ----- EventSource -----

/**
 * EventSource (Server-Sent Events): a CORS request, in "same-origin"
 * credentials mode unless withCredentials. Without a CORS answer the
 * page gets an error event and no message.
 * html.spec.whatwg.org/#dom-eventsource
 */
function eventSourceDoor(url, init, door, outcome) {
  const d = outcome.door;
  const source = new EventSource(url, { withCredentials: door.withCredentials === true });
  return new Promise((resolve) => {
    const finish = (event) => {
      clearTimeout(timer);
      source.close();
      d.event = event;
      resolve();
    };
    const timer = setTimeout(() => finish("closed"), EVENTSOURCE_MS);
    source.onopen = () => {
      d.event = "open";
    };
    source.onmessage = (event) => {
      if (d.messages.length < MAX_MESSAGES) d.messages.push(String(event.data));
      if (d.messages.length >= EVENTSOURCE_MESSAGES) finish("closed");
    };
    // On a CORS failure the EventSource is closed for good; when a stream
    // ends it would reconnect: either way, the runner stops here. After a
    // failure it waits a moment before it reports: the server is still
    // writing the stream the browser refused, and corslab records its
    // exchange only when that ends, which the run must include.
    source.onerror = () => {
      if (d.messages.length > 0) finish("error");
      else setTimeout(() => finish("error"), STREAM_SETTLE_MS);
    };
  }).then(() => {
    outcome.ok = d.messages.length > 0;
    if (!outcome.ok) {
      outcome.error = d.event === "error"
        ? "the EventSource's error event fired before any message (a network error, no CORS answer, or a type that is not text/event-stream: the page is not told which)"
        : `no message within ${EVENTSOURCE_MS / 1000} s`;
    }
  });
}

// ----- WebSocket -----

/**
 * WebSocket: no CORS at all. The browser sends Origin with the opening
 * handshake, and only the server decides, from it, whether to answer 101.
 * A refused handshake looks to the page like any network error: an error
 * event, then a close event with code 1006.
 * Once open, the runner sends init.body as one text message, if there is
 * one, listens a moment, and closes the socket.
 * websockets.spec.whatwg.org/#dom-websocket-websocket
 * www.rfc-editor.org/rfc/rfc6455#section-4.1 (the opening handshake)
 */
function webSocketDoor(url, init, door, outcome) {
  const d = outcome.door;
  const wsURL = new URL(url, location.href);
  if (wsURL.protocol === "http:") wsURL.protocol = "ws:";
  if (wsURL.protocol === "https:") wsURL.protocol = "wss:";
  const socket = new WebSocket(wsURL.href);
  return new Promise((resolve) => {
    const giveUp = setTimeout(() => {
      socket.close(1000);
      setTimeout(resolve, DOOR_TIMEOUT_MS - WEBSOCKET_MS); // the close event, or not
    }, WEBSOCKET_MS);
    socket.onopen = () => {
      d.event = "open";
      outcome.ok = true;
      if (typeof init.body === "string" && init.body !== "") socket.send(init.body);
      setTimeout(() => socket.close(1000), WEBSOCKET_LISTEN_MS);
    };
    socket.onmessage = (event) => {
      if (typeof event.data === "string" && d.messages.length < MAX_MESSAGES) d.messages.push(event.data);
    };
    socket.onerror = () => {
      d.event = "error";
    };
    socket.onclose = (event) => {
      clearTimeout(giveUp);
      d.event = "closed";
      d.closeCode = event.code;
      resolve();
    };
  }).then(() => {
    if (!outcome.ok) {
      outcome.error = d.closeCode === 1006
        ? "the WebSocket's error event fired, then it closed with code 1006: the handshake failed (a refused Origin, an answer other than 101, or a network error: the page is not told which)"
        : `the WebSocket did not open (last event: ${d.event || "none"})`;
    }
  });
}

// ----- <form> -----

/**
 * <form>: the oldest door, with no CORS at all. The browser sends the
 * form's fields, with cookies, as a navigation of the form's target; the
 * page sees nothing of the answer, which lands in that frame, another
 * origin's document. The runner targets a hidden frame of its own, so
 * that this page never navigates away, and reports only whether that
 * frame loaded. (A 204 or 205 answer does not navigate the frame, so it
 * never loads. A sandboxed page without allow-forms sends nothing at
 * all, and the browser says so only in its console.)
 * The body's name=value&… pairs become the form's fields; a GET form puts
 * them in the URL's query, in place of the one url has.
 * html.spec.whatwg.org/#form-submission-algorithm
 */
async function formDoor(url, init, door, outcome) {
  const d = outcome.door;
  const method = String(init.method || "GET").toUpperCase();
  if (method !== "GET" && method !== "POST") throw new TypeError(`a form sends only GET or POST; got ${method}`);
  const name = `corslab-door-target-${Math.random().toString(36).slice(2, 10)}`;
  const frame = document.createElement("iframe");
  frame.name = name;
  frame.title = "corslab form target";
  frame.hidden = true;
  const form = document.createElement("form");
  form.hidden = true;
  form.action = url;
  form.method = method;
  if (door.enctype) form.enctype = door.enctype;
  form.target = name;
  for (const [field, value] of new URLSearchParams(typeof init.body === "string" ? init.body : "")) {
    const input = document.createElement("input");
    input.type = "hidden";
    input.name = field;
    input.value = value;
    form.append(input);
  }
  document.body.append(frame, form);
  try {
    // The frame's first document, about:blank, may fire a load event of
    // its own: only a load once it holds another document counts.
    const loaded = new Promise((resolve) => {
      frame.addEventListener("load", () => {
        if (leftBlank(frame)) resolve("load");
      });
    });
    form.submit(); // fires no submit event, as a script's submit() does not
    d.event = await withTimeout(loaded, DOOR_TIMEOUT_MS, "timeout");
  } finally {
    form.remove();
    frame.remove();
  }
  outcome.ok = d.event === "load";
  if (!outcome.ok) {
    outcome.error = `the form's target frame did not load within ${DOOR_TIMEOUT_MS / 1000} s ` +
      "(an answer of 204 or 205 leaves it where it was; a sandboxed page without allow-forms submits nothing)";
  }
}

/** Whether the frame holds another document than its first about:blank. */
function leftBlank(frame) {
  try {
    return frame.contentWindow.location.href !== "about:blank";
  } catch {
    return true; // another origin's document: we may not read its address
  }
}

// ----- navigator.sendBeacon() -----

/**
 * navigator.sendBeacon(): a POST the page never reads, which the browser
 * sends, with cookies, even after the page has gone. A body of a
 * CORS-safelisted type (text/plain, a form) goes in no-cors mode: there
 * is nothing to check, since no one reads the answer. Any other type (a
 * Blob of type application/json, say) makes it a CORS request, so a
 * preflight goes first, and if that fails the POST is never sent. Either
 * way the page learns only whether the browser queued it.
 * Without a Content-Type header the body goes as a string (text/plain);
 * with one, as a Blob of that type.
 * w3c.github.io/beacon/#sendbeacon-method
 */
async function beaconDoor(url, init, door, outcome) {
  const d = outcome.door;
  let data = init.body ?? null;
  const type = headerValue(init.headers, "content-type");
  if (data !== null && type !== undefined) data = new Blob([String(data)], { type });
  const gone = resourceTimed(new URL(url, location.href).href, BEACON_WAIT_MS);
  const queued = navigator.sendBeacon(url, data);
  d.event = queued ? "queued" : "not-queued";
  outcome.ok = queued;
  if (!queued) outcome.error = "sendBeacon() returned false: the browser did not queue it (too large a body, or too many beacons in flight)";
  return gone;
}

/**
 * Resolves once the browser lists a request for url in Resource Timing
 * (done, whatever its answer), or after ms: a failed preflight, say, may
 * leave no entry. Start it before the request.
 * w3c.github.io/resource-timing/
 */
function resourceTimed(url, ms) {
  return new Promise((resolve) => {
    const done = () => {
      observer.disconnect();
      clearTimeout(timer);
      resolve();
    };
    const observer = new PerformanceObserver((list) => {
      if (list.getEntries().some((entry) => entry.name === url)) done();
    });
    const timer = setTimeout(done, ms);
    observer.observe({ type: "resource" });
  });
}

// ----- helpers -----

/** Sets the crossorigin attribute, unless value is "none" (or unknown). */
function setCrossOrigin(el, value) {
  if (value === "anonymous" || value === "use-credentials") el.crossOrigin = value;
}

/**
 * Resolves with the type of the first of events that target fires, or
 * "timeout" after ms. Listen before starting what fires them.
 */
function firstEvent(target, events, ms) {
  return new Promise((resolve) => {
    const done = (type) => {
      clearTimeout(timer);
      for (const e of events) target.removeEventListener(e, listener);
      resolve(type);
    };
    const listener = (event) => done(event.type);
    const timer = setTimeout(() => done("timeout"), ms);
    for (const e of events) target.addEventListener(e, listener);
  });
}

/** promise's value, or fallback if it takes longer than ms. */
function withTimeout(promise, ms, fallback) {
  let timer;
  const late = new Promise((resolve) => {
    timer = setTimeout(() => resolve(fallback), ms);
  });
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

/** The lab's headers ({name: value}, or [name, value] pairs) as pairs. */
function headerPairs(headers) {
  if (!headers) return [];
  return Array.isArray(headers) ? headers : Object.entries(headers);
}

/** A header's value, its name in any case; undefined if absent. */
function headerValue(headers, name) {
  for (const [n, v] of headerPairs(headers)) {
    if (String(n).toLowerCase() === name) return String(v);
  }
  return undefined;
}

/** An exception as "Name: message". */
function describe(err) {
  return err instanceof Error ? `${err.name}: ${err.message}` : String(err);
}
