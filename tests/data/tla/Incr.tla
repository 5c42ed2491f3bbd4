---- MODULE Incr ----
\* PlusCal: N processes each increment a shared counter K times, reading
\* and writing it in separate steps, optionally under a lock. Without the
\* lock updates are lost (the classic race); with it the total is N*K.
\* The TLA+ between BEGIN and END TRANSLATION was written by PlusCal's
\* translator (java -cp tla2tools.jar pcal.trans Incr.tla, TLC 2.20); it is
\* what TLC and tracewright check.
EXTENDS Naturals, Sequences, TLC
CONSTANTS N, K, UseLock

(* --algorithm Incr
variables counter = 0, lock = FALSE;

fair process worker \in 1..N
variables tmp = 0, i = 0;
begin
Loop:
  while i < K do
    Acquire:
      if UseLock then
        await ~lock;
        lock := TRUE;
      end if;
    Read:
      tmp := counter;
    Write:
      counter := tmp + 1;
      i := i + 1;
    Release:
      if UseLock then
        lock := FALSE;
      end if;
  end while;
end process;
end algorithm; *)
\* BEGIN TRANSLATION (chksum(pcal) = "233ff227" /\ chksum(tla) = "dcf0f54c")
VARIABLES pc, counter, lock, tmp, i

vars == << pc, counter, lock, tmp, i >>

ProcSet == (1..N)

Init == (* Global variables *)
        /\ counter = 0
        /\ lock = FALSE
        (* Process worker *)
        /\ tmp = [self \in 1..N |-> 0]
        /\ i = [self \in 1..N |-> 0]
        /\ pc = [self \in ProcSet |-> "Loop"]

Loop(self) == /\ pc[self] = "Loop"
              /\ IF i[self] < K
                    THEN /\ pc' = [pc EXCEPT ![self] = "Acquire"]
                    ELSE /\ pc' = [pc EXCEPT ![self] = "Done"]
              /\ UNCHANGED << counter, lock, tmp, i >>

Acquire(self) == /\ pc[self] = "Acquire"
                 /\ IF UseLock
                       THEN /\ ~lock
                            /\ lock' = TRUE
                       ELSE /\ TRUE
                            /\ lock' = lock
                 /\ pc' = [pc EXCEPT ![self] = "Read"]
                 /\ UNCHANGED << counter, tmp, i >>

Read(self) == /\ pc[self] = "Read"
              /\ tmp' = [tmp EXCEPT ![self] = counter]
              /\ pc' = [pc EXCEPT ![self] = "Write"]
              /\ UNCHANGED << counter, lock, i >>

Write(self) == /\ pc[self] = "Write"
               /\ counter' = tmp[self] + 1
               /\ i' = [i EXCEPT ![self] = i[self] + 1]
               /\ pc' = [pc EXCEPT ![self] = "Release"]
               /\ UNCHANGED << lock, tmp >>

Release(self) == /\ pc[self] = "Release"
                 /\ IF UseLock
                       THEN /\ lock' = FALSE
                       ELSE /\ TRUE
                            /\ lock' = lock
                 /\ pc' = [pc EXCEPT ![self] = "Loop"]
                 /\ UNCHANGED << counter, tmp, i >>

worker(self) == Loop(self) \/ Acquire(self) \/ Read(self) \/ Write(self)
                   \/ Release(self)

(* Allow infinite stuttering to prevent deadlock on termination. *)
Terminating == /\ \A self \in ProcSet: pc[self] = "Done"
               /\ UNCHANGED vars

Next == (\E self \in 1..N: worker(self))
           \/ Terminating

Spec == /\ Init /\ [][Next]_vars
        /\ \A self \in 1..N : WF_vars(worker(self))

Termination == <>(\A self \in ProcSet: pc[self] = "Done")

\* END TRANSLATION 

AllDone == \A p \in 1..N : pc[p] = "Done"
Total == AllDone => counter = N * K
Finishes == <>AllDone
====
