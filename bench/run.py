"""Benchmark txlint against its peers on large real code from PyPI.

Downloads pinned corpora once into a cache folder, installs the peer tools into bench/.venv, and
times every tool on every corpus in one interleaved run (round-robin per repetition, so drift on
the machine hits all tools alike). Prints a Markdown table with the median time, the ratio to the
bare libcst parse of the same corpus (same number of processes) and the peak memory of the
largest single process. Standard library only.
"""

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPOSITORY = HERE.parent
CORPORA = {
    "apache-airflow-core": ("3.3.2", "airflow"),
    "django": ("5.2.19", "django"),
    "mlflow": ("3.18.0", "mlflow"),
}
PEERS = ["libcst", "fixit==2.2.1", "flake8==7.5.0", "ruff==0.17.6"]
# semgrep pins click and certifi versions that conflict with fixit's: it gets an environment of its own.
SEMGREP = "semgrep<1.185"
SLOW_SECONDS = 60
MEASURE = (
    "import json, resource, subprocess, sys, time\n"
    "start = time.perf_counter()\n"
    "code = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE).returncode\n"
    "elapsed = time.perf_counter() - start\n"
    "peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024\n"
    "print(json.dumps({'seconds': elapsed, 'peak_mib': peak, 'code': code}))\n"
)


def _run(command, **options):
    return subprocess.run(command, check=True, **options)


def prepare_corpus(name: str, cache: Path) -> Path:
    version, package = CORPORA[name]
    target = cache / f"{name}-{version}"
    if (target / package).is_dir():
        return target / package
    downloads = cache / "downloads"
    downloads.mkdir(parents=True, exist_ok=True)
    _run([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--only-binary", ":all:",
          "-d", str(downloads), f"{name}=={version}"])
    wheel = next(downloads.glob(f"{name.replace('-', '_')}-{version}-*.whl"))
    with zipfile.ZipFile(wheel) as archive:
        archive.extractall(target)
    return target / package


def _environment(venv: Path, packages) -> Path:
    python = venv / "bin" / "python"
    if not python.exists():
        _run([sys.executable, "-m", "venv", str(venv)])
        _run([str(python), "-m", "pip", "install", "--quiet", "--upgrade", "pip"])
    for package in packages:
        result = subprocess.run([str(python), "-m", "pip", "install", "--quiet", package], capture_output=True, text=True)
        if result.returncode != 0:
            print(f"could not install {package}: {result.stderr.strip().splitlines()[-1:]}", file=sys.stderr)
    return venv / "bin"


def prepare_tools(venv: Path) -> Path:
    _environment(venv.with_name(venv.name + "-semgrep"), [SEMGREP])
    return _environment(venv, [*PEERS, str(REPOSITORY)])


def tool_commands(bin_dir: Path, corpus: Path, jobs: int, scratch: Path):
    """name -> (setup before each timing or None, command)."""
    txlint = str(bin_dir / "txlint")
    python = str(bin_dir / "python")
    edited = corpus / "__txlint_bench_edit__.py"

    def cold():
        shutil.rmtree(corpus / ".txlint_cache", ignore_errors=True)

    def warm():
        subprocess.run([txlint, "check", str(corpus), "--exit-zero", "--jobs", str(jobs), "--format", "json"],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=corpus)

    def one_edit():
        warm()
        edited.write_text(f"# edit {time.time_ns()}\n")

    check = [txlint, "check", ".", "--exit-zero", "--jobs", str(jobs), "--format", "json"]
    return {
        "libcst parse": (None, [python, str(HERE / "parse_floor.py"), str(corpus), str(jobs)]),
        "txlint cold": (cold, check + ["--no-cache"]),
        "txlint warm": (warm, check),
        "txlint 1 file edited": (one_edit, check),
        "flake8 --select TXL": (None, [str(bin_dir / "flake8"), "--select", "TXL", "-j", str(jobs), "--exit-zero", "."]),
        "flake8": (None, [str(bin_dir / "flake8"), "-j", str(jobs), "--exit-zero", "."]),
        "ruff": (None, [str(bin_dir / "ruff"), "check", "--no-cache", "--exit-zero", "--quiet", "."]),
        "fixit": (None, [str(bin_dir / "fixit"), "lint", "."]),
        "semgrep (1 rule)": (None, [str(bin_dir.parent.with_name(bin_dir.parent.name + "-semgrep") / "bin" / "semgrep"), "--config", str(HERE / "semgrep-rule.yml"),
                                    "--metrics=off", "--jobs", str(jobs), "--quiet", "."]),
    }


