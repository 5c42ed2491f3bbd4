---- MODULE Ring ----
\* Leader election on a unidirectional ring (Chang and Roberts): every node
\* sends its id to its successor; a node forwards ids larger than its own,
\* swallows smaller ones, and is elected when its own id comes back. Links
\* are FIFO queues. Under weak fairness of each node's steps the largest id
\* is eventually elected, and only it. A lossy ring may drop the message
\* that would have elected it.
EXTENDS Naturals, Sequences, FiniteSets
CONSTANTS Lossy
VARIABLES inbox, state, sent
vars == <<inbox, state, sent>>

\* Node i has id Id[i]: the largest is neither first nor last.
Id == <<2, 4, 1, 3>>
N == Len(Id)
Nodes == 1..N
Succ(i) == (i % N) + 1
MaxId == CHOOSE m \in {Id[i] : i \in Nodes} : \A i \in Nodes : Id[i] <= m

Init ==
    /\ inbox = [i \in Nodes |-> <<>>]
    /\ state = [i \in Nodes |-> "candidate"]
    /\ sent = {}

\* A node puts its own id on the ring, once.
Start(i) ==
    /\ i \notin sent
    /\ sent' = sent \cup {i}
    /\ inbox' = [inbox EXCEPT ![Succ(i)] = Append(@, Id[i])]
    /\ UNCHANGED state

\* A node handles the first id in its inbox.
Receive(i) ==
    /\ inbox[i] # <<>>
    /\ LET m == Head(inbox[i])
           rest == [inbox EXCEPT ![i] = Tail(@)]
       IN CASE m = Id[i] ->
                 /\ state' = [state EXCEPT ![i] = "leader"]
                 /\ inbox' = rest
            [] m > Id[i] ->
                 /\ state' = [state EXCEPT ![i] = "lost"]
                 /\ inbox' = [rest EXCEPT ![Succ(i)] = Append(@, m)]
            [] OTHER ->
                 /\ inbox' = rest
                 /\ UNCHANGED state
    /\ UNCHANGED sent

\* A lossy link drops the first message of an inbox.
Drop(i) ==
    /\ Lossy
    /\ inbox[i] # <<>>
    /\ inbox' = [inbox EXCEPT ![i] = Tail(@)]
    /\ UNCHANGED <<state, sent>>

Next == \E i \in Nodes : Start(i) \/ Receive(i) \/ Drop(i)

Spec == Init /\ [][Next]_vars /\ \A i \in Nodes : WF_vars(Start(i)) /\ WF_vars(Receive(i))

Leaders == {i \in Nodes : state[i] = "leader"}
AtMostOneLeader == Cardinality(Leaders) <= 1
LeaderIsMax == \A i \in Leaders : Id[i] = MaxId
Elected == <>(\E i \in Nodes : state[i] = "leader")
StaysElected == <>[](Leaders # {})
StartedElects == \A i \in Nodes : (i \in sent) ~> (state[i] # "candidate")
Quiet == <>[](\A i \in Nodes : inbox[i] = <<>>)
====
