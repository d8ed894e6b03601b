// log.js: the exchange log. Every raw request/response pair the servers saw,
// grouped under the run that caused it (newest run on top), plus one
// "Other traffic" group for exchanges no run claims: a tab the learner opened
// on an origin, a curl command, ... Each run offers its request as a curl
// command ("Copy as curl"), and each exchange its own ("Copy exchange as
// curl"; a WebSocket handshake offers websocat instead). A handshake's
// details list the socket's frames, both ways (frames.js).
//
// All text here comes from servers (the evil origin sends hostile headers on
// purpose) so it is only ever put into the page as text, never as HTML.

import { el } from "./dom.js";
import { requestSource, loadDoorView, loadedDoorView, needsDoorView } from "./form.js";
import { explanation } from "./verdict.js";
import { REFUSED_TEXT, refusalsOf, refusalNote } from "./refused.js";
import { copyText, confirmCopied } from "./clipboard.js";

// curl.js, loaded the first time the learner copies a command: most visits
// never do, and the lab's first load stays small.
let curl;
const loadCurl = () => (curl ??= import("./curl.js"));
// frames.js, with the first WebSocket frame, for the same reason.
let frames;
const loadFrames = () => (frames ??= import("./frames.js"));

const REASONS = {
  200: "OK", 201: "Created", 202: "Accepted", 204: "No Content", 206: "Partial Content",
  301: "Moved Permanently", 302: "Found", 303: "See Other", 304: "Not Modified",
  307: "Temporary Redirect", 308: "Permanent Redirect", 400: "Bad Request",
  401: "Unauthorized", 403: "Forbidden", 404: "Not Found", 405: "Method Not Allowed",
  500: "Internal Server Error", 502: "Bad Gateway", 503: "Service Unavailable",
};
const LONG_BODY_CHARS = 1200;
const LONG_BODY_LINES = 16;

/** Is this one of the headers CORS is about? Matched by name, any case. */
export function isCorsHeader(name) {
  const n = name.toLowerCase();
  return n === "origin" || n === "vary" || n.startsWith("access-control-");
}

/** The value of the first header called `name` in [[name, value], ...]. */
export function headerValue(headers, name) {
  const n = name.toLowerCase();
  const found = (headers ?? []).find(([k]) => String(k).toLowerCase() === n);
  return found ? String(found[1]) : null;
}

/**
 * The Via header the app origin's proxy adds (playground/proxy.go's
 * proxyVia). In the one-origin setup, an exchange on api or s3 that
 * carries it is the proxy's hop behind the app: the browser never saw it.
 */
export const PROXY_VIA = "1.1 corslab-cdn";

/** Did the app origin's proxy (not the browser) make this exchange's request? */
export function isProxied(exchange) {
  return headerValue(exchange?.request?.headers, "Via") === PROXY_VIA;
}

/**
 * What the browser decided, in plain words, from a run's "browser" outcome
 * and the request it made (its door's settings). tone is "ok", "blocked",
 * "opaque" or "pending" (for styling). (What the model predicted is
 * run.verdict: see verdict.js.)
 */
export function browserOutcome(browser, request = {}) {
  if (!browser) return { tone: "pending", text: "Waiting for the browser…" };
  const b = browser;
  // door-view.js words what the other doors saw (xhr's reads like
  // fetch()'s); the log loads it before it shows such a run.
  const door = b.door ? loadedDoorView()?.doorOutcome(b, request) : null;
  if (door) return door;
  if (b.error && !b.type) {
    if (b.error.startsWith("no answer from the runner")) {
      return { tone: "blocked", text: `No verdict: ${b.error}.` };
    }
    if (b.error.includes("Failed to execute")) {
      return { tone: "blocked", text: `fetch() refused before sending anything (${b.error})` };
    }
    return { tone: "blocked", text: `Blocked by the browser: JS could not read the response (${b.error})` };
  }
  if (b.type === "opaque") {
    return { tone: "opaque", text: "fetch resolved with an opaque response: JS sees status 0 and nothing else" };
  }
  if (b.type === "opaqueredirect") {
    return { tone: "opaque", text: "fetch resolved with an opaque redirect (redirect: \"manual\"): JS sees status 0 and nothing else" };
  }
  const status = `${b.status} ${REASONS[b.status] ?? ""}`.trim();
  const after = b.redirected ? ", after following a redirect" : "";
  if (b.error) return { tone: "blocked", text: `JS got a ${status} response${after}, but reading its body failed (${b.error})` };
  return { tone: "ok", text: `JS read the response: ${status}${after}` };
}

