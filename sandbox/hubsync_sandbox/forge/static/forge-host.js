/*
 * The Jira page's side of the simulated Forge host: sizes each Forge Custom UI iframe to the height its bridge.js
 * reports, as Forge does (a message counts only if it comes from one of the page's Forge iframes, same origin).
 */
(function () {
  "use strict";

  window.addEventListener("message", function (event) {
    if (event.origin !== window.location.origin || !event.data || typeof event.data.forgeSandboxResize !== "number") {
      return;
    }
    var frames = Array.prototype.slice.call(document.querySelectorAll("iframe[data-forge-module]"));
    var frame = frames.find(function (f) { return f.contentWindow === event.source; });
    if (frame) frame.style.height = Math.max(Math.min(event.data.forgeSandboxResize, 20000), 60) + "px";
  });
})();
