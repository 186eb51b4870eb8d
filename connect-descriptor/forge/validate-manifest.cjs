// Atlassian's own, full and offline, validation of a Forge app directory's manifest.yml (`@forge/manifest`'s
// validate(false, path): schema, module cross references, scopes, resource directories). Used by
// tests/conformance/test_forge_manifest.py; by hand:
//
//   node connect-descriptor/forge/validate-manifest.cjs DIR/manifest.yml
//
// Prints one JSON object {success, errors: [{level, message, line, column}]}; exit 0 when valid, 1 when not.
const path = require("node:path");
const { validate } = require("@forge/manifest");

(async () => {
  const manifest = path.resolve(process.argv[2] || "manifest.yml");
  process.chdir(path.dirname(manifest)); // resource paths are relative to the app directory
  const result = await validate(false, manifest);
  const errors = (result.errors || []).map(({ level, message, reference, line, column }) => ({
    level, message, reference, line, column,
  }));
  console.log(JSON.stringify({ success: Boolean(result.success), errors }, null, 2));
  process.exitCode = result.success ? 0 : 1;
})().catch((error) => {
  console.error(error);
  process.exitCode = 2;
});
