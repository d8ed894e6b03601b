// form.js: the scenario form ↔ the scenario JSON.
//
// The form is rendered by the server with the current scenario. Whenever
// the learner changes something we read the WHOLE form back into a scenario
// and (debounced) PUT it to the server. The server either applies it or
// answers 400 with one message per field path ("api.maxAge": "..."), which
// we show beside that field. We never overwrite what the learner typed.

import { el, debounce } from "./dom.js";
import { BucketRules } from "./bucket.js";
import { UPLOAD_BODY } from "./signed.js";

const SAVE_DELAY_MS = 300;

/**
 * The URL a request goes to. Normally the target origin's session base +
 * path. In the one-origin setup the page reaches both servers through its
 * own origin, whose proxy (a CDN) passes /api/* on to the api and /files/*
 * to the session's bucket: the app's session base + "/api" or "/files" +
 * path.
 */
export function requestURL(request, basesByRole, setup = "three-origins") {
  if (setup === "one-origin") {
    return (basesByRole.app ?? "") + (request.target === "s3" ? "/files" : "/api") + request.path;
  }
  return (basesByRole[request.target] ?? "") + request.path;
}

/**
 * The second argument to fetch() for a scenario request. The body is left
 * out when empty (a GET with any body, even "", would throw).
 */
export function fetchInit(request) {
  const init = {
    method: request.method,
    headers: { ...(request.headers ?? {}) },
  };
  if (request.body) init.body = request.body;
  init.credentials = request.credentials;
  init.mode = request.mode;
  init.redirect = request.redirect;
  return init;
}

/** The fetch() call as JavaScript source, for learners to read. */
export function fetchSource(url, init) {
  const q = (s) => JSON.stringify(String(s));
  const lines = [`const response = await fetch(${q(url)}, {`];
  lines.push(`  method: ${q(init.method)},`);
  const headers = Object.entries(init.headers ?? {});
  if (headers.length === 0) {
    lines.push("  headers: {},");
  } else {
    lines.push("  headers: {");
    for (const [name, value] of headers) lines.push(`    ${q(name)}: ${q(value)},`);
    lines.push("  },");
  }
  if ("body" in init) lines.push(`  body: ${q(init.body)},`);
  lines.push(`  credentials: ${q(init.credentials)},`);
  lines.push(`  mode: ${q(init.mode)},`);
  lines.push(`  redirect: ${q(init.redirect)},`);
  lines.push("});");
  return lines.join("\n");
}

/** The request's code: null for another door than fetch() until door-view.js is here. */
export function requestSource(url, request) {
  const via = request.via || "fetch";
  if (via === "fetch") return fetchSource(url, fetchInit(request));
  return doorView ? doorView.doorSource(url, request) : null;
}

// door-view.js: the lab's side of the doors other than fetch(). Most
// learners never pick one: it comes when a scenario or a run needs it,
// not with the lab's first load (TestStaticTransferInBrowser's budget).
let doorView = null;

export async function loadDoorView() {
  doorView ??= await import("./door-view.js");
  return doorView;
}

export function loadedDoorView() {
  return doorView;
}

export function needsDoorView(request) {
  return (request?.via || "fetch") !== "fetch";
}

/**
 * Where a request's page lives and where the request goes, in words, as a
 * comment over the call.
 */
