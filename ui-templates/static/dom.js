// Small DOM helpers: every text goes in as text (never as HTML), so finding data cannot inject markup.

export function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (name === "className") element.className = value;
    else if (name === "dataset") Object.assign(element.dataset, value);
    else if (name.startsWith("on")) {
      // An event handler is a function, never a string: a string would be an inline script built from data.
      if (typeof value !== "function") throw new TypeError(`h(): ${name} must be a function, not ${typeof value}`);
      element.addEventListener(name.slice(2), value);
    }
    else if (value === true) element.setAttribute(name, "");
    else element.setAttribute(name, String(value));
  }
  append(element, children);
  return element;
}

function append(element, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

export function replaceChildren(element, ...children) {
  element.replaceChildren();
  append(element, children);
}

let nextId = 0;
/** A unique element id, for labels and aria-describedby. */
export function uid(prefix) {
  nextId += 1;
  return `${prefix}-${nextId}`;
}

/** An Atlassian lozenge: appearance is default, success, removed, inprogress, new or moved. */
export function lozenge(text, appearance = "default", { bold = false, label } = {}) {
  return h(
    "span",
    { className: `hs-lozenge hs-lozenge-${appearance}${bold ? " hs-lozenge-bold" : ""}`, title: label || null },
    text,
  );
}

const WEB_PROTOCOLS = new Set(["http:", "https:"]);
// The authority right after the scheme (`https:host` and `https:///host` are refused); it carries no user info.
const AUTHORITY = /^https?:\/\/([^/?#@]+)(?:[/?#]|$)/i;
const MAX_LINK_LENGTH = 2048;
// Control, format, unassigned and space characters, and the backslash: what a browser drops or rewrites before it
// reads a URL, so what it would follow is not what was checked.
const UNREADABLE = /[\p{C}\p{Z}\\]/u;

/** The URL when it is an absolute http(s) URL with a host, else null: the service's rule for links (`safe_link` in
 * domain/urls.py), checked again where the link is made. A link to anything else (javascript:, data:) is refused. */
export function webUrl(url) {
  if (typeof url !== "string" || url.length > MAX_LINK_LENGTH || UNREADABLE.test(url) || !AUTHORITY.test(url)) {
    return null;
  }
  let parsed;
  try {
    parsed = new URL(url);
  } catch {
    return null; // not absolute
  }
  if (!WEB_PROTOCOLS.has(parsed.protocol) || !parsed.hostname || parsed.username || parsed.password) return null;
  return parsed.href;
}

/** A link that opens in a new tab; null when `url` is not an http(s) URL (the caller shows nothing). */
export function externalLink(text, url) {
  const href = webUrl(url);
  if (href === null) return null;
  return h("a", { href, target: "_blank", rel: "noopener noreferrer" }, text);
}

const TIME = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });

export function time(iso) {
  if (!iso) return null;
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return h("span", {}, iso);
  return h("time", { datetime: iso, title: iso }, TIME.format(date));
}
