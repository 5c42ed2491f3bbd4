"""The HTTP transport of drivers/PROTOCOL.md for the Python driver.

Two server stacks, each with the SDK's own instrumentation and the service's
tracer provider:

- ``asgi`` (the default): uvicorn (on h11) serving an ASGI app wrapped in
  opentelemetry-instrumentation-asgi's OpenTelemetryMiddleware;
- ``wsgi``: the standard library's wsgiref serving a WSGI app wrapped in
  opentelemetry-instrumentation-wsgi's OpenTelemetryMiddleware.

The client is httpx with opentelemetry-instrumentation-httpx's transport.
The instrumentation extracts and injects with the global propagator, one for
the whole process. Each service has its own (its `propagators`), so the
global one routes every call to the propagator of the service at work: the
service whose server thread runs the request (each server thread runs in a
context where SERVICE names its service, and every task of that thread
copies it) or whose client `http_call` uses. It also leaves what it
extracted in the context: an unsampled server span does not record, so its
parent could not be read from the span.
"""

import contextvars
import json
import socket
import threading
from importlib.metadata import version

import httpx
import uvicorn
from opentelemetry import context as otel_context
from opentelemetry import propagate, trace
from opentelemetry.context import Context
from opentelemetry.instrumentation.asgi import OpenTelemetryMiddleware as AsgiMiddleware
from opentelemetry.instrumentation.httpx import SyncOpenTelemetryTransport
from opentelemetry.instrumentation.wsgi import OpenTelemetryMiddleware as WsgiMiddleware
from opentelemetry.propagators.textmap import TextMapPropagator
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from fields import extracted_fields, span_context_fields as fields_of

STACKS = ["asgi", "wsgi"]
EXTRACTED = "tracewright.extracted"


# The service whose server or client is at work in this context.
SERVICE = contextvars.ContextVar("tracewright_service", default=None)


def service_at_work():
    service = SERVICE.get()
    if service is None:
        # Never a silent default: the instrumentation must use the
        # propagator of the service it runs for.
        raise RuntimeError("no service is at work: no propagator to route to")
    return service


class RoutingPropagator(TextMapPropagator):
    """The global propagator: the propagator of the service at work, whose
    extract also records its result."""

    def extract(self, carrier, context=None, getter=None):
        propagator = service_at_work().propagator
        if getter is None:
            out = propagator.extract(carrier, context)
        else:
            out = propagator.extract(carrier, context, getter)
        span_context = trace.get_current_span(out).get_span_context()
        return otel_context.set_value(EXTRACTED, span_context, out)

    def inject(self, carrier, context=None, setter=None):
        propagator = service_at_work().propagator
        if setter is None:
            propagator.inject(carrier, context)
        else:
            propagator.inject(carrier, context, setter)

    @property
    def fields(self):
        service = SERVICE.get()
        return service.propagator.fields if service is not None else set()


propagate.set_global_textmap(RoutingPropagator())


def run_as(service, function, *args, **kwargs):
    """Runs function in a fresh context where `service` is at work (a server
    thread's body: no span of the driver's main thread leaks into it)."""

    def body():
        SERVICE.set(service)
        return function(*args, **kwargs)

    return contextvars.Context().run(body)


def stack_description(stack):
    client = f"httpx {version('httpx')} + opentelemetry-instrumentation-httpx {version('opentelemetry-instrumentation-httpx')}"
    if stack == "asgi":
        return (
            f"uvicorn {version('uvicorn')} (h11 {version('h11')}) + "
            f"opentelemetry-instrumentation-asgi {version('opentelemetry-instrumentation-asgi')}; {client}"
        )
    return f"wsgiref + opentelemetry-instrumentation-wsgi {version('opentelemetry-instrumentation-wsgi')}; {client}"


class QuietHandler(WSGIRequestHandler):
    def log_message(self, *args):
        pass


class Servers:
    """The running servers of one driver."""

    def __init__(self):
        self.stops = []

    def stop(self):
        for stop in self.stops:
            try:
                stop()
            except Exception:  # a server already gone
                pass
        self.stops = []


# The client spans the instrumented clients made, as their request hook saw them.
CLIENT_SPANS = []


def client_for(service):
    """The service's httpx client, whose transport is the instrumented one
    with the service's tracer provider (made once: building a client builds
    an SSL context, which is slow)."""
    client = getattr(service, "http_client", None)
    if client is None:

        def hook(span, _request):
            CLIENT_SPANS.append(span)

        transport = SyncOpenTelemetryTransport(
            httpx.HTTPTransport(), tracer_provider=service.provider, request_hook=hook
        )
        client = httpx.Client(transport=transport, timeout=20.0, trust_env=False)
        service.http_client = client
    return client


