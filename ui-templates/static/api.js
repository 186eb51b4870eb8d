// The hubsync JSON API (/api/v1), called with the host's context token.
import { getToken } from "./bridge.js";

export class ApiError extends Error {
  constructor(status, body) {
    super((body && body.error) || `the hubsync service answered HTTP ${status}`);
    this.status = status;
    this.body = body || {};
  }
}

export function createApi(baseUrl) {
  const base = baseUrl.replace(/\/$/, "");

  async function call(method, path, body) {
    const token = await getToken();
    const headers = { Authorization: `JWT ${token}`, Accept: "application/json" };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    let response;
    try {
      response = await fetch(base + path, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        credentials: "omit",
        cache: "no-store",
      });
    } catch (error) {
      throw new ApiError(0, { error: `the hubsync service cannot be reached (${error.message})` });
    }
    const text = await response.text();
    let data = null;
    try {
      data = text ? JSON.parse(text) : null;
    } catch (error) {
      data = { error: `the hubsync service answered HTTP ${response.status} without JSON` };
    }
    if (!response.ok) throw new ApiError(response.status, data);
    return data;
  }

  return {
    panel: (issueKey) => call("GET", `/panel?issueKey=${encodeURIComponent(issueKey)}`),
    settings: () => call("GET", "/settings"),
    saveSettings: (settings) => call("PUT", "/settings", settings),
    testConnection: (aws) => call("POST", "/settings/test-connection", aws ? { aws } : {}),
    rotateEventsKey: (options = {}) => call("POST", "/settings/events-api-key", options),
    setupCustomAction: () => call("POST", "/settings/custom-action", {}),
  };
}
