"""Checking a project's modules in several processes at once.

The rules run after the project model and its call graph are built, in the one process that
holds them. For a full run with `--jobs N` that is most of the time the other cores sit idle, so
N - 1 workers are forked then (each with the model as it is, at no cost of copying it) and they
and the parent check the modules between them, one module per task, the costliest first; a
worker sends each module's outcome back pickled.

What a module's check finds does not depend on what the model worked out before it (see
tests/test_evaluation_order.py: incremental runs rely on the same), so the modules may be split
among processes in any way and the findings are the ones one process would give. A worker works
out again some values the others work out too (a helper many modules call): about a tenth more
work in all, measured on airflow-core and pretix.

A worker that dies (killed, out of memory) loses nothing: the modules it had not answered are
checked in the parent. Needs `fork`; without it (Windows) the parent checks every module.
"""

import pickle
import signal
from collections import deque
from typing import Callable, Deque, Dict, List, Tuple

_TASKS_EACH = 2  # one being checked, one waiting: a worker does not idle while the parent is busy
_MIN_MODULES = 4  # fewer are checked in less time than forking a worker takes


def check_in_processes(check: Callable[[int], object], costs: List[int], jobs: int) -> Dict[int, object]:
    """`check(i)` for every i < len(costs) (`costs[i]`: how long module i is expected to take, in
    any unit), in up to `jobs` processes; returns each result by i."""
    context = _fork_context() if jobs > 1 and len(costs) >= _MIN_MODULES else None
    if context is None:  # in order, as the files are
        return {index: check(index) for index in range(len(costs))}
    results: Dict[int, object] = {}
    _Workers(check, context, results).run(deque(sorted(range(len(costs)), key=lambda index: -costs[index])), jobs - 1)
    return results


def _fork_context():
    import multiprocessing

    if "fork" not in multiprocessing.get_all_start_methods():
        return None
    return multiprocessing.get_context("fork")


class _Workers:
    """The forked workers and the parent, taking modules from one queue: the workers from its
    front (the costliest), the parent from its back, so that the parent, which feeds the workers
    between its own modules, is never long away from them."""

    def __init__(self, check: Callable[[int], object], context, results: Dict[int, object]):
        self.check, self.context, self.results = check, context, results
        self.workers: Dict[object, Tuple[object, Deque[int]]] = {}  # pipe -> (process, modules given)

    def run(self, waiting: Deque[int], count: int) -> None:
        from multiprocessing.connection import wait

        self.waiting = waiting
        try:
            for _ in range(count):
                if not self._start():
                    break
            while self.waiting:
                for pipe in wait(list(self.workers), timeout=0):
                    self._receive(pipe)
                if self.waiting:
                    index = self.waiting.pop()
                    self.results[index] = self.check(index)
            while any(given for _, given in self.workers.values()):
                for pipe in wait([pipe for pipe, (_, given) in self.workers.items() if given]):
                    self._receive(pipe)
                while self.waiting:  # a worker died: what it had not answered is checked here
                    index = self.waiting.pop()
                    self.results[index] = self.check(index)
        finally:
            for pipe, (process, _) in self.workers.items():
                try:
                    pipe.send(None)
                except OSError:
                    pass  # it is gone already
                pipe.close()
                process.join()

    def _start(self) -> bool:
        parent_end, worker_end = self.context.Pipe()
        process = self.context.Process(target=_worker, args=(worker_end, self.check), daemon=True)
        try:
            process.start()
        except OSError:  # no process to be had: the parent checks the modules alone
            parent_end.close()
            return False
        finally:
            worker_end.close()  # the worker's copy is the only one left: its death closes the pipe
        self.workers[parent_end] = (process, deque())
        self._feed(parent_end)
        return True

    def _feed(self, pipe) -> None:
        given = self.workers[pipe][1]
        while self.waiting and len(given) < _TASKS_EACH:
            index = self.waiting.popleft()
            given.append(index)
            try:
                pipe.send(index)
            except OSError:
                return  # the worker is dead: its end of the pipe says so to `_receive`

    def _receive(self, pipe) -> None:
        process, given = self.workers[pipe]
        try:
            answer = pickle.loads(pipe.recv_bytes())
        except (EOFError, OSError):
            answer = None
        if answer is None:  # the worker died, or its check raised: the rest is checked here
            del self.workers[pipe]
            pipe.close()
            process.join()
            self.waiting.extend(given)
            return
        self.results[given.popleft()] = answer[0]
        self._feed(pipe)


def _worker(pipe, check: Callable[[int], object]) -> None:
    """A check worker: a module's index in, `(its result,)` out pickled, until None. A check that
    raises (a bug in txlint) sends None and ends the worker: the parent checks that module again
    and fails as a run in one process would."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is for the parent, which ends its workers
    while True:
        try:
            index = pipe.recv()
        except EOFError:
            return
        if index is None:
            return
        try:
            answer = pickle.dumps((check(index),), protocol=pickle.HIGHEST_PROTOCOL)
        except Exception:
            pipe.send_bytes(pickle.dumps(None))
            return
        pipe.send_bytes(answer)
