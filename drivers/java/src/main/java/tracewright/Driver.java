package tracewright;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.NullNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanBuilder;
import io.opentelemetry.api.trace.SpanContext;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.api.trace.propagation.W3CTraceContextPropagator;
import io.opentelemetry.api.trace.propagation.internal.W3CTraceContextEncoding;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.propagation.TextMapGetter;
import io.opentelemetry.context.propagation.TextMapPropagator;
import io.opentelemetry.extension.trace.propagation.B3Propagator;
import io.opentelemetry.sdk.resources.Resource;
import io.opentelemetry.sdk.testing.exporter.InMemorySpanExporter;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.opentelemetry.sdk.trace.export.SimpleSpanProcessor;
import io.opentelemetry.sdk.trace.samplers.Sampler;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * tracewright's SDK driver for the OpenTelemetry Java SDK (drivers/PROTOCOL.md, protocol 1).
 *
 * <p>It reads one JSON request per line on stdin and writes one JSON response per line on stdout.
 * Everything that matters is done by the SDK itself: its SdkTracerProvider and samplers, the
 * InMemorySpanExporter behind a SimpleSpanProcessor, and its W3CTraceContextPropagator (or, when
 * a service names them, the B3 and composite propagators of
 * opentelemetry-extension-trace-propagators). This file only translates between the protocol and
 * those objects.
 */
public final class Driver {
  private static final int PROTOCOL = 1;
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String ZERO_TRACE_ID = "0".repeat(32);
  private static final String ZERO_SPAN_ID = "0".repeat(16);

  /** A request the driver refuses; the message goes into the response's "error". */
  private static final class Refused extends Exception {
    Refused(String message) {
      super(message);
    }
  }

  private static final class Service {
    final SdkTracerProvider provider;
    final Tracer tracer;
    final TextMapPropagator propagator;

    Service(SdkTracerProvider provider, Tracer tracer, TextMapPropagator propagator) {
      this.provider = provider;
      this.tracer = tracer;
      this.propagator = propagator;
    }
  }

  /**
   * The SDK's getter reads one string per header: repeated values are joined with ",". Header
   * names are case-insensitive, as in HTTP (the SDK's B3 extractor asks for "X-B3-TraceId"): the
   * carrier is keyed by lower-case names and looked up the same way.
   */
  private static final TextMapGetter<Map<String, String>> GETTER =
      new TextMapGetter<>() {
        @Override
        public Iterable<String> keys(Map<String, String> carrier) {
          return carrier.keySet();
        }

        @Override
        public String get(Map<String, String> carrier, String key) {
          return carrier == null || key == null
              ? null
              : carrier.get(key.toLowerCase(java.util.Locale.ROOT));
        }
      };

  private Map<String, Service> services = new HashMap<>();
  private InMemorySpanExporter exporter = InMemorySpanExporter.create();
  private Map<String, Span> spans = new HashMap<>();
  // The context each span was started in: inject serializes the span in it, as instrumentation
  // does with the current context (the B3 propagator keeps its debug flag there).
  private Map<String, Context> spanParents = new HashMap<>();
  private Map<String, Context> contexts = new HashMap<>();
  // Handles are never reused, so a handle kept past `reset` is refused instead of naming a newer
  // span.
  private long nextHandle = 1;
  // Set once `shutdown` was answered: the driver then exits.
  private boolean stopped = false;

  private String newHandle(String prefix) {
    return prefix + nextHandle++;
  }

  // ------------------------------------------------------------------ fields

  private static String string(JsonNode request, String field) throws Refused {
    JsonNode node = request.get(field);
    if (node == null || !node.isTextual()) {
      throw new Refused("field '" + field + "' must be a string");
    }
    return node.asText();
  }

  private Service service(JsonNode request) throws Refused {
    String name = string(request, "service");
    Service service = services.get(name);
    if (service == null) {
      throw new Refused("unknown service: \"" + name + "\"");
    }
    return service;
  }

  private Span span(JsonNode request) throws Refused {
    String handle = string(request, "span");
    Span span = spans.get(handle);
    if (span == null) {
      throw new Refused("unknown span handle: \"" + handle + "\"");
    }
    return span;
  }

