#!/usr/bin/env bash
# The student's install, tested as a student follows it (README "Run the notebooks on your own machine"):
#   a clean virtual environment, torch first (the CPU route), then `pip install -e "companion[book]"` alone,
#   no lock file. Then every chapter is executed in that environment's kernel (alone: run to the end; with --nbval:
#   by nbval, its outputs compared as in test.sh), the CLI samples with the probability-flow ODE from a shipped
#   checkpoint, and each benchmark's imports load.
# Any ImportError / ModuleNotFoundError, i.e. a runtime dependency missing from the extra, fails the stage.
#   bash scripts/student-path.sh            # from the repository root; prints install size and times
#   bash scripts/student-path.sh --nbval PY # scripts/test.sh step 3: the chapters run by nbval (strict, the
#                                           # compared outputs) in this environment's kernel; PY: a python with
#                                           # pytest and nbval (the course venv), which only drives the kernel
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
NBVAL_PY=""
if [ "${1:-}" = "--nbval" ]; then
  NBVAL_PY="${2:?--nbval needs the python that has pytest and nbval}"
  "$NBVAL_PY" -c "import nbval" || { echo "[student] --nbval: $NBVAL_PY has no nbval"; exit 2; }
elif [ -n "${1:-}" ]; then
  echo "[student] unknown argument: $1 (use --nbval PYTHON or nothing)"; exit 2
fi
PY="${PYTHON:-python3.11}"
command -v "$PY" >/dev/null 2>&1 || PY=python3
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
t0=$(date +%s)
# no PYTHONPATH, no course venv on PATH: only what the student's environment holds
unset PYTHONPATH VIRTUAL_ENV
export PATH="$WORK/venv/bin:$(echo "$PATH" | tr ':' '\n' | grep -v "/.venv/bin" | paste -sd: -)"
"$PY" -m venv "$WORK/venv"
pip() { "$WORK/venv/bin/python" -m pip "$@"; }
pip install -q --upgrade pip
# 1. torch first. On a laptop: pip install torch --index-url https://download.pytorch.org/whl/cpu.
#    CI reaches PyPI only, where this machine's pip finds the CPU wheel torch==2.13.0 by its version; set
#    TORCH_INDEX_URL to test the documented index itself.
pip install -q "torch==2.13.0" ${TORCH_INDEX_URL:+--index-url "$TORCH_INDEX_URL"}
# 2. the companion with every notebook's runtime dependencies
#    With --nbval (CI) the versions the lock pins are kept (a constraint, not an install: only what the extra pulls
#    in is installed), so that the compared outputs change with the repository, not with a new release on PyPI;
#    alone, the script installs as a student does, unpinned.
pip install -q -e "companion[book]" ${NBVAL_PY:+-c requirements.txt}
t_install=$(( $(date +%s) - t0 ))
size=$(du -sm "$WORK/venv" | cut -f1)
echo "[student] install: ${t_install} s, ${size} MB in the virtual environment"

fail=0
log="$WORK/log.txt"
t1=$(date +%s)
export CUDA_VISIBLE_DEVICES=""   # no MPLBACKEND: the kernel draws inline, as for a student (Agg would show no figure)
unset MPLBACKEND
# only the new environment's own kernel: no user-wide kernelspec may stand in for it
export JUPYTER_DATA_DIR="$WORK/jupyter-data" JUPYTER_CONFIG_DIR="$WORK/jupyter-config"
unset JUPYTER_PATH
# the kernel is the new environment's python (a user kernelspec in the temporary JUPYTER_DATA_DIR, under its own
# name so that nothing else's "python3" can stand in for it)
"$WORK/venv/bin/python" -m ipykernel install --user --name scoresde-student >/dev/null
spec=$("$WORK/venv/bin/jupyter" kernelspec list --json | "$WORK/venv/bin/python" -c \
  "import json,sys; print(json.load(sys.stdin)['kernelspecs']['scoresde-student']['resource_dir'])")
case "$spec" in "$WORK"/*) ;; *) echo "[student] the kernel is not the new environment's: $spec"; exit 1 ;; esac
if [ -n "$NBVAL_PY" ]; then
  # every cell executed in the student's kernel and its printed text compared with the committed outputs
  # (two workers when pytest-xdist is there, each notebook whole on one: its cells in order, in one kernel)
  workers=""
  if "$NBVAL_PY" -c "import xdist" 2>/dev/null; then workers="-n 2 --dist loadfile"; fi
  # shellcheck disable=SC2086  # $workers: the options, split into words
  if ! "$NBVAL_PY" -m pytest --nbval --nbval-kernel-name scoresde-student $workers \
        --nbval-sanitize-with tests/nbval_sanitize.cfg -q -p no:cacheprovider notebooks/*.ipynb; then
    echo "[student] FAILED: nbval in the student's kernel"; fail=1
  fi
else
  for nb in notebooks/*.ipynb; do
    if ! "$WORK/venv/bin/jupyter" nbconvert --to notebook --execute --output-dir "$WORK/out" \
          --ExecutePreprocessor.timeout=600 --ExecutePreprocessor.kernel_name=scoresde-student "$nb" >"$log" 2>&1; then
      echo "[student] FAILED: $nb"; tail -25 "$log"; fail=1
    else
      echo "[student] ran $nb"
    fi
  done
fi
echo "[student] notebooks: $(( $(date +%s) - t1 )) s"

if ! "$WORK/venv/bin/python" -m scoresde.cli sample --sampler ode --n-samples 200 --seed 0 \
      --checkpoint companion/scoresde/checkpoints/ch05_vp_dsm.pt --out "$WORK/samples.pt" \
      --figure "$WORK/samples.png" >"$log" 2>&1; then
  echo "[student] FAILED: python -m scoresde.cli sample --sampler ode"; tail -25 "$log"; fail=1
else
  echo "[student] ran python -m scoresde.cli sample --sampler ode"
fi
# the benchmarks' imports (every import statement of every script), without running a benchmark
if ! "$WORK/venv/bin/python" - benchmarks/*.py >"$log" 2>&1 <<'PY'
import ast, importlib, pathlib, sys
local = {p.stem for d in ("benchmarks", "tests") for p in pathlib.Path(d).glob("*.py")}  # the repo's own helpers
for path in sys.argv[1:]:
    for node in ast.walk(ast.parse(open(path, encoding="utf-8").read())):
        names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
            [node.module] if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module else []
        for name in names:
            if name.split(".")[0] not in local:
                importlib.import_module(name)
PY
then
  echo "[student] FAILED: a benchmark's import"; tail -25 "$log"; fail=1
fi
echo "[student] benchmarks import: $(ls benchmarks/*.py | wc -l) scripts checked"
[ "$fail" = 0 ] || { echo "[student] the student install is missing something (see above)"; exit 1; }
echo "[student] every chapter, the CLI and the benchmarks run from companion[book] alone ($(( $(date +%s) - t0 )) s)"
