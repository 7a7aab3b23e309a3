"""The floor txlint is measured against: libcst.parse_module on every file, N processes, largest first."""

import multiprocessing
import os
import sys

import libcst


def _parse(path: str) -> int:
    with open(path, "rb") as handle:
        data = handle.read()
    try:
        libcst.parse_module(data.decode("utf-8"))
    except Exception:  # the floor counts the attempt, like a linter reporting a parse error
        return 0
    return 1


def main() -> None:
    root, jobs = sys.argv[1], int(sys.argv[2])
    files = [os.path.join(d, f) for d, _, names in os.walk(root) for f in names if f.endswith(".py")]
    files.sort(key=lambda path: -os.path.getsize(path))
    with multiprocessing.get_context("fork").Pool(jobs) as pool:
        parsed = sum(pool.imap_unordered(_parse, files, chunksize=1))
    print(f"parsed {parsed} of {len(files)} files")


if __name__ == "__main__":
    main()
