#!/usr/bin/env bash
# Create (or reuse) the course's virtual environment in .venv and install the pinned lock.
# Sourced by build-book.sh, test.sh and execute-notebooks.sh; safe to run on its own.
# Re-installs only when requirements.txt or companion/pyproject.toml change (a stamp holds their hash).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${SCORESDE_VENV:-$ROOT/.venv}"
PY="${PYTHON:-python3.11}"
command -v "$PY" >/dev/null 2>&1 || PY=python3
if [ ! -x "$VENV/bin/python" ]; then
  echo "[env] creating virtual environment in $VENV"
  "$PY" -m venv "$VENV"
fi
STAMP="$VENV/.scoresde-stamp"
HASH="$(cat "$ROOT/requirements.txt" "$ROOT/companion/pyproject.toml" | sha256sum | cut -d' ' -f1)"
if [ ! -f "$STAMP" ] || [ "$(cat "$STAMP")" != "$HASH" ]; then
  echo "[env] installing pinned packages (CPU torch 2.13.0) from requirements.txt"
  "$VENV/bin/python" -m pip install -q --upgrade pip
  "$VENV/bin/python" -m pip install -q -r "$ROOT/requirements.txt"
  "$VENV/bin/python" -m pip install -q --no-deps -e "$ROOT/companion"
  echo "$HASH" > "$STAMP"
fi
export PATH="$VENV/bin:$PATH"
export PYTHONHASHSEED=0
