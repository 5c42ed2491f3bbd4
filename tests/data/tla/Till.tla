---- MODULE Till ----
\* A shop till and a customer's purse hold coins as bags (multisets of
\* denominations). The customer buys items at Price, paying with some coins
\* of the purse; the till gives the change out of what it holds plus what it
\* was just paid. Coins only move, so the two bags together never change,
\* and the till gains exactly Price per item sold. A till that may round the
\* change up gives money away.
EXTENDS Naturals, Bags, FiniteSets
CONSTANTS Price, RoundUp
VARIABLES till, purse, sold
vars == <<till, purse, sold>>

\* The value of a bag of coins: each denomination times its copies.
RECURSIVE SumOf(_, _)
SumOf(S, B) ==
    IF S = {} THEN 0
    ELSE LET c == CHOOSE c \in S : TRUE IN c * CopiesIn(c, B) + SumOf(S \ {c}, B)
Value(B) == SumOf(BagToSet(B), B)

StartTill == SetToBag({1, 2}) (+) SetToBag({1, 2})
StartPurse == SetToBag({1, 2, 5}) (+) SetToBag({5})
AllCoins == StartTill (+) StartPurse

Init == till = StartTill /\ purse = StartPurse /\ sold = 0

\* What the till may hand back for a payment worth `paid`.
Owed(paid) == IF RoundUp THEN {paid - Price, paid - Price + 1} ELSE {paid - Price}

Buy ==
    \E pay \in SubBag(purse) :
        /\ pay # EmptyBag
        /\ Value(pay) >= Price
        /\ \E change \in SubBag(till (+) pay) :
            /\ Value(change) \in Owed(Value(pay))
            /\ till' = (till (+) pay) (-) change
            /\ purse' = (purse (-) pay) (+) change
        /\ sold' = sold + 1

\* The customer swaps coins with the till for others of the same value.
Swap ==
    \E give \in SubBag(purse), take \in SubBag(till) :
        /\ give # EmptyBag /\ take # EmptyBag
        /\ BagToSet(give) \cap BagToSet(take) = {}
        /\ Value(give) = Value(take)
        /\ till' = (till (-) take) (+) give
        /\ purse' = (purse (-) give) (+) take
        /\ UNCHANGED sold

Next == Buy \/ Swap

Spec == Init /\ [][Next]_vars

TypeOK == IsABag(till) /\ IsABag(purse) /\ sold \in Nat
CoinsOnlyMove == till (+) purse = AllCoins
NoCoinFromNowhere == \A c \in BagToSet(till) : BagIn(c, AllCoins) /\ CopiesIn(c, till) <= CopiesIn(c, AllCoins)
TillEarns == Value(till) = Value(StartTill) + Price * sold
CoinCount == BagCardinality(till) + BagCardinality(purse) = BagCardinality(AllCoins)
PurseSmaller == till \sqsubseteq AllCoins /\ purse \sqsubseteq AllCoins
====
