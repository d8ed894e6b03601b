// progress.js: which lesson goals this browser has met, and how that stays
// one record whatever host a lesson needs.
//
// The record is in localStorage, one key per lesson ("corslab:lesson:preflight"
// → ["asked-first", …]). localStorage belongs to an origin, though:
// http://127.0.0.1:8080 and http://corslab.localhost:8080 each have their
// own, although one corslab serves both. And a lesson may need a host of
// its own (its front matter's host:, e.g. corslab.localhost), where the
// server moves the learner. Left alone, what they met there would be saved
// there, and the index on the host they came from would never show it.
//
// So the progress travels with the learner, in the fragment of a link
// that changes host:
//
//   http://corslab.localhost:8080/lessons/allowlist-bypass
//     #progress=origins:same-origin-read;preflight:asked-first,put-through
//     &home=http://127.0.0.1:8080
//
// The page it opens adds that progress to its own record (only adding: a
// goal met stays met; only lessons and goals this corslab has), keeps
// "home" (the host the learner came from) for this tab, and takes the
// fragment out of the address bar. Its links to the curriculum, Next or
// All lessons, then lead home, carrying what was met here. A fragment is
// never sent to the server: the progress stays in the browser.
//
// The server helps by how it writes links (playground/handle_lesson.go,
// lessonURL): a link to a lesson that needs a host names that host; every
// other link to the curriculum is a path, which here means "at home".

// ----- the record -----

const PREFIX = "corslab:lesson:";

/** The localStorage key of a lesson's progress: a JSON list of goal ids. */
export function progressKey(slug) {
  return PREFIX + slug;
}

/**
 * The goal ids this browser has met in a lesson, in any session. Storage
 * can be refused (a sandboxed or third-party frame) or hold something
 * else: then nothing is known, which is not an error.
 */
export function loadProgress(slug) {
  try {
    const ids = JSON.parse(localStorage.getItem(progressKey(slug)) ?? "[]");
    return new Set(Array.isArray(ids) ? ids.filter((id) => typeof id === "string") : []);
  } catch {
    return new Set();
  }
}

/**
 * Adds goal ids to a lesson's progress and returns all of it. It only
 * ever adds: a goal met once stays met. The list is read again first, so
 * two tabs of the same lesson add to each other's progress.
 */
export function saveProgress(slug, ids) {
  const all = loadProgress(slug);
  const before = all.size;
  for (const id of ids) all.add(id);
  if (all.size !== before) {
    try {
      localStorage.setItem(progressKey(slug), JSON.stringify([...all]));
    } catch { /* storage refused: the progress lives on this page only */ }
  }
  return all;
}

// ----- carrying it across hosts -----

// Slugs and goal ids are lower-case words joined by single dashes
// (playground/lesson checks them), so ":", "," and ";" can separate them.
const NAME = /^[a-z0-9]+(-[a-z0-9]+)*$/;
// A fragment longer than this is not ours, or not worth reading.
const MAX_FRAGMENT = 8000;
// Where this tab's home is kept: per tab, as the way it came here is.
const HOME_KEY = "corslab:home";
// A link to the curriculum: the index, or a lesson (not a session of one).
const CURRICULUM = /^\/lessons(\/[a-z0-9]+(-[a-z0-9]+)*)?$/;

/**
 * Whether a host name always means this machine (RFC 6761, 6.3): only
 * then can another host be this same corslab. (As isLoopbackHost in
 * playground/hosts.go.)
 */
function isLoopback(hostname) {
  const h = hostname.toLowerCase().replace(/\.$/, "");
  return h === "localhost" || h.endsWith(".localhost") || /^127(\.\d{1,3}){3}$/.test(h) || h === "[::1]";
}

/**
 * Whether origin is this corslab on another host name: loopback like this
 * page's, same scheme and port. Nothing else may be home: a link must not
 * send the learner, or their progress, to some other site.
 */
function sameServer(origin) {
  try {
    const u = new URL(origin);
    return u.origin === origin && u.protocol === location.protocol && u.port === location.port &&
      isLoopback(u.hostname) && isLoopback(location.hostname);
  } catch {
    return false;
  }
}

