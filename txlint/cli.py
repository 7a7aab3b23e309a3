"""The `txlint` command: check, explain, rules, server."""

import argparse
import os
import sys
from typing import List, Optional

from txlint import __version__
from txlint.cache import CACHE_DIRECTORY
from txlint.discovery import display_path
from txlint.errors import UsageError
from txlint.reporters import FORMATS, ReportOptions, render, stderr_line, write_output

class _Parser(argparse.ArgumentParser):
    def error(self, message: str):
        raise UsageError(message + self._closest_option(message))

    def _closest_option(self, message: str) -> str:
        """" (did you mean --format?)" for an unrecognized option close to one this command has."""
        import difflib

        prefix = "unrecognized arguments: "
        if not message.startswith(prefix):
            return ""
        options = [option for action in self._actions for option in action.option_strings]
        for command in self._subparsers._group_actions if self._subparsers else ():
            for parser in getattr(command, "choices", {}).values():
                options += [option for action in parser._actions for option in action.option_strings]
        for word in message[len(prefix):].split():
            close = difflib.get_close_matches(word.split("=")[0], options, n=1)
            if word.startswith("-") and close:
                return f" (did you mean {close[0]}?)"
        return ""

def _build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="txlint", description="A linter and CI gate for database-write integrity.")
    parser.add_argument("--version", action="version", version=f"txlint {__version__}")
    commands = parser.add_subparsers(dest="command", parser_class=_Parser)
    check = commands.add_parser("check", help="lint files and directories")
    check.add_argument("paths", nargs="*", default=["."], metavar="PATH")
    check.add_argument("--format", choices=FORMATS, default="text")
    check.add_argument("--select", type=_codes, help="comma-separated rule code prefixes to enable")
    check.add_argument("--ignore", type=_codes, help="comma-separated rule code prefixes to disable")
    check.add_argument("--config", metavar="FILE", help="read [tool.txlint] from FILE instead of pyproject.toml")
    check.add_argument("--exit-zero", action="store_true", help="exit 0 even when there are findings")
    check.add_argument("--fix", action="store_true", help="apply the safe fixes, then report the findings that remain")
    check.add_argument("--unsafe-fixes", action="store_true",
                       help="with --fix or --show-fixes: also the fixes that may change behaviour")
    check.add_argument("--show-fixes", action="store_true",
                       help="print the fixes as a unified diff and write nothing")
    check.add_argument("--force-exclude", action="store_true",
                       help="apply the configured excludes to paths named on the command line too")
    check.add_argument("--jobs", type=_positive, default=os.cpu_count() or 1, metavar="N",
                       help="processes to parse and check files in (default: all cores)")
    check.add_argument("--no-cache", action="store_true", help=f"neither read nor write {CACHE_DIRECTORY}/")
    check.add_argument("--baseline", metavar="FILE", help="report only findings that are not in this baseline")
    check.add_argument("--write-baseline", metavar="FILE", help="record today's findings as the baseline and exit 0")
    check.add_argument("--diff", metavar="REV", help="report only findings in functions changed since git REV")
    check.add_argument("--cache-dir", metavar="DIR",
                       help=f"where the cache lives (default: $TXLINT_CACHE_DIR, else {CACHE_DIRECTORY}/ in the project root)")
    check.add_argument("--show-settings", action="store_true",
                       help="print each project's root, configuration file and resolved settings, and exit")
    check.add_argument("--show-files", action="store_true", help="print the files each project analyses, and exit")
    explain = commands.add_parser("explain", help="print a rule's documentation")
    explain.add_argument("code")
    commands.add_parser("rules", help="list the rule catalogue")
    server = commands.add_parser("server", help="run the language server (LSP over stdio; needs txlint[lsp])")
    server.add_argument("--stdio", action="store_true",
                        help="speak over stdin and stdout (the only transport; accepted because LSP clients pass it)")
    return parser

def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected at least 1, got {value}")
    return value


def _codes(text: str) -> List[str]:
    return [code for code in text.replace(" ", ",").split(",") if code]


