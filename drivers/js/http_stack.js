'use strict';
// The HTTP transport of drivers/PROTOCOL.md for the JS driver: Node's `http`
// server and client, instrumented by @opentelemetry/instrumentation-http (the
// SDK's standard HTTP instrumentation), with the AsyncLocalStorage context
// manager.
//
// The instrumentation has one tracer provider and uses the one global
// propagator; each service has its own of both. The provider it is given
// routes every span to the tracer of the service whose server or client is at
// work, and the global propagator routes every extract and inject to that
// service's propagator (the service is set just before the instrumentation
// extracts and starts its span: in startIncomingSpanHook for a server, which
// the instrumentation calls before it extracts; before `http.request` for a
// client, which injects inside the call). The propagator also leaves what it
// extracted in the context: an unsampled server span does not record, so its
// parent could not be read from the span.

const api = require('@opentelemetry/api');
const { AsyncLocalStorageContextManager } = require('@opentelemetry/context-async-hooks');
const { HttpInstrumentation } = require('@opentelemetry/instrumentation-http');

const STACKS = ['node:http'];
const EXTRACTED = api.createContextKey('tracewright.extracted');
const INVALID_TRACE_ID = '0'.repeat(32);
const INVALID_SPAN_ID = '0'.repeat(16);

/** The service at work; never a silent default. */
function atWork() {
  if (!current) throw new Error('no service is at work: no propagator to route to');
  return current;
}

const routingPropagator = {
  inject(context, carrier, setter) {
    atWork().propagator.inject(context, carrier, setter);
  },
  extract(context, carrier, getter) {
    const out = atWork().propagator.extract(context, carrier, getter);
    return out.setValue(EXTRACTED, api.trace.getSpanContext(out) || null);
  },
  fields() {
    return current ? current.propagator.fields() : [];
  },
};

/** The service whose tracer the instrumentation's next span goes to. */
let current = null;
/** Client spans the instrumentation made, as its requestHook saw them. */
let clientSpans = [];

const routingTracer = {
  startSpan(name, options, context) {
    if (!current) throw new Error('no service is at work');
    return current.tracer.startSpan(name, options, context);
  },
  startActiveSpan(name, ...args) {
    if (!current) throw new Error('no service is at work');
    return current.tracer.startActiveSpan(name, ...args);
  },
};
const routingProvider = { getTracer: () => routingTracer };

api.context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
api.propagation.setGlobalPropagator(routingPropagator);
const instrumentation = new HttpInstrumentation({
  startIncomingSpanHook: (request) => {
    current = servicesByPort.get(request.socket.localPort) || null;
    return {};
  },
  requestHook: (span, request) => {
    if (request instanceof http.ClientRequest) clientSpans.push(span);
  },
});
instrumentation.setTracerProvider(routingProvider);
instrumentation.enable();
// Required after the instrumentation is enabled, so that it is patched.
const http = require('http');
const INSTRUMENTATION_VERSION = require('@opentelemetry/instrumentation-http/package.json').version;

/** Local port → the service whose server listens there. */
const servicesByPort = new Map();
let servers = [];

/** How the drivers describe a span context in a response. */
function fieldsOf(spanContext) {
  return {
    trace_id: spanContext.traceId,
    span_id: spanContext.spanId,
    sampled: (spanContext.traceFlags & api.TraceFlags.SAMPLED) !== 0,
    tracestate: spanContext.traceState ? spanContext.traceState.serialize() : '',
  };
}

/** One request with the instrumented client, in the active context. */
function request(service, method, url, body) {
  return new Promise((resolve, reject) => {
    current = service;
    const headers = body === undefined ? {} : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) };
    const req = http.request(url, { method, headers, agent: false, timeout: 20000 }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode));
    });
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', reject);
    if (body !== undefined) req.write(body);
    req.end();
  });
}

