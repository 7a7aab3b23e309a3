"""Reading the files a run is given besides the code: its configuration and its baseline."""

import errno
import os
import stat


def read_regular_file(path) -> bytes:
    """The bytes of a regular file; OSError "not a regular file" for anything else. It is opened
    without blocking, so that a FIFO given as a configuration or a baseline is refused instead of
    waiting forever for a writer (opening a regular file does not block either way)."""
    descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    with open(descriptor, "rb") as handle:
        if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
            raise OSError(errno.EINVAL, "not a regular file", str(path))
        return handle.read()