/**
 * What a recorded run's page saw, in words: browserOutcome() of its
 * browser, unless corslab itself refused one of its requests (run.refused,
 * see refused.js). Then that is the news, with tone "refused": whatever
 * the browser reported was corslab's refusal, not a CORS decision.
 */
export function runOutcome(run) {
  const [first] = refusalsOf(run);
  if (first) return { tone: "refused", text: `${REFUSED_TEXT} (${first.status} from ${first.origin})` };
  return browserOutcome(run?.browser, run?.request);
}

export class ExchangeLog {
  /**
   * @param {HTMLElement} container  the scrolling log region
   * @param {object} options
   *   sessionId: to shorten "/{session}/users" to "/users"
   *   originURLs: role → origin, to name the page a run came from
   *   onSelect(): the selected group changed
   *   onUpdate(): something in the log changed
   *   onCurlCopied(): a curl command was copied
   *   followUp(run): the request a run's answer invites ({method, url,
   *     path}, see signed.js), or null
   *   onFollowUp(next): the learner chose to make that request
   */
  constructor(container, { sessionId, originURLs, onSelect, onUpdate, onCurlCopied, followUp, onFollowUp }) {
    this.sessionId = sessionId;
    this.originURLs = originURLs;
    this.onSelect = onSelect;
    this.onUpdate = onUpdate;
    this.onCurlCopied = onCurlCopied;
    this.followUp = followUp;
    this.onFollowUp = onFollowUp;
    this.exchanges = new Map(); // seq → exchange
    this.nodes = new Map();     // seq → its <details> element
    this.claims = new Map();    // seq → group key of the run that claims it
    this.sockets = null;        // the WebSocket frames (frames.js), from the first
    this.groups = new Map();    // key → {key, order, run, pending, since, el, list}
    this.pending = null;        // the group of the run in flight, if any
    this.selected = null;       // key of the group the diagram shows
    this.followLatest = true;   // select each new run unless the learner picked an older one
    this.localRuns = 0;

    this.runsEl = el("div", { class: "runs" });
    this.emptyEl = el("p", { class: "log-empty" },
      "Nothing yet. Press Run: each request and response the servers see will appear here, byte for byte.");
    this.otherList = el("div", { class: "exchange-list" });
    this.otherCount = el("span", { class: "count" }, "0");
    this.otherEl = el("section", { class: "group other-group", hidden: true },
      el("div", { class: "group-head static" },
        el("span", { class: "group-title" }, "Other traffic ", this.otherCount),
        el("span", { class: "group-note" }, "Exchanges no run caused: a tab you opened on an origin, curl, a lesson's setup…")),
      this.otherList);
    container.append(this.emptyEl, this.runsEl, this.otherEl);
  }

  // ----- incoming data -----

  addExchange(exchange) {
    const seq = Number(exchange.seq);
    if (this.exchanges.has(seq)) return;
    this.exchanges.set(seq, exchange);
    this.nodes.set(seq, this.renderExchange(exchange));
    this.place(seq);
    this.showFrames(seq); // if its frames came first
    this.changed();
  }

  /** A WebSocket frame: listed under its handshake, now or when it comes. */
  addFrame(frame) {
    loadFrames().then(({ SocketFrames }) => {
      this.sockets ??= new SocketFrames();
      for (const seq of this.sockets.add(frame)) this.showFrames(seq);
      this.changed();
    });
  }

  showFrames(seq) {
    const node = this.nodes.get(seq);
    if (node) this.sockets?.show(node, seq, this.exchanges.get(seq));
  }

  addRun(run) {
    const key = String(run.id);
    if (this.groups.has(key)) return;
    if (needsDoorView(run.request) && !loadedDoorView()) {
      // A run through another door than fetch(): shown with door-view.js.
      loadDoorView().then(() => this.addRun(run));
      return;
    }
    for (const seq of run.exchanges ?? []) this.claims.set(Number(seq), key);
    const group = this.newGroup(key, Number(run.id), run);
    this.insertGroup(group);
    this.placeAll();
    if (this.followLatest && this.isNewest(group)) this.select(key, false);
    this.changed();
  }

