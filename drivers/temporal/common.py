"""Pieces shared by the Temporal driver and its worker processes: the span
export (OTLP JSON lines, as the OpenTelemetry Collector's file exporter writes
them) and JSON-lines I/O."""

from __future__ import annotations

import json
import os
import sys
import threading
from typing import Sequence

from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import (
    BatchSpanProcessor,
    SimpleSpanProcessor,
    SpanExporter,
    SpanExportResult,
)

PROTOCOL = 1


def _value(v):
    if isinstance(v, bool):
        return {"boolValue": v}
    if isinstance(v, int):
        return {"intValue": str(v)}
    if isinstance(v, float):
        return {"doubleValue": v}
    return {"stringValue": str(v)}


def _attributes(attrs) -> list:
    return [{"key": k, "value": _value(v)} for k, v in (attrs or {}).items()]


class OtlpJsonLinesExporter(SpanExporter):
    """Appends one ExportTraceServiceRequest per export call, as one line of
    OTLP JSON (ids as hex), to `path`. Several processes may append to one
    file: each line is a single write to a file opened with O_APPEND."""

    def __init__(self, path: str, service: str):
        self._fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        self._service = service

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        if not spans:
            return SpanExportResult.SUCCESS
        rows = []
        for s in spans:
            ctx = s.context
            parent = s.parent.span_id if s.parent is not None else 0
            rows.append(
                {
                    "traceId": format(ctx.trace_id, "032x"),
                    "spanId": format(ctx.span_id, "016x"),
                    "parentSpanId": format(parent, "016x") if parent else "",
                    "flags": int(ctx.trace_flags),
                    "name": s.name,
                    "kind": int(s.kind.value) + 1,
                    "startTimeUnixNano": str(s.start_time or 0),
                    "endTimeUnixNano": str(s.end_time or 0),
                    "attributes": _attributes(s.attributes),
                    "status": {"code": int(s.status.status_code.value)},
                }
            )
        request = {
            "resourceSpans": [
                {
                    "resource": {"attributes": _attributes({"service.name": self._service})},
                    "scopeSpans": [{"scope": {"name": "temporalio.contrib.opentelemetry"}, "spans": rows}],
                }
            ]
        }
        line = (json.dumps(request, separators=(",", ":")) + "\n").encode()
        os.write(self._fd, line)
        return SpanExportResult.SUCCESS

    def shutdown(self) -> None:
        pass


def tracer_provider(export: str, path: str, service: str) -> TracerProvider:
    """A provider whose processor is the one the model's `Export` names:
    `simple` exports each span as it ends; `batch` holds spans until a flush
    (its timer and queue limits are set out of reach, so only an explicit
    flush exports, as in the model). No export at interpreter exit."""
    provider = TracerProvider(resource=Resource.create({"service.name": service}), shutdown_on_exit=False)
    exporter = OtlpJsonLinesExporter(path, service)
    if export == "simple":
        provider.add_span_processor(SimpleSpanProcessor(exporter))
    elif export == "batch":
        provider.add_span_processor(
            BatchSpanProcessor(
                exporter,
                max_queue_size=100_000,
                max_export_batch_size=100_000,
                schedule_delay_millis=3_600_000,
            )
        )
    else:
        raise ValueError(f"unknown span export {export!r}")
    return provider


def protocol_stdout():
    """The protocol's own stream: a copy of stdout. File descriptor 1 then
    points at stderr, so that whatever else writes to stdout (the SDK core's
    native log lines do) cannot corrupt the protocol."""
    sys.stdout.flush()
    fd = os.dup(1)
    os.dup2(2, 1)
    return os.fdopen(fd, "w", buffering=1)


class Lines:
    """JSON lines on a stream: one object per line, flushed; thread-safe."""

    def __init__(self, out=None):
        self._out = out or protocol_stdout()
        self._lock = threading.Lock()

    def flush(self) -> None:
        with self._lock:
            self._out.flush()

    def send(self, obj: dict) -> None:
        with self._lock:
            self._out.write(json.dumps(obj, separators=(",", ":")) + "\n")
            self._out.flush()