  private static void spanContextFields(ObjectNode out, SpanContext sc) {
    out.put("trace_id", sc.getTraceId());
    out.put("span_id", sc.getSpanId());
    out.put("sampled", sc.isSampled());
    out.put("tracestate", W3CTraceContextEncoding.encodeTraceState(sc.getTraceState()));
  }

  // ------------------------------------------------------------------ configuration

  private static Sampler sampler(JsonNode spec) throws Refused {
    String name = string(spec, "sampler");
    switch (name) {
      case "always_on":
        return Sampler.alwaysOn();
      case "always_off":
        return Sampler.alwaysOff();
      case "traceidratio":
        return ratioSampler(spec, name);
      case "parentbased_always_on":
        return Sampler.parentBased(Sampler.alwaysOn());
      case "parentbased_always_off":
        return Sampler.parentBased(Sampler.alwaysOff());
      case "parentbased_traceidratio":
        return Sampler.parentBased(ratioSampler(spec, name));
      default:
        throw new Refused("unknown sampler: \"" + name + "\"");
    }
  }

  private static Sampler ratioSampler(JsonNode spec, String name) throws Refused {
    JsonNode ratio = spec.get("ratio");
    if (ratio == null || !ratio.isNumber()) {
      throw new Refused("sampler " + name + " needs a numeric ratio");
    }
    // An out-of-range ratio is left to the SDK, which refuses it with an exception.
    return Sampler.traceIdRatioBased(ratio.asDouble());
  }

  /**
   * The service's propagator: the SDK's W3C TraceContext propagator unless the service names its
   * propagators (see {@link Propagators}).
   */
  private static TextMapPropagator propagator(JsonNode spec) throws Refused {
    JsonNode names = spec.get("propagators");
    if (names == null || names.isNull()) {
      return W3CTraceContextPropagator.getInstance();
    }
    return Propagators.fromNames(names);
  }

  private ObjectNode hello(JsonNode request) {
    ObjectNode out = JSON.createObjectNode();
    out.put("protocol", PROTOCOL);
    out.put("sdk", "java");
    String version =
        Resource.getDefault().getAttribute(AttributeKey.stringKey("telemetry.sdk.version"));
    out.put("sdk_version", version == null ? "unknown" : version);
    out.put("language_version", System.getProperty("java.version", "unknown"));
    return out;
  }

  private ObjectNode configure(JsonNode request) throws Refused {
    JsonNode list = request.get("services");
    if (list == null || !list.isArray()) {
      throw new Refused("field 'services' must be a list");
    }
    // Build everything before replacing anything: a refused configure leaves the old services.
    InMemorySpanExporter newExporter = InMemorySpanExporter.create();
    Map<String, Service> newServices = new HashMap<>();
    try {
      for (JsonNode spec : list) {
        if (!spec.isObject()) {
          throw new Refused("a service must be an object");
        }
        String name = string(spec, "name");
        if (newServices.containsKey(name)) {
          throw new Refused("service \"" + name + "\" configured twice");
        }
        Sampler sampler;
        try {
          sampler = sampler(spec);
        } catch (IllegalArgumentException e) {
          throw new Refused(e.getClass().getSimpleName() + ": " + e.getMessage());
        }
        TextMapPropagator propagator = propagator(spec);
        SdkTracerProvider provider =
            SdkTracerProvider.builder()
                .setSampler(sampler)
                .addSpanProcessor(SimpleSpanProcessor.create(newExporter))
                .build();
        // The tracer's name is how an exported span says which service made it.
        newServices.put(name, new Service(provider, provider.get(name), propagator));
      }
    } catch (Refused e) {
      for (Service s : newServices.values()) {
        s.provider.shutdown();
      }
      throw e;
    }
    shutdownServices();
    services = newServices;
    exporter = newExporter;
    spans = new HashMap<>();
    spanParents = new HashMap<>();
    contexts = new HashMap<>();
    return JSON.createObjectNode();
  }

  // ------------------------------------------------------------------ spans and contexts

