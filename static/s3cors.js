// s3cors.js: a bucket's CORS rules in the two forms people give them to S3.
//
//   corsXML(rules)          the body of PutBucketCors (PUT /?cors), the form
//                           the S3 API, the CLI's XML and most docs use
//   corsConsoleJSON(rules)  what the S3 console's Permissions → CORS box takes
//
// The rules are a scenario's bucket.cors: [{id, allowedOrigins,
// allowedMethods, allowedHeaders, exposeHeaders, maxAgeSeconds}].
//
// corsXML must give, byte for byte, what the server's s3cors.XML gives
// (playground/s3cors/xml.go), so that what the lab shows is what the fake
// S3 was really configured with. Change both together.

const XML_HEADER = '<?xml version="1.0" encoding="UTF-8"?>\n'; // Go's xml.Header
export const S3_NAMESPACE = "http://s3.amazonaws.com/doc/2006-03-01/";

/** A rule's lists in the order of AWS's samples, with their XML names. */
const LISTS = [
  ["AllowedOrigin", "allowedOrigins"],
  ["AllowedMethod", "allowedMethods"],
  ["AllowedHeader", "allowedHeaders"],
  ["ExposeHeader", "exposeHeaders"],
];

/**
 * The CORSConfiguration document, indented by two spaces. Each rule's
 * children come in the order ID, AllowedOrigin, AllowedMethod,
 * AllowedHeader, ExposeHeader, MaxAgeSeconds; an empty ID is left out, and
 * so is a null MaxAgeSeconds.
 */
export function corsXML(rules) {
  let out = `${XML_HEADER}<CORSConfiguration xmlns="${S3_NAMESPACE}">\n`;
  for (const rule of rules) {
    out += "  <CORSRule>\n";
    if (rule.id) out += element("ID", rule.id);
    for (const [name, key] of LISTS) {
      for (const value of rule[key] ?? []) out += element(name, value);
    }
    if (Number.isInteger(rule.maxAgeSeconds)) out += element("MaxAgeSeconds", String(rule.maxAgeSeconds));
    out += "  </CORSRule>\n";
  }
  return `${out}</CORSConfiguration>\n`;
}

/** One child of a CORSRule on its own line (s3err.Element in Go). */
function element(name, text) {
  return `    <${name}>${escapeText(text)}</${name}>\n`;
}

/**
 * Text as S3 writes it: only &, <, > and a carriage return (which an XML
 * parser would turn into a line feed) are escaped; quotes stay as they
 * are. A character XML cannot hold becomes U+FFFD. The loop goes by code
 * point, as Go's range over a string does, so a lone surrogate is one
 * character (and not one XML allows).
 */
export function escapeText(text) {
  let out = "";
  for (const ch of String(text)) {
    switch (ch) {
      case "&": out += "&amp;"; break;
      case "<": out += "&lt;"; break;
      case ">": out += "&gt;"; break;
      case "\r": out += "&#xD;"; break;
      default: out += isXMLChar(ch.codePointAt(0)) ? ch : "\uFFFD";
    }
  }
  return out;
}

/** Whether c is a Char of XML 1.0 (www.w3.org/TR/xml/#charsets). */
function isXMLChar(c) {
  return c === 0x09 || c === 0x0a || c === 0x0d ||
    (c >= 0x20 && c <= 0xd7ff) ||
    (c >= 0xe000 && c <= 0xfffd) ||
    (c >= 0x10000 && c <= 0x10ffff);
}

/**
 * The S3 console's JSON: an array of rules whose keys are the XML names in
 * the plural, in the order of AWS's examples. Empty lists, an empty ID and
 * a null MaxAgeSeconds are left out.
 */
export function corsConsoleJSON(rules) {
  const out = rules.map((rule) => {
    const o = {};
    if (rule.id) o.ID = rule.id;
    for (const [name, key] of [
      ["AllowedHeaders", "allowedHeaders"],
      ["AllowedMethods", "allowedMethods"],
      ["AllowedOrigins", "allowedOrigins"],
      ["ExposeHeaders", "exposeHeaders"],
    ]) {
      if (rule[key]?.length) o[name] = [...rule[key]];
    }
    if (Number.isInteger(rule.maxAgeSeconds)) o.MaxAgeSeconds = rule.maxAgeSeconds;
    return o;
  });
  return JSON.stringify(out, null, 4);
}
