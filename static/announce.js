// announce.js: the page's polite live region (#announcer, role=status,
// lab.templ's liveRegion). What happens after Run happens out of the
// focus: a screen reader user hears it here, in one short sentence each,
// without leaving Run.
//
//   announce("Run 3: JS read the response, 200 OK")   lab.js, per run
//   announce("Goal 2 met: Make JavaScript read …")    lesson.js, per goal
//
// Each sentence is a new paragraph, so that two in quick succession (a
// run, then the goal it met) are both read; the oldest are dropped. The
// module imports nothing, so any page's script may use it.

const KEEP = 3;

/** Says text in the page's live region, if it has one. */
export function announce(text, region = document.getElementById("announcer")) {
  const words = String(text ?? "").trim();
  if (!region || !words) return;
  const line = document.createElement("p");
  line.textContent = words;
  region.append(line);
  while (region.childElementCount > KEEP) region.firstElementChild.remove();
}
