// bucket.js: the editor of the bucket's CORS rules (scenario bucket.cors),
// and beside it the same rules as S3 takes them, updated on every keystroke.
//
// S3 lets you choose nothing about CORS but these rules: no header is
// written by hand. bucket.cors is null when the bucket has no CORS
// configuration at all (corslab then calls DeleteBucketCors), or a list of
// rules, of which S3 uses the first that matches a request.
//
// The rules are drawn here, from the scenario, both those the page was
// rendered with and those the learner adds: one place builds a rule's
// controls. Each rule field carries data-field="bucket.cors.<i>.<field>",
// the path of the server's errors about it, so form.js puts S3's own
// messages ("Found unsupported HTTP method in CORS config…") beside it.
// Like HeaderRows, this does not save: ScenarioForm reads it after each
// change and saves.

import { el } from "./dom.js";
import { corsXML, corsConsoleJSON } from "./s3cors.js";
import { copyText, confirmCopied } from "./clipboard.js";

/** The methods a CORS rule may allow; S3 refuses any other, even "get". */
export const CORS_METHODS = ["GET", "PUT", "POST", "DELETE", "HEAD"];

/** The rule each preset button sets (bucket.cors), by its data-cors-preset. */
function preset(key, pageOrigin) {
  switch (key) {
    case "none": return null;
    case "any": return [newRule(["*"], ["GET", "HEAD"])];
    case "null": return [newRule(["null"], ["GET"])];
    case "page": return [newRule([pageOrigin], ["GET"])];
  }
  return undefined;
}

/** A rule's state in the editor: the scenario's rule, plus the max age as typed. */
function newRule(origins = [], methods = ["GET"]) {
  return {
    id: "", allowedOrigins: origins, allowedMethods: methods,
    allowedHeaders: [], exposeHeaders: [], maxAgeText: "",
  };
}

function ruleState(rule) {
  return {
    id: rule.id ?? "",
    allowedOrigins: [...(rule.allowedOrigins ?? [])],
    allowedMethods: [...(rule.allowedMethods ?? [])],
    allowedHeaders: [...(rule.allowedHeaders ?? [])],
    exposeHeaders: [...(rule.exposeHeaders ?? [])],
    maxAgeText: rule.maxAgeSeconds === null || rule.maxAgeSeconds === undefined ? "" : String(rule.maxAgeSeconds),
  };
}

/** A box of one entry a line → the list (blank lines dropped, spaces trimmed). */
const readLines = (text) => text.split("\n").map((s) => s.trim()).filter(Boolean);

/** "PATCH, get" → ["PATCH", "get"]: written as typed, S3 says what it thinks. */
const readOthers = (text) => text.split(",").map((s) => s.trim()).filter(Boolean);

/** Element ids for a field path, as views/data.go makes them. */
const idFor = (path) => path.replaceAll(".", "-");

export class BucketRules {
  /**
   * @param {HTMLElement} root  the bucket's fieldset (views/lab.templ bucketFields)
   * @param {object} options
   *   cors: the scenario's bucket.cors (null or a list of rules)
   *   pageOrigin(): the origin of the page, for the "page origin" preset
   */
  constructor(root, { cors, pageOrigin }) {
    this.root = root;
    this.list = root.querySelector("#rule-list");
    this.rulesBox = root.querySelector("#bucket-rules");
    this.addButton = root.querySelector("#add-rule");
    this.pageOrigin = pageOrigin;
    this.configured = cors !== null && cors !== undefined;
    this.rules = (cors ?? []).map(ruleState);
    this.document = new CorsDocument(root.querySelector(".cors-doc"));
    // Our listeners run before the form's (the events bubble up to it), so
    // the form reads the rules with this keystroke in them.
    root.addEventListener("input", (e) => this.input(e.target));
    root.addEventListener("change", (e) => this.input(e.target));
    this.render();
  }

