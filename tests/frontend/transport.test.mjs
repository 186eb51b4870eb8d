// The front end's transport (ui-templates/static/transport.js) on both hosts, in Node with stand-ins for the page:
// under Connect it reaches /api/v1 with fetch and a fresh context JWT and registers the post function's
// configuration with AP; under Forge it goes through the real @forge/bridge (answered by a stand-in of the bridge
// global Forge's host page provides). Also the built Forge post function resource, as bundled by esbuild.
// Run by tests/unit/web/test_frontend_transport.py (`node --test tests/frontend/`).
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import path from "node:path";
import { afterEach, beforeEach, describe, test } from "node:test";
import { fileURLToPath, pathToFileURL } from "node:url";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");
const STATIC = path.join(ROOT, "ui-templates", "static");

// The bridge global of Forge's host page: @forge/bridge reads it once, when its modules load, so it stays the same
// object and each test answers through `host.answer`.
const host = { calls: [], answer: async () => undefined };
globalThis.__bridge = {
  callBridge: async (name, payload) => {
    host.calls.push([name, payload]);
    return host.answer(name, payload);
  },
};

function page({ platform, apiUrl } = {}) {
  const root = { dataset: { page: "panel", issueKey: "SEC-7", projectKey: "SEC" } };
  if (apiUrl) root.dataset.apiUrl = apiUrl;
  globalThis.document = {
    baseURI: "https://hubsync.example.com/connect/panel?issueKey=SEC-7",
    documentElement: { dataset: platform ? { platform } : {} },
    getElementById: (id) => (id === "hubsync-app" ? root : null),
  };
  globalThis.window = globalThis;
  return root;
}

const transport = await import(pathToFileURL(path.join(STATIC, "transport.js")).href);
const { createApi, ApiError } = await import(pathToFileURL(path.join(STATIC, "api.js")).href);

beforeEach(() => {
  host.calls = [];
  host.answer = async () => undefined;
});

afterEach(() => {
  delete globalThis.AP;
  delete globalThis.fetch;
});

describe("under Connect", () => {
  test("the platform is Connect where the page declares none and no Forge bridge answers", () => {
    page({ platform: "connect" });
    assert.equal(transport.platform(), "connect");
  });

  test("the API is fetched with a fresh context JWT per call, below the shell's api URL", async () => {
    page({ platform: "connect", apiUrl: "https://hubsync.example.com/api/v1" });
    let tokens = 0;
    globalThis.AP = { context: { getToken: async () => `token-${++tokens}` } };
    const requests = [];
    globalThis.fetch = async (url, init) => {
      requests.push([url, init]);
      return { status: 200, text: async () => JSON.stringify({ state: "no_finding" }) };
    };

    const answer = await transport.request("GET", "/panel?issueKey=SEC-7");
    await transport.request("PUT", "/settings", { policy: {} });

    assert.deepEqual(answer, { status: 200, data: { state: "no_finding" } });
    assert.equal(requests[0][0], "https://hubsync.example.com/api/v1/panel?issueKey=SEC-7");
    assert.deepEqual(requests[0][1].headers, { Authorization: "JWT token-1", Accept: "application/json" });
    assert.equal(requests[0][1].credentials, "omit");
    assert.equal(requests[1][1].headers.Authorization, "JWT token-2");
    assert.equal(requests[1][1].headers["Content-Type"], "application/json");
    assert.equal(requests[1][1].body, JSON.stringify({ policy: {} }));
  });

  test("the default API URL is ../api/v1 from the page", async () => {
    page({ platform: "connect" });
    globalThis.AP = { context: { getToken: async () => "t" } };
    let called;
    globalThis.fetch = async (url) => {
      called = url;
      return { status: 204, text: async () => "" };
    };
    assert.deepEqual(await transport.request("GET", "/settings"), { status: 204, data: null });
    assert.equal(called, "https://hubsync.example.com/api/v1/settings");
  });

  test("an unreachable service and an answer without JSON are told apart", async () => {
    page({ platform: "connect" });
    globalThis.AP = { context: { getToken: async () => "t" } };
    globalThis.fetch = async () => {
      throw new TypeError("Failed to fetch");
    };
    assert.deepEqual(await transport.request("GET", "/settings"),
      { status: 0, data: { error: "the hubsync service cannot be reached (Failed to fetch)" } });
    globalThis.fetch = async () => ({ status: 502, text: async () => "<html>Bad gateway</html>" });
    assert.deepEqual(await transport.request("GET", "/settings"),
      { status: 502, data: { error: "the hubsync service answered HTTP 502 without JSON" } });
  });

  test("the page context comes from the shell", async () => {
    const root = page({ platform: "connect" });
    assert.deepEqual(await transport.pageContext(root),
      { page: "panel", surface: "panel", issueKey: "SEC-7", projectKey: "SEC" });
  });

  test("the post function's configuration is saved through AP", async () => {
    page({ platform: "connect" });
    let saved;
    globalThis.AP = { jira: { WorkflowConfiguration: { onSave: (fn) => { saved = fn; } } } };
    await transport.onSaveConfiguration(() => "{}");
    assert.equal(saved(), "{}");
    assert.deepEqual(host.calls, []);
  });
});

