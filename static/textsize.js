// textsize.js: the "Projector" toggle. Bigger text everywhere (the root
// font size, which every size in lab.css follows) and bigger raw HTTP
// still, for a projector or the back of a room. The choice is kept in
// this browser (localStorage) for every corslab page.
//
// A classic script in <head>, not a module: it sets the class on <html>
// before the first paint, so a page never flashes at the small size.
// Pages tell it their toggles with data-projector-toggle; a change fires
// "corslab:textsize" on document, for whatever measures text (diagram.js).
(() => {
  const KEY = "corslab:projector";
  const root = document.documentElement;

  function stored() {
    try {
      return localStorage.getItem(KEY) === "on";
    } catch {
      return false; // storage off: the toggle still works for this page
    }
  }

  function apply(on) {
    root.classList.toggle("projector", on);
    for (const button of document.querySelectorAll("[data-projector-toggle]")) {
      button.setAttribute("aria-pressed", String(on));
    }
  }

  apply(stored());
  document.addEventListener("DOMContentLoaded", () => {
    apply(root.classList.contains("projector"));
    for (const button of document.querySelectorAll("[data-projector-toggle]")) {
      button.addEventListener("click", () => {
        const on = !root.classList.contains("projector");
        apply(on);
        try {
          localStorage.setItem(KEY, on ? "on" : "off");
        } catch {
          // Not kept: this page still changes.
        }
        document.dispatchEvent(new CustomEvent("corslab:textsize", { detail: { projector: on } }));
      });
    }
  });
})();
