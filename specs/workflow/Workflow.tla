------------------------------- MODULE Workflow -------------------------------
(***************************************************************************)
(* A Temporal-style durable workflow running a saga.                       *)
(*                                                                         *)
(* The workflow code runs Steps activities in order; after each completes  *)
(* it registers that step's compensation. If a step fails for good (a      *)
(* non-retryable error, or its retries are used up), the code runs the     *)
(* registered compensations -- in reverse order, one at a time, by default *)
(* -- and fails the workflow. The server keeps the event history, retries  *)
(* activity attempts under the retry policy (MaximumAttempts counts the    *)
(* first attempt; 0 means unlimited) and records only an activity's last   *)
(* attempt. Workers crash: the workflow worker loses its cache and replays *)
(* the history on its next workflow task; the activity worker loses the    *)
(* attempt in flight, which the server times out and retries. A tracing    *)
(* interceptor emits StartWorkflow (client), RunWorkflow, StartActivity,   *)
(* CompleteWorkflow (workflow worker) and RunActivity per attempt          *)
(* (activity worker), exported by a simple or a batch span processor; a    *)
(* crash loses a batch processor's unexported spans.                       *)
(*                                                                         *)
(* src/models/workflow.rs implements the same state machine in Rust; the   *)
(* README beside this file maps every variable, action and property.       *)
(*                                                                         *)
(* Where reference/diagrams.md is ambiguous -- Failed is drawn both as a   *)
(* terminal state and as the entry to compensation, and compensation is    *)
(* drawn ending in Completed -- this spec separates them: a step failing   *)
(* for good moves the saga to Compensating; the workflow then closes as    *)
(* Compensated (every compensation succeeded), CompensationFailed (some    *)
(* compensation failed; those steps are flagged), or Failed (nothing to    *)
(* compensate). All three close the execution with WorkflowExecutionFailed *)
(* carrying the step's error, as Temporal's saga samples do; only a saga   *)
(* whose every step succeeded closes with WorkflowExecutionCompleted.      *)
(***************************************************************************)
EXTENDS Naturals, Sequences, FiniteSets, TLC

CONSTANTS
    Steps,         \* number of saga steps, each an activity with a compensation
    MaxAttempts,   \* RetryPolicy.MaximumAttempts: counts the first attempt; 0 = unlimited
    AttemptCap,    \* the model's bound on attempts (an activity still failing
                   \* there is retrying forever); AttemptCap >= MaxAttempts
    Outcomes,      \* what a step attempt may return: subset of {"ok", "retryable", "nonretryable"}
    Compensation,  \* "sequential" (stop at a failed compensation), "continue", or "parallel"
    Export,        \* "simple" or "batch": the span processor in every process
    Faults,        \* environment behaviour switched on, see FaultNames
    Bugs           \* seeded mutants of the engine or the workflow code, see BugNames

VARIABLES
    history,  \* the event history: a sequence of [e, act, n, type]
    acts,     \* server-side state of each scheduled activity (index = handle)
    ledger,   \* per step: side effects applied and undone
    worker,   \* the workflow worker: [cache |-> "warm"|"cold", code |-> 1|2]
    replay,   \* activity types the last cold replay produced, in order
    spans     \* every span emitted, in order (index = handle)

vars == <<history, acts, ledger, worker, replay, spans>>

FaultNames == {"WorkerCrash", "CompensationFailure", "TimeoutAfterSideEffect"}
BugNames == {"ForwardCompensation", "CompensateUncompleted", "UnboundedRetry",
             "RetryNonRetryable", "NoCompensation", "Nondeterministic",
             "DropTracerHeader"}

ASSUME Steps \in Nat \ {0}
ASSUME MaxAttempts \in Nat /\ AttemptCap \in Nat \ {0} /\ MaxAttempts <= AttemptCap
ASSUME Outcomes \subseteq {"ok", "retryable", "nonretryable"} /\ "ok" \in Outcomes
ASSUME Compensation \in {"sequential", "continue", "parallel"}
ASSUME Export \in {"simple", "batch"}
ASSUME Faults \subseteq FaultNames /\ Bugs \subseteq BugNames

-----------------------------------------------------------------------------
(* History *)

Ev(e) == [e |-> e, act |-> 0, n |-> 0, type |-> ""]
ActEv(e, a) == [e |-> e, act |-> a, n |-> 0, type |-> ""]

Closes == {"WorkflowExecutionCompleted", "WorkflowExecutionFailed"}
Finals == {"ActivityTaskCompleted", "ActivityTaskFailed", "ActivityTaskTimedOut"}

Started == history # <<>>
Closed == \E i \in DOMAIN history : history[i].e \in Closes

\* A workflow task is outstanding: the last workflow-task event is Scheduled.
WTEvents == {"WorkflowTaskScheduled", "WorkflowTaskStarted",
             "WorkflowTaskCompleted", "WorkflowTaskFailed"}
LastWT == LET is == {i \in DOMAIN history : history[i].e \in WTEvents}
          IN IF is = {} THEN 0 ELSE CHOOSE i \in is : \A j \in is : j <= i
Outstanding == LastWT # 0 /\ history[LastWT].e = "WorkflowTaskScheduled"

\* A result the workflow must see schedules a workflow task, unless one is
\* already outstanding (it will see the result when it starts).
WithWT(evs) == IF Outstanding THEN evs ELSE evs \o <<Ev("WorkflowTaskScheduled")>>

-----------------------------------------------------------------------------
(* The workflow code, as a function of the history it has seen *)

StepActs == {a \in DOMAIN acts : acts[a].kind = "step"}
CompActs == {a \in DOMAIN acts : acts[a].kind = "comp"}
ActOf(kind, i) == {a \in DOMAIN acts : acts[a].kind = kind /\ acts[a].step = i}

Resolved(a) == acts[a].st \in {"completed", "failed", "timedout"}
Completed(a) == acts[a].st = "completed"

\* The step that failed for good, if any (0 if none).
FailedStep == IF \E a \in StepActs : Resolved(a) /\ ~Completed(a)
              THEN acts[CHOOSE a \in StepActs : Resolved(a) /\ ~Completed(a)].step
              ELSE 0

CompletedSteps == {acts[a].step : a \in {b \in StepActs : Completed(b)}}

\* Compensations the code registered: one after each completed step.
\* CompensateUncompleted registers a step's compensation before running it.
Registered == IF "CompensateUncompleted" \in Bugs /\ FailedStep # 0
              THEN CompletedSteps \cup {FailedStep} ELSE CompletedSteps

\* The order the code runs them in: reverse order of registration.
RECURSIVE SortDesc(_)
SortDesc(S) == IF S = {} THEN <<>>
               ELSE LET m == CHOOSE x \in S : \A y \in S : x >= y
                    IN <<m>> \o SortDesc(S \ {m})
RECURSIVE SortAsc(_)
SortAsc(S) == IF S = {} THEN <<>>
              ELSE LET m == CHOOSE x \in S : \A y \in S : x <= y
                   IN <<m>> \o SortAsc(S \ {m})
CompOrder == IF "ForwardCompensation" \in Bugs THEN SortAsc(Registered) ELSE SortDesc(Registered)

CompFailed == \E a \in CompActs : Resolved(a) /\ ~Completed(a)
CompPending == \E a \in CompActs : ~Resolved(a)

\* The next compensation to schedule in sequential and continue modes (0: none).
NextComp == LET todo == {k \in 1..Len(CompOrder) : ActOf("comp", CompOrder[k]) = {}}
            IN IF todo = {} THEN 0
               ELSE CompOrder[CHOOSE k \in todo : \A j \in todo : k <= j]

\* The activity type the code schedules; under Nondeterministic the code
\* deployed after a crash renamed step 1's activity without versioning it.
TypeOf(kind, i, code) ==
    IF kind = "comp" THEN "Compensate" \o ToString(i)
    ELSE IF i = 1 /\ code = 2 THEN "Step1v2" ELSE "Step" \o ToString(i)

\* The commands the code issues at a workflow task: a sequence of
\* [cmd |-> "schedule", kind, step] or [cmd |-> "complete"|"fail"].
Sched(kind, i) == [cmd |-> "schedule", kind |-> kind, step |-> i]
Close(c) == [cmd |-> c, kind |-> "", step |-> 0]
Commands ==
    IF FailedStep = 0 THEN
        LET n == Cardinality(StepActs) IN
        IF n = 0 THEN <<Sched("step", 1)>>
        ELSE IF \E a \in StepActs : ~Resolved(a) THEN <<>>
        ELSE IF n < Steps THEN <<Sched("step", n + 1)>>
        ELSE <<Close("complete")>>
    ELSE IF "NoCompensation" \in Bugs THEN <<Close("fail")>>
    ELSE IF Compensation = "parallel" THEN
        IF CompActs = {} /\ Registered # {}
        THEN [k \in 1..Len(CompOrder) |-> Sched("comp", CompOrder[k])]
        ELSE IF CompPending THEN <<>> ELSE <<Close("fail")>>
    ELSE IF CompPending THEN <<>>
    ELSE IF Compensation = "sequential" /\ CompFailed THEN <<Close("fail")>>
    ELSE IF NextComp # 0 THEN <<Sched("comp", NextComp)>>
    ELSE <<Close("fail")>>

\* The activity types recorded in the history, in scheduling order (an
\* activity's handle is its place in that order).
Scheduled == [a \in DOMAIN acts |->
                history[CHOOSE i \in DOMAIN history : history[i].e = "ActivityTaskScheduled" /\ history[i].act = a].type]

\* What replaying the history with the deployed code produces for them.
Replayed == [a \in DOMAIN acts |-> TypeOf(acts[a].kind, acts[a].step, worker.code)]

-----------------------------------------------------------------------------
(* Spans *)

SpanOf(name, a, n, parent, proc) ==
    [name |-> name, act |-> a, n |-> n, parent |-> parent, proc |-> proc,
     st |-> IF Export = "simple" THEN "exported" ELSE "buffered"]

RootSpan == 1   \* StartWorkflow, emitted first
StartActivitySpan(a) == LET s == {i \in DOMAIN spans : spans[i].name = "StartActivity" /\ spans[i].act = a}
                        IN IF s = {} THEN 0 ELSE CHOOSE i \in s : TRUE

-----------------------------------------------------------------------------
(* Actions *)

Init ==
    /\ history = <<>>
    /\ acts = <<>>
    /\ ledger = [i \in 1..Steps |-> [done |-> 0, undone |-> 0]]
    /\ worker = [cache |-> "cold", code |-> 1]
    /\ replay = <<>>
    /\ spans = <<>>

\* The client starts the workflow.
StartWorkflow ==
    /\ ~Started
    /\ history' = <<Ev("WorkflowExecutionStarted"), Ev("WorkflowTaskScheduled")>>
    /\ spans' = <<SpanOf("StartWorkflow", 0, 0, 0, "client")>>
    /\ UNCHANGED <<acts, ledger, worker, replay>>

\* The workflow worker runs a workflow task: with a cold cache it first
\* replays the history, and a replay that disagrees with the history fails
\* the task (a nondeterminism error); otherwise the code's commands are
\* recorded and their spans emitted.
ProcessWT ==
    /\ Outstanding
    /\ LET cold == worker.cache = "cold"
       IN IF cold /\ Replayed # Scheduled
          THEN /\ history' = history \o <<Ev("WorkflowTaskStarted"), Ev("WorkflowTaskFailed")>>
               /\ replay' = Replayed
               /\ UNCHANGED <<acts, ledger, worker, spans>>
          ELSE
          LET cmds == Commands
              base == Len(acts)
              \* A workflow task either schedules activities or closes.
              new == [k \in 1..Len(SelectSeq(cmds, LAMBDA c : c.cmd = "schedule")) |->
                        [kind |-> cmds[k].kind, step |-> cmds[k].step, st |-> "scheduled",
                         attempts |-> 0, nrAt |-> 0]]
              evs == [k \in 1..Len(cmds) |->
                        IF cmds[k].cmd = "schedule"
                        THEN [e |-> "ActivityTaskScheduled", act |-> base + k, n |-> 0,
                              type |-> TypeOf(cmds[k].kind, cmds[k].step, worker.code)]
                        ELSE IF cmds[k].cmd = "complete" THEN Ev("WorkflowExecutionCompleted")
                        ELSE Ev("WorkflowExecutionFailed")]
              run == IF \E i \in DOMAIN spans : spans[i].name = "RunWorkflow"
                     THEN <<>> ELSE <<SpanOf("RunWorkflow", 0, 0, RootSpan, "wf")>>
              emitted == [k \in 1..Len(cmds) |->
                            IF cmds[k].cmd = "schedule"
                            THEN SpanOf("StartActivity", base + k, 0, RootSpan, "wf")
                            ELSE SpanOf("CompleteWorkflow", 0, 0, RootSpan, "wf")]
          IN /\ history' = history \o <<Ev("WorkflowTaskStarted"), Ev("WorkflowTaskCompleted")>> \o evs
             /\ acts' = acts \o new
             /\ spans' = spans \o run \o emitted
             /\ worker' = [worker EXCEPT !.cache = "warm"]
             /\ replay' = IF cold THEN Replayed ELSE replay
             /\ UNCHANGED ledger

\* The activity worker starts an attempt. It runs one attempt at a time
\* (MaxConcurrentActivityExecutionSize 1). An activity still retrying at
\* AttemptCap attempts stays in backoff: the model's bound on "forever".
StartAttempt(a) ==
    /\ acts[a].st \in {"scheduled", "backoff"}
    /\ acts[a].attempts < AttemptCap
    /\ \A b \in DOMAIN acts : acts[b].st # "running"
    /\ acts' = [acts EXCEPT ![a].st = "running", ![a].attempts = @ + 1]
    /\ UNCHANGED <<history, ledger, worker, replay, spans>>

\* What an attempt of activity a can end in.
AttemptOutcomes(a) ==
    IF acts[a].kind = "comp"
    THEN {"ok"} \cup (IF "CompensationFailure" \in Faults THEN {"nonretryable"} ELSE {})
    ELSE Outcomes \cup (IF "TimeoutAfterSideEffect" \in Faults THEN {"effect-timeout"} ELSE {})

\* Whether the server retries after an attempt ending in outcome o:
\* MaximumAttempts counts the first attempt, 0 means no limit.
Retries(a, o) ==
    /\ o # "ok"
    /\ (o # "nonretryable" \/ "RetryNonRetryable" \in Bugs)
    /\ (MaxAttempts = 0 \/ "UnboundedRetry" \in Bugs \/ acts[a].attempts < MaxAttempts)

\* The spans and the history an attempt's end adds.
RunSpan(a) == SpanOf("RunActivity", a, acts[a].attempts,
                     IF "DropTracerHeader" \in Bugs THEN 0 ELSE StartActivitySpan(a), "act")

Settle(a, o) ==
    LET final == CASE o = "ok" -> "ActivityTaskCompleted"
                   [] o \in {"timeout", "effect-timeout"} -> "ActivityTaskTimedOut"
                   [] OTHER -> "ActivityTaskFailed"
        st == CASE o = "ok" -> "completed"
                [] o \in {"timeout", "effect-timeout"} -> "timedout"
                [] OTHER -> "failed"
    IN /\ acts' = [acts EXCEPT ![a].st = IF Retries(a, o) THEN "backoff" ELSE st,
                                ![a].nrAt = IF o = "nonretryable" /\ @ = 0 THEN acts[a].attempts ELSE @]
       /\ history' = IF Retries(a, o) THEN history
                     ELSE history \o WithWT(<<[e |-> "ActivityTaskStarted", act |-> a, n |-> acts[a].attempts, type |-> ""],
                                             ActEv(final, a)>>)

\* An attempt ends: its side effect (on success, or before a timeout that
\* loses its completion) lands in the ledger.
EndAttempt(a) ==
    /\ acts[a].st = "running"
    /\ \E o \in AttemptOutcomes(a) :
        /\ Settle(a, o)
        /\ ledger' = IF o \in {"ok", "effect-timeout"}
                     THEN IF acts[a].kind = "step"
                          THEN [ledger EXCEPT ![acts[a].step].done = @ + 1]
                          ELSE [ledger EXCEPT ![acts[a].step].undone = @ + 1]
                     ELSE ledger
        /\ spans' = spans \o <<RunSpan(a)>>
    /\ UNCHANGED <<worker, replay>>

Buffered(p) == {i \in DOMAIN spans : spans[i].proc = p /\ spans[i].st = "buffered"}

\* A batch span processor exports what it holds.
Flush(p) ==
    /\ Buffered(p) # {}
    /\ spans' = [i \in DOMAIN spans |-> IF i \in Buffered(p) THEN [spans[i] EXCEPT !.st = "exported"] ELSE spans[i]]
    /\ UNCHANGED <<history, acts, ledger, worker, replay>>

Lose(p) == [i \in DOMAIN spans |-> IF i \in Buffered(p) THEN [spans[i] EXCEPT !.st = "lost"] ELSE spans[i]]

\* The workflow worker crashes and restarts: its cache and unexported spans
\* are lost (under Nondeterministic, the restart deploys the new code).
CrashWorkflowWorker ==
    /\ "WorkerCrash" \in Faults
    /\ Started /\ ~Closed
    \* Something to lose. (Written without \/: TLC takes one step per true
    \* disjunct of an action, which would count this step twice.)
    /\ ~(worker.cache = "cold" /\ Buffered("wf") = {})
    /\ worker' = [cache |-> "cold", code |-> IF "Nondeterministic" \in Bugs THEN 2 ELSE worker.code]
    /\ spans' = Lose("wf")
    /\ UNCHANGED <<history, acts, ledger, replay>>

\* The activity worker crashes and restarts: attempts in flight are lost and
\* the server times them out (StartToClose), as a retryable failure. (The
\* timeout is folded into the crash: nothing observable happens between.)
CrashActivityWorker ==
    /\ "WorkerCrash" \in Faults
    /\ \E a \in DOMAIN acts : acts[a].st = "running" /\ Settle(a, "timeout")
    /\ spans' = Lose("act")
    /\ UNCHANGED <<ledger, worker, replay>>

Next ==
    \/ StartWorkflow
    \/ ProcessWT
    \/ \E a \in DOMAIN acts : StartAttempt(a) \/ EndAttempt(a)
    \/ \E p \in {"client", "wf", "act"} : Flush(p)
    \/ CrashWorkflowWorker
    \/ CrashActivityWorker

Spec == Init /\ [][Next]_vars /\ WF_vars(Next)

-----------------------------------------------------------------------------
(* Properties.  Each name is the same in the .cfg files and in Rust. *)

Count(S) == Cardinality(S)
EventsOf(a) == {i \in DOMAIN history : history[i].act = a}
IndexOf(a, e) == CHOOSE i \in EventsOf(a) : history[i].e = e
Has(a, e) == \E i \in EventsOf(a) : history[i].e = e

\* The workflow-task event before event i, if any (0 if none).
PrevWT(i) == LET is == {j \in 1..(i - 1) : history[j].e \in WTEvents}
             IN IF is = {} THEN 0 ELSE CHOOSE j \in is : \A k \in is : k <= j

\* Started first and once; at most one close, and nothing after it; a
\* workflow task is Started only after it was Scheduled, and Completed or
\* Failed only after it was Started.
HistoryWellFormed ==
    /\ Started => history[1].e = "WorkflowExecutionStarted"
    /\ Count({i \in DOMAIN history : history[i].e = "WorkflowExecutionStarted"}) <= 1
    /\ Count({i \in DOMAIN history : history[i].e \in Closes}) <= 1
    /\ \A i \in DOMAIN history : history[i].e \in Closes => i = Len(history)
    /\ \A i \in DOMAIN history :
         /\ history[i].e = "WorkflowTaskStarted" =>
               PrevWT(i) # 0 /\ history[PrevWT(i)].e = "WorkflowTaskScheduled"
         /\ history[i].e \in {"WorkflowTaskCompleted", "WorkflowTaskFailed"} =>
               PrevWT(i) # 0 /\ history[PrevWT(i)].e = "WorkflowTaskStarted"

\* At most one workflow task outstanding at a time.
SingleWorkflowTask ==
    \A j \in DOMAIN history :
        Count({i \in 1..j : history[i].e = "WorkflowTaskScheduled"})
          - Count({i \in 1..j : history[i].e \in {"WorkflowTaskCompleted", "WorkflowTaskFailed"}}) <= 1

\* Each activity: scheduled once, then started once and resolved once, in
\* that order, and the server's view agrees with the history.
ActivityLifecycle ==
    \A a \in DOMAIN acts :
        /\ Count({i \in EventsOf(a) : history[i].e = "ActivityTaskScheduled"}) = 1
        /\ Count({i \in EventsOf(a) : history[i].e = "ActivityTaskStarted"}) <= 1
        /\ Count({i \in EventsOf(a) : history[i].e \in Finals}) <= 1
        /\ Has(a, "ActivityTaskStarted") => IndexOf(a, "ActivityTaskScheduled") < IndexOf(a, "ActivityTaskStarted")
        /\ \A i \in EventsOf(a) : history[i].e \in Finals =>
               Has(a, "ActivityTaskStarted") /\ IndexOf(a, "ActivityTaskStarted") = i - 1
        /\ Resolved(a) <=> \E i \in EventsOf(a) : history[i].e \in Finals

\* No activity makes more attempts than MaximumAttempts allows.
RetryBound == MaxAttempts > 0 => \A a \in DOMAIN acts : acts[a].attempts <= MaxAttempts

\* No attempt after a non-retryable failure.
NoRetryAfterNonRetryable ==
    \A a \in DOMAIN acts : acts[a].nrAt # 0 => acts[a].attempts = acts[a].nrAt /\ acts[a].st = "failed"

\* Once closed, the close event stays last and nothing is left running.
TerminalAbsorbing ==
    Closed => /\ history[Len(history)].e \in Closes
              /\ \A a \in DOMAIN acts : Resolved(a)

\* Only a step that completed is compensated.
CompensateOnlyCompleted ==
    \A c \in CompActs : \E a \in StepActs : acts[a].step = acts[c].step /\ Completed(a)

\* Sequential and continue modes compensate in reverse order of completion.
ReverseOrderCompensation ==
    Compensation # "parallel" =>
        \A c, d \in CompActs : c < d => acts[c].step > acts[d].step

\* A step whose compensation failed, or was never run after an earlier
\* compensation failed in sequential mode, is flagged as failed to compensate.
Flagged(i) == \/ \E c \in ActOf("comp", i) : Resolved(c) /\ ~Completed(c)
              \/ Compensation = "sequential" /\ CompFailed /\ ActOf("comp", i) = {}

\* At close: every step's effect applied once and none undone, or every
\* applied effect undone or flagged.
SagaAtomicOutcome ==
    Closed =>
        \/ \A i \in 1..Steps : ledger[i].done = 1 /\ ledger[i].undone = 0
        \/ /\ FailedStep # 0
           /\ \A i \in 1..Steps : ledger[i].done = ledger[i].undone \/ Flagged(i)

\* Replaying the history reproduced the commands it records.
ReplayDeterministic ==
    \A k \in DOMAIN replay : k <= Len(Scheduled) /\ replay[k] = Scheduled[k]

\* One trace: StartWorkflow is the only root.
SpanSingleTrace == \A i \in DOMAIN spans : spans[i].parent = 0 => i = RootSpan

Settled == Closed /\ \A i \in DOMAIN spans : spans[i].st # "buffered"

\* Once settled, every exported span's parent was exported too.
NoOrphanSpans ==
    Settled => \A i \in DOMAIN spans :
                  (spans[i].st = "exported" /\ spans[i].parent # 0) => spans[spans[i].parent].st = "exported"

\* At most one RunActivity per attempt, under its activity's StartActivity.
OneRunActivityPerAttempt ==
    \A i \in DOMAIN spans : spans[i].name = "RunActivity" =>
        /\ spans[i].parent = StartActivitySpan(spans[i].act)
        /\ \A j \in DOMAIN spans : (j # i /\ spans[j].name = "RunActivity" /\ spans[j].act = spans[i].act)
                                      => spans[j].n # spans[i].n

\* Every workflow reaches a final status.
EventuallyClosed == <>Closed

\* After a step fails for good, every compensation eventually completes.
AllCompensated == \A i \in Registered : \E c \in ActOf("comp", i) : Completed(c)
CompensationsComplete == <>(Closed /\ (FailedStep # 0 => AllCompensated))
=============================================================================
