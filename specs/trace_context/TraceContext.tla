---------------------------- MODULE TraceContext ----------------------------
(***************************************************************************)
(* W3C Trace Context propagation through a call graph of services.        *)
(*                                                                         *)
(* Requests enter at Root, which starts a root span.  Every span of a      *)
(* service calls that service's outgoing hops in order, injecting a        *)
(* traceparent into the request; the callee extracts it and starts a child *)
(* span, or restarts the trace when the header is invalid or missing.      *)
(* Ended spans that are sampled are queued in their SDK's batch processor, *)
(* exported to a collector and flushed from there to a backend.  The      *)
(* collector keeps what it accepted in memory or in a persistent sending  *)
(* queue; as two gateway collectors it may tail-sample (see Flush).       *)
(*                                                                         *)
(* The same state machine is implemented in Rust by                        *)
(* src/models/trace_context.rs; README.md beside this file maps every      *)
(* variable, action and property to its Rust counterpart.  The two must    *)
(* agree state for state: tracewright's distinct-state count for a config  *)
(* equals TLC's.                                                           *)
(*                                                                         *)
(* Departure from reference/diagrams.md: the diagram's NoContext, RootSpan, *)
(* ChildSpan and Completed are not a single variable here.  They are the   *)
(* life of each span record (open -> ended -> exported) and of each        *)
(* request (inflight -> handled -> replied); "Completed" is Quiescent.     *)
(***************************************************************************)
EXTENDS Naturals, Sequences, FiniteSets, TLC

CONSTANTS
    Root,           \* the service where requests enter, e.g. "browser"
    Traces,         \* how many requests enter at Root
    Hops,           \* the call graph: a sequence of <<caller, callee, kind>>
                    \* with kind \in {"http", "gateway", "queue"}
    AlwaysOff,      \* services whose root sampler is AlwaysOff
    RatioSampled,   \* services whose root sampler is TraceIdRatio
    CorruptClasses, \* W3C invalidity classes a gateway may inflict (fault)
    Faults,         \* environment behaviour switched on, see FaultNames
    Bugs,           \* seeded implementation mutants, see BugNames
    SendingQueue,   \* the collector's exporter queue: "memory" or "persistent"
                    \* (sending_queue.storage: file_storage, see Crash)
    TailSampling,   \* the gateway collectors' tail-sampling policy: "none", or
                    \* "status_code" (keep a trace if a span of it has status
                    \* ERROR), see Flush
    ErrorServices,  \* services whose spans end with status ERROR
    CollectorB,     \* services that export to a second gateway collector, B;
                    \* the others export to collector A
    B3Single,       \* services whose propagator is B3 single-header ("b3") only
    B3Multi,        \* services whose propagator is B3 multi-header ("b3multi") only
    Composite,      \* services whose propagator is the composite of B3
                    \* multi-header and W3C ("b3multi,tracecontext"); every
                    \* other service speaks W3C only ("tracecontext")
    PadRight,       \* services whose B3 extractor widens a 64-bit trace id
                    \* by padding it on the right (fault B3TraceId64)
    DebugUnsampled  \* services whose B3 extractor maps the debug flag `d` to
                    \* unsampled (fault B3Debug)

VARIABLES
    spans,  \* sequence of span records, in creation order (index = handle)
    msgs    \* sequence of requests sent over hops (index = handle)

vars == <<spans, msgs>>

FaultNames == {"CorruptHeader", "DropHeader", "ExporterDrop", "CollectorCrash",
               "DuplicateDelivery", "ExportRetry", "LostRequest",
               "B3TraceId64", "B3Debug"}
BugNames == {"NoInjection", "WrongSpanId", "NewTraceIdPerHop", "IdCollision",
             "AcceptInvalid", "NonParentBasedSampling"}
\* Abstract W3C invalidity classes of a traceparent. A lenient parser reads
\* the ids as sent, except from the all-zero ones (see Header).
W3CClassNames == {"UpperCaseHex", "VersionFF", "ZeroTraceId", "ZeroParentId",
                  "WrongLength", "IllegalCharacter", "BadFlags", "Duplicated"}
\* Abstract invalidity classes of B3 headers: a trace id that is neither 16
\* nor 32 lower-case hex digits, a span id that is not 16 of them (or zero).
B3ClassNames == {"B3BadTraceId", "B3BadSpanId"}
ClassNames == W3CClassNames \cup B3ClassNames
Kinds == {"http", "gateway", "queue"}

Services == {Root} \cup {Hops[h][2] : h \in DOMAIN Hops}

ASSUME Traces \in Nat \ {0}
ASSUME \A h \in DOMAIN Hops : Hops[h][3] \in Kinds
ASSUME Faults \subseteq FaultNames /\ Bugs \subseteq BugNames
ASSUME CorruptClasses \subseteq ClassNames
ASSUME AlwaysOff \cap RatioSampled = {}
ASSUME SendingQueue \in {"memory", "persistent"}
ASSUME TailSampling \in {"none", "status_code"}
ASSUME ErrorServices \subseteq Services /\ CollectorB \subseteq Services
ASSUME /\ B3Single \cup B3Multi \cup Composite \cup PadRight \cup DebugUnsampled \subseteq Services
       /\ B3Single \cap B3Multi = {} /\ B3Single \cap Composite = {} /\ B3Multi \cap Composite = {}
\* The tail-sampling processor holds traces in memory in front of the
\* exporter queue, so a persistent queue would not keep them; the model's
\* persistent collector has nothing in front of its queue (see Crash).
ASSUME ~(SendingQueue = "persistent" /\ TailSampling # "none")

-----------------------------------------------------------------------------
(* Helpers *)

Kind(m) == Hops[msgs[m].hop][3]
Sync(m) == Kind(m) # "queue"

\* The outgoing hops of service s, called in index order by each of its spans.
Out(s) == {h \in DOMAIN Hops : Hops[h][1] = s}

Called(i, h) == \E m \in DOMAIN msgs : msgs[m].from = i /\ msgs[m].hop = h
Pending(i) == {h \in Out(spans[i].svc) : ~Called(i, h)}
NextHop(i) == IF Pending(i) = {} THEN 0
              ELSE CHOOSE h \in Pending(i) : \A k \in Pending(i) : h <= k
\* Every synchronous call span i made has been answered.
Answered(i) == \A m \in DOMAIN msgs :
                  (msgs[m].from = i /\ Sync(m)) => msgs[m].st = "replied"

\* Ids come from one generator: a fresh id is one more than the spans so far
\* (128-bit random ids never repeat in practice).  IdCollision seeds every
\* process the same way, so each service draws 1, 2, ... on its own.
NewId(s) == IF "IdCollision" \in Bugs
            THEN 1 + Cardinality({j \in DOMAIN spans : spans[j].svc = s})
            ELSE Len(spans) + 1

\* A root sampler's decision; TraceIdRatio decides on the trace id alone
\* (odd ids stand for ids below the ratio's threshold).
RootSample(s, tid) == IF s \in AlwaysOff THEN FALSE
                      ELSE IF s \in RatioSampled THEN tid % 2 = 1
                      ELSE TRUE

\* Which headers service s writes and reads: W3C (traceparent and
\* tracestate), B3 (single or multi), or both (Composite).
SpeaksW3C(s) == s \notin B3Single \cup B3Multi
SpeaksB3(s) == s \in B3Single \cup B3Multi \cup Composite
B3Format(s) == IF s \in B3Single THEN "single" ELSE IF SpeaksB3(s) THEN "multi" ELSE "none"

\* A trace id that crossed a B3 hop as 64 bits and was widened on the right
\* is another id: the model writes it as the id plus PadOffset.
PadOffset == 128

\* A request's headers: `tp` the traceparent and `b3` the B3 headers, each
\* "valid", "missing" or an invalidity class; `fmt` the B3 form written;
\* the ids, sampled flag and tracestate they carry; `dbg` the B3 debug flag
\* sent for sampled; `w64` the B3 trace id sent as 64 bits.
NoHeader == [tp |-> "missing", b3 |-> "missing", fmt |-> "none", tid |-> 0, pid |-> 0,
             sampled |-> FALSE, ts |-> FALSE, dbg |-> FALSE, w64 |-> FALSE]

\* The span id span i injects; WrongSpanId forwards the incoming parent id.
InjectedId(i) == IF "WrongSpanId" \in Bugs /\ spans[i].parent # 0
                 THEN spans[i].parent ELSE spans[i].sid

\* The headers as they arrive, after a gateway may have damaged one of them
\* (a W3C class damages the traceparent, a B3 class the B3 headers).
Header(i, outcome) ==
    LET s == spans[i].svc
    IN IF outcome = "missing" THEN NoHeader
       ELSE [tp |-> IF ~SpeaksW3C(s) THEN "missing"
                    ELSE IF outcome \in W3CClassNames THEN outcome ELSE "valid",
             b3 |-> IF ~SpeaksB3(s) THEN "missing"
                    ELSE IF outcome \in B3ClassNames THEN outcome ELSE "valid",
             fmt |-> B3Format(s),
             tid |-> IF outcome = "ZeroTraceId" THEN 0 ELSE spans[i].tid,
             pid |-> IF outcome = "ZeroParentId" THEN 0 ELSE InjectedId(i),
             sampled |-> spans[i].sampled,
             ts |-> spans[i].ts /\ SpeaksW3C(s),
             dbg |-> SpeaksB3(s) /\ "B3Debug" \in Faults /\ spans[i].sampled,
             w64 |-> SpeaksB3(s) /\ "B3TraceId64" \in Faults]

\* The invalidity classes that can damage what service s writes.
ClassesOf(s) == {c \in CorruptClasses : (c \in W3CClassNames /\ SpeaksW3C(s))
                                         \/ (c \in B3ClassNames /\ SpeaksB3(s))}

\* What can happen to a header sent over hop h.
Outcomes(h) ==
    IF "NoInjection" \in Bugs THEN {"missing"}
    ELSE {"valid"}
         \cup (IF Hops[h][3] = "gateway" /\ "CorruptHeader" \in Faults
               THEN ClassesOf(Hops[h][1]) ELSE {})
         \cup (IF Hops[h][3] = "gateway" /\ "DropHeader" \in Faults
               THEN {"missing"} ELSE {})

\* Service s takes the context from the traceparent, or else from B3 (the
\* composite extracts B3 first, then W3C, which wins when valid).
ViaW3C(s, hdr) == /\ SpeaksW3C(s)
                  /\ \/ hdr.tp = "valid"
                     \/ "AcceptInvalid" \in Bugs /\ hdr.tp \notin {"valid", "missing"}
ViaB3(s, hdr) == SpeaksB3(s) /\ hdr.b3 = "valid" /\ ~ViaW3C(s, hdr)

\* Does callee s continue the trace of this header?
Accepts(s, hdr) == ViaW3C(s, hdr) \/ ViaB3(s, hdr)

\* A valid header in a format service s reads.
Readable(s, hdr) == (SpeaksW3C(s) /\ hdr.tp = "valid") \/ (SpeaksB3(s) /\ hdr.b3 = "valid")

\* The span the callee of request m starts.
ServerSpan(m) ==
    LET s == Hops[msgs[m].hop][2]
        hdr == msgs[m].hdr
        fresh == NewId(s)
        b3 == ViaB3(s, hdr)
        tid == IF Accepts(s, hdr) /\ "NewTraceIdPerHop" \notin Bugs
               THEN IF b3 /\ hdr.w64 /\ s \in PadRight THEN hdr.tid + PadOffset ELSE hdr.tid
               ELSE fresh
    IN [svc |-> s, tid |-> tid, sid |-> fresh,
        parent |-> IF Accepts(s, hdr) THEN hdr.pid ELSE 0,
        sampled |-> IF Accepts(s, hdr) /\ "NonParentBasedSampling" \notin Bugs
                    THEN hdr.sampled /\ ~(b3 /\ hdr.dbg /\ s \in DebugUnsampled)
                    ELSE RootSample(s, tid),
        ts |-> ViaW3C(s, hdr) /\ hdr.ts,
        via |-> m, st |-> "open", inCollector |-> 0, inBackend |-> 0]

RootCount == Cardinality({i \in DOMAIN spans : spans[i].via = 0})

\* Every request has entered and been served, every span has ended and left
\* its SDK: no span will reach a collector any more.
Settled ==
    /\ RootCount = Traces
    /\ \A i \in DOMAIN spans : spans[i].st \in {"closed", "exported", "dropped"}
    /\ \A m \in DOMAIN msgs : msgs[m].st # "inflight"

Quiescent == Settled /\ \A i \in DOMAIN spans : spans[i].inCollector = 0

\* The collector a span's SDK exports to: "A", or "B" for CollectorB.
CollectorOf(i) == IF spans[i].svc \in CollectorB THEN "B" ELSE "A"

\* Span i has status ERROR.
Failed(i) == spans[i].svc \in ErrorServices

\* The tail-sampling decision span i's collector takes on span i's trace,
\* from the spans of that trace it holds: the status_code policy keeps the
\* trace if one of them has status ERROR.
TailKeeps(i) ==
    \/ TailSampling = "none"
    \/ \E j \in DOMAIN spans : /\ spans[j].inCollector > 0
                             /\ CollectorOf(j) = CollectorOf(i)
                             /\ spans[j].tid = spans[i].tid
                             /\ Failed(j)

\* What the sampling policies keep, judged on the whole trace: a span the
\* SDK sampled, of a trace the tail-sampling policy keeps (one of its
\* sampled spans has status ERROR).
Wanted(i) ==
    /\ spans[i].sampled
    /\ \/ TailSampling = "none"
       \/ \E j \in DOMAIN spans : spans[j].tid = spans[i].tid /\ spans[j].sampled /\ Failed(j)

-----------------------------------------------------------------------------
(* Actions *)

Init == spans = <<>> /\ msgs = <<>>

\* A request enters at Root: a root span with a fresh trace id and an entry
\* in tracestate.
StartRoot ==
    /\ RootCount < Traces
    /\ LET id == NewId(Root)
       IN spans' = Append(spans,
            [svc |-> Root, tid |-> id, sid |-> id, parent |-> 0,
             sampled |-> RootSample(Root, id), ts |-> TRUE, via |-> 0,
             st |-> "open", inCollector |-> 0, inBackend |-> 0])
    /\ UNCHANGED msgs

\* Open span i injects its context and calls its next hop, once every
\* synchronous call it made before has been answered.
Call(i) ==
    /\ spans[i].st = "open"
    /\ NextHop(i) # 0
    /\ Answered(i)
    /\ \E o \in Outcomes(NextHop(i)) :
          msgs' = Append(msgs, [hop |-> NextHop(i), from |-> i,
                                hdr |-> Header(i, o), st |-> "inflight",
                                redelivered |-> FALSE])
    /\ UNCHANGED spans

\* The callee of request m extracts the header and starts its span.
Deliver(m) ==
    /\ msgs[m].st = "inflight"
    /\ spans' = Append(spans, ServerSpan(m))
    /\ msgs' = [msgs EXCEPT ![m].st = "handled"]

\* The network loses a request; nobody times out waiting for its reply.
LoseRequest(m) ==
    /\ "LostRequest" \in Faults
    /\ msgs[m].st = "inflight"
    /\ msgs' = [msgs EXCEPT ![m].st = "lost"]
    /\ UNCHANGED spans

\* A queue delivers a message it already delivered once more.
Redeliver(m) ==
    /\ "DuplicateDelivery" \in Faults
    /\ Kind(m) = "queue"
    /\ msgs[m].st = "handled"
    /\ ~msgs[m].redelivered
    /\ spans' = Append(spans, ServerSpan(m))
    /\ msgs' = [msgs EXCEPT ![m].redelivered = TRUE]

\* Span i ends after its calls; a sampled span goes to its SDK's batch
\* queue.  Ending a span that serves a synchronous request answers it.
End(i) ==
    /\ spans[i].st = "open"
    /\ NextHop(i) = 0
    /\ Answered(i)
    /\ spans' = [spans EXCEPT ![i].st = IF spans[i].sampled THEN "queued" ELSE "closed"]
    /\ LET m == spans[i].via
       IN msgs' = IF m # 0 /\ Sync(m) /\ msgs[m].st = "handled"
                  THEN [msgs EXCEPT ![m].st = "replied"] ELSE msgs

Queued(s) == {i \in DOMAIN spans : spans[i].svc = s /\ spans[i].st = "queued"}

\* The batch processor of service s exports its queue to the collector,
\* `copies` times (2: the collector took the batch, the reply was lost and
\* the exporter retried).
ExportCopies(s, copies) ==
    /\ Queued(s) # {}
    /\ spans' = [i \in DOMAIN spans |->
                   IF i \in Queued(s)
                   THEN [spans[i] EXCEPT !.st = "exported",
                                         !.inCollector = @ + copies]
                   ELSE spans[i]]
    /\ UNCHANGED msgs

Export(s) == ExportCopies(s, 1)
ExportRetried(s) == "ExportRetry" \in Faults /\ ExportCopies(s, 2)

\* The exporter of service s fails and drops its batch.
DropBatch(s) ==
    /\ "ExporterDrop" \in Faults
    /\ Queued(s) # {}
    /\ spans' = [i \in DOMAIN spans |->
                   IF i \in Queued(s) THEN [spans[i] EXCEPT !.st = "dropped"]
                   ELSE spans[i]]
    /\ UNCHANGED msgs

\* A set, not \E: TLC would take one step per witness of an \E in an action.
InCollector == {i \in DOMAIN spans : spans[i].inCollector > 0} # {}

\* The collectors flush everything they hold to the backend.  Tail-sampling
\* collectors first wait for their decision: decision_wait is taken longer
\* than any trace, so they decide once everything has settled, each on the
\* spans it holds, and forward the traces their policy keeps, drop the rest.
Flush ==
    /\ InCollector
    /\ TailSampling # "none" => Settled
    /\ spans' = [i \in DOMAIN spans |->
                   [spans[i] EXCEPT !.inBackend =
                                        @ + (IF TailKeeps(i) THEN spans[i].inCollector ELSE 0),
                                    !.inCollector = 0]]
    /\ UNCHANGED msgs

\* The collector crashes and restarts.
\* "memory": the batches in its memory are lost.
\* "persistent": the official collector's exporter with
\* `sending_queue.storage: file_storage` and nothing in memory in front of
\* it (no batch processor; batching, if any, is the queue's own
\* `sending_queue.batch`, behind the queue).  The receiver answers the SDK
\* only once the request is written to disk, and a batch is deleted from
\* disk only after the backend accepted it, so the crash loses nothing.
\* But a consumer may have been sending a batch: the backend stored it and
\* the crash came before the queue marked it done, so after the restart the
\* queue sends it again (at least once, never exactly once).  The model
\* takes the worst case, every held batch stored by the backend; a crash
\* with nothing in flight changes nothing (a stutter).  It lets a crash
\* interrupt the delivery of the batches it holds once: a crash while a
\* redelivered batch is held would only add more of the same duplicates.
Crash ==
    /\ "CollectorCrash" \in Faults
    /\ InCollector
    /\ IF SendingQueue = "memory"
       THEN spans' = [i \in DOMAIN spans |-> [spans[i] EXCEPT !.inCollector = 0]]
       ELSE /\ {i \in DOMAIN spans : spans[i].inCollector > 0 /\ spans[i].inBackend > 0} = {}
            /\ spans' = [i \in DOMAIN spans |->
                           [spans[i] EXCEPT !.inBackend = @ + spans[i].inCollector]]
    /\ UNCHANGED msgs

