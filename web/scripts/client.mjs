// Generates the typed API client's schema (src/api/schema.d.ts) from the server's OpenAPI
// document, printed by `python -m atelier.api.openapi` (no server is started).
//
//   node scripts/client.mjs           write src/api/schema.d.ts
//   node scripts/client.mjs --check   fail when the checked-in file differs from a fresh one
//
// The Python interpreter is $ATELIER_PYTHON, else ../.venv/bin/python, else python3.
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import openapiTS, { astToString } from "openapi-typescript";
import ts from "typescript";

const web = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const target = resolve(web, "src/api/schema.d.ts");
const venvPython = resolve(web, "../.venv/bin/python");
const fromEnv = process.env.ATELIER_PYTHON;
// a path is taken relative to where the command runs; a bare name is looked up on PATH
const python = fromEnv
  ? fromEnv.includes("/")
    ? resolve(fromEnv)
    : fromEnv
  : existsSync(venvPython)
    ? venvPython
    : "python3";

const HEADER = `/**
 * Generated from Atelier's OpenAPI document by \`make web-client\` (web/scripts/client.mjs).
 * Do not edit: \`make test\` fails when this file differs from a fresh generation.
 */

`;

const json = execFileSync(python, ["-m", "atelier.api.openapi"], {
  cwd: resolve(web, ".."),
  encoding: "utf8",
  maxBuffer: 64 * 1024 * 1024,
});
// Uploads (`format: binary`, or `contentMediaType` in OpenAPI 3.1) are Blobs, not strings.
const BLOB = ts.factory.createTypeReferenceNode(ts.factory.createIdentifier("Blob"));
const ast = await openapiTS(JSON.parse(json), {
  alphabetize: true,
  transform(schema) {
    if (schema.format === "binary" || schema.contentMediaType === "application/octet-stream") {
      return BLOB;
    }
    return undefined;
  },
});
const fresh = HEADER + astToString(ast);

if (process.argv.includes("--check")) {
  const current = existsSync(target) ? readFileSync(target, "utf8") : "";
  if (current !== fresh) {
    const a = current.split("\n");
    const b = fresh.split("\n");
    const line = a.findIndex((text, i) => text !== b[i]);
    console.error(
      `web/src/api/schema.d.ts is out of date with the API (first difference at line ${line + 1}:\n` +
        `  checked in: ${JSON.stringify(a[line] ?? "<end of file>")}\n` +
        `  generated:  ${JSON.stringify(b[line] ?? "<end of file>")}).\n` +
        "Run `make web-client` and commit the result.",
    );
    process.exit(1);
  }
  console.log("web/src/api/schema.d.ts matches the API's OpenAPI document");
} else {
  writeFileSync(target, fresh);
  console.log(`wrote ${target}`);
}