  /** A run has started in this page: show it at once, before any answer. */
  startPending({ request, url, since }) {
    const group = this.newGroup("pending", Infinity, { request, url, exchanges: [] });
    group.pending = true;
    group.since = since;
    this.pending = group;
    this.insertGroup(group);
    this.followLatest = true;
    this.select("pending", false);
    this.changed();
  }

  /**
   * The run in flight has ended. With `run` (what the server recorded) the
   * pending group becomes that run's group, where it stands. Without it
   * (recording failed) it stays as a local run, showing `outcome` and `note`.
   */
  finishPending({ run, outcome, note }) {
    const pending = this.pending;
    if (!pending) return;
    this.pending = null;
    const wasSelected = this.selected === "pending";
    let group;
    if (run && !this.groups.has(String(run.id))) {
      const key = String(run.id);
      for (const seq of run.exchanges ?? []) this.claims.set(Number(seq), key);
      group = this.newGroup(key, Number(run.id), run);
    } else if (run) {
      group = this.groups.get(String(run.id)); // the stream brought it first
    } else {
      const key = `local-${++this.localRuns}`;
      const seqs = [...pending.list.children].map((n) => Number(n.dataset.seq)).filter((s) => s > 0);
      for (const seq of seqs) this.claims.set(seq, key);
      const order = Math.max(0, ...[...this.groups.values()].filter((g) => Number.isFinite(g.order)).map((g) => g.order)) + 0.5;
      group = this.newGroup(key, order, { ...pending.run, exchanges: seqs, browser: outcome, note });
    }
    this.groups.delete("pending");
    if (group.el.isConnected) pending.el.remove();
    else { pending.el.replaceWith(group.el); this.groups.set(group.key, group); }
    this.placeAll();
    if (wasSelected) this.select(group.key, false);
    this.changed();
  }

  // ----- selection -----

  select(key, byLearner = true) {
    if (!this.groups.has(key)) return;
    if (byLearner) this.followLatest = this.isNewest(this.groups.get(key));
    this.selected = key;
    for (const g of this.groups.values()) {
      const on = g.key === key;
      g.el.classList.toggle("selected", on);
      g.head.setAttribute("aria-pressed", String(on));
    }
    this.onSelect();
  }

  /** What the diagram needs for the selected group: {run, exchanges, pending}. */
  selection() {
    const g = this.groups.get(this.selected);
    if (!g) return null;
    const exchanges = [...g.list.children]
      .map((n) => this.exchanges.get(Number(n.dataset.seq)))
      .filter(Boolean);
    const frames = this.sockets?.arrows(exchanges) ?? [];
    return { key: g.key, run: g.run, exchanges, frames, pending: g.pending };
  }

  isNewest(group) {
    return [...this.groups.values()].every((g) => g.order <= group.order);
  }

  // ----- placement -----

  /** Which list an exchange belongs in, right now. */
  home(seq) {
    const key = this.claims.get(seq);
    if (key && this.groups.has(key)) return this.groups.get(key).list;
    if (this.pending && seq > this.pending.since) return this.pending.list;
    return this.otherList;
  }

  place(seq) {
    const node = this.nodes.get(seq);
    const list = this.home(seq);
    if (node.parentNode === list) return;
    // Keep each list in seq order: the order things crossed the wire.
    const after = [...list.children].find((n) => Number(n.dataset.seq) > seq);
    list.insertBefore(node, after ?? null);
    node.open = list !== this.otherList;
  }

  placeAll() {
    for (const seq of this.nodes.keys()) this.place(seq);
  }

  changed() {
    const others = this.otherList.children.length;
    this.otherCount.textContent = String(others);
    this.otherEl.hidden = others === 0;
    this.emptyEl.hidden = this.groups.size > 0 || others > 0;
    for (const g of this.groups.values()) {
      // The server's claim decides: its exchanges may still be on their way.
      g.noTraffic.hidden = g.pending || g.list.children.length > 0 || (g.run.exchanges ?? []).length > 0;
    }
    this.onUpdate();
  }

  insertGroup(group) {
    this.groups.set(group.key, group);
    const before = [...this.groups.values()]
      .filter((g) => g !== group && g.el.isConnected && g.order < group.order)
      .sort((a, b) => b.order - a.order)[0];
    this.runsEl.insertBefore(group.el, before ? before.el : null);
  }

