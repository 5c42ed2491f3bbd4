//! The OpenTelemetry Rust SDK, in-process, behind the same [`Sdk`] interface
//! as the driver processes.
//!
//! As in every driver, each configured service has its own
//! `SdkTracerProvider` with the requested sampler, one `InMemorySpanExporter`
//! (shared by the services of one `configure`) behind a `SimpleSpanProcessor`,
//! and the propagators it names: the SDK's own `TraceContextPropagator`
//! (`tracecontext`, the default), the B3 `Propagator` of
//! `opentelemetry-propagator-b3` (the standalone crate of `opentelemetry-zipkin`'s
//! propagator, same code) injecting the single header (`b3`) or the multiple
//! headers (`b3multi`); several make the API's `TextMapCompositePropagator`,
//! in the order given. The tracer of a service is named
//! after it, which is how an exported span says which service made it.
//!
//! [`RustSdk::exporting`] adds, per service, the real OTLP exporter of
//! `opentelemetry-otlp` (OTLP/HTTP, protobuf) behind a `BatchSpanProcessor`
//! whose timer never fires during a replay, with a resource whose
//! `service.name` is the service: the service's spans leave for the
//! collector only when [`Flusher::flush`] flushes that service, which is the
//! model's `Export` step. The in-memory exporter stays, for the step checks.
//! [`RustSdk::route`] sends one service's spans to a target of its own (a
//! second gateway collector), and [`RustSdk::failing`] makes every span of a
//! service end with status ERROR (what a tail-sampling policy looks at).

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use opentelemetry::Context;
use opentelemetry::propagation::{TextMapCompositePropagator, TextMapPropagator};
use opentelemetry::trace::{
    Span as _, SpanContext, SpanId, Status, TraceContextExt, Tracer as _, TracerProvider as _,
};
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_propagator_b3::{B3Encoding, Propagator as B3Propagator};
use opentelemetry_otlp::{WithExportConfig as _, WithHttpConfig as _};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::trace::{
    BatchConfigBuilder, BatchSpanProcessor, InMemorySpanExporter, Sampler, SdkTracer,
    SdkTracerProvider, SimpleSpanProcessor, Span,
};
use serde_json::Value;

use super::{
    ContextFields, Extract, Extracted, FinishedSpan, Hello, HttpCall, HttpCalled, HttpServe, HttpServing, Inject,
    Injected, PROTOCOL, SamplerKind, Sdk, ServiceConfig, StartSpan, StartedSpan,
};
use crate::error::{Error, Result};

/// The `opentelemetry_sdk` version in Cargo.lock; a unit test keeps them equal.
pub const SDK_VERSION: &str = "0.33.1";

/// A service's propagator, shared with its HTTP server and client.
pub type SharedPropagator = Arc<dyn TextMapPropagator + Send + Sync>;

struct Service {
    provider: SdkTracerProvider,
    tracer: SdkTracer,
    propagator: SharedPropagator,
}

/// The propagator a service names (see [`ServiceConfig::propagators`]).
fn propagator(config: &ServiceConfig) -> Result<SharedPropagator> {
    let one = |name: &str| -> Result<Box<dyn TextMapPropagator + Send + Sync>> {
        match name {
            "tracecontext" => Ok(Box::new(TraceContextPropagator::new())),
            "b3" => Ok(Box::new(B3Propagator::with_encoding(B3Encoding::SingleHeader))),
            "b3multi" => Ok(Box::new(B3Propagator::with_encoding(B3Encoding::MultipleHeader))),
            other => Err(refused("configure", format!("unknown propagator: {other:?} (service {:?})", config.name))),
        }
    };
    Ok(match config.propagators.as_slice() {
        [] => Arc::new(TraceContextPropagator::new()),
        [name] => Arc::from(one(name)?),
        names => Arc::new(TextMapCompositePropagator::new(names.iter().map(|n| one(n)).collect::<Result<Vec<_>>>()?)),
    })
}

/// Where the services of an exporting SDK send their spans.
#[derive(Clone, Debug)]
pub struct OtlpTarget {
    /// The OTLP/HTTP traces endpoint, e.g. `http://127.0.0.1:4318/v1/traces`.
    pub endpoint: String,
    /// Compress request bodies with gzip.
    pub gzip: bool,
}

/// Flushes the OTLP exporters of an exporting [`RustSdk`], service by
/// service; shared with whoever plays the model's `Export` steps.
#[derive(Clone, Default)]
pub struct Flusher {
    providers: Arc<Mutex<BTreeMap<String, SdkTracerProvider>>>,
}

