#!/usr/bin/env bash
# Re-resolve requirements.in into the full lock requirements.txt in a throw-away venv.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TMP="$(mktemp -d)"
python3.11 -m venv "$TMP/venv"
"$TMP/venv/bin/pip" install -q -r "$ROOT/requirements.in"
{ echo "# Full lock of the course environment (Python 3.11, CPU torch). Regenerate: bash scripts/lock.sh"
  "$TMP/venv/bin/pip" freeze | sed 's/^torch==\([0-9.]*\)+cpu$/torch==\1/'; } > "$ROOT/requirements.txt"
rm -rf "$TMP"
echo "wrote $ROOT/requirements.txt"
