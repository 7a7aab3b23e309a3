"""Each file's facts: decoded, parsed and extracted in one walk, in worker processes when there
are many (a worker that dies fails its file with an internal error, never hangs the run)."""

import pickle
import signal
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Deque, Dict, List, Optional, Tuple

from txlint.cache import Cache
from txlint.errors import InternalErrorMessage, internal_error
from txlint.facts import ModuleFacts
from txlint.findings import Finding
from txlint.progress import Progress
from txlint.source import SourceFile, decode, load_source, parse, split_lines
from txlint.suppressions import parse_suppressions

@dataclass
class FileResult:
    """What one file gave: its facts, or a TXL000 finding."""

    path: str
    facts: Optional[ModuleFacts] = None
    parse_error: Optional[Finding] = None
    internal_error: Optional[str] = None  # txlint itself failed on this file (a bug, reported, never cached)


def facts_from_source(text: str, path: str, module: str, is_package: bool = False) -> FileResult:
    from txlint.extract import extract

    if text.startswith("\ufeff"):
        text = text[1:]
    tree, problem = parse(text, path)
    if problem is not None:
        return FileResult(path, parse_error=problem)
    lines = split_lines(text)
    try:
        facts = extract(tree, text, lines, path, module, is_package)
    except Exception as error:  # a bug in txlint on one file must not end the run
        return FileResult(path, internal_error=internal_error("extracting facts from", error, path))
    facts.suppressions, facts.suppression_reasons, facts.suppression_styles = parse_suppressions(lines)
    return FileResult(path, facts=facts)


def facts_from_file(source: SourceFile) -> FileResult:
    if source.read_error is not None:
        return FileResult(source.shown, parse_error=source.read_error)
    text, problem = decode(source.data, source.shown)
    if problem is not None:
        return FileResult(source.shown, parse_error=problem)
    return facts_from_source(text, source.shown, source.module, source.is_package)


def read_file(path: Path) -> FileResult:
    return facts_from_file(load_source(path))


def parse_all(sources: List[SourceFile], jobs: int, cache: Optional[Cache],
               progress: Optional[Progress] = None, meanwhile: Optional[Callable[[], None]] = None) -> List[FileResult]:
    """Facts for each source, in order, stored in the cache; in `jobs` processes (this one and
    `jobs - 1` workers). A worker stores what it parsed itself and hands it over pickled once.
    `meanwhile`: done in this process once the workers have started, if there are any."""
    progress = progress or Progress()
    progress.start(len(sources))
    if jobs <= 1 or len(sources) < 2:
        results = []
        for source in sources:
            results.append(facts_from_file(source))
            if _cacheable(source, results[-1]) and cache is not None:
                cache.store("facts", source.key, results[-1])
            progress.parsed()
        return results
    order = sorted(range(len(sources)), key=lambda index: -len(sources[index].data or b""))
    return _ParseWorkers(sources, cache, min(jobs, len(sources)) - 1, progress).parse(order, meanwhile)


