------------------------------ MODULE Channel ------------------------------
(* A bounded FIFO channel between a producer that sends Total messages,   *)
(* each any of Msgs, and a consumer that receives them in order.          *)
EXTENDS Naturals, Sequences

CONSTANTS Msgs, Capacity, Total

VARIABLES queue, sent, received

vars == <<queue, sent, received>>

Init == queue = <<>> /\ sent = <<>> /\ received = <<>>

Send(m) == /\ Len(sent) < Total
           /\ Len(queue) < Capacity
           /\ queue' = Append(queue, m)
           /\ sent' = Append(sent, m)
           /\ UNCHANGED received

Receive == /\ queue # <<>>
           /\ received' = received \o <<Head(queue)>>
           /\ queue' = Tail(queue)
           /\ UNCHANGED sent

Next == (\E m \in Msgs : Send(m)) \/ Receive

Spec == Init /\ [][Next]_vars /\ WF_vars(Next)

TypeOK == /\ queue \in Seq(Msgs)
          /\ Len(queue) <= Capacity
          /\ Len(sent) <= Total

\* What was received, followed by what is queued, is what was sent.
InOrder == received \o queue = sent
Prefix == SubSeq(sent, 1, Len(received)) = received

\* The channel never holds a message twice in a row (false: a seeded
\* property to find a counterexample for).
NoRepeat == \A i \in 1..(Len(queue) - 1) : queue[i] # queue[i + 1]

Drains == <>(Len(sent) = Total /\ queue = <<>>)
=============================================================================
