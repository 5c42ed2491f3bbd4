---- MODULE SemMutex ----
\* Processes share one lock. Each loops: idle -> wait -> cs -> idle.
\* Entering needs the lock free: with only weak fairness a waiting process
\* can starve (the lock is free only now and then); strong fairness on
\* entering makes every waiting process eventually enter.
EXTENDS Naturals, FiniteSets, TLC
CONSTANTS Procs
VARIABLES pc, lock
vars == <<pc, lock>>

Init == pc = [p \in Procs |-> "idle"] /\ lock = FALSE

Try(p) == pc[p] = "idle" /\ pc' = [pc EXCEPT ![p] = "wait"] /\ UNCHANGED lock
Enter(p) == pc[p] = "wait" /\ ~lock /\ lock' = TRUE /\ pc' = [pc EXCEPT ![p] = "cs"]
Exit(p) == pc[p] = "cs" /\ lock' = FALSE /\ pc' = [pc EXCEPT ![p] = "idle"]

Next == \E p \in Procs : Try(p) \/ Enter(p) \/ Exit(p)

Spec == Init /\ [][Next]_vars /\ \A p \in Procs : WF_vars(Exit(p)) /\ SF_vars(Enter(p)) /\ WF_vars(Try(p))
WeakSpec == Init /\ [][Next]_vars /\ \A p \in Procs : WF_vars(Exit(p)) /\ WF_vars(Enter(p)) /\ WF_vars(Try(p))

MutualExclusion == Cardinality({p \in Procs : pc[p] = "cs"}) <= 1
LockHeld == lock <=> (\E p \in Procs : pc[p] = "cs")
NoStarvation == \A p \in Procs : (pc[p] = "wait") ~> (pc[p] = "cs")
SomeoneEnters == []<>(\E p \in Procs : pc[p] = "cs")
LockStep == [][lock' # lock => \E p \in Procs : Enter(p) \/ Exit(p)]_lock
LockNeverStays == [][lock' => ~lock]_vars
EventuallyLocked == <>[]lock
Perms == Permutations(Procs)
====
