// diagram.js: a sequence diagram of one run, drawn as inline SVG.
//
// One lane per participant: the page that called fetch() on the left, then
// each server origin the run touched. One arrow per request and one per
// response, in the order they crossed the wire. Preflights are dashed,
// redirects have their own colour and show where they point, and the hop
// where the browser stopped JavaScript from reading is marked.
//
// In the one-origin setup the page talks only to its own origin, app,
// whose proxy (a CDN) passes the request on to api or s3. Those hops
// (their requests carry the proxy's Via header) are drawn from the app
// lane, "app (CDN)", to lanes marked "behind app", inside the
// browser's exchange that caused them: the browser never reaches api or
// s3 itself.
//
// When the run has the model's verdict (run.verdict) and the model agrees
// with the browser, the mark goes where the model says it failed
// (verdict.failedSeq, or the page itself when fetch() threw before
// sending), labelled with the failing step. Otherwise, and for runs
// without a verdict, the mark goes on the last response. A preflight the
// browser took from its cache gets a note on the page lane, since no
// OPTIONS arrow can show it. A WebSocket's frames follow its 101 (the
// first MAX_FRAME_ARROWS), in both directions.
//
// Labels are fitted to the room they have, measured in the font they are
// drawn in (it grows with the projector's text size): a lane's name wraps
// to two lines, an arrow's label to two, and what still does not fit is
// abbreviated, never silently: the label's group then has a <title> with
// the whole text (a tooltip), the text keeps it in data-full, and every
// label is written out in full in the `describe` element, the diagram's
// accessible description.
//
// Every label is set with textContent (via svg()), never parsed as markup.

import { el, svg } from "./dom.js";
import { headerValue, isProxied } from "./log.js";
import { verdictOf, failureSpot, cacheStep, plainText } from "./verdict.js";

const MIN_WIDTH = 400;  // narrower, and the diagram scrolls sideways
const MARGIN = 12;
const LANE_GAP = 14;    // between two lane boxes
const MAX_BOX = 230;    // a lane box's widest, at the normal text size
const MAX_FRAME_ARROWS = 12;

/**
 * Draws `selection` ({run, exchanges, pending} from ExchangeLog.selection())
 * into `container`, replacing what was there.
 *   describe: an element to fill with the diagram in words, or null
 *   originURLs: role → origin ("http://127.0.0.1:8082")
 *   shortTarget(target): strips the session prefix from a request target
 *   outcome: {tone, text} for the run (see runOutcome() in log.js)
 *   request, url: the request the form describes and the URL it would
 *     fetch, for the lanes drawn before the first run (selection null)
 */
