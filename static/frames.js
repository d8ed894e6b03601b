// frames.js: a WebSocket's frames, listed under its handshake in the log.
// log.js loads it with the first frame: most visits never open a socket,
// and the lab's first load stays small.
//
// One line per frame, in the order it crossed the wire: which way it went,
// when (after the handshake began), its opcode, its payload as text, its
// size, and for a close frame its code and reason. The frame's head, as
// sent, is one click away. rfc-editor.org/rfc/rfc6455#section-5.2
//
// A payload is whatever the page or the server sent (the evil origin's
// page included): it is only ever put into the page as text.

import { el } from "./dom.js";
import { formatMs } from "./log.js";

/** WebSocket frames the page keeps, the newest: as many as the server (session.MaxSocketFrames). */
const MAX_FRAMES = 256;

/** The log's WebSocket frames, by the seq of their handshake. */
export class SocketFrames {
  constructor() {
    this.bySocket = new Map(); // handshake seq → its frames, in seq order
    this.kept = [];            // every frame, oldest first
  }

  /**
   * Keeps frame, whether its handshake has come or not, and forgets the
   * oldest past MAX_FRAMES. Returns the seqs of the handshakes whose
   * frames changed.
   */
  add(frame) {
    const seq = Number(frame.exchange);
    const list = this.bySocket.get(seq) ?? [];
    if (list.some((f) => f.seq === frame.seq)) return [];
    this.bySocket.set(seq, [...list, frame]); // the stream brings them in seq order
    this.kept.push(frame);
    const changed = new Set([seq]);
    while (this.kept.length > MAX_FRAMES) {
      const old = this.kept.shift();
      const oldSeq = Number(old.exchange);
      const rest = this.bySocket.get(oldSeq).filter((f) => f !== old);
      if (rest.length > 0) this.bySocket.set(oldSeq, rest);
      else this.bySocket.delete(oldSeq);
      changed.add(oldSeq);
    }
    return [...changed];
  }

  /**
   * The frames of these exchanges' sockets, for the diagram (diagram.js):
   * [{exchange, toServer, label, full}], label being short.
   */
  arrows(exchanges) {
    return exchanges.flatMap((ex) => this.bySocket.get(Number(ex.seq)) ?? []).map((f) => {
      const [label, full] = arrowLabel(f);
      return { exchange: Number(f.exchange), toServer: f.direction === "client-to-server", label, full };
    });
  }

  /**
   * Makes the frames section of node (handshake seq's <details> in the
   * log) list its frames: adds what is new and removes what was dropped,
   * leaving the rest (and any head the learner opened) as it is.
   */
  show(node, seq, handshake) {
    const frames = this.bySocket.get(seq) ?? [];
    let box = node.querySelector(":scope > .socket-frames");
    if (frames.length === 0) {
      box?.remove();
      return;
    }
    if (!box) {
      box = el("div", { class: "raw-part socket-frames" },
        el("p", { class: "label" }),
        el("ol", { class: "frame-list" }));
      node.append(box);
    }
    const [label, list] = box.children;
    const n = frames.length;
    label.textContent = `WebSocket frames after the handshake (${n}), both ways`;
    list.setAttribute("aria-label", `${n} WebSocket ${n === 1 ? "frame" : "frames"}`);
    const keep = new Set(frames.map((f) => String(f.seq)));
    for (const item of [...list.children]) {
      if (!keep.has(item.dataset.seq)) item.remove();
    }
    const shown = new Set([...list.children].map((item) => item.dataset.seq));
    const start = instant(handshake?.start ?? frames[0].at);
    for (const f of frames) {
      if (shown.has(String(f.seq))) continue;
      const after = [...list.children].find((item) => Number(item.dataset.seq) > Number(f.seq));
      list.insertBefore(frameItem(f, start), after ?? null);
    }
  }
}

/**
 * [label, full] of a frame's arrow in the diagram: its opcode and the
 * start of its text ("text “hello from…”"), a close frame's code and
 * reason, or the size of anything else.
 */
function arrowLabel(f) {
  const op = String(f.opcodeName || f.opcode);
  if (op === "close") {
    const text = `close ${f.closeCode ?? ""} ${f.closeReason ?? ""}`.trim();
    return [text, text];
  }
  if (f.payloadEncoding === "base64" || !f.payload) {
    const text = `${op} (${f.payloadSize ?? 0} bytes)`;
    return [text, text];
  }
  const text = String(f.payload).replace(/\s+/g, " ");
  const short = text.length > 24 ? `${text.slice(0, 23)}…` : text;
  return [`${op} “${short}”`, `${op} “${text}”`];
}

/** One frame, as a list item. */
function frameItem(f, start) {
  const toServer = f.direction === "client-to-server";
  const origin = String(f.origin ?? "server");
  const op = String(f.opcodeName || f.opcode || "?");
  const size = `${f.payloadSize ?? 0} ${Number(f.payloadSize) === 1 ? "byte" : "bytes"}`;
  const close = op === "close" && f.closeCode
    ? `code ${f.closeCode}${f.closeReason ? ` “${f.closeReason}”` : ""}`
    : "";
  return el("li", { class: `frame ${toServer ? "to-server" : "to-page"} op-${op}`, "data-seq": String(f.seq) },
    el("div", { class: "frame-line" },
      el("span", { class: "seq" }, `#${f.seq}`),
      el("span", {
        class: "frame-dir",
        title: toServer ? `The page sent this frame to ${origin}` : `${origin} sent this frame to the page`,
      }, toServer ? `page → ${origin}` : `${origin} → page`),
      el("span", { class: "dur", title: "after the handshake's request began" }, `+${formatMs(instant(f.at) - start)}`),
      el("span", { class: "badge frame-op" }, op),
      f.fin === false ? el("span", { class: "badge", title: "More frames of this message follow" }, "not final") : null,
      close ? el("span", { class: "frame-close" }, close) : null,
      el("span", { class: "frame-size" }, size),
      f.payloadTruncated ? el("span", { class: "badge truncated", title: "corslab kept only the start of this payload: the size is the whole of it" }, "truncated") : null),
    payload(f, close),
    el("details", { class: "frame-raw" },
      el("summary", {}, "Frame head, as sent (hex)"),
      el("code", { class: "mono" }, String(f.head ?? ""))));
}

/** The payload as text, or what it is when it is not text. */
function payload(f, close) {
  if (close) return null; // the code and reason are the payload
  const text = String(f.payload ?? "");
  if (f.payloadEncoding === "base64") return el("p", { class: "binary" }, `${f.payloadSize ?? 0} bytes of binary data`);
  if (text === "") return null;
  return el("pre", { class: "raw-text body frame-payload" }, text);
}

/**
 * An RFC 3339 time in milliseconds, to the nanosecond the server wrote
 * (Date.parse keeps only milliseconds: a socket's frames are closer).
 */
function instant(iso) {
  const s = String(iso ?? "");
  const fraction = /\.(\d+)/.exec(s)?.[1] ?? "";
  return Date.parse(s.replace(/\.\d+/, "")) + Number(`0.${fraction || "0"}`) * 1000;
}
