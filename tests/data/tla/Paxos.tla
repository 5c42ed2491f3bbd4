---- MODULE Paxos ----
\* Single-decree Paxos over a network that keeps every message (a set of
\* records): proposers run ballots, acceptors promise and accept, and a value
\* is chosen once a quorum accepted it in one ballot. Quorums are the subsets
\* of acceptors of at least QuorumSize members; with majorities any two
\* intersect and at most one value is ever chosen, with smaller quorums two
\* ballots can choose different values.
EXTENDS Integers, FiniteSets, TLC
CONSTANTS Acceptors, Values, Ballots, QuorumSize, None
VARIABLES promised, accepted, msgs
vars == <<promised, accepted, msgs>>

Quorums == {Q \in SUBSET Acceptors : Cardinality(Q) >= QuorumSize}
NoBallot == -1

Send(m) == msgs' = msgs \cup {m}

Init ==
    /\ promised = [a \in Acceptors |-> NoBallot]
    /\ accepted = [a \in Acceptors |-> [bal |-> NoBallot, val |-> None]]
    /\ msgs = {}

\* Phase 1a: a proposer opens ballot b.
Prepare(b) ==
    /\ ~\E m \in msgs : m.type = "1a" /\ m.bal = b
    /\ Send([type |-> "1a", bal |-> b])
    /\ UNCHANGED <<promised, accepted>>

\* Phase 1b: an acceptor promises ballot b and reports what it accepted last.
Promise(a) ==
    \E m \in msgs :
        /\ m.type = "1a"
        /\ m.bal > promised[a]
        /\ promised' = [promised EXCEPT ![a] = m.bal]
        /\ Send([type |-> "1b", bal |-> m.bal, from |-> a, last |-> accepted[a]])
        /\ UNCHANGED accepted

\* The value a ballot may propose given the promises of quorum Q: the value
\* of the highest ballot any of them accepted, or any value if none did.
Safe(b, Q, v) ==
    LET got == {m \in msgs : m.type = "1b" /\ m.bal = b /\ m.from \in Q}
        voted == {m \in got : m.last.bal # NoBallot}
        top == IF voted = {} THEN NoBallot
               ELSE CHOOSE x \in {m.last.bal : m \in voted} : \A m \in voted : m.last.bal <= x
    IN /\ \A a \in Q : \E m \in got : m.from = a
       /\ \/ voted = {}
          \/ \E m \in voted : m.last.bal = top /\ m.last.val = v

\* Phase 2a: with the promises of a quorum, ballot b proposes a safe value.
Propose(b) ==
    /\ ~\E m \in msgs : m.type = "2a" /\ m.bal = b
    /\ \E v \in Values, Q \in Quorums :
        /\ Safe(b, Q, v)
        /\ Send([type |-> "2a", bal |-> b, val |-> v])
    /\ UNCHANGED <<promised, accepted>>

\* Phase 2b: an acceptor accepts a proposal of a ballot it has not promised away.
Accept(a) ==
    \E m \in msgs :
        /\ m.type = "2a"
        /\ m.bal >= promised[a]
        /\ accepted[a].bal # m.bal
        /\ promised' = [promised EXCEPT ![a] = m.bal]
        /\ accepted' = [accepted EXCEPT ![a] = [bal |-> m.bal, val |-> m.val]]
        /\ Send([type |-> "2b", bal |-> m.bal, val |-> m.val, from |-> a])

Next == \/ \E b \in Ballots : Prepare(b) \/ Propose(b)
        \/ \E a \in Acceptors : Promise(a) \/ Accept(a)

Spec == Init /\ [][Next]_vars

ChosenIn(b, v) == \E Q \in Quorums : \A a \in Q : [type |-> "2b", bal |-> b, val |-> v, from |-> a] \in msgs
Chosen == {v \in Values : \E b \in Ballots : ChosenIn(b, v)}

TypeOK ==
    /\ promised \in [Acceptors -> Ballots \cup {NoBallot}]
    /\ \A a \in Acceptors : accepted[a].bal \in Ballots \cup {NoBallot} /\ accepted[a].val \in Values \cup {None}
    /\ \A m \in msgs : m.type \in {"1a", "1b", "2a", "2b"}
Agreement == Cardinality(Chosen) <= 1
\* An acceptor never accepts below what it promised.
PromiseKept == \A a \in Acceptors : accepted[a].bal <= promised[a]
Symm == Permutations(Acceptors) \cup Permutations(Values)
====
