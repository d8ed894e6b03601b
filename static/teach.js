// teach.js: the instructor's dashboard (views/teach.templ).
//
// The page starts from the class as the server rendered it ("teach-data":
// {class, learnerUrl}), then follows /teach/ws, which sends the whole class
// again, {"type": "class", ...}, whenever something changed (at most about
// once a second). The class is playground/class's Snapshot: its lessons,
// with their totals, and its learners, with their progress per lesson.
//
// Learners choose their own nicknames, so anything may be in one: every
// piece of the class is put on the page as text (dom.js's el()), never
// parsed as HTML.
//
// A class may be a thousand learners. Each grid row is drawn again only
// when its learner changed, and the rows go into the table in one go. No
// cell has a listener of its own: the only things to press in the grid are
// Watch links and a learner's list of sessions (a <details>, which opens
// by itself).

import { el } from "./dom.js";
import { copyText, confirmCopied } from "./clipboard.js";

const FIRST_DELAY_MS = 500;
const MAX_DELAY_MS = 5000;

const $ = (id) => document.getElementById(id);
const data = JSON.parse($("teach-data").textContent);

let lessons = [];     // class.Lesson, in the curriculum's order: the grid's columns
let lessonKey = "";   // their slugs, to notice when the columns change
let rows = new Map(); // learner key → {sig, tr}: each row as last drawn

// ----- the class -----

/** Shows a class.Snapshot: the counts, the announcement, the lessons, the grid. */
function show(snap) {
  $("count-learners").textContent = String(snap.learners?.length ?? 0);
  $("count-sessions").textContent = String(snap.sessions ?? 0);
  $("count-online").textContent = String(snap.online ?? 0);
  showAnnouncement(snap.announcement ?? null);
  showLessons(snap.lessons ?? []);
  showLearners(snap.learners ?? []);
}

/** Each lesson's totals over the class. */
function showLessons(list) {
  lessons = list;
  const key = list.map((l) => l.slug).join(" ");
  if (key !== lessonKey) {
    lessonKey = key;
    rows = new Map(); // every row has a cell per lesson: draw them all again
    drawGridHead();
  }
  $("summary-rows").replaceChildren(...list.map((l) => el("tr", { "data-lesson": l.slug },
    el("th", { scope: "row", title: l.title }, el("span", { class: "lesson-no" }, `${number(l)}.`), " ", l.title),
    el("td", { class: "num started" }, String(l.started)),
    el("td", { class: "num done" }, String(l.done)),
    el("td", { class: "num runs" }, String(l.runs)),
    el("td", { class: l.blocked > 0 ? "num blocked some" : "num blocked" }, String(l.blocked)),
  )));
}

/**
 * A lesson's number in the whole curriculum (1 to 18 for the built-in
 * lessons), as the lesson index shows it: the server numbers them.
 */
function number(lesson) {
  return lesson.number || lessons.indexOf(lesson) + 1;
}

function drawGridHead() {
  $("grid-head").replaceChildren(el("tr", {},
    el("th", { scope: "col", class: "who" }, "Learner"),
    el("th", { scope: "col" }, "Now on"),
    el("th", { scope: "col" }, el("span", { class: "visually-hidden" }, "Watch")),
    el("th", { scope: "col" }, "Tabs"),
    lessons.map((l) => el("th", { scope: "col", class: "lesson-col", title: l.title, "aria-label": `${number(l)}. ${l.title}` }, String(number(l)))),
  ));
}

/**
 * The grid's rows, in the server's order (by nickname). The server makes
 * one row per learner, with all their sessions in it; a page that has not
 * said whose it is yet is a row of its own session.
 */
function showLearners(list) {
  const body = $("grid-body");
  const next = new Map();
  const trs = list.map((learner) => {
    const key = learner.id || `session:${learner.current?.session}`;
    const sig = JSON.stringify(learner);
    let row = rows.get(key);
    if (!row || row.sig !== sig) {
      const tr = learnerRow(learner);
      // A list of sessions the instructor opened stays open.
      const open = row?.tr.querySelector("details")?.open;
      if (open) tr.querySelector("details")?.setAttribute("open", "");
      row = { sig, tr };
    }
    next.set(key, row);
    return row.tr;
  });
  rows = next;
  $("grid-empty").hidden = list.length > 0;
  const same = trs.length === body.children.length && trs.every((tr, i) => body.children[i] === tr);
  if (same) return;
  const all = document.createDocumentFragment();
  for (const tr of trs) all.append(tr);
  body.replaceChildren(all);
}