Next ==
    \/ StartRoot
    \/ \E i \in DOMAIN spans : Call(i) \/ End(i)
    \/ \E m \in DOMAIN msgs : Deliver(m) \/ Redeliver(m) \/ LoseRequest(m)
    \/ \E s \in Services : Export(s) \/ ExportRetried(s) \/ DropBatch(s)
    \/ Flush
    \/ Crash

Spec == Init /\ [][Next]_vars /\ WF_vars(Next)

-----------------------------------------------------------------------------
(* Properties.  Each name is the same in the .cfg files and in Rust. *)

\* The span that sent the request span i serves (0 for roots).
Sender(i) == IF spans[i].via = 0 THEN 0 ELSE msgs[spans[i].via].from
Continues(i) == spans[i].via # 0 /\ spans[i].parent # 0

\* Distinct root spans carry distinct trace ids.
UniqueTraceId ==
    \A i, j \in DOMAIN spans :
        (i # j /\ spans[i].parent = 0 /\ spans[j].parent = 0)
            => spans[i].tid # spans[j].tid

\* No two spans of one trace share a span id.
UniqueSpanId ==
    \A i, j \in DOMAIN spans :
        (i # j /\ spans[i].tid = spans[j].tid) => spans[i].sid # spans[j].sid

\* A span that continues a remote context names the span that called it as
\* its parent, in the caller's trace.
ParentChildCorrect ==
    \A i \in DOMAIN spans :
        Continues(i) => /\ spans[i].parent = spans[Sender(i)].sid
                        /\ spans[i].tid = spans[Sender(i)].tid

\* End to end: every span started for a request is in its caller's trace.
TraceIdPreserved ==
    \A i \in DOMAIN spans :
        spans[i].via # 0 => spans[i].tid = spans[Sender(i)].tid

\* An invalid or missing traceparent (and, for a service that reads B3, no
\* valid B3 header either) starts a new trace: no parent, a trace id never
\* seen before, and the tracestate dropped.
RestartOnInvalidHeader ==
    \A i \in DOMAIN spans :
        (spans[i].via # 0 /\ ~Readable(spans[i].svc, msgs[spans[i].via].hdr)) =>
            /\ spans[i].parent = 0
            /\ ~spans[i].ts
            /\ \A j \in 1..(i - 1) : spans[j].tid # spans[i].tid

\* A span that continues a remote context keeps its sampled flag.
SamplingConsistent ==
    \A i \in DOMAIN spans :
        Continues(i) => spans[i].sampled = msgs[spans[i].via].hdr.sampled

\* Each request is served by one span.
OneSpanPerRequest ==
    \A m \in DOMAIN msgs :
        Cardinality({i \in DOMAIN spans : spans[i].via = m}) <= 1

\* The backend stores each span once.
NoDuplicateSpans == \A i \in DOMAIN spans : spans[i].inBackend <= 1

\* At quiescence every span the sampling policies keep (Wanted) reached the
\* backend; without tail sampling, every sampled span.
NoLostSpans ==
    Quiescent => \A i \in DOMAIN spans : Wanted(i) => spans[i].inBackend > 0

\* At quiescence every stored span's parent is stored, in the same trace.
NoOrphanSpans ==
    Quiescent =>
        \A i \in DOMAIN spans :
            (spans[i].inBackend > 0 /\ spans[i].parent # 0) =>
                \E j \in DOMAIN spans : /\ spans[j].inBackend > 0
                                        /\ spans[j].tid = spans[i].tid
                                        /\ spans[j].sid = spans[i].parent

\* Under weak fairness the system settles: nothing in flight, every span
\* ended and out of the collector.
EventuallyQuiescent == <>Quiescent

-----------------------------------------------------------------------------
(* Call graphs the configs choose with `Hops <- ...`. *)

\* browser -> gateway -> (auth, then orders across clusters) -> billing by queue
DefaultHops == << <<"browser", "gateway", "http">>,
                  <<"gateway", "auth", "http">>,
                  <<"gateway", "orders", "gateway">>,
                  <<"orders", "billing", "queue">> >>

\* A mixed mesh: web -> edge -> (legacy across clusters) -> orders, where
\* legacy is the Zipkin-era service the configs make speak B3 only.
MeshHops == << <<"web", "edge", "http">>,
               <<"edge", "legacy", "gateway">>,
               <<"legacy", "orders", "http">> >>

\* The shortest graph with a gateway hop and a queue hop.
ChainHops == << <<"browser", "gateway", "gateway">>,
                <<"gateway", "billing", "queue">> >>
=============================================================================
