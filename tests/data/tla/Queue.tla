---- MODULE Queue ----
\* A producer appends numbered messages to an unbounded FIFO channel; a
\* consumer takes them in order. The state space is infinite: the configs
\* bound it with CONSTRAINT (and ACTION_CONSTRAINT), as TLC users do.
EXTENDS Naturals, Sequences
CONSTANTS Max
VARIABLES q, sent, got
vars == <<q, sent, got>>

Init == q = <<>> /\ sent = 0 /\ got = <<>>

Send == sent' = sent + 1 /\ q' = Append(q, sent + 1) /\ UNCHANGED got
Recv == q # <<>> /\ got' = Append(got, Head(q)) /\ q' = Tail(q) /\ UNCHANGED sent
Drop == q # <<>> /\ q' = Tail(q) /\ UNCHANGED <<sent, got>>

Next == Send \/ Recv
LossyNext == Send \/ Recv \/ Drop

Spec == Init /\ [][Next]_vars /\ WF_vars(Recv)
LossySpec == Init /\ [][LossyNext]_vars /\ WF_vars(Recv)

InOrder == \A i \in 1..(Len(got) - 1) : got[i] < got[i + 1]
NoGaps == got = [i \in 1..Len(got) |-> i]
Bounded == sent <= Max
SmallQueue == Len(q) <= 2
\* A step never sends twice in a row while the queue holds two.
NotFull == ~(Len(q) >= 2 /\ sent' > sent)
\* States that differ only in which messages were lost are one state.
Counts == <<Len(q), sent>>
Shown == [queued |-> Len(q), received |-> Len(got)]
Drains == []<>(q = <<>>)
Delivered == \A n \in 1..Max : (sent >= n) ~> (Len(got) >= n \/ sent > Max)
EventuallyQuiet == <>[](q = <<>>)
====