/** "4. Preflight cache", or "the lab" for a session of no lesson. */
function lessonName(slug) {
  const l = lessons.find((x) => x.slug === slug);
  return l ? `${number(l)}. ${l.title}` : slug || "the lab";
}

/**
 * A Watch link, only to a path on this origin: /teach/learners/{session}.
 * what, when given, says which of a learner's sessions it watches.
 */
function watchLink(session, what = "") {
  if (!/^\/teach\/learners\/[A-Za-z0-9]+$/.test(session.watchUrl ?? "")) return null;
  return el("a", {
    class: "watch", href: session.watchUrl, target: "_blank", rel: "noopener",
    title: "Their page, read-only (a new tab)", "aria-label": what ? `Watch ${what}` : null,
  }, "Watch");
}

const plural = (n, one, many) => `${n} ${n === 1 ? one : many}`;

function learnerRow(learner) {
  const now = learner.current ?? {};
  // Online while any page of theirs is: one closed tab of two is not gone.
  const online = Boolean(learner.online);
  const shortId = (learner.id || now.session || "").slice(0, 6);
  const onLesson = lessonName(now.lesson);
  return el("tr", { class: online ? "online" : "offline", "data-learner": learner.id || null },
    el("th", { scope: "row", class: "who" },
      el("span", { class: "dot", title: online ? "online" : "offline" }),
      el("span", { class: "visually-hidden" }, online ? "online: " : "offline: "),
      el("span", { class: learner.nickname ? "name" : "name unnamed", title: learner.nickname || null }, learner.nickname || "(no name yet)"),
      " ",
      el("code", { class: "short-id", title: learner.id ? `learner ${learner.id}` : `session ${now.session}` }, shortId)),
    el("td", { class: "now-on", title: onLesson }, onLesson),
    el("td", {}, watchLink(now)),
    el("td", { class: "tabs" }, sessionList(learner)),
    lessons.map((l) => progressCell(l, learner.lessons?.[l.slug])),
  );
}

/**
 * A learner's tabs and sessions: "2 tabs open", and when they have more
 * than one session, a list of them (the server sends the most recent few)
 * with each one's open tabs and its own Watch link.
 */
function sessionList(learner) {
  const sessions = learner.sessions ?? [];
  const count = learner.sessionCount ?? sessions.length;
  const summary = `${learner.pages ? plural(learner.pages, "tab", "tabs") + " open" : "no tab open"}` +
    (count > 1 ? ` · ${plural(count, "session", "sessions")}` : "");
  if (count <= 1) return el("span", { class: "tab-count" }, summary);
  return el("details", { class: "sessions" },
    el("summary", { class: "tab-count" }, summary),
    el("ul", {}, sessions.map((s) => el("li", { class: s.online ? "online" : "offline", "data-session": s.session },
      el("span", { class: "dot", "aria-hidden": "true" }), // the words say it
      lessonName(s.lesson), " — ",
      s.online ? `${plural(s.pages, "tab", "tabs")} open` : `closed, last used ${clock(s.lastSeen)}`,
      " ", watchLink(s, lessonName(s.lesson)),
    ))),
    count > sessions.length ? el("p", { class: "more" }, `and ${count - sessions.length} older`) : null,
  );
}

/**
 * Which goals are met, in words: "goals 1, 2 and 4 of 4 met". The dots
 * show it too, but not to everyone (a screen reader, a colour-blind eye,
 * a washed-out projector), so the words go with them.
 */
export function goalsMetText(goals) {
  const met = goals.flatMap((m, i) => (m ? [i + 1] : []));
  const total = goals.length;
  if (met.length === 0) return `none of ${total} ${total === 1 ? "goal" : "goals"} met`;
  if (met.length === total) return total === 1 ? "the goal met" : `all ${total} goals met`;
  const list = met.length === 1 ? String(met[0]) : `${met.slice(0, -1).join(", ")} and ${met.at(-1)}`;
  return `${met.length === 1 ? "goal" : "goals"} ${list} of ${total} met`;
}

/**
 * One learner's progress in one lesson: a dot per goal, in the lesson's
 * order, filled when met (●●○● is goals 1, 2 and 4). The words say the
 * same; the tooltip adds each goal's text.
 */
