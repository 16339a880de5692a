// Fails the build when the console's first load is too heavy: what a browser fetches to show
// the first page (dist/index.html, the scripts and styles it names, and every module those
// import statically), gzipped, must stay at most LIMIT bytes. Pages and editors are loaded
// with dynamic import() when first visited, so they do not count.
//   usage: node scripts/check-size.mjs [dist dir]
import { readFileSync } from "node:fs";
import { dirname, join, posix, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";

const LIMIT = 300 * 1024;
const here = dirname(fileURLToPath(import.meta.url));
const dist = resolve(process.argv[2] ?? join(here, "..", "dist"));
const BASE = "/admin/";

const gz = (bytes) => gzipSync(bytes, { level: 9 }).length;

/** A URL of the page (/admin/assets/x.js) or of a module (./x.js, relative to `from`) → dist path. */
function toFile(url, from) {
  const path = url.startsWith(BASE) ? url.slice(BASE.length) : posix.join(posix.dirname(from), url);
  return posix.normalize(path);
}

// Static imports in Vite's minified ES modules: `import{a as b}from"./x.js"`, `import"./x.css"`,
// `export{a}from"./x.js"`; not `import("./x.js")`, which loads later.
const STATIC_IMPORT = /(?:^|[;}\n])\s*(?:import|export)\s*(?:[\w$*{},\s]+?\s*from\s*)?["']([^"']+)["']/g;

const html = readFileSync(join(dist, "index.html"), "utf8");
const first = new Set(["index.html"]);
const queue = [];
for (const [, url] of html.matchAll(/<script[^>]*\ssrc="([^"]+)"/g)) queue.push(toFile(url, "index.html"));
for (const [, tag] of html.matchAll(/<link([^>]*)>/g)) {
  const rel = /\srel="([^"]+)"/.exec(tag)?.[1];
  const href = /\shref="([^"]+)"/.exec(tag)?.[1];
  if (href && (rel === "stylesheet" || rel === "modulepreload") && !href.startsWith("data:")) queue.push(toFile(href, "index.html"));
}
while (queue.length) {
  const file = queue.shift();
  if (first.has(file)) continue;
  first.add(file);
  if (!file.endsWith(".js")) continue;
  const code = readFileSync(join(dist, file), "utf8");
  for (const [, spec] of code.matchAll(STATIC_IMPORT)) if (spec.startsWith(".") || spec.startsWith("/")) queue.push(toFile(spec, file));
}

let total = 0;
const rows = [...first].sort().map((file) => {
  const size = gz(readFileSync(join(dist, file)));
  total += size;
  return `  ${file.padEnd(48)} ${(size / 1024).toFixed(1).padStart(7)} KB`;
});
console.log(`First load (gzipped), ${first.size} files:\n${rows.join("\n")}\n  ${"total".padEnd(48)} ${(total / 1024).toFixed(1).padStart(7)} KB (limit ${LIMIT / 1024} KB)`);
if (total > LIMIT) {
  console.error(`The console's first load is ${(total / 1024).toFixed(1)} KB gzipped, over the ${LIMIT / 1024} KB limit: load the new code with a dynamic import() (React.lazy) where it is first needed.`);
  process.exit(1);
}