impl Flusher {
    /// Sends every span `service` has ended and not yet sent; returns when
    /// the export finished (the collector answered, or the export failed:
    /// then the error).
    pub fn flush(&self, service: &str) -> Result<()> {
        let provider = self
            .providers
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(service)
            .cloned()
            .ok_or_else(|| refused("flush", format!("unknown service: {service:?}")))?;
        provider.force_flush().map_err(|e| refused("flush", format!("the OTLP export of {service} failed: {e}")))
    }
}

/// The Rust SDK. Not `Sync`: one test or replay drives it at a time.
pub struct RustSdk {
    /// Where services also export over OTLP, if anywhere.
    otlp: Option<OtlpTarget>,
    /// Services exporting somewhere else than `otlp`.
    routes: BTreeMap<String, OtlpTarget>,
    /// Services whose spans end with status ERROR.
    failing: BTreeSet<String>,
    flusher: Flusher,
    services: BTreeMap<String, Service>,
    exporter: InMemorySpanExporter,
    spans: HashMap<String, Span>,
    contexts: HashMap<String, Context>,
    /// Handles are never reused, so a handle kept past `reset` is refused
    /// instead of naming some newer span.
    next_handle: u64,
    shut_down: bool,
    /// The HTTP servers and client, once `http_serve` or `http_call` is used.
    http: Option<super::rust_http::Http>,
}

impl Default for RustSdk {
    fn default() -> RustSdk {
        RustSdk::new()
    }
}

fn refused(op: &str, message: impl std::fmt::Display) -> Error {
    Error::Sut {
        sut: "rust SDK".into(),
        headline: format!("refused `{op}`: {message}"),
        hint: None,
    }
}

fn sampler(config: &ServiceConfig) -> Result<Sampler> {
    let ratio = || {
        config.ratio.ok_or_else(|| {
            refused(
                "configure",
                format!("sampler {:?} of service {:?} needs a ratio", config.sampler, config.name),
            )
        })
    };
    Ok(match config.sampler {
        SamplerKind::AlwaysOn => Sampler::AlwaysOn,
        SamplerKind::AlwaysOff => Sampler::AlwaysOff,
        SamplerKind::Traceidratio => Sampler::TraceIdRatioBased(ratio()?),
        SamplerKind::ParentbasedAlwaysOn => Sampler::ParentBased(Box::new(Sampler::AlwaysOn)),
        SamplerKind::ParentbasedAlwaysOff => Sampler::ParentBased(Box::new(Sampler::AlwaysOff)),
        SamplerKind::ParentbasedTraceidratio => {
            Sampler::ParentBased(Box::new(Sampler::TraceIdRatioBased(ratio()?)))
        }
    })
}

/// Ids, sampled flag and tracestate as the protocol spells them.
fn fields(sc: &SpanContext) -> (String, String, bool, String) {
    (
        sc.trace_id().to_string(),
        sc.span_id().to_string(),
        sc.is_sampled(),
        sc.trace_state().header(),
    )
}

impl RustSdk {
    pub fn new() -> RustSdk {
        RustSdk {
            otlp: None,
            routes: BTreeMap::new(),
            failing: BTreeSet::new(),
            flusher: Flusher::default(),
            services: BTreeMap::new(),
            exporter: InMemorySpanExporter::default(),
            spans: HashMap::new(),
            contexts: HashMap::new(),
            next_handle: 1,
            shut_down: false,
            http: None,
        }
    }

    /// An SDK whose services also export over OTLP to `target`, each when
    /// flushed through [`RustSdk::flusher`].
    pub fn exporting(target: OtlpTarget) -> RustSdk {
        let mut sdk = RustSdk::new();
        sdk.otlp = Some(target);
        sdk
    }

    /// Service `service` exports to `target` instead (takes effect at the
    /// next `configure`).
    pub fn route(mut self, service: &str, target: OtlpTarget) -> RustSdk {
        self.routes.insert(service.to_string(), target);
        self
    }

    /// Every span of service `service` ends with status ERROR.
    pub fn failing(mut self, service: &str) -> RustSdk {
        self.failing.insert(service.to_string());
        self
    }

    /// Flushes this SDK's OTLP exporters (after `configure`).
    pub fn flusher(&self) -> Flusher {
        self.flusher.clone()
    }

