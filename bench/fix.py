"""What `txlint check --fix` costs on a large real application, and what it does there.

    python3 bench/fix.py                                 # the corpora and the applications below
    python3 bench/fix.py --corpus apache-airflow-core

Each corpus is copied to a scratch folder, then three runs are timed there, all without the
cache (`--no-cache`), with the Python that runs this script (txlint must be installed in it):
`check` alone, `check --show-fixes --unsafe-fixes` (every fix computed, nothing written) and
`check --fix --unsafe-fixes` (written, checked again after each pass, and the final report).
Then every changed file must compile, and the counts are printed: findings, fixed safe, fixed
unsafe, left, files changed.
"""

import argparse
import json
import py_compile
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import List, Optional

import corpora

HERE = Path(__file__).resolve().parent
# Applications with fixable findings (the corpora of bench/corpora.py are frameworks, with few),
# pinned as the corpora are: name -> (version, package directory).
APPLICATIONS = {"django-oscar": ("3.2.6", "oscar"), "misago": ("0.39.6", "misago")}
_SUMMARY = re.compile(r"txlint: (?:would fix|fixed) (\d+) findings? \((\d+) safe, (\d+) unsafe\) in (\d+) files?")


def _timed(arguments: List[str], cwd: Path) -> "tuple[float, subprocess.CompletedProcess]":
    start = time.perf_counter()
    completed = subprocess.run([sys.executable, "-m", "txlint", *arguments], cwd=cwd, capture_output=True, text=True)
    return time.perf_counter() - start, completed


def measure(corpus: corpora.Corpus) -> dict:
    with tempfile.TemporaryDirectory(prefix="txlint-fix-bench-") as scratch:
        root = Path(scratch) / corpus.root.name
        shutil.copytree(corpus.root, root)
        before = {path: path.read_bytes() for path in root.rglob("*.py")}
        check_seconds, checked = _timed(["check", "--no-cache", "--format", "json", corpus.package], root)
        findings = len(json.loads(checked.stdout)["findings"])
        show_seconds, shown = _timed(["check", "--no-cache", "--show-fixes", "--unsafe-fixes", corpus.package], root)
        fix_seconds, fixed = _timed(["check", "--no-cache", "--fix", "--unsafe-fixes", "--format", "json",
                                     corpus.package], root)
        match = _SUMMARY.search(fixed.stderr)
        if fixed.returncode not in (0, 1) or match is None:
            raise RuntimeError(f"txlint --fix failed on {corpus.name}: {fixed.stderr.strip()[-300:]}")
        changed = [path for path, data in before.items() if path.read_bytes() != data]
        for path in changed:
            py_compile.compile(str(path), doraise=True, cfile=str(Path(scratch) / "check.pyc"))
        count, safe, unsafe, _ = (int(number) for number in match.groups())
        return {"corpus": f"{corpus.name} {corpus.version}", "files": corpus.files, "lines": corpus.lines,
                "findings": findings, "fixed safe": safe, "fixed unsafe": unsafe,
                "left": len(json.loads(fixed.stdout)["findings"]), "files changed": len(changed),
                "check s": round(check_seconds, 2), "show-fixes s": round(show_seconds, 2),
                "fix s": round(fix_seconds, 2), "diff lines": len(shown.stdout.splitlines())}


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", action="append", choices=sorted({**corpora.PINNED, **APPLICATIONS}),
                        help="a corpus to measure; repeatable (default: all)")
    parser.add_argument("--cache-dir", type=Path, default=HERE / ".corpora",
                        help="where corpora are downloaded and unpacked (default: bench/.corpora)")
    args = parser.parse_args(argv)
    corpora.PINNED.update(APPLICATIONS)  # for this run only: bench/run.py keeps its own three
    rows = [measure(corpora.prepare(name, args.cache_dir)) for name in args.corpus or sorted(corpora.PINNED)]
    columns = list(rows[0])
    print("| " + " | ".join(columns) + " |")
    print("|" + "|".join("---" for _ in columns) + "|")
    for row in rows:
        print("| " + " | ".join(f"{row[column]:,}" if isinstance(row[column], int) else str(row[column])
                                for column in columns) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
