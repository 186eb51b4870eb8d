"""The AP bridge between an app's iframe and the Jira page, run in Node with two simulated windows.

The issue page is rendered by the simulator; its iframe's attributes, the host script and the AP shim are
the ones the simulator serves, and the context token comes from the simulator over HTTP. Only the browser
is simulated: postMessage delivers to the named target origin only and reports the sender's origin.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from html.parser import HTMLParser
from typing import Any

import pytest
import requests

from hubsync_sandbox.jira.connect import jira_context
from hubsync_sandbox.jira.connect_jwt import verify_hs256
from hubsync_sandbox.jira.model import Issue
from tests.unit.sandbox.jira.connect_app import ConnectApp, JiraSite, Servers

pytestmark = pytest.mark.skipif(shutil.which("node") is None, reason="Node.js is needed to run the AP shim")

MODULES = {
    "webPanels": [
        {
            "key": "finding-panel",
            "name": {"value": "Finding"},
            "location": "atl.jira.view.issue.right.context",
            "url": "/panel?issue={issue.key}",
        }
    ]
}

BROWSER = r"""
const vm = require("node:vm");
const { allJs, hostJs, frame, pageUrl } = JSON.parse(require("node:fs").readFileSync(0, "utf8"));
const tick = () => new Promise((resolve) => setTimeout(resolve, 20));

function makeWindow(href) {
  const listeners = [];
  const win = {
    origin: new URL(href).origin,
    location: { search: new URL(href).search, reload: () => { win.reloads += 1; } },
    reloads: 0,
    addEventListener: (type, listener) => { if (type === "message") listeners.push(listener); },
    receive: (data, source, origin = source.origin) => setTimeout(() => listeners.forEach(
      (listener) => listener({ data: structuredClone(data), source, origin })), 0),
  };
  return win;
}

const page = makeWindow(pageUrl);
const iframe = makeWindow(frame.src);
iframe.parent = page;
page.postMessage = (data, target) => { if (target === page.origin) page.receive(data, iframe); };
iframe.postMessage = (data, target) => { if (target === iframe.origin) iframe.receive(data, page); };
const element = {
  contentWindow: iframe,
  style: {},
  parentElement: { clientHeight: 480 },
  dataset: { appKey: frame["data-app-key"], origin: frame["data-origin"], context: frame["data-context"],
             tokenUrl: frame["data-token-url"] },
};
vm.runInNewContext(hostJs, {
  window: page,
  document: { querySelectorAll: () => [element] },
  fetch: (url, options) => fetch(new URL(url, pageUrl), options),
});
vm.runInNewContext(allJs, {
  window: iframe,
  document: { documentElement: { scrollHeight: 321 } },
  URL,
  URLSearchParams,
});

(async () => {
  const AP = iframe.AP;
  const out = {};
  out.token = await AP.context.getToken();
  out.tokenByCallback = await new Promise((resolve) => AP.context.getToken(resolve));
  out.context = await AP.context.getContext();
  AP.resize(400, 250);
  await tick();
  out.resized = { ...element.style };
  AP.resize();
  await tick();
  out.resizedToContent = { ...element.style };
  AP.sizeToParent();
  await tick();
  out.sizedToParent = { ...element.style };
  const call = { type: "ap-call", id: 1000, method: "reload", args: [] };
  page.receive(call, iframe, "http://evil.example");  // the app's window, but not the app's origin
  page.receive(call, makeWindow("http://evil.example/"));  // some other window
  await tick();
  out.reloadsFromStrangers = page.reloads;
  AP.navigator.reload();
  await tick();
  out.reloads = page.reloads;
  console.log(JSON.stringify(out));
})().catch((error) => { console.error(error); process.exit(1); });
"""


class _Frames(HTMLParser):
    def __init__(self, html: str) -> None:
        super().__init__()
        self.frames: list[dict[str, Any]] = []
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "iframe":
            self.frames.append(dict(attrs))


@pytest.fixture
def app(servers: Servers, site: JiraSite) -> ConnectApp:
    running = ConnectApp(servers, modules=MODULES)
    assert site.install(running).status_code == 200
    return running


@pytest.fixture
def issue(site: JiraSite) -> Issue:
    alice = site.world.user_by_name("alice")
    assert alice is not None
    fields = {"project": {"key": "SEC"}, "issuetype": {"name": "Task"}, "summary": "Public bucket"}
    return site.world.create_issue(fields, alice)


def run_in_browser(site: JiraSite, issue: Issue) -> dict[str, Any]:
    page_url = f"{site.url}/browse/{issue.key}?as=alice"
    [frame] = _Frames(requests.get(page_url, timeout=10).text).frames
    scripts = {
        "allJs": requests.get(f"{site.url}/atlassian-connect/all.js", timeout=5).text,
        "hostJs": requests.get(f"{site.url}/_sandbox/connect/static/connect-host.js", timeout=5).text,
    }
    run = subprocess.run(
        ["node", "-e", BROWSER],
        input=json.dumps({**scripts, "frame": frame, "pageUrl": page_url}),
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    return json.loads(run.stdout)


def test_ap_calls_from_the_iframe_are_answered_by_the_jira_page(
    site: JiraSite, app: ConnectApp, issue: Issue
) -> None:
    out = run_in_browser(site, issue)

    tenant = app.tenant or {}
    alice = site.world.user_by_name("alice")
    assert alice is not None
    for token in (out["token"], out["tokenByCallback"]):
        claims = verify_hs256(
            token,
            lambda iss: tenant["sharedSecret"] if iss == tenant["clientKey"] else None,
            "GET",
            "/api/v1/anything",
            allow_context_qsh=True,
        )
        assert claims["sub"] == alice.account_id
    assert out["context"] == jira_context(issue)
    assert out["resized"] == {"width": "400px", "height": "250px"}
    assert out["resizedToContent"] == {"width": "100%", "height": "321px"}
    assert out["sizedToParent"] == {"width": "100%", "height": "480px"}
    assert out["reloadsFromStrangers"] == 0
    assert out["reloads"] == 1