function progressCell(lesson, progress) {
  if (!progress) return el("td", { class: "cell", "data-lesson": lesson.slug });
  const met = new Set(progress.met ?? []);
  // goals: one boolean per goal, from the server; met ids as a fallback.
  const goals = progress.goals ?? lesson.goals.map((g) => met.has(g.id));
  const words = goalsMetText(goals);
  const title = [
    `${number(lesson)}. ${lesson.title}: ${words}${progress.done ? " — done" : ""}`,
    ...lesson.goals.map((g, i) => `${goals[i] ? "✓" : "○"} ${i + 1}. ${g.text}`),
    `${plural(progress.runs, "run", "runs")}, ${progress.blocked} blocked`,
  ].join("\n");
  const state = progress.done ? "done" : met.size > 0 ? "some" : "started";
  return el("td", {
    class: `cell ${state}`, title, "data-lesson": lesson.slug,
    "data-met": goals.filter(Boolean).length, "data-total": goals.length,
  },
  el("span", { class: "dots", role: "img", "aria-label": words },
    goals.map((m) => el("span", { class: m ? "goal met" : "goal open" }, m ? "●" : "○"))));
}

// ----- "Ask everyone to open" -----

const select = $("announce-lesson");
const sendButton = $("announce-send");
const clearButton = $("announce-clear");
const announceError = $("announce-error");

let announced = null; // the current class.Announcement, or null

function showAnnouncement(a) {
  announced = a;
  const current = $("announce-current");
  current.classList.toggle("on", Boolean(a));
  current.textContent = a
    ? `Asking everyone to open “${a.title}” (since ${clock(a.at)}).`
    : "Not asking for anything now.";
  clearButton.disabled = !a;
}

function clock(at) {
  const d = new Date(at);
  return Number.isNaN(d.getTime()) ? "just now" : d.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
}

/** Asks every learner's page to open a lesson; "" takes it back. */
async function announce(slug) {
  announceError.hidden = true;
  sendButton.disabled = true;
  clearButton.disabled = true;
  let res = null;
  let answer = null;
  try {
    res = await fetch("/teach/api/announce", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ lesson: slug }),
    });
    answer = await res.json();
  } catch { /* said below */ }
  sendButton.disabled = false;
  if (res?.status === 401) {
    signedOut();
  } else if (res?.ok) {
    showAnnouncement(answer); // the announcement, or null when taken back
  } else {
    clearButton.disabled = !announced;
    announceError.textContent = res ? answer?.error ?? `The server answered ${res.status}.` : "Could not reach corslab.";
    announceError.hidden = false;
  }
}

$("announce-form").addEventListener("submit", (event) => {
  event.preventDefault();
  announce(select.value);
});
clearButton.addEventListener("click", () => announce(""));

// ----- the learners' address -----

const copyButton = $("copy-learner-url");
const copyField = $("copy-field");
const copyFallback = $("copy-fallback");
copyButton.addEventListener("click", async () => {
  const copied = await copyText(data.learnerUrl, { field: copyField, show: (on) => { copyFallback.hidden = !on; } });
  $("copy-status").textContent = copied ? "Copied the address" : "Press Ctrl+C to copy the selected address";
  if (copied) confirmCopied(copyButton, "Copy");
});
copyField.addEventListener("blur", () => { copyFallback.hidden = true; });
copyField.addEventListener("keydown", (event) => {
  if (event.key === "Escape") {
    copyFallback.hidden = true;
    copyButton.focus();
  }
});

// ----- following the class -----

let delay = FIRST_DELAY_MS;

function setState(state, words) {
  $("conn").dataset.state = state;
  $("conn-text").textContent = words;
}

function connect() {
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  const socket = new WebSocket(`${scheme}//${location.host}/teach/ws`);
  socket.addEventListener("open", () => {
    delay = FIRST_DELAY_MS;
    setState("live", "live");
  });
  socket.addEventListener("message", (event) => {
    let msg;
    try {
      msg = JSON.parse(event.data);
    } catch {
      return;
    }
    if (msg?.type === "class") show(msg);
  });
  // "close" follows "error" too, so reconnecting here covers both.
  socket.addEventListener("close", reconnectLater);
}

/**
 * The socket closed, or never opened. A refused handshake looks like any
 * other failure from here, so ask the API whether we are still signed in:
 * 401 means the cookie is gone, and retrying is pointless.
 */
async function reconnectLater() {
  try {
    const res = await fetch("/teach/api/class", { method: "HEAD" });
    if (res.status === 401) {
      signedOut();
      return;
    }
  } catch { /* corslab is down: keep trying */ }
  setState("reconnecting", "reconnecting…");
  setTimeout(connect, delay);
  delay = Math.min(delay * 2, MAX_DELAY_MS);
}

function signedOut() {
  setState("gone", "signed out");
  $("signed-out").hidden = false;
  sendButton.disabled = true;
  clearButton.disabled = true;
}

// ----- start -----

show(data.class);
if (data.class.announcement) select.value = data.class.announcement.lesson;
connect();
