// door-view.js: the lab's side of the doors other than fetch() (see
// views/door.templ): the form's fields for each door, the settings the
// runner gets, the code a page runs to go through one, and what the page
// saw (a run's browser.door, filled by the runner's doors.js). The lab
// loads it only once a scenario or a run uses such a door (loadDoorView
// in form.js).
//
// Everything here is put into the page as text, never as HTML.

import { el } from "./dom.js";
import { fetchInit, fetchSource } from "./form.js";
import { formatMs } from "./log.js";

/** A form's enctype when the page names none. html.spec.whatwg.org/#attr-fs-enctype */
const FORM_ENCTYPE = "application/x-www-form-urlencoded";

/**
 * What the runner needs besides the URL and fetch()'s init to make the
 * request by the scenario's door (request.via): the element's crossorigin
 * attribute, XHR's and EventSource's withCredentials, the form's enctype.
 */
export function runDoor(request) {
  return {
    via: request.via || "fetch",
    crossOrigin: request.crossOrigin || "none",
    withCredentials: Boolean(request.withCredentials),
    enctype: request.enctype || FORM_ENCTYPE,
  };
}

/**
 * The door chosen in form (a ScenarioForm), from its option in the Door
 * select (views/door.templ):
 *   via, path and method: the api resource made for it, and how to ask
 *   methods: the methods it may use, [] for any; allows(method)
 *   settings: what else the page sets through it, as the form's
 *     [data-setting] boxes name them: "fetch" (mode, credentials,
 *     redirect), "crossorigin", "withcredentials", "enctype", "headers",
 *     "body"
 */
export function doorOf(form) {
  const select = form.form.elements["request.via"];
  const o = select.selectedOptions[0] ?? select.options[0];
  const methods = (o.dataset.methods ?? "").split(" ").filter(Boolean);
  return {
    via: o.value,
    path: o.dataset.path ?? "",
    method: o.dataset.method ?? "GET",
    methods,
    allows: (m) => methods.length === 0 || methods.includes(m),
    settings: new Set((o.dataset.settings ?? "").split(" ").filter(Boolean)),
  };
}

/**
 * Shows the settings the chosen door has and hides the others; its
 * methods are the only ones the Method select offers. (keepToDoor has
 * put the hidden ones back to their defaults.)
 */
export function showDoorFields(form) {
  const door = doorOf(form);
  const hint = form.form.querySelector("#hint-request-via");
  hint.textContent = DOOR_HINTS[door.via] ?? "";
  hint.hidden = hint.textContent === "";
  for (const box of form.form.querySelectorAll("[data-setting]")) {
    box.hidden = !door.settings.has(box.dataset.setting);
  }
  const settings = form.form.querySelector("#door-fields");
  settings.hidden = hint.hidden && !settings.querySelector("[data-setting]:not([hidden])");
  for (const option of form.form.elements["method-choice"].options) {
    option.disabled = !door.allows(option.value);
  }
}

/**
 * How the page writes each door, as the log and the outcomes name it
 * (playground/cors's Door.Name).
 */
export const DOOR_NAMES = {
  fetch: "fetch()",
  xhr: "XMLHttpRequest",
  img: "<img>",
  "img+canvas": "<img> on a <canvas>",
  script: "<script>",
  font: "@font-face",
  stylesheet: "<link rel=stylesheet>",
  eventsource: "EventSource",
  websocket: "WebSocket",
  form: "<form>",
  beacon: "navigator.sendBeacon()",
};

/** What each door lets its page do and see: the Door field's hint. */
export const DOOR_HINTS = {
  fetch: "The page chooses everything: method, headers, body, mode, credentials. CORS decides whether its JavaScript reads the answer.",
  xhr: "The older API, with fetch()'s rules: any method and headers. withCredentials sends cookies cross-origin.",
  img: "The browser GETs the image and shows it. Without a crossorigin attribute there is no CORS: the page learns the image's size, never its pixels.",
  "img+canvas": "The page draws the image on a canvas and reads the pixels back. Unless the image came through CORS (a crossorigin attribute, and the server's yes), the canvas is tainted and getImageData throws.",
  script: "A classic script runs whatever CORS says. Without a crossorigin attribute its errors reach window.onerror only as “Script error.”",
  font: "A font is always fetched with CORS, without cookies cross-origin: if the check fails, the text falls back to another font.",
  stylesheet: "The styles apply whatever CORS says. Only with a crossorigin attribute and the server's yes may the page read its cssRules.",
  eventsource: "Server-sent events: a CORS GET whose answer stays open. withCredentials sends cookies cross-origin.",
  websocket: "CORS does not cover WebSockets: the handshake carries the page's Origin, and only the server can refuse it (“WebSocket handshake” under what the server sends).",
  form: "A form submission is a navigation, not CORS: it reaches the server, with cookies, whatever the server answers, and the page never reads the response. The body's name=value pairs are the form's fields.",
  beacon: "A POST the browser sends when it can, with cookies; the page never sees the response. Only a Content-Type header, the Blob's type: one that is not safelisted makes it a CORS request.",
};

