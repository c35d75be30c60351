"""Running files in worker processes so that no file can take the scan down: a worker that dies (a crash in
a C extension) costs the files it held, each retried alone, and only the one that kills its process again is
lost, as a finding; a file that takes longer than its time budget is stopped, as a finding."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from itertools import chain
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from concurrent.futures import ProcessPoolExecutor

T = TypeVar("T")
R = TypeVar("R")


class Overrun(BaseException):
    """A file took longer than its time budget (a BaseException: no `except Exception` inside may keep it)."""


@contextmanager
def time_limit(seconds: float) -> Iterator[None]:
    """Raise Overrun in this thread after `seconds` of wall time, where the platform has interval timers and
    this is the main thread (elsewhere, no limit)."""
    import signal  # a cached scan bounds no file's time

    usable = seconds > 0 and hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()
    if not usable:
        yield
        return

    def expire(_signum: int, _frame: Any) -> None:
        raise Overrun

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


LARGE_FILE = 256 * 1024  # after a file this large, a worker gives the memory it freed back to the system
_trim: Callable[[int], int] | bool | None = False  # glibc's malloc_trim, None where there is none


def release_memory(path: str | os.PathLike[str]) -> None:
    """After a large file, hand the heap memory its nodes and model freed back to the system (glibc keeps it for
    the process otherwise): a worker's memory is then that of the file it reads, not of the largest it read."""
    global _trim
    try:
        if os.stat(path).st_size < LARGE_FILE:
            return
    except OSError:
        return
    if _trim is False:
        try:
            import ctypes

            _trim = ctypes.CDLL("libc.so.6").malloc_trim
        except (OSError, AttributeError):
            _trim = None
    if callable(_trim):
        _trim(0)


def _context() -> Any:
    import multiprocessing

    try:
        return multiprocessing.get_context("fork")
    except ValueError:  # pragma: no cover - platforms without fork
        return multiprocessing.get_context()


def _nothing() -> None:
    pass


def prestart(jobs: int) -> ProcessPoolExecutor:
    """`jobs` worker processes, forked now: before a scan reads its file list and project index, a worker holds
    (and its memory counts) only mllint's code, not the main process's data."""
    from concurrent.futures import ProcessPoolExecutor

    pool = ProcessPoolExecutor(jobs, mp_context=_context())
    pool.submit(_nothing).result()  # a forking pool starts every worker at its first task
    return pool


def parallel(
    items: Sequence[T],
    work: Callable[[T], R],
    died: Callable[[T], R],
    jobs: int,
    chunk: int,
    started: ProcessPoolExecutor | None = None,
    singles: int = 0,
) -> Iterator[R]:
    """`work(item)` for each item in worker processes, in order (in `started` first, where given); the first
    `singles` items go to one worker as one task, a lane of their own beside the others (two large files never
    peak in two workers at once), the rest `chunk` at a time. When a worker dies,
    the items it may have held run again one process each; an item whose process dies again yields `died(item)`."""
    from concurrent.futures import ProcessPoolExecutor
    from concurrent.futures.process import BrokenProcessPool

    ctx = _context()
    pending = list(items)
    while pending:
        done = 0
        try:
            pool = started or ProcessPoolExecutor(jobs, mp_context=ctx)
            started = None
            with pool:
                one_by_one, chunked = pending[:singles], pending[singles:]
                singles = 0  # a retry after a crash sends the rest in chunks
                lane = pool.map(work, one_by_one, chunksize=max(1, len(one_by_one)))
                results = chain(lane, pool.map(work, chunked, chunksize=chunk))
                for result in results:
                    yield result
                    done += 1
            return
        except BrokenProcessPool:
            pending = pending[done:]
            suspects, pending = pending[: (jobs + 1) * chunk], pending[(jobs + 1) * chunk :]  # what was in flight
            for item in suspects:
                with ProcessPoolExecutor(1, mp_context=ctx) as alone:
                    try:
                        yield alone.submit(work, item).result()
                    except BrokenProcessPool:
                        yield died(item)
