---- MODULE TraceContext_TTrace_1795612275 ----
EXTENDS Sequences, TLCExt, Toolbox, TraceContext, Naturals, TLC

_expression ==
    LET TraceContext_TEExpression == INSTANCE TraceContext_TEExpression
    IN TraceContext_TEExpression!expression
----

_trace ==
    LET TraceContext_TETrace == INSTANCE TraceContext_TETrace
    IN TraceContext_TETrace!trace
----

_inv ==
    ~(
        TLCGet("level") = Len(_TETrace)
        /\
        msgs = (<<[hop |-> 1, from |-> 1, st |-> "replied", hdr |-> [tid |-> 1, tp |-> "valid", pid |-> 1, sampled |-> TRUE, ts |-> TRUE], redelivered |-> FALSE], [hop |-> 2, from |-> 2, st |-> "replied", hdr |-> [tid |-> 2, tp |-> "valid", pid |-> 2, sampled |-> TRUE, ts |-> TRUE], redelivered |-> FALSE], [hop |-> 3, from |-> 2, st |-> "replied", hdr |-> [tid |-> 2, tp |-> "valid", pid |-> 2, sampled |-> TRUE, ts |-> TRUE], redelivered |-> FALSE], [hop |-> 4, from |-> 4, st |-> "handled", hdr |-> [tid |-> 4, tp |-> "valid", pid |-> 4, sampled |-> TRUE, ts |-> TRUE], redelivered |-> FALSE]>>)
        /\
        spans = (<<[svc |-> "browser", st |-> "exported", tid |-> 1, sampled |-> TRUE, ts |-> TRUE, parent |-> 0, sid |-> 1, via |-> 0, inCollector |-> 0, inBackend |-> 1], [svc |-> "gateway", st |-> "exported", tid |-> 2, sampled |-> TRUE, ts |-> TRUE, parent |-> 1, sid |-> 2, via |-> 1, inCollector |-> 0, inBackend |-> 1], [svc |-> "auth", st |-> "exported", tid |-> 3, sampled |-> TRUE, ts |-> TRUE, parent |-> 2, sid |-> 3, via |-> 2, inCollector |-> 0, inBackend |-> 1], [svc |-> "orders", st |-> "exported", tid |-> 4, sampled |-> TRUE, ts |-> TRUE, parent |-> 2, sid |-> 4, via |-> 3, inCollector |-> 0, inBackend |-> 1], [svc |-> "billing", st |-> "exported", tid |-> 5, sampled |-> TRUE, ts |-> TRUE, parent |-> 4, sid |-> 5, via |-> 4, inCollector |-> 0, inBackend |-> 1]>>)
    )
----

_init ==
    /\ msgs = _TETrace[1].msgs
    /\ spans = _TETrace[1].spans
----

_next ==
    /\ \E i,j \in DOMAIN _TETrace:
        /\ \/ /\ j = i + 1
              /\ i = TLCGet("level")
        /\ msgs  = _TETrace[i].msgs
        /\ msgs' = _TETrace[j].msgs
        /\ spans  = _TETrace[i].spans
        /\ spans' = _TETrace[j].spans

\* Uncomment the ASSUME below to write the states of the error trace
\* to the given file in Json format. Note that you can pass any tuple
\* to `JsonSerialize`. For example, a sub-sequence of _TETrace.
    \* ASSUME
    \*     LET J == INSTANCE Json
    \*         IN J!JsonSerialize("TraceContext_TTrace_1795612275.json", _TETrace)

=============================================================================

 Note that you can extract this module `TraceContext_TEExpression`
  to a dedicated file to reuse `expression` (the module in the 
  dedicated `TraceContext_TEExpression.tla` file takes precedence 
  over the module `TraceContext_TEExpression` below).

---- MODULE TraceContext_TEExpression ----
EXTENDS Sequences, TLCExt, Toolbox, TraceContext, Naturals, TLC

expression == 
    [
        \* To hide variables of the `TraceContext` spec from the error trace,
        \* remove the variables below.  The trace will be written in the order
        \* of the fields of this record.
        msgs |-> msgs
        ,spans |-> spans
        
        \* Put additional constant-, state-, and action-level expressions here:
        \* ,_stateNumber |-> _TEPosition
        \* ,_msgsUnchanged |-> msgs = msgs'
        
        \* Format the `msgs` variable as Json value.
        \* ,_msgsJson |->
        \*     LET J == INSTANCE Json
        \*     IN J!ToJson(msgs)
        
        \* Lastly, you may build expressions over arbitrary sets of states by
        \* leveraging the _TETrace operator.  For example, this is how to
        \* count the number of times a spec variable changed up to the current
        \* state in the trace.
        \* ,_msgsModCount |->
        \*     LET F[s \in DOMAIN _TETrace] ==
        \*         IF s = 1 THEN 0
        \*         ELSE IF _TETrace[s].msgs # _TETrace[s-1].msgs
        \*             THEN 1 + F[s-1] ELSE F[s-1]
        \*     IN F[_TEPosition - 1]
    ]

