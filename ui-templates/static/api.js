// The hubsync JSON API (/api/v1), reached through the host's transport (Connect: fetch with a context JWT; Forge:
// invokeRemote with a Forge Invocation Token).
import { request } from "./transport.js";

export class ApiError extends Error {
  constructor(status, body) {
    super((body && body.error) || `the hubsync service answered HTTP ${status}`);
    this.status = status;
    this.body = body || {};
  }
}

export function createApi(send = request) {
  async function call(method, path, body) {
    const { status, data } = await send(method, path, body);
    if (status < 200 || status > 299) throw new ApiError(status, data);
    return data;
  }

  return {
    panel: (issueKey) => call("GET", `/panel?issueKey=${encodeURIComponent(issueKey)}`),
    settings: () => call("GET", "/settings"),
    saveSettings: (settings) => call("PUT", "/settings", settings),
    testConnection: (aws) => call("POST", "/settings/test-connection", aws ? { aws } : {}),
    rotateEventsKey: (options = {}) => call("POST", "/settings/events-api-key", options),
    setupCustomAction: () => call("POST", "/settings/custom-action", {}),
    previewRules: (body) => call("POST", "/settings/rule-preview", body), // {policy: {rules}} or {rule}
    checkProject: (body) => call("POST", "/settings/check-project", body), // {policy} (unsaved) or {} (saved)
    // What the site's Jira has, for the configure page's pickers.
    jiraProjects: (query = "") => call("GET", `/jira/projects?query=${encodeURIComponent(query)}`),
    jiraIssueTypes: (key) => call("GET", `/jira/projects/${encodeURIComponent(key)}/issue-types`),
    jiraStatuses: (key, issueTypeId) => call("GET", `/jira/projects/${encodeURIComponent(key)}/statuses` +
      (issueTypeId ? `?issueType=${encodeURIComponent(issueTypeId)}` : "")),
    jiraPriorities: () => call("GET", "/jira/priorities"),
    jiraUsers: (query, project) => call("GET", `/jira/users?query=${encodeURIComponent(query)}` +
      (project ? `&project=${encodeURIComponent(project)}` : "")),
  };
}