export function drawDiagram(container, selection, { describe = null, originURLs, shortTarget, outcome, request: planned, url: plannedURL }) {
  const width = Math.max(MIN_WIDTH, container.clientWidth - 2);
  const { run, exchanges, pending } = selection ?? { run: { request: planned ?? {}, url: plannedURL }, exchanges: [], pending: false };
  const request = run.request ?? {};
  const fonts = new Fonts(container);
  const em = fonts.size("arrow-label");          // 13.5px at the normal size
  const line = Math.round(em * 1.25);            // between two lines of a label
  const ROW = Math.round(em * 2.5);              // between a request and its response, and between exchanges
  const TOP = 6;
  const words = [];                              // the diagram in words, for `describe`

  // Lanes: the page; the proxy it went through, if any; the target the
  // request was meant for; then anything else the run touched (a redirect
  // to s3, say), in order of appearance.
  const proxy = proxyRole(run, exchanges, originURLs);
  const lanes = [pageLane(request.from, originURLs, request.lookalikeHost)];
  if (proxy) lanes.push({ key: proxy, title: `${proxy} (CDN)`, sub: hostPort(originURLs[proxy] ?? "") });
  const serverRoles = [];
  for (const role of [request.target, ...exchanges.map((e) => e.origin)]) {
    if (role && role !== proxy && !serverRoles.includes(role)) serverRoles.push(role);
  }
  for (const role of serverRoles) {
    // Behind the proxy: only the proxy reached it (or, before the run,
    // the page would reach it through the proxy).
    const mine = exchanges.filter((e) => e.origin === role);
    const behind = proxy && (mine.length > 0 ? mine.every(isProxied) : role === request.target);
    // Lane boxes are narrow: a short line, and the sentence as a tooltip.
    lanes.push(behind
      ? { key: role, title: `${role} server`, sub: `behind ${proxy}`, behind: true,
          tip: `Only ${proxy}'s proxy reaches ${role} here: the browser never does` }
      : { key: role, title: `${role} server`, sub: hostPort(originURLs[role] ?? "") });
  }

  const boxW = Math.min(MAX_BOX * em / 13.5, (width - MARGIN * 2) / lanes.length - LANE_GAP);
  const inBox = boxW - 10;
  for (const lane of lanes) {
    lane.titleLines = fonts.wrap("lane-title", lane.title, inBox, 2);
    // The port alone says which origin it is (they share the host: see
    // the header), when the whole host:port does not fit.
    const port = /:\d+$/.exec(lane.sub)?.[0];
    lane.subLines = fonts.wrap("lane-sub", lane.sub, inBox, 1, port);
  }
  const titleH = Math.round(fonts.size("lane-title") * 1.2);
  const subH = Math.round(fonts.size("lane-sub") * 1.25);
  const boxH = 10 + Math.max(...lanes.map((l) => l.titleLines.lines.length)) * titleH + subH;
  const firstRow = TOP + boxH + Math.round(em * 2.4);

  const left = MARGIN + boxW / 2;
  const right = width - MARGIN - boxW / 2;
  const step = lanes.length > 1 ? (right - left) / (lanes.length - 1) : 0;
  lanes.forEach((lane, i) => { lane.x = left + i * step; });
  const laneX = (role) => (lanes.find((l) => l.key === role) ?? lanes[lanes.length - 1]).x;
  const pageX = lanes[0].x;
  // A hop the proxy made starts at the proxy's lane (app's, or the
  // last-drawn server when the run somehow has no proxy lane).
  const proxyX = proxy ? laneX(proxy) : pageX;
  words.push(`Lanes, left to right: ${lanes.map(laneWords).join("; ")}.`);

  // What the model says, once the run is over and only where it agrees
  // with the browser: the browser is the truth we draw.
  const model = selection && !pending ? verdictOf(run) : null;
  const spot = model?.agrees ? failureSpot(model, exchanges) : null;
  const cached = model && !exchanges.some((e) => e.kind === "preflight") ? cacheStep(model) : null;
  // A row above the arrows for a note on the page lane.
  const noteRow = cached || (spot?.index === -1 && exchanges.length > 0) ? 1 : 0;

  // The arrows, laid out first: a label on two lines needs a taller row.
  const arrows = [];
  const name = (x) => lanes.find((l) => l.x === x)?.title ?? "";
  // label: what the arrow says; full: the same in full, where it is
  // shorter than that (a redirect's Location without its query).
  const plan = (x1, x2, label, cls, full = label) => {
    const room = Math.max(Math.abs(x2 - x1) - 16, em * 4);
    const fitted = fonts.wrap("arrow-label", label, room, 2);
    arrows.push({ x1, x2, full, cls, fitted });
    words.push(`${full}: ${name(x1)} → ${name(x2)}.`);
    return arrows[arrows.length - 1];
  };
  // After a 101 (ex), its socket's frames (selection.frames, from
  // frames.js), below a spare row where the ✓ mark's words go.
  const socketArrows = (ex, fromX, serverX) => {
    const mine = (selection?.frames ?? []).filter((f) => f.exchange === Number(ex.seq));
    if (mine.length === 0) return;
    arrows.push({ spacer: true, fitted: { lines: [""] } });
    for (const f of mine.slice(0, MAX_FRAME_ARROWS)) {
      plan(f.toServer ? fromX : serverX, f.toServer ? serverX : fromX, f.label, "socket", f.full);
    }
    const more = mine.length - MAX_FRAME_ARROWS;
    if (more > 0) {
      const text = `+${more} more ${more === 1 ? "frame" : "frames"}`;
      arrows.push({ more: text, x: (fromX + serverX) / 2, fitted: { lines: [text] } });
      words.push(`${text}.`);
    }
  };
  let y = firstRow + noteRow * ROW;
  const responses = new Map(); // seq → the arrow of a response the page got
  let lastResponse = null;
  for (const { ex, carried } of hopOrder(exchanges, shortTarget)) {
    const proxied = isProxied(ex);
    const fromX = proxied ? proxyX : pageX;
    const serverX = laneX(ex.origin);
    const kind = String(ex.kind ?? "");
    const preflight = kind === "preflight";
    const req = ex.request ?? {};
    plan(fromX, serverX, `${req.method ?? ""} ${shortTarget(req.target)}${preflight ? "  (preflight)" : ""}`,
      proxied ? "request proxied" : preflight ? "preflight" : "request");
    // The proxy's own hop happens while the browser waits for this answer.
    for (const inner of carried) {
      const innerReq = inner.request ?? {};
      plan(proxyX, laneX(inner.origin), `${innerReq.method ?? ""} ${shortTarget(innerReq.target)}`, "request proxied");
      const [label, full] = responseLabel(inner, originURLs, shortTarget);
      plan(laneX(inner.origin), proxyX, label, "response proxied", full);
    }
    const res = ex.response ?? {};
    const status = Number(res.status ?? 0);
    const isRedirect = kind === "redirect" || (status >= 300 && status < 400 && headerValue(res.headers, "Location"));
    const cls = proxied ? "response proxied" : isRedirect ? "redirect" : preflight ? "preflight response" : "response";
    const [label, full] = responseLabel(ex, originURLs, shortTarget);
    const back = plan(serverX, fromX, label, cls, full);
    if (!proxied) {
      lastResponse = back;
      responses.set(Number(ex.seq), back);
    }
    if (status === 101) socketArrows(ex, fromX, serverX);
  }
  for (const a of arrows) {
    y += (a.fitted.lines.length - 1) * line; // room above the arrow for its label's first line
    a.y = y;
    y += ROW;
  }
  const lastResponseY = lastResponse?.y ?? null;
  const height = Math.max(firstRow + ROW, y) + Math.round(em * 2.4);

  const root = svg("svg", {
    width, height, viewBox: `0 0 ${width} ${height}`, "aria-hidden": "true", class: "seq",
  });

  // Lane boxes and lifelines.
  for (const lane of lanes) {
    const box = lane.page ? " page" : lane.behind ? " behind" : "";
    const cut = lane.titleLines.cut || lane.subLines.cut;
    const tip = [cut ? `${lane.title} — ${lane.sub}` : "", lane.tip ?? ""].filter(Boolean).join(". ");
    const titleTop = TOP + 5 + titleH * 0.8;
    root.append(
      svg("line", { class: "lifeline", x1: lane.x, y1: TOP + boxH, x2: lane.x, y2: height - 8 }),
      svg("g", { class: "lane" },
        tip ? svg("title", {}, tip) : null,
        svg("rect", { class: `lane-box${box}`, x: lane.x - boxW / 2, y: TOP, width: boxW, height: boxH, rx: 6 }),
        lane.titleLines.lines.map((text, i) =>
          label("lane-title", lane.x, titleTop + i * titleH, text, lane.titleLines.cut && lane.title, "middle")),
        label("lane-sub", lane.x, TOP + boxH - 7, lane.subLines.lines[0] ?? "", lane.subLines.cut && lane.sub, "middle")));
  }

  if (cached) root.append(cacheNote(pageX, firstRow, width - MARGIN, cached.text, fonts));

  for (const a of arrows) {
    if (a.more) root.append(label("more-frames", a.x, a.y, a.more, "", "middle"));
    else if (!a.spacer) root.append(arrow(a, line));
  }

  // Where the browser's decision shows.
  const room = width - MARGIN - pageX - 17;
  // Under the last hop there is room for two more lines; under another,
  // the next arrow comes first.
  const markAt = (x, y, symbol, text, tone, detail = "", full = detail ? `${text}: ${detail}` : text) => {
    words.push(`${symbol} ${full}`);
    return mark(x, y, symbol, text, tone, room, detail, full, fonts, line, y >= (lastResponseY ?? y) ? 2 : 0);
  };
  if (!selection) {
    const text = "Press Run: each request and response will be drawn here.";
    const fitted = fonts.wrap("placeholder", text, Math.max(room, em * 8), 2);
    const g = svg("g", { class: "placeholder-note" }, fitted.cut ? svg("title", {}, text) : null);
    fitted.lines.forEach((t, i) => g.append(label("placeholder", (pageX + lanes[lanes.length - 1].x) / 2, firstRow + 4 + i * line, t, fitted.cut && text, "middle")));
    root.append(g);
    words.push(text);
  } else if (pending) {
    root.append(svg("text", { class: "mark-wait", x: pageX + 14, y: (lastResponseY ?? firstRow - ROW) + ROW - 4 }, "waiting…"));
  } else if (spot) {
    if (spot.index === -1) {
      // The step usually says "fetch() throws…" itself; else say it first.
      const [first, rest] = /fetch\(\)/.test(spot.label) ? [spot.label, ""] : ["fetch() threw before sending", spot.label];
      root.append(markAt(pageX, firstRow, "✗", first, "blocked", rest, spot.label || first));
    } else {
      const failed = responses.get(Number(exchanges[spot.index].seq)) ?? lastResponse;
      failed?.node.classList.add("blocked");
      root.append(markAt(pageX, failed?.y ?? firstRow, "✗", spot.label || "blocked here", "blocked", "", spot.label || "blocked here"));
    }
  } else if (outcome.tone === "refused") {
    // corslab turned a request away (refused.js): no CORS decision to mark.
    root.append(markAt(pageX, lastResponseY ?? firstRow, "⊘", "corslab refused a request: not CORS", "refused"));
  } else if (outcome.tone === "ok" && lastResponseY !== null) {
    root.append(markAt(pageX, lastResponseY, "✓", "JS read it", "ok"));
  } else if (outcome.tone !== "ok") {
    const text = outcome.tone === "opaque" ? "opaque: JS sees nothing" : "blocked here";
    if (lastResponseY === null) {
      root.append(markAt(pageX, firstRow, "✗", "no request reached a server", "blocked"));
    } else {
      lastResponse.node.classList.add(outcome.tone === "opaque" ? "opaque" : "blocked");
      root.append(markAt(pageX, lastResponseY, "✗", text, outcome.tone === "opaque" ? "opaque" : "blocked"));
    }
  }
  container.replaceChildren(root);
  describe?.replaceChildren(el("ol", {}, words.map((w) => el("li", {}, w))));
}