  /**
   * The rules as the scenario's bucket.cors, and the problems found
   * before asking the server ({path: message}).
   */
  read() {
    const localErrors = {};
    if (!this.configured) return { cors: null, localErrors };
    const cors = this.rules.map((state, i) => {
      const rule = {};
      if (state.id !== "") rule.id = state.id;
      rule.allowedOrigins = [...state.allowedOrigins];
      rule.allowedMethods = [...state.allowedMethods];
      rule.allowedHeaders = [...state.allowedHeaders];
      rule.exposeHeaders = [...state.exposeHeaders];
      const t = state.maxAgeText.trim();
      rule.maxAgeSeconds = null;
      if (/^-?\d+$/.test(t)) rule.maxAgeSeconds = Number(t);
      else if (t !== "") localErrors[`bucket.cors.${i}.maxAgeSeconds`] = "must be a whole number of seconds, or empty for none";
      return rule;
    });
    return { cors, localErrors };
  }

  /** A control of the editor changed: take its value into the rules. */
  input(target) {
    if (target.name === "bucket-cors-mode") {
      if (!target.checked) return;
      this.configured = target.value === "rules";
      // Rules with nothing in them are no configuration S3 accepts: start
      // from a rule that lets the page's origin GET.
      if (this.configured && this.rules.length === 0) {
        this.rules = preset("page", this.pageOrigin()).map(ruleState);
      }
      this.render();
      return;
    }
    const card = target.closest(".rule");
    if (!card || !this.list.contains(card)) return;
    const rule = this.rules[Number(card.dataset.index)];
    const key = target.dataset.key;
    if (!rule || !key) return;
    switch (key) {
      case "id": rule.id = target.value; break;
      case "maxAgeSeconds": rule.maxAgeText = target.value; break;
      case "method": {
        const others = rule.allowedMethods.filter((m) => m !== target.value);
        rule.allowedMethods = target.checked ? [...others, target.value] : others;
        break;
      }
      case "otherMethods":
        rule.allowedMethods = [
          ...rule.allowedMethods.filter((m) => CORS_METHODS.includes(m)),
          ...readOthers(target.value),
        ];
        break;
      default: // a list, one entry a line
        if (key in rule) rule[key] = readLines(target.value);
    }
    this.refreshDocument();
  }

  /**
   * Handles a click on one of the editor's buttons (a preset, add, remove,
   * move up). Returns true if the rules changed; they are drawn again, so
   * any error shown beside them is gone until the next save.
   */
  click(button) {
    if (!this.root.contains(button)) return false;
    if (button.dataset.corsPreset) {
      const rules = preset(button.dataset.corsPreset, this.pageOrigin());
      if (rules === undefined) return false;
      this.configured = rules !== null;
      if (rules) this.rules = rules.map(ruleState);
      this.render();
      return true;
    }
    if (button === this.addButton) {
      this.rules.push(newRule());
      this.render();
      this.focusIn(this.rules.length - 1, "textarea");
      return true;
    }
    const card = button.closest(".rule");
    if (!card) return false;
    const i = Number(card.dataset.index);
    if (button.classList.contains("remove-rule")) {
      this.rules.splice(i, 1);
      this.render();
      // Focus goes to the rule that took its place, or to "Add rule".
      if (!this.focusIn(Math.min(i, this.rules.length - 1), ".remove-rule")) this.addButton.focus();
      return true;
    }
    if (button.classList.contains("move-rule") && i > 0) {
      [this.rules[i - 1], this.rules[i]] = [this.rules[i], this.rules[i - 1]];
      this.render();
      this.focusIn(i - 1, ".move-rule") || this.focusIn(i - 1, ".remove-rule");
      return true;
    }
    return false;
  }

  /** Draws the editor again for a scenario's bucket.cors (null: no configuration). */
  set(cors) {
    this.configured = cors !== null && cors !== undefined;
    this.rules = (cors ?? []).map(ruleState);
    this.render();
  }

  /** Names the page origin in the preset's tooltip, as the setup changes. */
  showPageOrigin(origin) {
    const button = this.root.querySelector('[data-cors-preset="page"]');
    if (button) button.title = `One rule: the page's origin, ${origin}, may GET`;
  }

