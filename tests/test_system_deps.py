"""The one list of system packages (``scripts/system-deps.txt``) stays true.

Every external command that the scripts, tests, Sphinx extensions and the companion run must either be provided by
a package of the list or be a standard POSIX/shell tool, the Python interpreter, or a tool that the pinned Python
lock installs into the virtual environment. The scanner reads

* Python files (``scripts/``, ``tests/``, ``_ext/``, ``companion/scoresde/``, ``benchmarks/``): ``subprocess``
  calls whose command is a list literal starting with a string, ``shutil.which("name")``, and calls of local
  helpers that pass their argument on to ``shutil.which`` (``_find("chromium", ...)``);
* shell scripts (``scripts/*.sh``, ``.ci/run``): the first word of every simple command, the command after a
  wrapper (``env``, ``nice``, ``sudo``, ``exec``, or a function of the script that runs ``"$@"``), heredoc bodies
  skipped.

``scripts/system-deps.sh`` is tested too: it names the missing command and the exact ``apt-get`` line.
"""

from __future__ import annotations

import ast
import os
import re
import subprocess
import warnings
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LIST = ROOT / "scripts" / "system-deps.txt"

#: POSIX utilities, shell builtins and keywords: present on any machine that runs bash.
STANDARD = frozenset("""
    [ [[ ]] alias awk basename bash break case cat cd chmod command continue cp cut date declare dirname do done du
    echo elif else env esac eval exec exit export false fi find for function getopts grep head id if in kill local
    ln ls mkdir mktemp mv nice nproc paste printf pwd read readlink return rm rmdir sed set sh shift shopt sleep sort
    source tail tar tee test then time timeout touch tr trap true type uname uniq unset until wait wc which while
    xargs sha256sum cmp diff gzip su sudo apt-get dpkg git
""".split())
#: The interpreter and what the pinned lock (requirements.txt) installs into .venv/bin.
PYTHON_TOOLS = frozenset("""
    python python3 python3.11 pip pip3 jupyter jupyter-book jupyter-nbconvert ruff mypy pytest torchrun
""".split())
WRAPPERS = frozenset({"env", "nice", "sudo", "exec", "command", "time", "timeout", "xargs"})


def read_list(path: Path = LIST) -> dict[str, list[str]]:
    """package -> the commands and ``font:`` families it provides."""
    packages: dict[str, list[str]] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        cols = [c.strip() for c in line.split("|")]
        assert len(cols) == 4, f"{path.name}: four columns separated by '|' expected: {line!r}"
        packages[cols[0]] = [item.strip() for item in cols[1].split(",") if item.strip()]
    return packages


# --- Python ------------------------------------------------------------------------------------------------------

_SUBPROCESS = {"run", "Popen", "call", "check_call", "check_output"}


def _dotted(node: ast.AST) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return f"{_dotted(node.value)}.{node.attr}"
    return ""


def python_commands(source: str) -> set[str]:
    """External commands that a Python source runs or looks up."""
    with warnings.catch_warnings():              # a scanned file's own invalid escapes are not ours to report
        warnings.simplefilter("ignore")
        tree = ast.parse(source)
    wrappers = set()  # local functions that pass a parameter to shutil.which
    for fn in ast.walk(tree):
        if isinstance(fn, ast.FunctionDef):
            for call in ast.walk(fn):
                if isinstance(call, ast.Call) and _dotted(call.func) == "shutil.which" and call.args \
                        and isinstance(call.args[0], ast.Name):
                    wrappers.add(fn.name)
    found: set[str] = set()
    for call in ast.walk(tree):
        if not isinstance(call, ast.Call):
            continue
        name = _dotted(call.func)
        consts = [a.value for a in call.args if isinstance(a, ast.Constant) and isinstance(a.value, str)]
        if name == "shutil.which" or name in wrappers:
            found.update(consts)
        elif name.split(".")[-1] in _SUBPROCESS and name.startswith(("subprocess", "sp")) and call.args:
            first = call.args[0]
            if isinstance(first, (ast.List, ast.Tuple)) and first.elts and isinstance(first.elts[0], ast.Constant) \
                    and isinstance(first.elts[0].value, str):
                found.add(first.elts[0].value)
            elif isinstance(first, ast.Constant) and isinstance(first.value, str):
                found.add(first.value.split()[0])
    return found


