// diagram.js: a sequence diagram of one run, drawn as inline SVG.
//
// One lane per participant: the page that called fetch() on the left, then
// each server origin the run touched. One arrow per request and one per
// response, in the order they crossed the wire. Preflights are dashed,
// redirects have their own colour and show where they point, and the hop
// where the browser stopped JavaScript from reading is marked.
//
// Every label is set with textContent (via svg()), never parsed as markup.

import { svg } from "./dom.js";
import { headerValue } from "./log.js";

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
 *   outcome: {tone, text} for the run (see verdict() in log.js)
 */
export function drawDiagram(container, selection, { originURLs, shortTarget, outcome, request: planned }) {
  const width = Math.max(520, container.clientWidth - 2);
  // Before the first run, draw the lanes of the request the form describes.
  const { run, exchanges, pending } = selection ?? { run: { request: planned ?? {} }, exchanges: [], pending: false };
  const request = run.request ?? {};

  // Lanes: the page, the target the request was meant for, then anything
  // else the run touched (a redirect to s3, say), in order of appearance.
  const lanes = [pageLane(request.from, originURLs)];
  const serverRoles = [];
  for (const role of [request.target, ...exchanges.map((e) => e.origin)]) {
    if (role && !serverRoles.includes(role)) serverRoles.push(role);
  }
  for (const role of serverRoles) {
    lanes.push({ key: role, title: `${role} server`, sub: hostPort(originURLs[role] ?? "") });
  }

  const boxW = Math.min(230, (width - MARGIN * 2) / lanes.length - 24);
  const left = MARGIN + boxW / 2;
  const right = width - MARGIN - boxW / 2;
  const step = lanes.length > 1 ? (right - left) / (lanes.length - 1) : 0;
  lanes.forEach((lane, i) => { lane.x = left + i * step; });
  const laneX = (role) => lanes.find((l) => l.key === role)?.x ?? lanes[lanes.length - 1].x;
  const pageX = lanes[0].x;

  const rows = Math.max(1, exchanges.length * 2);
  const height = FIRST_ROW + rows * ROW + 24;
  const root = svg("svg", {
    width, height, viewBox: `0 0 ${width} ${height}`, "aria-hidden": "true", class: "seq",
  });

  // Lane boxes and lifelines.
  for (const lane of lanes) {
    root.append(
      svg("line", { class: "lifeline", x1: lane.x, y1: TOP + BOX_H, x2: lane.x, y2: height - 8 }),
      svg("rect", { class: `lane-box${lane.page ? " page" : ""}`, x: lane.x - boxW / 2, y: TOP, width: boxW, height: BOX_H, rx: 6 }),
      svg("text", { class: "lane-title", x: lane.x, y: TOP + 18, "text-anchor": "middle" }, fit(lane.title, boxW)),
      svg("text", { class: "lane-sub", x: lane.x, y: TOP + 35, "text-anchor": "middle" }, fit(lane.sub, boxW)));
  }

  // Arrows: request then response, for each exchange in seq order.
  let y = FIRST_ROW;
  let lastResponseY = null;
  for (const ex of exchanges) {
    const req = ex.request ?? {};
    const res = ex.response ?? {};
    const kind = String(ex.kind ?? "");
    const serverX = laneX(ex.origin);
    const preflight = kind === "preflight";
    const reqLabel = `${req.method ?? ""} ${shortTarget(req.target)}${preflight ? "  (preflight)" : ""}`;
    root.append(arrow(pageX, serverX, y, reqLabel, preflight ? "preflight" : "request"));
    y += ROW;

    const status = Number(res.status ?? 0);
    const isRedirect = kind === "redirect" || (status >= 300 && status < 400 && headerValue(res.headers, "Location"));
    let resLabel = `${status} ${res.reason ?? ""}`.trim();
    if (isRedirect) {
      const location = headerValue(res.headers, "Location");
      if (location) resLabel += ` → ${describeLocation(location, originURLs, shortTarget)}`;
    }
    const cls = isRedirect ? "redirect" : preflight ? "preflight response" : "response";
    root.append(arrow(serverX, pageX, y, resLabel, cls));
    lastResponseY = y;
    y += ROW;
  }

  // Where the browser's decision shows.
  if (!selection) {
    root.append(svg("text", { class: "placeholder", x: (pageX + lanes[lanes.length - 1].x) / 2, y: FIRST_ROW + 4, "text-anchor": "middle" },
      "Press Run: each request and response will be drawn here."));
  } else if (pending) {
    root.append(svg("text", { class: "mark-wait", x: pageX + 14, y: (lastResponseY ?? FIRST_ROW - ROW) + ROW - 4 }, "waiting…"));
  } else if (outcome.tone === "ok" && lastResponseY !== null) {
    root.append(mark(pageX, lastResponseY, "✓", "JS read it", "ok"));
  } else if (outcome.tone !== "ok") {
    const text = outcome.tone === "opaque" ? "opaque: JS sees nothing" : "blocked here";
    if (lastResponseY === null) {
      root.append(mark(pageX, FIRST_ROW, "✗", "no request reached a server", "blocked"));
    } else {
      root.querySelectorAll(".arrow-group").item(exchanges.length * 2 - 1)?.classList.add(outcome.tone === "opaque" ? "opaque" : "blocked");
      root.append(mark(pageX, lastResponseY, "✗", text, outcome.tone === "opaque" ? "opaque" : "blocked"));
    }
  }
  container.replaceChildren(root);
}

function pageLane(from, originURLs) {
  if (from === "sandbox") {
    return { key: "page", page: true, title: "sandboxed page", sub: "Origin: null" };
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

/** A ✓/✗ on the page lane at height y, with a few words beside it. */
function mark(x, y, symbol, text, tone) {
  return svg("g", { class: `mark mark-${tone}` },
    svg("circle", { cx: x, cy: y, r: 12 }),
    svg("text", { class: "mark-symbol", x, y: y + 5, "text-anchor": "middle" }, symbol),
    svg("text", { class: "mark-text", x: x + 17, y: y + 19 }, text));
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

/** Cuts a label so it fits in about `px` pixels (monospace-ish estimate). */
function fit(text, px) {
  const max = Math.max(4, Math.floor(px / 8.4));
  const s = String(text ?? "");
  return s.length <= max ? s : s.slice(0, max - 1) + "…";
}

function hostPort(origin) {
  return String(origin).replace(/^https?:\/\//, "");
}