class _ParseWorkers:
    """This process and others that parse sources, each worker given indexes on a pipe (forked, a
    worker has the sources already) and answering with each pickled result, in order. The workers
    take the largest files first and this process the smallest, between reading the workers'
    answers: what it parses itself is never pickled, which is a fifth of what parsing costs a
    worker and the parent together. Unlike multiprocessing.Pool, which waits forever for a task
    whose worker was killed, a worker's death is seen at once: the file it was parsing fails with
    an internal error, its other task goes to a new worker, the run goes on."""

    TASKS_EACH = 2  # one being parsed, one waiting: a worker never idles while the parent parses a small file

    def __init__(self, sources: List[SourceFile], cache: Optional[Cache], count: int, progress: Progress):
        import multiprocessing

        self.context = multiprocessing.get_context(
            "fork" if "fork" in multiprocessing.get_all_start_methods() else None)
        self.sources, self.cache, self.count, self.progress = sources, cache, count, progress
        self.waiting: Deque[int] = deque()  # largest first
        self.workers: Dict[object, Tuple[object, Deque[int]]] = {}  # pipe -> (process, indexes given)
        self.results: List[Optional[FileResult]] = [None] * len(sources)

    def parse(self, order: List[int], meanwhile: Optional[Callable[[], None]]) -> List[FileResult]:
        from multiprocessing.connection import wait

        self.waiting.extend(order)
        try:
            while self.waiting and len(self.workers) < self.count and self._start():
                pass
            if meanwhile is not None:  # (each worker has its next file already: none waits for this)
                meanwhile()
            while True:
                busy = [pipe for pipe, (_, given) in self.workers.items() if given]
                for pipe in busy:
                    if pipe.poll():  # (a dead worker's pipe polls as readable too)
                        self._receive(pipe)
                if self.waiting:  # the smallest file left, parsed here (or all of them, if no worker started)
                    index = self.waiting.pop()
                    self.results[index] = _parsed_here(self.sources[index], self.cache)
                    self.progress.parsed()
                    continue
                busy = [pipe for pipe, (_, given) in self.workers.items() if given]
                if not busy:
                    break
                for pipe in wait(busy):
                    self._receive(pipe)
        except BaseException:
            for process, _ in self.workers.values():
                process.terminate()
            raise
        finally:
            for pipe, (process, _) in self.workers.items():
                try:
                    pipe.send(None)  # (not a closed pipe: the workers forked later hold this end too)
                except OSError:
                    pass  # it is gone already
                pipe.close()
                process.join()
        return self.results

    def _start(self) -> bool:
        parent_end, worker_end = self.context.Pipe()
        process = self.context.Process(target=_parse_worker, args=(worker_end, self.sources, self.cache), daemon=True)
        try:
            process.start()
        except OSError:  # no process to be had (a limit on processes or memory)
            parent_end.close()
            return False
        finally:
            worker_end.close()  # the worker's copy is the only one left: its death closes the pipe
        self.workers[parent_end] = (process, deque())
        self._feed(parent_end)
        return True

    def _feed(self, pipe) -> None:
        given = self.workers[pipe][1]
        while self.waiting and len(given) < self.TASKS_EACH:
            index = self.waiting.popleft()
            given.append(index)
            try:
                pipe.send(index)
            except OSError:
                return  # the worker is dead: its pipe's end says so to `_receive`

    def _receive(self, pipe) -> None:
        process, given = self.workers[pipe]
        try:
            pickled = pipe.recv_bytes()
        except (EOFError, OSError):
            del self.workers[pipe]
            pipe.close()
            process.join()
            parsing = given.popleft()
            shown = self.sources[parsing].shown
            self.results[parsing] = FileResult(shown, internal_error=InternalErrorMessage(
                f"internal error while parsing {shown}: a parse worker died ({_exit_reason(process.exitcode)})",
                shown))
            self.progress.parsed()
            self.waiting.extendleft(reversed(given))
            if self.waiting:
                self._start()
                for other in list(self.workers):
                    self._feed(other)
            return
        self.results[given.popleft()] = pickle.loads(pickled)
        self.progress.parsed()
        self._feed(pipe)


def _exit_reason(exitcode: Optional[int]) -> str:
    if exitcode is not None and exitcode < 0:
        number = -exitcode
        if number == getattr(signal, "SIGKILL", None):
            return f"killed by signal {number}, out of memory?"
        try:
            return f"killed by signal {number}, {signal.Signals(number).name}"
        except ValueError:
            return f"killed by signal {number}"
    return f"exit status {exitcode}"


def _parse_worker(pipe, sources: List[SourceFile], cache: Optional[Cache]) -> None:
    """A parse worker: an index in, that source's pickled result out, until None (or the parent's end)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is for the parent, which ends its workers
    while True:
        try:
            index = pipe.recv()
        except EOFError:
            return
        if index is None:
            return
        pipe.send_bytes(_parse_pickled(sources[index], cache))


def _parse_pickled(source: SourceFile, cache: Optional[Cache]) -> bytes:
    result = _parsed(source)
    pickled = pickle.dumps(result, protocol=pickle.HIGHEST_PROTOCOL)
    if cache is not None and _cacheable(source, result):
        cache.store_pickled("facts", source.key, pickled)
    return pickled


def _parsed_here(source: SourceFile, cache: Optional[Cache]) -> FileResult:
    """A source's facts for this process, which needs no pickling but for the cache."""
    result = _parsed(source)
    if cache is not None and _cacheable(source, result):
        cache.store("facts", source.key, result)
    return result


def _parsed(source: SourceFile) -> FileResult:
    try:
        return facts_from_file(source)
    except Exception as error:  # a bug in txlint on one file: reported, and the run goes on
        return FileResult(source.shown, internal_error=internal_error("parsing", error, source.shown))


def _cacheable(source: SourceFile, result: FileResult) -> bool:
    return bool(source.key) and result.internal_error is None  # a bug is reported again, never cached
