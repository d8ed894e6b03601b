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
// OPTIONS arrow can show it.
//
// Every label is set with textContent (via svg()), never parsed as markup.

import { svg } from "./dom.js";
import { headerValue, isProxied } from "./log.js";
import { verdictOf, failureSpot, cacheStep, plainText } from "./verdict.js";

const TOP = 6;          // space above the lane boxes
const BOX_H = 42;       // lane box height
const FIRST_ROW = 78;   // y of the first arrow
const ROW = 34;         // between a request and its response, and between exchanges
const MARGIN = 12;

/**
 * Draws `selection` ({run, exchanges, pending} from ExchangeLog.selection())
 * into `container`, replacing what was there.
 *   originURLs: role → origin ("http://127.0.0.1:8082")
 *   shortTarget(target): strips the session prefix from a request target
 *   outcome: {tone, text} for the run (see runOutcome() in log.js)
 *   request, url: the request the form describes and the URL it would
 *     fetch, for the lanes drawn before the first run (selection null)
 */
export function drawDiagram(container, selection, { originURLs, shortTarget, outcome, request: planned, url: plannedURL }) {
  const width = Math.max(520, container.clientWidth - 2);
  const { run, exchanges, pending } = selection ?? { run: { request: planned ?? {}, url: plannedURL }, exchanges: [], pending: false };
  const request = run.request ?? {};

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

  const boxW = Math.min(230, (width - MARGIN * 2) / lanes.length - 24);
  const left = MARGIN + boxW / 2;
  const right = width - MARGIN - boxW / 2;
  const step = lanes.length > 1 ? (right - left) / (lanes.length - 1) : 0;
  lanes.forEach((lane, i) => { lane.x = left + i * step; });
  const laneX = (role) => lanes.find((l) => l.key === role)?.x ?? lanes[lanes.length - 1].x;
  const pageX = lanes[0].x;
  // A hop the proxy made starts at the proxy's lane (app's, or the
  // last-drawn server when the run somehow has no proxy lane).
  const proxyX = proxy ? laneX(proxy) : pageX;

  // What the model says, once the run is over and only where it agrees
  // with the browser: the browser is the truth we draw.
  const model = selection && !pending ? verdictOf(run) : null;
  const spot = model?.agrees ? failureSpot(model, exchanges) : null;
  const cached = model && !exchanges.some((e) => e.kind === "preflight") ? cacheStep(model) : null;
  // A row above the arrows for a note on the page lane.
  const noteRow = cached || (spot?.index === -1 && exchanges.length > 0) ? 1 : 0;

  const rows = Math.max(1, exchanges.length * 2) + noteRow;
  const height = FIRST_ROW + rows * ROW + 24;
  const root = svg("svg", {
    width, height, viewBox: `0 0 ${width} ${height}`, "aria-hidden": "true", class: "seq",
  });

  // Lane boxes and lifelines.
  for (const lane of lanes) {
    const box = lane.page ? " page" : lane.behind ? " behind" : "";
    root.append(
      svg("line", { class: "lifeline", x1: lane.x, y1: TOP + BOX_H, x2: lane.x, y2: height - 8 }),
      svg("g", {},
        lane.tip ? svg("title", {}, lane.tip) : null,
        svg("rect", { class: `lane-box${box}`, x: lane.x - boxW / 2, y: TOP, width: boxW, height: BOX_H, rx: 6 }),
        svg("text", { class: "lane-title", x: lane.x, y: TOP + 18, "text-anchor": "middle" }, fit(lane.title, boxW)),
        svg("text", { class: "lane-sub", x: lane.x, y: TOP + 35, "text-anchor": "middle" }, fit(lane.sub, boxW))));
  }

  if (cached) root.append(cacheNote(pageX, FIRST_ROW, width - MARGIN, cached.text));

  // Arrows: request then response, for each exchange in the order the
  // hops happened (see hopOrder). The browser's own responses are
  // remembered by seq, for the ✓/✗ marks below.
  let y = FIRST_ROW + noteRow * ROW;
  const responses = new Map(); // seq → {y, arrow} of a response the page got
  let lastResponse = null;
  for (const { ex, carried } of hopOrder(exchanges, shortTarget)) {
    const proxied = isProxied(ex);
    const fromX = proxied ? proxyX : pageX;
    const serverX = laneX(ex.origin);
    const kind = String(ex.kind ?? "");
    const preflight = kind === "preflight";
    const req = ex.request ?? {};
    const reqLabel = `${req.method ?? ""} ${shortTarget(req.target)}${preflight ? "  (preflight)" : ""}`;
    root.append(arrow(fromX, serverX, y, reqLabel, proxied ? "request proxied" : preflight ? "preflight" : "request"));
    y += ROW;
    // The proxy's own hop happens while the browser waits for this answer.
    for (const inner of carried) {
      const innerReq = inner.request ?? {};
      root.append(arrow(proxyX, laneX(inner.origin), y, `${innerReq.method ?? ""} ${shortTarget(innerReq.target)}`, "request proxied"));
      y += ROW;
      root.append(arrow(laneX(inner.origin), proxyX, y, responseLabel(inner, originURLs, shortTarget), "response proxied"));
      y += ROW;
    }
    const res = ex.response ?? {};
    const status = Number(res.status ?? 0);
    const isRedirect = kind === "redirect" || (status >= 300 && status < 400 && headerValue(res.headers, "Location"));
    const cls = proxied ? "response proxied" : isRedirect ? "redirect" : preflight ? "preflight response" : "response";
    const back = arrow(serverX, fromX, y, responseLabel(ex, originURLs, shortTarget), cls);
    root.append(back);
    if (!proxied) {
      lastResponse = { y, arrow: back };
      responses.set(Number(ex.seq), lastResponse);
    }
    y += ROW;
  }
  const lastResponseY = lastResponse?.y ?? null;

  // Where the browser's decision shows.
  if (!selection) {
    root.append(svg("text", { class: "placeholder", x: (pageX + lanes[lanes.length - 1].x) / 2, y: FIRST_ROW + 4, "text-anchor": "middle" },
      "Press Run: each request and response will be drawn here."));
  } else if (pending) {
    root.append(svg("text", { class: "mark-wait", x: pageX + 14, y: (lastResponseY ?? FIRST_ROW - ROW) + ROW - 4 }, "waiting…"));
  } else if (spot) {
    const room = width - MARGIN - pageX - 17;
    if (spot.index === -1) {
      // The step usually says "fetch() throws…" itself; else say it first.
      const [first, rest] = /fetch\(\)/.test(spot.label) ? splitLine(spot.label, room) : ["fetch() threw before sending", spot.label];
      root.append(mark(pageX, FIRST_ROW, "✗", first, "blocked", room, rest, spot.label || first));
    } else {
      const failed = responses.get(Number(exchanges[spot.index].seq)) ?? lastResponse;
      failed?.arrow.classList.add("blocked");
      // Below the last hop there is room for the step's words on two lines.
      const [first, rest] = failed === lastResponse ? splitLine(spot.label, room) : [spot.label, ""];
      root.append(mark(pageX, failed?.y ?? FIRST_ROW, "✗", first || "blocked here", "blocked", room, rest, spot.label));
    }
  } else if (outcome.tone === "refused") {
    // corslab turned a request away (refused.js): no CORS decision to mark.
    root.append(mark(pageX, lastResponseY ?? FIRST_ROW, "⊘", "corslab refused a request: not CORS", "refused"));
  } else if (outcome.tone === "ok" && lastResponseY !== null) {
    root.append(mark(pageX, lastResponseY, "✓", "JS read it", "ok"));
  } else if (outcome.tone !== "ok") {
    const text = outcome.tone === "opaque" ? "opaque: JS sees nothing" : "blocked here";
    if (lastResponseY === null) {
      root.append(mark(pageX, FIRST_ROW, "✗", "no request reached a server", "blocked"));
    } else {
      lastResponse.arrow.classList.add(outcome.tone === "opaque" ? "opaque" : "blocked");
      root.append(mark(pageX, lastResponseY, "✗", text, outcome.tone === "opaque" ? "opaque" : "blocked"));
    }
  }
  container.replaceChildren(root);
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

/** "200 OK", or for a redirect "303 See Other → s3 /hello.txt?…". */
function responseLabel(ex, originURLs, shortTarget) {
  const res = ex.response ?? {};
  const status = Number(res.status ?? 0);
  let label = `${status} ${res.reason ?? ""}`.trim();
  const location = status >= 300 && status < 400 ? headerValue(res.headers, "Location") : null;
  if (location) label += ` → ${describeLocation(location, originURLs, shortTarget)}`;
  return label;
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

/** One labelled horizontal arrow from x1 to x2 at height y. */
function arrow(x1, x2, y, label, cls) {
  const dir = Math.sign(x2 - x1) || 1;
  const tip = x2 - dir * 2;
  const room = Math.abs(x2 - x1) - 16;
  return svg("g", { class: `arrow-group ${cls}` },
    svg("line", { class: "arrow", x1, y1: y, x2: tip - dir * 8, y2: y }),
    svg("polygon", { class: "head", points: `${tip},${y} ${tip - dir * 11},${y - 6} ${tip - dir * 11},${y + 6}` }),
    svg("text", { class: "arrow-label", x: (x1 + x2) / 2, y: y - 8, "text-anchor": "middle" }, fit(label, room)));
}

/**
 * A ✓/✗ on the page lane at height y, with a few words beside it, cut to
 * `room` pixels (the whole text is the tooltip), and an optional second,
 * quieter line.
 */
function mark(x, y, symbol, text, tone, room = 240, detail = "", full = detail ? `${text}: ${detail}` : text) {
  return svg("g", { class: `mark mark-${tone}` },
    svg("title", {}, full),
    svg("circle", { cx: x, cy: y, r: 12 }),
    svg("text", { class: "mark-symbol", x, y: y + 5, "text-anchor": "middle" }, symbol),
    svg("text", { class: "mark-text", x: x + 17, y: y + 19 }, fit(text, room)),
    detail ? svg("text", { class: "mark-detail", x: x + 17, y: y + 37 }, fit(detail, room)) : null);
}

/**
 * "preflight cached" in a small box on the page lane at height y, and the
 * model's words for it beside it, up to `right`.
 */
function cacheNote(x, y, right, stepText) {
  const text = plainText(stepText);
  const w = 136;
  return svg("g", { class: "cache-note" },
    svg("title", {}, text),
    svg("rect", { x: x - w / 2, y: y - 15, width: w, height: 22, rx: 11 }),
    svg("text", { class: "cache-note-title", x, y: y + 1, "text-anchor": "middle" }, "⟳ preflight cached"),
    svg("text", { class: "cache-note-text", x: x + w / 2 + 8, y: y + 1 }, fit(text, right - x - w / 2 - 8)));
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

/** Splits text at a space so the first part fits in about `px` pixels. */
function splitLine(text, px) {
  const max = Math.max(4, Math.floor(px / 8.4));
  const s = String(text ?? "");
  if (s.length <= max) return [s, ""];
  const cut = s.lastIndexOf(" ", max);
  return cut > 0 ? [s.slice(0, cut), s.slice(cut + 1)] : [s, ""];
}

/** Cuts a label so it fits in about `px` pixels (monospace-ish estimate). */
function fit(text, px) {
  const max = Math.max(4, Math.floor(px / 8.4));
  const s = String(text ?? "");
  return s.length <= max ? s : s.slice(0, max - 1) + "…";
}

function hostPort(origin) {
  return String(origin).replace(/^https?:\/\//, "");
}
