// Fails when the first load of any page needs more than the budget of gzip-compressed
// JavaScript: the entry chunk and its static imports, plus the page's lazy chunk and its
// static imports (worst page counts). Reads Vite's manifest (dist/.vite/manifest.json).
import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { constants, gzipSync } from "node:zlib";

export const BUDGET_BYTES = 300 * 1000;

const dist = resolve(dirname(fileURLToPath(import.meta.url)), "../dist");
const manifest = JSON.parse(readFileSync(resolve(dist, ".vite/manifest.json"), "utf8"));

/** Every JavaScript file loaded with `key`: itself and its static imports, transitively. */
function closure(key, seen = new Set()) {
  const chunk = manifest[key];
  if (!chunk || seen.has(chunk.file)) return seen;
  if (chunk.file.endsWith(".js")) seen.add(chunk.file);
  for (const dep of chunk.imports ?? []) closure(dep, seen);
  return seen;
}

const gz = new Map();
function gzipSize(file) {
  if (!gz.has(file)) {
    const raw = readFileSync(resolve(dist, file));
    gz.set(file, gzipSync(raw, { level: constants.Z_BEST_COMPRESSION }).length);
  }
  return gz.get(file);
}
const total = (files) => [...files].reduce((sum, file) => sum + gzipSize(file), 0);

const entries = Object.keys(manifest).filter((key) => manifest[key].isEntry);
if (entries.length === 0) throw new Error("no entry chunk in the manifest: is this a Vite build?");
const base = new Set(entries.flatMap((key) => [...closure(key)]));
const pages = Object.keys(manifest).filter(
  (key) => manifest[key].isDynamicEntry && key.startsWith("src/pages/"),
);

const rows = [["(entry only)", total(base)]];
for (const page of pages) rows.push([page, total(new Set([...base, ...closure(page)]))]);
const kb = (n) => `${(n / 1000).toFixed(1)} kB`;
for (const [name, size] of rows) console.log(`${kb(size).padStart(10)}  first load of ${name}`);
const worst = Math.max(...rows.map(([, size]) => size));
if (worst > BUDGET_BYTES) {
  console.error(`over budget: ${kb(worst)} of gzip JavaScript > ${kb(BUDGET_BYTES)}`);
  process.exit(1);
}
console.log(`within budget: ${kb(worst)} <= ${kb(BUDGET_BYTES)} of gzip JavaScript`);