def measure(command, cwd: Path) -> dict:
    completed = subprocess.run([sys.executable, "-c", MEASURE, *command], cwd=cwd, capture_output=True, text=True)
    return json.loads(completed.stdout)


def corpus_size(corpus: Path):
    files = [Path(d) / f for d, _, names in os.walk(corpus) for f in names if f.endswith(".py")]
    lines = sum(path.read_bytes().count(b"\n") for path in files)
    return len(files), lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", action="append", choices=sorted(CORPORA), help="repeatable; default: all")
    parser.add_argument("--tools", help="comma-separated tool names (default: all)")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="one repetition")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--cache-dir", type=Path, default=Path.home() / ".cache" / "txlint-bench",
                        help="where corpora are unpacked; outside this repository, whose .gitignore and "
                             "pyproject.toml would otherwise apply to them")
    parser.add_argument("--results", type=Path, default=HERE / "results.json")
    args = parser.parse_args()
    repeat = 1 if args.quick else args.repeat
    bin_dir = prepare_tools(HERE / ".venv")
    wanted = set(args.tools.split(",")) if args.tools else None
    rows = []
    with tempfile.TemporaryDirectory() as scratch:
        for name in args.corpus or sorted(CORPORA):
            corpus = prepare_corpus(name, args.cache_dir)
            files, lines = corpus_size(corpus)
            tools = {tool: spec for tool, spec in tool_commands(bin_dir, corpus, args.jobs, Path(scratch)).items()
                     if wanted is None or tool in wanted}
            samples = {tool: [] for tool in tools}
            for repetition in range(repeat):
                for tool, (setup, command) in tools.items():
                    if not Path(command[0]).exists():
                        continue
                    if repetition and samples[tool] and samples[tool][0]["seconds"] > SLOW_SECONDS:
                        continue  # one sample of a tool this slow is enough to place it
                    if setup is not None:
                        setup()
                    samples[tool].append(measure(command, corpus))
            (corpus / "__txlint_bench_edit__.py").unlink(missing_ok=True)
            shutil.rmtree(corpus / ".txlint_cache", ignore_errors=True)
            floor = statistics.median(s["seconds"] for s in samples.get("libcst parse", [])) if samples.get(
                "libcst parse") else None
            for tool, runs in samples.items():
                if not runs:
                    rows.append({"corpus": name, "files": files, "lines": lines, "tool": tool, "seconds": None})
                    continue
                seconds = statistics.median(run["seconds"] for run in runs)
                rows.append({"corpus": name, "files": files, "lines": lines, "tool": tool, "seconds": seconds,
                             "ratio": seconds / floor if floor else None,
                             "peak_mib": max(run["peak_mib"] for run in runs), "runs": len(runs)})
    args.results.write_text(json.dumps(rows, indent=2) + "\n")
    print("| corpus | files | lines | tool | median s | × libcst parse | peak MiB |")
    print("|---|---|---|---|---|---|---|")
    for row in rows:
        if row["seconds"] is None:
            print(f"| {row['corpus']} | {row['files']} | {row['lines']} | {row['tool']} | n/a | n/a | n/a |")
            continue
        ratio = f"{row['ratio']:.2f}" if row.get("ratio") is not None else "n/a"
        print(f"| {row['corpus']} | {row['files']} | {row['lines']} | {row['tool']} | {row['seconds']:.2f} | "
              f"{ratio} | {row['peak_mib']:.0f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
