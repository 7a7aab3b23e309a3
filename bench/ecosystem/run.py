"""Ecosystem check: run txlint on real applications from PyPI and score it against human judgments.

Downloads each pinned application once, runs txlint on its package directories, and prints per
application how many findings were judged right or wrong (precision) and how many hand-found
hazards txlint reports (recall), then what changed since the committed snapshot of the last run.
Standard library only.
"""

import argparse
import json
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Dict, List, NamedTuple, Optional, Tuple

HERE = Path(__file__).resolve().parent
BENCH = HERE.parent
sys.path.insert(0, str(BENCH))
import corpora  # noqa: E402  (bench/corpora.py: the download and unpack shared with bench/run.py)


class App(NamedTuple):
    version: str
    packages: Tuple[str, ...]  # the package directories inside the release that txlint checks
    framework: str


# Each version was checked to exist with `pip index versions NAME` on 2026-12-02.
APPS: Dict[str, App] = {
    "wagtail": App("8.0.1", ("wagtail",), "Django"),
    "pretix": App("2026.8.0", ("pretix",), "Django"),
    "weblate": App("5.14.3", ("weblate",), "Django"),
    "pretalx": App("2025.2.2", ("pretalx",), "Django"),
    "django-cms": App("5.1.3", ("cms", "menus"), "Django"),
    "nautobot": App("3.2.7", ("nautobot",), "Django"),
    "misago": App("0.39.6", ("misago",), "Django"),
    "apache-superset": App("6.1.0", ("superset",), "SQLAlchemy"),
    "mlflow": App("3.18.0", ("mlflow",), "SQLAlchemy"),
    "apache-airflow-core": App("3.3.2", ("airflow",), "SQLAlchemy"),
    "aiida-core": App("2.9.4", ("aiida",), "SQLAlchemy"),
    "buildbot": App("4.3.0", ("buildbot",), "SQLAlchemy"),
    "ihatemoney": App("7.2.1", ("ihatemoney",), "SQLAlchemy"),
    "flaskbb": App("2.0.2", ("flaskbb",), "SQLAlchemy"),
    "lemur": App("1.9.3", ("lemur",), "SQLAlchemy"),
}

JUDGMENTS_HEADER = ["version", "path", "function", "code", "verdict", "reason"]
HAZARDS_HEADER = ["version", "path", "function", "category", "line", "reason"]
VERDICTS = ("right", "wrong")
# A hand-found hazard counts as found when txlint reports one of these codes in its function.
CATEGORY_CODES: Dict[str, Tuple[str, ...]] = {
    "multi-table": ("TXL101",),
    "loop": ("TXL102",),
    "split-commit": ("TXL103",),
    "raw-sql-write": ("TXL201", "TXL202"),
    "file-and-row": ("TXL301",),
    "check-then-create": ("TXL501",),
    "read-modify-write": ("TXL502",),
    "lock": ("TXL503",),
    "side-effect": ("TXL601",),
}
# What the snapshot keeps of a finding; a finding's identity in the diff is all but the message,
# so a reworded message shows in the snapshot's git diff after --update, not as added + removed.
SNAPSHOT_FIELDS = ("code", "path", "line", "function", "message")


class TableError(Exception):
    """A judgments or hazards file that does not follow its format (exit status 2)."""


class Hazard(NamedTuple):
    version: str
    path: str
    function: str
    category: str
    line: int
    reason: str


# --- judgments and hazards files -------------------------------------------------------------


def read_tsv(path: Path, header: List[str]) -> List[Tuple[int, List[str]]]:
    """(line number, fields) of every data row; comments and blank lines are skipped, and the
    first other line must be the header."""
    rows: List[Tuple[int, List[str]]] = []
    seen_header = False
    for number, text in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not text.strip() or text.startswith("#"):
            continue
        fields = text.split("\t")
        if not seen_header:
            if fields != header:
                raise TableError(f"{path}:{number}: the header must be {' TAB '.join(header)}")
            seen_header = True
            continue
        if len(fields) != len(header):
            raise TableError(f"{path}:{number}: {len(fields)} tab-separated columns, expected {len(header)} "
                             f"({', '.join(header)})")
        empty = [name for name, value in zip(header, fields) if not value.strip()]
        if empty:
            raise TableError(f"{path}:{number}: empty {', '.join(empty)}")
        rows.append((number, fields))
    if not seen_header:
        raise TableError(f"{path}: no header line ({' TAB '.join(header)})")
    return rows


