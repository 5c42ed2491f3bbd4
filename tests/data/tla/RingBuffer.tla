----------------------------- MODULE RingBuffer -----------------------------
(* A ring buffer of Size slots that carries the messages 1..Limit, checked *)
(* as an implementation of a FIFO channel of capacity Size: the channel's  *)
(* queue is the buffer's contents read from head on. With Lifo the         *)
(* receiver takes the newest message instead, which no FIFO allows.       *)
EXTENDS Naturals, Sequences

CONSTANTS Size, Limit, Lifo

VARIABLES buf, head, count, sent, got

LOCAL INSTANCE RingMath WITH N <- Size

vars == <<buf, head, count, sent, got>>

s ++ x == Append(s, x)

Init == /\ buf = [i \in 0..Size - 1 |-> 0]
        /\ head = 0
        /\ count = 0
        /\ sent = 0
        /\ got = <<>>

Put == /\ count < Size
       /\ sent < Limit
       /\ buf' = [buf EXCEPT ![head (+) count] = sent + 1]
       /\ count' = count + 1
       /\ sent' = sent + 1
       /\ UNCHANGED <<head, got>>

Take == /\ count > 0
        /\ IF Lifo THEN /\ got' = got ++ buf[head (+) (count - 1)]
                        /\ UNCHANGED head
                   ELSE /\ got' = got ++ buf[head]
                        /\ head' = head^+
        /\ count' = count - 1
        /\ UNCHANGED <<buf, sent>>

Next == Put \/ Take

Spec == Init /\ [][Next]_vars

\* The messages in the buffer, oldest first.
Contents == LET RECURSIVE From(_)
                From(i) == IF i = count THEN <<>> ELSE <<buf[head (+) i]>> \o From(i + 1)
            IN From(0)

Chan(cap) == INSTANCE Fifo WITH Msgs <- 1..Limit, Cap <- cap, queue <- Contents

RefinesFifo == Chan(Size)!Spec

InOrder == \A i \in 1..Len(got) : got[i] = i
=============================================================================