    fn otlp_processor(target: &OtlpTarget) -> Result<BatchSpanProcessor> {
        let mut builder = opentelemetry_otlp::SpanExporter::builder()
            .with_http()
            .with_endpoint(target.endpoint.clone())
            .with_protocol(opentelemetry_otlp::Protocol::HttpBinary)
            .with_timeout(Duration::from_secs(30));
        if target.gzip {
            builder = builder.with_compression(opentelemetry_otlp::Compression::Gzip);
        }
        let exporter = builder.build().map_err(|e| refused("configure", format!("cannot build the OTLP exporter: {e}")))?;
        // The timer never fires during a replay: spans leave only on a flush.
        let config = BatchConfigBuilder::default()
            .with_scheduled_delay(Duration::from_secs(24 * 3600))
            .with_max_queue_size(1 << 16)
            .with_max_export_batch_size(1 << 16)
            .build();
        Ok(BatchSpanProcessor::builder(exporter).with_batch_config(config).build())
    }

    fn new_handle(&mut self, prefix: &str) -> String {
        let handle = format!("{prefix}{}", self.next_handle);
        self.next_handle += 1;
        handle
    }

    fn check_running(&self, op: &str) -> Result<()> {
        if self.shut_down { Err(refused(op, "the SDK was shut down")) } else { Ok(()) }
    }

    fn service(&self, op: &str, name: &str) -> Result<&Service> {
        self.check_running(op)?;
        self.services.get(name).ok_or_else(|| refused(op, format!("unknown service: {name:?}")))
    }

    fn shutdown_services(&mut self) {
        self.flusher.providers.lock().unwrap_or_else(|p| p.into_inner()).clear();
        for service in std::mem::take(&mut self.services).into_values() {
            // A provider that fails to shut down cleanly changes nothing here:
            // its spans are forgotten with it.
            let _ = service.provider.shutdown();
        }
    }
}

impl Sdk for RustSdk {
    fn hello(&mut self) -> Result<Hello> {
        self.check_running("hello")?;
        Ok(Hello {
            protocol: PROTOCOL,
            sdk: "rust".into(),
            sdk_version: SDK_VERSION.into(),
            // A compiled program cannot ask which rustc built it.
            language_version: "unknown".into(),
            http_stacks: vec![super::rust_http::STACK.into()],
        })
    }

    fn configure(&mut self, configs: &[ServiceConfig]) -> Result<()> {
        self.check_running("configure")?;
        // Build everything before replacing anything: a refused configure
        // leaves the old services in place.
        let exporter = InMemorySpanExporter::default();
        let mut services = BTreeMap::new();
        for config in configs {
            if services.contains_key(&config.name) {
                return Err(refused(
                    "configure",
                    format!("service {:?} configured twice", config.name),
                ));
            }
            let mut builder = SdkTracerProvider::builder()
                .with_sampler(sampler(config)?)
                .with_span_processor(SimpleSpanProcessor::new(exporter.clone()));
            if let Some(target) = self.routes.get(&config.name).or(self.otlp.as_ref()) {
                builder = builder
                    .with_span_processor(Self::otlp_processor(target)?)
                    .with_resource(Resource::builder().with_service_name(config.name.clone()).build());
            }
            let provider = builder.build();
            let tracer = provider.tracer(config.name.clone());
            services.insert(
                config.name.clone(),
                Service { provider, tracer, propagator: propagator(config)? },
            );
        }
        self.spans.clear();
        self.contexts.clear();
        if let Some(http) = &mut self.http {
            http.stop_servers();
            http.inbox.take();
        }
        self.shutdown_services();
        *self.flusher.providers.lock().unwrap_or_else(|p| p.into_inner()) =
            services.iter().map(|(name, s)| (name.clone(), s.provider.clone())).collect();
        self.services = services;
        self.exporter = exporter;
        Ok(())
    }

    fn start_span(&mut self, request: &StartSpan) -> Result<StartedSpan> {
        if let Some(http) = &self.http {
            super::rust_http::take_into(&http.inbox, &mut self.contexts);
        }
        let parent = match &request.parent {
            None => Context::new(),
            Some(handle) => self.contexts.get(handle).cloned().ok_or_else(|| {
                refused("start_span", format!("unknown context handle: {handle:?}"))
            })?,
        };
        let service = self.service("start_span", &request.service)?;
        let mut span = service.tracer.start_with_context(request.name.clone(), &parent);
        if self.failing.contains(&request.service) {
            span.set_status(Status::error(format!("{} fails", request.service)));
        }
        let (trace_id, span_id, sampled, tracestate) = fields(span.span_context());
        let handle = self.new_handle("s");
        self.spans.insert(handle.clone(), span);
        Ok(StartedSpan { span: handle, trace_id, span_id, sampled, tracestate })
    }

