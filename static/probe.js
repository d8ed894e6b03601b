// probe.js: the lab's panel "Check from any origin (no browser)".
//
// Your browser can only send the Origin of the page it runs (app, evil, a
// sandbox…). corslab's server can send what a browser WOULD send from any
// origin you type: the preflight the engine computes, then the request,
// and have corslab's model of that browser judge the answers
// (POST /api/sessions/{id}/probe, the same probe as `corslab check`). Scan
// asks the URL what pages of made-up origins could read
// (POST /api/sessions/{id}/scan, as `corslab scan`).
//
// No browser runs either of them: everything shown is labelled as the
// model's prediction. When corslab itself refuses (a workshop without
// --allow-targets, a busy server, too many probes), that is said as
// corslab's refusal, never as a CORS verdict.
//
// probe-open.js imports this module the first time the panel is opened,
// so the lab's first load does not carry it.

import { el } from "./dom.js";
import { getSession } from "./api.js";
import { requestURL } from "./form.js";
import { richText, modelOutcome, failingStep, browserName } from "./verdict.js";
import { announce } from "./announce.js";

const sessionId = JSON.parse(document.getElementById("lab-data").textContent).sessionId;
const api = (route) => `/api/sessions/${encodeURIComponent(sessionId)}/${route}`;

/** The panel: the form, the buttons, and where results go. */
export class ProbePanel {
  constructor(details) {
    this.body = details.querySelector(".probe-content");
    this.start();
  }

  async start() {
    const status = await readJSON(fetch(api("probe")));
    if (!status.ok) {
      this.body.replaceChildren(refusal(status.data?.error ?? "corslab could not say whether the probe is on."));
      return;
    }
    if (!status.data.on) {
      // Off here: say why instead of offering buttons.
      this.body.replaceChildren(el("p", { class: "probe-off", role: "note" }, status.data.off));
      return;
    }
    this.build(status.data);
    await this.fillFromScenario();
  }

  /** The form: what to fetch, from which origin, by whose rules. */
  build(status) {
    const field = (name, label, control, hint) => el("div", { class: "probe-field" },
      el("label", { for: `probe-${name}` }, label), control,
      hint ? el("p", { class: "probe-hint", id: `probe-${name}-hint` }, hint) : null);
    const input = (name, attrs = {}) => el("input", { id: `probe-${name}`, name, type: "text", spellcheck: "false", ...attrs });
    const select = (name, options, value) => {
      const s = el("select", { id: `probe-${name}`, name }, options.map((o) => el("option", { value: o }, o)));
      s.value = value;
      return s;
    };

    this.url = input("url", { inputmode: "url", "aria-describedby": "probe-url-hint" });
    this.origin = input("origin", { "aria-describedby": "probe-origin-hint" });
    this.browser = el("select", { id: "probe-browser", name: "browser" },
      status.browsers.map((b) => el("option", { value: b }, browserName(b))));
    this.browser.value = status.browser;
    this.method = input("method");
    this.headers = el("textarea", { id: "probe-headers", name: "headers", rows: "2", spellcheck: "false", "aria-describedby": "probe-headers-hint" });
    this.reqBody = el("textarea", { id: "probe-body", name: "body", rows: "2", spellcheck: "false" });
    this.credentials = select("credentials", ["omit", "same-origin", "include"], "same-origin");
    this.redirect = select("redirect", ["follow", "error", "manual"], "follow");

    this.probeButton = el("button", { type: "button", class: "probe-go" }, "Probe");
    this.scanButton = el("button", { type: "button", class: "secondary probe-go" }, "Scan");
    this.refill = el("button", { type: "button", class: "secondary small" }, "Fill from the scenario");
    this.status = el("p", { class: "probe-status", role: "status" });
    this.errors = el("div", { class: "form-error", role: "alert", hidden: true });
    this.out = el("div", { class: "probe-out", tabindex: "-1" });

    this.probeButton.addEventListener("click", () => this.probe());
    this.scanButton.addEventListener("click", () => this.scan());
    this.refill.addEventListener("click", () => this.fillFromScenario());

    const targets = status.targets === "any" ? null
      : el("p", { class: "probe-hint" }, `This corslab sends only to: ${status.targets} (--allow-targets).`);
    this.body.replaceChildren(el("div", {},
      el("p", { class: "probe-intro" },
        "corslab's server sends what the browser would send from a page of the origin you type, and its model of that browser says what JS would get. ",
        "Scan tries made-up origins (any origin, null, look-alikes) and lists what they could read."),
      targets,
      el("form", { class: "probe-form", novalidate: true, autocomplete: "off" },
        field("url", "URL", this.url, "What the page fetches: any http or https URL."),
        field("origin", "Origin of the page", this.origin, "e.g. http://localhost:5173, or null."),
        field("browser", "Browser rules", this.browser),
        el("details", { class: "probe-more" },
          el("summary", {}, "Method, headers, body, credentials"),
          field("method", "Method", this.method),
          field("headers", "Headers", this.headers, "One per line: Name: value."),
          field("body", "Body", this.reqBody),
          field("credentials", "Credentials", this.credentials),
          field("redirect", "Redirect", this.redirect)),
        el("div", { class: "probe-buttons" }, this.probeButton, this.scanButton, this.refill)),
      this.errors, this.status, this.out));
    this.form = this.body.querySelector("form");
    this.form.addEventListener("submit", (e) => { e.preventDefault(); this.probe(); });
  }