  private ObjectNode startSpan(JsonNode request) throws Refused {
    Service service = service(request);
    String name = string(request, "name");
    SpanBuilder builder = service.tracer.spanBuilder(name);
    JsonNode parent = request.get("parent");
    Context started = Context.root();
    if (parent == null || parent.isNull()) {
      builder.setNoParent();
    } else {
      if (!parent.isTextual()) {
        throw new Refused("field 'parent' must be a string or null");
      }
      Context context = contexts.get(parent.asText());
      if (context == null) {
        throw new Refused("unknown context handle: \"" + parent.asText() + "\"");
      }
      builder.setParent(context);
      started = context;
    }
    Span span = builder.startSpan();
    String handle = newHandle("s");
    spans.put(handle, span);
    spanParents.put(handle, started);
    ObjectNode out = JSON.createObjectNode();
    out.put("span", handle);
    spanContextFields(out, span.getSpanContext());
    return out;
  }

  private ObjectNode inject(JsonNode request) throws Refused {
    Service service = service(request);
    Span span = span(request);
    Context started = spanParents.getOrDefault(request.get("span").asText(), Context.root());
    Map<String, String> carrier = new LinkedHashMap<>();
    service.propagator.inject(started.with(span), carrier, (c, key, value) -> c.put(key, value));
    ObjectNode out = JSON.createObjectNode();
    ObjectNode headers = out.putObject("carrier");
    carrier.forEach(headers::put);
    return out;
  }

  private ObjectNode extract(JsonNode request) throws Refused {
    Service service = service(request);
    JsonNode given = request.get("carrier");
    if (given == null || !given.isObject()) {
      throw new Refused("field 'carrier' must be an object");
    }
    Map<String, String> carrier = new HashMap<>();
    var fields = given.fields();
    while (fields.hasNext()) {
      var field = fields.next();
      JsonNode values = field.getValue();
      if (!values.isArray()) {
        throw new Refused("carrier header \"" + field.getKey() + "\" must be a list of strings");
      }
      List<String> joined = new ArrayList<>();
      for (JsonNode value : values) {
        if (!value.isTextual()) {
          throw new Refused("carrier header \"" + field.getKey() + "\" must be a list of strings");
        }
        joined.add(value.asText());
      }
      if (!joined.isEmpty()) {
        carrier.merge(
            field.getKey().toLowerCase(java.util.Locale.ROOT),
            String.join(",", joined),
            (first, second) -> first + "," + second);
      }
    }
    Context context = service.propagator.extract(Context.root(), carrier, GETTER);
    SpanContext sc = Span.fromContext(context).getSpanContext();
    String handle = newHandle("c");
    contexts.put(handle, context);
    ObjectNode out = JSON.createObjectNode();
    out.put("context", handle);
    if (sc.isValid()) {
      out.put("valid", true);
      out.put("remote", sc.isRemote());
      spanContextFields(out, sc);
    } else {
      out.put("valid", false);
      out.put("remote", false);
      out.put("trace_id", ZERO_TRACE_ID);
      out.put("span_id", ZERO_SPAN_ID);
      out.put("sampled", false);
      out.put("tracestate", "");
    }
    out.put("joined", true);
    return out;
  }

  private ObjectNode endSpan(JsonNode request) throws Refused {
    span(request).end();
    return JSON.createObjectNode();
  }

  private ObjectNode finishedSpans(JsonNode request) {
    ObjectNode out = JSON.createObjectNode();
    ArrayNode list = out.putArray("spans");
    for (SpanData data : exporter.getFinishedSpanItems()) {
      ObjectNode span = list.addObject();
      span.put("service", data.getInstrumentationScopeInfo().getName());
      span.put("name", data.getName());
      SpanContext sc = data.getSpanContext();
      span.put("trace_id", sc.getTraceId());
      span.put("span_id", sc.getSpanId());
      span.put(
          "parent_span_id",
          data.getParentSpanContext().isValid() ? data.getParentSpanContext().getSpanId() : "");
      span.put("sampled", sc.isSampled());
      span.put("tracestate", W3CTraceContextEncoding.encodeTraceState(sc.getTraceState()));
    }
    return out;
  }

  private ObjectNode reset(JsonNode request) {
    spans = new HashMap<>();
    spanParents = new HashMap<>();
    contexts = new HashMap<>();
    exporter.reset();
    return JSON.createObjectNode();
  }

  private void shutdownServices() {
    for (Service s : services.values()) {
      s.provider.shutdown();
    }
  }

