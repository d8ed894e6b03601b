// embed-cookies.js: the embed view says so when its lesson's cookies
// cannot work where it is.
//
// The embed view sits in an iframe in someone else's page. If that page
// is on another site, every cookie of corslab's is a third-party cookie
// there: the api's login cookie (SameSite=Lax) is neither stored nor
// sent, so GET /me answers 401 and the lesson's goals stay red, with
// nothing on the page to say why.
//
// This does not guess from where the frame is. It asks the server what
// the learner's own runs showed (GET /api/sessions/{id}/cookies, in
// playground/handle_lesson.go): after a login set the cookie, a run from
// the app's page with credentials: "include" reached the api without it.
// From the app's page the api is on the same site, so only a browser that
// refuses the cookie here does that. Then the note appears, and is read
// out (role=status), with "Open in corslab" as the way on: the whole
// lesson in a tab of its own, where the cookie is first-party.

import { el } from "./dom.js";

export const COOKIE_NOTE_TEXT =
  "This lesson needs cookies, which your browser does not send from an embedded frame on another site. " +
  "Open it in corslab to go on.";

export class CookieNote {
  /**
   * A CookieNote for this page, if it is the embed view in a frame (the
   * note's words are about a frame), else null.
   * @param {string} goalsUrl  the session's /api/sessions/{id}/goals
   */
  static forEmbed(goalsUrl) {
    const open = document.getElementById("open-in-corslab");
    const header = document.querySelector(".embed-bar");
    if (!open || !header || window.self === window.top || !/\/goals$/.test(goalsUrl)) return null;
    return new CookieNote(goalsUrl.replace(/\/goals$/, "/cookies"), open, header);
  }

  /**
   * @param {string} url  GET → {loggedIn, withheld}
   * @param {HTMLAnchorElement} open  the header's "Open in corslab"
   * @param {HTMLElement} header  the note goes right under it
   */
  constructor(url, open, header) {
    this.url = url;
    this.open = open;
    this.shown = false;
    this.asking = false;
    // The live region is there, empty, from the start: a screen reader
    // reads what is later put in it.
    this.root = el("div", { id: "cookie-note", role: "status" });
    header.after(this.root);
  }

  /** Asks the server again (after a run): shows the note once it says so. */
  async check() {
    if (this.shown || this.asking) return;
    this.asking = true;
    try {
      const res = await fetch(this.url);
      if (res.ok && (await res.json())?.withheld === true) this.show();
    } catch {
      // Offline for a moment: the next run asks again.
    } finally {
      this.asking = false;
    }
  }

  show() {
    this.shown = true;
    // Its own button, next to the words: the header's, which lab.js keeps
    // pointing at this session in its current state, in a new tab.
    const open = el("a", { class: "button-link", id: "cookie-note-open", href: this.open.href, target: "_blank", rel: "noopener" },
      "Open in corslab ↗");
    open.addEventListener("click", () => { open.href = this.open.href; });
    this.root.className = "announcement cookie-note";
    this.root.append(el("p", {}, COOKIE_NOTE_TEXT), open);
    this.open.setAttribute("aria-describedby", "cookie-note");
  }
}