def load_judgments(path: Path) -> Dict[Tuple[str, str, str, str], str]:
    """(version, path, function, code) -> verdict."""
    judgments: Dict[Tuple[str, str, str, str], str] = {}
    if not path.exists():
        return judgments
    for number, (version, file, function, code, verdict, _reason) in read_tsv(path, JUDGMENTS_HEADER):
        if verdict not in VERDICTS:
            raise TableError(f"{path}:{number}: unknown verdict {verdict!r} (expected right or wrong)")
        key = (version, file, function, code)
        if key in judgments:
            raise TableError(f"{path}:{number}: a second judgment of {file} {function} {code} at {version}")
        judgments[key] = verdict
    return judgments


def load_hazards(path: Path) -> List[Hazard]:
    hazards: List[Hazard] = []
    if not path.exists():
        return hazards
    seen = set()
    for number, (version, file, function, category, line, reason) in read_tsv(path, HAZARDS_HEADER):
        if category not in CATEGORY_CODES:
            raise TableError(f"{path}:{number}: unknown category {category!r} (expected one of "
                             f"{', '.join(CATEGORY_CODES)})")
        if not line.isdigit():
            raise TableError(f"{path}:{number}: line {line!r} is not a line number")
        # Matching is by function and category, so a second row of the same would add nothing.
        key = (version, file, function, category)
        if key in seen:
            raise TableError(f"{path}:{number}: a second {category} hazard in {file} {function} at {version}")
        seen.add(key)
        hazards.append(Hazard(version, file, function, category, int(line), reason))
    return hazards


def load_tables(judgments_dir: Path, hazards_dir: Path):
    """Every application's judgments and hazards, validated before anything is downloaded."""
    for directory in (judgments_dir, hazards_dir):
        for path in sorted(directory.glob("*.tsv")):
            if path.stem not in APPS:
                raise TableError(f"{path}: no application {path.stem!r} in the table of bench/ecosystem/run.py")
    judgments = {name: load_judgments(judgments_dir / f"{name}.tsv") for name in APPS}
    hazards = {name: load_hazards(hazards_dir / f"{name}.tsv") for name in APPS}
    return judgments, hazards


# --- scoring -----------------------------------------------------------------------------------


def verdict_of(finding: dict, version: str, judgments: Dict[Tuple[str, str, str, str], str]) -> Optional[str]:
    return judgments.get((version, finding["path"], finding["function"], finding["code"]))


def is_found(hazard: Hazard, findings: List[dict]) -> bool:
    codes = CATEGORY_CODES[hazard.category]
    return any(f["path"] == hazard.path and f["function"] == hazard.function and f["code"] in codes
               for f in findings)


def score(version: str, findings: List[dict], judgments, hazards: List[Hazard]) -> dict:
    """One application's figures; judgments and hazards of another version do not apply."""
    verdicts = Counter(verdict_of(finding, version, judgments) for finding in findings)
    current = [hazard for hazard in hazards if hazard.version == version]
    found = [hazard for hazard in current if is_found(hazard, findings)]
    by_category = {category: {"hazards": sum(h.category == category for h in current),
                              "found": sum(h.category == category for h in found)}
                   for category in CATEGORY_CODES}
    return {"findings": len(findings), "right": verdicts["right"], "wrong": verdicts["wrong"],
            "unjudged": verdicts[None], "hazards": len(current), "found": len(found),
            "missed": [hazard._asdict() for hazard in current if hazard not in found],
            "by_category": by_category}


def ratio(part: int, whole: int) -> str:
    return f"{part / whole:.2f}" if whole else "-"


# --- the snapshot and the diff -------------------------------------------------------------------


def snapshot_entry(version: str, findings: List[dict]) -> dict:
    kept = [{field: finding[field] for field in SNAPSHOT_FIELDS} for finding in findings]
    kept.sort(key=lambda f: (f["path"], f["line"], f["code"], f["function"], f["message"]))
    return {"version": version, "findings": kept}


