"""``--jobs N`` in processes: where rendering is the bottleneck and the cores
allow it, the connections of a fleet are worked on in forked worker processes
(each renders on its own core, free of the others' GIL), not in threads.

When: ``MODELMIG_JOBS_MODE`` says ``threads`` or ``processes``; else (``auto``)
processes only for work that renders (run, rollback, reset, fresh), on 4 or more
usable cores, where ``fork`` exists. On fewer cores threads serve: a fleet's
rendering is done once per migration (``run/shared.py``, the plan cache) and the
database servers are the bottleneck, which threads overlap as well as processes,
without a process per worker.

How: the workers are forked from the command's process after what they need was
imported there (``prepare_threads``): the plugins, the drivers and their renderers
come loaded, as in the command; each worker opens its own sessions. Everything a
worker reports goes through one queue to the command's process, which emits it in
the order each worker sent it, then the connection's end (its report, its result,
its exception) — so output, events, summary order and the isolation of a failed
connection are those of the threads. An exception that cannot cross processes
arrives as a ``ModelmigError`` with its one line.
"""

from __future__ import annotations

import multiprocessing
import os
import pickle
import threading
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import replace
from typing import Any

from .errors import ModelmigError
from .run.report import ConnectionFinished, ConnectionReport, Event

_INHERITED: dict[str, Any] = {}  # what the forked workers find: the runners, the work, the queue


def usable_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def wanted(jobs: int, count: int, render: bool) -> bool:
    """Whether ``each`` should work in processes (see the module's docstring)."""
    if jobs <= 1 or count <= 1 or "fork" not in multiprocessing.get_all_start_methods():
        return False
    mode = os.environ.get("MODELMIG_JOBS_MODE", "auto")
    if mode in ("threads", "processes"):
        return mode == "processes"
    return render and usable_cores() >= 4


def _portable(exc: BaseException, line: str) -> bytes:
    try:
        data = pickle.dumps(exc)
        pickle.loads(data)
        return data
    except Exception:  # noqa: BLE001 - what cannot cross goes as its line
        return pickle.dumps(ModelmigError(line))


def _worker(i: int) -> None:
    """One connection, in a worker process: its events, then its end, on the queue."""
    import time

    from .run.report import ConnectionStarted

    runners, work, queue = _INHERITED["runners"], _INHERITED["work"], _INHERITED["queue"]
    one_line: Callable[[BaseException], str] = _INHERITED["one_line"]
    runner = runners[i]
    runner._emit = lambda event: queue.put(("event", event))
    queue.put(("event", ConnectionStarted(runner.target.name, "", runner.driver.name)))
    started = time.perf_counter()
    result: Any = None
    exc_data: bytes | None = None
    try:
        with runner:
            result = work(runner)
    except Exception as exc:  # noqa: BLE001 - sent to the command's process, which decides
        runner.report.error = one_line(exc)
        exc_data = _portable(exc, runner.report.error)
    finally:
        runner.report.duration_ms = int((time.perf_counter() - started) * 1000)
    try:
        pickle.dumps(result)
    except Exception as exc:  # noqa: BLE001
        runner.report.error = runner.report.error or f"its result cannot be sent back ({exc})"
        result = None
    queue.put(("end", i, runner.report, result, exc_data))


def run_in_processes(
    runners: list[Any],
    outcomes: list[Any],
    work: Callable[[Any], Any],
    *,
    jobs: int,
    fail_fast: bool,
    emit: Callable[[Event], None],
    skip: Callable[[int], None],
    failed: threading.Event,
    one_line: Callable[[BaseException], str],
) -> None:
    """``each``'s loop over ``runners``, ``jobs`` worker processes at a time;
    ``one_line`` words a failed connection's error as ``each`` does."""
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    _INHERITED.update(runners=runners, work=work, queue=queue, one_line=one_line)
    ended = [threading.Event() for _ in runners]

    def end(i: int, report: ConnectionReport, result: Any, exc_data: bytes | None) -> None:
        outcome = outcomes[i]
        outcome.report.__dict__.update(report.__dict__)
        outcome.result = result
        if exc_data is not None:
            try:
                outcome.exception = pickle.loads(exc_data)
            except Exception:  # noqa: BLE001
                outcome.exception = ModelmigError(report.error or "failed")
            failed.set()
        emit(
            ConnectionFinished(
                runners[i].target.name, "", report.error, report.duration_ms, exception=outcome.exception
            )
        )

    def read() -> None:
        left = len(runners)
        while left:
            message = queue.get()
            if message[0] == "event":
                emit(message[1])
            elif message[0] == "end":
                end(*message[1:])
                ended[message[1]].set()
                left -= 1
            elif message[0] == "lost":  # a worker that died: its connection's end
                i, line = message[1], message[2]
                if not ended[i].is_set():
                    report = replace(outcomes[i].report, error=line)
                    end(i, report, None, pickle.dumps(ModelmigError(line)))
                    ended[i].set()
                    left -= 1
            else:  # "skipped": --fail-fast never started it (``skip`` said so)
                left -= 1

    reader = threading.Thread(target=read, name="modelmig-events", daemon=True)
    try:
        with ProcessPoolExecutor(max_workers=min(jobs, len(runners)), mp_context=context) as pool:
            reader.start()
            pending: dict[Future[None], int] = {}
            todo = list(range(len(runners)))
            while todo or pending:
                stop = failed.is_set() and fail_fast
                while todo and len(pending) < jobs and not stop:
                    i = todo.pop(0)
                    outcomes[i].started = True
                    pending[pool.submit(_worker, i)] = i
                if failed.is_set() and fail_fast:
                    for i in todo:
                        skip(i)
                        ended[i].set()
                        queue.put(("skipped", i))
                    todo = []
                if pending:
                    done, _ = wait(pending, return_when=FIRST_COMPLETED)
                    for future in done:
                        i = pending.pop(future)
                        error = future.exception()
                        if error is not None:  # the worker died (killed, crashed): only its connection fails
                            queue.put(("lost", i, f"its worker process ended: {error}"))
                        ended[i].wait()  # its events and its end are emitted before the next decision
        reader.join()
    finally:
        _INHERITED.clear()
