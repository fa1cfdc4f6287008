#!/usr/bin/env bash
# The npm packages of package.json, exactly as package-lock.json pins them (issue 29): axe-core for the browser
# tests' accessibility audit (tests/browser/test_axe.py) and reveal.js for the offline chapter slides
# (scripts/slides.py). Runs `npm ci` when node_modules/ is missing or was installed from another lock; node and npm
# are Debian's (scripts/system-deps.txt). Idempotent; called by build-book.sh and test.sh.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
STAMP="node_modules/.scoresde-lock-sha256"
want="$(sha256sum package-lock.json | cut -d' ' -f1)"
if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$want" ] && [ -f node_modules/axe-core/axe.min.js ] \
   && [ -f node_modules/reveal.js/dist/reveal.js ]; then
  exit 0
fi
if ! command -v npm >/dev/null 2>&1; then
  echo "[node-deps] npm is missing: install Debian's nodejs and npm (scripts/system-deps.sh)" >&2
  exit 1
fi
echo "[node-deps] npm ci (axe-core, reveal.js; pinned in package-lock.json)"
npm ci --no-audit --no-fund --ignore-scripts --loglevel=error
echo "$want" > "$STAMP"