/** fetch()'s own settings as the scenario has them for every other door (scenario.Default). */
const FETCH_DEFAULTS = { mode: "cors", credentials: "same-origin", redirect: "follow" };
/** The field a <form> door gets when its body is empty. */
const FORM_SAMPLE_BODY = "name=Mallory";

/**
 * The learner picked another door in form (a ScenarioForm). If the path
 * is still one of the doors' resources (the api's /image.png, /events, …:
 * the options' data-path), it moves to this door's, with the door's method (a door
 * that takes any method keeps the method for the same path). Else the
 * path stays, and only a method the door cannot use changes. Then what
 * the door does not have goes back to its default (keepToDoor).
 */
export function changeDoor(form) {
  const f = form.form.elements;
  const door = doorOf(form);
  const resources = new Set([...f["request.via"].options].map((o) => o.dataset.path));
  const path = f["request.path"];
  const method = f["method-choice"].value === "other" ? f["method-other"].value : f["method-choice"].value;
  let next = method;
  if (path.value === "" || resources.has(path.value)) {
    const moved = path.value !== door.path;
    path.value = door.path;
    if (moved || door.methods.length > 0) next = door.method;
  } else if (!door.allows(method)) {
    next = door.method;
  }
  if (next !== method) {
    setMethod(f, next);
    // A GET or HEAD has no body, unless the door has one besides: a GET
    // form's fields go in the query, a socket's body is its message.
    if ((next === "GET" || next === "HEAD") && door.via !== "form" && door.via !== "websocket") f["request.body"].value = "";
  }
  keepToDoor(form);
  // A POST form's fields are the body's name=value pairs: give it one.
  if (door.via === "form" && next === "POST" && f["request.body"].value === "") f["request.body"].value = FORM_SAMPLE_BODY;
}

/**
 * Puts every setting the chosen door does not have back to its default,
 * as the server requires: fetch()'s mode, credentials and redirect,
 * crossorigin, withCredentials, enctype, the headers (a beacon keeps
 * its Content-Type, the Blob's type), the body.
 */
export function keepToDoor(form) {
  const f = form.form.elements;
  const { settings, via } = doorOf(form);
  if (!settings.has("fetch")) {
    for (const [name, value] of Object.entries(FETCH_DEFAULTS)) f[`request.${name}`].value = value;
  }
  if (!settings.has("crossorigin")) f["request.crossOrigin"].value = "none";
  if (!settings.has("withcredentials")) f["request.withCredentials"].checked = false;
  if (!settings.has("enctype")) f["request.enctype"].value = FORM_ENCTYPE;
  if (!settings.has("headers")) {
    form.requestHeaders.set({});
  } else if (via === "beacon") {
    const headers = form.requestHeaders.read();
    form.requestHeaders.set(Object.fromEntries(Object.entries(headers).filter(([name]) => name.toLowerCase() === "content-type")));
  }
  if (!settings.has("body")) f["request.body"].value = "";
}

/** Chooses a method in the form's Method select. */
function setMethod(f, method) {
  const known = [...f["method-choice"].options].some((o) => o.value === method && method !== "other");
  f["method-choice"].value = known ? method : "other";
  f["method-other"].value = known ? "" : method;
}

/**
 * The code a page runs to make the request through its door: the XHR
 * lines, an <img> (and the canvas that reads it), the <script>, <link> or
 * @font-face that loads the resource, new EventSource(), new WebSocket(),
 * the <form> that is submitted, or navigator.sendBeacon().
 */
export function doorSource(url, request) {
  const write = DOOR_SOURCES[request.via || "fetch"];
  return write ? write(url, request) : fetchSource(url, fetchInit(request));
}