def write_snapshot(path: Path, apps: Dict[str, dict]) -> None:
    """One finding per line, applications and findings sorted: a model change is a small diff."""
    blocks = []
    for name in sorted(apps):
        rows = ",\n".join(f"    {json.dumps(finding, ensure_ascii=False)}" for finding in apps[name]["findings"])
        blocks.append(f'  {json.dumps(name)}: {{"version": {json.dumps(apps[name]["version"])}, "findings": [\n'
                      + (rows + "\n" if rows else "") + "  ]}")
    path.write_text("{\n" + ",\n".join(blocks) + "\n}\n", encoding="utf-8")


def finding_identity(finding: dict) -> Tuple[str, str, int, str]:
    return (finding["code"], finding["path"], finding["line"], finding["function"])


def diff_findings(previous: List[dict], current: List[dict]) -> Tuple[List[dict], List[dict]]:
    """(added, removed): findings of one run and not the other, counted as multisets."""
    added = Counter(map(finding_identity, current)) - Counter(map(finding_identity, previous))
    removed = Counter(map(finding_identity, previous)) - Counter(map(finding_identity, current))

    def take(findings: List[dict], wanted: Counter) -> List[dict]:
        chosen = []
        for finding in findings:
            if wanted[finding_identity(finding)] > 0:
                wanted[finding_identity(finding)] -= 1
                chosen.append(dict(finding))  # a copy: the diff adds verdicts, the snapshot must not get them
        return sorted(chosen, key=finding_identity)

    return take(current, added), take(previous, removed)


def format_diff_line(sign: str, finding: dict, verdict: Optional[str]) -> str:
    judged = f"  [judged {verdict}]" if verdict else ""
    return f"  {sign} {finding['code']} {finding['path']}:{finding['line']} {finding['function']}{judged}"


# --- running txlint ------------------------------------------------------------------------------


def prepare(name: str, cache: Path, offline: bool) -> Path:
    """The corpus root of an application: downloaded and unpacked once, with an empty
    [tool.txlint] so that it is a project of its own (see bench/corpora.py)."""
    app = APPS[name]
    target = cache / f"{name}-{app.version}"
    if not target.is_dir():
        downloads = cache / "downloads"
        archive = corpora.downloaded_archive(name, app.version, downloads)
        if archive is None:
            if offline:
                raise RuntimeError(f"{name}=={app.version} is not downloaded (--offline)")
            print(f"downloading {name}=={app.version} into {downloads}", file=sys.stderr)
            archive = corpora._download(name, app.version, downloads)
        corpora._unpack(archive, target)
    roots = set()
    for package in app.packages:
        source = corpora._package_directory(target, package)
        if source is None:
            raise RuntimeError(f"no {package}/__init__.py in {target}")
        roots.add(source.parent)
    if len(roots) != 1:
        raise RuntimeError(f"the packages {', '.join(app.packages)} do not share one directory in {target}")
    root = roots.pop()
    marker = root / "pyproject.toml"
    if not marker.exists():
        marker.write_text(corpora.PROJECT_MARKER, encoding="utf-8")
    return root