  focusIn(index, selector) {
    const target = this.list.querySelector(`.rule[data-index="${index}"] ${selector}`);
    target?.focus();
    return Boolean(target);
  }

  /** Draws the whole editor from the rules. */
  render() {
    for (const radio of this.root.querySelectorAll('input[name="bucket-cors-mode"]')) {
      radio.checked = radio.value === (this.configured ? "rules" : "none");
    }
    this.rulesBox.hidden = !this.configured;
    this.list.replaceChildren(...this.rules.map((rule, i) => this.ruleCard(rule, i)));
    this.refreshDocument();
  }

  refreshDocument() {
    this.document.show(this.read().cors);
  }

  /** One rule's controls. */
  ruleCard(rule, i) {
    const path = (field) => `bucket.cors.${i}.${field}`;
    const n = i + 1;
    return el("div", { class: "rule", role: "group", "aria-labelledby": `rule-${i}-title`, "data-index": i },
      el("div", { class: "rule-head" },
        el("span", { class: "rule-title", id: `rule-${i}-title` }, `Rule ${n}`),
        i === 0 && this.rules.length > 1 && el("span", { class: "hint" }, "tried first"),
        i > 0 && el("button", { type: "button", class: "icon move-rule", "aria-label": `Move rule ${n} up`, title: "Move up: S3 tries the rules in order" }, "↑"),
        el("button", { type: "button", class: "icon remove-rule", "aria-label": `Remove rule ${n}`, title: "Remove this rule" }, "✕"),
      ),
      listField(path("allowedOrigins"), "Allowed origins — one a line", rule.allowedOrigins, {
        placeholder: this.pageOrigin() ?? "",
        rows: 2,
        hint: "* is any origin; one * may stand for part of one, e.g. http://*.example.com.",
      }),
      methodsField(path("allowedMethods"), rule.allowedMethods),
      listField(path("allowedHeaders"), "Allowed headers — one a line", rule.allowedHeaders, {
        placeholder: "none; * for any",
        hint: "The request headers a preflight may ask for (Access-Control-Request-Headers).",
      }),
      listField(path("exposeHeaders"), "Expose headers — one a line", rule.exposeHeaders, {
        placeholder: "e.g. ETag",
        hint: "Response headers JS may read beyond the safelisted ones.",
      }),
      el("div", { class: "row" },
        textField(path("maxAgeSeconds"), "Max age (seconds)", rule.maxAgeText, { placeholder: "none", short: true }),
        textField(path("id"), "ID (optional)", rule.id, { placeholder: "none" }),
      ),
    );
  }
}

/**
 * A labelled control with room for a hint and the server's error, like
 * views/lab.templ's field(). The control gets the ids form.js and the
 * label expect.
 */
function fieldBox(path, label, control, hint) {
  const id = idFor(path);
  control.id = `f-${id}`;
  control.setAttribute("aria-describedby", hint ? `err-${id} hint-${id}` : `err-${id}`);
  return el("div", { class: "field", "data-field": path },
    el("label", { for: control.id }, label),
    control,
    hint && el("p", { class: "hint", id: `hint-${id}` }, hint),
    el("p", { class: "field-error", id: `err-${id}`, hidden: true }),
  );
}

function listField(path, label, values, { placeholder, hint, rows = 1 }) {
  const key = path.split(".").pop();
  const box = el("textarea", { rows: Math.max(rows, values.length), "data-key": key, placeholder, spellcheck: "false" }, values.join("\n"));
  return fieldBox(path, label, box, hint);
}

function textField(path, label, value, { placeholder, short }) {
  const key = path.split(".").pop();
  const input = el("input", { type: "text", class: short ? "short" : null, "data-key": key, value, placeholder, spellcheck: "false" });
  return fieldBox(path, label, input, "");
}

/**
 * A checkbox for each method S3 accepts, and a box for any other: a
 * permalink may carry one (PATCH, or "get"), and S3's error about it only
 * makes sense if it is on screen.
 */
