/*
 * The simulated Forge host's side of @forge/bridge, loaded by the simulator before a Custom UI resource's bundle:
 * every bridge call goes through globalThis.__bridge.callBridge(name, payload). getContext and invoke
 * (invokeRemote) are answered by the simulator, for the frame's module, issue and viewer (the iframe URL's
 * moduleKey, issueKey and as); the other calls the bundle may make get harmless answers here.
 */
(function () {
  "use strict";

  var query = new URLSearchParams(window.location.search);
  var frame = { moduleKey: query.get("moduleKey") || "", issueKey: query.get("issueKey") || "", as: query.get("as") || "" };
  var ANSWERED_BY_SIMULATOR = { getContext: true, invoke: true };

  function askSimulator(name, payload) {
    return fetch("/_sandbox/forge/bridge", {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: JSON.stringify({ frame: frame, name: name, payload: payload === undefined ? null : payload }),
      credentials: "same-origin",
      cache: "no-store",
    }).then(function (response) {
      return response.json().then(function (body) {
        if (!response.ok) throw new Error((body && body.error) || "the Forge host answered HTTP " + response.status);
        return body;
      });
    });
  }

  var local = {
    refresh: function () { window.location.reload(); return true; },
    reload: function () { window.location.reload(); return true; },
    showFlag: function () { return true; },
    closeFlag: function () { return true; },
    resize: function () { return true; },
    enableTheming: function () { return true; },
    emitReadyEvent: function () { return true; },
    setWorkflowRuleConfigurationCallback: function () { return true; },
  };

  // Forge sizes its Custom UI iframes to their content: tell the host page (forge-host.js) the page's height.
  function reportHeight() {
    var body = document.body;
    if (!body) return;
    var height = Math.ceil(body.getBoundingClientRect().bottom + window.scrollY + (parseFloat(getComputedStyle(body).marginBottom) || 0));
    if (window.parent !== window) window.parent.postMessage({ forgeSandboxResize: height }, window.location.origin);
  }
  if (typeof ResizeObserver === "function") {
    document.addEventListener("DOMContentLoaded", function () {
      new ResizeObserver(reportHeight).observe(document.body);
    });
  }
  window.addEventListener("load", reportHeight);

  globalThis.__bridge = {
    callBridge: function (name, payload) {
      if (ANSWERED_BY_SIMULATOR[name]) return askSimulator(name, payload);
      var answer = Object.prototype.hasOwnProperty.call(local, name) ? local[name](payload) : null;
      return Promise.resolve(answer);
    },
  };
})();