  /** Fills the fields with the scenario's request, as the lab would send it. */
  async fillFromScenario() {
    const session = await getSession(sessionId);
    if (!session) return;
    const sc = session.scenario, req = sc.request;
    this.url.value = req.target === "yours"
      ? (sc.yours?.baseUrl ?? "").replace(/\/$/, "") + req.path
      : requestURL(req, session.origins, sc.setup);
    this.origin.value = pageOrigin(req, session.origins);
    this.method.value = req.method;
    this.headers.value = Object.entries(req.headers ?? {}).map(([n, v]) => `${n}: ${v}`).join("\n");
    this.reqBody.value = req.body ?? "";
    this.credentials.value = req.credentials;
    this.redirect.value = req.redirect;
  }

  /** The header lines as [{name, value}]; a line without a colon is a name with an empty value. */
  headerList() {
    return this.headers.value.split("\n").filter((l) => l.trim() !== "").map((line) => {
      const i = line.indexOf(":");
      return i < 0 ? { name: line.trim(), value: "" } : { name: line.slice(0, i).trim(), value: line.slice(i + 1).trim() };
    });
  }

  probe() {
    const body = this.reqBody.value;
    return this.send("probe", {
      url: this.url.value.trim(), origin: this.origin.value.trim(), method: this.method.value.trim(),
      headers: this.headerList(), body: body === "" ? null : body,
      credentials: this.credentials.value, redirect: this.redirect.value, browser: this.browser.value,
    }, showProbe);
  }

  scan() {
    return this.send("scan", {
      url: this.url.value.trim(), origin: this.origin.value.trim(), method: this.method.value.trim(),
      headers: this.headerList(), browser: this.browser.value,
    }, showScan);
  }