/** "browser page (app), 127.0.0.1:8081" */
function laneWords(lane) {
  return [lane.title, lane.sub, lane.tip].filter(Boolean).join(", ");
}

/**
 * An SVG text at (x, y). full: the whole label when this text is only
 * part of it (wrapped and abbreviated), kept in data-full.
 */
function label(cls, x, y, text, full, anchor) {
  return svg("text", { class: cls, x, y, "text-anchor": anchor, "data-full": full || null }, text);
}

/**
 * The origin whose proxy the page went through, or "": "app" when the run
 * has hops the app's proxy made (their Via header), or when the URL the
 * page fetched is on an origin other than the request's target (the
 * one-origin setup sends target api to app's /api/, target s3 to app's
 * /files/).
 */
function proxyRole(run, exchanges, originURLs) {
  if (exchanges.some(isProxied)) return "app";
  let origin = "";
  try {
    origin = new URL(run.url ?? "").origin;
  } catch {
    return "";
  }
  const role = Object.keys(originURLs).find((r) => originURLs[r] === origin);
  return role && role !== run.request?.target ? role : "";
}

/**
 * The exchanges in the order to draw them: [{ex, carried}], where carried
 * are the proxy's hops made for the browser's exchange ex, drawn between
 * its request and its response. A proxy hop is recorded before the
 * exchange that carried it (that one ends last), so it is matched by what
 * the proxy does to the path: app's /api/rest goes to api's /rest, and
 * /files/rest to s3's /rest, same method. A hop matched to nothing is
 * drawn where it falls in seq order.
 */