describe("under Forge", () => {
  test("the platform is Forge where the resource says so, or where Forge's bridge answers", () => {
    page({ platform: "forge" });
    assert.equal(transport.platform(), "forge");
    page();
    assert.equal(transport.platform(), "forge"); // the bridge global above
  });

  test("the API goes through invokeRemote to the UI endpoint, below /api/v1", async () => {
    page({ platform: "forge" });
    globalThis.fetch = async () => assert.fail("no fetch under Forge: the FIT comes with invokeRemote");
    host.answer = async () => ({ success: true, payload: { status: 200, headers: { a: ["1", "2"] },
      body: { state: "linked" } } });

    const answer = await transport.request("PUT", "/settings", { policy: { project_key: "SEC" } });

    assert.deepEqual(answer, { status: 200, data: { state: "linked" } });
    assert.deepEqual(host.calls, [["invoke", {
      path: "/api/v1/settings",
      method: "PUT",
      headers: { Accept: "application/json", "Content-Type": "application/json" },
      body: { policy: { project_key: "SEC" } },
      invokeType: "ui-remote-fetch",
    }]]);
  });

  test("an error answer keeps its status and JSON body, for the page to show its field errors", async () => {
    page({ platform: "forge" });
    host.answer = async () => ({ success: true, payload: { status: 400, headers: {},
      body: { error: "invalid", fields: { "policy.project_key": ["required"] } } } });
    const api = createApi();
    await assert.rejects(api.saveSettings({}), (error) => {
      assert.ok(error instanceof ApiError);
      assert.equal(error.status, 400);
      assert.deepEqual(error.body.fields, { "policy.project_key": ["required"] });
      return true;
    });
  });

  test("a call Forge could not complete is an unreachable service", async () => {
    page({ platform: "forge" });
    host.answer = async () => ({ success: false, error: { message: "Remote could not verify the FIT" } });
    assert.deepEqual(await transport.request("GET", "/settings"),
      { status: 0, data: { error: "the hubsync service cannot be reached (Remote could not verify the FIT)" } });
    host.answer = async () => {
      throw new Error("bridge gone");
    };
    assert.equal((await transport.request("GET", "/settings")).status, 0);
  });

  test("the issue comes from view.getContext(), the page from the resource", async () => {
    const root = page({ platform: "forge" });
    root.dataset = { page: "panel", surface: "panel" };
    host.answer = async (name) => (name === "getContext"
      ? { extension: { type: "jira:issueContext", issue: { key: "SEC-9", id: "10009" }, project: { key: "SEC" } } }
      : undefined);
    assert.deepEqual(await transport.pageContext(root),
      { page: "panel", surface: "context", issueKey: "SEC-9", projectKey: "SEC" });
  });

  test("Forge sizes the iframe itself: nothing is asked of AP", () => {
    page({ platform: "forge" });
    globalThis.AP = { resize: () => assert.fail("AP.resize under Forge") };
    globalThis.requestAnimationFrame = (fn) => fn();
    transport.fitToContent();
    transport.keepFitted({});
  });
});

describe("the built Forge post function resource", () => {
  const bundle = path.join(ROOT, "connect-descriptor", "forge", "build", "post-function", "post-function.js");

  test("registers its configuration, \"{}\", with workflowRules.onConfigure", { skip: !existsSync(bundle) &&
      "the Forge resources are not built (make forge-ui)" }, async () => {
    page({ platform: "forge" });
    let registered;
    host.answer = async (name, payload) => {
      if (name === "setWorkflowRuleConfigurationCallback") registered = payload.data.onConfigure;
      return true;
    };
    await import(pathToFileURL(bundle).href);
    for (let i = 0; i < 50 && !registered; i += 1) await new Promise((resolve) => setTimeout(resolve, 10));
    assert.equal(typeof registered, "function");
    assert.equal(await registered(), "{}");
  });
});