  /** Posts the form to route, and shows the answer with show(data). */
  async send(route, input, show) {
    this.probeButton.disabled = this.scanButton.disabled = true;
    this.errors.replaceChildren();
    this.errors.hidden = true;
    for (const f of this.form.querySelectorAll("[aria-invalid]")) f.removeAttribute("aria-invalid");
    this.status.textContent = route === "scan" ? "Scanning… (up to 30 requests)" : "Probing…";
    const { ok, status, data } = await readJSON(fetch(api(route), {
      method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(input),
    }));
    this.probeButton.disabled = this.scanButton.disabled = false;
    this.status.textContent = "";
    if (status === 400 && data?.errors) {
      // One message per field, each naming the field and its rule.
      this.errors.hidden = false;
      this.errors.replaceChildren(el("ul", {}, Object.entries(data.errors).map(([name, msg]) => {
        const input = this.form.querySelector(`#probe-${name}`);
        input?.setAttribute("aria-invalid", "true");
        if (input?.closest("details")) input.closest("details").open = true;
        return el("li", {}, el("strong", {}, name), ": ", msg);
      })));
      return;
    }
    if (!data || (!ok && !data.label)) {
      // corslab's own refusal (off, busy, rate limit) or a broken answer:
      // nothing was judged.
      this.out.replaceChildren(refusal(data?.error ?? `corslab answered ${status} without saying why.`));
      announce("corslab refused: " + (data?.error ?? status));
      return;
    }
    this.out.replaceChildren(el("div", {}, show(data))); // el() skips the nulls
    announce(route === "scan" ? `Scan done: ${data.findings?.length ?? 0} findings.` : `Probe done: ${data.verdict ? modelOutcome(data.verdict) : "no verdict"}.`);
  }
}

/** The origin of the page the scenario's request runs from. */
function pageOrigin(req, bases) {
  const originOf = (u) => { try { return new URL(u).origin; } catch { return ""; } };
  switch (req.from) {
    case "sandbox": case "data": return "null";
    case "evil": return originOf(bases.evil);
    case "api": return originOf(bases.api);
    case "lookalike": {
      const app = new URL(bases.app);
      return `${app.protocol}//${req.lookalikeHost}:${app.port}`;
    }
    default: return originOf(bases.app);
  }
}

/** fetch → {ok, status, data}; data is the JSON answer or null. */
async function readJSON(pending) {
  try {
    const res = await pending;
    let data = null;
    try { data = await res.json(); } catch { /* not JSON */ }
    return { ok: res.ok, status: res.status, data };
  } catch (err) {
    return { ok: false, status: 0, data: { error: `Could not reach corslab (${err}).` } };
  }
}

/** corslab's refusal: clearly not an answer of the learner's server. */
function refusal(text) {
  return el("div", { class: "probe-refused", role: "note" },
    el("p", { class: "probe-refused-title" }, "corslab refused: this is not a CORS verdict"),
    el("p", {}, text));
}

/** Whose verdict it is, where nobody can miss it. */
function label(text) {
  return el("p", { class: "probe-label" }, el("span", { "aria-hidden": "true" }, "⚠ "), text);
}

/** A probe's answer: the label, the verdict, the steps, the exchanges. */
function showProbe(data) {
  const v = data.verdict;
  const parts = [label(data.label)];
  if (data.refusedBy === "corslab") {
    parts.push(refusal(data.error));
  } else if (data.error) {
    parts.push(el("p", { class: "probe-error" }, "The probe could not finish, so there is no verdict: ", data.error));
  }
  if (v) {
    const why = failingStep(v) ?? v.steps[v.steps.length - 1];
    parts.push(el("p", { class: `probe-verdict ${v.ok ? "ok" : "blocked"}` },
      el("span", { "aria-hidden": "true" }, v.ok ? "✓ " : "✗ "),
      `${browserName(v.browser)} would say: ${modelOutcome(v)}.`),
    why ? el("p", { class: "probe-why" }, richText(why.text)) : null,
    el("h3", {}, "Step by step"),
    el("ol", { class: "steps" }, v.steps.map(step)));
  }
  for (const note of data.notes ?? []) parts.push(el("p", { class: "probe-note" }, richText(note)));
  parts.push(el("h3", {}, `What crossed the wire (${data.exchanges.length})`));
  for (const ex of data.exchanges) parts.push(exchange(ex));
  return parts;
}

