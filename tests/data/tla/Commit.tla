------------------------------- MODULE Commit -------------------------------
(* Two-phase commit: resource managers prepare or abort on their own; a   *)
(* coordinator commits once every manager is prepared, or aborts. Managers *)
(* learn the decision from a message. All must agree.                     *)
CONSTANT RM

VARIABLES rm, coord, prepared, msgs

vars == <<rm, coord, prepared, msgs>>

Msg == [kind : {"prepared"}, from : RM] \cup [kind : {"commit", "abort"}]

Init == /\ rm = [r \in RM |-> "working"]
        /\ coord = "deciding"
        /\ prepared = {}
        /\ msgs = {}

Prepare(r) == /\ rm[r] = "working"
              /\ rm' = [rm EXCEPT ![r] = "prepared"]
              /\ msgs' = msgs \cup {[kind |-> "prepared", from |-> r]}
              /\ UNCHANGED <<coord, prepared>>

GiveUp(r) == /\ rm[r] = "working"
             /\ rm' = [rm EXCEPT ![r] = "aborted"]
             /\ UNCHANGED <<coord, prepared, msgs>>

Collect(r) == /\ coord = "deciding"
              /\ [kind |-> "prepared", from |-> r] \in msgs
              /\ prepared' = prepared \cup {r}
              /\ UNCHANGED <<rm, coord, msgs>>

Decide == /\ coord = "deciding"
          /\ \/ /\ prepared = RM
                /\ coord' = "committed"
                /\ msgs' = msgs \cup {[kind |-> "commit"]}
             \/ /\ coord' = "aborted"
                /\ msgs' = msgs \cup {[kind |-> "abort"]}
          /\ UNCHANGED <<rm, prepared>>

Learn(r) == \E m \in msgs :
              /\ m.kind \in {"commit", "abort"}
              /\ rm' = [rm EXCEPT ![r] = IF m.kind = "commit" THEN "committed" ELSE "aborted"]
              /\ UNCHANGED <<coord, prepared, msgs>>

Next == Decide \/ \E r \in RM : Prepare(r) \/ GiveUp(r) \/ Collect(r) \/ Learn(r)

Spec == Init /\ [][Next]_vars /\ WF_vars(Next)

TypeOK == /\ rm \in [RM -> {"working", "prepared", "committed", "aborted"}]
          /\ coord \in {"deciding", "committed", "aborted"}
          /\ prepared \subseteq RM
          /\ msgs \subseteq Msg

Agreement == \A r, s \in RM : ~(rm[r] = "committed" /\ rm[s] = "aborted")

Decided == \A r \in RM : rm[r] \in {"committed", "aborted"}
EventuallyDecided == <>Decided

\* False: a manager may abort on its own before anyone commits.
NobodyAborts == \A r \in RM : rm[r] # "aborted"
=============================================================================
