// layout.js: getting around the lab page (lab.templ).
//
//   skip links     first in the page: to the lesson, to Run, to the log.
//                  They move the focus, not only the scroll position.
//   jump strip     the form's groups, one click each, at the top of the
//                  form's column; the group in view is marked.
//   Why toggle     where the results column is too narrow for the model's
//                  explanation beside the diagram, it takes the diagram's
//                  place on request.
//   All in full    beside a lesson's text, the goals other than the one to
//                  do now take a line each; this shows them whole.

/**
 * Moves the focus to `target`, scrolling it into view unless told not to:
 * an element that is not focusable of itself (a heading, a fieldset) gets
 * tabindex=-1. Reports whether it took the focus.
 */
export function focusOn(target, { scroll = true } = {}) {
  if (!target) return false;
  if (target.tabIndex < 0 && !target.hasAttribute("tabindex")) target.setAttribute("tabindex", "-1");
  target.focus({ preventScroll: !scroll });
  return document.activeElement === target;
}

/**
 * The skip links: each focuses its target. Run may be disabled for a
 * moment (the runner page is loading): the focus then goes to the run
 * bar's first control that can take it.
 */
export function wireSkipLinks(root = document) {
  for (const link of root.querySelectorAll("a.skip-link")) {
    link.addEventListener("click", (event) => {
      const target = document.getElementById(link.hash.slice(1));
      if (!target) return;
      event.preventDefault();
      const go = () => {
        if (!focusOn(target) && target.id === "run") {
          focusOn(target.closest(".runbar")?.querySelector("button:not(:disabled), select:not(:disabled)"));
        }
      };
      // From the keyboard, once the key is up: Enter would press Run too.
      if (event.detail === 0) afterKeyUp(go);
      else go();
    });
  }
}

/** Calls fn once the key now down is released (or soon, if no key is). */
function afterKeyUp(fn) {
  let done = false;
  const once = () => {
    if (done) return;
    done = true;
    document.removeEventListener("keyup", once, true);
    fn();
  };
  document.addEventListener("keyup", once, true);
  setTimeout(once, 400);
}

/**
 * The jump strip (lab.templ's groupNav) over the form in `panel`, the
 * scrolling column. A link leads to its group's legend, at the top of the
 * column, and focuses the group. Links to groups out of sight (a lesson
 * hides them) are left out; refresh() looks again (after "Show all
 * settings").
 */
export class JumpStrip {
  constructor(nav, panel) {
    this.nav = nav;
    this.panel = panel;
    this.links = [...nav.querySelectorAll("a[data-group]")];
    for (const link of nav.querySelectorAll("a[href^='#']")) {
      link.addEventListener("click", (event) => {
        const target = document.getElementById(link.hash.slice(1));
        if (!target || target.getClientRects().length === 0) return;
        event.preventDefault();
        // Its top just under the strip, which stays at the top.
        const delta = target.getBoundingClientRect().top - this.nav.getBoundingClientRect().bottom - 6;
        const scroller = scrollerOf(target);
        scroller.scrollBy({ top: delta });
        focusOn(target, { scroll: false });
        // The group asked for is the current one, even where the column
        // cannot scroll it to the top (the last ones), until it scrolls.
        this.chosen = link.dataset.group ? { link, scroller, at: scrollTop(scroller) } : null;
        this.mark();
      });
    }
    let queued = false;
    const onScroll = () => {
      if (queued) return;
      queued = true;
      requestAnimationFrame(() => { queued = false; this.mark(); });
    };
    // The column that scrolls: the panel, or the lesson's first column on
    // a narrower screen (or the page, on a narrow one).
    for (const scroller of new Set([panel, panel.parentElement, window])) {
      scroller?.addEventListener("scroll", onScroll, { passive: true });
    }
    this.refresh();
  }

  refresh() {
    for (const link of this.links) {
      const group = document.getElementById(link.dataset.group);
      link.parentElement.hidden = !group || getComputedStyle(group).display === "none";
    }
    this.nav.hidden = this.links.every((l) => l.parentElement.hidden);
    this.mark();
  }

  /**
   * Marks the link of the group at the top of the column (aria-current),
   * or of the group just asked for while the column stays where the link
   * put it.
   */
  mark() {
    if (this.chosen && Math.abs(scrollTop(this.chosen.scroller) - this.chosen.at) >= 2) this.chosen = null;
    const current = this.chosen?.link ?? this.atTop();
    for (const link of this.links) {
      if (link === current) link.setAttribute("aria-current", "location");
      else link.removeAttribute("aria-current");
    }
  }

  /** The link of the last group whose top has reached the strip (or the first group's). */
  atTop() {
    const top = this.nav.getBoundingClientRect().bottom + 8;
    let current = null;
    for (const link of this.links) {
      if (link.parentElement.hidden) continue;
      if (!current || document.getElementById(link.dataset.group).getBoundingClientRect().top <= top) current = link;
    }
    return current;
  }
}

function scrollTop(scroller) {
  return scroller === window ? window.scrollY : scroller.scrollTop;
}

/** The element that scrolls `node` into view: its nearest scrolling ancestor, or the page. */
function scrollerOf(node) {
  for (let up = node.parentElement; up && up !== document.body; up = up.parentElement) {
    const { overflowY } = getComputedStyle(up);
    if ((overflowY === "auto" || overflowY === "scroll") && up.scrollHeight > up.clientHeight) return up;
  }
  return window;
}

/**
 * The Why toggle: shown once the explanation pane is (it appears when the
 * server explains runs), it only acts where CSS hides the pane behind the
 * diagram (a narrow results column): pressed, the pane shows instead.
 */
export class WhyToggle {
  constructor(button, row, pane) {
    this.button = button;
    this.row = row;
    this.pane = pane;
    button.addEventListener("click", () => this.set(button.getAttribute("aria-pressed") !== "true"));
  }

  set(on) {
    this.button.setAttribute("aria-pressed", String(on));
    this.row.classList.toggle("show-why", on);
  }

  /** Follows the pane: no toggle for a pane that is not there. */
  sync() {
    this.button.hidden = this.pane.hidden;
  }
}

/** "All in full": the goals' panel shows every goal whole while pressed. */
export function wireGoalsToggle(button) {
  if (!button) return;
  const panel = button.closest(".goals-panel");
  button.addEventListener("click", () => {
    const on = button.getAttribute("aria-pressed") !== "true";
    button.setAttribute("aria-pressed", String(on));
    panel.classList.toggle("full", on);
  });
}
