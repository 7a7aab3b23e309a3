"""Checking a project's modules in several processes at once.

The rules run after the project model and its call graph are built, in the one process that
holds them. For a full run with `--jobs N` that is most of the time the other cores sit idle, so
N - 1 workers are forked then (each with the model as it is, at no cost of copying it) and they
and the parent check the modules between them: each process takes the next module itself from
a counter in shared memory (a worker never waits for the parent to hand it one), the workers
from the first file on and the parent from the last one back, and a worker sends the outcomes of
its modules back pickled, all at once when none is left.

What a module's check finds does not depend on what the model worked out before it (see
tests/test_evaluation_order.py: incremental runs rely on the same), so the modules may be split
among processes in any way and the findings are the ones one process would give. A worker works
out again some values the others work out too (a helper many modules call); taking neighbouring
files keeps that small, as the modules of one package mostly share their helpers.

Work that every process needs the whole of before it checks a module (the call graph) can be
shared out too (`SharedWork`): the workers are forked before it, each process does one part, sends
it to the others, and puts the parts together. A part a worker does not send (it died, or raised)
is done by the parent.

A worker that dies (killed, out of memory) or whose check raises loses nothing: every module
without an answer at the end is checked in the parent, which then fails as a run in one process
would. Needs `fork`; without it (Windows) the parent checks every module.
"""

import pickle
import signal
from typing import Callable, Dict, List, NamedTuple, Optional

_MIN_MODULES = 4  # fewer are checked in less time than forking a worker takes
# The lock is held for an instant; one not had in this long was held by a worker that died
# holding it, and the process asking takes no more modules (the parent checks what is left).
_LOCK_SECONDS = 1.0
_DONE = pickle.dumps(None)


class SharedWork(NamedTuple):
    """Work done before any check, in parts: `part(i, parts)` is the i-th of `parts` (a picklable
    value), `join(all_parts)` puts them together in the process that calls it."""

    part: Callable[[int, int], object]
    join: Callable[[List[object]], None]


def check_in_processes(check: Callable[[int], object], count: int, jobs: int,
                       shared: Optional[SharedWork] = None) -> Dict[int, object]:
    """`check(i)` for every i < count (the modules in the order of their files), in up to `jobs`
    processes, after `shared` (if any) is done in every one of them; returns each result by i."""
    context = _fork_context() if jobs > 1 and count >= _MIN_MODULES else None
    if context is None:
        if shared is not None:
            shared.join([shared.part(0, 1)])
        return {index: check(index) for index in range(count)}
    return _SharedQueue(context, count).run(check, jobs - 1, shared)


def _fork_context():
    import multiprocessing

    if "fork" not in multiprocessing.get_all_start_methods():
        return None
    return multiprocessing.get_context("fork")