function hopOrder(exchanges, shortTarget) {
  const hops = exchanges.filter(isProxied);
  const claimed = new Set();
  const out = [];
  const carrier = new Map(); // the browser's exchange → its proxy hops
  for (const ex of exchanges) {
    if (isProxied(ex)) continue;
    const target = shortTarget(ex.request?.target);
    const upstream = target.startsWith("/api/") ? ["api", target.slice(4)]
      : target.startsWith("/files/") ? ["s3", target.slice(6)] : null;
    const hop = upstream && hops.find((h) => !claimed.has(h) && h.origin === upstream[0] &&
      h.request?.method === ex.request?.method && shortTarget(h.request?.target) === upstream[1]);
    if (hop) claimed.add(hop);
    carrier.set(ex, hop ? [hop] : []);
  }
  for (const ex of exchanges) {
    if (claimed.has(ex)) continue;
    out.push({ ex, carried: carrier.get(ex) ?? [] });
  }
  return out;
}

/**
 * [label, full]: "200 OK", or for a redirect "303 See Other → s3
 * /hello.txt?…" and the same with the whole Location.
 */
function responseLabel(ex, originURLs, shortTarget) {
  const res = ex.response ?? {};
  const status = Number(res.status ?? 0);
  const label = `${status} ${res.reason ?? ""}`.trim();
  const location = status >= 300 && status < 400 ? headerValue(res.headers, "Location") : null;
  if (!location) return [label, label];
  return [`${label} → ${describeLocation(location, originURLs, shortTarget)}`, `${label} → ${location}`];
}

