// The HTTP transport of drivers/PROTOCOL.md: a net/http server and client per
// service, instrumented with otelhttp (the Go SDK's standard HTTP
// instrumentation), with the service's tracer provider and propagator (each
// handler and transport takes its own: otelhttp.WithPropagators).
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"runtime/debug"
	"sync"
	"time"

	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
)

const otelhttpModule = "go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"

// httpStacks are the stacks `http_serve` takes, the default first.
var httpStacks = []string{"net/http"}

// mu guards the handle tables against the server goroutines, which register
// the contexts they extract while the main loop may be answering an op.
var mu sync.Mutex

var servers []*http.Server

func stackDescription() string {
	version := "unknown"
	if info, ok := debug.ReadBuildInfo(); ok {
		for _, m := range info.Deps {
			if m.Path == otelhttpModule {
				version = m.Version
			}
		}
	}
	return "net/http server and client, otelhttp " + version
}

type httpRequest struct {
	Service *string `json:"service"`
	Stack   *string `json:"stack"`
	Listen  *string `json:"listen"`
	Span    *string `json:"span"`
	URL     *string `json:"url"`
}

// clientSpanKey is where the recording transport leaves the client span.
type recordingTransport struct {
	base http.RoundTripper
	seen *trace.Span
}

// RoundTrip sees the request after otelhttp started its client span and
// injected its headers: the span is in the request's context.
func (t recordingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if t.seen != nil {
		*t.seen = trace.SpanFromContext(r.Context())
	}
	return t.base.RoundTrip(r)
}

var baseTransport = &http.Transport{DisableKeepAlives: true, Proxy: nil}

func client(s *service, seen *trace.Span) *http.Client {
	return &http.Client{
		Timeout: 20 * time.Second,
		Transport: otelhttp.NewTransport(recordingTransport{base: baseTransport, seen: seen},
			otelhttp.WithTracerProvider(s.provider),
			otelhttp.WithPropagators(s.propagator)),
	}
}

// extractedKey holds, in a request's context, what the propagator extracted.
type extractedKey struct{}

// observing is the service's propagator as otelhttp's handler is given it;
// it leaves what it extracted in the context, so that the handler can report
// it even when the server span does not record (an unsampled one keeps no
// parent).
type observing struct{ propagation.TextMapPropagator }

func (o observing) Extract(ctx context.Context, carrier propagation.TextMapCarrier) context.Context {
	out := o.TextMapPropagator.Extract(ctx, carrier)
	return context.WithValue(out, extractedKey{}, trace.SpanContextFromContext(out))
}

// clientSpanFields describes the client span otelhttp made under caller: its
// recorded parent, or for a span that does not record (and keeps no
// parent), the span it was started under.
func clientSpanFields(span trace.Span, caller trace.Span) result {
	sc := span.SpanContext()
	parent := caller.SpanContext()
	if ro, ok := span.(sdktrace.ReadOnlySpan); ok {
		parent = ro.Parent()
	}
	return result{
		"trace_id":       sc.TraceID().String(),
		"span_id":        sc.SpanID().String(),
		"parent_span_id": parent.SpanID().String(),
		"sampled":        sc.IsSampled(),
	}
}

type call struct {
	URL       string          `json:"url"`
	Arguments json.RawMessage `json:"arguments"`
}

// serve is the instrumented service: inside the server span otelhttp made,
// it POSTs each call's arguments to its url with the instrumented client and
// answers with the server span's remote parent (as a context handle) and the
// server span.
func (d *driver) serve(s *service) http.Handler {
	inner := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<22))
		var calls []call
		_ = json.Unmarshal(body, &calls)
		results := []result{}
		for _, c := range calls {
			args := c.Arguments
			if len(args) == 0 {
				args = json.RawMessage("null")
			}
			req, err := http.NewRequestWithContext(r.Context(), http.MethodPost, c.URL, bytes.NewReader(args))
			if err != nil {
				results = append(results, result{"url": c.URL, "error": err.Error()})
				continue
			}
			req.Header.Set("Content-Type", "application/json")
			resp, err := client(s, nil).Do(req)
			if err != nil {
				results = append(results, result{"url": c.URL, "error": err.Error()})
				continue
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			results = append(results, result{"url": c.URL, "status": resp.StatusCode})
		}
		span := trace.SpanFromContext(r.Context())
		parent, _ := r.Context().Value(extractedKey{}).(trace.SpanContext)
		mu.Lock()
		handle := d.newHandle("c")
		cx := context.Background()
		if parent.IsValid() {
			cx = trace.ContextWithRemoteSpanContext(cx, parent)
		}
		d.contexts[handle] = cx
		mu.Unlock()
		out := extractedFields(parent)
		out["context"] = handle
		out["server_span"] = spanContextFields(span.SpanContext())
		out["calls"] = results
		encoded, _ := json.Marshal(out)
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Length", fmt.Sprint(len(encoded)))
		w.WriteHeader(http.StatusOK)
		w.Write(encoded)
	})
	return otelhttp.NewHandler(inner, "server",
		otelhttp.WithTracerProvider(s.provider),
		otelhttp.WithPropagators(observing{s.propagator}))
}

func (d *driver) httpServe(req *request) (result, error) {
	s, err := d.service(req)
	if err != nil {
		return nil, err
	}
	var hr httpRequest
	if err := json.Unmarshal(req.raw, &hr); err != nil {
		return nil, err
	}
	if hr.Stack != nil && *hr.Stack != httpStacks[0] {
		return nil, fmt.Errorf("unknown stack %q; the Go driver has %q", *hr.Stack, httpStacks[0])
	}
	addr := "127.0.0.1:0"
	if hr.Listen != nil {
		addr = *hr.Listen
	}
	listener, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	server := &http.Server{Handler: d.serve(s), ReadHeaderTimeout: 20 * time.Second}
	go func() {
		if err := server.Serve(listener); err != nil && !errors.Is(err, http.ErrServerClosed) {
			fmt.Fprintln(os.Stderr, "http server:", err)
		}
	}()
	servers = append(servers, server)
	return result{"url": "http://" + listener.Addr().String() + "/", "stack": stackDescription()}, nil
}

func (d *driver) httpCall(req *request) (result, error) {
	s, err := d.service(req)
	if err != nil {
		return nil, err
	}
	e, err := d.span(req)
	if err != nil {
		return nil, err
	}
	var hr httpRequest
	if err := json.Unmarshal(req.raw, &hr); err != nil {
		return nil, err
	}
	url, err := required(hr.URL, "url")
	if err != nil {
		return nil, err
	}
	r, err := http.NewRequestWithContext(e.ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	var seen trace.Span
	// The handle table stays unlocked while the request is out.
	mu.Unlock()
	resp, err := client(s, &seen).Do(r)
	mu.Lock()
	if err != nil {
		return nil, err
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if seen == nil {
		return nil, errors.New("the instrumented client made no span")
	}
	return result{"status": resp.StatusCode, "client_span": clientSpanFields(seen, e.span)}, nil
}

func stopServers() {
	for _, s := range servers {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		s.Shutdown(ctx)
		cancel()
	}
	servers = nil
}

func init() {
	ops["http_serve"] = (*driver).httpServe
	ops["http_call"] = (*driver).httpCall
}
