"""The Markdown tables: every tool's time, ratio and memory, then txlint's targets met or not."""

from typing import Dict, List, Optional

PEAK_LIMIT_MIB = 300


def _number(value: Optional[float], digits: int) -> str:
    return "n/a" if value is None else f"{value:.{digits}f}"


def _tool_table(rows: List[dict]) -> None:
    print("| corpus | files | lines | tool | median s | × libcst parse | × ast parse | peak MiB | findings | runs |")
    print("|---|--:|--:|---|--:|--:|--:|--:|--:|--:|")
    for row in rows:
        head = f"| {row['corpus']} {row['version']} | {row['files']} | {row['lines']} | {row['tool']} |"
        if row["status"] != "ok":
            print(f"{head} {row['status']} | | | | | {row['runs']} |")
            continue
        findings = "" if row.get("findings") is None else str(row["findings"])
        print(f"{head} {row['seconds']:.2f} | {_number(row['ratio'], 2)} | {_number(row.get('ratio_ast'), 2)} |"
              f" {row['peak_mib']:.0f} | {findings} | {row['runs']} |")


def _targets(rows: List[dict]) -> List[tuple]:
    by_corpus: Dict[str, Dict[str, dict]] = {}
    for row in rows:
        by_corpus.setdefault(row["corpus"], {})[row["tool"]] = row

    def seconds(table: Dict[str, dict], tool: str) -> Optional[float]:
        row = table.get(tool)
        return row.get("seconds") if row and row["status"] == "ok" else None

    checks = []
    for corpus, table in by_corpus.items():
        floor, cold = seconds(table, "libcst parse"), seconds(table, "txlint cold")
        ast_floor = seconds(table, "ast parse")
        warm = seconds(table, "txlint warm")
        comment, code = seconds(table, "txlint 1 comment edited"), seconds(table, "txlint 1 function added")
        flake8, plugin = seconds(table, "flake8"), seconds(table, "flake8 --select TXL")

        def ratio(a, b):
            return a / b if a is not None and b else None

        checks.append((corpus, "txlint cold / libcst parse", ratio(cold, floor), 1.3))
        checks.append((corpus, "txlint cold / ast parse", ratio(cold, ast_floor), 4.0))
        checks.append((corpus, "txlint warm / txlint cold", ratio(warm, cold), 0.1))
        checks.append((corpus, "txlint 1 comment edited / txlint cold", ratio(comment, cold), 0.2))
        checks.append((corpus, "txlint 1 function added / txlint cold", ratio(code, cold), 0.2))
        staged = seconds(table, "txlint 1 staged file")
        checks.append((corpus, "txlint 1 staged file / txlint cold", ratio(staged, cold), 0.2))
        added = plugin - flake8 if plugin is not None and flake8 is not None else None
        checks.append((corpus, "(flake8 --select TXL − flake8) / flake8", ratio(added, flake8), 1.0))
        peaks = [table[t]["peak_mib"] for t in ("txlint cold", "txlint warm", "txlint 1 comment edited",
                                                "txlint 1 function added", "txlint 1 staged file")
                 if t in table and table[t]["status"] == "ok"]
        checks.append((corpus, "txlint peak MiB (largest process)", max(peaks) if peaks else None, PEAK_LIMIT_MIB))
    return checks


def print_report(meta: dict, rows: List[dict]) -> None:
    versions = ", ".join(f"{name} {version or 'not installed'}" for name, version in meta["versions"].items())
    print(f"\n{meta['date']}; Python {meta['python']}; {meta['machine']}; --jobs {meta['jobs']}; "
          f"{meta['repeat']} repetition(s); {meta['wall_seconds']:.0f} s in all\n{versions}\n")
    _tool_table(rows)
    print("\n| corpus | txlint target | measured | limit | met |")
    print("|---|---|--:|--:|---|")
    for corpus, target, measured, limit in _targets(rows):
        met = "n/a" if measured is None else ("yes" if measured <= limit else "**no**")
        print(f"| {corpus} | {target} | {_number(measured, 2)} | {limit} | {met} |")
    notes = [f"{row['corpus']} {row['tool']}: {row['warning']}" for row in rows if row.get("warning")]
    for row in rows:
        seen = row.get("files_seen")
        if seen is not None and row["tool"] not in ("semgrep (1 rule)", "txlint 1 staged file") \
                and seen < 0.9 * row["files"]:
            notes.append(f"{row['corpus']} {row['tool']}: linted only {row['files_seen']} of {row['files']} files")
    if notes:
        print("\n" + "\n".join(f"- {note}" for note in notes))
