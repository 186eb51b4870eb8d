// The post function's configuration page (create and edit): Jira asks the page for the post function's
// configuration when the admin saves, and there is none: "{}". The transport registers it with the host (Connect:
// AP.jira.WorkflowConfiguration.onSave; Forge: workflowRules.onConfigure). A file, not an inline script: the pages
// allow no inline script (Content-Security-Policy). A classic script (the Connect page loads it without
// type=module), so the transport comes in with import(), relative to this file.
import("./transport.js")
  .then((transport) => transport.onSaveConfiguration(() => "{}"))
  .catch((error) => console.error("hubsync: the post function's configuration cannot be saved:", error));
