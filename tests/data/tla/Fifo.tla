-------------------------------- MODULE Fifo --------------------------------
(* A FIFO channel of capacity Cap: senders append, the receiver takes the  *)
(* oldest message and records it in got.                                   *)
EXTENDS Naturals, Sequences

CONSTANTS Msgs, Cap

VARIABLES queue, got

Init == queue = <<>> /\ got = <<>>

Send(m) == /\ Len(queue) < Cap
           /\ queue' = Append(queue, m)
           /\ UNCHANGED got

Recv == /\ queue # <<>>
        /\ got' = Append(got, Head(queue))
        /\ queue' = Tail(queue)

Next == (\E m \in Msgs : Send(m)) \/ Recv

Spec == Init /\ [][Next]_<<queue, got>>
=============================================================================