# --- shell -------------------------------------------------------------------------------------------------------

_HEREDOC = re.compile(r"<<-?\s*['\"]?(\w+)['\"]?")
_SPLIT = re.compile(r"\$\(|\(|\)|;|&&|\|\||\||\{|\}|`|\bthen\b|\bdo\b|\belse\b|\bif\b|\belif\b|\bwhile\b|\buntil\b|!")
_WORD = re.compile(r"[A-Za-z][\w.+-]*$")


def _logical_lines(text: str) -> list[str]:
    lines, skip_until, buf = [], None, ""
    for raw in text.splitlines():
        if skip_until is not None:
            if raw.strip() == skip_until:
                skip_until = None
            continue
        line = re.sub(r"(^|\s)#.*$", "", raw) if not raw.lstrip().startswith("#!") else ""
        m = _HEREDOC.search(line)
        if m:
            skip_until = m.group(1)
        if line.endswith("\\"):
            buf += line[:-1] + " "
            continue
        lines.append(buf + line)
        buf = ""
    return lines


def _strip_quotes(line: str) -> str:
    """Quoted strings become one placeholder word, so their words are never taken for commands; arithmetic
    ``$(( … ))`` goes (its names are variables)."""
    line = re.sub(r"\$\(\((?:[^()]|\([^()]*\))*\)\)", " %ARITH ", line)
    def keep_substitutions(m: re.Match) -> str:   # "… $(cmd …) …" still runs cmd
        inner = re.findall(r"\$\(([^()]*)\)", m.group(0)) if m.group(0).startswith('"') else []
        return " %QUOTED " + "".join(f" ; {c} ; " for c in inner)
    return re.sub(r"'[^']*'|\"(?:[^\"\\]|\\.)*\"", keep_substitutions, line)


def shell_commands(text: str) -> set[str]:
    """External commands that a bash script runs (the first word of each simple command)."""
    lines = _logical_lines(text)
    functions, runners = set(), set()
    for line in lines:
        m = re.match(r"\s*(?:function\s+)?([\w-]+)\s*\(\)\s*\{(.*)", line)
        if m:
            functions.add(m.group(1))
            if re.search(r"(^|[;{]\s*)\"\$@\"", m.group(2)):
                runners.add(m.group(1))
    found: set[str] = set()
    for line in lines:
        line = re.sub(r"^\s*(?:function\s+)?[\w-]+\s*\(\)\s*", "", line)
        for piece in _SPLIT.split(_strip_quotes(line)):
            words = piece.split()
            while words:
                word = words.pop(0)
                if "=" in word and _WORD.match(word.split("=")[0]) or word.startswith("-") or word.isdigit():
                    continue                      # VAR=value, or an option of a wrapper and its number
                if not _WORD.match(word):
                    break                         # $VAR, "$PY", a path: not a command name
                if word in functions and word not in runners:
                    break
                if word not in functions:
                    found.add(word)
                if word not in WRAPPERS and word not in runners:
                    break
    return found


# --- the scan ----------------------------------------------------------------------------------------------------

def _sources() -> tuple[list[Path], list[Path]]:
    py = [p for d in ("scripts", "tests", "_ext", "companion/scoresde", "benchmarks")
          for p in (ROOT / d).rglob("*.py") if "node_modules" not in p.parts]
    sh = sorted((ROOT / "scripts").glob("*.sh")) + [ROOT / ".ci" / "run"]
    return py, sh


def unlisted(commands: set[str], packages: dict[str, list[str]]) -> set[str]:
    provided = {item for items in packages.values() for item in items}
    return {c for c in commands if c not in provided and c not in STANDARD and c not in PYTHON_TOOLS}