export function pageComment(scenario, urlsByRole) {
  const { setup, request } = scenario;
  const lines = [];
  if (setup === "one-origin") {
    lines.push(`// runs in a page on app, ${urlsByRole.app}, whose proxy (a CDN)`);
    lines.push(request.target === "s3"
      ? "// passes /files/* on to the session's bucket: same-origin, no CORS"
      : "// passes /api/* on to the api: same-origin, no CORS");
    const added = scenario.proxy?.addOrigin;
    if (added) lines.push(`// the proxy adds Origin: ${added} to a request that has none`);
  } else if (setup === "two-origins") {
    lines.push(`// runs in a page the api origin serves, ${urlsByRole.api}${request.target === "api" ? ": same-origin" : ""}`);
  } else if (request.from === "lookalike") {
    const app = urlsByRole.app ? new URL(urlsByRole.app) : null;
    lines.push(`// runs in the attacker's page on a look-alike origin, http://${request.lookalikeHost}${app ? `:${app.port}` : ""}`);
    lines.push("// (a name under .localhost: the browser sends it to this machine)");
  } else if (request.from === "sandbox") {
    lines.push(`// runs in a sandboxed iframe served by ${urlsByRole.app}:`);
    lines.push("// its origin is opaque, so the browser sends Origin: null");
  } else if (request.from === "sandbox-same-origin") {
    lines.push(`// runs in an iframe served by ${urlsByRole.app},`);
    lines.push(`// sandbox="allow-scripts allow-same-origin": still sandboxed, but it keeps`);
    lines.push(`// its URL's origin, so the browser sends Origin: ${urlsByRole.app}`);
  } else if (request.from === "data") {
    lines.push(`// runs in a frame that a page on ${urlsByRole.app} made with a data: URL:`);
    lines.push("// such a document's origin is opaque, so the browser sends Origin: null");
  } else if (request.from === "srcdoc") {
    lines.push(`// runs in an <iframe srcdoc> of a page on ${urlsByRole.app}: the document`);
    lines.push(`// takes that page's origin, so the browser sends Origin: ${urlsByRole.app}`);
  } else if (request.from === "api" && request.target === "api") {
    lines.push(`// runs in a page on the api origin itself, ${urlsByRole.api}: same-origin`);
  } else {
    lines.push(`// runs in a page on ${request.from}, ${urlsByRole[request.from] ?? "?"}`);
  }
  const then = targetComment(scenario);
  if (then) lines.push(then);
  return lines.join("\n");
}

