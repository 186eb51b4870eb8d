// Pickers fed by the site's Jira (/api/v1/jira) on the configure page: the project (searchable), its issue types,
// the default assignee (searched as you type, shown by name and email, stored by id), the project's statuses for the
// status mappings and the risk-request status, and the site's priorities. Each takes the place of a free-text field
// and keeps its path, so the page reads, saves and marks errors on it as before. A stored value Jira no longer has
// stays selected, marked as missing. Where Jira cannot be asked, the fields stay free text, with a note saying why.
import { h, uid } from "./dom.js";

const SEARCH_DELAY_MS = 250;
const PROJECT_KEY = /^[A-Z][A-Z0-9_]+$/;
const TYPE_INSTEAD = "type the value instead.";
const SEVERITY_PATHS = ["CRITICAL", "HIGH", "MEDIUM", "LOW", "INFORMATIONAL"].map((s) => `policy.priorities.${s}`);

/** Pickers on the page's fields; the page calls `mappingsRendered()` after it redraws its status mapping rows. */
export function attachPickers(page) {
  const pickers = new Pickers(page);
  pickers.start();
  return pickers;
}

class Pickers {
  constructor(page) {
    this.page = page;
    this.api = page.api;
    this.statuses = null; // the chosen project's statuses, once Jira said
    this.issueTypes = null;
    this.loading = 0; // the latest project load: answers of an earlier one are dropped
    this.loadingKey = null;
    this.loadedKey = null; // the project Jira showed: people are searched among those assignable there
  }

  start() {
    this.projectPicker();
    this.assigneePicker();
    this.loadPriorities();
    this.loadProject();
  }

  mappingsRendered() {
    if (this.statuses) this.showStatuses();
  }

  // -- project and issue type ------------------------------------------------------------------------------------
  projectPicker() {
    const entry = this.page.inputs["policy.project_key"];
    if (!entry) return;
    this.projectNote = note(entry.input);
    combobox(entry.input, {
      label: "projects",
      search: async (text) => (await this.api.jiraProjects(text)).projects,
      option: (project) => [h("strong", {}, project.key), " ", h("span", { className: "hs-subtle" }, project.name)],
      choose: (project) => {
        entry.input.value = project.key;
        this.loadProject();
      },
      searchEmpty: true,
    });
    entry.input.addEventListener("change", () => this.loadProject());
  }

  /** The issue types and statuses of the project the field names (a key the page would refuse is not asked). */
  async loadProject() {
    const key = this.page.value("policy.project_key");
    if (key === this.loadingKey) return;
    this.loadingKey = key;
    const load = ++this.loading;
    if (!PROJECT_KEY.test(key || "")) {
      setNote(this.projectNote, "");
      return;
    }
    let types; // no "reading…" note meanwhile: a line appearing on blur would move the button being clicked
    try {
      types = (await this.api.jiraIssueTypes(key)).issueTypes;
    } catch (error) {
      if (load === this.loading) this.projectProblem(error, key);
      return;
    }
    if (load !== this.loading) return;
    setNote(this.projectNote, "");
    this.loadedKey = key;
    this.issueTypes = types;
    this.showIssueTypes(key);
    await this.loadStatuses(key, load);
  }

  showIssueTypes(key) {
    const select = asSelect(this.page, "policy.issue_type");
    if (!select) return;
    fill(select, this.issueTypes.map((type) => [type.name, type.name]), select.value, `not an issue type of ${key}`,
      "Choose an issue type");
    if (!select.dataset.watched) {
      select.dataset.watched = "true";
      select.addEventListener("change", () => this.loadStatuses(this.page.value("policy.project_key"), this.loading));
    }
  }

  async loadStatuses(key, load) {
    const chosen = this.page.value("policy.issue_type");
    const type = (this.issueTypes || []).find((t) => t.name === chosen);
    let statuses;
    try {
      statuses = (await this.api.jiraStatuses(key, type ? type.id : null)).statuses;
    } catch (error) {
      if (load === this.loading) this.projectProblem(error, key);
      return;
    }
    if (load !== this.loading) return;
    this.statuses = statuses;
    this.statusesOf = key;
    this.showStatuses();
  }

  projectProblem(error, key) {
    this.loadingKey = null; // asked again when the field changes, even to the same key
    const text = error.status === 404
      ? `Jira has no project ${key}, or does not show it to hubsync.`
      : `${error.message}: ${TYPE_INSTEAD}`;
    setNote(this.projectNote, text, true);
  }

