------------------------------- MODULE Jugs -------------------------------
(* Measuring water with unmarked jugs: fill a jug from the tap, empty it   *)
(* into the sink, or pour one jug into another until the source is empty  *)
(* or the target full. Which amounts can be measured?                     *)
EXTENDS Naturals, FiniteSets

CONSTANTS Capacity,  \* a tuple: the capacity of each jug
          Goal       \* the amount to measure

VARIABLE water       \* water[j]: how much jug j holds

Jugs == DOMAIN Capacity
Largest == CHOOSE c \in {Capacity[j] : j \in Jugs} : \A j \in Jugs : c >= Capacity[j]

Min(a, b) == IF a <= b THEN a ELSE b

TypeOK == water \in [Jugs -> 0..Largest]

Init == water = [j \in Jugs |-> 0]

Fill(j) == water' = [water EXCEPT ![j] = Capacity[j]]

Empty(j) == water' = [water EXCEPT ![j] = 0]

Pour(from, to) ==
    LET amount == Min(water[from], Capacity[to] - water[to])
    IN  water' = [water EXCEPT ![from] = @ - amount, ![to] = @ + amount]

Next == \E j \in Jugs : \/ Fill(j)
                        \/ Empty(j)
                        \/ \E k \in Jugs \ {j} : Pour(j, k)

\* Violated exactly when Goal can be measured in some jug.
NotMeasured == \A j \in Jugs : water[j] # Goal

\* The sum of f over the set S.
RECURSIVE SumOf(_, _)
SumOf(f, S) == IF S = {} THEN 0
               ELSE LET j == CHOOSE x \in S : TRUE IN f[j] + SumOf(f, S \ {j})

\* Never more water than the jugs hold together.
Bounded == SumOf(water, Jugs) <= SumOf(Capacity, Jugs)

\* Capacities the configs choose with `Capacity <- ...`.
Caps35 == <<3, 5>>
Caps468 == <<4, 6, 8>>
=============================================================================
