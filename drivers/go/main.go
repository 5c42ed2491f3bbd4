// Command go-driver is tracewright's SDK driver for the OpenTelemetry Go SDK
// (protocol v1).
//
// It reads one JSON request per line on stdin and writes one JSON response per
// line on stdout, as drivers/PROTOCOL.md describes. Everything that matters is
// done by the SDK itself: its TracerProvider and samplers, the tracetest
// InMemoryExporter behind a SimpleSpanProcessor, and propagation.TraceContext
// (or, when a service names them, the B3 propagator of
// go.opentelemetry.io/contrib/propagators/b3 and the API's composite
// propagator). This file only translates between the protocol and those
// objects.
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"

	"go.opentelemetry.io/contrib/propagators/b3"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
)

const protocol = 1

type service struct {
	provider   *sdktrace.TracerProvider
	tracer     trace.Tracer
	propagator propagation.TextMapPropagator
}

type spanEntry struct {
	service *service
	span    trace.Span
	// The context the span was started in, with the span: inject serializes
	// the span in it, as instrumentation does with the request's context
	// (the B3 propagator keeps its debug and deferred flags there).
	ctx context.Context
}

type driver struct {
	services map[string]*service
	exporter *tracetest.InMemoryExporter
	spans    map[string]spanEntry
	contexts map[string]context.Context
	// Handles are never reused, so a handle kept past `reset` is refused
	// instead of naming some newer span.
	nextHandle int
}

func newDriver() *driver {
	return &driver{
		services:   map[string]*service{},
		exporter:   tracetest.NewInMemoryExporter(),
		spans:      map[string]spanEntry{},
		contexts:   map[string]context.Context{},
		nextHandle: 1,
	}
}

func (d *driver) newHandle(prefix string) string {
	h := fmt.Sprintf("%s%d", prefix, d.nextHandle)
	d.nextHandle++
	return h
}

type result map[string]any

type serviceSpec struct {
	Name        *string          `json:"name"`
	Sampler     string           `json:"sampler"`
	Ratio       *float64         `json:"ratio"`
	Propagators *json.RawMessage `json:"propagators"`
}

// propagators are the propagators a service may name, as OTEL_PROPAGATORS
// names them (contrib's autoprop: "b3" injects the single header, "b3multi"
// the multiple headers; both extract either).
var propagators = map[string]func() propagation.TextMapPropagator{
	"tracecontext": func() propagation.TextMapPropagator { return propagation.TraceContext{} },
	"b3": func() propagation.TextMapPropagator {
		return b3.New(b3.WithInjectEncoding(b3.B3SingleHeader))
	},
	"b3multi": func() propagation.TextMapPropagator {
		return b3.New(b3.WithInjectEncoding(b3.B3MultipleHeader))
	},
}

// makePropagator is the service's propagator: W3C trace context unless the
// service names its propagators; several make a composite, in the order
// given.
func makePropagator(spec serviceSpec) (propagation.TextMapPropagator, error) {
	if spec.Propagators == nil || string(*spec.Propagators) == "null" {
		return propagation.TraceContext{}, nil
	}
	var names []string
	if err := json.Unmarshal(*spec.Propagators, &names); err != nil || len(names) == 0 {
		return nil, errors.New("field 'propagators' must be a non-empty list of strings")
	}
	chosen := []propagation.TextMapPropagator{}
	for _, name := range names {
		build, ok := propagators[name]
		if !ok {
			return nil, fmt.Errorf("unknown propagator: %q", name)
		}
		chosen = append(chosen, build())
	}
	if len(chosen) == 1 {
		return chosen[0], nil
	}
	return propagation.NewCompositeTextMapPropagator(chosen...), nil
}

type request struct {
	Op       string                     `json:"op"`
	Services []serviceSpec              `json:"services"`
	Service  *string                    `json:"service"`
	Name     *string                    `json:"name"`
	Parent   *string                    `json:"parent"`
	Span     *string                    `json:"span"`
	Carrier  map[string]json.RawMessage `json:"carrier"`
	// The request line itself, for ops that read fields of their own.
	raw []byte
}

func makeSampler(spec serviceSpec) (sdktrace.Sampler, error) {
	ratio := func() (float64, error) {
		if spec.Ratio == nil {
			return 0, fmt.Errorf("sampler %s needs a numeric ratio", spec.Sampler)
		}
		return *spec.Ratio, nil
	}
	switch spec.Sampler {
	case "always_on":
		return sdktrace.AlwaysSample(), nil
	case "always_off":
		return sdktrace.NeverSample(), nil
	case "traceidratio":
		r, err := ratio()
		if err != nil {
			return nil, err
		}
		return sdktrace.TraceIDRatioBased(r), nil
	case "parentbased_always_on":
		return sdktrace.ParentBased(sdktrace.AlwaysSample()), nil
	case "parentbased_always_off":
		return sdktrace.ParentBased(sdktrace.NeverSample()), nil
	case "parentbased_traceidratio":
		r, err := ratio()
		if err != nil {
			return nil, err
		}
		return sdktrace.ParentBased(sdktrace.TraceIDRatioBased(r)), nil
	}
	return nil, fmt.Errorf("unknown sampler: %q", spec.Sampler)
}

