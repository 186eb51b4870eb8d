// Small DOM helpers: every text goes in as text (never as HTML), so finding data cannot inject markup.

export function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (name === "className") element.className = value;
    else if (name === "dataset") Object.assign(element.dataset, value);
    else if (name.startsWith("on") && typeof value === "function") element.addEventListener(name.slice(2), value);
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

export function externalLink(text, url) {
  return h("a", { href: url, target: "_blank", rel: "noopener noreferrer" }, text);
}

const TIME = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });

export function time(iso) {
  if (!iso) return null;
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return h("span", {}, iso);
  return h("time", { datetime: iso, title: iso }, TIME.format(date));
}
