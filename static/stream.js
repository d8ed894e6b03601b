// stream.js: the live feed of exchanges and runs, over a websocket.
//
// On connect the server first replays everything newer than what we say we
// have (?since=<exchange seq>&runsSince=<run id>), then streams new events.
// The server drops a client that reads too slowly, so when the socket closes
// we reconnect with backoff, asking only for what we have not seen. Anything
// we have already seen (seq or id not above the highest so far) is ignored.

import { streamURL, sessionIsGone } from "./api.js";

const FIRST_DELAY_MS = 500;
const MAX_DELAY_MS = 5000;

export class Stream {
  /**
   * @param {string} sessionId
   * @param {object} handlers
   *   onExchange(exchange), onRun(run): a new event, in order, never twice
   *   onFrame(frame): a frame of a WebSocket on api, the same way (its
   *     seq is from the exchanges' counter: ?since counts it too)
   *   onState(state): "connecting" | "live" | "reconnecting" | "gone"
   *   watch: true on the instructor's read-only view (see streamURL)
   *   onMessage(msg): any other frame, such as {"type": "announce", ...}
   *     or {"type": "scenario", ...}; optional. Such frames are news, not
   *     history: ?since does not replay them.
   */
  constructor(sessionId, { onExchange, onRun, onFrame, onState, onMessage, watch = false }) {
    this.sessionId = sessionId;
    this.watch = watch;
    this.onExchange = onExchange;
    this.onRun = onRun;
    this.onFrame = onFrame;
    this.onState = onState;
    this.onMessage = onMessage;
    this.highestSeq = 0; // the newest exchange or WebSocket frame we have
    this.highestRun = 0; // the newest run we have
    this.delay = FIRST_DELAY_MS;
    this.failuresBeforeOpen = 0;
    this.socket = null;
  }

  start() {
    this.onState("connecting");
    this.connect();
  }

  connect() {
    const socket = new WebSocket(streamURL(this.sessionId, this.highestSeq, this.highestRun, this.watch));
    this.socket = socket;
    let opened = false;

    socket.addEventListener("open", () => {
      opened = true;
      this.delay = FIRST_DELAY_MS;
      this.failuresBeforeOpen = 0;
      this.onState("live");
    });

    socket.addEventListener("message", (event) => this.receive(event.data));

    // "close" follows "error" too, so reconnecting here covers both.
    socket.addEventListener("close", () => {
      if (this.socket !== socket) return;
      this.socket = null;
      if (!opened) this.failuresBeforeOpen++;
      this.reconnectLater();
    });
  }

  async reconnectLater() {
    // Failed to connect twice in a row: maybe the session has expired (or
    // the server restarted and forgot it). Ask; a 404 means retrying is
    // pointless. If the server is simply down, keep trying.
    if (this.failuresBeforeOpen >= 2) {
      if (await sessionIsGone(this.sessionId)) {
        this.onState("gone");
        return;
      }
    }
    this.onState("reconnecting");
    setTimeout(() => this.connect(), this.delay);
    this.delay = Math.min(this.delay * 2, MAX_DELAY_MS);
  }

  receive(text) {
    let msg;
    try {
      msg = JSON.parse(text);
    } catch {
      return; // not ours to show
    }
    if (msg.type === "exchange" && msg.exchange) {
      const seq = Number(msg.exchange.seq);
      if (!(seq > this.highestSeq)) return; // a duplicate from a replay
      this.highestSeq = seq;
      this.onExchange(msg.exchange);
    } else if (msg.type === "websocket-frame" && msg.frame) {
      const seq = Number(msg.frame.seq);
      if (!(seq > this.highestSeq)) return;
      this.highestSeq = seq;
      this.onFrame?.(msg.frame);
    } else if (msg.type === "run" && msg.run) {
      const id = Number(msg.run.id);
      if (!(id > this.highestRun)) return;
      this.highestRun = id;
      this.onRun(msg.run);
    } else if (msg && typeof msg.type === "string" && !["exchange", "run", "websocket-frame"].includes(msg.type)) {
      this.onMessage?.(msg);
    }
  }
}