func spanContextFields(sc trace.SpanContext) result {
	return result{
		"trace_id":   sc.TraceID().String(),
		"span_id":    sc.SpanID().String(),
		"sampled":    sc.IsSampled(),
		"tracestate": sc.TraceState().String(),
	}
}

func required(field *string, name string) (string, error) {
	if field == nil {
		return "", fmt.Errorf("field '%s' must be a string", name)
	}
	return *field, nil
}

func (d *driver) service(req *request) (*service, error) {
	name, err := required(req.Service, "service")
	if err != nil {
		return nil, err
	}
	s, ok := d.services[name]
	if !ok {
		return nil, fmt.Errorf("unknown service: %q", name)
	}
	return s, nil
}

func (d *driver) span(req *request) (spanEntry, error) {
	handle, err := required(req.Span, "span")
	if err != nil {
		return spanEntry{}, err
	}
	e, ok := d.spans[handle]
	if !ok {
		return spanEntry{}, fmt.Errorf("unknown span handle: %q", handle)
	}
	return e, nil
}

func (d *driver) hello(*request) (result, error) {
	return result{
		"protocol":         protocol,
		"sdk":              "go",
		"sdk_version":      sdk.Version(),
		"language_version": strings.TrimPrefix(runtime.Version(), "go"),
		"http_stacks":      httpStacks,
	}, nil
}

func (d *driver) configure(req *request) (result, error) {
	if req.Services == nil {
		return nil, errors.New("field 'services' must be a list")
	}
	// Build everything before replacing anything: a refused configure leaves
	// the old services in place.
	exporter := tracetest.NewInMemoryExporter()
	services := map[string]*service{}
	for _, spec := range req.Services {
		name, err := required(spec.Name, "name")
		if err != nil {
			return nil, err
		}
		if _, dup := services[name]; dup {
			return nil, fmt.Errorf("service %q configured twice", name)
		}
		sampler, err := makeSampler(spec)
		if err != nil {
			return nil, err
		}
		propagator, err := makePropagator(spec)
		if err != nil {
			return nil, err
		}
		provider := sdktrace.NewTracerProvider(
			sdktrace.WithSampler(sampler),
			sdktrace.WithSpanProcessor(sdktrace.NewSimpleSpanProcessor(exporter)),
		)
		services[name] = &service{
			provider: provider,
			// The tracer's name is how an exported span says which service made it.
			tracer:     provider.Tracer(name),
			propagator: propagator,
		}
	}
	d.shutdownServices()
	d.services = services
	d.exporter = exporter
	d.spans = map[string]spanEntry{}
	d.contexts = map[string]context.Context{}
	return result{}, nil
}

func (d *driver) startSpan(req *request) (result, error) {
	s, err := d.service(req)
	if err != nil {
		return nil, err
	}
	name, err := required(req.Name, "name")
	if err != nil {
		return nil, err
	}
	ctx := context.Background()
	if req.Parent != nil {
		parent, ok := d.contexts[*req.Parent]
		if !ok {
			return nil, fmt.Errorf("unknown context handle: %q", *req.Parent)
		}
		ctx = parent
	}
	spanCtx, span := s.tracer.Start(ctx, name)
	handle := d.newHandle("s")
	d.spans[handle] = spanEntry{service: s, span: span, ctx: spanCtx}
	out := spanContextFields(span.SpanContext())
	out["span"] = handle
	return out, nil
}

func (d *driver) inject(req *request) (result, error) {
	s, err := d.service(req)
	if err != nil {
		return nil, err
	}
	e, err := d.span(req)
	if err != nil {
		return nil, err
	}
	carrier := propagation.MapCarrier{}
	s.propagator.Inject(e.ctx, carrier)
	return result{"carrier": carrier}, nil
}

func (d *driver) extract(req *request) (result, error) {
	s, err := d.service(req)
	if err != nil {
		return nil, err
	}
	if req.Carrier == nil {
		return nil, errors.New("field 'carrier' must be an object")
	}
	// The SDK's TraceContext reads each header with TextMapCarrier.Get, one
	// string: several values of one header are joined with ",".
	carrier := propagation.MapCarrier{}
	for key, raw := range req.Carrier {
		var values []string
		if err := json.Unmarshal(raw, &values); err != nil || values == nil {
			return nil, fmt.Errorf("carrier header %q must be a list of strings", key)
		}
		if len(values) > 0 {
			carrier[key] = strings.Join(values, ",")
		}
	}
	ctx := s.propagator.Extract(context.Background(), carrier)
	sc := trace.SpanContextFromContext(ctx)
	handle := d.newHandle("c")
	d.contexts[handle] = ctx
	out := extractedFields(sc)
	out["context"] = handle
	out["joined"] = true
	return out, nil
}