def _check(args) -> int:
    from txlint.rules import all_rules
    from txlint.session import Options, check_paths, plan_paths

    rules = all_rules()
    options = Options(config_file=args.config, select=args.select, ignore=args.ignore,
                      force_exclude=args.force_exclude, jobs=args.jobs, use_cache=not args.no_cache,
                      cache_dir=args.cache_dir)
    projects = plan_paths(args.paths, options, rules)
    if args.cache_dir and not args.no_cache:
        try:
            os.makedirs(args.cache_dir, exist_ok=True)
        except OSError as error:
            stderr_line(f"txlint: warning: cannot use --cache-dir {args.cache_dir}: {error.strerror or error}; "
                        f"running without a cache")
    if args.show_settings or args.show_files:
        sys.stdout.write(_shown_projects(projects, args.show_settings, args.show_files))
        return 0
    if args.unsafe_fixes and not (args.fix or args.show_fixes):
        raise UsageError("--unsafe-fixes goes with --fix or --show-fixes")
    if args.fix and args.show_fixes:
        raise UsageError("--fix writes the fixes and --show-fixes only prints them: choose one")
    if args.write_baseline and (args.fix or args.show_fixes):
        raise UsageError("--write-baseline records the findings as they are: run it without --fix or --show-fixes")
    # Baselines and --diff load their modules (json, subprocess, git) only when asked for.
    if args.baseline or args.write_baseline:
        from txlint.baseline import apply_baseline, read_baseline, write_baseline
    baseline = read_baseline(args.baseline) if args.baseline else None
    if args.diff is not None:
        from txlint.gitdiff import changed_lines, in_changed_code
    changes = changed_lines(args.diff) if args.diff is not None else None
    checked_after_fixes = None
    if args.fix or args.show_fixes:
        status, checked_after_fixes = _fix(args, options, rules, projects, baseline, changes)
        if args.show_fixes:
            return status
    result = checked_after_fixes or check_paths(args.paths, options, rules, projects)
    reported = [path for project in projects for path in project.reported]
    if not reported:
        stderr_line("txlint: warning: no Python files found in the paths given; nothing was checked")
    checked = [display_path(path) for path in reported] if args.baseline or args.write_baseline else []
    if args.write_baseline:
        count = write_baseline(args.write_baseline, result.findings, checked)
        stderr_line(f"txlint: wrote {count} finding{'s' if count != 1 else ''} to the baseline {args.write_baseline}")
        return 0
    if baseline is not None:
        found = len(result.findings)
        result.findings, fixed = apply_baseline(result.findings, baseline, args.baseline, checked)
        if found > len(result.findings):
            hidden = found - len(result.findings)
            stderr_line(f"txlint: {hidden} finding{'s' if hidden != 1 else ''} in the baseline {args.baseline} "
                        f"not reported")
        if fixed:
            stderr_line(f"txlint: {fixed} baselined finding{'s are' if fixed != 1 else ' is'} fixed; "
                        f"run with --write-baseline {args.baseline} to shrink the baseline")
    if changes is not None:
        result.findings = in_changed_code(result.findings, changes, result.function_ranges, result.calls)
    color = sys.stdout.isatty() and "NO_COLOR" not in os.environ
    write_output(sys.stdout, render(args.format, result, ReportOptions(color=color, rules=rules)))
    for hint in result.hints:
        stderr_line(f"txlint: hint: {hint}")
    for message in result.internal_errors:
        stderr_line(f"txlint: {message}")
    if result.internal_errors:
        return 2
    return 1 if result.findings and not args.exit_zero else 0

_FIX_PASSES = 10  # a fix can make another possible (two findings in one function): fix again, up to this


def _fix(args, options, rules, projects, baseline, changes):
    """--fix: apply the fixes of the reported findings, checking again after each pass; --show-fixes:
    print their diff. Returns the exit status (1 while findings remain) and, when the last check
    came after the last fix, that check's result (the report needs no other)."""
    from txlint.fixes.files import fix_files, stamps
    from txlint.session import check_paths

    applied, files, unsafe_left, last_applied = [], set(), 0, False
    fixed_keys = set()  # a finding fixed once and reported again has another cause: not fixed twice
    for _ in range(_FIX_PASSES if args.fix else 1):
        checked = stamps(path for project in projects for path in project.reported)
        result = check_paths(args.paths, options, rules, projects)
        findings = result.findings
        if baseline is not None:
            from txlint.baseline import apply_baseline

            shown = [display_path(path) for project in projects for path in project.reported]
            findings = apply_baseline(findings, baseline, args.baseline, shown)[0]
        if changes is not None:
            from txlint.gitdiff import in_changed_code

            findings = in_changed_code(findings, changes, result.function_ranges, result.calls)
        unfixed = [finding for finding in findings if _fix_key(finding) not in fixed_keys]
        run = fix_files(unfixed, checked, args.unsafe_fixes, write=args.fix, rules=rules)
        for warning in run.warnings:
            stderr_line(f"txlint: warning: {warning}")
        applied += run.applied
        fixed_keys.update(_fix_key(fix.finding) for fix in run.applied)
        files.update(run.files)
        unsafe_left, last_applied = run.unsafe_left, bool(run.applied)
        if args.show_fixes:
            write_output(sys.stdout, "".join(run.diffs))
        if not run.applied:
            break
    remaining = {_fix_key(finding) for finding in findings} if args.fix and not last_applied else set()
    kept = [fix for fix in applied if _fix_key(fix.finding) in remaining]
    for fix in kept:
        finding = fix.finding
        stderr_line(f"txlint: warning: the fix of {finding.path}:{finding.line} {finding.code} ({fix.title}) did not "
                    f"remove the finding; review it")
    done = [fix for fix in applied if fix not in kept]
    safe = sum(1 for fix in done if fix.safe)
    verb = "fixed" if args.fix else "would fix"
    stderr_line(f"txlint: {verb} {len(done)} finding{'s' if len(done) != 1 else ''} ({safe} safe, "
                f"{len(done) - safe} unsafe) in {len(files)} file{'s' if len(files) != 1 else ''}"
                + (f"; {unsafe_left} more with --unsafe-fixes" if unsafe_left else ""))
    status = 1 if findings and not args.exit_zero else 0
    return status, (result if args.fix and not last_applied else None)