class HttpOps:
    """Mixed into the driver: the `http_serve` and `http_call` ops. The
    driver sets `RequestError`, its class of refused requests."""

    def http_servers(self):
        if not hasattr(self, "_servers"):
            self._servers = Servers()
            self._lock = threading.Lock()
        return self._servers

    def stop_http(self):
        self.http_servers().stop()

    def served(self, service, body):
        """What the handler does inside the server span: the calls, then the
        answer (a dict)."""
        try:
            calls = json.loads(body) if body else []
        except ValueError:
            calls = []
        results = []
        if isinstance(calls, list):
            client = client_for(service)
            for call in calls:
                if not isinstance(call, dict):
                    continue
                url = call.get("url")
                try:
                    response = client.post(url, json=call.get("arguments"))
                    results.append({"url": url, "status": response.status_code})
                except Exception as error:
                    results.append({"url": url, "error": f"{type(error).__name__}: {error}"})
        server_span = trace.get_current_span()
        parent = otel_context.get_value(EXTRACTED)
        with self._lock:
            handle = self.new_handle("c")
            if parent is not None and parent.is_valid:
                self.contexts[handle] = trace.set_span_in_context(trace.NonRecordingSpan(parent), Context())
            else:
                self.contexts[handle] = Context()
            fields = extracted_fields(parent)
        return {"context": handle, **fields, "server_span": fields_of(server_span.get_span_context()), "calls": results}

    def asgi_app(self, service):
        async def app(scope, receive, send):
            if scope["type"] != "http":
                return
            body = b""
            while True:
                message = await receive()
                body += message.get("body", b"")
                if not message.get("more_body"):
                    break
            answer = json.dumps(self.served(service, body)).encode()
            await send(
                {
                    "type": "http.response.start",
                    "status": 200,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(answer)).encode())],
                }
            )
            await send({"type": "http.response.body", "body": answer})

        return AsgiMiddleware(app, tracer_provider=service.provider)

    def wsgi_app(self, service):
        def app(environ, start_response):
            try:
                length = int(environ.get("CONTENT_LENGTH") or 0)
            except ValueError:
                length = 0
            body = environ["wsgi.input"].read(length) if length > 0 else b""
            answer = json.dumps(self.served(service, body)).encode()
            start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(answer)))])
            return [answer]

        return WsgiMiddleware(app, tracer_provider=service.provider)

    def op_http_serve(self, request):
        service = self.service(request)
        servers = self.http_servers()
        stack = request.get("stack") or STACKS[0]
        if stack not in STACKS:
            raise self.RequestError(f"unknown stack {stack!r}; the Python driver has {STACKS}")
        listen = request.get("listen") or "127.0.0.1:0"
        if not isinstance(listen, str) or ":" not in listen:
            raise self.RequestError("field 'listen' must be HOST:PORT")
        host, port = listen.rsplit(":", 1)
        if stack == "asgi":
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((host, int(port)))
            sock.listen(64)
            config = uvicorn.Config(
                self.asgi_app(service), log_level="error", lifespan="off", http="h11", access_log=False
            )
            server = uvicorn.Server(config)
            # The server's own thread, with a fresh context where the
            # service is at work.
            thread = threading.Thread(
                target=run_as, args=(service, server.run), kwargs={"sockets": [sock]}, daemon=True
            )
            thread.start()
            started = threading.Event()
            for _ in range(200):
                if server.started:
                    started.set()
                    break
                threading.Event().wait(0.01)
            if not started.is_set():
                raise self.RequestError("uvicorn did not start within 2 s")
            address = sock.getsockname()

            def stop(server=server, thread=thread, sock=sock):
                server.should_exit = True
                thread.join(timeout=5)
                sock.close()

        else:
            server = make_server(host, int(port), self.wsgi_app(service), server_class=WSGIServer, handler_class=QuietHandler)
            thread = threading.Thread(target=run_as, args=(service, server.serve_forever), daemon=True)
            thread.start()
            address = server.server_address

            def stop(server=server, thread=thread):
                server.shutdown()
                server.server_close()
                thread.join(timeout=5)

        servers.stops.append(stop)
        return {"url": f"http://{address[0]}:{address[1]}/", "stack": stack_description(stack)}

    def op_http_call(self, request):
        service = self.service(request)
        span = self.span(request)
        url = request.get("url")
        if not isinstance(url, str):
            raise self.RequestError("field 'url' must be a string")
        stack = request.get("stack")
        if stack is not None and stack not in STACKS:
            raise self.RequestError(f"unknown stack {stack!r}; the Python driver has {STACKS}")
        del CLIENT_SPANS[:]
        token = otel_context.attach(trace.set_span_in_context(span, self.span_parents.get(request["span"], Context())))
        at_work = SERVICE.set(service)
        try:
            response = client_for(service).get(url)
        finally:
            SERVICE.reset(at_work)
            otel_context.detach(token)
        if not CLIENT_SPANS:
            raise self.RequestError("the instrumented client made no span")
        client_span = CLIENT_SPANS[0]
        sc = client_span.get_span_context()
        # A span that does not record keeps no parent: it was started under `span`.
        parent = getattr(client_span, "parent", None) or span.get_span_context()
        return {
            "status": response.status_code,
            "client_span": {
                "trace_id": trace.format_trace_id(sc.trace_id),
                "span_id": trace.format_span_id(sc.span_id),
                "parent_span_id": trace.format_span_id(parent.span_id),
                "sampled": sc.trace_flags.sampled,
            },
        }