  // ----- rendering -----

  newGroup(key, order, run) {
    const pending = key === "pending";
    const v = runOutcome(run);
    const title = pending ? "Running…" : key.startsWith("local-") ? "Run (not recorded)" : `Run #${run.id}`;
    const req = run.request ?? {};
    // "<img> GET /image.png": the door, unless it is fetch().
    const door = needsDoorView(req) ? `${loadedDoorView()?.DOOR_NAMES[req.via] ?? req.via} ` : "";
    const what = `${door}${req.method ?? ""} ${req.path ?? ""}`;
    const head = el("button", { type: "button", class: "group-head", "aria-pressed": "false" },
      el("span", { class: "group-title" },
        el("strong", {}, title), " ",
        el("span", { class: "mono", title: what }, what), " ",
        el("span", { class: "from", title: `from ${fromLabel(req.from)}` }, `from ${fromLabel(req.from)}`),
        run.at ? el("time", { datetime: run.at }, clock(run.at)) : null),
      el("span", { class: `verdict tone-${v.tone}` }, v.text));
    const noTraffic = el("p", { class: "no-traffic" }, "No request reached a server.");
    const list = el("div", { class: "exchange-list" });
    const groupEl = el("section", { class: `group run-group tone-${v.tone}`, "data-key": key },
      head,
      run.note ? el("p", { class: "group-note warn" }, run.note) : null,
      // corslab's own refusal replaces the model's explanation.
      pending ? null : refusalNote(run, (t) => this.shortTarget(t)) ?? explanation(run, v.text),
      pending ? null : this.renderFollowUp(run),
      pending ? null : this.renderRunCurl(run),
      pending ? null : this.renderJsSaw(run),
      noTraffic, list);
    head.addEventListener("click", () => this.select(key));
    const group = { key, order, run, pending, since: 0, el: groupEl, head, list, noTraffic };
    return group;
  }

  /**
   * When JS read a signed URL of the bucket (the two-phase fetch, or an
   * upload URL), a button that points the form at it. A real page would
   * make that second request at once; here the learner presses Run, and
   * may wait first, to see the URL expire.
   */
  renderFollowUp(run) {
    const next = this.followUp?.(run);
    if (!next) return null;
    const upload = next.method === "PUT";
    const button = el("button", {
      type: "button", class: "secondary small follow-signed",
      title: `Set the request to ${next.method} this URL on s3. Nothing is sent until you press Run.`,
    }, upload ? "Upload to this signed URL" : "Fetch this signed URL");
    button.addEventListener("click", () => this.onFollowUp?.(next));
    // The key, and "?…" for the signature: the whole URL is in the body below.
    const query = next.path.indexOf("?");
    const short = query < 0 ? next.path : `${next.path.slice(0, query)}?…`;
    return el("div", { class: "follow-up" },
      el("p", {},
        upload ? "JS read a presigned PUT URL of the bucket. A real page would now send " : "JS read a presigned URL of the bucket. A real page would now send ",
        el("code", {}, `${next.method} s3 ${short}`)),
      button);
  }

  /**
   * The run's "Copy as curl": its actual request (never the preflight),
   * as the page's script made it, for a terminal. See runCurlCommand.
   */
  renderRunCurl(run) {
    if (!run.url) return null;
    const socket = run.request?.via === "websocket";
    const [button, box] = this.copyButton({
      label: socket ? "Copy as websocat" : "Copy as curl",
      title: socket ? "Copy a websocat command that opens this run's WebSocket, with no Origin and no cookies"
        : "Copy a curl command for this run's request (not its preflight), as the page's script made it: method, URL, headers, body. curl adds no Origin and no cookies, and ignores CORS.",
      command: async () => (await loadCurl()).runCurlCommand(run),
    });
    return el("div", { class: "raw-part-head run-curl" },
      button,
      el("span", { class: "hint" }, "this run's request, as its script made it, for a terminal: no Origin, no cookies"),
      box);
  }

