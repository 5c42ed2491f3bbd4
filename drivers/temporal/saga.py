"""The saga workflow tracewright runs on a real Temporal server, and its
buggy variants: the Rust twin is `src/models/workflow.rs` (the model's
`Commands`), the TLA+ one `specs/workflow/Workflow.tla`.

The workflow runs `steps` activities `Step1..StepN` in order and registers
each step's compensation after the step completes. When a step fails for good
(a non-retryable error, or MaximumAttempts used up) it runs the registered
compensations as `compensation` says (sequential: reverse order, stop at the
first failure; continue: reverse order, go on after a failure; parallel: all
at once) and fails the execution with the step's error.

Every variant is registered under the workflow type name `Saga`, so a worker
running a variant replays a history recorded by another one: that is how the
nondeterministic-code bug is shown. Each variant differs from `Saga` only in
the class attributes below, one per seeded bug of the model whose bug lives in
workflow code.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError

# The error type an activity raises for a failure that must not be retried.
NON_RETRYABLE = "NonRetryable"

# Heartbeats show the activity worker alive; a killed worker's attempt times
# out after HEARTBEAT_TIMEOUT. START_TO_CLOSE only bounds a lost heartbeat-less
# attempt and must exceed the longest wait the driver imposes on an attempt.
HEARTBEAT_TIMEOUT = timedelta(seconds=2)
START_TO_CLOSE = timedelta(seconds=60)
RETRY_INTERVAL = timedelta(milliseconds=200)


class Saga:
    """The correct saga."""

    # Seeded bugs (the model's Bugs constant), all off here.
    forward_compensation = False  # ForwardCompensation
    compensate_uncompleted = False  # CompensateUncompleted: register before the step runs
    unbounded_retry = False  # UnboundedRetry: MaximumAttempts ignored
    retry_non_retryable = False  # RetryNonRetryable: non-retryable type not in the policy
    no_compensation = False  # NoCompensation
    # Nondeterministic: step 1's activity type, as deployed code names it.
    step1_type = "Step1"

    def _policy(self, cfg: dict) -> RetryPolicy:
        return RetryPolicy(
            initial_interval=RETRY_INTERVAL,
            backoff_coefficient=1.0,
            maximum_interval=RETRY_INTERVAL,
            maximum_attempts=0 if self.unbounded_retry else int(cfg["max_attempts"]),
            non_retryable_error_types=[] if self.retry_non_retryable else [NON_RETRYABLE],
        )

    async def _run(self, ty: str, step: int, cfg: dict):
        return await workflow.execute_activity(
            ty,
            step,
            start_to_close_timeout=START_TO_CLOSE,
            heartbeat_timeout=HEARTBEAT_TIMEOUT,
            retry_policy=self._policy(cfg),
        )

    async def run_saga(self, cfg: dict) -> str:
        steps = int(cfg["steps"])
        registered: list[int] = []
        failure: ActivityError | None = None
        failed_step = 0
        for i in range(1, steps + 1):
            if self.compensate_uncompleted:
                registered.append(i)
            try:
                await self._run(self.step1_type if i == 1 else f"Step{i}", i, cfg)
            except ActivityError as err:
                failure, failed_step = err, i
                break
            if not self.compensate_uncompleted:
                registered.append(i)
        if failure is None:
            return "completed"
        if not self.no_compensation:
            order = list(registered) if self.forward_compensation else list(reversed(registered))
            mode = cfg["compensation"]
            if mode == "parallel":
                await asyncio.gather(
                    *(self._run(f"Compensate{i}", i, cfg) for i in order), return_exceptions=True
                )
            else:
                for i in order:
                    try:
                        await self._run(f"Compensate{i}", i, cfg)
                    except ActivityError:
                        if mode == "sequential":
                            break
        raise ApplicationError(f"step {failed_step} failed: {failure.cause or failure}", non_retryable=True)


# Each variant is the workflow type `Saga` (a class of its own, since the
# SDK wants the run method defined in the class body).

@workflow.defn(name="Saga")
class Correct(Saga):
    """The correct saga."""

    @workflow.run
    async def run(self, cfg: dict) -> str:
        return await self.run_saga(cfg)


@workflow.defn(name="Saga")
class ForwardCompensation(Saga):
    forward_compensation = True

    @workflow.run
    async def run(self, cfg: dict) -> str:
        return await self.run_saga(cfg)


@workflow.defn(name="Saga")
class CompensateUncompleted(Saga):
    compensate_uncompleted = True

    @workflow.run
    async def run(self, cfg: dict) -> str:
        return await self.run_saga(cfg)


@workflow.defn(name="Saga")
class UnboundedRetry(Saga):
    unbounded_retry = True

    @workflow.run
    async def run(self, cfg: dict) -> str:
        return await self.run_saga(cfg)


@workflow.defn(name="Saga")
class RetryNonRetryable(Saga):
    retry_non_retryable = True

    @workflow.run
    async def run(self, cfg: dict) -> str:
        return await self.run_saga(cfg)


@workflow.defn(name="Saga")
class NoCompensation(Saga):
    no_compensation = True

    @workflow.run
    async def run(self, cfg: dict) -> str:
        return await self.run_saga(cfg)


@workflow.defn(name="Saga")
class Nondeterministic(Saga):
    """The code deployed after the crash: step 1 renamed, unversioned."""

    step1_type = "Step1v2"

    @workflow.run
    async def run(self, cfg: dict) -> str:
        return await self.run_saga(cfg)


VARIANTS = {
    "correct": Correct,
    "ForwardCompensation": ForwardCompensation,
    "CompensateUncompleted": CompensateUncompleted,
    "UnboundedRetry": UnboundedRetry,
    "RetryNonRetryable": RetryNonRetryable,
    "NoCompensation": NoCompensation,
    "Nondeterministic": Nondeterministic,
}
