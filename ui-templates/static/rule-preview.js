// The configure page's rule preview and the large-onboarding confirmation. Next to each escalation rule: how many
// live findings it matches now in Security Hub (the unsaved rule, read with its own filters by the service) and,
// on "Show", the first few. Counted when the rules are drawn, again a moment after a rule is edited, and on
// "Count again". A save whose rules would create more tickets than the service's threshold answers 409: a dialog
// says how many, and saving again with `confirmLargeOnboarding` goes ahead.
import { ApiError } from "./api.js";
import { h, replaceChildren, uid } from "./dom.js";
import { severityLozenge } from "./lozenges.js";

const EDIT_DELAY_MS = 800;
const number = new Intl.NumberFormat("en-US");

/** Previews on the page's rules; the page calls `rulesRendered()` after it redraws its rule fieldsets. */
export function attachRulePreview(page) {
  const preview = new RulePreview(page);
  preview.rulesRendered();
  return preview;
}

class RulePreview {
  constructor(page) {
    this.page = page;
    this.boxes = [];
  }

  rulesRendered() {
    for (const box of this.boxes) box.stop();
    this.boxes = [];
    if (!this.page.rulesBox.isConnected) return; // a page drawn anew: its own preview is attached once it shows
    const fieldsets = Array.from(this.page.rulesBox.querySelectorAll(":scope > fieldset.hs-rule"));
    this.boxes = fieldsets.map((fieldset, index) => new RuleBox(this, fieldset, index));
    if (this.boxes.length) this.countAll();
  }

  /** Every rule in one request (the page's first view, a rule added or removed). */
  async countAll() {
    const boxes = this.boxes;
    const tickets = boxes.map((box) => box.started());
    try {
      const answer = await this.page.api.previewRules({ policy: { rules: this.page.currentRules() } });
      boxes.forEach((box, index) => box.show(tickets[index], answer.rules[index]));
    } catch (error) {
      boxes.forEach((box, index) => box.failed(tickets[index], error, `policy.rules[${index}]`));
    }
  }
}

class RuleBox {
  constructor(preview, fieldset, index) {
    this.preview = preview;
    this.index = index;
    this.ticket = 0; // the latest count asked for: answers to earlier ones are dropped
    this.timer = null;
    this.listId = uid("hs-rule-matches");
    this.status = h("span", { className: "hs-rule-preview-status" });
    this.toggle = h("button", { type: "button", className: "hs-button hs-button-subtle", hidden: true,
      "aria-expanded": "false", "aria-controls": this.listId, onclick: () => this.toggleList() }, "Show");
    this.list = h("ul", { id: this.listId, className: "hs-rule-preview-list", hidden: true });
    const recount = h("button", { type: "button", className: "hs-button hs-button-subtle",
      "aria-label": `Count the matches of rule ${index + 1} again`, onclick: () => this.count() }, "Count again");
    this.element = h("div", { className: "hs-rule-preview", dataset: { testid: "rule-preview" } },
      h("p", { "aria-live": "polite" }, this.status), h("div", { className: "hs-actions" }, this.toggle, recount),
      this.list);
    fieldset.insertBefore(this.element, fieldset.querySelector(":scope > .hs-field-error"));
    this.onEdit = () => {
      clearTimeout(this.timer);
      this.timer = setTimeout(() => this.count(), EDIT_DELAY_MS);
    };
    fieldset.addEventListener("input", this.onEdit);
    fieldset.addEventListener("change", this.onEdit);
  }

  stop() {
    clearTimeout(this.timer);
    this.ticket += 1;
  }

  started() {
    clearTimeout(this.timer);
    this.ticket += 1;
    this.element.dataset.state = "counting";
    replaceChildren(this.status, "Counting the live findings this rule matches…");
    return this.ticket;
  }

  /** This rule alone, as it reads now in the form. */
  async count() {
    const ticket = this.started();
    const rule = this.preview.page.currentRules()[this.index];
    try {
      const answer = await this.preview.page.api.previewRules({ rule });
      this.show(ticket, answer.rules[0]);
    } catch (error) {
      this.failed(ticket, error, "rule");
    }
  }

