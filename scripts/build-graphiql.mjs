// Bundle GraphiQL (web/graphiql.jsx) and Monaco's workers from node_modules into build/graphiql/,
// so dev mode serves the IDE from disk and needs no CDN. Run by the Makefile after `npm ci`.
//   node scripts/build-graphiql.mjs
import { build } from "esbuild";
import { mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const out = join(root, "build", "graphiql");
const started = Date.now();
rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });

const common = {
  absWorkingDir: root,
  bundle: true,
  minify: true,
  legalComments: "linked", // the licenses of what is bundled, in .LEGAL.txt files beside each bundle
  target: "es2022",
  define: { "process.env.NODE_ENV": '"production"' },
  logLevel: "warning",
};
// The page: an ES module and its stylesheet; Monaco's codicon font is emitted as a file. Splitting
// keeps Monaco's ~80 syntax modes (loaded with import() when an editor asks) out of the first load.
await build({
  ...common,
  entryPoints: { graphiql: "web/graphiql.jsx" },
  outdir: out,
  format: "esm",
  splitting: true,
  chunkNames: "chunk-[hash]",
  jsx: "automatic",
  loader: { ".ttf": "file" },
  assetNames: "[name]-[hash]",
});
// The workers: classic scripts, one per language service, loaded by MonacoEnvironment.getWorker.
await build({
  ...common,
  entryPoints: {
    "editor.worker": "monaco-editor/esm/vs/editor/editor.worker.js",
    "json.worker": "monaco-editor/esm/vs/language/json/json.worker.js",
    "graphql.worker": "monaco-graphql/esm/graphql.worker.js",
  },
  outdir: out,
  format: "iife",
});

const files = readdirSync(out).sort();
const total = files.reduce((sum, f) => sum + statSync(join(out, f)).size, 0);
writeFileSync(join(out, ".built"), `${new Date().toISOString()}\n`);
console.log(`build-graphiql: ${files.length} files, ${(total / 1024).toFixed(0)} KiB in build/graphiql ` +
  `(${Date.now() - started} ms)`);
