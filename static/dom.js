// dom.js: tiny helpers for building the page safely.
//
// Everything corslab shows came from a server or a learner, and the "evil"
// origin sends hostile headers on purpose. So nothing here ever parses a
// string as HTML: text goes in with textContent (via text nodes), which the
// browser always treats as plain text.

/**
 * el("p", {class: "note"}, "Hello ", el("code", {}, "fetch()"))
 * Creates an element. Attributes are set with setAttribute (never as HTML);
 * children may be strings (turned into text nodes), nodes, or null/false
 * (skipped), or arrays of those.
 */
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  setAttrs(node, attrs);
  append(node, children);
  return node;
}

/** svg("line", {x1: 0, ...}) creates an SVG element the same way. */
export function svg(tag, attrs = {}, ...children) {
  const node = document.createElementNS("http://www.w3.org/2000/svg", tag);
  setAttrs(node, attrs);
  append(node, children);
  return node;
}

function setAttrs(node, attrs) {
  for (const [name, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    node.setAttribute(name, value === true ? "" : String(value));
  }
}

function append(node, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    node.append(typeof child === "string" || typeof child === "number"
      ? document.createTextNode(String(child))
      : child);
  }
}

/** debounce(fn, 300) calls fn once, 300 ms after the last call. */
export function debounce(fn, ms) {
  let timer = 0;
  const debounced = (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => fn(...args), ms);
  };
  debounced.cancel = () => clearTimeout(timer);
  return debounced;
}

/**
 * A random id for matching a runner's answer to its question. Uses
 * crypto.getRandomValues, which (unlike crypto.randomUUID) also works on
 * plain-http LAN addresses that are not "secure contexts".
 */
export function nonce() {
  const bytes = crypto.getRandomValues(new Uint8Array(12));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}
