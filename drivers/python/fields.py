"""How the Python drivers describe a span context in a response."""

from opentelemetry import trace

INVALID_TRACE_ID = "0" * 32
INVALID_SPAN_ID = "0" * 16


def span_context_fields(span_context):
    return {
        "trace_id": trace.format_trace_id(span_context.trace_id),
        "span_id": trace.format_span_id(span_context.span_id),
        "sampled": span_context.trace_flags.sampled,
        "tracestate": span_context.trace_state.to_header() if span_context.trace_state else "",
    }


def extracted_fields(span_context):
    """An extracted context: its ids when valid, zeros otherwise."""
    if span_context is not None and span_context.is_valid:
        return {"valid": True, "remote": span_context.is_remote, **span_context_fields(span_context)}
    return {
        "valid": False,
        "remote": False,
        "trace_id": INVALID_TRACE_ID,
        "span_id": INVALID_SPAN_ID,
        "sampled": False,
        "tracestate": "",
    }
