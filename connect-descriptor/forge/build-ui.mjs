// Builds the Forge app's Custom UI resources from the one front end in ui-templates/static/ (the Connect pages serve
// the same modules unbundled). `make forge-ui` runs it; `hubsync forge manifest --out DIR` copies its output next to
// the rendered manifest.
//
//   node connect-descriptor/forge/build-ui.mjs [OUTPUT_DIR]     (default: connect-descriptor/forge/build)
//
// One directory per resource of manifest.yml (panel, configure, post-function), each with an index.html that loads
// only files beside it: no inline script, no external origin (Forge serves resources under a CSP of 'self').
// esbuild bundles the ES modules with @forge/bridge (and @forge/jira-bridge for the post function) into one file a
// resource; the transport (transport.js) picks invokeRemote and view.getContext over AP.js inside Forge.

import { build } from "esbuild";
import { copyFile, mkdir, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, "..", "..");
const STATIC = path.join(ROOT, "ui-templates", "static");
const OUT = path.resolve(process.argv[2] || path.join(HERE, "build"));

const LOADING = `<main id="hubsync-app" class="hs-app" data-page="{page}" data-surface="{page}">
    <p class="hs-subtle" role="status">Loading…</p>
  </main>
  <noscript><p>hubsync needs JavaScript to show this page.</p></noscript>`;

// What Jira shows on the post function's create, edit and view pages (as the Connect pages say it).
const POST_FUNCTION = `<p>After this transition hubsync brings the issue's AWS Security Hub finding in step at once, instead of at the next reconcile.</p>`;

const RESOURCES = [
  { key: "panel", entry: "app.js", styles: ["hubsync.css"], files: [[path.join(ROOT, "connect-descriptor", "icon.svg"), "icon.svg"]],
    title: "Security Hub finding - hubsync", bodyClass: "hs-page-panel", body: LOADING.replaceAll("{page}", "panel") },
  { key: "configure", entry: "app.js", styles: ["hubsync.css"], files: [],
    title: "Security Hub configuration - hubsync", bodyClass: "hs-page-configure", body: LOADING.replaceAll("{page}", "configure") },
  { key: "post-function", entry: "post-function.js", styles: ["post-function.css"], files: [],
    title: "Sync with Security Hub", bodyClass: "hs-page-post-function", body: POST_FUNCTION },
];

function indexHtml(resource) {
  const styles = resource.styles.map((name) => `  <link rel="stylesheet" href="./${name}">`).join("\n");
  return `<!doctype html>
<!-- hubsync's Forge Custom UI resource "${resource.key}", built by connect-descriptor/forge/build-ui.mjs: only files
     beside this one, no inline script (Forge's Content-Security-Policy). -->
<html lang="en" data-platform="forge">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>${resource.title}</title>
${styles}
</head>
<body class="${resource.bodyClass}">
  ${resource.body}
  <script type="module" src="./${resource.entry}"></script>
</body>
</html>
`;
}

async function buildResource(resource) {
  const dir = path.join(OUT, resource.key);
  await mkdir(dir, { recursive: true });
  await build({
    absWorkingDir: ROOT,
    entryPoints: [path.join(STATIC, resource.entry)],
    outfile: path.join(dir, resource.entry),
    bundle: true, // dynamic import()s are inlined too: one file a resource
    format: "esm",
    platform: "browser",
    target: ["es2020"],
    minify: true,
    legalComments: "eof",
    charset: "utf8",
    define: { "process.env.NODE_ENV": '"production"' },
    logLevel: "warning",
  });
  for (const name of resource.styles) await copyFile(path.join(STATIC, name), path.join(dir, name));
  for (const [from, name] of resource.files) await copyFile(from, path.join(dir, name));
  await writeFile(path.join(dir, "index.html"), indexHtml(resource));
}

await rm(OUT, { recursive: true, force: true });
for (const resource of RESOURCES) await buildResource(resource);
console.log(`Forge Custom UI resources built in ${path.relative(process.cwd(), OUT) || "."}: ${RESOURCES.map((r) => r.key).join(", ")}`);
