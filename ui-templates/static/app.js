// Entry point: the page (the Connect shell or a Forge resource's index.html) says which page this is, the transport
// which issue; the page module renders the API's JSON.
import { createApi } from "./api.js";
import { h, replaceChildren } from "./dom.js";
import { pageContext } from "./transport.js";

const root = document.getElementById("hubsync-app");
const api = createApi();

async function boot() {
  const { page, surface, issueKey } = await pageContext(root);
  if (page === "panel") {
    const { showPanel } = await import("./panel.js");
    await showPanel(root, api, issueKey, surface);
  } else if (page === "configure") {
    const { showConfigure } = await import("./configure.js");
    await showConfigure(root, api);
  } else {
    throw new Error(`unknown page ${JSON.stringify(page)}`);
  }
}

boot().catch((error) => {
  replaceChildren(root, h("div", { className: "hs-message hs-message-error", role: "alert" }, error.message));
});
