---- MODULE Hanoi ----
\* The towers of Hanoi (Lucas, 1883): N disks of sizes 1..N start on the
\* first of the pegs 1..P, smallest on top; a move takes the top disk of one
\* peg onto another peg whose top disk is larger. With three pegs every
\* placement of the disks that keeps each peg sorted is reachable (3^N
\* states). The puzzle is solved when all disks are on the last peg:
\* `NotSolved` is violated by the shortest solution (2^N - 1 moves with three
\* pegs, fewer with four: Reve's puzzle). A careless mover that may put a
\* disk on a smaller one breaks the order.
\*
\* Written to exercise LET function definitions (recursive, of several
\* arguments, reading bound variables and state, returned whole), operator
\* symbols defined in LET, and operators passed to a higher-order one.
EXTENDS Naturals, Sequences, FiniteSets
CONSTANTS N, P, Careless
VARIABLE towers

Disks == 1..N
Pegs == 1..P

\* Folds a sequence with a binary operator, from the right.
RECURSIVE Fold(_, _, _)
Fold(op(_, _), s, z) == IF s = <<>> THEN z ELSE op(Head(s), Fold(op, Tail(s), z))

\* 1 + 2 + ... + n, as a recursive function defined in LET.
Triangle(n) == LET t[i \in 0..n] == IF i = 0 THEN 0 ELSE i + t[i - 1] IN t[n]

\* The fewest moves that solve the puzzle with three pegs.
ASSUME LET m[k \in 0..N] == IF k = 0 THEN 0 ELSE 2 * m[k - 1] + 1 IN m[N] = 2^N - 1

Init == towers = [p \in Pegs |-> IF p = 1 THEN [i \in Disks |-> i] ELSE <<>>]

Move(from, to) ==
    LET top[p \in Pegs] == IF towers[p] = <<>> THEN N + 1 ELSE Head(towers[p])
        d ++ s == <<d>> \o s
    IN /\ towers[from] # <<>>
       /\ Careless \/ top[from] < top[to]
       /\ towers' = [towers EXCEPT ![from] = Tail(@), ![to] = top[from] ++ @]

Next == \E from, to \in Pegs : from # to /\ Move(from, to)

Spec == Init /\ [][Next]_towers

TypeOK == towers \in [Pegs -> Seq(Disks)]

\* Each peg is sorted, smallest on top: a recursive function over the
\* positions of the peg, reading the bound p through s.
Sorted ==
    \A p \in Pegs :
        LET s == towers[p]
            ok[i \in 1..Len(s)] == i = 1 \/ (ok[i - 1] /\ s[i - 1] < s[i])
        IN s = <<>> \/ ok[Len(s)]

\* No disk is lost or copied: the sizes on all pegs add up to 1 + ... + N,
\* folded with + and with an operator symbol defined in LET.
Conserved ==
    LET a (+) b == a + b
        all == Fold(\o, [p \in Pegs |-> towers[p]], <<>>)
    IN /\ Len(all) = N
       /\ Fold(+, all, 0) = Triangle(N)
       /\ Fold(\oplus, all, 0) = Triangle(N)

\* Every disk is on exactly one peg: where[d, p] counts disk d on peg p.
OnePlace ==
    LET where[d \in Disks, p \in Pegs] == Cardinality({i \in 1..Len(towers[p]) : towers[p][i] = d})
    IN \A d \in Disks : Fold(+, [p \in Pegs |-> where[d, p]], 0) = 1

\* The height of each peg, a LET function returned whole.
Heights == LET h[p \in Pegs] == Len(towers[p]) IN h
Stacked == Fold(+, Heights, 0) = N /\ DOMAIN Heights = Pegs

Solved == towers[P] = [i \in Disks |-> i]
NotSolved == ~Solved
====
