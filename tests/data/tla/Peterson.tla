------------------------------ MODULE Peterson ------------------------------
(* Peterson's mutual exclusion for two processes, each entering its       *)
(* critical section Rounds times. Careful = FALSE drops the check of the  *)
(* other's flag and turn: a seeded bug.                                   *)
EXTENDS Naturals

CONSTANTS Rounds, Careful

VARIABLES flag, turn, pc, done

vars == <<flag, turn, pc, done>>

Procs == {0, 1}
Other(p) == 1 - p

Init == /\ flag = [p \in Procs |-> FALSE]
        /\ turn = 0
        /\ pc = [p \in Procs |-> "idle"]
        /\ done = [p \in Procs |-> 0]

Request(p) == /\ pc[p] = "idle"
              /\ done[p] < Rounds
              /\ flag' = [flag EXCEPT ![p] = TRUE]
              /\ pc' = [pc EXCEPT ![p] = "yield"]
              /\ UNCHANGED <<turn, done>>

Yield(p) == /\ pc[p] = "yield"
            /\ turn' = Other(p)
            /\ pc' = [pc EXCEPT ![p] = "wait"]
            /\ UNCHANGED <<flag, done>>

\* A disjunction in an action: TLC takes one step per true disjunct.
Enter(p) == /\ pc[p] = "wait"
            /\ \/ ~Careful
               \/ ~flag[Other(p)]
               \/ turn = p
            /\ pc' = [pc EXCEPT ![p] = "cs"]
            /\ UNCHANGED <<flag, turn, done>>

Exit(p) == /\ pc[p] = "cs"
           /\ flag' = [flag EXCEPT ![p] = FALSE]
           /\ pc' = [pc EXCEPT ![p] = "idle"]
           /\ done' = [done EXCEPT ![p] = @ + 1]
           /\ UNCHANGED turn

Next == \E p \in Procs : Request(p) \/ Yield(p) \/ Enter(p) \/ Exit(p)

Spec == Init /\ [][Next]_vars /\ WF_vars(Next)

TypeOK == /\ flag \in [Procs -> BOOLEAN]
          /\ turn \in Procs
          /\ pc \in [Procs -> {"idle", "yield", "wait", "cs"}]
          /\ done \in [Procs -> 0..Rounds]

MutualExclusion == ~(pc[0] = "cs" /\ pc[1] = "cs")

AllDone == \A p \in Procs : done[p] = Rounds
Finishes == <>AllDone
=============================================================================
