------------------------------ MODULE TwoPhase ------------------------------
(* Two-phase commit with acknowledgements, checked as an implementation of *)
(* Commit: the managers vote through messages, the coordinator tallies the *)
(* votes and commits once Quorum of them (all, when it is correct) are in,  *)
(* and each manager acknowledges the outcome it learnt. The refinement is  *)
(* the property RefinesCommit: Commit's variables are this module's own    *)
(* (substituted implicitly), its RM is Managers.                           *)
EXTENDS Naturals, FiniteSets

CONSTANTS Managers, Quorum

VARIABLES rm, coord, prepared, msgs, acked

impl == <<rm, coord, prepared, msgs, acked>>

C == INSTANCE Commit WITH RM <- Managers

Init == /\ C!Init
        /\ acked = {}

Vote(r) == /\ C!Prepare(r)
           /\ UNCHANGED acked

Quit(r) == /\ C!GiveUp(r)
           /\ UNCHANGED acked

Tally(r) == /\ C!Collect(r)
            /\ UNCHANGED acked

\* The coordinator commits once Quorum votes are in; it aborts only when a
\* manager has quit, or every manager has answered and some quit.
Commit == /\ coord = "deciding"
          /\ Cardinality(prepared) >= Quorum
          /\ coord' = "committed"
          /\ msgs' = msgs \cup {[kind |-> "commit"]}
          /\ UNCHANGED <<rm, prepared, acked>>

Abort == /\ coord = "deciding"
         /\ \E r \in Managers : rm[r] = "aborted"
         /\ coord' = "aborted"
         /\ msgs' = msgs \cup {[kind |-> "abort"]}
         /\ UNCHANGED <<rm, prepared, acked>>

Hear(r) == /\ C!Learn(r)
           /\ UNCHANGED acked

Ack(r) == /\ r \notin acked
          /\ rm[r] \in {"committed", "aborted"}
          /\ acked' = acked \cup {r}
          /\ UNCHANGED <<rm, coord, prepared, msgs>>

Next == \/ Commit \/ Abort
        \/ \E r \in Managers : Vote(r) \/ Quit(r) \/ Tally(r) \/ Hear(r) \/ Ack(r)

Spec == Init /\ [][Next]_impl /\ WF_impl(Next)

\* Without fairness the protocol may stop anywhere.
Unfair == Init /\ [][Next]_impl

RefinesCommit == C!Spec

AllAcked == <>(acked = Managers)
=============================================================================