/** The origin that holds the learner's record: home, or this one. */
export function homeOrigin() {
  try {
    const home = sessionStorage.getItem(HOME_KEY);
    if (home && sameServer(home)) return home;
  } catch { /* storage refused */ }
  return location.origin;
}

function rememberHome(home) {
  if (!home || !sameServer(home)) return;
  try {
    if (home === location.origin) sessionStorage.removeItem(HOME_KEY); // back home
    else sessionStorage.setItem(HOME_KEY, home);
  } catch { /* storage refused: links stay on this host */ }
}

/**
 * Reads what the link that opened this page carried, keeps its home, and
 * takes the fragment out of the address bar. Returns the progress it
 * carried, slug → goal ids, not yet checked (mergeCarried checks), or
 * null. Call it before anything rewrites the address (lab.js does).
 */
export function takeCarried() {
  const fragment = location.hash.slice(1);
  if (!fragment || fragment.length > MAX_FRAGMENT) return null;
  const params = new URLSearchParams(fragment);
  if (!params.has("progress") && !params.has("home")) return null; // an ordinary #anchor
  history.replaceState(history.state, "", location.pathname + location.search);
  rememberHome(params.get("home"));
  const carried = new Map();
  for (const part of (params.get("progress") ?? "").split(";")) {
    const [slug, ids = ""] = part.split(":");
    carried.set(slug, ids.split(","));
  }
  return carried;
}

/**
 * Adds carried progress to this origin's record, only what known (slug →
 * Set of goal ids: the lessons this corslab has) lists. It only adds.
 */
export function mergeCarried(carried, known) {
  for (const [slug, ids] of carried ?? []) {
    const goals = known.get(slug);
    const met = goals ? ids.filter((id) => goals.has(id)) : [];
    if (met.length > 0) saveProgress(slug, met);
  }
}

/** This origin's whole record as a fragment, with home: see the top. */
function carryFragment(home) {
  const lessons = [];
  let length = 0;
  try {
    for (let i = 0; i < localStorage.length; i++) {
      const key = localStorage.key(i) ?? "";
      const slug = key.slice(PREFIX.length);
      if (!key.startsWith(PREFIX) || !NAME.test(slug)) continue;
      const ids = [...loadProgress(slug)].filter((id) => NAME.test(id));
      const part = `${slug}:${ids.join(",")}`;
      if (ids.length === 0 || length + part.length > MAX_FRAGMENT - 200) continue;
      lessons.push(part);
      length += part.length + 1;
    }
  } catch { /* storage refused: nothing to carry */ }
  return `progress=${lessons.join(";")}&home=${home}`;
}

/**
 * Points one link where the learner's record is. A path to the
 * curriculum leads home; a link to another host of this corslab (a lesson
 * that needs one) stays. Either way, a link that leaves this origin
 * carries its progress, and home.
 */
function carryLink(a, home) {
  const written = a.dataset.written ?? a.getAttribute("href") ?? ""; // as the server wrote it
  let to;
  try {
    to = new URL(written, location.href);
  } catch {
    return;
  }
  if (!CURRICULUM.test(to.pathname)) return;
  if (/^\/(?!\/)/.test(written)) to = new URL(to.pathname + to.search, home);
  if (to.origin === location.origin || !sameServer(to.origin)) return;
  a.dataset.written = written;
  to.hash = carryFragment(home);
  a.href = to.href;
}

/**
 * Points the page's links to the curriculum home, now and again as the
 * learner follows one (the progress may have grown since): a click, a
 * middle click, or the menu's "open in new tab" or "copy link".
 */
export function followProgress(root = document) {
  const home = homeOrigin();
  for (const a of root.querySelectorAll("a[href]")) carryLink(a, home);
  for (const type of ["click", "auxclick", "contextmenu"]) {
    root.addEventListener(type, (event) => {
      const a = event.target.closest?.("a[href]");
      if (a) carryLink(a, homeOrigin());
    }, true);
  }
}
