// lesson.js: a lesson beside the lab (views/lessons.templ), on the lesson
// page and in the embed view.
//
//   LessonGoals   the goals as a checklist that turns green by itself
//   Hints         one more hint each time the learner asks
//   progress.js   which goals this browser has met, in localStorage
//   embed-cookies.js  in the embed view in another site's frame: says so
//                 when the browser keeps the lesson's cookie back
//
// The server decides whether a goal is met: it checks the session's own
// runs and exchanges (GET /api/sessions/{id}/goals, playground/lesson).
// This page only asks again after each run and each exchange the stream
// brings, and shows the answer. What was met is also remembered in this
// browser, per lesson, so that the index (/lessons) shows progress across
// sessions: a goal met once stays done there, whatever happens later. A
// lesson on a host of its own (corslab.localhost) keeps that record with
// the host the learner came from (progress.js).

import { el } from "./dom.js";
import { isRefusal, retryAfter } from "./api.js";
import { loadProgress, saveProgress, takeCarried, mergeCarried, followProgress } from "./progress.js";
import { CookieNote } from "./embed-cookies.js";

// Several events arrive together (a run and its exchanges): ask once, a
// moment after the last of them.
const REFRESH_DELAY_MS = 250;

// ----- progress in localStorage (progress.js) -----

// Still offered here, where they were first.
export { progressKey, loadProgress, saveProgress } from "./progress.js";

/** "2 of 3 goals", "1 of 1 goal": for the index. */
export function progressText(done, total) {
  return `${done} of ${total} ${total === 1 ? "goal" : "goals"}`;
}

/**
 * Each goal's state: "met" when the server says this session met it,
 * "before" when only this browser's memory of earlier sessions has it,
 * else "open".
 */
export function goalStates(ids, metNow, doneBefore) {
  return new Map(ids.map((id) => [id, metNow.has(id) ? "met" : doneBefore.has(id) ? "before" : "open"]));
}

// ----- sharing -----

/** Escapes text for an HTML attribute value in double quotes. */
function attributeText(text) {
  return String(text)
    .replaceAll("&", "&amp;")
    .replaceAll('"', "&quot;")
    .replaceAll("<", "&lt;")
    .replaceAll(">", "&gt;");
}

/**
 * The HTML a learner pastes into their own page to embed a lesson. The
 * address is escaped as HTML requires: "&" between parameters is "&amp;".
 */
export function iframeSnippet(src, title) {
  return `<iframe src="${attributeText(src)}" width="100%" height="640" ` +
    `title="${attributeText(`corslab: ${title}`)}" loading="lazy"></iframe>`;
}

// ----- the goals -----

const STATE_WORDS = {
  open: "not yet",
  met: "done ✓",
  before: "done before",
};
const STATE_TITLES = {
  open: "Not met yet in this session",
  met: "Met in this session",
  before: "Met in an earlier session in this browser; not yet in this one",
};

export class LessonGoals {
  /**
   * @param {HTMLElement} list  the goals' <ol> (goalList in lessons.templ)
   * @param {object} options
   *   slug: the lesson's slug, for its progress in localStorage
   *   goalsUrl: GET → [{id, met, at, run, seq}] for this session
   *   counters: elements that show "1 of 3 done"
   *   done: the element shown once every goal is done, or null
   *   onMet(words): goals were just met in this session; words says
   *     which ("Goal 2 met ✓"), for a status line
   *   onShowRun(runId): the learner asked to see the run that met a goal
   *   remember: keep the progress in this browser (false in the
   *     instructor's read-only view: it is another browser's progress)
   */
  constructor(list, { slug, goalsUrl, counters = [], done, onMet, onShowRun, remember = true }) {
    this.slug = slug;
    this.remember = remember;
    this.goalsUrl = goalsUrl;
    this.counters = counters.filter(Boolean);
    this.done = done;
    this.onMet = onMet;
    this.onShowRun = onShowRun;
    this.items = new Map(); // goal id → its <li>
    for (const li of list.querySelectorAll("li[data-goal]")) this.items.set(li.dataset.goal, li);
    this.metNow = new Map();     // goal id → its status from the server, when met
    // What a link from another host carried here (progress.js): read
    // now, before lab.js rewrites the address bar.
    this.carried = remember ? takeCarried() : null;
    this.doneBefore = remember ? loadProgress(slug) : new Set();
    this.loaded = false;         // the first answer announces nothing
    this.timer = 0;
    this.inFlight = false;
    this.again = false;
    this.stopped = false;
    // In the embed view, in someone's frame: whether its cookies work.
    this.cookieNote = remember ? CookieNote.forEmbed(goalsUrl) : null;
  }

  /** Shows what this browser remembers, then asks the server. */
  start() {
    this.show();
    this.refreshNow();
    if (!this.remember) return; // another browser's progress: leave ours alone
    followProgress(document);
    if (this.carried) this.mergeCarried(this.carried);
  }

  /**
   * Adds the progress a link carried to this browser's record: only the
   * lessons and goals this corslab has (GET /api/lessons), or, without
   * its answer, this lesson's own goals.
   */
  async mergeCarried(carried) {
    let known = new Map([[this.slug, new Set(this.items.keys())]]);
    try {
      const res = await fetch("/api/lessons");
      const list = res.ok ? await res.json() : null;
      if (Array.isArray(list)) {
        known = new Map(list.map((l) => [String(l?.slug), new Set((l?.goals ?? []).map((g) => String(g?.id)))]));
      }
    } catch { /* offline for a moment: this lesson's goals will do */ }
    mergeCarried(carried, known);
    this.doneBefore = loadProgress(this.slug);
    this.show();
  }