function methodsField(path, methods) {
  const id = idFor(path);
  const others = methods.filter((m) => !CORS_METHODS.includes(m));
  return el("div", { class: "field", "data-field": path },
    el("span", { class: "label", id: `label-${id}` }, "Allowed methods"),
    el("div", { class: "method-checks", role: "group", "aria-labelledby": `label-${id}`, "aria-describedby": `err-${id} hint-${id}` },
      // Stable ids (f-bucket-cors-0-allowedMethods-GET, …-other) for
      // anything that looks a box up: the browser tests do.
      CORS_METHODS.map((m) => el("label", { class: "method-check" },
        el("input", { type: "checkbox", id: `f-${id}-${m}`, "data-key": "method", value: m, checked: methods.includes(m) }),
        ` ${m}`,
      )),
      el("input", {
        type: "text", id: `f-${id}-other`, class: "rule-method-other", "data-key": "otherMethods", value: others.join(", "),
        placeholder: "other", "aria-label": "Other methods, comma-separated", spellcheck: "false",
      }),
    ),
    el("p", { class: "hint", id: `hint-${id}` }, "S3 allows only these five; anything else (comma-separated) is sent as written, and S3 refuses it."),
    el("p", { class: "field-error", id: `err-${id}`, hidden: true }),
  );
}

/**
 * The rules as a learner would give them to S3: two tabs, XML and the
 * console's JSON, each with a copy button; or, with no configuration, a
 * sentence saying so.
 */
class CorsDocument {
  constructor(root) {
    this.root = root;
    this.none = root.querySelector("#cors-none");
    this.tabsBox = root.querySelector("#cors-doc-tabs");
    this.tabs = [...root.querySelectorAll('[role="tab"]')];
    this.code = { xml: root.querySelector("#cors-xml"), json: root.querySelector("#cors-json") };
    this.status = root.querySelector("#cors-copy-status");
    this.fallback = root.querySelector("#cors-copy-fallback");
    this.fallbackText = root.querySelector("#cors-copy-text");
    this.texts = null;
    root.addEventListener("click", (e) => this.click(e));
    root.addEventListener("keydown", (e) => this.key(e));
    this.fallbackText.addEventListener("blur", () => { this.fallback.hidden = true; });
  }

  /** Shows the rules (bucket.cors), or that there are none (null). */
  show(rules) {
    this.none.hidden = rules !== null;
    this.tabsBox.hidden = rules === null;
    if (rules === null) {
      this.texts = null;
      return;
    }
    this.texts = { xml: corsXML(rules), json: corsConsoleJSON(rules) };
    this.code.xml.textContent = this.texts.xml;
    this.code.json.textContent = this.texts.json;
  }

  async click(event) {
    const button = event.target.closest("button");
    if (!button) return;
    if (button.getAttribute("role") === "tab") {
      this.select(button);
      return;
    }
    const kind = button.dataset.copy;
    if (!kind || !this.texts) return;
    // The label to put back after "Copied ✓" (kept from the first click).
    button.dataset.label ??= button.textContent;
    const label = button.dataset.label;
    const copied = await copyText(this.texts[kind], {
      field: this.fallbackText,
      show: (on) => { this.fallback.hidden = !on; },
    });
    if (copied) {
      this.status.textContent = `Copied the ${kind.toUpperCase()}`;
      confirmCopied(button, label);
    } else {
      this.status.textContent = "Press Ctrl+C to copy the selected text";
    }
  }

  /** Tabs: the arrow keys, Home and End move between them (ARIA tabs pattern). */
  key(event) {
    const i = this.tabs.indexOf(event.target);
    if (i < 0) return;
    const last = this.tabs.length - 1;
    const to = { ArrowRight: i === last ? 0 : i + 1, ArrowLeft: i === 0 ? last : i - 1, Home: 0, End: last }[event.key];
    if (to === undefined) return;
    event.preventDefault();
    this.select(this.tabs[to]);
    this.tabs[to].focus();
  }

  select(tab) {
    for (const t of this.tabs) {
      const on = t === tab;
      t.setAttribute("aria-selected", String(on));
      t.tabIndex = on ? 0 : -1;
      this.root.querySelector(`#${t.getAttribute("aria-controls")}`).hidden = !on;
    }
  }
}
