/*
 * The sandbox's stand-in for Atlassian Connect's all.js (the AP API), loaded by an app's iframe from the
 * Jira host named in its `xdm_e` parameter. Every call is a postMessage to the Jira page (the parent
 * window), answered by connect-host.js there. Implemented: AP.context.getToken, AP.context.getContext
 * (callback or promise), AP.resize, AP.sizeToParent, AP.navigator.reload.
 */
(function () {
  "use strict";

  var host = new URLSearchParams(window.location.search).get("xdm_e");
  if (!host) {
    throw new Error("AP: this page was not opened by Jira (no xdm_e parameter)");
  }
  var hostOrigin = new URL(host).origin;
  var nextId = 1;
  var pending = {};

  window.addEventListener("message", function (event) {
    var reply = event.data;
    if (event.origin !== hostOrigin || event.source !== window.parent) return;
    if (!reply || reply.type !== "ap-reply" || !pending[reply.id]) return;
    var call = pending[reply.id];
    delete pending[reply.id];
    if (reply.error) call.reject(new Error(reply.error));
    else call.resolve(reply.result);
  });

  function call(method, args) {
    return new Promise(function (resolve, reject) {
      var id = nextId++;
      pending[id] = { resolve: resolve, reject: reject };
      window.parent.postMessage({ type: "ap-call", id: id, method: method, args: args || [] }, hostOrigin);
    });
  }

  function withCallback(promise, callback) {
    if (typeof callback === "function") promise.then(callback);
    return promise;
  }

  window.AP = {
    context: {
      getToken: function (callback) { return withCallback(call("getToken"), callback); },
      getContext: function (callback) { return withCallback(call("getContext"), callback); }
    },
    resize: function (width, height) {
      call("resize", [width || "100%", height || document.documentElement.scrollHeight]);
    },
    sizeToParent: function () { call("sizeToParent"); },
    navigator: {
      reload: function () { call("reload"); }
    }
  };
})();
