'use strict';
// tracewright SDK driver for the OpenTelemetry JS SDK (protocol v1).
//
// Reads one JSON request per line on stdin and writes one JSON response per
// line on stdout, as drivers/PROTOCOL.md describes. Everything that matters is
// done by the SDK itself: its BasicTracerProvider and samplers, its
// InMemorySpanExporter behind a SimpleSpanProcessor, and its
// W3CTraceContextPropagator (or, when a service names them, the B3Propagator of
// @opentelemetry/propagator-b3 and core's CompositePropagator). This file only
// translates between the protocol and those objects. Requests are handled strictly one after another, so responses
// stay in request order even though some SDK calls are asynchronous.

const readline = require('node:readline');
// First: it patches `http` before anything loads it.
const httpStack = require('./http_stack');
const spanContextFields = httpStack.fieldsOf;
const api = require('@opentelemetry/api');
const { CompositePropagator, W3CTraceContextPropagator } = require('@opentelemetry/core');
const { B3InjectEncoding, B3Propagator } = require('@opentelemetry/propagator-b3');
const {
  AlwaysOffSampler,
  AlwaysOnSampler,
  BasicTracerProvider,
  InMemorySpanExporter,
  ParentBasedSampler,
  SimpleSpanProcessor,
  TraceIdRatioBasedSampler,
} = require('@opentelemetry/sdk-trace-base');
const SDK_VERSION = require('@opentelemetry/sdk-trace-base/package.json').version;

const PROTOCOL = 1;
const INVALID_TRACE_ID = '0'.repeat(32);
const INVALID_SPAN_ID = '0'.repeat(16);

/** A request the driver refuses; its message goes into the response. */
class RequestError extends Error {}

function ratioOf(spec) {
  if (typeof spec.ratio !== 'number') {
    throw new RequestError(`sampler ${spec.sampler} needs a numeric ratio`);
  }
  return spec.ratio;
}

function makeSampler(spec) {
  switch (spec.sampler) {
    case 'always_on':
      return new AlwaysOnSampler();
    case 'always_off':
      return new AlwaysOffSampler();
    case 'traceidratio':
      return new TraceIdRatioBasedSampler(ratioOf(spec));
    case 'parentbased_always_on':
      return new ParentBasedSampler({ root: new AlwaysOnSampler() });
    case 'parentbased_always_off':
      return new ParentBasedSampler({ root: new AlwaysOffSampler() });
    case 'parentbased_traceidratio':
      return new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(ratioOf(spec)) });
    default:
      throw new RequestError(`unknown sampler: ${JSON.stringify(spec.sampler)}`);
  }
}

// The propagators a service may name, as OTEL_PROPAGATORS names them (the SDK's
// environment configuration: "b3" is the B3Propagator injecting the single
// header, "b3multi" the one injecting multiple headers).
const PROPAGATORS = {
  tracecontext: () => new W3CTraceContextPropagator(),
  b3: () => new B3Propagator({ injectEncoding: B3InjectEncoding.SINGLE_HEADER }),
  b3multi: () => new B3Propagator({ injectEncoding: B3InjectEncoding.MULTI_HEADER }),
};

/**
 * The service's propagator: W3C trace context unless the service names its
 * propagators; several make a composite, in the order given.
 */
function makePropagator(spec) {
  const names = spec.propagators;
  if (names === undefined || names === null) return new W3CTraceContextPropagator();
  if (!Array.isArray(names) || names.length === 0 || !names.every((n) => typeof n === 'string')) {
    throw new RequestError("field 'propagators' must be a non-empty list of strings");
  }
  const unknown = names.find((n) => !Object.hasOwn(PROPAGATORS, n));
  if (unknown !== undefined) throw new RequestError(`unknown propagator: ${JSON.stringify(unknown)}`);
  const chosen = names.map((n) => PROPAGATORS[n]());
  return chosen.length === 1 ? chosen[0] : new CompositePropagator({ propagators: chosen });
}

function stringField(request, name) {
  const value = request[name];
  if (typeof value !== 'string') {
    throw new RequestError(`field '${name}' must be a string`);
  }
  return value;
}

