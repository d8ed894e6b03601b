// signed.js: the second request of a signed-URL exchange.
//
// The api hands out presigned URLs of the session's bucket in two ways a
// page can read:
//
//   GET /files/{key} with api.redirect = 0   200, the URL as the body (the
//                                            "two-phase fetch")
//   POST /uploads/{key}                      200, {"method": "PUT", "url": …,
//                                            "expiresIn": …}
//
// A real frontend reads that answer and then fetches (or PUTs to) the URL
// itself. signedFollowUp() finds such a URL in what a run's JavaScript
// could read, so that the lab can offer to point the form at it. It never
// runs anything: the learner presses Run, maybe after waiting until the
// URL has expired, to see S3 refuse it.

/** What the lab uploads when the form has no body of its own. */
export const UPLOAD_BODY = "uploaded from the lab";

/**
 * The request a run's answer invites, or null.
 *   run: a run ({request, browser}), as the log holds it
 *   bases: role → the session's base URL on that origin (lab-data origins)
 * Returns {method, url, path}: method is "GET" or "PUT", url the signed
 * URL, and path what the form's path box takes with target s3: the URL
 * after the bucket's base, "/hello.txt?X-Amz-Algorithm=…".
 */
export function signedFollowUp(run, bases) {
  const b = run?.browser;
  // Only a body JS could read, and all of it: a blocked or opaque
  // response gives the page nothing to follow.
  if (!b || !b.ok || b.status !== 200 || b.bodyTruncated || typeof b.body !== "string") return null;
  // The api signs; an object of the bucket that holds a URL is just text.
  if (run.request?.target !== "api") return null;
  const found = signedURLIn(b.body);
  if (!found) return null;
  const path = bucketPath(found.url, bases);
  return path === null ? null : { method: found.method, url: found.url, path };
}

/** The URL (and method) in an answer of /files (the URL alone) or /uploads (JSON). */
function signedURLIn(body) {
  const text = body.trim();
  if (text.startsWith("{")) {
    let doc;
    try {
      doc = JSON.parse(text);
    } catch {
      return null;
    }
    const method = doc?.method;
    if (typeof doc?.url !== "string" || (method !== "PUT" && method !== "GET")) return null;
    return { method, url: doc.url };
  }
  return /^https?:\/\/\S+$/.test(text) ? { method: "GET", url: text } : null;
}

/**
 * The part of url after the session's bucket ("/key?query"), or null when
 * the URL is not in it. The bucket is the s3 origin's session base
 * (http://host:8083/<session>/key) or, in the one-origin setup, the app's
 * /files/ (http://host:8081/<session>/files/key), which the app's proxy
 * passes on to the bucket unchanged; requestURL() in form.js makes the
 * same choice the other way round.
 */
export function bucketPath(url, bases) {
  for (const base of [bases.s3, bases.app ? `${bases.app}/files` : ""]) {
    if (base && url.startsWith(`${base}/`)) return url.slice(base.length);
  }
  return null;
}
