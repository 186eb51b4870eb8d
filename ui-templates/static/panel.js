// The Security Hub panel of one issue: the finding live from Security Hub and the pair's sync history.
import { fitToContent, keepFitted } from "./transport.js";
import { externalLink, h, replaceChildren, time } from "./dom.js";
import { complianceLozenge, outcomeLozenge, recordLozenge, severityLozenge, workflowLozenge } from "./lozenges.js";

// While a finding is linked and the panel visible, the finding is shown live, not as it was on load. Any other
// state (no finding, finding gone, AWS unreachable, not configured, an error) is not polled: Refresh asks again.
const REFRESH_MS = 30000;

/** `surface` "context" (Forge's issue context, beside the issue's fields): the status at a glance, the finding's
 *  severity, title and states without its details and history; anything else: the whole panel. */
export async function showPanel(root, api, issueKey, surface = "panel") {
  let timer = null;

  async function load() {
    let view;
    try {
      view = await api.panel(issueKey);
    } catch (error) {
      replaceChildren(root, message("error", error.message), refreshButton());
      poll(false);
      return;
    }
    replaceChildren(root, render(view, refreshButton(), surface === "context"));
    poll(view.state === "linked");
    fitToContent();
  }

  function refreshButton() {
    return h("button", { type: "button", className: "hs-button hs-button-subtle", onclick: () => load() }, "Refresh");
  }

  function poll(wanted) {
    if (!wanted) {
      clearInterval(timer);
      timer = null;
    } else if (timer === null) {
      timer = setInterval(() => {
        if (document.visibilityState === "visible") load();
      }, REFRESH_MS);
    }
  }

  keepFitted(root);
  await load();
}

function render(view, refresh, atAGlance) {
  const parts = [];
  if (view.state === "linked") parts.push(atAGlance ? glance(view.finding) : finding(view.finding));
  else parts.push(message(view.state === "no_finding" ? "info" : "warning", view.message));
  if (view.link && !atAGlance) parts.push(history(view.timeline));
  parts.push(
    h("footer", { className: "hs-footer" },
      h("span", { className: "hs-subtle" }, view.state === "linked" ? "Read live from Security Hub " : "Checked ",
        time(view.readAt)),
      refresh),
  );
  return h("div", { className: "hs-panel", dataset: { state: view.state } }, parts);
}

function message(kind, text) {
  const role = kind === "error" || kind === "warning" ? "alert" : "status";
  return h("div", { className: `hs-message hs-message-${kind}`, role, dataset: { testid: "panel-message" } }, text);
}

function glance(f) {
  return h("section", { className: "hs-finding hs-glance", "aria-labelledby": "hs-finding-title" },
    h("div", { className: "hs-finding-head" },
      severityLozenge(f.severity),
      h("h2", { id: "hs-finding-title", className: "hs-title" }, f.title)),
    h("p", { className: "hs-lozenges" },
      workflowLozenge(f.workflowStatus), " ",
      f.complianceStatus ? complianceLozenge(f.complianceStatus) : null, " ",
      recordLozenge(f.recordState)));
}

function finding(f) {
  const account = f.accountName ? `${f.accountName} (${f.accountId})` : f.accountId;
  const facts = [
    ["Workflow", workflowLozenge(f.workflowStatus), "workflow"],
    ["Compliance", f.complianceStatus ? complianceLozenge(f.complianceStatus) : h("span", { className: "hs-subtle" }, "—"),
      "compliance"],
    ["Record", recordLozenge(f.recordState), "record"],
    ["Account", account, "account"],
    ["Region", f.region, "region"],
    ["Product", [f.productName, f.companyName && f.companyName !== f.productName ? ` (${f.companyName})` : ""],
      "product"],
  ];
  if (f.controlId) facts.push(["Control", h("code", {}, f.controlId), "control"]);
  if (f.standards.length) {
    facts.push(["Standards", h("ul", { className: "hs-plain-list" }, f.standards.map((s) => h("li", { title: s.id }, s.name))),
      "standards"]);
  }
  facts.push(["Updated", time(f.updatedAt), "updated"]);
  return h("section", { className: "hs-finding", "aria-labelledby": "hs-finding-title" },
    h("div", { className: "hs-finding-head" },
      severityLozenge(f.severity),
      h("h2", { id: "hs-finding-title", className: "hs-title" }, f.title)),
    h("dl", { className: "hs-facts" },
      facts.map(([name, value, key]) => [h("dt", {}, name), h("dd", { dataset: { field: key } }, value)])),
    resources(f.resources),
    f.note ? h("div", { className: "hs-note" }, h("h3", { className: "hs-heading" }, "Note"),
      h("p", {}, f.note.text), h("p", { className: "hs-subtle" }, `by ${f.note.updatedBy || "unknown"}`)) : null,
    links([externalLink("Remediation", f.remediation.url), externalLink("Open in Security Hub console", f.consoleUrl)]),
    f.remediation.text ? h("p", { className: "hs-subtle" }, f.remediation.text) : null,
  );
}

function links(anchors) {
  const shown = anchors.filter(Boolean);
  if (!shown.length) return null;
  return h("p", { className: "hs-links" }, shown.flatMap((anchor, index) => (index ? [" · ", anchor] : [anchor])));
}

function resources(list) {
  if (!list.length) return null;
  return h("div", { className: "hs-resources" },
    h("h3", { className: "hs-heading" }, list.length === 1 ? "Resource" : `Resources (${list.length})`),
    h("ul", { className: "hs-plain-list" },
      list.map((r) => h("li", {}, h("span", { className: "hs-subtle" }, r.type, " "), h("code", { className: "hs-wrap" }, r.id)))));
}

function history(entries) {
  const body = entries.length
    ? h("ol", { className: "hs-timeline" },
      entries.slice().reverse().map((e) => h("li", {},
        h("div", { className: "hs-timeline-head" }, time(e.at), " ", outcomeLozenge(e.outcome),
          e.rule ? h("span", { className: "hs-subtle" }, ` rule ${e.rule}`) : null),
        h("div", {}, e.reason))))
    : h("p", { className: "hs-subtle" }, "Nothing synced yet.");
  return h("section", { className: "hs-history", "aria-labelledby": "hs-history-title" },
    h("h3", { id: "hs-history-title", className: "hs-heading" }, "Sync history"), body);
}
