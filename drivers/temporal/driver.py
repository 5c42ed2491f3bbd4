"""tracewright's Temporal driver: the saga of drivers/temporal/saga.py on a real
Temporal server, step by step, through the Python SDK (temporalio).

It speaks the JSON-lines protocol of drivers/temporal/PROTOCOL.md on
stdin/stdout (one request, one response, in order; logs on stderr). It is the
client process (StartWorkflow is traced here) and starts two worker processes
(drivers/temporal/worker.py): one for the workflow, one for the activities,
so that each can be killed on its own, as the model's workers crash.
"""

from __future__ import annotations

import asyncio
import json
import os
import platform
import queue
import signal
import subprocess
import sys
import threading
import time
import traceback
from importlib.metadata import version

from temporalio.api.enums.v1 import PendingActivityState
from temporalio.client import Client
from temporalio.contrib.opentelemetry import TracingInterceptor
from temporalio.worker import Replayer
from temporalio.client import WorkflowHistory

from common import PROTOCOL, Lines, tracer_provider
import saga

HERE = os.path.dirname(os.path.abspath(__file__))
out = Lines()


class DriverError(Exception):
    pass


def log(msg: str) -> None:
    print(f"temporal-driver: {msg}", file=sys.stderr, flush=True)


class WorkerProcess:
    """A worker.py child: its events arrive on a queue; every wait is bounded."""

    def __init__(self, role: str, args: list[str]):
        self.role = role
        self.proc = subprocess.Popen(
            [sys.executable, os.path.join(HERE, "worker.py"), role, *args],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=None,  # the driver's stderr: tracewright keeps its tail
            text=True,
            cwd=HERE,
        )
        self.events: queue.Queue = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()
        self.expect("ready", 30)

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            try:
                self.events.put(json.loads(line))
            except ValueError:
                log(f"{self.role} worker printed: {line.strip()[:200]}")
        self.events.put({"ev": "exit"})

    def send(self, cmd: dict) -> None:
        assert self.proc.stdin is not None
        try:
            self.proc.stdin.write(json.dumps(cmd) + "\n")
            self.proc.stdin.flush()
        except OSError as err:
            raise DriverError(f"{self.role} worker is gone: {err}")

    def expect(self, ev: str, timeout: float, match=lambda e: True) -> dict:
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise DriverError(f"{self.role} worker: no `{ev}` event within {timeout:.0f} s")
            try:
                e = self.events.get(timeout=left)
            except queue.Empty:
                continue
            if e.get("ev") == ev and match(e):
                return e
            if e.get("ev") in ("fatal", "exit", "error"):
                raise DriverError(f"{self.role} worker failed while waiting for `{ev}`: {e}")
            self.pending.append(e)

    pending: list = []

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)


