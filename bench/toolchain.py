"""The tools under test: their environments (created on first use) and the commands that time them.

Three virtual environments, all from PyPI:
- bench/.venv          the peers: Fixit 2 (with libcst), flake8 and ruff — and no txlint, because
                       flake8 runs every installed plugin whatever `--select` says, so plain flake8
                       must live where the txlint plugin is not installed;
- bench/.venv-txlint   txlint installed editable from this repository (so every run measures the
                       working tree), libcst for the parse floor, and flake8 for the plugin;
- bench/.venv-semgrep  semgrep, whose pinned click and certifi versions conflict with Fixit's.
"""

import hashlib
import json
import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Dict, List, Optional

from corpora import Corpus, pick_file_to_edit

HERE = Path(__file__).resolve().parent
REPOSITORY = HERE.parent
FLAKE8 = "flake8==7.5.0"
LIBCST = "libcst==1.9.0"  # the parse floor every txlint time is compared with
ENVIRONMENTS = {
    ".venv": ["fixit==2.2.1", FLAKE8, "ruff==0.17.6", LIBCST],
    ".venv-txlint": ["-e", str(REPOSITORY), FLAKE8, LIBCST],
    ".venv-semgrep": ["semgrep==1.182.0"],
}
# semgrep asks the network for a newer version on every run unless told not to: without network
# that costs a ~100 s time-out. Metrics off too. The corpora sit inside this git repository and
# are git-ignored, so semgrep (which lists files with git) must be told to ignore .gitignore.
SEMGREP_ENV = {"SEMGREP_ENABLE_VERSION_CHECK": "0", "SEMGREP_SEND_METRICS": "off"}


def _stamp(packages: List[str]) -> str:
    text = json.dumps(packages)
    if str(REPOSITORY) in packages:  # reinstall txlint when its dependencies change
        text += (REPOSITORY / "pyproject.toml").read_text(encoding="utf-8")
    return hashlib.sha256(text.encode()).hexdigest()


def prepare_environment(name: str) -> Optional[str]:
    """Create or update one environment; None when ready, else why not."""
    venv = HERE / name
    packages = ENVIRONMENTS[name]
    python = venv / "bin" / "python"
    stamp_file = venv / ".bench-stamp"
    if stamp_file.exists() and stamp_file.read_text() == _stamp(packages) and python.exists():
        return _compile_txlint(python) if name == ".venv-txlint" else None
    print(f"installing {' '.join(packages)} into bench/{name}", file=sys.stderr)
    if not python.exists():
        created = subprocess.run([sys.executable, "-m", "venv", str(venv)], capture_output=True, text=True)
        if created.returncode != 0:
            return f"venv failed: {_last_line(created.stderr)}"
        subprocess.run([str(python), "-m", "pip", "install", "--quiet", "--upgrade", "pip"], capture_output=True)
    if name == ".venv":  # a txlint left here by an older bench would put its plugin into plain flake8
        subprocess.run([str(python), "-m", "pip", "uninstall", "--quiet", "--yes", "txlint"], capture_output=True)
    installed = subprocess.run([str(python), "-m", "pip", "install", "--quiet", *packages],
                               capture_output=True, text=True)
    if installed.returncode != 0:
        return f"install failed: {_last_line(installed.stderr)}"
    stamp_file.write_text(_stamp(packages))
    return _compile_txlint(python) if name == ".venv-txlint" else None


def _compile_txlint(python: Path) -> Optional[str]:
    """Byte-compile the checkout's txlint, as pip does for a regular install: an editable install
    has no .pyc files, and with PYTHONDONTWRITEBYTECODE set every run would compile txlint again
    (about 0.1 s, a third of a warm run). Only changed files are compiled again."""
    compiled = subprocess.run([str(python), "-m", "compileall", "-q", str(REPOSITORY / "txlint"),
                               str(REPOSITORY / "rules")], capture_output=True, text=True)
    return None if compiled.returncode == 0 else f"compileall failed: {_last_line(compiled.stdout + compiled.stderr)}"