  private ObjectNode shutdown(JsonNode request) {
    shutdownServices();
    return JSON.createObjectNode();
  }

  // ------------------------------------------------------------------ the loop

  private interface Op {
    ObjectNode apply(Driver driver, JsonNode request) throws Refused;
  }

  private static final Map<String, Op> OPS = new HashMap<>();

  static {
    OPS.put("hello", Driver::hello);
    OPS.put("configure", Driver::configure);
    OPS.put("start_span", Driver::startSpan);
    OPS.put("inject", Driver::inject);
    OPS.put("extract", Driver::extract);
    OPS.put("end_span", Driver::endSpan);
    OPS.put("spans", Driver::finishedSpans);
    OPS.put("reset", Driver::reset);
    OPS.put("shutdown", Driver::shutdown);
  }

  private static ObjectNode failure(JsonNode id, String message) {
    ObjectNode out = JSON.createObjectNode();
    out.set("id", id);
    out.put("ok", false);
    out.put("error", message);
    return out;
  }

  /** Answers one request line. */
  ObjectNode handle(String line) {
    JsonNode request;
    try {
      request = JSON.readTree(line);
    } catch (IOException e) {
      return failure(NullNode.getInstance(), "malformed JSON: " + e.getMessage().lines().findFirst().orElse(""));
    }
    if (request == null || !request.isObject()) {
      return failure(NullNode.getInstance(), "a request must be a JSON object");
    }
    JsonNode id = request.get("id");
    if (id == null || !id.isIntegralNumber() || !id.canConvertToLong() || id.asLong() < 0) {
      return failure(NullNode.getInstance(), "a request needs an integer 'id'");
    }
    JsonNode opNode = request.get("op");
    String op = opNode != null && opNode.isTextual() ? opNode.asText() : String.valueOf(opNode);
    Op fn = OPS.get(op);
    if (fn == null) {
      return failure(id, "unknown op: " + op);
    }
    ObjectNode out;
    try {
      out = fn.apply(this, request);
    } catch (Refused e) {
      return failure(id, e.getMessage());
    } catch (RuntimeException e) {
      // An SDK exception must not end the driver.
      return failure(id, e.getClass().getSimpleName() + ": " + e.getMessage());
    }
    stopped = op.equals("shutdown");
    ObjectNode response = JSON.createObjectNode();
    response.set("id", id);
    response.put("ok", true);
    response.setAll(out);
    return response;
  }

  public static void main(String[] args) throws IOException {
    // Protocol on stdout only; the SDK's own logging goes to stderr.
    PrintStream stdout = new PrintStream(System.out, false, StandardCharsets.UTF_8);
    System.setOut(new PrintStream(System.err, true, StandardCharsets.UTF_8));
    BufferedReader in =
        new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
    Driver driver = new Driver();
    String line;
    while ((line = in.readLine()) != null) {
      ObjectNode response = driver.handle(line);
      stdout.print(JSON.writeValueAsString(response));
      stdout.print('\n');
      stdout.flush();
      if (stdout.checkError()) {
        System.err.println("writing stdout failed");
        System.exit(1);
      }
      if (driver.stopped) {
        break;
      }
    }
    System.exit(0);
  }

  /** The propagators a service may name, as OTEL_PROPAGATORS names them. */
  static final class Propagators {
    private Propagators() {}

    static TextMapPropagator fromNames(JsonNode names) throws Refused {
      if (!names.isArray() || names.isEmpty()) {
        throw new Refused("field 'propagators' must be a non-empty list of strings");
      }
      List<TextMapPropagator> chosen = new ArrayList<>();
      for (JsonNode name : names) {
        if (!name.isTextual()) {
          throw new Refused("field 'propagators' must be a non-empty list of strings");
        }
        chosen.add(byName(name.asText()));
      }
      return chosen.size() == 1 ? chosen.get(0) : TextMapPropagator.composite(chosen);
    }

    private static TextMapPropagator byName(String name) throws Refused {
      switch (name) {
        case "tracecontext":
          return W3CTraceContextPropagator.getInstance();
        case "b3":
          return B3Propagator.injectingSingleHeader();
        case "b3multi":
          return B3Propagator.injectingMultiHeaders();
        default:
          throw new Refused("unknown propagator: \"" + name + "\"");
      }
    }
  }
}