=============================================================================



Parsing and semantic processing can take forever if the trace below is long.
 In this case, it is advised to uncomment the module below to deserialize the
 trace from a generated binary file.

\*
\*---- MODULE TraceContext_TETrace ----
\*EXTENDS IOUtils, TraceContext, TLC
\*
\*trace == IODeserialize("TraceContext_TTrace_1795612275.bin", TRUE)
\*
\*=============================================================================
\*

---- MODULE TraceContext_TETrace ----
EXTENDS TraceContext, TLC

trace == 
    <<
    ([msgs |-> <<>>,spans |-> <<>>]),
    ([msgs |-> <<>>,spans |-> <<[svc |-> "browser", st |-> "open", tid |-> 1, sampled |-> TRUE, ts |-> TRUE, parent |-> 0, sid |-> 1, via |-> 0, inCollector |-> 0, inBackend |-> 0]>>]),
    ([msgs |-> <<[hop |-> 1, from |-> 1, st |-> "inflight", hdr |-> [tid |-> 1, tp |-> "valid", pid |-> 1, sampled |-> TRUE, ts |-> TRUE], redelivered |-> FALSE]>>,spans |-> <<[svc |-> "browser", st |-> "open", tid |-> 1, sampled |-> TRUE, ts |-> TRUE, parent |-> 0, sid |-> 1, via |-> 0, inCollector |-> 0, inBackend |-> 0]>>]),
    ([msgs |-> <<[hop |-> 1, from |-> 1, st |-> "handled", hdr |-> [tid |-> 1, tp |-> "valid", pid |-> 1, sampled |-> TRUE, ts |-> TRUE], redelivered |-> FALSE]>>,spans |-> <<[svc |-> "browser", st |-> "open", tid |-> 1, sampled |-> TRUE, ts |-> TRUE, parent |-> 0, sid |-> 1, via |-> 0, inCollector |-> 0, inBackend |-> 0], [svc |-> "gateway", st |-> "open", tid |-> 2, sampled |-> TRUE, ts |-> TRUE, parent |-> 1, sid |-> 2, via |-> 1, inCollector |-> 0, inBackend |-> 0]>>]),
    ([msgs |-> <<[hop |-> 1, from |-> 1, st |-> "handled", hdr |-> [tid |-> 1, tp |-> "valid", pid |-> 1, sampled |-> TRUE, ts |-> TRUE], redelivered |-> FALSE], [hop |-> 2, from |-> 2, st |-> "inflight", hdr |-> [tid |-> 2, tp |-> "valid", pid |-> 2, sampled |-> TRUE, ts |-> TRUE], redelivered |-> FALSE]>>,spans |-> <<[svc |-> "browser", st |-> "open", tid |-> 1, sampled |-> TRUE, ts |-> TRUE, parent |-> 0, sid |-> 1, via |-> 0, inCollector |-> 0, inBackend |-> 0], [svc |-> "gateway", st |-> "open", tid |-> 2, sampled |-> TRUE, ts |-> TRUE, parent |-> 1, sid |-> 2, via |-> 1, inCollector |-> 0, inBackend |-> 0]>>]),
    ([msgs |-> <<[hop |-> 1, from |-> 1, st |-> "handled", hdr |-> [tid |-> 1, tp |-> "valid", pid |-> 1, sampled |-> TRUE, ts |-> TRUE], redelivered |-> FALSE], [hop |-> 2, from |-> 2, st |-> "handled", hdr |-> [tid |-> 2, tp |-> "valid", pid |-> 2, sampled |-> TRUE, ts |-> TRUE], redelivered |-> FALSE]>>,spans |-> <<[svc |-> "browser", st |-> "open", tid |-> 1, sampled |-> TRUE, ts |-> TRUE, parent |-> 0, sid |-> 1, via |-> 0, inCollector |-> 0, inBackend |-> 0], [svc |-> "gateway", st |-> "open", tid |-> 2, sampled |-> TRUE, ts |-> TRUE, parent |-> 1, sid |-> 2, via |-> 1, inCollector |-> 0, inBackend |-> 0], [svc |-> "auth", st |-> "open", tid |-> 3, sampled |-> TRUE, ts |-> TRUE, parent |-> 2, sid |-> 3, via |-> 2, inCollector |-> 0, inBackend |-> 0]>>]),
    ([msgs |-> <<[hop |-> 1, from |-> 1, st |-> "handled", hdr |-> [tid |-> 1, tp |-> "valid", pid |-> 1, sampled |-> TRUE, ts |-> TRUE], redelivered |-> FALSE], [hop |-> 2, from |-> 2, st |-> "replied", hdr |-> [tid |-> 2, tp |-> "valid", pid |-> 2, sampled |-> TRUE, ts |-> TRUE], redelivered |-> FALSE]>>,spans |-> <<[svc |-> "browser", st |-> "open", tid |-> 1, sampled |-> TRUE, ts |-> TRUE, parent |-> 0, sid |-> 1, via |-> 0, inCollector |-> 0, inBackend |-> 0], [svc |-> "gateway", st |-> "open", tid |-> 2, sampled |-> TRUE, ts |-> TRUE, parent |-> 1, sid |-> 2, via |-> 1, inCollector |-> 0, inBackend |-> 0], [svc |-> "auth", st |-> "queued", tid |-> 3, sampled |-> TRUE, ts |-> TRUE, parent |-> 2, sid |-> 3, via |-> 2, inCollector |-> 0, inBackend |-> 0]>>]),
    ([msgs |-> <<[hop |-> 1, from |-> 1, st |-> "handled", hdr |-> [tid |-> 1, tp |-> "valid", pid |-> 1, sampled |-> TRUE, ts |-> TRUE], redelivered |-> FALSE], [hop |-> 2, from |-> 2, st |-> "replied", hdr |-> [tid |-> 2, tp |-> "valid", pid |-> 2, sampled |-> TRUE, ts |-> TRUE], redelivered |-> FALSE], [hop |-> 3, from |-> 2, st |-> "inflight", hdr |-> [tid |-> 2, tp |-> "valid", pid |-> 2, sampled |-> TRUE, ts |-> TRUE], redelivered |-> FALSE]>>,spans |-> <<[svc |-> "browser", st |-> "open", tid |-> 1, sampled |-> TRUE, ts |-> TRUE, parent |-> 0, sid |-> 1, via |-> 0, inCollector |-> 0, inBackend |-> 0], [svc |-> "gateway", st |-> "open", tid |-> 2, sampled |-> TRUE, ts |-> TRUE, parent |-> 1, sid |-> 2, via |-> 1, inCollector |-> 0, inBackend |-> 0], [svc |-> "auth", st |-> "queued", tid |-> 3, sampled |-> TRUE, ts |-> TRUE, parent |-> 2, sid |-> 3, via |-> 2, inCollector |-> 0, inBackend |-> 0]>>]),
    ([msgs |-> <<[hop |-> 1, from |-> 1, st |-> "handled", hdr |-> [tid |-> 1, tp |-> "valid", pid |-> 1, sampled |-> TRUE, ts |-> TRUE], redelivered |-> FALSE], [hop |-> 2, from |-> 2, st |-> "replied", hdr |-> [tid |-> 2, tp |-> "valid", pid |-> 2, sampled |-> TRUE, ts |-> TRUE], redelivered |-> FALSE], [hop |-> 3, from |-> 2, st |-> "handled", hdr |-> [tid |-> 2, tp |-> "valid", pid |-> 2, sampled |-> TRUE, ts |-> TRUE], redelivered |-> FALSE]>>,spans |-> <<[svc |-> "browser", st |-> "open", tid |-> 1, sampled |-> TRUE, ts |-> TRUE, parent |-> 0, sid |-> 1, via |-> 0, inCollector |-> 0, inBackend |-> 0], [svc |-> "gateway", st |-> "open", tid |-> 2, sampled |-> TRUE, ts |-> TRUE, parent |-> 1, sid |-> 2, via |-> 1, inCollector |-> 0, inBackend |-> 0], [svc |-> "auth", st |-> "queued", tid |-> 3, sampled |-> TRUE, ts |-> TRUE, parent |-> 2, sid |-> 3, via |-> 2, inCollector |-> 0, inBackend |-> 0], [svc |-> "orders", st |-> "open", tid |-> 4, sampled |-> TRUE, ts |-> TRUE, parent |-> 2, sid |-> 4, via |-> 3, inCollector |-> 0, inBackend |-> 0]>>]),
    ([msgs |-> <<[hop |-> 1, from |-> 1, st |-> "handled", hdr |-> [tid |-> 1, tp |-> "valid", pid |-> 1, sampled |-> TRUE, ts |-> TRUE], redelivered |-> FALSE], [hop |-> 2, from |-> 2, st |-> "replied", hdr |-> [tid |-> 2, tp |-> "valid", pid |-> 2, sampled |-> TRUE, ts |-> TRUE], redelivered |-> FALSE], [hop |-> 3, from |-> 2, st |-> "handled", hdr |-> [tid |-> 2, tp |-> "valid", pid |-> 2, sampled |-> TRUE, ts |-> TRUE], redelivered |-> FALSE], [hop |-> 4, from |-> 4, st |-> "inflight", hdr |-> [tid |-> 4, tp |-> "valid", pid |-> 4, sampled |-> TRUE, ts |-> TRUE], redelivered |-> FALSE]>>,spans |-> <<[svc |-> "browser", st |-> "open", tid |-> 1, sampled |-> TRUE, ts |-> TRUE, parent |-> 0, sid |-> 1, via |-> 0, inCollector |-> 0, inBackend |-> 0], [svc |-> "gateway", st |-> "open", tid |-> 2, sampled |-> TRUE, ts |-> TRUE, parent |-> 1, sid |-> 2, via |-> 1, inCollector |-> 0, inBackend |-> 0], [svc |-> "auth", st |-> "queued", tid |-> 3, sampled |-> TRUE, ts |-> TRUE, parent |-> 2, sid |-> 3, via |-> 2, inCollector |-> 0, inBackend |-> 0], [svc |-> "orders", st |-> "open", tid |-> 4, sampled |-> TRUE, ts |-> TRUE, parent |-> 2, sid |-> 4, via |-> 3, inCollector |-> 0, inBackend |-> 0]>>]),
    ([msgs |-> <<[hop |-> 1, from |-> 1, st |-> "handled", hdr |-> [tid |-> 1, tp |-> "valid", pid |-> 1, sampled |-> TRUE, ts |-> TRUE], redelivered |-> FALSE], [hop |-> 2, from |-> 2, st |-> "replied", hdr |-> [tid |-> 2, tp |-> "valid", pid |-> 2, sampled |-> TRUE, ts |-> TRUE], redelivered |-> FALSE], [hop |-> 3, from |-> 2, st |-> "replied", hdr |-> [tid |-> 2, tp |-> "valid", pid |-> 2, sampled |-> TRUE, ts |-> TRUE], redelivered |-> FALSE], [hop |-> 4, from |-> 4, st |-> "inflight", hdr |-> [tid |-> 4, tp |-> "valid", pid |-> 4, sampled |-> TRUE, ts |-> TRUE], redelivered |-> FALSE]>>,spans |-> <<[svc |-> "browser", st |-> "open", tid |-> 1, sampled |-> TRUE, ts |-> TRUE, parent |-> 0, sid |-> 1, via |-> 0, inCollector |-> 0, inBackend |-> 0], [svc |-> "gateway", st |-> "open", tid |-> 2, sampled |-> TRUE, ts |-> TRUE, parent |-> 1, sid |-> 2, via |-> 1, inCollector |-> 0, inBackend |-> 0], [svc |-> "auth", st |-> "queued", tid |-> 3, sampled |-> TRUE, ts |-> TRUE, parent |-> 2, sid |-> 3, via |-> 2, inCollector |-> 0, inBackend |-> 0], [svc |-> "orders", st |-> "queued", tid |-> 4, sampled |-> TRUE, ts |-> TRUE, parent |-> 2, sid |-> 4, via |-> 3, inCollector |-> 0, inBackend |-> 0]>>]),
    ([msgs |-> <<[hop |-> 1, from |-> 1, st |-> "replied", hdr |-> [tid |-> 1, tp |-> "valid", pid |-> 1, sampled |-> TRUE, ts |-> TRUE], redelivered |-> FALSE], [hop |-> 2, from |-> 2, st |-> "replied", hdr |-> [tid |-> 2, tp |-> "valid", pid |-> 2, sampled |-> TRUE, ts |-> TRUE], redelivered |-> FALSE], [hop |-> 3, from |-> 2, st |-> "replied", hdr |-> [tid |-> 2, tp |-> "valid", pid |-> 2, sampled |-> TRUE, ts |-> TRUE], redelivered |-> FALSE], [hop |-> 4, from |-> 4, st |-> "inflight", hdr |-> [tid |-> 4, tp |-> "valid", pid |-> 4, sampled |-> TRUE, ts |-> TRUE], redelivered |-> FALSE]>>,spans |-> <<[svc |-> "browser", st |-> "open", tid |-> 1, sampled |-> TRUE, ts |-> TRUE, parent |-> 0, sid |-> 1, via |-> 0, inCollector |-> 0, inBackend |-> 0], [svc |-> "gateway", st |-> "queued", tid |-> 2, sampled |-> TRUE, ts |-> TRUE, parent |-> 1, sid |-> 2, via |-> 1, inCollector |-> 0, inBackend |-> 0], [svc |-> "auth", st |-> "queued", tid |-> 3, sampled |-> TRUE, ts |-> TRUE, parent |-> 2, sid |-> 3, via |-> 2, inCollector |-> 0, inBackend |-> 0], [svc |-> "orders", st |-> "queued", tid |-> 4, sampled |-> TRUE, ts |-> TRUE, parent |-> 2, sid |-> 4, via |-> 3, inCollector |-> 0, inBackend |-> 0]>>]),
    ([msgs |-> <<[hop |-> 1, from |-> 1, st |-> "replied", hdr |-> [tid |-> 1, tp |-> "valid", pid |-> 1, sampled |-> TRUE, ts |-> TRUE], redelivered |-> FALSE], [hop |-> 2, from |-> 2, st |-> "replied", hdr |-> [tid |-> 2, tp |-> "valid", pid |-> 2, sampled |-> TRUE, ts |-> TRUE], redelivered |-> FALSE], [hop |-> 3, from |-> 2, st |-> "replied", hdr |-> [tid |-> 2, tp |-> "valid", pid |-> 2, sampled |-> TRUE, ts |-> TRUE], redelivered |-> FALSE], [hop |-> 4, from |-> 4, st |-> "inflight", hdr |-> [tid |-> 4, tp |-> "valid", pid |-> 4, sampled |-> TRUE, ts |-> TRUE], redelivered |-> FALSE]>>,spans |-> <<[svc |-> "browser", st |-> "queued", tid |-> 1, sampled |-> TRUE, ts |-> TRUE, parent |-> 0, sid |-> 1, via |-> 0, inCollector |-> 0, inBackend |-> 0], [svc |-> "gateway", st |-> "queued", tid |-> 2, sampled |-> TRUE, ts |-> TRUE, parent |-> 1, sid |-> 2, via |-> 1, inCollector |-> 0, inBackend |-> 0], [svc |-> "auth", st |-> "queued", tid |-> 3, sampled |-> TRUE, ts |-> TRUE, parent |-> 2, sid |-> 3, via |-> 2, inCollector |-> 0, inBackend |-> 0], [svc |-> "orders", st |-> "queued", tid |-> 4, sampled |-> TRUE, ts |-> TRUE, parent |-> 2, sid |-> 4, via |-> 3, inCollector |-> 0, inBackend |-> 0]>>]),
    ([msgs |-> <<[hop |-> 1, from |-> 1, st |-> "replied", hdr |-> [tid |-> 1, tp |-> "valid", pid |-> 1, sampled |-> TRUE, ts |-> TRUE], redelivered |-> FALSE], [hop |-> 2, from |-> 2, st |-> "replied", hdr |-> [tid |-> 2, tp |-> "valid", pid |-> 2, sampled |-> TRUE, ts |-> TRUE], redelivered |-> FALSE], [hop |-> 3, from |-> 2, st |-> "replied", hdr |-> [tid |-> 2, tp |-> "valid", pid |-> 2, sampled |-> TRUE, ts |-> TRUE], redelivered |-> FALSE], [hop |-> 4, from |-> 4, st |-> "handled", hdr |-> [tid |-> 4, tp |-> "valid", pid |-> 4, sampled |-> TRUE, ts |-> TRUE], redelivered |-> FALSE]>>,spans |-> <<[svc |-> "browser", st |-> "queued", tid |-> 1, sampled |-> TRUE, ts |-> TRUE, parent |-> 0, sid |-> 1, via |-> 0, inCollector |-> 0, inBackend |-> 0], [svc |-> "gateway", st |-> "queued", tid |-> 2, sampled |-> TRUE, ts |-> TRUE, parent |-> 1, sid |-> 2, via |-> 1, inCollector |-> 0, inBackend |-> 0], [svc |-> "auth", st |-> "queued", tid |-> 3, sampled |-> TRUE, ts |-> TRUE, parent |-> 2, sid |-> 3, via |-> 2, inCollector |-> 0, inBackend |-> 0], [svc |-> "orders", st |-> "queued", tid |-> 4, sampled |-> TRUE, ts |-> TRUE, parent |-> 2, sid |-> 4, via |-> 3, inCollector |-> 0, inBackend |-> 0], [svc |-> "billing", st |-> "open", tid |-> 5, sampled |-> TRUE, ts |-> TRUE, parent |-> 4, sid |-> 5, via |-> 4, inCollector |-> 0, inBackend |-> 0]>>]),
    ([msgs |-> <<[hop |-> 1, from |-> 1, st |-> "replied", hdr |-> [tid |-> 1, tp |-> "valid", pid |-> 1, sampled |-> TRUE, ts |-> TRUE], redelivered |-> FALSE], [hop |-> 2, from |-> 2, st |-> "replied", hdr |-> [tid |-> 2, tp |-> "valid", pid |-> 2, sampled |-> TRUE, ts |-> TRUE], redelivered |-> FALSE], [hop |-> 3, from |-> 2, st |-> "replied", hdr |-> [tid |-> 2, tp |-> "valid", pid |-> 2, sampled |-> TRUE, ts |-> TRUE], redelivered |-> FALSE], [hop |-> 4, from |-> 4, st |-> "handled", hdr |-> [tid |-> 4, tp |-> "valid", pid |-> 4, sampled |-> TRUE, ts |-> TRUE], redelivered |-> FALSE]>>,spans |-> <<[svc |-> "browser", st |-> "queued", tid |-> 1, sampled |-> TRUE, ts |-> TRUE, parent |-> 0, sid |-> 1, via |-> 0, inCollector |-> 0, inBackend |-> 0], [svc |-> "gateway", st |-> "queued", tid |-> 2, sampled |-> TRUE, ts |-> TRUE, parent |-> 1, sid |-> 2, via |-> 1, inCollector |-> 0, inBackend |-> 0], [svc |-> "auth", st |-> "queued", tid |-> 3, sampled |-> TRUE, ts |-> TRUE, parent |-> 2, sid |-> 3, via |-> 2, inCollector |-> 0, inBackend |-> 0], [svc |-> "orders", st |-> "queued", tid |-> 4, sampled |-> TRUE, ts |-> TRUE, parent |-> 2, sid |-> 4, via |-> 3, inCollector |-> 0, inBackend |-> 0], [svc |-> "billing", st |-> "queued", tid |-> 5, sampled |-> TRUE, ts |-> TRUE, parent |-> 4, sid |-> 5, via |-> 4, inCollector |-> 0, inBackend |-> 0]>>]),
    ([msgs |-> <<[hop |-> 1, from |-> 1, st |-> "replied", hdr |-> [tid |-> 1, tp |-> "valid", pid |-> 1, sampled |-> TRUE, ts |-> TRUE], redelivered |-> FALSE], [hop |-> 2, from |-> 2, st |-> "replied", hdr |-> [tid |-> 2, tp |-> "valid", pid |-> 2, sampled |-> TRUE, ts |-> TRUE], redelivered |-> FALSE], [hop |-> 3, from |-> 2, st |-> "replied", hdr |-> [tid |-> 2, tp |-> "valid", pid |-> 2, sampled |-> TRUE, ts |-> TRUE], redelivered |-> FALSE], [hop |-> 4, from |-> 4, st |-> "handled", hdr |-> [tid |-> 4, tp |-> "valid", pid |-> 4, sampled |-> TRUE, ts |-> TRUE], redelivered |-> FALSE]>>,spans |-> <<[svc |-> "browser", st |-> "exported", tid |-> 1, sampled |-> TRUE, ts |-> TRUE, parent |-> 0, sid |-> 1, via |-> 0, inCollector |-> 1, inBackend |-> 0], [svc |-> "gateway", st |-> "queued", tid |-> 2, sampled |-> TRUE, ts |-> TRUE, parent |-> 1, sid |-> 2, via |-> 1, inCollector |-> 0, inBackend |-> 0], [svc |-> "auth", st |-> "queued", tid |-> 3, sampled |-> TRUE, ts |-> TRUE, parent |-> 2, sid |-> 3, via |-> 2, inCollector |-> 0, inBackend |-> 0], [svc |-> "orders", st |-> "queued", tid |-> 4, sampled |-> TRUE, ts |-> TRUE, parent |-> 2, sid |-> 4, via |-> 3, inCollector |-> 0, inBackend |-> 0], [svc |-> "billing", st |-> "queued", tid |-> 5, sampled |-> TRUE, ts |-> TRUE, parent |-> 4, sid |-> 5, via |-> 4, inCollector |-> 0, inBackend |-> 0]>>]),
    ([msgs |-> <<[hop |-> 1, from |-> 1, st |-> "replied", hdr |-> [tid |-> 1, tp |-> "valid", pid |-> 1, sampled |-> TRUE, ts |-> TRUE], redelivered |-> FALSE], [hop |-> 2, from |-> 2, st |-> "replied", hdr |-> [tid |-> 2, tp |-> "valid", pid |-> 2, sampled |-> TRUE, ts |-> TRUE], redelivered |-> FALSE], [hop |-> 3, from |-> 2, st |-> "replied", hdr |-> [tid |-> 2, tp |-> "valid", pid |-> 2, sampled |-> TRUE, ts |-> TRUE], redelivered |-> FALSE], [hop |-> 4, from |-> 4, st |-> "handled", hdr |-> [tid |-> 4, tp |-> "valid", pid |-> 4, sampled |-> TRUE, ts |-> TRUE], redelivered |-> FALSE]>>,spans |-> <<[svc |-> "browser", st |-> "exported", tid |-> 1, sampled |-> TRUE, ts |-> TRUE, parent |-> 0, sid |-> 1, via |-> 0, inCollector |-> 1, inBackend |-> 0], [svc |-> "gateway", st |-> "exported", tid |-> 2, sampled |-> TRUE, ts |-> TRUE, parent |-> 1, sid |-> 2, via |-> 1, inCollector |-> 1, inBackend |-> 0], [svc |-> "auth", st |-> "queued", tid |-> 3, sampled |-> TRUE, ts |-> TRUE, parent |-> 2, sid |-> 3, via |-> 2, inCollector |-> 0, inBackend |-> 0], [svc |-> "orders", st |-> "queued", tid |-> 4, sampled |-> TRUE, ts |-> TRUE, parent |-> 2, sid |-> 4, via |-> 3, inCollector |-> 0, inBackend |-> 0], [svc |-> "billing", st |-> "queued", tid |-> 5, sampled |-> TRUE, ts |-> TRUE, parent |-> 4, sid |-> 5, via |-> 4, inCollector |-> 0, inBackend |-> 0]>>]),
    ([msgs |-> <<[hop |-> 1, from |-> 1, st |-> "replied", hdr |-> [tid |-> 1, tp |-> "valid", pid |-> 1, sampled |-> TRUE, ts |-> TRUE], redelivered |-> FALSE], [hop |-> 2, from |-> 2, st |-> "replied", hdr |-> [tid |-> 2, tp |-> "valid", pid |-> 2, sampled |-> TRUE, ts |-> TRUE], redelivered |-> FALSE], [hop |-> 3, from |-> 2, st |-> "replied", hdr |-> [tid |-> 2, tp |-> "valid", pid |-> 2, sampled |-> TRUE, ts |-> TRUE], redelivered |-> FALSE], [hop |-> 4, from |-> 4, st |-> "handled", hdr |-> [tid |-> 4, tp |-> "valid", pid |-> 4, sampled |-> TRUE, ts |-> TRUE], redelivered |-> FALSE]>>,spans |-> <<[svc |-> "browser", st |-> "exported", tid |-> 1, sampled |-> TRUE, ts |-> TRUE, parent |-> 0, sid |-> 1, via |-> 0, inCollector |-> 1, inBackend |-> 0], [svc |-> "gateway", st |-> "exported", tid |-> 2, sampled |-> TRUE, ts |-> TRUE, parent |-> 1, sid |-> 2, via |-> 1, inCollector |-> 1, inBackend |-> 0], [svc |-> "auth", st |-> "exported", tid |-> 3, sampled |-> TRUE, ts |-> TRUE, parent |-> 2, sid |-> 3, via |-> 2, inCollector |-> 1, inBackend |-> 0], [svc |-> "orders", st |-> "queued", tid |-> 4, sampled |-> TRUE, ts |-> TRUE, parent |-> 2, sid |-> 4, via |-> 3, inCollector |-> 0, inBackend |-> 0], [svc |-> "billing", st |-> "queued", tid |-> 5, sampled |-> TRUE, ts |-> TRUE, parent |-> 4, sid |-> 5, via |-> 4, inCollector |-> 0, inBackend |-> 0]>>]),
    ([msgs |-> <<[hop |-> 1, from |-> 1, st |-> "replied", hdr |-> [tid |-> 1, tp |-> "valid", pid |-> 1, sampled |-> TRUE, ts |-> TRUE], redelivered |-> FALSE], [hop |-> 2, from |-> 2, st |-> "replied", hdr |-> [tid |-> 2, tp |-> "valid", pid |-> 2, sampled |-> TRUE, ts |-> TRUE], redelivered |-> FALSE], [hop |-> 3, from |-> 2, st |-> "replied", hdr |-> [tid |-> 2, tp |-> "valid", pid |-> 2, sampled |-> TRUE, ts |-> TRUE], redelivered |-> FALSE], [hop |-> 4, from |-> 4, st |-> "handled", hdr |-> [tid |-> 4, tp |-> "valid", pid |-> 4, sampled |-> TRUE, ts |-> TRUE], redelivered |-> FALSE]>>,spans |-> <<[svc |-> "browser", st |-> "exported", tid |-> 1, sampled |-> TRUE, ts |-> TRUE, parent |-> 0, sid |-> 1, via |-> 0, inCollector |-> 1, inBackend |-> 0], [svc |-> "gateway", st |-> "exported", tid |-> 2, sampled |-> TRUE, ts |-> TRUE, parent |-> 1, sid |-> 2, via |-> 1, inCollector |-> 1, inBackend |-> 0], [svc |-> "auth", st |-> "exported", tid |-> 3, sampled |-> TRUE, ts |-> TRUE, parent |-> 2, sid |-> 3, via |-> 2, inCollector |-> 1, inBackend |-> 0], [svc |-> "orders", st |-> "exported", tid |-> 4, sampled |-> TRUE, ts |-> TRUE, parent |-> 2, sid |-> 4, via |-> 3, inCollector |-> 1, inBackend |-> 0], [svc |-> "billing", st |-> "queued", tid |-> 5, sampled |-> TRUE, ts |-> TRUE, parent |-> 4, sid |-> 5, via |-> 4, inCollector |-> 0, inBackend |-> 0]>>]),
    ([msgs |-> <<[hop |-> 1, from |-> 1, st |-> "replied", hdr |-> [tid |-> 1, tp |-> "valid", pid |-> 1, sampled |-> TRUE, ts |-> TRUE], redelivered |-> FALSE], [hop |-> 2, from |-> 2, st |-> "replied", hdr |-> [tid |-> 2, tp |-> "valid", pid |-> 2, sampled |-> TRUE, ts |-> TRUE], redelivered |-> FALSE], [hop |-> 3, from |-> 2, st |-> "replied", hdr |-> [tid |-> 2, tp |-> "valid", pid |-> 2, sampled |-> TRUE, ts |-> TRUE], redelivered |-> FALSE], [hop |-> 4, from |-> 4, st |-> "handled", hdr |-> [tid |-> 4, tp |-> "valid", pid |-> 4, sampled |-> TRUE, ts |-> TRUE], redelivered |-> FALSE]>>,spans |-> <<[svc |-> "browser", st |-> "exported", tid |-> 1, sampled |-> TRUE, ts |-> TRUE, parent |-> 0, sid |-> 1, via |-> 0, inCollector |-> 1, inBackend |-> 0], [svc |-> "gateway", st |-> "exported", tid |-> 2, sampled |-> TRUE, ts |-> TRUE, parent |-> 1, sid |-> 2, via |-> 1, inCollector |-> 1, inBackend |-> 0], [svc |-> "auth", st |-> "exported", tid |-> 3, sampled |-> TRUE, ts |-> TRUE, parent |-> 2, sid |-> 3, via |-> 2, inCollector |-> 1, inBackend |-> 0], [svc |-> "orders", st |-> "exported", tid |-> 4, sampled |-> TRUE, ts |-> TRUE, parent |-> 2, sid |-> 4, via |-> 3, inCollector |-> 1, inBackend |-> 0], [svc |-> "billing", st |-> "exported", tid |-> 5, sampled |-> TRUE, ts |-> TRUE, parent |-> 4, sid |-> 5, via |-> 4, inCollector |-> 1, inBackend |-> 0]>>]),
    ([msgs |-> <<[hop |-> 1, from |-> 1, st |-> "replied", hdr |-> [tid |-> 1, tp |-> "valid", pid |-> 1, sampled |-> TRUE, ts |-> TRUE], redelivered |-> FALSE], [hop |-> 2, from |-> 2, st |-> "replied", hdr |-> [tid |-> 2, tp |-> "valid", pid |-> 2, sampled |-> TRUE, ts |-> TRUE], redelivered |-> FALSE], [hop |-> 3, from |-> 2, st |-> "replied", hdr |-> [tid |-> 2, tp |-> "valid", pid |-> 2, sampled |-> TRUE, ts |-> TRUE], redelivered |-> FALSE], [hop |-> 4, from |-> 4, st |-> "handled", hdr |-> [tid |-> 4, tp |-> "valid", pid |-> 4, sampled |-> TRUE, ts |-> TRUE], redelivered |-> FALSE]>>,spans |-> <<[svc |-> "browser", st |-> "exported", tid |-> 1, sampled |-> TRUE, ts |-> TRUE, parent |-> 0, sid |-> 1, via |-> 0, inCollector |-> 0, inBackend |-> 1], [svc |-> "gateway", st |-> "exported", tid |-> 2, sampled |-> TRUE, ts |-> TRUE, parent |-> 1, sid |-> 2, via |-> 1, inCollector |-> 0, inBackend |-> 1], [svc |-> "auth", st |-> "exported", tid |-> 3, sampled |-> TRUE, ts |-> TRUE, parent |-> 2, sid |-> 3, via |-> 2, inCollector |-> 0, inBackend |-> 1], [svc |-> "orders", st |-> "exported", tid |-> 4, sampled |-> TRUE, ts |-> TRUE, parent |-> 2, sid |-> 4, via |-> 3, inCollector |-> 0, inBackend |-> 1], [svc |-> "billing", st |-> "exported", tid |-> 5, sampled |-> TRUE, ts |-> TRUE, parent |-> 4, sid |-> 5, via |-> 4, inCollector |-> 0, inBackend |-> 1]>>])
    >>
----


=============================================================================

---- CONFIG TraceContext_TTrace_1795612275 ----
CONSTANTS
    Root = "browser"
    Traces = 1
    Hops <- DefaultHops
    AlwaysOff = { }
    RatioSampled = { }
    CorruptClasses = { }
    Faults = { }
    Bugs = { "NewTraceIdPerHop" }

INVARIANT
    _inv

CHECK_DEADLOCK
    \* CHECK_DEADLOCK off because of PROPERTY or INVARIANT above.
    FALSE

INIT
    _init

NEXT
    _next

CONSTANT
    _TETrace <- _trace

ALIAS
    _expression
=============================================================================
\* Generated on Wed Nov 25 13:11:15 UTC 2026