class _SharedQueue:
    """The modules not taken yet, [front, back) in shared memory, and the processes taking them."""

    def __init__(self, context, count: int):
        self.context, self.count = context, count
        self.bounds = context.RawArray("q", [0, count])  # front, back
        self.lock = context.Lock()

    def take(self, from_front: bool) -> Optional[int]:
        if not self.lock.acquire(timeout=_LOCK_SECONDS):
            return None
        try:
            front, back = self.bounds
            if front >= back:
                return None
            if from_front:
                self.bounds[0] = front + 1
                return front
            self.bounds[1] = back - 1
            return back - 1
        finally:
            self.lock.release()

    def run(self, check: Callable[[int], object], workers: int, shared: Optional[SharedWork]) -> Dict[int, object]:
        from multiprocessing.connection import wait

        results: Dict[int, object] = {}
        pipes: List[object] = []
        inboxes: List[object] = []  # the parent's end of the pipe to each worker, for the shared parts
        processes = []
        try:
            for number in range(workers):
                parent_end, worker_end = self.context.Pipe(duplex=False)
                inbox, outbox = self.context.Pipe(duplex=False)
                process = self.context.Process(target=self._worker, daemon=True,
                                               args=(worker_end, inbox, outbox, number, workers + 1, check, shared))
                try:
                    process.start()
                except OSError:  # no process to be had: the parent checks the modules alone
                    parent_end.close()
                    outbox.close()
                    break
                finally:
                    worker_end.close()  # the worker's copy is the only one left: its death closes the pipe
                    inbox.close()
                pipes.append(parent_end)
                inboxes.append(outbox)
                processes.append(process)
            if shared is not None:
                self._share(shared, pipes, inboxes, workers + 1)
            while True:
                for pipe in wait(pipes, timeout=0):  # (answers read as they come: a full pipe stalls a worker)
                    self._receive(pipe, pipes, results)
                index = self.take(from_front=False)
                if index is None:
                    break
                results[index] = check(index)
            while pipes:
                for pipe in wait(pipes):
                    self._receive(pipe, pipes, results)
        except BaseException:  # Ctrl-C, or a bug in a check: the workers' work is of no use now
            for process in processes:
                process.terminate()
            raise
        finally:
            for pipe in pipes + inboxes:
                pipe.close()
            for process in processes:
                process.join()
        for index in range(self.count):  # what a worker took and did not answer
            if index not in results:
                results[index] = check(index)
        return results

    @staticmethod
    def _share(shared: SharedWork, pipes: List[object], inboxes: List[object], parts: int) -> None:
        """The parent's part of the shared work (the last), the workers' parts received (those
        missing done here), all of them sent to each worker, and put together."""
        done: List[object] = [None] * parts
        done[-1] = shared.part(parts - 1, parts)
        for number, pipe in enumerate(list(pipes)):
            try:
                answer = pickle.loads(pipe.recv_bytes())
            except (EOFError, OSError):
                answer = None
            if not isinstance(answer, tuple):  # dead, or its part raised: it checks no module
                pipes.remove(pipe)
                pipe.close()
            else:
                done[number] = answer[1]
        for number, part in enumerate(done):
            if part is None:
                done[number] = shared.part(number, parts)
        everything = pickle.dumps(done, protocol=pickle.HIGHEST_PROTOCOL)
        for inbox in inboxes:
            try:
                inbox.send_bytes(everything)
            except OSError:
                pass  # that worker is gone
        shared.join(done)

    @staticmethod
    def _receive(pipe, pipes: List[object], results: Dict[int, object]) -> None:
        try:
            answer = pickle.loads(pipe.recv_bytes())
        except (EOFError, OSError):
            answer = None
        if answer is None:  # done, dead, or its check raised
            pipes.remove(pipe)
            pipe.close()
            return
        results.update(answer)

    def _worker(self, pipe, inbox, outbox, number: int, parts: int, check: Callable[[int], object],
                shared: Optional[SharedWork]) -> None:
        """A check worker: does part `number` of the shared work, sends it as `("part", part)` and
        puts together all the parts the parent sends back; then takes modules from the front until
        none is left and sends `[(index, result), ...]` for them, then None. A part or a check that
        raises (a bug in txlint) ends the worker: the parent does that part or module again."""
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is for the parent, which ends its workers
        outbox.close()  # the parent's end: with it closed here, the parent's death ends `recv` below
        checked: List[tuple] = []
        try:
            if shared is not None:
                part = shared.part(number, parts)
                pipe.send_bytes(pickle.dumps(("part", part), protocol=pickle.HIGHEST_PROTOCOL))
                shared.join(pickle.loads(inbox.recv_bytes()))
            while True:
                index = self.take(from_front=True)
                if index is None:
                    break
                checked.append((index, check(index)))
        except Exception:
            pass  # the parent checks what has no answer
        try:
            # All at once when no module is left: sent one by one, they filled the pipe while the
            # parent checked a module of its own, and the worker waited (a third of its time).
            pipe.send_bytes(pickle.dumps(checked, protocol=pickle.HIGHEST_PROTOCOL))
            pipe.send_bytes(_DONE)
        except Exception:
            pass  # an outcome that does not pickle (the parent checks those modules again), or the parent is gone
        finally:
            pipe.close()
            inbox.close()
