"""Benchmark txlint against its peers on large real code from PyPI.

Downloads pinned corpora once into a cache folder, installs the tools into virtual environments
under bench/ on first use, and times every tool on every corpus in one interleaved run: each
repetition runs every tool once, round-robin, so drift on the machine hits all tools alike. Prints
a Markdown table with the median time, the ratios to the bare libcst parse and to Python's own
ast.parse of the same corpus (same number of processes) and the peak memory of the largest single
process, checks txlint's targets, and writes the same to a JSON file. Standard library only.
"""

import argparse
import dataclasses
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Dict, List, Optional

import corpora
import toolchain
from report import print_report

HERE = Path(__file__).resolve().parent
TXLINT_ROWS = ["txlint cold", "txlint warm", "txlint 1 comment edited", "txlint 1 function added",
               "txlint 1 staged file"]
FLOORS = ["ast parse", "libcst parse"]  # always run: every ratio needs them
TOOL_NAMES = [*FLOORS, *TXLINT_ROWS, "flake8", "flake8 --select TXL", "ruff", "fixit", "semgrep (1 rule)"]
VERSIONS = [(".venv-txlint", "txlint"), (".venv-txlint", "libcst"), (".venv", "fixit"), (".venv", "flake8"),
            (".venv", "ruff"), (".venv-semgrep", "semgrep")]


def parse_arguments(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="bench/run.py", description=__doc__.split("\n\n")[0],
        epilog="tools: " + ", ".join(TOOL_NAMES)
        + " (also accepted: txlint = its five rows, flake8-txl, semgrep, libcst, ast)")
    parser.add_argument("--corpus", action="append", choices=sorted(corpora.PINNED),
                        help="a corpus to measure; repeatable (default: all)")
    parser.add_argument("--tools", help="comma-separated tool names (default: all); the two parse floors always run")
    parser.add_argument("--repeat", type=int, default=3, help="repetitions; the median is reported (default: 3)")
    parser.add_argument("--quick", action="store_true", help="one repetition")
    parser.add_argument("--jobs", type=int, default=2,
                        help="processes for txlint, the parse floors, flake8 and semgrep (default: 2)")
    parser.add_argument("--slow-seconds", type=float, default=60.0,
                        help="a peer whose first run takes longer than this is timed only once (default: 60)")
    parser.add_argument("--timeout", type=float, default=900.0, help="seconds before one run is killed (default: 900)")
    parser.add_argument("--cache-dir", type=Path, default=HERE / ".corpora",
                        help="where corpora are downloaded and unpacked (default: bench/.corpora)")
    parser.add_argument("--results", type=Path, default=HERE / "results.json",
                        help="JSON results file (default: bench/results.json)")
    return parser.parse_args(argv)


def selected_tools(spec: Optional[str]) -> List[str]:
    if not spec:
        return TOOL_NAMES
    aliases = {"txlint": TXLINT_ROWS, "flake8-txl": ["flake8 --select TXL"],
               "semgrep": ["semgrep (1 rule)"], "libcst": ["libcst parse"], "ast": ["ast parse"]}
    wanted = set(FLOORS)
    for item in (part.strip() for part in spec.split(",") if part.strip()):
        names = aliases.get(item, [item])
        unknown = [name for name in names if name not in TOOL_NAMES]
        if unknown:
            sys.exit(f"bench/run.py: unknown tool {item!r}; known: {', '.join(TOOL_NAMES)}")
        wanted.update(names)
    return [name for name in TOOL_NAMES if name in wanted]


def ast_floor(tools: List[toolchain.Tool]) -> toolchain.Tool:
    """The `ast parse` row: the libcst floor's command (same Python, same pool) told to use ast.parse."""
    libcst_floor = next(tool for tool in tools if tool.name == "libcst parse")
    return dataclasses.replace(libcst_floor, name="ast parse", command=[*libcst_floor.command, "ast"])


def measure_once(tool: toolchain.Tool, corpus: corpora.Corpus, timeout: float, scratch: Path) -> dict:
    """One timed run through measure.py; the tool's setup and teardown are not timed."""
    if not corpus.source.is_dir():
        return {"seconds": 0.0, "peak_mib": 0.0, "code": None, "timed_out": False,
                "error": f"{corpus.source} disappeared during the run"}
    if tool.setup:
        tool.setup()
    stdout_file, stderr_file = scratch / "stdout", scratch / "stderr"
    try:
        completed = subprocess.run(
            [sys.executable, str(HERE / "measure.py"), str(stdout_file), str(stderr_file), str(timeout), "--",
             *tool.command],
            cwd=corpus.root, capture_output=True, text=True, env={**os.environ, **tool.env})
    finally:
        if tool.teardown:
            tool.teardown()
    sample = json.loads(completed.stdout)
    stdout = stdout_file.read_text(encoding="utf-8", errors="replace")
    stderr = stderr_file.read_text(encoding="utf-8", errors="replace")
    if sample["timed_out"]:
        sample["error"] = f"timed out after {timeout:.0f} s"
    elif sample["code"] not in tool.ok_codes:
        sample["error"] = f"exit {sample['code']}: {toolchain._last_line(stderr)}"
    else:
        try:
            sample.update(tool.read(stdout))
        except (ValueError, KeyError, TypeError) as error:
            sample["error"] = f"unreadable output ({type(error).__name__}): {toolchain._last_line(stderr or stdout)}"
        if "Traceback (most recent call last)" in stderr:
            sample["warning"] = f"traceback on stderr: {toolchain._last_line(stderr)}"
        note = tool.code_note(sample["code"])
        if note:
            sample["warning"] = note
    return sample


