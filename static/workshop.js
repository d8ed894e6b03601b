// workshop.js: the learner's side of a workshop, on the lab and lesson
// pages (lab.js wires it in).
//
//   NicknameField       "Your name for the instructor", in the header,
//                       whenever the instructor's dashboard is on
//                       (lab-data's workshop)
//   AnnouncementBanner  "Your instructor asks everyone to open: …", when
//                       the session's websocket brings an announce frame
//
// Who the learner is lives in this browser: a random learner id, made
// once, and the nickname they chose, both in localStorage. Each page tells
// its session as it opens (PUT /api/sessions/{id}/learner), with or
// without a name yet, so that the instructor's dashboard shows one person,
// one row, across every tab and session they open.

import { el, nonce } from "./dom.js";

const LEARNER_KEY = "corslab.learner";
const NICKNAME_KEY = "corslab.nickname";
const DISMISSED_KEY = "corslab.announcement.dismissed";

// What the server accepts as a learner id.
const LEARNER_ID = /^[A-Za-z0-9_-]{8,64}$/;

/**
 * Storage can be refused (a sandboxed or third-party frame): then nothing
 * is remembered, which is not an error.
 */
function load(storage, key) {
  try {
    return storage.getItem(key) ?? "";
  } catch {
    return "";
  }
}

function store(storage, key, value) {
  try {
    storage.setItem(key, value);
  } catch { /* this page only, then */ }
}

/**
 * This browser's learner id, made on first use. crypto.randomUUID exists
 * only in a secure context; a workshop on a plain-http LAN address is not
 * one, so nonce() (crypto.getRandomValues) stands in there.
 */
export function learnerId() {
  let id = load(localStorage, LEARNER_KEY);
  if (!LEARNER_ID.test(id)) {
    id = typeof crypto.randomUUID === "function" ? crypto.randomUUID() : nonce();
    store(localStorage, LEARNER_KEY, id);
  }
  return id;
}

/**
 * Tells the server whose session this is. nickname null means "no name
 * chosen yet": the session joins the learner's row all the same. Resolves
 * to {ok: true, nickname} or {ok: false, error}: the server's reason when
 * it refused the nickname ("The name must be 1 to 40 characters"), else
 * what went wrong.
 */
export async function putLearner(sessionId, learner, nickname) {
  let res;
  try {
    res = await fetch(`/api/sessions/${encodeURIComponent(sessionId)}/learner`, {
      method: "PUT",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ learner, nickname }),
    });
  } catch {
    return { ok: false, error: "Could not reach corslab: try again." };
  }
  let data = null;
  try {
    data = await res.json();
  } catch { /* said below */ }
  if (res.ok) return { ok: true, nickname: data?.nickname ?? nickname };
  const errors = data?.errors ?? {};
  if (errors.nickname) return { ok: false, error: `The name ${errors.nickname}` };
  const [field, message] = Object.entries(errors)[0] ?? [];
  return { ok: false, error: field ? `${field}: ${message}` : data?.error ?? `The server answered ${res.status}` };
}

/**
 * "Your name for the instructor": a small form in the page's header. The
 * name typed is kept as typed when the server refuses it, with its
 * reason beside it; one it accepts is remembered for the next pages.
 */
export class NicknameField {
  /**
   * @param {HTMLElement} header  the page's .topbar
   * @param {string} sessionId
   */
  constructor(header, sessionId) {
    this.sessionId = sessionId;
    this.input = el("input", {
      type: "text", id: "nickname", name: "nickname", autocomplete: "nickname",
      spellcheck: "false", placeholder: "e.g. Ada", "aria-describedby": "nickname-status",
    });
    this.status = el("span", { id: "nickname-status", class: "nickname-status", "aria-live": "polite" });
    this.form = el("form", { class: "nickname", id: "nickname-form", novalidate: true },
      el("label", { for: "nickname" }, "Your name for the instructor"),
      this.input,
      el("button", { type: "submit", class: "secondary small" }, "Save"),
      this.status);
    const actions = header.querySelector(".actions");
    if (actions) actions.before(this.form);
    else header.append(this.form);

    const saved = load(localStorage, NICKNAME_KEY);
    this.input.value = saved;
    this.form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.save();
    });
    // This session is this learner's, and so is a name chosen on an
    // earlier page. Without one yet, the dashboard still puts the session
    // in their row (as "(no name yet)") until they save one.
    putLearner(sessionId, learnerId(), saved || null);
  }

  async save() {
    const result = await putLearner(this.sessionId, learnerId(), this.input.value);
    this.form.classList.toggle("has-error", !result.ok);
    if (result.ok) {
      this.input.removeAttribute("aria-invalid");
      this.input.value = result.nickname; // trimmed, as the instructor sees it
      store(localStorage, NICKNAME_KEY, result.nickname);
      this.status.textContent = "Saved ✓";
    } else {
      this.input.setAttribute("aria-invalid", "true");
      this.status.textContent = result.error;
    }
  }
}

/**
 * The instructor's "everyone, open lesson X". It is hidden on that
 * lesson's own pages, once dismissed (by announcement id, for this tab),
 * and when the instructor takes it back (lesson "").
 */
export class AnnouncementBanner {
  /**
   * @param {object} options
   *   lesson: this page's lesson slug, "" on the lab
   *   embed: in someone's iframe, the lesson opens in a new tab
   */
  constructor({ lesson = "", embed = false } = {}) {
    this.lesson = lesson;
    this.id = 0;
    this.title = el("strong", { class: "announcement-title" });
    this.link = el("a", { class: "button-link", id: "announcement-open" }, "Open lesson");
    if (embed) {
      this.link.target = "_blank";
      this.link.rel = "noopener";
    }
    const dismiss = el("button", { type: "button", class: "secondary small", id: "announcement-dismiss" }, "Dismiss");
    this.root = el("div", { class: "announcement", id: "announcement", role: "status", hidden: true },
      el("p", {}, "Your instructor asks everyone to open: ", this.title),
      this.link, dismiss);
    dismiss.addEventListener("click", () => {
      store(sessionStorage, DISMISSED_KEY, String(this.id));
      this.root.hidden = true;
    });
    const header = document.querySelector(".topbar, .embed-bar");
    if (header) header.after(this.root);
    else document.body.prepend(this.root);
  }

  /** Takes an announce frame: {id, lesson, title, url}. */
  show({ id, lesson, title, url }) {
    this.id = Number(id) || 0;
    const hide = !lesson || lesson === this.lesson || load(sessionStorage, DISMISSED_KEY) === String(this.id);
    this.root.hidden = hide;
    if (hide) return;
    this.title.textContent = title || lesson;
    // A path on this origin, as the server sends it: /lessons/{slug}.
    this.link.href = /^\/[^/\\]/.test(url ?? "") ? url : `/lessons/${encodeURIComponent(lesson)}`;
  }
}
