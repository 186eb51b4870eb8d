/*
 * The Jira page's side of the AP bridge: answers the postMessage calls that all.js makes from the app
 * iframes on this page. A message counts only if it comes from one of those iframes and from the origin of
 * the app it belongs to.
 */
(function () {
  "use strict";

  var frames = Array.prototype.slice.call(document.querySelectorAll("iframe[data-app-key]"));

  function cssSize(value) {
    return /^\d+$/.test(String(value)) ? value + "px" : String(value);
  }

  var methods = {
    getToken: function (frame) {
      return fetch(frame.dataset.tokenUrl, { credentials: "same-origin" }).then(function (response) {
        if (!response.ok) throw new Error("context token refused: HTTP " + response.status);
        return response.json();
      }).then(function (body) { return body.token; });
    },
    getContext: function (frame) {
      return JSON.parse(frame.dataset.context);
    },
    resize: function (frame, args) {
      frame.style.width = cssSize(args[0]);
      frame.style.height = cssSize(args[1]);
    },
    sizeToParent: function (frame) {
      frame.style.width = "100%";
      frame.style.height = Math.max(frame.parentElement.clientHeight, 200) + "px";
    },
    reload: function () {
      window.location.reload();
    }
  };

  window.addEventListener("message", function (event) {
    var frame = frames.find(function (f) { return f.contentWindow === event.source; });
    var message = event.data;
    if (!frame || event.origin !== frame.dataset.origin) return;
    if (!message || message.type !== "ap-call") return;
    function reply(fields) {
      event.source.postMessage(Object.assign({ type: "ap-reply", id: message.id }, fields), event.origin);
    }
    Promise.resolve().then(function () {
      var method = methods[message.method];
      if (!method) throw new Error("AP." + message.method + " is not supported by the sandbox");
      return method(frame, message.args || []);
    }).then(
      function (result) { reply({ result: result === undefined ? null : result }); },
      function (error) { reply({ error: String(error && error.message || error) }); }
    );
  });
})();