  showStatuses() {
    const names = this.statuses.map((status) => [status.name, status.name]);
    const missing = `not a status of ${this.statusesOf}`;
    const risk = asSelect(this.page, "policy.risk_request_status");
    if (risk) fill(risk, names, risk.value, missing, "Choose a status");
    for (const row of this.page.mappingsBox.querySelectorAll(".hs-mapping")) {
      const current = row.querySelector("[data-role=status]");
      const select = current.tagName === "SELECT" ? current : replaceInput(current);
      if (select !== current) {
        select.addEventListener("change", () => { row.dataset.path = `policy.status_dispositions.${select.value}`; });
      }
      fill(select, names, select.value, missing, "Choose a status");
      if (select.value) row.dataset.path = `policy.status_dispositions.${select.value}`; // as it will be saved
    }
  }

  // -- priorities ------------------------------------------------------------------------------------------------
  async loadPriorities() {
    let priorities;
    try {
      priorities = (await this.api.jiraPriorities()).priorities;
    } catch (error) {
      const box = this.page.form.querySelector('[data-path="policy.priorities"]');
      if (box) box.prepend(h("p", { className: "hs-help hs-note-problem", role: "status" }, `${error.message}: ${TYPE_INSTEAD}`));
      return;
    }
    for (const path of SEVERITY_PATHS) {
      const select = asSelect(this.page, path);
      if (select) {
        fill(select, priorities.map((p) => [p.name, p.name]), select.value, "not a priority of this site",
          "Choose a priority");
      }
    }
  }

  // -- the default assignee --------------------------------------------------------------------------------------
  /** The stored field becomes hidden and keeps the id; a search box in front of it shows the person. */
  assigneePicker() {
    const entry = this.page.inputs["policy.default_assignee"];
    if (!entry) return;
    const stored = entry.input;
    const label = this.page.form.querySelector(`label[for="${CSS.escape(stored.id)}"]`);
    const shown = h("input", { id: uid("hs-field"), type: "text", className: "hs-input", value: stored.value,
      autocomplete: "off", "aria-describedby": stored.getAttribute("aria-describedby") });
    stored.before(shown);
    stored.type = "hidden";
    stored.removeAttribute("aria-describedby");
    if (label) label.htmlFor = shown.id;
    const help = stored.parentElement.querySelector(".hs-help");
    if (help) help.textContent = "Who gets tickets whose AWS account names no owner: type part of a name or an email address, then choose.";
    const chosen = note(shown);
    const show = (user) => {
      shown.value = user.email ? `${user.displayName} (${user.email})` : user.displayName;
      shown.dataset.chosen = shown.value;
      setNote(chosen, `Jira id: ${user.id}`);
    };
    combobox(shown, {
      label: "people",
      search: async (text) => (await this.api.jiraUsers(text, this.assignableIn())).users,
      option: (user) => [user.displayName, user.email ? h("span", { className: "hs-subtle" }, ` ${user.email}`) : null],
      choose: (user) => { stored.value = user.id; show(user); },
    });
    shown.addEventListener("input", () => {
      if (shown.value === shown.dataset.chosen) return;
      stored.value = shown.value.trim(); // not chosen from Jira's list: kept as typed (an id pasted by hand)
      setNote(chosen, stored.value ? "Not chosen from Jira's people yet: choose one from the list." : "");
    });
    if (stored.value) this.showAssignee(stored.value, show, chosen);
  }

  assignableIn() {
    const key = this.page.value("policy.project_key");
    return key && key === this.loadedKey ? key : undefined;
  }

  async showAssignee(id, show, chosen) {
    try {
      const user = (await this.api.jiraUsers(id)).users.find((u) => u.id === id);
      if (user) show(user);
      else setNote(chosen, `Jira has nobody with the id ${id} any more.`, true);
    } catch (error) {
      setNote(chosen, `${error.message}: the field shows the stored id.`, true);
    }
  }
}

// -- controls ----------------------------------------------------------------------------------------------------

/** The select in place of the page's text field `path` (made once), or null when the page has no such field. */
function asSelect(page, path) {
  const entry = page.inputs[path];
  if (!entry || !entry.input.isConnected) return null;
  if (entry.input.tagName !== "SELECT") entry.input = replaceInput(entry.input);
  return entry.input;
}

/** A select with the input's id, name, data and description, where the input was; its value is the input's. */
function replaceInput(input) {
  const select = h("select", { id: input.id, className: "hs-input", name: input.name || null, required: input.required,
    "aria-describedby": input.getAttribute("aria-describedby"), "aria-label": input.getAttribute("aria-label") });
  Object.assign(select.dataset, input.dataset);
  select.dataset.stored = input.value.trim();
  input.replaceWith(select);
  return select;
}

/** Options [value, text] with `current` selected, as Jira spells it (names compare case-insensitively, as the
 *  policy compares them); a current value not among them is kept, marked as missing. */