class Driver:
    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.client = None
        self.provider = None
        self.wf: WorkerProcess | None = None
        self.act: WorkerProcess | None = None
        self.attempts: dict[str, dict] = {}  # activity_id -> last attempt seen
        self.attempt_log: list[dict] = []
        self.running: dict | None = None

    def run(self, coro, timeout: float = 30):
        return self.loop.run_until_complete(asyncio.wait_for(coro, timeout))

    # -- ops --------------------------------------------------------------

    def op_hello(self, req: dict) -> dict:
        return {
            "protocol": PROTOCOL,
            "sdk": "temporalio",
            "sdk_version": version("temporalio"),
            "otel_sdk_version": version("opentelemetry-sdk"),
            "language_version": platform.python_version(),
        }

    def op_start(self, req: dict) -> dict:
        self.cfg = req["config"]
        self.address, self.namespace = req["address"], req["namespace"]
        self.task_queue, self.workflow_id = req["task_queue"], req["workflow_id"]
        self.spans_file, self.ledger_file = req["spans_file"], req["ledger_file"]
        self.history_file = req["history_file"]
        bugs = set(self.cfg.get("bugs", []))
        variants = [b for b in bugs if b in saga.VARIANTS and b != "Nondeterministic"]
        if len(variants) > 1:
            raise DriverError(f"one workflow-code bug at a time, got {sorted(variants)}")
        self.variant = variants[0] if variants else "correct"
        # Code deployed after a workflow-worker crash.
        self.variant_after_crash = "Nondeterministic" if "Nondeterministic" in bugs else self.variant
        for f in (self.spans_file, self.ledger_file):
            open(f, "a").close()
        self.provider = tracer_provider(self.cfg["export"], self.spans_file, "temporal-client")
        interceptor = TracingInterceptor(self.provider.get_tracer("tracewright.temporal"))
        self.client = self.run(
            Client.connect(self.address, namespace=self.namespace, interceptors=[interceptor]), 30
        )
        self.wf = self._worker("wf", self.variant)
        self.act = self._worker("act", self.ledger_file)
        return {"variant": self.variant, "variant_after_crash": self.variant_after_crash}

    def _worker(self, role: str, extra: str) -> WorkerProcess:
        args = [self.address, self.namespace, self.task_queue, self.cfg["export"], self.spans_file, extra]
        if role == "act" and "DropTracerHeader" in self.cfg.get("bugs", []):
            args.append("drop-tracer-header")
        w = WorkerProcess(role, args)
        w.pending = []
        return w

    def _next_attempt(self, act: int, timeout: float) -> dict:
        aid = str(act)
        for e in list(self.act.pending):
            if e.get("ev") == "attempt" and e.get("activity_id") == aid:
                self.act.pending.remove(e)
                return e
        return self.act.expect("attempt", timeout, lambda e: e.get("activity_id") == aid)

    def _started(self) -> None:
        if self.client is None or self.wf is None or self.act is None:
            raise DriverError("no saga is running: `start` first")

    def op_act(self, req: dict) -> dict:
        self._started()
        a = req["action"]
        kind = a["kind"]
        if kind == "StartWorkflow":
            handle = self.run(
                self.client.start_workflow(
                    "Saga", self.cfg, id=self.workflow_id, task_queue=self.task_queue
                )
            )
            return {"run_id": handle.result_run_id}
        if kind == "ProcessWT":
            # The workflow worker polls on its own: tracewright waits for the
            # history to show the task.
            return {}
        if kind == "StartAttempt":
            e = self._next_attempt(int(a["act"]), float(req.get("timeout", 30)))
            self.running = e
            self.attempt_log.append({**e, "outcome": None})
            return {"attempt": e["attempt"], "type": e["type"]}
        if kind == "EndAttempt":
            aid = str(a["act"])
            row = self._running_row(aid)
            self.act.send({"op": "outcome", "activity_id": aid, "outcome": a["outcome"]})
            self.act.expect("ended", 30, lambda e: e.get("activity_id") == aid)
            row["outcome"] = a["outcome"]
            return {"attempt": row["attempt"]}
        if kind == "Flush":
            p = a["proc"]
            if p == "client":
                ok = self.provider.force_flush(10_000)
            else:
                w = self.wf if p == "wf" else self.act
                w.send({"op": "flush"})
                ok = w.expect("flushed", 20).get("ok")
            return {"flushed": bool(ok)}
        if kind == "CrashWorkflowWorker":
            self.wf.kill()
            self.wf = self._worker("wf", self.variant_after_crash)
            return {"code": self.variant_after_crash}
        if kind == "CrashActivityWorker":
            aid = str(a["act"])
            row = self._running_row(aid)
            self.act.kill()
            row["outcome"] = "crash"
            self.act = self._worker("act", self.ledger_file)
            return {"attempt": row["attempt"]}
        raise DriverError(f"unknown action kind {kind!r}")

    def _running_row(self, aid: str) -> dict:
        for row in reversed(self.attempt_log):
            if row["activity_id"] == aid and row["outcome"] is None:
                return row
        raise DriverError(f"activity {aid} has no attempt running")

    def op_observe(self, req: dict) -> dict:
        self._started()
        handle = self.client.get_workflow_handle(self.workflow_id)
        history = self.run(handle.fetch_history(), 30)
        raw = history.to_json_dict()
        tmp = self.history_file + ".tmp"
        with open(tmp, "w") as f:
            json.dump(raw, f)
        os.replace(tmp, self.history_file)
        desc = self.run(handle.describe(), 30)
        ledger = []
        with open(self.ledger_file) as f:
            for line in f:
                if line.strip():
                    ledger.append(json.loads(line))
        pending = [
            {
                "activity_id": p.activity_id,
                "attempt": p.attempt,
                "state": PendingActivityState.Name(p.state),
            }
            for p in desc.raw_description.pending_activities
        ]
        return {
            "history": raw.get("events", []),
            "status": desc.status.name if desc.status else None,
            "pending": pending,
            "attempts": self.attempt_log,
            "ledger": ledger,
        }

    def op_replay(self, req: dict) -> dict:
        """Replays the recorded history against a workflow variant, with no
        server: the SDK's Replayer."""
        with open(req["history_file"]) as f:
            history = WorkflowHistory.from_json(self.workflow_id, json.load(f))
        replayer = Replayer(workflows=[saga.VARIANTS[req["variant"]]])
        result = self.run(replayer.replay_workflow(history, raise_on_replay_failure=False), 60)
        err = result.replay_failure
        return {
            "variant": req["variant"],
            "failed": err is not None,
            "error_type": type(err).__name__ if err is not None else None,
            "error": str(err) if err is not None else None,
        }

    def op_shutdown(self, req: dict) -> dict:
        self.stop_workers()
        return {}

    def stop_workers(self) -> None:
        for w in (self.wf, self.act):
            if w is not None:
                try:
                    w.kill()
                except Exception:
                    pass
        self.wf = self.act = None


def main() -> None:
    d = Driver()
    for line in sys.stdin:
        if not line.strip():
            continue
        rid = None
        try:
            req = json.loads(line)
            rid = req.get("id")
            if req.get("v") != PROTOCOL:
                raise DriverError(f"protocol version {req.get('v')!r}, this driver speaks {PROTOCOL}")
            op = getattr(d, f"op_{req.get('op')}", None)
            if op is None:
                raise DriverError(f"unknown op: {req.get('op')}")
            res = op(req)
            out.send({"v": PROTOCOL, "id": rid, "ok": True, **res})
            if req.get("op") == "shutdown":
                break
        except Exception as err:
            log(traceback.format_exc())
            msg = f"{type(err).__name__}: {err}" if not isinstance(err, DriverError) else str(err)
            out.send({"v": PROTOCOL, "id": rid, "ok": False, "error": msg})
    d.stop_workers()
    # A hard exit: the client's core runtime may abort at interpreter exit
    # (sdk-python #300); every answer is already written and flushed.
    out.flush()
    if os.environ.get("TRACEWRIGHT_TEMPORAL_ABORT_AT_EXIT") == "1":
        # Fault injection for tracewright's tests: exit as #300 does.
        os.abort()
    os._exit(0)


if __name__ == "__main__":
    main()