  /** Asks the server again soon: after a run, or an exchange from the stream. */
  refresh() {
    if (this.stopped) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.refreshNow(), REFRESH_DELAY_MS);
  }

  async refreshNow() {
    clearTimeout(this.timer);
    if (this.stopped) return;
    // One question at a time, so an old answer never overwrites a newer one.
    if (this.inFlight) {
      this.again = true;
      return;
    }
    this.inFlight = true;
    try {
      const res = await fetch(this.goalsUrl);
      if (res.status === 404) {
        this.stopped = true; // the session is gone: the stream says so
        return;
      }
      if (isRefusal(res)) {
        // corslab refused for a moment (its rate limits): no event may
        // come to ask again, so ask when it says.
        clearTimeout(this.timer);
        this.timer = setTimeout(() => this.refreshNow(), retryAfter(res) * 1000);
        return;
      }
      if (res.ok) {
        this.update(await res.json());
        this.cookieNote?.check(); // the same runs may show a cookie kept back
      }
    } catch {
      // Offline for a moment: the next event asks again.
    } finally {
      this.inFlight = false;
      if (this.again) {
        this.again = false;
        this.refresh();
      }
    }
  }

  /** Takes the server's answer: [{id, met, at, run, seq}]. */
  update(statuses) {
    if (!Array.isArray(statuses)) return;
    const newlyMet = [];
    for (const st of statuses) {
      if (!st?.met || !this.items.has(st.id)) continue;
      if (!this.metNow.has(st.id) && this.loaded) newlyMet.push(st.id);
      this.metNow.set(st.id, st);
    }
    this.loaded = true;
    if (this.remember) this.doneBefore = saveProgress(this.slug, this.metNow.keys());
    this.show();
    if (newlyMet.length > 0) this.announce(newlyMet);
  }

  /** Draws every goal's state, the counters and the "all done" note. */
  show() {
    const states = goalStates([...this.items.keys()], this.metNow, this.doneBefore);
    let done = 0;
    for (const [id, state] of states) {
      if (state !== "open") done++;
      const li = this.items.get(id);
      if (li.dataset.state === state) continue;
      li.dataset.state = state;
      li.title = STATE_TITLES[state];
      li.querySelector(".goal-state").textContent = STATE_WORDS[state];
      li.querySelector(".goal-run")?.remove();
      const run = this.metNow.get(id)?.run;
      if (state === "met" && run && this.onShowRun) {
        // Which run did it: one click selects it in the log.
        const button = el("button", { type: "button", class: "goal-run secondary small", title: "Show this run in the log" }, `run #${run}`);
        button.addEventListener("click", () => this.onShowRun(run));
        li.querySelector(".goal-body").append(button);
      }
    }
    const total = this.items.size;
    const metHere = [...states.values()].filter((s) => s === "met").length;
    for (const counter of this.counters) {
      // Beside the word "Goals": "1 of 3 done".
      counter.textContent = `${done} of ${total} done`;
      counter.classList.toggle("all-done", done === total);
      counter.title = metHere === done
        ? `${progressText(done, total)} met in this session`
        : `${metHere} met in this session, ${done - metHere} only in an earlier session`;
    }
    if (this.done) this.done.hidden = done < total;
  }

  /** Says which goals were just met, and makes them glow for a moment. */
  announce(ids) {
    const numbers = ids.map((id) => [...this.items.keys()].indexOf(id) + 1);
    this.onMet?.(numbers.length === 1
      ? `Goal ${numbers[0]} met ✓`
      : `Goals ${numbers.slice(0, -1).join(", ")} and ${numbers.at(-1)} met ✓`);
    for (const id of ids) {
      const li = this.items.get(id);
      li.classList.remove("just-met");
      void li.offsetWidth; // restart the animation
      li.classList.add("just-met");
    }
    for (const counter of this.counters) {
      counter.classList.remove("just-met");
      void counter.offsetWidth;
      counter.classList.add("just-met");
    }
  }
}

// ----- hints -----

/** The lesson's hints: hidden until asked for, one at a time. */
export class Hints {
  /**
   * @param {HTMLElement} list    the hints' <ol>, its items hidden
   * @param {HTMLButtonElement} button  "Show a hint"
   */
  constructor(list, button) {
    this.items = [...list.children];
    this.button = button;
    button.addEventListener("click", () => this.next());
    this.label();
  }

  next() {
    const hint = this.items.find((li) => li.hidden);
    if (!hint) return;
    hint.hidden = false;
    this.label();
    // The button is gone after the last hint: keep the focus on the page.
    if (this.button.hidden) {
      hint.tabIndex = -1;
      hint.focus();
    }
  }

  label() {
    const shown = this.items.filter((li) => !li.hidden).length;
    const total = this.items.length;
    this.button.hidden = shown === total;
    this.button.textContent = shown === 0
      ? `Show a hint (${total} in all)`
      : `Show hint ${shown + 1} of ${total}`;
  }
}
