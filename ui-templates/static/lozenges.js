// Which lozenge each Security Hub value gets, in the Atlassian Design System's colours.
import { lozenge } from "./dom.js";

const SEVERITY = {
  CRITICAL: ["removed", true],
  HIGH: ["removed", false],
  MEDIUM: ["moved", false],
  LOW: ["inprogress", false],
  INFORMATIONAL: ["default", false],
};
const WORKFLOW = { NEW: "new", NOTIFIED: "inprogress", RESOLVED: "success", SUPPRESSED: "default" };
const COMPLIANCE = { FAILED: "removed", WARNING: "moved", PASSED: "success", NOT_AVAILABLE: "default" };
const RECORD = { ACTIVE: "inprogress", ARCHIVED: "default" };
const OUTCOME = { ok: "success", applied: "success", failed: "removed", skipped: "default", planned: "new" };

export function severityLozenge(severity) {
  const [appearance, bold] = SEVERITY[severity] || ["default", false];
  return lozenge(severity, appearance, { bold, label: `Severity ${severity}` });
}

export function workflowLozenge(status) {
  return lozenge(status, WORKFLOW[status] || "default", { label: `Workflow status ${status}` });
}

export function complianceLozenge(status) {
  return lozenge(status, COMPLIANCE[status] || "default", { label: `Compliance ${status}` });
}

export function recordLozenge(state) {
  return lozenge(state, RECORD[state] || "default", { label: `Record state ${state}` });
}

export function outcomeLozenge(outcome) {
  return lozenge(outcome, OUTCOME[outcome] || "default");
}

export function stepLozenge(status) {
  const appearance = { ok: "success", failed: "removed", skipped: "default" }[status] || "default";
  return lozenge(status, appearance, { bold: status !== "skipped" });
}
