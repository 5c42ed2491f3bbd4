"""tracewright SDK driver for the OpenTelemetry Python SDK (protocol v1).

Reads one JSON request per line on stdin and writes one JSON response per line
on stdout, as drivers/PROTOCOL.md describes. Everything that matters is done by
the SDK itself: its TracerProvider and samplers, its InMemorySpanExporter behind
a SimpleSpanProcessor, and its TraceContextTextMapPropagator (or, when a
service names them, the B3 propagators of opentelemetry-propagator-b3 and the
API's CompositePropagator). This file only translates between the protocol
and those objects.
"""

import json
import platform
import sys

from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.propagators.b3 import B3MultiFormat, B3SingleFormat
from opentelemetry.propagators.composite import CompositePropagator
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.sdk.trace.sampling import (
    ALWAYS_OFF,
    ALWAYS_ON,
    ParentBased,
    TraceIdRatioBased,
)
from opentelemetry.sdk.version import __version__ as SDK_VERSION
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

import http_stack
from fields import extracted_fields, span_context_fields

PROTOCOL = 1


class RequestError(Exception):
    """A request the driver refuses; its message goes into the response."""


def make_sampler(spec):
    kind = spec.get("sampler")
    if kind == "always_on":
        return ALWAYS_ON
    if kind == "always_off":
        return ALWAYS_OFF
    if kind == "traceidratio":
        return TraceIdRatioBased(ratio_of(spec))
    if kind == "parentbased_always_on":
        return ParentBased(root=ALWAYS_ON)
    if kind == "parentbased_always_off":
        return ParentBased(root=ALWAYS_OFF)
    if kind == "parentbased_traceidratio":
        return ParentBased(root=TraceIdRatioBased(ratio_of(spec)))
    raise RequestError(f"unknown sampler: {kind!r}")


def ratio_of(spec):
    ratio = spec.get("ratio")
    if isinstance(ratio, bool) or not isinstance(ratio, (int, float)):
        raise RequestError(f"sampler {spec.get('sampler')} needs a numeric ratio")
    return float(ratio)


# The propagators a service may name, as OTEL_PROPAGATORS names them (the
# entry points "tracecontext", "b3" and "b3multi" of the Python SDK).
PROPAGATORS = {
    "tracecontext": TraceContextTextMapPropagator,
    "b3": B3SingleFormat,
    "b3multi": B3MultiFormat,
}


def make_propagator(spec):
    """The service's propagator: W3C trace context unless the service names
    its propagators; several make a composite, in the order given."""
    names = spec.get("propagators")
    if names is None:
        return TraceContextTextMapPropagator()
    if not isinstance(names, list) or not names or not all(isinstance(n, str) for n in names):
        raise RequestError("field 'propagators' must be a non-empty list of strings")
    unknown = [n for n in names if n not in PROPAGATORS]
    if unknown:
        raise RequestError(f"unknown propagator: {json.dumps(unknown[0])}")
    chosen = [PROPAGATORS[n]() for n in names]
    return chosen[0] if len(chosen) == 1 else CompositePropagator(chosen)


def string_field(request, name):
    value = request.get(name)
    if not isinstance(value, str):
        raise RequestError(f"field {name!r} must be a string")
    return value


class Service:
    def __init__(self, name, sampler, propagator, exporter):
        self.name = name
        # shutdown_on_exit=False: providers are replaced on every `configure`;
        # each would otherwise stay registered with atexit forever.
        self.provider = TracerProvider(sampler=sampler, shutdown_on_exit=False)
        self.provider.add_span_processor(SimpleSpanProcessor(exporter))
        # The tracer's name is how an exported span says which service made it.
        self.tracer = self.provider.get_tracer(name)
        self.propagator = propagator