  show(ticket, result) {
    if (ticket !== this.ticket || !this.element.isConnected) return;
    const count = result.capped ? `${number.format(result.matches)}+` : number.format(result.matches);
    this.element.dataset.state = "counted";
    this.element.dataset.matches = String(result.matches);
    replaceChildren(this.status, result.matches === 0
      ? "Matches no new findings now (findings already sent to Jira are not counted)."
      : `Matches ${count} new ${result.matches === 1 ? "finding" : "findings"} now (findings already sent to Jira ` +
        "are not counted).");
    replaceChildren(this.list, result.sample.map((finding) => h("li", {},
      severityLozenge(finding.severity), " ", h("span", { className: "hs-rule-preview-title" }, finding.title),
      h("span", { className: "hs-subtle" },
        ` — account ${finding.accountId}${finding.accountName ? ` (${finding.accountName})` : ""}`))));
    this.toggle.hidden = result.sample.length === 0;
    if (this.toggle.hidden) this.setOpen(false);
  }

  failed(ticket, error, path) {
    if (ticket !== this.ticket || !this.element.isConnected) return;
    this.element.dataset.state = "failed";
    delete this.element.dataset.matches;
    let text = error.message;
    if (error instanceof ApiError && error.status === 400 && error.body.fields) {
      const own = Object.entries(error.body.fields).filter(([where]) => where.startsWith(path));
      text = own.length
        ? `Not counted: fix this rule first (${own.map(([, messages]) => messages.join(" ")).join(" ")})`
        : "Not counted: fix the rules marked first.";
    }
    replaceChildren(this.status, text);
    this.toggle.hidden = true;
    this.setOpen(false);
  }

  toggleList() {
    this.setOpen(this.list.hidden);
  }

  setOpen(open) {
    this.list.hidden = !open;
    this.toggle.setAttribute("aria-expanded", String(open));
    this.toggle.textContent = open ? "Hide" : "Show";
  }
}

/** Save `settings`; when the service asks for a confirmation first (409 with `onboarding`), a dialog in `host`
 * says how many tickets the rules would create, and the save is sent again, confirmed, if the admin agrees.
 * Resolves to the saved settings, or null when the admin chose not to save. */
export async function saveConfirmingOnboarding(api, settings, host) {
  try {
    return await api.saveSettings(settings);
  } catch (error) {
    if (!(error instanceof ApiError && error.status === 409 && error.body.onboarding)) throw error;
    if (!(await confirmOnboarding(host, error.body.onboarding))) return null;
    return api.saveSettings({ ...settings, confirmLargeOnboarding: true });
  }
}

function confirmOnboarding(host, onboarding) {
  const count = `${onboarding.capped ? "at least " : ""}${number.format(onboarding.tickets)}`;
  const beyond = onboarding.tickets > onboarding.threshold ? `, more than ${number.format(onboarding.threshold)}` : "";
  const titleId = uid("hs-dialog-title");
  const textId = uid("hs-dialog-text");
  const cancel = h("button", { type: "button", className: "hs-button", value: "cancel" }, "Cancel");
  const confirm = h("button", { type: "button", className: "hs-button hs-button-warning", value: "confirm" },
    `Save and create ${count} tickets`);
  const dialog = h("dialog", { className: "hs-dialog", "aria-labelledby": titleId, "aria-describedby": textId },
    h("h2", { id: titleId, className: "hs-section-title" }, `Create ${count} tickets?`),
    h("p", { id: textId }, `These rules match ${count} live findings that have no ticket yet${beyond}. Once ` +
      "saved, hubsync creates a ticket for each, as fast as the Jira and Security Hub rate limits allow."),
    h("div", { className: "hs-actions" }, confirm, cancel));
  host.append(dialog);
  return new Promise((resolve) => {
    dialog.addEventListener("close", () => {
      dialog.remove();
      resolve(dialog.returnValue === "confirm");
    });
    confirm.addEventListener("click", () => dialog.close("confirm"));
    cancel.addEventListener("click", () => dialog.close("cancel"));
    dialog.showModal();
    place(dialog, host.querySelector("button[type=submit]"));
    cancel.focus(); // the safe choice first
  });
}

/** Jira sizes the page's frame to its content, so the middle of the frame, where a modal dialog opens, may be far
 * off screen: the dialog goes just above the button that opened it, where the admin is looking. */
function place(dialog, anchor) {
  if (!anchor) return;
  const top = anchor.getBoundingClientRect().top - dialog.offsetHeight - 16;
  Object.assign(dialog.style, { top: `${Math.max(16, top)}px`, bottom: "auto", margin: "0 auto" });
}