def _last_line(text: str) -> str:
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return lines[-1][:160] if lines else ""


def version_of(venv: str, distribution: str) -> Optional[str]:
    python = HERE / venv / "bin" / "python"
    if not python.exists():
        return None
    result = subprocess.run([str(python), "-c", f"import importlib.metadata as m; print(m.version({distribution!r}))"],
                            capture_output=True, text=True)
    return result.stdout.strip() or None


@dataclass
class Tool:
    name: str
    command: List[str]
    unavailable: Optional[str] = None  # why it cannot run, shown in the table instead of a time
    setup: Optional[Callable[[], None]] = None  # before each timed run, untimed
    teardown: Optional[Callable[[], None]] = None  # after each timed run, untimed
    read: Callable[[str], dict] = lambda stdout: {}  # findings (and files seen) from its output
    ok_codes: tuple = (0,)
    code_note: Callable[[int], Optional[str]] = lambda code: None  # a warning for an accepted exit code
    env: Dict[str, str] = field(default_factory=dict)
    slow_once: bool = True  # a tool slower than --slow-seconds is timed once


def _lines(pattern: str) -> Callable[[str], dict]:
    compiled = re.compile(pattern, re.MULTILINE)
    return lambda stdout: {"findings": len(compiled.findall(stdout))}


def _txlint_json(stdout: str) -> dict:
    summary = json.loads(stdout)["summary"]
    return {"findings": summary["findings"], "files_seen": summary["files"]}


def _semgrep_json(stdout: str) -> dict:
    report = json.loads(stdout)
    return {"findings": len(report["results"]), "files_seen": len(report["paths"]["scanned"])}


def _floor_json(stdout: str) -> dict:
    report = json.loads(stdout)
    return {"files_seen": report["files"], "parse_errors": report["parse_errors"]}


