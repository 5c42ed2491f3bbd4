"""A Temporal worker process of the tracewright driver (drivers/temporal/driver.py
starts it; it is not meant to be run by hand).

    worker.py wf  ADDRESS NAMESPACE TASK_QUEUE EXPORT SPANS_FILE VARIANT
    worker.py act ADDRESS NAMESPACE TASK_QUEUE EXPORT SPANS_FILE LEDGER_FILE [drop-tracer-header]

`wf` runs the saga workflow (the variant of drivers/temporal/saga.py named by
VARIANT) and no activity; `act` runs every activity and no workflow, one
attempt at a time, each attempt's outcome given by the driver (with
`drop-tracer-header`, the model's DropTracerHeader bug: RunActivity ignores the
`_tracer-data` header the workflow sent). Both trace
through temporalio's OpenTelemetry TracingInterceptor into SPANS_FILE with the
span processor EXPORT names.

It talks JSON lines: events on stdout (`ready`, `attempt`, `ended`, `flushed`),
commands on stdin (`outcome`, `flush`). It exits when stdin closes; the driver
kills it with SIGKILL to simulate a crash.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import threading
from collections.abc import Sequence
from datetime import timedelta

from opentelemetry import trace
from temporalio import activity
from temporalio.client import Client
from temporalio.common import RawValue
from temporalio.contrib.opentelemetry import TracingInterceptor
from temporalio.exceptions import ApplicationError
from temporalio.worker import Worker

from common import Lines, tracer_provider
import saga

out = Lines()


def step_of(activity_type: str) -> tuple[str, int]:
    for prefix, op in (("Compensate", "undo"), ("Step", "do")):
        if activity_type.startswith(prefix):
            digits = activity_type[len(prefix):].removesuffix("v2")
            return op, int(digits)
    raise ValueError(f"unknown activity type {activity_type!r}")


class Attempts:
    """Attempts waiting for the outcome the driver gives them."""

    def __init__(self, loop: asyncio.AbstractEventLoop, ledger_file: str):
        self.loop = loop
        self.waiting: dict[str, asyncio.Future] = {}
        self.ledger_fd = os.open(ledger_file, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)

    def give(self, activity_id: str, outcome: str) -> None:
        fut = self.waiting.pop(activity_id, None)
        if fut is None or fut.done():
            out.send({"ev": "error", "error": f"no attempt of activity {activity_id} is waiting for an outcome"})
            return
        fut.set_result(outcome)

    async def run(self, args) -> str:
        info = activity.info()
        ty, aid, n = info.activity_type, info.activity_id, info.attempt
        trace.get_current_span().set_attribute("temporalActivityAttempt", n)
        fut = self.loop.create_future()
        self.waiting[aid] = fut
        out.send({"ev": "attempt", "activity_id": aid, "type": ty, "attempt": n})
        while not fut.done():
            activity.heartbeat()
            await asyncio.wait({fut}, timeout=0.25)
        outcome = fut.result()
        op, step = step_of(ty)
        if outcome in ("ok", "effect-timeout"):
            row = {"step": step, "op": op, "type": ty, "activity_id": aid, "attempt": n}
            os.write(self.ledger_fd, (json.dumps(row) + "\n").encode())
        out.send({"ev": "ended", "activity_id": aid, "attempt": n, "outcome": outcome})
        if outcome == "ok":
            return "ok"
        if outcome == "retryable":
            raise ApplicationError(f"{ty} attempt {n} failed (retryable)", type="Retryable")
        if outcome == "nonretryable":
            raise ApplicationError(f"{ty} attempt {n} failed (non-retryable)", type=saga.NON_RETRYABLE)
        if outcome == "effect-timeout":
            # The effect has landed; now stop heartbeating until the server
            # has timed the attempt out, so its completion is never recorded.
            await asyncio.sleep(saga.HEARTBEAT_TIMEOUT.total_seconds() * 2 + 1)
            return "late"
        raise ApplicationError(f"unknown outcome {outcome!r}", type="DriverError", non_retryable=True)


def read_commands(loop: asyncio.AbstractEventLoop, handle) -> None:
    for line in sys.stdin:
        if not line.strip():
            continue
        try:
            cmd = json.loads(line)
        except ValueError:
            out.send({"ev": "error", "error": f"not JSON: {line.strip()[:80]}"})
            continue
        loop.call_soon_threadsafe(handle, cmd)
    loop.call_soon_threadsafe(handle, {"op": "eof"})


class DropTracerHeader(TracingInterceptor):
    """The seeded bug: activities start their span with no parent context."""

    def _context_from_headers(self, headers):
        return None


async def main(argv: list[str]) -> None:
    role, address, namespace, task_queue, export, spans_file, extra, *flags = argv
    provider = tracer_provider(export, spans_file, f"temporal-{role}-worker")
    kind = DropTracerHeader if "drop-tracer-header" in flags else TracingInterceptor
    interceptor = kind(provider.get_tracer("tracewright.temporal"))
    client = await asyncio.wait_for(Client.connect(address, namespace=namespace), timeout=20)
    loop = asyncio.get_running_loop()
    attempts = Attempts(loop, extra) if role == "act" else None

    def handle(cmd: dict) -> None:
        op = cmd.get("op")
        if op == "outcome" and attempts is not None:
            attempts.give(str(cmd.get("activity_id")), str(cmd.get("outcome")))
        elif op == "flush":
            done = provider.force_flush(10_000)
            out.send({"ev": "flushed", "ok": bool(done)})
        elif op == "eof":
            # The driver is gone: so is this worker, at once.
            out.flush()
            os._exit(0)
        else:
            out.send({"ev": "error", "error": f"unknown command {op!r}"})

    if role == "wf":
        worker = Worker(
            client,
            task_queue=task_queue,
            workflows=[saga.VARIANTS[extra]],
            interceptors=[interceptor],
            # No sticky cache: every workflow task goes to the normal queue and
            # replays the history. With a sticky cache, a killed worker's next
            # task waits on its sticky queue and the server records a
            # WorkflowTaskTimedOut (ScheduleToStart) the model does not have.
            max_cached_workflows=0,
        )
    else:

        @activity.defn(dynamic=True)
        async def any_activity(args: Sequence[RawValue]) -> str:
            return await attempts.run(args)

        worker = Worker(
            client,
            task_queue=task_queue,
            activities=[any_activity],
            interceptors=[interceptor],
            max_concurrent_activities=1,
        )
    threading.Thread(target=read_commands, args=(loop, handle), daemon=True).start()
    async with worker:
        out.send({"ev": "ready", "role": role, "pid": os.getpid()})
        await loop.create_future()


if __name__ == "__main__":
    try:
        asyncio.run(main(sys.argv[1:]))
    except BaseException as err:  # reported, then a hard exit: no atexit flush
        out.send({"ev": "fatal", "error": f"{type(err).__name__}: {err}"})
        out.flush()
        os._exit(3)
    out.flush()
    os._exit(0)