function install(Driver, RequestError, OPS) {
  Driver.prototype.stopHttp = async function stopHttp() {
    const closing = servers.map((s) => new Promise((resolve) => {
      s.close(() => resolve());
      s.closeAllConnections();
    }));
    servers = [];
    servicesByPort.clear();
    await Promise.all(closing);
  };

  Driver.prototype.served = async function served(service, body) {
    let calls = [];
    try {
      calls = body.length ? JSON.parse(body) : [];
    } catch (error) {
      calls = [];
    }
    const results = [];
    if (Array.isArray(calls)) {
      for (const call of calls) {
        if (call === null || typeof call !== 'object') continue;
        try {
          const status = await request(service, 'POST', call.url, JSON.stringify(call.arguments === undefined ? null : call.arguments));
          results.push({ url: call.url, status });
        } catch (error) {
          results.push({ url: call.url, error: `${error.name}: ${error.message}` });
        }
      }
    }
    const serverSpan = api.trace.getSpan(api.context.active());
    const parent = api.context.active().getValue(EXTRACTED);
    const handle = this.newHandle('c');
    let fields;
    if (parent && api.isSpanContextValid(parent)) {
      this.contexts.set(handle, api.trace.setSpanContext(api.ROOT_CONTEXT, parent));
      fields = { valid: true, remote: parent.isRemote === true, ...fieldsOf(parent) };
    } else {
      this.contexts.set(handle, api.ROOT_CONTEXT);
      fields = { valid: false, remote: false, trace_id: INVALID_TRACE_ID, span_id: INVALID_SPAN_ID, sampled: false, tracestate: '' };
    }
    return { context: handle, ...fields, server_span: fieldsOf(serverSpan.spanContext()), calls: results };
  };

  Driver.prototype.httpServe = async function httpServe(request) {
    const service = this.service(request);
    if (request.stack !== undefined && request.stack !== null && !STACKS.includes(request.stack)) {
      throw new RequestError(`unknown stack ${JSON.stringify(request.stack)}; the JS driver has ${JSON.stringify(STACKS)}`);
    }
    const listen = request.listen === undefined || request.listen === null ? '127.0.0.1:0' : request.listen;
    if (typeof listen !== 'string' || !listen.includes(':')) throw new RequestError("field 'listen' must be HOST:PORT");
    const at = listen.lastIndexOf(':');
    const server = http.createServer((req, res) => {
      const chunks = [];
      req.on('data', (c) => chunks.push(c));
      req.on('end', () => {
        this.served(service, Buffer.concat(chunks).toString('utf8')).then(
          (answer) => {
            const text = JSON.stringify(answer);
            res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
            res.end(text);
          },
          (error) => {
            res.writeHead(500, { 'content-type': 'text/plain' });
            res.end(String(error));
          },
        );
      });
    });
    await new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(Number(listen.slice(at + 1)), listen.slice(0, at), resolve);
    });
    const address = server.address();
    servicesByPort.set(address.port, service);
    servers.push(server);
    return {
      url: `http://${address.address}:${address.port}/`,
      stack: `node ${process.versions.node} http server and client, @opentelemetry/instrumentation-http ${INSTRUMENTATION_VERSION}`,
    };
  };

  Driver.prototype.httpCall = async function httpCall(request) {
    const service = this.service(request);
    const { span, parent: started } = this.span(request);
    if (typeof request.url !== 'string') throw new RequestError("field 'url' must be a string");
    clientSpans = [];
    const status = await api.context.with(api.trace.setSpan(started, span), () => request_(service, request.url));
    const client = clientSpans[0];
    if (!client) throw new RequestError('the instrumented client made no span');
    const sc = client.spanContext();
    // A span that does not record keeps no parent: it was started under `span`.
    const parent = client.parentSpanContext || span.spanContext();
    return {
      status,
      client_span: {
        trace_id: sc.traceId,
        span_id: sc.spanId,
        parent_span_id: parent.spanId,
        sampled: (sc.traceFlags & api.TraceFlags.SAMPLED) !== 0,
      },
    };
  };

  OPS.http_serve = (d, r) => d.httpServe(r);
  OPS.http_call = (d, r) => d.httpCall(r);
}

function request_(service, url) {
  return request(service, 'GET', url, undefined);
}

module.exports = { STACKS, install, fieldsOf };
