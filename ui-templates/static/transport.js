// The transport: how the front end reaches the Jira page around its iframe and the hubsync API (/api/v1). One
// module, two hosts; the page modules (panel, configure, post function) use only what it exports.
//
//   Connect  the page shell served by hubsync (ui-templates/shell.html) loads AP.js from the Jira site: /api/v1 is
//            fetched with a fresh context JWT per call, the issue comes from the shell, the iframe is sized here.
//   Forge    the same modules bundled by esbuild into the Forge app's Custom UI resources (connect-descriptor/forge/
//            build-ui.mjs), served by Atlassian under Forge's CSP: @forge/bridge's invokeRemote() reaches /api/v1
//            through the app's UI endpoint (Forge adds the Forge Invocation Token), view.getContext() names the
//            issue, and Forge sizes the iframe itself.
//
// The Forge packages are imported only on the Forge path, with dynamic import(): the Connect pages load these
// files as they are, unbundled, and never resolve them (nor need them: @forge/bridge wants Forge's host page).

const FORGE_API_ROOT = "/api/v1";

/** "forge" or "connect". A Forge resource's index.html says so (`<html data-platform="forge">`); otherwise Forge's
 *  host page is recognised by the bridge global it provides, and anything else is Connect. */
export function platform() {
  const declared = document.documentElement.dataset.platform;
  if (declared === "forge" || declared === "connect") return declared;
  return globalThis.__bridge && typeof globalThis.__bridge.callBridge === "function" ? "forge" : "connect";
}

let forgeBridge = null;
function forge() {
  forgeBridge = forgeBridge || import("@forge/bridge");
  return forgeBridge;
}

/** What the page is about: `{page, surface, issueKey, projectKey}`. Connect: the shell's data attributes (from the
 *  iframe URL Jira signed); Forge: the resource's index.html names the page, view.getContext() the issue. */
export async function pageContext(root) {
  const { page = "", surface = "", issueKey = "", projectKey = "" } = root.dataset;
  if (platform() !== "forge") return { page, surface: surface || page, issueKey, projectKey };
  const { view } = await forge();
  const context = (await view.getContext()) || {};
  const extension = context.extension || {};
  return {
    page,
    surface: extension.type === "jira:issueContext" ? "context" : surface || page,
    issueKey: (extension.issue && extension.issue.key) || "",
    projectKey: (extension.project && extension.project.key) || "",
  };
}

/** Calls the hubsync API: `path` below /api/v1 (with its query), `body` a JSON object or undefined. Resolves to
 *  `{status, data}` (data: the parsed JSON answer, or null); status 0 when the service could not be reached. */
export async function request(method, path, body) {
  return platform() === "forge" ? forgeRequest(method, path, body) : connectRequest(method, path, body);
}

async function connectRequest(method, path, body) {
  const root = document.getElementById("hubsync-app");
  const base = new URL((root && root.dataset.apiUrl) || "../api/v1", document.baseURI).href.replace(/\/$/, "");
  const token = await ap().context.getToken(); // short-lived: one per call
  const headers = { Authorization: `JWT ${token}`, Accept: "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  let response;
  try {
    response = await fetch(base + path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: "omit",
      cache: "no-store",
    });
  } catch (error) {
    return unreachable(error.message);
  }
  const text = await response.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch (error) {
    data = { error: `the hubsync service answered HTTP ${response.status} without JSON` };
  }
  return { status: response.status, data };
}

async function forgeRequest(method, path, body) {
  const headers = { Accept: "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  let response;
  try {
    const { invokeRemote } = await forge();
    response = await invokeRemote({ path: FORGE_API_ROOT + path, method, headers, body });
  } catch (error) {
    return unreachable(error && error.message ? error.message.trim() : String(error));
  }
  if (!response || typeof response.status !== "number") {
    // Forge could not complete the call (the remote timed out, refused the token, answered a redirect ...)
    const reason = response && (response.message || response.code);
    return unreachable(reason ? String(reason) : "Forge could not complete the call");
  }
  const data = response.body === undefined || response.body === "" ? null : response.body;
  if (typeof data === "string") {
    try {
      return { status: response.status, data: JSON.parse(data) };
    } catch (error) {
      return { status: response.status, data: { error: `the hubsync service answered HTTP ${response.status} without JSON` } };
    }
  }
  return { status: response.status, data };
}

function unreachable(reason) {
  return { status: 0, data: { error: `the hubsync service cannot be reached (${reason})` } };
}

function ap() {
  if (!window.AP) throw new Error("the Jira host script (all.js) did not load");
  return window.AP;
}

/** Let the host size the iframe to the content (after the next layout). Forge resizes its iframes by itself. */
export function fitToContent() {
  if (platform() === "forge" || !window.AP || typeof window.AP.resize !== "function") return;
  requestAnimationFrame(() => {
    const height = Math.ceil(document.body.getBoundingClientRect().height);
    window.AP.resize("100%", `${height}px`);
  });
}

/** Keep the iframe fitted as the content changes. */
export function keepFitted(element) {
  if (platform() === "forge") return;
  fitToContent();
  window.addEventListener("load", fitToContent);
  if (typeof ResizeObserver === "function") new ResizeObserver(() => fitToContent()).observe(element);
}

/** The post function's configuration: `configuration()` returns the JSON string Jira stores when the admin saves.
 *  Connect: AP.jira.WorkflowConfiguration.onSave; Forge: workflowRules.onConfigure of @forge/jira-bridge. */
export async function onSaveConfiguration(configuration) {
  if (platform() === "forge") {
    const { workflowRules } = await import("@forge/jira-bridge");
    await workflowRules.onConfigure(async () => configuration());
  } else if (window.AP && window.AP.jira && window.AP.jira.WorkflowConfiguration) {
    window.AP.jira.WorkflowConfiguration.onSave(configuration);
  }
}