/** What the target does with the request, where that is worth a line. */
function targetComment(scenario) {
  const { setup, request, api } = scenario;
  const path = request.path ?? "";
  if (request.target === "s3") {
    return setup === "one-origin" ? "" : "// to the s3 origin: an object in the session's bucket";
  }
  if (request.target === "yours") {
    const base = scenario.yours?.baseUrl;
    return base
      ? `// to the yours origin, which forwards it to ${base}${path}\n// (your server sees its own Host, and none of the browser's cookies)`
      : "// to the yours origin, which forwards to your server: set its base URL";
  }
  if (/^\/files\//.test(path)) {
    // In one-origin the api points the URL at the proxy's /files/ instead.
    const where = setup === "one-origin" ? "under app's /files/" : "on s3";
    return api?.redirect === 0
      ? `// the api answers 200 with a presigned URL ${where} in the body (two-phase)`
      : `// the api answers ${api?.redirect ?? 303} with a Location: a presigned URL ${where}`;
  }
  if (/^\/uploads\//.test(path)) return "// the api answers with a presigned PUT URL for the bucket, in JSON";
  return "";
}

/**
 * Does a lesson's list of field paths (LessonView.Show or .Lock) take in
 * the field at `path`? An entry names one field ("request.method",
 * "api.allowOrigin") or a group: "request", "api", "bucket", "proxy", "yours", or
 * "bucket.cors" for every field of every bucket rule
 * ("bucket.cors.0.allowedOrigins").
 */
export function covers(paths, path) {
  return paths.some((p) => path === p || path.startsWith(`${p}.`));
}

/** The note beside what a lesson locked. */
function lockNote() {
  return el("p", { class: "lock-note" }, "Locked: this lesson sets it.");
}

export class ScenarioForm {
  /**
   * @param {HTMLFormElement} form
   * @param {object} options
   *   scenario: the scenario the page was rendered with (unknown fields are kept)
   *   origins: role → origin, e.g. {app: "http://127.0.0.1:8081", ...}
   *   save(scenario): Promise of putScenario's result
   *   onChange(scenario): called on every edit, before saving
   *   onSaved(result): called after the server accepted a save
   *   readOnly: show the scenario only (the instructor watching a
   *     learner's lab): every control is disabled and nothing is saved
   */
  constructor(form, { scenario, origins, save, onChange, onSaved, readOnly = false }) {
    this.form = form;
    this.readOnly = readOnly;
    this.base = structuredClone(scenario);
    this.origins = origins ?? {};
    this.saveFn = save;
    this.onChange = onChange;
    this.onSaved = onSaved;
    this.chain = Promise.resolve(true); // saves run one at a time, in order
    // The two lists of editable header rows.
    this.requestHeaders = new HeaderRows(form, "request.headers");
    this.extraHeaders = new HeaderRows(form, "api.extraHeaders");
    // The bucket's CORS rules, drawn from the scenario.
    this.bucket = new BucketRules(form.querySelector("#bucket-fields"), {
      cors: scenario.bucket?.cors ?? null,
      pageOrigin: () => this.pageOrigin(),
    });
    // What "From" was before a setup fixed it, to give it back after.
    this.freeFrom = null;
    this.fromFixed = false;
    this.via = form.elements["request.via"].value;
    this.showDependentFields();
    this.savedBody = JSON.stringify(this.read().scenario);
    this.lastOk = true;
    this.scheduleSave = debounce(() => this.save(), SAVE_DELAY_MS);

    if (readOnly) {
      // A disabled fieldset disables every control in it, even the bucket
      // rules drawn later.
      for (const set of form.querySelectorAll(":scope > fieldset")) set.disabled = true;
    }
    form.addEventListener("submit", (e) => e.preventDefault());
    form.addEventListener("input", () => this.edited());
    form.addEventListener("change", () => this.edited());
    form.addEventListener("click", (e) => this.click(e));
  }

  edited() {
    const via = this.form.elements["request.via"].value;
    if (via !== this.via) {
      // Another door: door-view.js moves the path and method to it and
      // resets what it does not have; nothing is saved until it has.
      this.via = via;
      this.scheduleSave.cancel();
      loadDoorView().then((view) => {
        if (this.via !== via) return; // yet another door since
        view.changeDoor(this);
        this.edited();
      });
      return;
    }
    this.showDependentFields();
    this.onChange(this.read().scenario);
    this.scheduleSave();
  }

  /** Buttons inside the form: add/remove header rows and CORS rules, "Use echo". */
  click(event) {
    const button = event.target.closest("button");
    if (!button) return;
    if (this.requestHeaders.click(button) || this.extraHeaders.click(button)) {
      this.edited();
    } else if (this.bucket.click(button)) {
      // The rules were drawn again, without the errors shown beside them:
      // ask the server again even if the scenario is the same.
      this.savedBody = null;
      this.edited();
    } else if (button.dataset.fill) {
      const input = this.form.elements[button.dataset.fill];
      input.value = button.dataset.value;
      input.focus();
      this.edited();
    }
  }

  /**
   * Points the request at a signed URL of the bucket (signed.js's
   * signedFollowUp()): To s3, the method the api signed for, and the URL
   * after the bucket as the path. The setup stays: in one-origin,
   * requestURL() sends target s3 to the app's /files/, the same bucket
   * through the proxy. A GET gets no body; a PUT keeps the body the form
   * has, or uploads a line of text. Then saves, like any edit.
   */
  useSignedURL({ method, path }) {
    const f = this.form.elements;
    // A door that cannot make the request gives way to fetch() (edited()).
    const methods = f["request.via"].selectedOptions[0]?.dataset.methods;
    if (methods && !methods.split(" ").includes(method)) f["request.via"].value = "fetch";
    f["request.target"].value = "s3";
    f["method-choice"].value = method;
    f["request.path"].value = path;
    const body = f["request.body"];
    if (method === "GET" || method === "HEAD") body.value = "";
    else if (body.value === "") body.value = UPLOAD_BODY;
    this.edited();
  }

  /**
   * Shows a scenario saved elsewhere, without saving it: the read-only view
   * follows the learner's page this way. Every control is written from the
   * scenario; the header rows and the bucket's rules are drawn again.
   */
  set(scenario) {
    this.scheduleSave.cancel();
    this.base = structuredClone(scenario);
    const f = this.form.elements;
    const { request, api } = scenario;
    const hasOption = (select, value) => [...select.options].some((o) => o.value === value);
    const knownMethod = request.method !== "other" && hasOption(f["method-choice"], request.method);
    const namedOrigin = api.allowOrigin !== "custom" && hasOption(f["allowOrigin-choice"], api.allowOrigin);
    const values = {
      "setup": scenario.setup,
      "request.from": request.from,
      "request.lookalikeHost": request.lookalikeHost,
      "request.target": request.target,
      "method-choice": knownMethod ? request.method : "other",
      "method-other": knownMethod ? "" : request.method,
      "request.path": request.path,
      "request.body": request.body,
      "request.credentials": request.credentials,
      "request.mode": request.mode,
      "request.redirect": request.redirect,
      "request.via": request.via || "fetch",
      "request.crossOrigin": request.crossOrigin,
      "request.enctype": request.enctype,
      "allowOrigin-choice": namedOrigin ? api.allowOrigin : "custom",
      "allowOrigin-custom": namedOrigin ? "" : api.allowOrigin,
      "api.allowlist": (api.allowlist ?? []).join("\n"),
      "api.match": api.match,
      "api.allowMethods": api.allowMethods,
      "api.allowHeaders": api.allowHeaders,
      "api.exposeHeaders": api.exposeHeaders,
      "api.maxAge": api.maxAge,
      "api.preflightStatus": api.preflightStatus,
      "api.redirect": api.redirect,
      "api.signedUrlExpires": api.signedUrlExpires,
      "api.cookieSameSite": api.cookieSameSite,
      "api.websocketOrigins": api.websocketOrigins,
      "proxy.addOrigin": scenario.proxy?.addOrigin,
      "yours.baseUrl": scenario.yours?.baseUrl,
    };
    for (const [name, value] of Object.entries(values)) {
      if (f[name]) f[name].value = value ?? "";
    }
    f["api.allowCredentials"].checked = Boolean(api.allowCredentials);
    f["api.vary"].checked = Boolean(api.vary);
    f["api.requireLogin"].checked = Boolean(api.requireLogin);
    f["request.withCredentials"].checked = Boolean(request.withCredentials);
    this.via = f["request.via"].value; // the scenario's door, as it is: no defaults
    this.requestHeaders.set(request.headers);
    this.extraHeaders.set(api.extraHeaders);
    this.bucket.set(scenario.bucket?.cors ?? null);
    // "From" takes the scenario's value; applySetup fixes it again if the
    // setup says so.
    this.fromFixed = false;
    this.freeFrom = null;
    this.clearErrors();
    this.showDependentFields();
    const shown = this.read().scenario;
    this.savedBody = JSON.stringify(shown);
    this.lastOk = true;
    this.onChange(shown);
  }

  /**
   * Narrows the form to what a lesson is about (LessonView.Show and .Lock,
   * see covers()). Every control carrying a scenario field sits in an
   * element with data-field="<path>"; that is what is hidden or locked.
   *
   * A field `show` does not cover gets the class "lesson-hidden": it is out
   * of sight but still in the form, so read() and every save keep its
   * value (showAll() brings it back). A field `lock` covers is shown with
   * its controls disabled and a note saying why.
   *
   * A fieldset, or a box of subfields, whose fields are all hidden is
   * hidden whole; a fieldset whose fields are all locked is disabled
   * whole. That also takes in what is not a field of its own: the bucket's
   * presets, and the rules bucket.js draws later.
   */
  focusOn({ show = [], lock = [] } = {}) {
    const pathOf = (node) => node.dataset.field;
    const boxes = [...this.form.querySelectorAll("fieldset, .subfields")];
    const fieldsIn = (box) => [...box.querySelectorAll("[data-field]")];
    if (show.length > 0) {
      for (const field of this.form.querySelectorAll("[data-field]")) {
        field.classList.toggle("lesson-hidden", !covers(show, pathOf(field)));
      }
      for (const box of boxes) {
        const fields = fieldsIn(box);
        if (fields.length > 0 && fields.every((f) => !covers(show, pathOf(f)))) box.classList.add("lesson-hidden");
      }
    }
    if (lock.length === 0) return;
    const wholeSets = boxes.filter((box) => {
      const fields = fieldsIn(box);
      return box.localName === "fieldset" && fields.length > 0 && fields.every((f) => covers(lock, pathOf(f)));
    });
    for (const set of wholeSets) {
      if (wholeSets.some((outer) => outer !== set && outer.contains(set))) continue; // its parent says it
      set.disabled = true; // disables every control inside, even ones added later
      set.dataset.locked = "";
      set.querySelector("legend").after(lockNote());
    }
    for (const field of this.form.querySelectorAll("[data-field]")) {
      if (!covers(lock, pathOf(field)) || field.closest("[data-locked]")) continue;
      field.dataset.locked = "";
      for (const control of field.querySelectorAll("input, select, textarea, button")) control.disabled = true;
      field.append(lockNote());
    }
    this.applySetup(); // "From" may be among them
  }

  /** Shows the fields a lesson hid (focusOn), or hides them again. */
  showAll(on) {
    this.form.classList.toggle("show-all", on);
  }

  /** Shows the boxes that only make sense for some choices. */
  showDependentFields() {
    const f = this.form.elements;
    this.applySetup();
    f["method-other"].hidden = f["method-choice"].value !== "other";
    const origin = f["allowOrigin-choice"].value;
    f["allowOrigin-custom"].hidden = origin !== "custom";
    // The allowlist serves the WebSocket handshake's check too.
    this.form.querySelector("#allowlist-fields").hidden = origin !== "allowlist" && f["api.websocketOrigins"].value !== "allowlist";
    // door-view.js shows the chosen door's settings: the page comes with fetch()'s.
    const view = loadedDoorView();
    if (view) view.showDoorFields(this);
    else if (needsDoorView({ via: f["request.via"].value })) loadDoorView().then((v) => v.showDoorFields(this));
    const lookalike = this.form.querySelector("#lookalike-fields");
    if (lookalike) lookalike.hidden = f["request.from"].value !== "lookalike";
    const yours = this.form.querySelector("#yours-fields");
    if (yours) yours.hidden = f["request.target"].value !== "yours";
    // The path box suggests paths of the chosen target (views/lab.templ's datalists).
    f["request.path"].setAttribute("list", `path-presets-${f["request.target"].value}`);
    this.requestHeaders.relabel();
    this.extraHeaders.relabel();
    this.bucket.showPageOrigin(this.pageOrigin());
  }

  /**
   * The setup decides where the page lives. With two-origins or one-origin
   * "From" is fixed (to the option's data-page) and disabled, with a note
   * saying why; back on three-origins it is free again, with the value it
   * had before. The setup's explanation follows the choice too.
   */
  applySetup() {
    const f = this.form.elements;
    const option = f["setup"].selectedOptions[0];
    const page = option?.dataset.page ?? "";
    const from = f["request.from"];
    const note = this.form.querySelector("#hint-request-from");
    this.form.querySelector("#hint-setup").textContent = option?.dataset.hint ?? "";
    this.form.querySelector("#proxy-fields").hidden = f["setup"].value !== "one-origin";
    if (page) {
      if (!this.fromFixed) this.freeFrom = from.value;
      this.fromFixed = true;
      from.value = page;
    } else if (this.fromFixed) {
      this.fromFixed = false;
      if (this.freeFrom) from.value = this.freeFrom;
    }
    // A lesson may have locked "From" too (focusOn): then it stays disabled.
    from.disabled = this.fromFixed || from.closest("[data-locked]") !== null;
    note.textContent = page ? option.dataset.fromNote ?? "" : "";
    note.hidden = !page;
  }

  /** The page's origin: the api's in the two-origins setup, else the app's. */
  pageOrigin() {
    return this.form.elements["setup"].value === "two-origins" ? this.origins.api : this.origins.app;
  }

  /**
   * Reads the whole form. Returns {scenario, localErrors}: localErrors are
   * problems we can spot before asking the server (a number box holding
   * something that is not a number cannot even be put into the JSON).
   */
  read() {
    const f = this.form.elements;
    const localErrors = {};
    const methodChoice = f["method-choice"].value;
    const request = {
      ...this.base.request,
      from: f["request.from"].value,
      lookalikeHost: f["request.lookalikeHost"]?.value ?? this.base.request.lookalikeHost,
      target: f["request.target"].value,
      method: methodChoice === "other" ? f["method-other"].value : methodChoice,
      path: f["request.path"].value,
      headers: this.requestHeaders.read(),
      body: f["request.body"].value,
      credentials: f["request.credentials"].value,
      mode: f["request.mode"].value,
      redirect: f["request.redirect"].value,
      via: f["request.via"].value,
      crossOrigin: f["request.crossOrigin"].value,
      withCredentials: f["request.withCredentials"].checked,
      enctype: f["request.enctype"].value,
    };
    const originChoice = f["allowOrigin-choice"].value;
    const api = {
      ...this.base.api,
      allowOrigin: originChoice === "custom" ? f["allowOrigin-custom"].value : originChoice,
      allowlist: f["api.allowlist"].value.split("\n").map((s) => s.trim()).filter(Boolean),
      match: f["api.match"].value,
      allowCredentials: f["api.allowCredentials"].checked,
      allowMethods: f["api.allowMethods"].value,
      allowHeaders: f["api.allowHeaders"].value,
      exposeHeaders: f["api.exposeHeaders"].value,
      maxAge: readInt(f["api.maxAge"].value, true),
      vary: f["api.vary"].checked,
      preflightStatus: readInt(f["api.preflightStatus"].value, false),
      extraHeaders: this.extraHeaders.read(),
      redirect: Number(f["api.redirect"].value),
      signedUrlExpires: readInt(f["api.signedUrlExpires"].value, false),
      requireLogin: f["api.requireLogin"].checked,
      cookieSameSite: f["api.cookieSameSite"].value,
      websocketOrigins: f["api.websocketOrigins"].value,
    };
    if (Number.isNaN(api.maxAge)) {
      localErrors["api.maxAge"] = "must be a whole number of seconds, or empty to send no header";
    }
    if (Number.isNaN(api.preflightStatus)) {
      localErrors["api.preflightStatus"] = "must be a whole number, such as 204";
    }
    if (Number.isNaN(api.signedUrlExpires)) {
      localErrors["api.signedUrlExpires"] = "must be a whole number of seconds, from 1 to 604800";
    }
    const { cors, localErrors: bucketErrors } = this.bucket.read();
    Object.assign(localErrors, bucketErrors);
    const bucket = { ...this.base.bucket, cors };
    const proxy = { ...this.base.proxy, addOrigin: f["proxy.addOrigin"].value };
    const yours = { ...this.base.yours, baseUrl: f["yours.baseUrl"]?.value ?? this.base.yours?.baseUrl ?? "" };
    const setup = f["setup"].value;
    return { scenario: { ...this.base, setup, request, api, bucket, proxy, yours }, localErrors };
  }

  /** Saves now (cancelling the debounce) and resolves to true if the server has the form's scenario. */
  flush() {
    this.scheduleSave.cancel();
    return this.save();
  }

  save() {
    if (this.readOnly) return Promise.resolve(true); // the learner's page saves
    this.chain = this.chain.then(() => this.saveNow(), () => this.saveNow());
    return this.chain;
  }

  async saveNow() {
    const { scenario, localErrors } = this.read();
    if (Object.keys(localErrors).length > 0) {
      this.showErrors(localErrors);
      this.savedBody = null;
      return false;
    }
    const body = JSON.stringify(scenario);
    if (body === this.savedBody) return this.lastOk; // nothing new to tell the server
    const result = await this.saveFn(scenario);
    if (result.ok) {
      this.savedBody = body;
      this.lastOk = true;
      this.clearErrors();
      this.onSaved(result);
      return true;
    }
    if (result.fieldErrors) {
      // The server kept its old scenario; what the learner typed stays.
      this.savedBody = body;
      this.lastOk = false;
      this.showErrors(result.fieldErrors);
      return false;
    }
    this.savedBody = null; // try again next time
    this.lastOk = false;
    this.clearErrors();
    this.showFormError([result.error]);
    return false;
  }

  /** Puts each message beside its field; messages for no field go on top. */
  showErrors(errors) {
    this.clearErrors();
    const fields = [...this.form.querySelectorAll("[data-field]")];
    const unplaced = [];
    for (const [path, message] of Object.entries(errors)) {
      // The most specific field whose path is, or starts, the error's path:
      // "request.headers.X-A" goes beside "request.headers".
      const field = fields
        .filter((f) => path === f.dataset.field || path.startsWith(f.dataset.field + ".") || path.startsWith(f.dataset.field + "["))
        .sort((a, b) => b.dataset.field.length - a.dataset.field.length)[0];
      if (!field) {
        unplaced.push(`${path}: ${message}`);
        continue;
      }
      const note = field.querySelector(".field-error");
      const text = path === field.dataset.field ? message : `${path}: ${message}`;
      note.textContent = note.textContent ? `${note.textContent}\n${text}` : text;
      note.hidden = false;
      field.classList.add("has-error");
      for (const control of field.querySelectorAll("input, select, textarea")) {
        control.setAttribute("aria-invalid", "true");
      }
      // A field hidden behind a choice (the allowlist), or by a lesson,
      // must be seen to be fixed.
      field.closest("[hidden]")?.removeAttribute("hidden");
      for (let box = field.closest(".lesson-hidden"); box; box = box.closest(".lesson-hidden")) {
        box.classList.remove("lesson-hidden");
      }
    }
    if (unplaced.length > 0) this.showFormError(unplaced);
  }

  clearErrors() {
    for (const field of this.form.querySelectorAll(".has-error")) {
      field.classList.remove("has-error");
      const note = field.querySelector(".field-error");
      note.textContent = "";
      note.hidden = true;
      for (const control of field.querySelectorAll("[aria-invalid]")) control.removeAttribute("aria-invalid");
    }
    const top = this.form.querySelector("#form-error");
    top.replaceChildren();
    top.hidden = true;
  }

  showFormError(messages) {
    const top = this.form.querySelector("#form-error");
    top.replaceChildren(...messages.map((m) => el("span", { class: "line" }, m)));
    top.hidden = false;
  }

  /** True while any field shows an error. */
  hasErrors() {
    return this.form.querySelector(".has-error, #form-error:not([hidden])") !== null;
  }
}

/**
 * One list of editable header rows (views/lab.templ headerRowsField): the
 * request's headers, or the extra headers the api sends. It lives in the
 * form field whose data-field is the scenario path it edits, and names its
 * rows' controls after that field's data-noun ("header", "response header").
 * It does not save: ScenarioForm reads it and saves after each change.
 */
export class HeaderRows {
  /**
   * @param {HTMLFormElement} form
   * @param {string} path the scenario field, e.g. "request.headers"
   */
  constructor(form, path) {
    this.field = form.querySelector(`[data-field="${path}"]`);
    this.rows = this.field.querySelector(".header-rows");
    this.addButton = this.field.querySelector(".add-header");
    this.noun = this.field.dataset.noun || "header";
  }

  /** Handles a click on one of this list's buttons; true if the rows changed. */
  click(button) {
    if (!this.field.contains(button)) return false;
    if (button === this.addButton) {
      const row = this.row("", "");
      this.rows.append(row);
      row.querySelector(".header-name").focus();
      return true;
    }
    if (button.classList.contains("remove-header")) {
      // Focus moves to a neighbouring row, or to "Add" when none is left.
      const row = button.closest(".header-row");
      const next = row.nextElementSibling ?? row.previousElementSibling;
      row.remove();
      (next?.querySelector(".header-name") ?? this.addButton).focus();
      return true;
    }
    return false;
  }

  /**
   * The rows as an object, name → value ({} when there are none). Built
   * with Object.fromEntries, which makes every name an own property, even
   * one called "__proto__".
   */
  read() {
    const pairs = [];
    for (const row of this.rows.querySelectorAll(".header-row")) {
      const name = row.querySelector(".header-name").value;
      const value = row.querySelector(".header-value").value;
      if (name === "" && value === "") continue; // an untouched new row
      pairs.push([name, value]);
    }
    return Object.fromEntries(pairs);
  }

  /** Draws the rows again for headers (name → value), sorted as the server renders them. */
  set(headers) {
    const names = Object.keys(headers ?? {}).sort();
    this.rows.replaceChildren(...names.map((name) => this.row(name, headers[name])));
  }

  /** Keeps the remove buttons' names in step with the header names. */
  relabel() {
    for (const row of this.rows.querySelectorAll(".header-row")) {
      const name = row.querySelector(".header-name").value;
      row.querySelector(".remove-header").setAttribute("aria-label", this.removeLabel(name));
    }
  }

  removeLabel(name) {
    return `Remove ${this.noun} ${name}`.trim();
  }

  /** A new editable row, like the ones the server renders. */
  row(name, value) {
    const Noun = this.noun.charAt(0).toUpperCase() + this.noun.slice(1);
    return el("div", { class: "header-row" },
      el("input", { type: "text", class: "header-name", "aria-label": `${Noun} name`, placeholder: "Name", value: name, spellcheck: "false" }),
      el("input", { type: "text", class: "header-value", "aria-label": `${Noun} value`, placeholder: "Value", value, spellcheck: "false" }),
      el("button", { type: "button", class: "icon remove-header", "aria-label": this.removeLabel(name), title: `Remove this ${this.noun}` }, "✕"),
    );
  }
}

/** "" → null when empty is allowed; a whole number → the number; else NaN. */
function readInt(text, emptyIsNull) {
  const t = text.trim();
  if (t === "") return emptyIsNull ? null : NaN;
  return /^-?\d+$/.test(t) ? Number(t) : NaN;
}