const js = (s) => JSON.stringify(String(s));
/** An HTML attribute's value, quoted. */
const attr = (s) => `"${String(s).replaceAll("&", "&amp;").replaceAll("\"", "&quot;").replaceAll("<", "&lt;")}"`;
/** The crossorigin attribute as HTML: ` crossorigin="anonymous"`, or "" for none. */
const crossOriginAttr = (r) => (r.crossOrigin && r.crossOrigin !== "none" ? ` crossorigin=${attr(r.crossOrigin)}` : "");
/** The crossOrigin property, or a comment saying there is none. */
const crossOriginLine = (name, r) => (r.crossOrigin && r.crossOrigin !== "none"
  ? `${name}.crossOrigin = ${js(r.crossOrigin)};`
  : `// no crossOrigin: a no-cors request, with cookies`);

/** The request's Content-Type header, if it has one (any case). */
function contentType(request) {
  const found = Object.entries(request.headers ?? {}).find(([name]) => name.toLowerCase() === "content-type");
  return found ? found[1] : "";
}

const DOOR_SOURCES = {
  fetch: (url, r) => fetchSource(url, fetchInit(r)),
  xhr: (url, r) => {
    const lines = ["const xhr = new XMLHttpRequest();", `xhr.open(${js(r.method)}, ${js(url)});`];
    if (r.withCredentials) lines.push("xhr.withCredentials = true; // cookies cross-origin too");
    for (const [name, value] of Object.entries(r.headers ?? {})) lines.push(`xhr.setRequestHeader(${js(name)}, ${js(value)});`);
    lines.push(
      "xhr.onload = () => console.log(xhr.status, xhr.responseText);",
      "// CORS refused it, or the network failed: status 0, and JS cannot tell which",
      "xhr.onerror = () => console.log(\"error\", xhr.status);",
      r.body ? `xhr.send(${js(r.body)});` : "xhr.send();");
    return lines.join("\n");
  },
  img: (url, r) => [
    "const img = new Image();",
    crossOriginLine("img", r),
    "img.onload = () => console.log(img.naturalWidth, img.naturalHeight);",
    "img.onerror = () => console.log(\"error: no image\");",
    `img.src = ${js(url)};`,
  ].join("\n"),
  "img+canvas": (url, r) => [
    "const img = new Image();",
    crossOriginLine("img", r),
    "img.onload = () => {",
    "  const canvas = document.createElement(\"canvas\");",
    "  canvas.width = img.naturalWidth;",
    "  canvas.height = img.naturalHeight;",
    "  const context = canvas.getContext(\"2d\");",
    "  context.drawImage(img, 0, 0);",
    "  // throws a SecurityError if the image tainted the canvas:",
    "  // it came from another origin without passing CORS",
    "  const pixels = context.getImageData(0, 0, canvas.width, canvas.height);",
    "};",
    "img.onerror = () => console.log(\"error: no image\");",
    `img.src = ${js(url)};`,
  ].join("\n"),
  script: (url, r) => [
    "<script>",
    "  // another origin's script reports its errors as \"Script error.\"",
    "  // unless it came through CORS",
    "  window.onerror = (message) => console.log(message);",
    "</script>",
    `<script src=${attr(url)}${crossOriginAttr(r)}></script>`,
  ].join("\n"),
  stylesheet: (url, r) => [
    `<link rel="stylesheet" href=${attr(url)}${crossOriginAttr(r)}>`,
    "<script>",
    "  const sheet = document.querySelector('link[rel=\"stylesheet\"]').sheet;",
    "  // the styles apply either way; reading the rules throws a",
    "  // SecurityError unless the sheet came through CORS",
    "  console.log(sheet.cssRules.length);",
    "</script>",
  ].join("\n"),
  font: (url) => [
    "<style>",
    "  @font-face {",
    "    font-family: \"Lab Font\";",
    `    src: url(${js(url)});`,
    "  }",
    "  p { font-family: \"Lab Font\", monospace; }",
    "</style>",
    "<script>",
    "  // a font is always fetched with CORS: refused, the text falls back",
    "  document.fonts.load('16px \"Lab Font\"').then(",
    "    (faces) => console.log(faces.length > 0 ? \"applied\" : \"fell back\"),",
    "    () => console.log(\"fell back\"));",
    "</script>",
  ].join("\n"),
  eventsource: (url, r) => [
    r.withCredentials
      ? `const events = new EventSource(${js(url)}, { withCredentials: true });`
      : `const events = new EventSource(${js(url)});`,
    "events.onopen = () => console.log(\"open\");",
    "events.onmessage = (event) => console.log(event.data);",
    "// CORS refused it, or the network failed: JS cannot tell which",
    "events.onerror = () => console.log(\"error\", events.readyState);",
  ].join("\n"),
  websocket: (url, r) => [
    "// no CORS: the browser sends the page's Origin, and only the server",
    "// can refuse the handshake",
    `const socket = new WebSocket(${js(url.replace(/^http/, "ws"))});`,
    r.body ? `socket.onopen = () => socket.send(${js(r.body)});` : "socket.onopen = () => console.log(\"open\");",
    "socket.onmessage = (event) => console.log(event.data);",
    "// 1006: no connection, e.g. the server refused the handshake",
    "socket.onclose = (event) => console.log(\"closed\", event.code);",
  ].join("\n"),
  form: (url, r) => {
    const enctype = r.enctype && r.enctype !== FORM_ENCTYPE ? ` enctype=${attr(r.enctype)}` : "";
    const fields = [...new URLSearchParams(r.body ?? "")]
      .map(([name, value]) => `  <input type="hidden" name=${attr(name)} value=${attr(value)}>`);
    return [
      "<iframe name=\"result\"></iframe>",
      `<form method=${attr(String(r.method).toLowerCase())} action=${attr(url)}${enctype} target="result">`,
      ...fields,
      "</form>",
      "<script>",
      "  document.forms[0].submit();",
      "  // no CORS: the request goes, with cookies, whatever the server",
      "  // answers; the answer loads in the frame, where this page",
      "  // cannot read it",
      "</script>",
    ].join("\n");
  },
  beacon: (url, r) => {
    const type = contentType(r);
    let call;
    if (type) call = `navigator.sendBeacon(${js(url)}, new Blob([${js(r.body ?? "")}], { type: ${js(type)} }))`;
    else if (r.body) call = `navigator.sendBeacon(${js(url)}, ${js(r.body)})`;
    else call = `navigator.sendBeacon(${js(url)})`;
    return [
      `const queued = ${call};`,
      "// true: the browser will send it, with cookies; the page never",
      "// sees the response",
      "console.log(queued);",
    ].join("\n");
  },
};

