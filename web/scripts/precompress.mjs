// Writes a gzip copy (`name.gz`) beside each text file of the build; the server sends it to
// clients that accept gzip (src/atelier/api/webui.py), so nothing is compressed per request.
import { readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { dirname, extname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { constants, gzipSync } from "node:zlib";

const dist = resolve(dirname(fileURLToPath(import.meta.url)), "../dist");
const TEXT = new Set([".js", ".mjs", ".css", ".html", ".svg", ".json", ".txt", ".webmanifest"]);

let written = 0;
for (const name of readdirSync(dist, { recursive: true })) {
  const path = join(dist, String(name));
  if (String(name).startsWith(".vite")) continue; // build metadata, not served
  if (!TEXT.has(extname(path)) || !statSync(path).isFile()) continue;
  const raw = readFileSync(path);
  const packed = gzipSync(raw, { level: constants.Z_BEST_COMPRESSION });
  if (raw.length >= 256 && packed.length < raw.length) {
    writeFileSync(`${path}.gz`, packed);
    written += 1;
  }
}
console.log(`precompressed ${written} files in ${dist}`);