function pageLane(from, originURLs, lookalikeHost = "") {
  if (from === "sandbox") {
    return { key: "page", page: true, title: "sandboxed page", sub: "Origin: null" };
  }
  if (from === "data") {
    return { key: "page", page: true, title: "data: page", sub: "Origin: null",
      tip: "a frame whose document is a data: URL, made by app's page: its origin is opaque" };
  }
  // These two are app's frames that keep app's origin.
  if (from === "srcdoc") {
    return { key: "page", page: true, title: "srcdoc page", sub: hostPort(originURLs.app ?? ""),
      tip: "an <iframe srcdoc> in app's page: its document takes app's origin" };
  }
  if (from === "sandbox-same-origin") {
    return { key: "page", page: true, title: "sandboxed, same-origin", sub: hostPort(originURLs.app ?? ""),
      tip: "an iframe served by app, sandbox=\"allow-scripts allow-same-origin\": it keeps app's origin" };
  }
  if (from === "lookalike") {
    const port = originURLs.app ? new URL(originURLs.app).port : "";
    return { key: "page", page: true, title: "look-alike page", sub: `${lookalikeHost}:${port}` };
  }
  return { key: "page", page: true, title: `browser page (${from})`, sub: hostPort(originURLs[from] ?? "") };
}

/**
 * One labelled horizontal arrow, as planned in drawDiagram: from x1 to x2
 * at height y, its label (fitted: one or two lines) above it.
 */
function arrow(a, line) {
  const { x1, x2, y, cls, fitted, full } = a;
  const dir = Math.sign(x2 - x1) || 1;
  const tip = x2 - dir * 2;
  const n = fitted.lines.length;
  const whole = n > 1 || fitted.cut || full !== fitted.lines[0] ? full : "";
  a.node = svg("g", { class: `arrow-group ${cls}` },
    whole ? svg("title", {}, whole) : null,
    svg("line", { class: "arrow", x1, y1: y, x2: tip - dir * 8, y2: y }),
    svg("polygon", { class: "head", points: `${tip},${y} ${tip - dir * 11},${y - 6} ${tip - dir * 11},${y + 6}` }),
    fitted.lines.map((text, i) => label("arrow-label", (x1 + x2) / 2, y - 8 - (n - 1 - i) * line, text, whole, "middle")));
  return a.node;
}

/**
 * A ✓/✗ on the page lane at height y, with a few words beside it on one
 * line (what does not fit goes on to the next), and an optional quieter
 * detail under them, on up to two lines. The whole text is the tooltip.
 */
function mark(x, y, symbol, text, tone, room, detail, full, fonts, line, detailLines) {
  let head = fonts.wrap("mark-text", text, room, 1);
  let rest = detailLines > 0 ? detail : "";
  if (head.cut && !detail && detailLines > 0) {
    // Too long for a line: the words that fit, then the rest as detail.
    const first = fonts.wrap("mark-text", text, room, Infinity).lines[0];
    head = { lines: [first], cut: false };
    rest = text.slice(text.indexOf(first) + first.length).trim();
  }
  const more = rest ? fonts.wrap("mark-detail", rest, room, detailLines) : { lines: [], cut: false };
  const headY = y + Math.round(fonts.size("mark-text") * 1.35);
  // Whenever the words on screen are not all of `full`, each line says so.
  const cut = head.cut || more.lines.length > 0 || rest !== detail;
  return svg("g", { class: `mark mark-${tone}` },
    svg("title", {}, full),
    svg("circle", { cx: x, cy: y, r: 12 }),
    svg("text", { class: "mark-symbol", x, y: y + 5, "text-anchor": "middle" }, symbol),
    label("mark-text", x + 17, headY, head.lines[0] ?? "", cut && full),
    more.lines.map((t, i) => label("mark-detail", x + 17, headY + (i + 1) * line, t, full)));
}