def _fix_key(finding) -> tuple:
    """A finding across passes: its line moves when a fix above it adds or removes lines."""
    return finding.path, finding.code, finding.function


def _shown_projects(projects, settings: bool, files: bool) -> str:
    """--show-settings: each project's root, configuration file and resolved settings;
    --show-files: the files each project analyses (the reported ones marked)."""
    from dataclasses import fields

    lines = []
    for project in projects:
        config = project.config
        if settings:
            lines.append(f"project root: {config.root}")
            lines.append(f"configuration: {project.config_file or '(none: the defaults)'}")
            if not project.bounded:
                lines.append("project files: only the named ones (the root is not walked as a whole)")
            for field in fields(config):
                if field.name not in ("root", "explicit_select"):
                    lines.append(f"  {field.name.replace('_', '-')} = {getattr(config, field.name)!r}")
        if files:
            reported = {os.path.abspath(path) for path in project.reported}
            for path in project.files:
                marker = "" if os.path.abspath(path) in reported else "  (analysed, not reported)"
                lines.append(f"{display_path(path)}{marker}")
    return "".join(f"{line}\n" for line in lines)


def _explain(args) -> int:
    from txlint.rules import rules_by_code

    rules = rules_by_code()
    code = args.code.strip().upper()
    rule = rules.get(code) or next((r for r in rules.values() if r.name == args.code.strip().lower()), None)
    if rule is None:
        import difflib

        close = difflib.get_close_matches(code, list(rules), n=1)
        hint = f" (did you mean {close[0]}?)" if close else ""
        raise UsageError(f"unknown rule code {args.code!r}{hint}; `txlint rules` lists them")
    print(f"# {rule.code} {rule.name}\n\n{rule.summary}.\n\n{rule.docs}", end="")
    return 0

def _rules(args) -> int:
    from txlint.rules import all_rules

    for rule in all_rules():
        default = "" if rule.enabled_by_default else "  (off unless configured)"
        print(f"{rule.code}  {rule.name:<38} {rule.summary}{default}")
    return 0

def _server(args) -> int:
    from txlint.server import serve  # a UsageError naming the install command without pygls

    return serve()

def main(argv: Optional[List[str]] = None) -> int:
    parser = _build_parser()
    try:
        args = parser.parse_args(argv)
        if args.command is None:
            parser.print_help()
            return 2
        handler = {"check": _check, "explain": _explain, "rules": _rules, "server": _server}[args.command]
        exits_at_once = argv is None and args.command == "check" and not _observed()
        if exits_at_once:
            from txlint.linter import keep_last_run_to_exit

            keep_last_run_to_exit()
        status = handler(args)
        if exits_at_once:
            _exit_now(status)
        return status
    except UsageError as error:
        stderr_line(f"txlint: error: {error}")
        return 2
    except KeyboardInterrupt:
        print("txlint: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 1


def _observed() -> bool:
    """Is a profiler or a tracer attached (cProfile, coverage, a debugger)? It writes what it
    measured at exit, which an early exit would skip."""
    if sys.getprofile() is not None or sys.gettrace() is not None:
        return True
    monitoring = getattr(sys, "monitoring", None)  # Python 3.12+: cProfile and coverage use it
    return monitoring is not None and any(monitoring.get_tool(tool) is not None for tool in range(6))


def _exit_now(status: int) -> None:
    """End the process once the report is out, without freeing the project's model and facts
    object by object (0.07 s on airflow-core, a twentieth of a cold run), as mypy does: only for
    the command line's own run (`main()` without arguments), never for another caller of `main`."""
    sys.stdout.flush()  # (a BrokenPipeError here is main's to answer)
    sys.stderr.flush()
    os._exit(status)


if __name__ == "__main__":
    sys.exit(main())
