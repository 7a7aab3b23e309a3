"""Real databases for the runtime tests: SQLite files, and a throwaway PostgreSQL cluster started
from the machine's PostgreSQL binaries (.ci/install-postgres installs them on a fresh machine)."""

import glob
import os
import shutil
import socket
import subprocess
import tempfile

import pytest

import harnesses


def _in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def _postgres_binaries():
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return os.path.dirname(found[-1]) if found else None


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _as_server_user(command):
    if os.geteuid() == 0:  # initdb and postgres refuse to run as root
        return ["runuser", "-u", "postgres", "--", *command]
    return command


def _start_cluster(binaries: str, directory: str) -> int:
    data = os.path.join(directory, "data")
    if os.geteuid() == 0:
        shutil.chown(directory, "postgres", "postgres")
    port = _free_port()
    subprocess.run(_as_server_user([f"{binaries}/initdb", "-D", data, "-A", "trust", "-U", "postgres",
                                    "--no-sync"]), check=True, capture_output=True)
    subprocess.run(_as_server_user([f"{binaries}/pg_ctl", "-D", data, "-w", "-l", os.path.join(directory, "log"),
                                    "-o", f"-p {port} -k {directory} -c listen_addresses=127.0.0.1 -c fsync=off",
                                    "start"]), check=True, capture_output=True)
    return port


@pytest.fixture(scope="session")
def postgres_dsn():
    """A PostgreSQL server on loopback for this test session. Without PostgreSQL binaries the
    test is skipped, except in CI (CI=true), where that is a failure."""
    binaries = _postgres_binaries()
    if binaries is None:
        message = "PostgreSQL is not installed (run .ci/install-postgres as root)"
        if _in_ci():
            pytest.fail(f"CI requires PostgreSQL: {message}", pytrace=False)
        pytest.skip(message)
    directory = tempfile.mkdtemp(prefix="txlint-pg-")
    try:
        port = _start_cluster(binaries, directory)
    except subprocess.CalledProcessError as error:
        shutil.rmtree(directory, ignore_errors=True)
        pytest.fail(f"could not start PostgreSQL: {error.stderr.decode(errors='replace')}", pytrace=False)
    try:
        yield f"host=127.0.0.1 port={port} user=postgres dbname=postgres"
    finally:
        subprocess.run(_as_server_user([f"{binaries}/pg_ctl", "-D", os.path.join(directory, "data"),
                                        "-m", "immediate", "stop"]), capture_output=True)
        shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture(scope="session")
def django_directory(tmp_path_factory):
    return str(tmp_path_factory.mktemp("django"))


def backend_params():
    return [pytest.param(name, id=name) for name in harnesses.LOCAL] + [
        pytest.param(name, id=name, marks=pytest.mark.needs_db) for name in harnesses.POSTGRES]


def make_spec(request, name: str, directory: str) -> dict:
    dsn = None
    if name in harnesses.POSTGRES:
        dsn = request.getfixturevalue("postgres_dsn")
    elif name.startswith("django"):  # Django is configured once: with the PostgreSQL alias if there is one
        try:
            dsn = request.getfixturevalue("postgres_dsn")
        except pytest.skip.Exception:
            dsn = None
    spec = harnesses.new_spec(name, directory, dsn)
    spec["django_path"] = os.path.join(request.getfixturevalue("django_directory"), "django.db")
    return spec


@pytest.fixture(params=backend_params())
def harness(request, tmp_path):
    made = harnesses.create(make_spec(request, request.param, str(tmp_path)))
    yield made
    made.close()