/**
 * What the page saw through a door other than fetch() and XMLHttpRequest
 * (browser.door, filled by static/doors.js), in words; null for those
 * two, whose outcome reads like fetch()'s. request.crossOrigin says
 * whether an image that loaded came through CORS.
 */
export function doorOutcome(b, request) {
  const d = b.door;
  const name = DOOR_NAMES[d.via] ?? String(d.via);
  const ok = (text) => ({ tone: "ok", text });
  const opaque = (text) => ({ tone: "opaque", text });
  const blocked = (text) => ({ tone: "blocked", text });
  // The page's own code threw (a bad URL, sendBeacon's TypeError): no event at all.
  if (!d.event && b.error) return blocked(`${name} threw before sending anything (${b.error})`);
  if (d.via === "xhr") return null;
  const size = `${d.width}×${d.height}`;
  const messages = d.messages ?? [];
  switch (d.via) {
    case "img":
    case "img+canvas":
      if (d.event === "timeout") break;
      if (d.event !== "load") return blocked("<img> fired error: no image, and the page is not told why");
      if (d.via === "img+canvas") {
        return d.canvas === "readable"
          ? ok(`image ${size} drawn on a canvas: getImageData read its pixels`)
          : blocked(`image ${size} shown, but the canvas is tainted: getImageData threw SecurityError`);
      }
      return request.crossOrigin && request.crossOrigin !== "none"
        ? ok(`image ${size} loaded through CORS: the page may read its pixels`)
        : opaque(`image ${size} loaded without CORS: the page may show it, not read its pixels`);
    case "script":
      if (d.event === "timeout") break;
      if (d.event !== "load") return blocked("<script> fired error: the script did not run, and the page is not told why");
      if (!d.scriptError) return ok("the script ran");
      return d.scriptError === "Script error."
        ? opaque("the script ran; its error reached window.onerror muted: \"Script error.\"")
        : ok(`the script ran; window.onerror read its error: "${d.scriptError}"`);
    case "font":
      return d.applied
        ? ok("font applied: the text is drawn in the api's font")
        : blocked("font fell back: the text is drawn in the fallback font");
    case "stylesheet": {
      if (d.event === "timeout") break;
      if (d.event !== "load") return blocked("<link> fired error: the stylesheet did not apply");
      const applied = d.applied ? "stylesheet applied" : "stylesheet loaded";
      return d.rules === "readable"
        ? ok(`${applied}; cssRules readable`)
        : opaque(`${applied}; cssRules blocked: reading them threw SecurityError`);
    }
    case "eventsource":
      if (messages.length > 0) return ok(`EventSource: ${count(messages.length, "message")} received`);
      return blocked(d.event === "error"
        ? "EventSource fired error before any message: no CORS answer, or the network (the page is not told which)"
        : "EventSource: no message received");
    case "websocket":
      if (b.ok) return ok(`WebSocket open: ${count(messages.length, "message")} received; closed with code ${d.closeCode}`);
      return blocked(d.closeCode
        ? `WebSocket never opened: closed with code ${d.closeCode}, the handshake failed`
        : "WebSocket never opened");
    case "form":
      return b.ok
        ? opaque("form submitted; the page cannot read the response")
        : opaque("form submitted; its frame did not load (a 204 leaves it be), and the page cannot read the response anyway");
    case "beacon":
      return d.event === "queued"
        ? opaque("beacon queued; the page never sees the response")
        : blocked("sendBeacon() returned false: the browser did not queue it");
    default:
      return b.ok ? ok(`${name}: ${d.event}`) : blocked(`${name}: ${b.error || d.event}`);
  }
  return blocked(`${name}: nothing happened in time${b.error ? ` (${b.error})` : ""}`);
}