    fn inject(&mut self, request: &Inject) -> Result<Injected> {
        let service = self.service("inject", &request.service)?;
        let span = self
            .spans
            .get(&request.span)
            .ok_or_else(|| refused("inject", format!("unknown span handle: {:?}", request.span)))?;
        // The propagator reads only the span context of the context's span;
        // a context holding that span context stands for the span itself.
        let cx = Context::new().with_remote_span_context(span.span_context().clone());
        let mut carrier = HashMap::new();
        service.propagator.inject_context(&cx, &mut carrier);
        Ok(Injected { carrier: carrier.into_iter().collect(), client_span: None, wire: None })
    }

    fn extract(&mut self, request: &Extract) -> Result<Extracted> {
        let service = self.service("extract", &request.service)?;
        // The SDK's Extractor hands the propagator one string per header, so
        // repeated values are joined with ",".
        let carrier: HashMap<String, String> = request
            .carrier
            .iter()
            .filter(|(_, values)| !values.is_empty())
            .map(|(name, values)| (name.clone(), values.join(",")))
            .collect();
        let cx = service.propagator.extract(&carrier);
        let sc = cx.span().span_context().clone();
        let handle = self.new_handle("c");
        self.contexts.insert(handle.clone(), cx);
        Ok(Extracted { found: ContextFields::of(handle, &sc), joined: true, refused: None })
    }

    fn end_span(&mut self, span: &str) -> Result<()> {
        self.check_running("end_span")?;
        let span = self
            .spans
            .get_mut(span)
            .ok_or_else(|| refused("end_span", format!("unknown span handle: {span:?}")))?;
        span.end();
        Ok(())
    }

    fn spans(&mut self) -> Result<Vec<FinishedSpan>> {
        self.check_running("spans")?;
        let finished = self.exporter.get_finished_spans().map_err(|e| refused("spans", e))?;
        Ok(finished
            .into_iter()
            .map(|data| {
                let (trace_id, span_id, sampled, tracestate) = fields(&data.span_context);
                let parent_span_id = if data.parent_span_id == SpanId::INVALID {
                    String::new()
                } else {
                    data.parent_span_id.to_string()
                };
                FinishedSpan {
                    service: data.instrumentation_scope.name().to_string(),
                    name: data.name.into_owned(),
                    trace_id,
                    span_id,
                    parent_span_id,
                    sampled,
                    tracestate,
                }
            })
            .collect())
    }

    fn reset(&mut self) -> Result<()> {
        self.check_running("reset")?;
        self.spans.clear();
        self.contexts.clear();
        if let Some(http) = &self.http {
            http.inbox.take();
        }
        self.exporter.reset();
        Ok(())
    }

    fn shutdown(&mut self) -> Result<()> {
        self.check_running("shutdown")?;
        self.spans.clear();
        self.contexts.clear();
        self.http = None;
        self.shutdown_services();
        self.shut_down = true;
        Ok(())
    }

    fn raw(&mut self, line: &str) -> Result<Value> {
        Ok(super::serve_line(self, line))
    }

    fn http_serve(&mut self, request: &HttpServe) -> Result<HttpServing> {
        let service = self.service("http_serve", &request.service)?;
        let (tracer, propagator) = (service.tracer.clone(), service.propagator.clone());
        if self.http.is_none() {
            self.http = Some(super::rust_http::Http::new()?);
        }
        let http = self.http.as_mut().expect("just set");
        http.serve(tracer, propagator, request.stack.as_deref(), request.listen.as_deref())
    }

    fn http_call(&mut self, request: &HttpCall) -> Result<HttpCalled> {
        let service = self.service("http_call", &request.service)?;
        let (tracer, propagator) = (service.tracer.clone(), service.propagator.clone());
        let span = self
            .spans
            .get(&request.span)
            .ok_or_else(|| refused("http_call", format!("unknown span handle: {:?}", request.span)))?;
        let parent = Context::new().with_remote_span_context(span.span_context().clone());
        if self.http.is_none() {
            self.http = Some(super::rust_http::Http::new()?);
        }
        let http = self.http.as_ref().expect("just set");
        let (status, client_span) = http.call(&tracer, propagator.as_ref(), &parent, &request.url)?;
        Ok(HttpCalled { status, client_span })
    }
}

impl Drop for RustSdk {
    fn drop(&mut self) {
        self.spans.clear();
        self.shutdown_services();
    }
}

#[cfg(test)]
mod tests {
    use super::SDK_VERSION;

    #[test]
    fn sdk_version_matches_cargo_lock() {
        let lock = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.lock"))
            .expect("Cargo.lock is readable");
        let entry = format!("name = \"opentelemetry_sdk\"\nversion = \"{SDK_VERSION}\"");
        assert!(lock.contains(&entry), "Cargo.lock should lock opentelemetry_sdk {SDK_VERSION}");
    }
}
