"""Run one command and report its wall-clock time and peak memory as JSON on stdout.

usage: python measure.py STDOUT_FILE STDERR_FILE TIMEOUT_SECONDS -- COMMAND ...

Started afresh for every measurement, so that `RUSAGE_CHILDREN` covers exactly one run: on Linux its
`ru_maxrss` is the largest resident set size reached by any single descendant that was waited for
(the command, its worker processes, their children), not a sum. This wrapper's own memory is not
included. Standard library only.
"""

import json
import os
import resource
import signal
import subprocess
import sys
import time


def main() -> int:
    stdout_path, stderr_path, timeout = sys.argv[1], sys.argv[2], float(sys.argv[3])
    command = sys.argv[sys.argv.index("--") + 1:]
    timed_out = False
    with open(stdout_path, "wb") as stdout, open(stderr_path, "wb") as stderr:
        start = time.perf_counter()
        process = subprocess.Popen(command, stdout=stdout, stderr=stderr, stdin=subprocess.DEVNULL,
                                   start_new_session=True)
        try:
            code = process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            timed_out = True
            os.killpg(process.pid, signal.SIGKILL)
            code = process.wait()
        seconds = time.perf_counter() - start
    peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss  # KiB on Linux
    print(json.dumps({"seconds": seconds, "peak_mib": peak_kib / 1024, "code": code, "timed_out": timed_out}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