  /**
   * A collapsed panel: the code that ran (fetch(), or another door's) and
   * everything its page could see.
   */
  renderJsSaw(run) {
    const b = run.browser ?? {};
    const source = el("pre", { class: "code" }, el("code", {}, requestSource(run.url ?? "", run.request ?? {})));
    // A door but fetch() and xhr: door-view.js's panel, of what it reports.
    const door = b.door && loadedDoorView()?.doorSaw(b, source);
    if (door) return door;
    const rows = [
      ["response.type", b.type || "—"],
      ["response.status", String(b.status ?? 0)],
      ["response.url", b.url || "—"],
      ["response.redirected", String(Boolean(b.redirected))],
      ["error", b.error || "—"],
      ["took", `${formatMs(b.durationMs)}`],
    ];
    const headers = b.headers ?? [];
    return el("details", { class: "js-saw" },
      el("summary", {}, "What the page's JavaScript saw"),
      source,
      el("dl", { class: "facts" }, rows.map(([k, v]) => [el("dt", { class: "mono" }, k), el("dd", {}, v)])),
      el("p", { class: "label" }, `Headers JS could read (${headers.length})`),
      headers.length === 0
        ? el("p", { class: "muted" }, "none")
        : el("pre", { class: "raw-text" }, headers.map(([n, v]) => el("span", { class: "header-line" }, `${n}: ${v}`))),
      el("p", { class: "label" }, b.bodyTruncated ? "Body JS could read (first 16 KiB)" : "Body JS could read"),
      b.body ? bodyBlock(b.body) : el("p", { class: "muted" }, "empty"));
  }

  renderExchange(ex) {
    const req = ex.request ?? {};
    const res = ex.response ?? {};
    const kind = String(ex.kind ?? "");
    const originHeader = headerValue(req.headers, "Origin");
    const status = Number(res.status ?? 0);
    const summary = el("summary", {},
      el("span", { class: "seq" }, `#${ex.seq}`),
      el("span", { class: `badge origin-badge role-${ex.origin}` }, String(ex.origin ?? "")),
      el("span", { class: `badge kind kind-${kind}` }, kind.toUpperCase()),
      originHeader === "null" ? el("span", { class: "badge null-origin" }, "Origin: null") : null,
      isProxied(ex) ? el("span", { class: "badge proxied", title: "The app origin's proxy made this request, not the browser" }, "via app's proxy") : null,
      el("span", { class: "mono method" }, String(req.method ?? "")),
      el("span", { class: "mono target" }, this.shortTarget(req.target)),
      el("span", { class: "arrow", "aria-hidden": "true" }, "→"),
      // Status 0: the connection closed before the server answered.
      el("span", { class: `status s${Math.floor(status / 100)}` }, status ? `${status} ${res.reason ?? ""}`.trim() : "no response"),
      el("span", { class: "dur" }, formatMs(ex.durationMs)));
    const raw = ex.raw ?? {};
    return el("details", { class: `exchange kind-${kind}`, "data-seq": String(ex.seq) },
      summary,
      el("div", { class: "raw" },
        el("div", { class: "raw-part" },
          el("div", { class: "raw-part-head" },
            el("p", { class: "label" }, `Request from ${ex.client ?? "?"}`),
            this.curlButton(ex)),
          httpMessage(raw.request, req, `${req.method} ${req.target} ${req.proto}`)),
        el("div", { class: "raw-part" },
          el("p", { class: "label" }, `Response from ${ex.origin}`),
          httpMessage(raw.response, res, `${res.proto} ${res.status} ${res.reason ?? ""}`))));
  }

  /**
   * "Copy exchange as curl": this one request exactly as the browser sent
   * it, every header included (Origin, cookies…), to replay it outside any
   * browser. The run has its own "Copy as curl" (renderRunCurl).
   */
  curlButton(ex) {
    // A WebSocket handshake: curl cannot speak what follows the 101.
    const tool = Number(ex.response?.status) === 101 ? "websocat" : "curl";
    return this.copyButton({
      label: tool === "curl" ? "Copy exchange as curl" : "Copy as websocat",
      title: `Copy a ${tool} command that sends this exact request again, outside the browser, with every header the browser sent (Origin and cookies too)`,
      command: async () => {
        const scheme = (this.originURLs[ex.origin] ?? "http:").split(":")[0] || "http";
        const { curlCommand, websocatCommand } = await loadCurl();
        return (tool === "curl" ? curlCommand : websocatCommand)(ex, scheme);
      },
    });
  }

