"""Random programs of writes, nested blocks (failures caught or not), generators decorated with
atomic (exhausted, failing or closed early), staged files (on either staging path), on_commit
callbacks and failing commits, run on every backend and checked against a model of what must be
committed: the rows, the files in the directory (no stray temporary ones) and the callbacks."""

import os
import tempfile

from hypothesis import HealthCheck, given, settings, strategies as st

import txlint.runtime._staging as staging
import txlint.runtime._transaction as transaction_module
from txlint.runtime import atomic, on_commit, stage_file
from txlint.runtime._transaction import current_transaction

step = st.recursive(
    st.sampled_from([("write",), ("stage",), ("callback",), ("fail",)]),
    lambda inner: st.tuples(st.sampled_from(["block", "generator"]), st.lists(inner, max_size=4), st.booleans()),
    max_leaves=10,
)


class Fail(Exception):
    pass


class Program:
    """Runs steps against a harness and records, per level, what that level would commit."""

    def __init__(self, harness, directory):
        self.harness = harness
        self.directory = directory
        self.counter = 0
        self.callbacks_run = []

    def run(self, steps, transaction, expected):
        """Run `steps` in `transaction`; on success add what they committed to `expected`."""
        pending = {"rows": [], "files": [], "callbacks": []}
        for current in steps:
            if current[0] == "block":
                self._block(current[1], current[2], pending)
                continue
            if current[0] == "generator":
                self._generator(current[1], current[2], pending)
                continue
            if current[0] == "fail":
                raise Fail()
            self.counter += 1
            value = f"v{self.counter}"
            if current[0] == "write":
                self.harness.write(transaction, value)
                pending["rows"].append(value)
            elif current[0] == "stage":
                stage_file(os.path.join(self.directory, f"{value}.txt"), value)
                pending["files"].append(f"{value}.txt")
            else:  # the transaction's own on_commit and the module-level one, alternately
                register = transaction.on_commit if self.counter % 2 else on_commit
                register(lambda value=value: self.callbacks_run.append(value))
                pending["callbacks"].append(value)
        for kind, values in pending.items():
            expected[kind] += values

    def _block(self, steps, catch, pending):
        inner = {"rows": [], "files": [], "callbacks": []}
        try:
            with atomic(self.harness.target()) as transaction:
                self.run(steps, transaction, inner)
        except Fail:
            if not catch:
                raise
            return  # the inner block rolled back alone
        for kind, values in inner.items():
            pending[kind] += values

    def _generator(self, steps, close_early, pending):
        """The steps in a generator decorated with atomic: kept only if it is exhausted; a
        failure in it (always caught here) or closing it before the end rolls it back."""
        inner = {"rows": [], "files": [], "callbacks": []}

        @atomic(self.harness.target())
        def body():
            self.run(steps, current_transaction(), inner)
            yield

        run = body()
        try:
            next(run)
        except Fail:
            return
        if close_early:
            run.close()
            return
        for _ in run:
            pass
        for kind, values in inner.items():
            pending[kind] += values


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=st.lists(step, max_size=6), commit_fails=st.booleans(), named_staging=st.booleans())
def test_random_programs_commit_exactly_what_the_model_says(harness, tmp_path, steps, commit_fails, named_staging):
    harness.clear()
    directory = tempfile.mkdtemp(dir=tmp_path)
    program = Program(harness, directory)
    expected = {"rows": [], "files": [], "callbacks": []}
    original_backend_for = transaction_module.backend_for

    def backend_whose_commit_fails(target):
        backend = original_backend_for(target)
        backend.commit = lambda: (_ for _ in ()).throw(Fail("commit"))
        return backend

    if commit_fails:
        transaction_module.backend_for = backend_whose_commit_fails
    unnamed_staging = staging._O_TMPFILE
    if named_staging:
        staging._O_TMPFILE = 0
    try:
        with atomic(harness.target()) as transaction:
            program.run(steps, transaction, expected)
    except Fail:
        expected = {"rows": [], "files": [], "callbacks": []}
    finally:
        transaction_module.backend_for = original_backend_for
        staging._O_TMPFILE = unnamed_staging
    assert harness.committed() == sorted(expected["rows"])
    assert sorted(os.listdir(directory)) == sorted(expected["files"])
    assert program.callbacks_run == expected["callbacks"]
