#!/usr/bin/env bash
# Re-execute notebooks on the CPU (fixed seeds inside each) and save them with their outputs.
#   bash scripts/execute-notebooks.sh                 # all chapters
#   bash scripts/execute-notebooks.sh notebooks/01_score_matching.ipynb
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
source "$ROOT/scripts/env.sh"
cd "$ROOT"
export CUDA_VISIBLE_DEVICES=""
if [ $# -eq 0 ]; then set -- notebooks/*.ipynb; fi
for nb in "$@"; do
  echo "executing $nb"
  t0=$(date +%s)
  jupyter nbconvert --to notebook --execute --inplace --ExecutePreprocessor.timeout=600 \
    --ExecutePreprocessor.kernel_name=python3 "$nb"
  echo "  done in $(( $(date +%s) - t0 )) s"
done