/** "1 message", "3 messages". */
function count(n, noun) {
  return `${n} ${noun}${n === 1 ? "" : "s"}`;
}

/**
 * What a door other than fetch() told its page (browser.door), as
 * [what the page looked at, what it got] rows; what it got is text, or
 * the list of messages.
 */
export function doorFacts(b) {
  const d = b.door;
  const messages = d.messages ?? [];
  const rows = [["event", d.event || "—"]];
  switch (d.via) {
    case "img":
    case "img+canvas":
      if (d.event === "load") rows.push(["naturalWidth × naturalHeight", `${d.width} × ${d.height}`]);
      if (d.canvas) rows.push(["getImageData()", d.canvas === "readable" ? "read the pixels" : "threw SecurityError: the canvas is tainted"]);
      break;
    case "script":
      rows.push(["window.onerror", d.scriptError ? `"${d.scriptError}"` : "—"]);
      break;
    case "font":
      rows.push(["font", d.applied ? "applied" : "fell back"]);
      break;
    case "stylesheet":
      if (d.event === "load") {
        rows.push(["styles", d.applied ? "applied" : "not applied"]);
        rows.push(["sheet.cssRules", d.rules === "readable" ? "readable" : "blocked: threw SecurityError"]);
      }
      break;
    case "eventsource":
    case "websocket":
      rows.push([`messages (${messages.length})`, messages.length
        ? el("ol", {}, messages.map((m) => el("li", { class: "mono" }, m)))
        : "none"]);
      if (d.via === "websocket") rows.push(["close code", d.closeCode ? String(d.closeCode) : "—"]);
      break;
    case "form":
      rows.push(["the response", "in the form's target frame: another origin's document, unreadable"]);
      break;
    case "beacon":
      rows.push(["sendBeacon()", d.event === "queued" ? "true: queued" : "false: not queued"]);
      break;
  }
  rows.push(["error", b.error || "—"]);
  return rows;
}

/**
 * The run's "What the page's JavaScript saw" for a door other than
 * fetch() and XMLHttpRequest: source (the code, as an element), then what
 * the door reported. Null for those two, whose page sees what fetch()'s does.
 */
export function doorSaw(b, source) {
  const via = b.door.via;
  if (via === "fetch" || via === "xhr") return null;
  const streams = via === "eventsource" || via === "websocket";
  return el("details", { class: "js-saw" },
    el("summary", {}, "What the page's JavaScript saw"),
    source,
    el("dl", { class: "facts" }, [...doorFacts(b), ["took", formatMs(b.durationMs)]]
      .map(([k, v]) => [el("dt", { class: "mono" }, k), el("dd", {}, v)])),
    el("p", { class: "muted" }, `Through ${DOOR_NAMES[via] ?? via} the page sees no status, no headers and no body${streams ? ": only the messages" : ""}.`));
}