def bench_corpus(corpus: corpora.Corpus, tools: List[toolchain.Tool], args, repeat: int,
                 scratch: Path) -> Dict[str, list]:
    samples: Dict[str, list] = {tool.name: [] for tool in tools}
    for repetition in range(repeat):
        for tool in tools:  # round-robin: every tool once per repetition
            runs = samples[tool.name]
            if tool.unavailable or (runs and "error" in runs[0]):
                continue
            if repetition and tool.slow_once and runs and runs[0]["seconds"] > args.slow_seconds:
                continue  # one run of a tool this slow is enough to place it
            sample = measure_once(tool, corpus, args.timeout, scratch)
            runs.append(sample)
            status = sample.get("error") or f"{sample['seconds']:.2f} s, {sample['peak_mib']:.0f} MiB"
            print(f"  [{corpus.name} {repetition + 1}/{repeat}] {tool.name}: {status}", file=sys.stderr, flush=True)
    return samples


def summarise(corpus: corpora.Corpus, tools: List[toolchain.Tool], samples: Dict[str, list]) -> List[dict]:
    def median_of(name: str) -> Optional[float]:
        good = [run["seconds"] for run in samples.get(name, []) if "error" not in run]
        return statistics.median(good) if good else None

    floor, ast_floor = median_of("libcst parse"), median_of("ast parse")
    rows = []
    for tool in tools:
        runs = samples[tool.name]
        row = {"corpus": corpus.name, "version": corpus.version, "files": corpus.files, "lines": corpus.lines,
               "tool": tool.name, "command": " ".join(Path(tool.command[0]).name if i == 0 else part
                                                      for i, part in enumerate(tool.command)),
               "runs": len(runs), "samples": [round(run["seconds"], 3) for run in runs if "error" not in run]}
        errors = [run["error"] for run in runs if "error" in run]
        if tool.unavailable or errors or not runs:
            row["status"] = tool.unavailable or (errors[0] if errors else "not run")
            rows.append(row)
            continue
        seconds = median_of(tool.name)
        last = runs[-1]
        row.update(status="ok", seconds=seconds, ratio=seconds / floor if floor else None,
                   ratio_ast=seconds / ast_floor if ast_floor else None,
                   peak_mib=max(run["peak_mib"] for run in runs),
                   findings=last.get("findings"), files_seen=last.get("files_seen"))
        if any("warning" in run for run in runs):
            row["warning"] = next(run["warning"] for run in runs if "warning" in run)
        rows.append(row)
    return rows


def main(argv: Optional[List[str]] = None) -> int:
    args = parse_arguments(argv)
    repeat = 1 if args.quick else max(1, args.repeat)
    names = selected_tools(args.tools)
    started = time.perf_counter()
    setup_problems = {}
    for venv in toolchain.ENVIRONMENTS:
        problem = toolchain.prepare_environment(venv)
        if problem:
            print(f"bench/{venv}: {problem}", file=sys.stderr)
            setup_problems[venv] = problem
    versions = {name: toolchain.version_of(venv, name) for venv, name in VERSIONS}
    rows: List[dict] = []
    with tempfile.TemporaryDirectory(prefix="txlint-bench-") as scratch:
        for name in args.corpus or list(corpora.PINNED):
            corpus = corpora.prepare(name, args.cache_dir)
            print(f"{corpus.name} {corpus.version}: {corpus.files} files, {corpus.lines} lines", file=sys.stderr)
            tools, state = toolchain.tools_for(corpus, args.jobs, setup_problems)
            tools.insert(0, ast_floor(tools))
            tools = [tool for tool in tools if tool.name in names]
            try:
                samples = bench_corpus(corpus, tools, args, repeat, Path(scratch))
            finally:
                state.restore()
                state.clear()
            rows.extend(summarise(corpus, tools, samples))
    meta = {"date": time.strftime("%Y-%m-%d %H:%M:%S %Z"), "python": platform.python_version(),
            "machine": f"{platform.machine()}, {os.cpu_count()} cores", "jobs": args.jobs, "repeat": repeat,
            "versions": versions, "wall_seconds": round(time.perf_counter() - started, 1)}
    args.results.write_text(json.dumps({"meta": meta, "rows": rows}, indent=2) + "\n", encoding="utf-8")
    print_report(meta, rows)
    print(f"\nresults: {args.results}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