function fill(select, choices, current, missing, placeholder) {
  const stored = current || select.dataset.stored || "";
  const same = choices.find(([optionValue]) => optionValue.toLowerCase() === stored.toLowerCase());
  const value = same ? same[0] : stored;
  const options = choices.map(([optionValue, text]) => h("option", { value: optionValue }, text));
  if (value && !same) {
    options.unshift(h("option", { value, dataset: { missing: "true" } }, `${value} (${missing})`));
  }
  if (!value && placeholder) options.unshift(h("option", { value: "" }, placeholder));
  select.replaceChildren(...options);
  select.value = value;
  select.dataset.stored = "";
}

/** A text input made a combobox (ARIA 1.2): typing searches (debounced), arrows move through the list, Enter or a
 *  click chooses, Escape closes. `search(text)` resolves to items, `option(item)` renders one. */
function combobox(input, { label, search, option, choose, searchEmpty = false }) {
  const list = h("ul", { id: uid("hs-listbox"), className: "hs-listbox", role: "listbox", "aria-label": `Matching ${label}`, hidden: true });
  const status = h("p", { className: "hs-visually-hidden", role: "status", "aria-live": "polite" });
  input.setAttribute("role", "combobox");
  input.setAttribute("aria-autocomplete", "list");
  input.setAttribute("aria-expanded", "false");
  input.setAttribute("aria-controls", list.id);
  input.setAttribute("autocomplete", "off");
  input.after(list, status);
  input.parentElement.classList.add("hs-combo");
  let items = [];
  let active = -1;
  let timer = null;
  let asked = 0;

  const close = () => {
    list.hidden = true;
    input.setAttribute("aria-expanded", "false");
    input.removeAttribute("aria-activedescendant");
    active = -1;
  };
  const highlight = (index) => {
    active = index;
    for (const [i, element] of Array.from(list.children).entries()) element.setAttribute("aria-selected", String(i === index));
    if (index >= 0 && list.children[index]) {
      input.setAttribute("aria-activedescendant", list.children[index].id);
      list.children[index].scrollIntoView({ block: "nearest" });
    } else input.removeAttribute("aria-activedescendant");
  };
  const pick = (index) => {
    const item = items[index];
    close();
    if (item) choose(item);
  };
  const show = (found) => {
    items = found;
    list.replaceChildren(...found.map((item, index) => h("li", { id: `${list.id}-${index}`, role: "option",
      className: "hs-option", "aria-selected": "false",
      onmousedown: (event) => { event.preventDefault(); pick(index); } }, option(item))));
    if (!found.length) {
      list.append(h("li", { role: "option", className: "hs-option hs-subtle", "aria-disabled": "true" }, `No ${label} match.`));
    }
    list.hidden = false;
    input.setAttribute("aria-expanded", "true");
    status.textContent = found.length ? `${found.length} ${label} found; arrow keys to choose.` : `No ${label} match.`;
    active = -1;
  };
  const lookup = async () => {
    const text = input.value.trim();
    if (!text && !searchEmpty) {
      close();
      return;
    }
    const mine = ++asked;
    let found;
    try {
      found = await search(text);
    } catch (error) {
      if (mine === asked) {
        list.replaceChildren(h("li", { role: "option", className: "hs-option hs-note-problem", "aria-disabled": "true" }, error.message));
        list.hidden = false;
        input.setAttribute("aria-expanded", "true");
        status.textContent = error.message;
      }
      return;
    }
    if (mine === asked && document.activeElement === input) show(found);
  };

  input.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(lookup, SEARCH_DELAY_MS);
  });
  input.addEventListener("keydown", (event) => {
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      event.preventDefault();
      if (list.hidden) {
        lookup();
        return;
      }
      const step = event.key === "ArrowDown" ? 1 : -1;
      if (items.length) highlight((active + step + items.length) % items.length);
    } else if (event.key === "Enter" && !list.hidden && active >= 0) {
      event.preventDefault(); // choosing, not submitting the form
      pick(active);
    } else if (event.key === "Escape" && !list.hidden) {
      event.preventDefault();
      close();
    }
  });
  input.addEventListener("blur", () => close());
}

/** A polite note under a field (what was read, or why Jira could not say). */
function note(input) {
  const element = h("p", { className: "hs-help", role: "status", hidden: true });
  const field = input.closest(".hs-field");
  const error = field && field.querySelector(":scope > .hs-field-error");
  if (error) error.before(element);
  else input.after(element);
  return element;
}

function setNote(element, text, problem = false) {
  element.textContent = text;
  element.hidden = !text;
  element.classList.toggle("hs-note-problem", problem);
}