class Driver(http_stack.HttpOps):
    RequestError = RequestError

    def __init__(self):
        self.services = {}
        self.exporter = InMemorySpanExporter()
        self.spans = {}
        # The context each span was started in: inject serializes the span
        # in it, as instrumentation does with the active context.
        self.span_parents = {}
        self.contexts = {}
        # Handles are never reused, so a handle kept past `reset` is refused
        # instead of naming some newer span.
        self.next_handle = 1

    def new_handle(self, prefix):
        handle = f"{prefix}{self.next_handle}"
        self.next_handle += 1
        return handle

    def service(self, request):
        name = string_field(request, "service")
        if name not in self.services:
            raise RequestError(f"unknown service: {name!r}")
        return self.services[name]

    def span(self, request):
        handle = string_field(request, "span")
        if handle not in self.spans:
            raise RequestError(f"unknown span handle: {handle!r}")
        return self.spans[handle]

    def op_hello(self, _request):
        return {
            "protocol": PROTOCOL,
            "sdk": "python",
            "sdk_version": SDK_VERSION,
            "language_version": platform.python_version(),
            "http_stacks": http_stack.STACKS,
        }

    def op_configure(self, request):
        specs = request.get("services")
        if not isinstance(specs, list):
            raise RequestError("field 'services' must be a list")
        # Build everything before replacing anything: a refused configure
        # leaves the old services in place.
        exporter = InMemorySpanExporter()
        services = {}
        for spec in specs:
            if not isinstance(spec, dict):
                raise RequestError("each service must be an object")
            name = string_field(spec, "name")
            if name in services:
                raise RequestError(f"service {name!r} configured twice")
            services[name] = Service(name, make_sampler(spec), make_propagator(spec), exporter)
        self.stop_http()
        for old in self.services.values():
            old.provider.shutdown()
        self.services = services
        self.exporter = exporter
        self.spans.clear()
        self.span_parents.clear()
        self.contexts.clear()
        return {}

    def op_start_span(self, request):
        service = self.service(request)
        name = string_field(request, "name")
        parent = request.get("parent")
        if parent is None:
            context = Context()
        elif isinstance(parent, str) and parent in self.contexts:
            context = self.contexts[parent]
        else:
            raise RequestError(f"unknown context handle: {parent!r}")
        span = service.tracer.start_span(name, context=context)
        handle = self.new_handle("s")
        self.spans[handle] = span
        self.span_parents[handle] = context
        return {"span": handle, **span_context_fields(span.get_span_context())}

    def op_inject(self, request):
        service = self.service(request)
        span = self.span(request)
        parent = self.span_parents.get(request["span"], Context())
        carrier = {}
        service.propagator.inject(carrier, context=trace.set_span_in_context(span, parent))
        return {"carrier": carrier}

    def op_extract(self, request):
        service = self.service(request)
        raw = request.get("carrier")
        if not isinstance(raw, dict):
            raise RequestError("field 'carrier' must be an object")
        carrier = {}
        for key, values in raw.items():
            if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
                raise RequestError(f"carrier header {key!r} must be a list of strings")
            if values:
                carrier[key] = values
        # The default getter hands the SDK every value of a header as a list.
        context = service.propagator.extract(carrier, context=Context())
        span_context = trace.get_current_span(context).get_span_context()
        handle = self.new_handle("c")
        self.contexts[handle] = context
        return {"context": handle, "joined": False, **extracted_fields(span_context)}

    def op_end_span(self, request):
        self.span(request).end()
        return {}

    def op_spans(self, _request):
        spans = []
        for span in self.exporter.get_finished_spans():
            fields = span_context_fields(span.get_span_context())
            spans.append(
                {
                    "service": span.instrumentation_scope.name,
                    "name": span.name,
                    "trace_id": fields["trace_id"],
                    "span_id": fields["span_id"],
                    "parent_span_id": trace.format_span_id(span.parent.span_id) if span.parent else "",
                    "sampled": fields["sampled"],
                    "tracestate": fields["tracestate"],
                }
            )
        return {"spans": spans}

    def op_reset(self, _request):
        self.spans.clear()
        self.span_parents.clear()
        self.contexts.clear()
        self.exporter.clear()
        return {}

    def op_shutdown(self, _request):
        self.stop_http()
        for service in self.services.values():
            service.provider.shutdown()
        return {}


def parse(line):
    """The request's id and body, or (None, error message) when malformed."""
    try:
        request = json.loads(line)
    except ValueError as error:
        return None, None, f"malformed JSON: {error}"
    if not isinstance(request, dict):
        return None, None, "a request must be a JSON object"
    request_id = request.get("id")
    if isinstance(request_id, bool) or not isinstance(request_id, int):
        return None, None, "a request needs an integer 'id'"
    return request_id, request, None


def handle(driver, line):
    """The response to one request line, and whether the driver should exit."""
    request_id, request, error = parse(line)
    if error is not None:
        return {"id": None, "ok": False, "error": error}, False
    op = request.get("op")
    handler = getattr(driver, f"op_{op}", None) if isinstance(op, str) else None
    if handler is None:
        return {"id": request_id, "ok": False, "error": f"unknown op: {op}"}, False
    try:
        return {"id": request_id, "ok": True, **handler(request)}, op == "shutdown"
    except RequestError as error:
        return {"id": request_id, "ok": False, "error": str(error)}, False
    except Exception as error:  # an SDK error must not end the driver
        return {"id": request_id, "ok": False, "error": f"{type(error).__name__}: {error}"}, False


def main():
    driver = Driver()
    while True:
        # Bytes, not text: a line that is not UTF-8 is a malformed request,
        # not a crash while decoding stdin.
        line = sys.stdin.buffer.readline()
        if not line:
            break
        response, stop = handle(driver, line)
        sys.stdout.write(json.dumps(response) + "\n")
        sys.stdout.flush()
        if stop:
            break
    return 0


if __name__ == "__main__":
    sys.exit(main())
