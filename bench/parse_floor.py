"""The floors txlint is measured against: `libcst.parse_module` (default) or Python's own
`ast.parse` on every file of a tree.

usage: python parse_floor.py ROOT JOBS [libcst|ast]

Same parallelism as `txlint check --jobs JOBS`: a pool of JOBS processes, one file per task, the
largest file first so that a big file does not start last and leave one core idle. Prints
`{"files": N, "parse_errors": K}`. Runs in the environment where txlint is installed, so it
uses the same libcst and the same Python.
"""

import ast
import json
import multiprocessing
import os
import sys

PARSER = None  # set in main() before the pool forks


def _parse(path: str) -> bool:
    with open(path, "rb") as handle:
        data = handle.read()
    try:
        PARSER(data.decode("utf-8"))  # txlint decodes first too
    except Exception:  # a parse error costs the attempt, like a linter reporting it
        return False
    return True


def main() -> None:
    global PARSER
    root, jobs = sys.argv[1], int(sys.argv[2])
    which = sys.argv[3] if len(sys.argv) > 3 else "libcst"
    if which == "ast":
        PARSER = ast.parse
    elif which == "libcst":
        import libcst  # only this floor pays for importing it

        PARSER = libcst.parse_module
    else:
        sys.exit(f"parse_floor.py: unknown parser {which!r}; use libcst or ast")
    files = [os.path.join(d, f) for d, _, names in os.walk(root) for f in names if f.endswith(".py")]
    files.sort(key=lambda path: -os.path.getsize(path))
    with multiprocessing.get_context("fork").Pool(jobs) as pool:
        parsed = sum(pool.imap_unordered(_parse, files, chunksize=1))
    print(json.dumps({"files": len(files), "parse_errors": len(files) - parsed}))


if __name__ == "__main__":
    main()
