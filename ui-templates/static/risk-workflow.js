// "Set up the risk workflow" on the configure page: a preview of each step (a dry run: nothing changes in Jira),
// then the setup itself, with the outcome of each step. Offered where hubsync can do it through Jira's REST API
// (a Forge app on Jira Cloud); a Connect app cannot create workflows, and the service says what to do by hand.
// Jira moves a big project's issues as a task that may outlast the request (202): the section then reads the task
// every few seconds, showing its progress, until it ends; a preview then shows the project set up.
import { ApiError } from "./api.js";
import { request } from "./transport.js";
import { h, replaceChildren } from "./dom.js";
import { stepLozenge } from "./lozenges.js";

const PATH = "/settings/risk-workflow";
const POLL_MS = 3000;
const wait = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** The section, or null where this tenant's Jira cannot be set up from here. */
export function riskWorkflowSection(settings, send = request) {
  if (!settings.jira || settings.jira.platform !== "forge") return null;
  const project = settings.policy && settings.policy.project_key;
  const result = h("div", { className: "hs-connection", role: "status", "aria-live": "polite",
    dataset: { testid: "risk-workflow-result" } });
  const preview = h("button", { type: "button", className: "hs-button", disabled: !project }, "Preview the setup");
  const apply = h("button", { type: "button", className: "hs-button hs-button-primary" }, "Set up the risk workflow");
  const actions = h("div", { className: "hs-actions" }, preview);
  // Offered only after a preview that found work to do (`hidden` would lose to .hs-button's display).
  const offerApply = (offered) => replaceChildren(actions, preview, offered ? apply : null);

  async function call(method, path, body) {
    const { status, data } = await send(method, path, body);
    if (status < 200 || status > 299) throw new ApiError(status, data);
    return data;
  }

  async function run(dryRun) {
    preview.disabled = true;
    apply.disabled = true;
    if (dryRun) offerApply(false);
    result.replaceChildren(h("p", { className: "hs-subtle" }, dryRun
      ? `Reading what project ${project} and the site have…`
      : `Setting up the risk workflow on ${project}: statuses, workflow, scheme, then the project's issues…`));
    try {
      const answer = await call("POST", PATH, { project, dryRun });
      if (answer.pending) {
        await follow(answer);
      } else {
        showAnswer(answer);
        offerApply(dryRun && !answer.alreadySetUp);
      }
    } catch (error) {
      showError(error);
    } finally {
      preview.disabled = false;
      apply.disabled = false;
    }
  }

  function showAnswer(answer) {
    if (answer.alreadySetUp) {
      replaceChildren(result, h("p", { className: "hs-message hs-message-success" },
        `Project ${answer.project.key} already uses the risk workflow: nothing to do.`));
    } else if (answer.outcomes) {
      replaceChildren(result, h("p", { className: "hs-message hs-message-success", role: "alert" },
        `Project ${answer.project.key} now uses the risk workflow.`), outcomeList(answer.outcomes));
    } else {
      replaceChildren(result,
        h("p", { className: "hs-subtle" }, `The steps it takes on project ${answer.project.key} (nothing has changed yet):`),
        h("ol", { dataset: { testid: "risk-workflow-plan" } }, answer.steps.map((step) => h("li", {}, step.text))));
    }
  }

  // Jira still switches the project: its task's progress until it ends (the buttons stay off meanwhile, so that a
  // second press cannot start another switch), then a preview that finds the project set up.
  async function follow(answer) {
    const done = answer.outcomes.length ? outcomeList(answer.outcomes) : null;
    if (!answer.task) {
      replaceChildren(result, h("p", { className: "hs-message hs-message-info", role: "alert" }, answer.message),
        h("p", { className: "hs-subtle" }, "Preview again in a minute: once Jira has ended that switch, the preview shows what is left to do."), done);
      return;
    }
    const bar = h("progress", { className: "hs-progress", max: 100, value: answer.task.progress,
      "aria-label": "Jira's progress",
      dataset: { testid: "risk-workflow-progress" } });
    const words = h("p", { className: "hs-subtle", dataset: { testid: "risk-workflow-task" } }, answer.task.message);
    replaceChildren(result, words, bar, done);
    let task = answer.task;
    while (task.running) {
      await wait(POLL_MS);
      task = await call("GET", `${PATH}/tasks/${encodeURIComponent(task.id)}`);
      bar.value = task.progress;
      words.textContent = task.message;
    }
    if (!task.ok) {
      replaceChildren(result, h("p", { className: "hs-message hs-message-error", role: "alert" }, task.message), done);
      return;
    }
    const preview = await call("POST", PATH, { project, dryRun: true });
    showAnswer(preview);
    result.prepend(h("p", { className: "hs-message hs-message-success", role: "alert" },
      `Project ${answer.project.key} now uses the risk workflow: Jira has moved its issues.`));
    offerApply(!preview.alreadySetUp);
  }

  function showError(error) {
    const body = error instanceof ApiError ? error.body : {};
    replaceChildren(result,
      h("p", { className: "hs-message hs-message-error", role: "alert" }, error.message),
      body.outcomes ? outcomeList(body.outcomes) : null,
      body.problems && body.problems.length ? h("ul", {}, body.problems.map((problem) => h("li", {}, problem))) : null,
      body.manualSteps ? h("ol", {}, body.manualSteps.map((step) => h("li", {}, step))) : null);
  }

  preview.addEventListener("click", () => run(true));
  apply.addEventListener("click", () => run(false));
  return h("section", { className: "hs-section", "aria-labelledby": "hs-risk-workflow-title" },
    h("h2", { id: "hs-risk-workflow-title", className: "hs-section-title" }, "Set up the risk workflow"),
    h("p", { className: "hs-subtle" }, project
      ? `Creates hubsync's risk workflow (its statuses, the workflow and a workflow scheme) and moves project ` +
        `${project} onto it, its issues' statuses mapped by category. Preview first: nothing changes until you ` +
        "press the setup button. Running it again changes nothing."
      : "Save the settings with a project first."),
    actions,
    result);
}

function outcomeList(outcomes) {
  return h("ul", { className: "hs-steps", dataset: { testid: "risk-workflow-outcomes" } }, outcomes.map((outcome) =>
    h("li", { dataset: { status: outcome.ok ? "ok" : "failed" } }, stepLozenge(outcome.ok ? "ok" : "failed"), " ",
      outcome.text,
      outcome.details.length ? h("ul", {}, outcome.details.map((detail) => h("li", {}, detail))) : null)));
}