def run_txlint(python: str, root: Path, packages: Tuple[str, ...], jobs: int, timeout: float) -> dict:
    """txlint's JSON report: its findings, and the number of files it checked in its summary."""
    command = [python, "-m", "txlint", "check", *packages, "--format", "json", "--exit-zero", "--no-cache",
               "--jobs", str(jobs)]
    try:
        completed = subprocess.run(command, cwd=root, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        raise RuntimeError(f"txlint timed out after {timeout:.0f} s") from None
    if completed.returncode != 0:
        last = (completed.stderr.strip().splitlines() or ["no output"])[-1]
        raise RuntimeError(f"txlint exited {completed.returncode}: {last}")
    try:
        report = json.loads(completed.stdout)
    except ValueError as error:
        raise RuntimeError(f"txlint printed no JSON report ({error})") from None
    if "findings" not in report or "files" not in report.get("summary", {}):
        raise RuntimeError("txlint's JSON report has no findings or no summary.files")
    return report


# --- the report ------------------------------------------------------------------------------------


def print_table(results: Dict[str, dict]) -> None:
    print("| app | version | files | findings | right | wrong | unjudged | precision | hazards | found | recall | seconds |")
    print("|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|")
    totals = Counter()
    for name, result in results.items():
        if "error" in result:
            print(f"| {name} | {result['version']} | | failed: {result['error']} | | | | | | | | "
                  f"{result['seconds']:.1f} |")
            continue
        figures = result["figures"]
        for key in ("findings", "right", "wrong", "unjudged", "hazards", "found"):
            totals[key] += figures[key]
        totals["files"] += result["files"]
        print(f"| {name} | {result['version']} | {result['files']} | {figures['findings']} | {figures['right']} | {figures['wrong']} "
              f"| {figures['unjudged']} | {ratio(figures['right'], figures['right'] + figures['wrong'])} "
              f"| {figures['hazards']} | {figures['found']} | {ratio(figures['found'], figures['hazards'])} "
              f"| {result['seconds']:.1f} |")
    print(f"| **total** | | {totals['files']} | {totals['findings']} | {totals['right']} | {totals['wrong']} | {totals['unjudged']} "
          f"| {ratio(totals['right'], totals['right'] + totals['wrong'])} | {totals['hazards']} | {totals['found']} "
          f"| {ratio(totals['found'], totals['hazards'])} | |")


def recall_by_category(results: Dict[str, dict]) -> Dict[str, dict]:
    totals = {category: {"hazards": 0, "found": 0} for category in CATEGORY_CODES}
    for result in results.values():
        for category, counts in result.get("figures", {}).get("by_category", {}).items():
            totals[category]["hazards"] += counts["hazards"]
            totals[category]["found"] += counts["found"]
    return totals


def print_recall_by_category(totals: Dict[str, dict]) -> None:
    print("\n| category | codes | hazards | found | recall |")
    print("|---|---|--:|--:|--:|")
    for category, counts in totals.items():
        print(f"| {category} | {', '.join(CATEGORY_CODES[category])} | {counts['hazards']} | {counts['found']} "
              f"| {ratio(counts['found'], counts['hazards'])} |")


def precision_by_code(results: Dict[str, dict], judgments: Dict[str, dict]) -> Dict[str, Counter]:
    """Per rule code: findings, and how many were judged right and wrong."""
    totals: Dict[str, Counter] = {}
    for name, result in results.items():
        for finding in result.get("findings", ()):
            counts = totals.setdefault(finding["code"], Counter())
            counts["findings"] += 1
            counts[verdict_of(finding, result["version"], judgments[name]) or "unjudged"] += 1
    return dict(sorted(totals.items()))


def print_precision_by_code(totals: Dict[str, Counter]) -> None:
    print("\n| code | findings | right | wrong | unjudged | precision |")
    print("|---|--:|--:|--:|--:|--:|")
    for code, counts in totals.items():
        print(f"| {code} | {counts['findings']} | {counts['right']} | {counts['wrong']} | {counts['unjudged']} "
              f"| {ratio(counts['right'], counts['right'] + counts['wrong'])} |")


def print_diff(results: Dict[str, dict]) -> None:
    print("\nChanges since the snapshot (bench/ecosystem/snapshot.json):")
    for name, result in results.items():
        if "error" in result:
            print(f"{name}: not compared (the run failed)")
            continue
        diff = result["diff"]
        if diff["previous_version"] is None:
            print(f"{name}: not in the snapshot; {len(result['findings'])} findings")
            continue
        moved = "" if diff["previous_version"] == result["version"] else \
            f" (version {diff['previous_version']} -> {result['version']})"
        print(f"{name}: {len(diff['added'])} added, {len(diff['removed'])} removed{moved}")
        for sign, findings in (("+", diff["added"]), ("-", diff["removed"])):
            for finding in findings:
                print(format_diff_line(sign, finding, finding.get("verdict")))


def print_unjudged(results: Dict[str, dict]) -> None:
    for name, result in results.items():
        unjudged = [finding for finding in result.get("findings", []) if finding["verdict"] is None]
        print(f"\nUnjudged findings of {name} {result['version']} ({len(unjudged)}):")
        for finding in unjudged:
            print(f"{finding['path']}:{finding['line']} {finding['function']} {finding['code']} {finding['message']}")


# --- command line ------------------------------------------------------------------------------------


class UsageError(Exception):
    pass


class ArgumentParser(argparse.ArgumentParser):
    def error(self, message):  # one line instead of argparse's usage block
        raise UsageError(message)


def parse_arguments(argv: Optional[List[str]]) -> argparse.Namespace:
    parser = ArgumentParser(prog="bench/ecosystem/run.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("--app", action="append", choices=list(APPS), metavar="NAME",
                        help="an application to check; repeatable (default: all): " + ", ".join(APPS))
    parser.add_argument("--python", default=sys.executable,
                        help="the interpreter txlint is installed in (default: this one)")
    parser.add_argument("--jobs", type=int, default=2, help="passed to txlint --jobs (default: 2)")
    parser.add_argument("--timeout", type=float, default=900.0, help="seconds before txlint is killed (default: 900)")
    parser.add_argument("--cache-dir", type=Path, default=BENCH / ".corpora",
                        help="where applications are downloaded and unpacked (default: bench/.corpora)")
    parser.add_argument("--offline", action="store_true", help="use only what is already downloaded")
    parser.add_argument("--update", action="store_true", help="rewrite snapshot.json with this run's findings")
    parser.add_argument("--unjudged", action="store_true", help="list the unjudged findings of each application run")
    parser.add_argument("--json", type=Path, metavar="FILE", help="write the full result to FILE")
    parser.add_argument("--judgments-dir", type=Path, default=HERE / "judgments", help=argparse.SUPPRESS)
    parser.add_argument("--hazards-dir", type=Path, default=HERE / "hazards", help=argparse.SUPPRESS)
    parser.add_argument("--snapshot", type=Path, default=HERE / "snapshot.json", help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def check_app(name: str, args, judgments, hazards, previous: dict) -> dict:
    app = APPS[name]
    started = time.monotonic()
    try:
        root = prepare(name, args.cache_dir, args.offline)
        started = time.monotonic()  # the time is txlint's, not the download's
        report = run_txlint(args.python, root, app.packages, args.jobs, args.timeout)
    except (RuntimeError, OSError) as error:
        return {"version": app.version, "seconds": time.monotonic() - started, "error": str(error)}
    seconds = time.monotonic() - started
    findings = report["findings"]
    for finding in findings:
        finding["verdict"] = verdict_of(finding, app.version, judgments)
    entry = snapshot_entry(app.version, findings)
    before = previous.get(name)
    added, removed = diff_findings(before["findings"] if before else [], entry["findings"])
    for finding in added:
        finding["verdict"] = verdict_of(finding, app.version, judgments)
    for finding in removed:  # the judgments still say what a lost finding was worth
        finding["verdict"] = verdict_of(finding, before["version"], judgments)
    return {"version": app.version, "seconds": seconds, "root": str(root), "files": report["summary"]["files"],
            "figures": score(app.version, findings, judgments, hazards),
            "findings": findings, "snapshot": entry,
            "diff": {"previous_version": before["version"] if before else None, "added": added, "removed": removed}}


def main(argv: Optional[List[str]] = None) -> int:
    try:
        args = parse_arguments(argv)
        if args.jobs < 1:
            raise UsageError("--jobs must be at least 1")
        judgments, hazards = load_tables(args.judgments_dir, args.hazards_dir)
        previous = json.loads(args.snapshot.read_text(encoding="utf-8")) if args.snapshot.exists() else {}
    except (UsageError, TableError) as error:
        print(f"bench/ecosystem/run.py: {error}", file=sys.stderr)
        return 2
    except ValueError as error:
        print(f"bench/ecosystem/run.py: {args.snapshot} is not valid JSON: {error}", file=sys.stderr)
        return 2

    results: Dict[str, dict] = {}
    for name in args.app or list(APPS):
        print(f"checking {name} ...", file=sys.stderr, flush=True)
        results[name] = check_app(name, args, judgments[name], hazards[name], previous)

    print_table(results)
    categories = recall_by_category(results)
    print_recall_by_category(categories)
    codes = precision_by_code(results, judgments)
    print_precision_by_code(codes)
    print_diff(results)
    if args.unjudged:
        print_unjudged(results)
    if args.json:
        report = {name: {key: value for key, value in result.items() if key != "snapshot"}
                  for name, result in results.items()}
        args.json.write_text(json.dumps({"apps": report, "recall_by_category": categories,
                                          "precision_by_code": codes}, indent=1) + "\n",
                             encoding="utf-8")
    if args.update:
        # An application that failed or was not run keeps its previous entry.
        updated = dict(previous)
        updated.update({name: result["snapshot"] for name, result in results.items() if "snapshot" in result})
        write_snapshot(args.snapshot, updated)
        print(f"\nwrote {args.snapshot}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