/** One step of the engine: ✓/✗, its words, the exchange, a spec link. */
function step(s) {
  return el("li", { class: `step ${s.ok ? "step-ok" : "step-fail"}` },
    el("span", { class: "step-mark", "aria-hidden": "true" }, s.ok ? "✓" : "✗"),
    el("span", { class: "visually-hidden" }, s.ok ? "Passes: " : "Fails: "),
    el("span", { class: "step-body" }, richText(s.text),
      s.seq > 0 ? el("span", { class: "step-seq" }, ` #${s.seq}`) : null,
      s.spec?.startsWith("https://") ? [" ", el("a", { class: "spec-link", href: s.spec, target: "_blank", rel: "noopener noreferrer" }, "spec")] : null,
      s.note ? el("span", { class: "step-note" }, " Browser difference: ", richText(s.note)) : null));
}

/** One exchange, both heads raw as they crossed the wire, then the bodies' start. */
function exchange(ex) {
  const title = `#${ex.seq} ${ex.preflight ? "preflight, sent by the browser on its own: " : ""}${ex.method} ${ex.url} → ${ex.status || "no answer"}`;
  return el("details", { class: "probe-exchange", open: true },
    el("summary", {}, title, ex.durationMs ? el("span", { class: "muted" }, ` (${Math.round(ex.durationMs)} ms)`) : null),
    raw("Request", ex.rawRequest, ex.requestBody),
    raw("Response", ex.rawResponse, ex.responseBody, ex.bodyTruncated),
    ex.error ? el("p", { class: "probe-error" }, ex.error) : null);
}

function raw(what, head, body, truncated = false) {
  const text = (head ?? "").replaceAll("\r\n", "\n") + (body ? body.slice(0, 2048) : "") +
    (body && (body.length > 2048 || truncated) ? "\n[… more, not shown]" : "");
  return el("div", { class: "probe-raw" }, el("p", { class: "label" }, what),
    el("pre", { tabindex: "0", "aria-label": `${what} as sent` }, text));
}

const SEVERITIES = ["high", "medium", "low", "info"];

/** A scan's answer: the label, each finding with its evidence, the checks. */
function showScan(data) {
  const parts = [label(data.label)];
  if (data.refusedBy === "corslab") parts.push(refusal(data.error));
  else if (data.error) parts.push(el("p", { class: "probe-error" }, "The scan stopped: ", data.error));
  const findings = data.findings ?? [];
  const counts = SEVERITIES.map((s) => [s, findings.filter((f) => f.severity === s).length]).filter(([, n]) => n > 0);
  parts.push(el("p", { class: "probe-verdict" }, findings.length === 0
    ? `No findings in ${data.requests} requests.`
    : `${findings.length} finding${findings.length === 1 ? "" : "s"} in ${data.requests} requests: ${counts.map(([s, n]) => `${n} ${s}`).join(", ")}.`));
  for (const f of findings) {
    parts.push(el("section", { class: `probe-finding sev-${f.severity}`, "aria-label": `${f.severity}: ${f.title}` },
      el("h3", {}, el("span", { class: "sev" }, f.severity.toUpperCase()), " ", f.title, " ", el("code", { class: "muted" }, f.id)),
      el("p", {}, richText(f.explanation)),
      el("p", {}, el("strong", {}, "Fix: "), richText(f.fix)),
      (f.evidence ?? []).map((ev) => el("details", { class: "probe-exchange" },
        el("summary", {}, `Evidence: exchange ${ev.seq}, ${ev.preflight ? "a preflight" : "a request"} from a page of ${ev.origin}`),
        raw("Request", ev.rawRequest), raw("Response", ev.rawResponse),
        el("p", {}, "→ ", richText(ev.verdict))))));
  }
  parts.push(el("h3", {}, "Checked"),
    el("ul", { class: "probe-checks" }, (data.checks ?? []).map((c) =>
      el("li", {}, el("span", { "aria-hidden": "true" }, c.outcome === "found" ? "✗ " : c.outcome === "clean" ? "✓ " : "· "),
        el("code", {}, c.id), c.origin ? ` ${c.origin}` : "", `: ${c.outcome}. `, richText(c.detail)))));
  return parts;
}