// extractedFields describes an extracted context: its ids when it is valid,
// zero ids otherwise, with whether it is valid and remote.
func extractedFields(sc trace.SpanContext) result {
	if !sc.IsValid() {
		out := spanContextFields(trace.SpanContext{})
		out["valid"] = false
		out["remote"] = false
		return out
	}
	out := spanContextFields(sc)
	out["valid"] = true
	out["remote"] = sc.IsRemote()
	return out
}

func (d *driver) endSpan(req *request) (result, error) {
	e, err := d.span(req)
	if err != nil {
		return nil, err
	}
	e.span.End()
	return result{}, nil
}

func (d *driver) spansOp(*request) (result, error) {
	spans := []result{}
	for _, stub := range d.exporter.GetSpans() {
		parent := ""
		if stub.Parent.SpanID().IsValid() {
			parent = stub.Parent.SpanID().String()
		}
		fields := spanContextFields(stub.SpanContext)
		spans = append(spans, result{
			"service":        stub.InstrumentationScope.Name,
			"name":           stub.Name,
			"trace_id":       fields["trace_id"],
			"span_id":        fields["span_id"],
			"parent_span_id": parent,
			"sampled":        fields["sampled"],
			"tracestate":     fields["tracestate"],
		})
	}
	return result{"spans": spans}, nil
}

func (d *driver) reset(*request) (result, error) {
	d.spans = map[string]spanEntry{}
	d.contexts = map[string]context.Context{}
	d.exporter.Reset()
	return result{}, nil
}

func (d *driver) shutdownServices() {
	stopServers()
	for _, s := range d.services {
		if err := s.provider.Shutdown(context.Background()); err != nil {
			fmt.Fprintln(os.Stderr, "shutting down a tracer provider:", err)
		}
	}
}

func (d *driver) shutdown(*request) (result, error) {
	d.shutdownServices()
	return result{}, nil
}

var ops = map[string]func(*driver, *request) (result, error){
	"hello":      (*driver).hello,
	"configure":  (*driver).configure,
	"start_span": (*driver).startSpan,
	"inject":     (*driver).inject,
	"extract":    (*driver).extract,
	"end_span":   (*driver).endSpan,
	"spans":      (*driver).spansOp,
	"reset":      (*driver).reset,
	"shutdown":   (*driver).shutdown,
}

func failure(id any, format string, args ...any) result {
	return result{"id": id, "ok": false, "error": fmt.Sprintf(format, args...)}
}

// handle answers one request line and says whether the driver should exit.
func (d *driver) handle(line []byte) (resp result, stop bool) {
	if !json.Valid(line) {
		return failure(nil, "malformed JSON"), false
	}
	var envelope map[string]json.RawMessage
	if err := json.Unmarshal(line, &envelope); err != nil || envelope == nil {
		return failure(nil, "a request must be a JSON object"), false
	}
	var id int64
	rawID, hasID := envelope["id"]
	if !hasID || string(rawID) == "null" || json.Unmarshal(rawID, &id) != nil {
		return failure(nil, "a request needs an integer 'id'"), false
	}
	var op string
	_ = json.Unmarshal(envelope["op"], &op)
	fn, ok := ops[op]
	if !ok {
		return failure(id, "unknown op: %s", op), false
	}
	var req request
	if err := json.Unmarshal(line, &req); err != nil {
		return failure(id, "malformed %s request: %v", op, err), false
	}
	// An SDK panic must not end the driver.
	defer func() {
		if r := recover(); r != nil {
			resp, stop = failure(id, "panic: %v", r), false
		}
	}()
	req.raw = line
	out, err := func() (result, error) {
		mu.Lock()
		defer mu.Unlock()
		return fn(d, &req)
	}()
	if err != nil {
		return failure(id, "%v", err), false
	}
	out["id"] = id
	out["ok"] = true
	return out, op == "shutdown"
}

func main() {
	d := newDriver()
	in := bufio.NewReader(os.Stdin)
	out := bufio.NewWriter(os.Stdout)
	for {
		line, err := in.ReadBytes('\n')
		if len(line) > 0 {
			resp, stop := d.handle(bytes.TrimRight(line, "\r\n"))
			encoded, encErr := json.Marshal(resp)
			if encErr != nil {
				encoded, _ = json.Marshal(failure(resp["id"], "cannot encode the response: %v", encErr))
			}
			out.Write(encoded)
			out.WriteByte('\n')
			if flushErr := out.Flush(); flushErr != nil {
				fmt.Fprintln(os.Stderr, "writing stdout:", flushErr)
				os.Exit(1)
			}
			if stop {
				return
			}
		}
		if err == io.EOF {
			return
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "reading stdin:", err)
			os.Exit(1)
		}
	}
}
