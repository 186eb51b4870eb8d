// The post function's configuration page (create and edit): Jira asks the page for the post function's
// configuration when the admin saves, and there is none. A file, not an inline script: the pages allow no inline
// script (Content-Security-Policy).
if (window.AP && AP.jira && AP.jira.WorkflowConfiguration) {
  AP.jira.WorkflowConfiguration.onSave(function () { return "{}"; });
}
