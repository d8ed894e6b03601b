// curl.js: an exchange's request as a curl command, to replay it outside a
// browser. curl enforces no CORS: it gets the response whatever the
// Access-Control-* headers say, which is the lesson (CORS protects the
// users' browsers, not the server).
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
 * The curl command for exchange.request (an exchange as in the README).
 * scheme is the origin's scheme ("http"); the host comes from the request's
 * own Host header, so the command goes where the browser's request went.
 * Returns one command over several lines joined with " \".
 */
export function curlCommand(exchange, scheme = "http") {
  const req = exchange?.request ?? {};
  const headers = Array.isArray(req.headers) ? req.headers : [];
  const host = headers.find(([name]) => String(name).toLowerCase() === "host")?.[1] ?? "";
  const method = String(req.method || "GET");
  const body = String(req.body ?? "");
  const hasBody = body !== "";
  const binary = hasBody && req.bodyEncoding === "base64";

  const url = shellQuote(`${scheme}://${host}${req.target ?? "/"}`);
  // -i prints the response headers too: the Access-Control-* ones curl ignores.
  // HEAD has its own flag, because "-X HEAD" makes curl wait for a body
  // that never comes. Otherwise curl picks GET, or POST when there is a
  // body: say the method only when it is something else.
  const args = [method === "HEAD" ? `curl --head ${url}` : `curl -i ${url}`];
  if (method !== "HEAD" && method !== (hasBody ? "POST" : "GET")) args.push(`-X ${word(method)}`);

  // Every header the browser sent, in the order it sent them. An empty
  // value is written "Name;": "Name:" would tell curl to drop the header.
  for (const [name, value] of headers) {
    if (LEFT_OUT.has(String(name).toLowerCase())) continue;
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
