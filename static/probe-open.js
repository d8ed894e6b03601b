// probe-open.js: opens the panel "Check from any origin (no browser)".
// The panel's code, probe.js, is imported the first time the learner
// opens the panel, so the lab's first load does not carry it.

const panel = document.getElementById("probe-panel");
panel?.addEventListener("toggle", async () => {
  if (!panel.open || panel.dataset.loaded) return;
  panel.dataset.loaded = "yes";
  try {
    const { ProbePanel } = await import("./probe.js");
    new ProbePanel(panel);
  } catch (err) {
    panel.querySelector(".probe-content").textContent = `The panel could not load (${err}). Reload the page to try again.`;
  }
});