class Service {
  constructor(name, sampler, propagator, exporter) {
    this.name = name;
    this.provider = new BasicTracerProvider({
      sampler,
      spanProcessors: [new SimpleSpanProcessor(exporter)],
    });
    // The tracer's name is how an exported span says which service made it.
    this.tracer = this.provider.getTracer(name);
    this.propagator = propagator;
  }
}

class Driver {
  constructor() {
    this.services = new Map();
    this.exporter = new InMemorySpanExporter();
    this.spans = new Map();
    this.contexts = new Map();
    // Handles are never reused, so a handle kept past `reset` is refused
    // instead of naming some newer span.
    this.nextHandle = 1;
  }

  newHandle(prefix) {
    return `${prefix}${this.nextHandle++}`;
  }

  service(request) {
    const name = stringField(request, 'service');
    const service = this.services.get(name);
    if (!service) throw new RequestError(`unknown service: ${JSON.stringify(name)}`);
    return service;
  }

  span(request) {
    const handle = stringField(request, 'span');
    const entry = this.spans.get(handle);
    if (!entry) throw new RequestError(`unknown span handle: ${JSON.stringify(handle)}`);
    return entry;
  }

  hello() {
    return {
      protocol: PROTOCOL,
      sdk: 'js',
      sdk_version: SDK_VERSION,
      language_version: process.versions.node,
      http_stacks: httpStack.STACKS,
    };
  }

  async configure(request) {
    if (!Array.isArray(request.services)) {
      throw new RequestError("field 'services' must be a list");
    }
    // Build everything before replacing anything: a refused configure leaves
    // the old services in place.
    const exporter = new InMemorySpanExporter();
    const services = new Map();
    for (const spec of request.services) {
      if (spec === null || typeof spec !== 'object') {
        throw new RequestError('each service must be an object');
      }
      const name = stringField(spec, 'name');
      if (services.has(name)) throw new RequestError(`service ${JSON.stringify(name)} configured twice`);
      services.set(name, new Service(name, makeSampler(spec), makePropagator(spec), exporter));
    }
    await this.stopHttp();
    await this.shutdownServices();
    this.services = services;
    this.exporter = exporter;
    this.spans.clear();
    this.contexts.clear();
    return {};
  }

  startSpan(request) {
    const service = this.service(request);
    const name = stringField(request, 'name');
    const parent = request.parent;
    let context = api.ROOT_CONTEXT;
    if (parent !== undefined && parent !== null) {
      if (typeof parent !== 'string' || !this.contexts.has(parent)) {
        throw new RequestError(`unknown context handle: ${JSON.stringify(parent)}`);
      }
      context = this.contexts.get(parent);
    }
    const span = service.tracer.startSpan(name, {}, context);
    const handle = this.newHandle('s');
    // The context the span was started in: inject serializes the span in it,
    // as instrumentation does with the active context (the B3 propagator
    // keeps its debug flag there).
    this.spans.set(handle, { service, span, parent: context });
    return { span: handle, ...spanContextFields(span.spanContext()) };
  }

  inject(request) {
    const service = this.service(request);
    const { span, parent } = this.span(request);
    const carrier = {};
    service.propagator.inject(api.trace.setSpan(parent, span), carrier, api.defaultTextMapSetter);
    return { carrier };
  }