def test_every_external_command_is_listed_or_standard():
    packages = read_list()
    py, sh = _sources()
    used: dict[str, set[str]] = {}
    for path in py:
        for cmd in python_commands(path.read_text(encoding="utf-8")):
            used.setdefault(cmd, set()).add(str(path.relative_to(ROOT)))
    for path in sh:
        for cmd in shell_commands(path.read_text(encoding="utf-8")):
            used.setdefault(cmd, set()).add(str(path.relative_to(ROOT)))
    bad = {c: sorted(used[c]) for c in unlisted(set(used), packages)}
    assert not bad, f"external commands neither in scripts/system-deps.txt nor standard: {bad}"
    # the scan sees what the project really runs (it would be blind if these were missing)
    for cmd in ("chromium", "pdftotext", "pdftoppm", "pdffonts", "fc-list", "jupyter-book", "apt-get"):
        assert cmd in used, f"the scanner no longer finds {cmd!r}"


def test_scanner_catches_an_unlisted_command():
    """Mutations: a new tool in a Python test or a shell script fails the check."""
    packages = read_list()
    assert unlisted(python_commands('import subprocess\nsubprocess.run(["convert", "a.png", "b.jpg"])'),
                    packages) == {"convert"}
    assert unlisted(python_commands('import shutil\nshutil.which("xvfb-run")'), packages) == {"xvfb-run"}
    assert unlisted(python_commands('import shutil\ndef f(*n):\n    return [shutil.which(x) for x in n]\n'
                                    'f("tesseract")'), packages) == {"tesseract"}
    script = ('#!/usr/bin/env bash\nt() { local s=1; "$@"; }\nfoo() { echo "$@"; }\n'
              'cat > x <<EOF\nmagick this is text\nEOF\n'
              'if ! command -v qpdf >/dev/null; then echo "install ghostscript $(mutool -v)"; fi\n'
              't env A=1 latexmk -pdf x.tex\nfoo inkscape\nX=1 nice -n 5 optipng a.png | grep x\n')
    assert unlisted(shell_commands(script), packages) == {"qpdf", "latexmk", "optipng", "mutool"}
    # and without poppler-utils in the list, the real tree fails
    without = {k: v for k, v in packages.items() if k != "poppler-utils"}
    py, _ = _sources()
    used = set().union(*(python_commands(p.read_text(encoding="utf-8")) for p in py))
    assert {"pdftotext", "pdftoppm"} <= unlisted(used, without)


def _run_deps(tmp_path: Path, rows: str, *args: str) -> subprocess.CompletedProcess:
    lst = tmp_path / "deps.txt"
    lst.write_text(rows, encoding="utf-8")
    env = dict(os.environ, SCORESDE_SYSTEM_DEPS=str(lst))
    return subprocess.run(["bash", str(ROOT / "scripts" / "system-deps.sh"), *args], capture_output=True,
                          text=True, env=env, timeout=60)


def test_system_deps_script_names_what_is_missing(tmp_path):
    rows = ("# comment | with | bars | \"quotes\"\n"
            "coreutils | cat, ls | all | present\n"
            "no-such-pkg | no-such-command-xyz, cat | all | absent\n"
            "fonts-none | font:No Such Font Family | editions | absent font\n")
    res = _run_deps(tmp_path, rows, "--check")
    assert res.returncode == 1
    assert "missing: no-such-command-xyz" in res.stderr and "apt-get install -y no-such-pkg" in res.stderr
    assert "fonts-none" not in res.stderr          # another group's package is not asked for
    res = _run_deps(tmp_path, rows, "--check", "editions")
    assert res.returncode == 1 and "font:No Such Font Family" in res.stderr and "fonts-none" in res.stderr
    res = _run_deps(tmp_path, "coreutils | cat, ls | all | present\n", "--check")
    assert res.returncode == 0 and "all present" in res.stdout
    res = _run_deps(tmp_path, rows, "--check", "nonsense")
    assert res.returncode == 2 and "unknown group 'nonsense'" in res.stderr


@pytest.mark.parametrize("script", ["test.sh", "build-editions.sh"])
def test_steps_install_nothing_on_their_own(script):
    """One list, one installer: no other script calls apt-get."""
    text = (ROOT / "scripts" / script).read_text(encoding="utf-8")
    assert "system-deps.sh" in text
    assert "apt-get" not in text
