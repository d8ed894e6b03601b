// curl.js: a request as a curl command, to send it outside a browser:
// a run's request as its script made it (runCurlCommand), or one exchange
// exactly as the browser sent it (curlCommand). curl enforces no CORS: it
// gets the response whatever the Access-Control-* headers say, which is the
// lesson (CORS protects the users' browsers, not the server).
// A WebSocket is not curl's to open: for a handshake, and for a run through
// the WebSocket door, the command is websocat's (websocatCommand), which
// sends what it reads on stdin, a line a message, and prints what comes back.
//
// The command is for POSIX shells (sh, bash, zsh). Every argument that
// holds data is put in single quotes, where the shell interprets nothing;
// a single quote itself is written '\'' (close, escaped quote, reopen).
// Header values never hold CR or LF (the capture and the scenario refuse
// them), and a body's newlines are safe inside single quotes.

/** Headers curl must not be told to send: it writes them itself from the URL and the body. */
const LEFT_OUT = new Set(["host", "content-length", "connection"]);

/** 'it'\''s': s quoted for a POSIX shell. */
export function shellQuote(s) {
  return `'${String(s).replaceAll("'", `'\\''`)}'`;
}

/** s as it is when it is plainly safe (GET, PUT…), else quoted. */
function word(s) {
  return /^[A-Za-z0-9_.-]+$/.test(s) ? s : shellQuote(s);
}

/**
 * The curl command for exchange.request (an exchange as in the README):
 * that request again, every header the browser sent included (Origin,
 * cookies, Sec-Fetch-*…). scheme is the origin's scheme ("http"); the host
 * comes from the request's own Host header, so the command goes where the
 * browser's request went.
 * Returns one command over several lines joined with " \".
 */
export function curlCommand(exchange, scheme = "http") {
  const req = exchange?.request ?? {};
  const headers = Array.isArray(req.headers) ? req.headers : [];
  const host = headers.find(([name]) => String(name).toLowerCase() === "host")?.[1] ?? "";
  const body = String(req.body ?? "");
  return command({
    method: String(req.method || "GET"),
    url: `${scheme}://${host}${req.target ?? "/"}`,
    headers: headers.filter(([name]) => !LEFT_OUT.has(String(name).toLowerCase())),
    body,
    binary: body !== "" && req.bodyEncoding === "base64",
  });
}

/** The methods fetch() upper-cases; any other keeps its case ("patch"). fetch.spec.whatwg.org/#concept-method-normalize */
const NORMALIZED = new Set(["DELETE", "GET", "HEAD", "OPTIONS", "POST", "PUT"]);

/**
 * The curl command for a run's request: what the page's script asked
 * fetch() for (run.request), sent to the URL it fetched (run.url). That is
 * the run's actual request, never a preflight, and the first one when
 * redirects followed: the request an attacker would send from a terminal.
 * It has the script's method, headers and body and nothing the browser
 * adds: no Origin, no cookies, no Sec-Fetch-*. So it can be copied even
 * when the browser never sent the request (a failed preflight stopped it).
 */
export function runCurlCommand(run) {
  const req = run?.request ?? {};
  if (req.via === "websocket") return runWebsocatCommand(run);
  const upper = String(req.method || "GET").toUpperCase();
  const headers = Object.entries(req.headers ?? {});
  const body = String(req.body ?? "");
  // fetch() labels a string body text/plain;charset=UTF-8 unless the script
  // set a type; curl's default would be a form's. Say what fetch() says.
  if (body !== "" && !headers.some(([name]) => name.toLowerCase() === "content-type")) {
    headers.push(["Content-Type", "text/plain;charset=UTF-8"]);
  }
  return command({
    method: NORMALIZED.has(upper) ? upper : String(req.method),
    url: String(run?.url ?? ""),
    headers,
    body,
    binary: false,
  });
}

/** The command itself, from a request's parts; headers are [[name, value], ...]. */
function command({ method, url, headers, body, binary }) {
  const hasBody = body !== "";
  const quotedURL = shellQuote(url);
  // -i prints the response headers too: the Access-Control-* ones curl ignores.
  // HEAD has its own flag, because "-X HEAD" makes curl wait for a body
  // that never comes. Otherwise curl picks GET, or POST when there is a
  // body: say the method only when it is something else.
  const args = [method === "HEAD" ? `curl --head ${quotedURL}` : `curl -i ${quotedURL}`];
  if (method !== "HEAD" && method !== (hasBody ? "POST" : "GET")) args.push(`-X ${word(method)}`);

  // Every header, in order. An empty value is written "Name;": "Name:"
  // would tell curl to drop the header.
  for (const [name, value] of headers) {
    args.push(`-H ${shellQuote(value === "" ? `${name};` : `${name}: ${value}`)}`);
  }

  if (binary) {
    // The capture keeps a binary body as base64: decode it on the way in.
    args.push("--data-binary @-");
    return `printf '%s' ${shellQuote(body)} | base64 -d | ${args.join(" \\\n  ")}`;
  }
  if (hasBody) args.push(`--data-raw ${shellQuote(body)}`);
  return args.join(" \\\n  ");
}

/** Handshake headers websocat writes itself: the URL's Host, and the upgrade's own. rfc6455#section-4.1 */
const WEBSOCAT_LEFT_OUT = new Set(["host", "connection", "upgrade", "content-length"]);

/** "http://h/p" → "ws://h/p" (and https → wss): the socket's URL. */
function wsURL(url) {
  return String(url).replace(/^http(s?):/i, "ws$1:");
}

/**
 * The websocat command for exchange, a WebSocket handshake (status 101):
 * the same socket opened again, with every header the browser sent
 * (Origin, cookies…) but the ones websocat makes itself: Host, Upgrade,
 * Connection and the Sec-WebSocket-* ones (a fresh key; and no
 * extension websocat would then have to speak). scheme is the origin's
 * ("http"), for ws:// or wss://.
 */
export function websocatCommand(exchange, scheme = "http") {
  const req = exchange?.request ?? {};
  const headers = (Array.isArray(req.headers) ? req.headers : []).filter(([name]) => {
    const n = String(name).toLowerCase();
    return !WEBSOCAT_LEFT_OUT.has(n) && !n.startsWith("sec-websocket-");
  });
  const host = (req.headers ?? []).find(([name]) => String(name).toLowerCase() === "host")?.[1] ?? "";
  const args = ["websocat"];
  for (const [name, value] of headers) args.push(`-H ${shellQuote(`${name}: ${value}`)}`);
  args.push(shellQuote(wsURL(`${scheme}://${host}${req.target ?? "/"}`)));
  return args.join(" \\\n  ");
}

/**
 * A WebSocket run's command: its socket opened from a terminal, with no
 * Origin and no cookies (like runCurlCommand's), sending the run's
 * message (request.body) first when it has one.
 */
function runWebsocatCommand(run) {
  const command = `websocat ${shellQuote(wsURL(run?.url ?? ""))}`;
  const body = String(run?.request?.body ?? "");
  return body === "" ? command : `printf '%s\\n' ${shellQuote(body)} | ${command}`;
}
