// "Check project" on the configure page: next to the project and issue type, a button that asks the service whether
// the form's policy (unsaved) can work in that Jira project, and the answer item by item: ok, failed with what to
// fix, or unknown (Jira does not show hubsync the workflow: a person checks). A save that changes the project is
// checked by the service too; when it refuses the save, `saveRefused` shows the failed check here.
import { ApiError } from "./api.js";
import { h, lozenge, replaceChildren } from "./dom.js";

const STATUS = { ok: ["ok", "success"], failed: ["failed", "removed"], unknown: ["check by hand", "default"] };

/** The check's button and result under the page's issue type field. */
export function attachProjectCheck(page) {
  return new ProjectCheck(page);
}

class ProjectCheck {
  constructor(page) {
    this.page = page;
    this.result = h("div", { className: "hs-connection", role: "status", "aria-live": "polite",
      dataset: { testid: "project-check" } });
    this.button = h("button", { type: "button", className: "hs-button", onclick: () => this.run() }, "Check project");
    const block = h("div", { className: "hs-project-check" },
      h("p", { className: "hs-help" }, "Whether hubsync can create tickets in this project and walk its workflow, " +
        "as Jira says now."),
      h("div", { className: "hs-actions" }, this.button),
      this.result);
    const anchor = page.form.querySelector('[data-path="policy.issue_type"]');
    anchor.after(block);
  }

  async run() {
    this.button.disabled = true;
    this.result.replaceChildren(h("p", { className: "hs-subtle" }, "Asking Jira about the project…"));
    try {
      this.show(await this.page.api.checkProject({ policy: this.page.collect().policy }));
    } catch (error) {
      this.result.replaceChildren();
      if (error instanceof ApiError && error.status === 400 && error.body.fields) {
        this.page.clearErrors();
        this.page.showErrors(error.body.fields, "Fix the fields marked below, then check the project again.");
      } else {
        this.result.replaceChildren(h("p", { className: "hs-message hs-message-error", role: "alert" }, error.message));
      }
    } finally {
      this.button.disabled = false;
    }
  }

  /** A save the service refused because the project check failed: its items, here. True when it was that. */
  saveRefused(error) {
    if (!(error instanceof ApiError && error.body.check)) return false;
    this.show(error.body.check);
    return true;
  }

  show(report) {
    const failed = report.items.filter((item) => item.status === "failed").length;
    const unknown = report.items.filter((item) => item.status === "unknown").length;
    const where = `${report.project} (${report.issueType})`;
    let verdict = `hubsync can work in ${where}.`;
    if (failed) verdict = `${failed} ${failed === 1 ? "thing stops" : "things stop"} hubsync from working in ${where}.`;
    else if (unknown) verdict = `Nothing Jira shows stops hubsync in ${where}; ${unknown} to check by hand.`;
    replaceChildren(this.result,
      h("p", { className: `hs-message hs-message-${failed ? "error" : "success"}` }, verdict),
      h("ol", { className: "hs-steps" }, report.items.map((item) => {
        const [text, appearance] = STATUS[item.status] || [item.status, "default"];
        return h("li", { dataset: { status: item.status } }, lozenge(text, appearance, { bold: item.status !== "unknown" }),
          " ", h("strong", {}, item.name), h("span", { className: "hs-subtle" }, ` — ${item.message}`));
      })));
  }
}