/**
 * "preflight cached" in a small box on the page lane at height y, and the
 * model's words for it beside it, up to `right` (the whole of them in the
 * tooltip).
 */
function cacheNote(x, y, right, stepText, fonts) {
  const text = plainText(stepText);
  const w = fonts.width("cache-note-title", "⟳ preflight cached") + 22;
  const fitted = fonts.wrap("cache-note-text", text, right - x - w / 2 - 8, 1);
  return svg("g", { class: "cache-note" },
    svg("title", {}, text),
    svg("rect", { x: x - w / 2, y: y - 15, width: w, height: 22, rx: 11 }),
    svg("text", { class: "cache-note-title", x, y: y + 1, "text-anchor": "middle" }, "⟳ preflight cached"),
    label("cache-note-text", x + w / 2 + 8, y + 1, fitted.lines[0] ?? "", fitted.cut && text));
}

/** Where a redirect points, short: "s3 /bucket/key?…" for our own origins. */
function describeLocation(location, originURLs, shortTarget) {
  let url;
  try {
    url = new URL(location, "http://relative.invalid");
  } catch {
    return location;
  }
  if (url.origin === "http://relative.invalid") return shortTarget(url.pathname) + (url.search ? "?…" : "");
  const role = Object.keys(originURLs).find((r) => originURLs[r] === url.origin);
  const where = role ?? url.host;
  return `${where} ${shortTarget(url.pathname)}${url.search ? "?…" : ""}`;
}

/**
 * The fonts of the diagram's labels, as lab.css sets them for each class
 * (they follow the projector's text size), and text measured in them.
 * A probe <svg class="seq"> in the container reads the computed fonts; the
 * drawing that replaces the container's children removes it.
 */
class Fonts {
  constructor(container) {
    this.probe = svg("svg", { class: "seq", width: 0, height: 0, "aria-hidden": "true" });
    this.probe.style.position = "absolute";
    container.append(this.probe);
    this.fonts = new Map(); // class → {font, size}
    this.ctx = document.createElement("canvas").getContext("2d");
  }

  font(cls) {
    if (!this.fonts.has(cls)) {
      const text = svg("text", { class: cls }, "x");
      this.probe.append(text);
      const cs = getComputedStyle(text);
      this.fonts.set(cls, { font: `${cs.fontStyle} ${cs.fontWeight} ${cs.fontSize} ${cs.fontFamily}`, size: parseFloat(cs.fontSize) || 14 });
    }
    return this.fonts.get(cls);
  }

  /** The font size in pixels of a class's text. */
  size(cls) {
    return this.font(cls).size;
  }

  /** How wide text is, in pixels, in a class's font. */
  width(cls, text) {
    this.ctx.font = this.font(cls).font;
    return this.ctx.measureText(text).width;
  }

  /**
   * Fits text into lines of at most `room` pixels: broken at spaces, and
   * a word longer than a line after a "/", "?", "&" or "=", else anywhere.
   * More than maxLines: `short` if given and it fits, else the first
   * lines, the last one cut with "…". Returns {lines, cut}.
   */
  wrap(cls, text, room, maxLines, short = "") {
    const s = String(text ?? "");
    const fits = (t) => this.width(cls, t) <= room;
    if (fits(s)) return { lines: [s], cut: false };
    const lines = [];
    let current = "";
    for (let token of s.split(/(?<= )|(?<=[/?&=])(?=.)/)) {
      if (fits(current + token)) {
        current += token;
        continue;
      }
      if (current.trim()) lines.push(current.trimEnd());
      current = "";
      while (!fits(token.trimEnd()) && token.length > 1) {
        let n = token.length - 1;
        while (n > 1 && !fits(token.slice(0, n))) n--;
        lines.push(token.slice(0, n));
        token = token.slice(n);
      }
      current = token.trimStart();
    }
    if (current.trim()) lines.push(current.trimEnd());
    if (lines.length <= maxLines) return { lines, cut: false };
    if (short && fits(short)) return { lines: [short], cut: true };
    const kept = lines.slice(0, maxLines);
    let last = kept[kept.length - 1];
    while (last.length > 0 && !fits(`${last}…`)) last = last.slice(0, -1);
    kept[kept.length - 1] = `${last.trimEnd()}…`;
    return { lines: kept, cut: true };
  }
}

function hostPort(origin) {
  return String(origin).replace(/^https?:\/\//, "");
}