  extract(request) {
    const service = this.service(request);
    const raw = request.carrier;
    if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
      throw new RequestError("field 'carrier' must be an object");
    }
    const carrier = {};
    for (const [key, values] of Object.entries(raw)) {
      if (!Array.isArray(values) || !values.every((v) => typeof v === 'string')) {
        throw new RequestError(`carrier header ${JSON.stringify(key)} must be a list of strings`);
      }
      if (values.length > 0) carrier[key] = values;
    }
    // The default getter hands the SDK every value of a header as an array.
    const context = service.propagator.extract(api.ROOT_CONTEXT, carrier, api.defaultTextMapGetter);
    const spanContext = api.trace.getSpanContext(context);
    const handle = this.newHandle('c');
    this.contexts.set(handle, context);
    const fields =
      spanContext && api.isSpanContextValid(spanContext)
        ? { valid: true, remote: spanContext.isRemote === true, ...spanContextFields(spanContext) }
        : {
            valid: false,
            remote: false,
            trace_id: INVALID_TRACE_ID,
            span_id: INVALID_SPAN_ID,
            sampled: false,
            tracestate: '',
          };
    return { context: handle, joined: false, ...fields };
  }

  async endSpan(request) {
    const { service, span } = this.span(request);
    span.end();
    // The SimpleSpanProcessor exports asynchronously; flushing makes the span
    // visible to `spans` before this request is answered.
    await service.provider.forceFlush();
    return {};
  }

  spansOp() {
    const spans = this.exporter.getFinishedSpans().map((span) => {
      const fields = spanContextFields(span.spanContext());
      const parent = span.parentSpanContext;
      return {
        service: span.instrumentationScope.name,
        name: span.name,
        trace_id: fields.trace_id,
        span_id: fields.span_id,
        parent_span_id: parent && api.isSpanContextValid(parent) ? parent.spanId : '',
        sampled: fields.sampled,
        tracestate: fields.tracestate,
      };
    });
    return { spans };
  }

  reset() {
    this.spans.clear();
    this.contexts.clear();
    this.exporter.reset();
    return {};
  }

  async shutdownServices() {
    for (const service of this.services.values()) {
      await service.provider.shutdown();
    }
  }

  async shutdown() {
    await this.stopHttp();
    await this.shutdownServices();
    return {};
  }
}

const OPS = {
  hello: (d, r) => d.hello(r),
  configure: (d, r) => d.configure(r),
  start_span: (d, r) => d.startSpan(r),
  inject: (d, r) => d.inject(r),
  extract: (d, r) => d.extract(r),
  end_span: (d, r) => d.endSpan(r),
  spans: (d, r) => d.spansOp(r),
  reset: (d, r) => d.reset(r),
  shutdown: (d, r) => d.shutdown(r),
};
httpStack.install(Driver, RequestError, OPS);

/** The response to one request line, and whether the driver should exit. */
async function handle(driver, line) {
  let request;
  try {
    request = JSON.parse(line);
  } catch (error) {
    return [{ id: null, ok: false, error: `malformed JSON: ${error.message}` }, false];
  }
  if (request === null || typeof request !== 'object' || Array.isArray(request)) {
    return [{ id: null, ok: false, error: 'a request must be a JSON object' }, false];
  }
  if (!Number.isSafeInteger(request.id)) {
    return [{ id: null, ok: false, error: "a request needs an integer 'id'" }, false];
  }
  const id = request.id;
  const op = request.op;
  if (typeof op !== 'string' || !Object.hasOwn(OPS, op)) {
    return [{ id, ok: false, error: `unknown op: ${op}` }, false];
  }
  try {
    const result = await OPS[op](driver, request);
    return [{ id, ok: true, ...result }, op === 'shutdown'];
  } catch (error) {
    // An SDK error must not end the driver.
    const message = error instanceof RequestError ? error.message : `${error.name}: ${error.message}`;
    return [{ id, ok: false, error: message }, false];
  }
}

async function main() {
  // stdout is the protocol stream: anything the SDK logs goes to stderr.
  console.log = console.error;
  console.info = console.error;
  api.diag.setLogger(
    {
      error: (...a) => console.error(...a),
      warn: (...a) => console.error(...a),
      info: () => {},
      debug: () => {},
      verbose: () => {},
    },
    api.DiagLogLevel.WARN,
  );
  const driver = new Driver();
  const lines = readline.createInterface({ input: process.stdin, crlfDelay: Infinity });
  for await (const line of lines) {
    const [response, stop] = await handle(driver, line);
    // Writes to a pipe are synchronous in Node on Linux, so nothing is lost on exit.
    process.stdout.write(JSON.stringify(response) + '\n');
    if (stop) break;
  }
  process.exit(0);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
