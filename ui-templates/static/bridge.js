// The host bridge: what the front end needs from the product page around its iframe. Today that is Atlassian
// Connect's AP (all.js, loaded by the page shell); a Forge app would provide the same three functions.

function ap() {
  if (!window.AP) throw new Error("the Jira host script (all.js) did not load");
  return window.AP;
}

/** A fresh context token for the app's own API (short-lived: ask for one per call). */
export async function getToken() {
  return ap().context.getToken();
}

/** Let the host size the iframe to the content (after the next layout). */
export function fitToContent() {
  if (!window.AP || typeof window.AP.resize !== "function") return;
  requestAnimationFrame(() => {
    const height = Math.ceil(document.body.getBoundingClientRect().height);
    window.AP.resize("100%", `${height}px`);
  });
}

/** Keep the iframe fitted as the content changes. */
export function keepFitted(element) {
  fitToContent();
  window.addEventListener("load", fitToContent);
  if (typeof ResizeObserver === "function") new ResizeObserver(() => fitToContent()).observe(element);
}