  /**
   * A button that copies await command(), a curl command. Returns the button and
   * the box used when the clipboard API is not available (see clipboard.js).
   */
  copyButton({ label, title, command }) {
    const button = el("button", { type: "button", class: "secondary small copy-button", title }, label);
    const field = el("textarea", { class: "curl-text", readonly: true, rows: 6, wrap: "off", spellcheck: "false", "aria-label": "curl command" });
    const box = el("span", { class: "curl-fallback", hidden: true },
      el("span", { class: "hint" }, "Press Ctrl+C (⌘C) to copy this command"), field);
    const show = (on) => { box.hidden = !on; };
    field.addEventListener("blur", () => show(false));
    field.addEventListener("keydown", (event) => {
      if (event.key === "Escape") { show(false); button.focus(); }
    });
    button.addEventListener("click", async () => {
      if (await copyText(await command(), { field, show })) {
        confirmCopied(button, label);
        this.onCurlCopied?.();
      }
    });
    return [button, box];
  }

  /** "/k3xq…/users" → "/users": the session prefix is the same on every line. */
  shortTarget(target) {
    const t = String(target ?? "");
    const prefix = `/${this.sessionId}`;
    if (t === prefix) return "/";
    return t.startsWith(prefix + "/") || t.startsWith(prefix + "?") ? t.slice(prefix.length) : t;
  }
}

/**
 * A raw HTTP message as the server saw it: start line, header lines (the
 * CORS ones highlighted), blank line, body. Built from `raw` when we have it,
 * else from the parsed message.
 */
function httpMessage(raw, msg, startLine) {
  let head, body;
  if (typeof raw === "string" && raw !== "") {
    const end = raw.indexOf("\r\n\r\n");
    head = (end >= 0 ? raw.slice(0, end) : raw).split("\r\n");
    body = end >= 0 ? raw.slice(end + 4) : "";
  } else {
    head = [startLine, ...(msg.headers ?? []).map(([n, v]) => `${n}: ${v}`)];
    body = msg.body ?? "";
  }
  const pre = el("pre", { class: "raw-text" }, el("span", { class: "start-line" }, head[0] ?? ""));
  for (const line of head.slice(1)) {
    const colon = line.indexOf(":");
    const name = colon > 0 ? line.slice(0, colon) : line;
    const cls = isCorsHeader(name) ? "header-line cors" : name.toLowerCase() === "location" ? "header-line location" : "header-line";
    pre.append(el("span", { class: cls },
      el("span", { class: "header-name" }, colon > 0 ? line.slice(0, colon + 1) : line),
      colon > 0 ? line.slice(colon + 1) : ""));
  }
  const out = [pre];
  if (msg.bodyEncoding === "base64") {
    out.push(el("p", { class: "binary" }, `${msg.bodySize ?? 0} bytes of binary data`));
  } else if (body !== "") {
    out.push(bodyBlock(body, msg.bodyTruncated ? ` of ${msg.bodySize} (truncated)` : ""));
  }
  return el("div", { class: "http-message" }, out);
}

/** A body, collapsed behind a summary when it is long. */
function bodyBlock(body, sizeNote = "") {
  const pre = el("pre", { class: "raw-text body" }, body);
  const lines = body.split("\n").length;
  if (body.length <= LONG_BODY_CHARS && lines <= LONG_BODY_LINES) return pre;
  return el("details", { class: "long-body" },
    el("summary", {}, `Body: ${body.length} characters${sizeNote}, ${lines} lines — show`),
    pre);
}

const FROM_LABELS = {
  lookalike: "a look-alike page (the attacker's)",
  sandbox: "a sandboxed page (Origin: null)",
  "sandbox-same-origin": "a sandboxed page with allow-same-origin (app's origin)",
  data: "a data: page (Origin: null)",
  srcdoc: "an <iframe srcdoc> page (app's origin)",
  api: "api (same-origin)",
};

function fromLabel(from) {
  return Object.hasOwn(FROM_LABELS, from) ? FROM_LABELS[from] : String(from ?? "?");
}

function clock(iso) {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? "" : d.toLocaleTimeString([], { hour12: false });
}

export function formatMs(ms) {
  const n = Number(ms);
  if (!Number.isFinite(n)) return "";
  return n < 10 ? `${n.toFixed(1)} ms` : `${Math.round(n)} ms`;
}