class TxlintState:
    """The .txlint_cache/ of one corpus and the file that the "edited" rows change."""

    def __init__(self, corpus: Corpus, warm_command: List[str]):
        self.cache = corpus.root / ".txlint_cache"
        self.warm_command = warm_command
        self.corpus = corpus
        self.edited: Optional[Path] = None
        self.original: Optional[bytes] = None

    def clear(self) -> None:
        shutil.rmtree(self.cache, ignore_errors=True)

    def prime(self) -> None:
        subprocess.run(self.warm_command, cwd=self.corpus.root, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def edit_comment(self) -> None:
        """A comment appended: nothing another file reads of this one changes, so txlint
        re-checks this file alone."""
        self._edit("\n# edited by bench/run.py ({})\n")

    def edit_code(self) -> None:
        """A function appended: the file's facts change, so txlint parses it again and re-checks
        it with the files that read the new name (none: nothing calls it yet)."""
        self._edit("\n\ndef _edited_by_bench():\n    return print('edited by bench/run.py ({})')\n")

    def _edit(self, addition: str) -> None:
        """Append `addition`, its {} filled with a number never used before: a tree seen before
        (an earlier repetition's, or an earlier benchmark's) would be answered from the run cache."""
        self.prime()
        self.edited = pick_file_to_edit(self.corpus)
        self.original = self.edited.read_bytes()
        self.edited.write_bytes(self.original + addition.format(time.time_ns()).encode())

    def restore(self) -> None:
        if self.edited is not None and self.original is not None:
            self.edited.write_bytes(self.original)
        self.edited = self.original = None


def _txlint_flags_missing(txlint: Path) -> List[str]:
    if not txlint.exists():
        return ["txlint"]
    result = subprocess.run([str(txlint), "check", "--help"], capture_output=True, text=True)
    return [flag for flag in ("--jobs", "--no-cache", "--format") if flag not in result.stdout]


def _flake8_has_txlint(flake8: Path) -> bool:
    if not flake8.exists():
        return False
    return "txlint" in subprocess.run([str(flake8), "--version"], capture_output=True, text=True).stdout


def tools_for(corpus: Corpus, jobs: int, setup_problems: Dict[str, str]) -> "tuple[List[Tool], TxlintState]":
    """Every tool, in the order each repetition runs them."""
    peers, own, semgrep_bin = HERE / ".venv" / "bin", HERE / ".venv-txlint" / "bin", HERE / ".venv-semgrep" / "bin"
    target, j = corpus.package, str(jobs)
    check = [str(own / "txlint"), "check", target, "--exit-zero", "--jobs", j, "--format", "json"]
    state = TxlintState(corpus, check)
    missing = _txlint_flags_missing(own / "txlint")
    txlint_problem = setup_problems.get(".venv-txlint") or (
        f"n/a (flag missing: {', '.join(missing)})" if missing and missing != ["txlint"] else
        ("n/a (txlint not installed)" if missing else None))
    if txlint_problem is None and "--no-cache" in missing:
        txlint_problem = "n/a (flag missing: --no-cache)"
    plugin_problem = txlint_problem or (None if _flake8_has_txlint(own / "flake8") else "n/a (flake8 plugin missing)")
    tools = [
        Tool("libcst parse", [str(own / "python"), str(HERE / "parse_floor.py"), target, j],
             setup_problems.get(".venv-txlint"), read=_floor_json, slow_once=False),
        Tool("txlint cold", check + ["--no-cache"], txlint_problem, read=_txlint_json, slow_once=False),
        Tool("txlint warm", check, txlint_problem, setup=state.prime, read=_txlint_json, slow_once=False),
        Tool("txlint 1 comment edited", check, txlint_problem, setup=state.edit_comment, teardown=state.restore,
             read=_txlint_json, slow_once=False),
        Tool("txlint 1 function added", check, txlint_problem, setup=state.edit_code, teardown=state.restore,
             read=_txlint_json, slow_once=False),
        # What the pre-commit hook runs after that edit: the edited file alone named, the whole
        # project analysed (the other files' facts from the cache), only the file reported.
        Tool("txlint 1 staged file", [str(own / "txlint"), "check", "--force-exclude", "--exit-zero", "--jobs", j,
                                      "--format", "json", pick_file_to_edit(corpus).relative_to(corpus.root).as_posix()],
             txlint_problem, setup=state.edit_code, teardown=state.restore, read=_txlint_json, slow_once=False),
        Tool("flake8", [str(peers / "flake8"), "-j", j, "--exit-zero", target], setup_problems.get(".venv"),
             read=_lines(r"^\S+:\d+:\d+: ")),
        # flake8 runs pycodestyle and pyflakes here too (it runs every plugin whatever --select says):
        # this row minus the plain flake8 row is what the plugin adds. Each run starts from an empty
        # .txlint_cache/, as flake8 itself keeps no cache.
        Tool("flake8 --select TXL", [str(own / "flake8"), "-j", j, "--exit-zero", "--select", "TXL", target],
             plugin_problem, setup=state.clear, read=_lines(r"^\S+:\d+:\d+: TXL")),
        Tool("ruff", [str(peers / "ruff"), "check", "--no-cache", "--exit-zero", "--output-format", "json", target],
             setup_problems.get(".venv"), read=lambda stdout: {"findings": len(json.loads(stdout))},
             env={"RAYON_NUM_THREADS": j}),
        Tool("fixit", [str(peers / "fixit"), "lint", target], setup_problems.get(".venv"),
             read=_lines(r"^\S+@\d+:\d+ "), ok_codes=(0, 1, 2, 3),  # bit 1: violations, bit 2: a file failed
             code_note=lambda code: "some files failed inside Fixit (exit bit 2)" if code & 2 else None),
        Tool("semgrep (1 rule)", [str(semgrep_bin / "semgrep"), "scan", "--config", str(HERE / "semgrep-rule.yml"),
                                  "--metrics=off", "--disable-version-check", "--no-git-ignore", "--jobs", j,
                                  "--json", target],
             setup_problems.get(".venv-semgrep"), read=_semgrep_json, env=SEMGREP_ENV),
    ]
    return tools, state
