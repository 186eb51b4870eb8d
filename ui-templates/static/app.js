// Entry point: the page shell says which page this is; the page module renders the API's JSON.
import { createApi } from "./api.js";
import { h, replaceChildren } from "./dom.js";

const root = document.getElementById("hubsync-app");
const { page, issueKey, apiUrl } = root.dataset;
const api = createApi(new URL(apiUrl || "../api/v1", document.baseURI).href);

async function boot() {
  if (page === "panel") {
    const { showPanel } = await import("./panel.js");
    await showPanel(root, api, issueKey);
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
