------------------------------ MODULE RingMath ------------------------------
(* Arithmetic on the slots of a ring of N slots.                           *)
EXTENDS Naturals

CONSTANT N

a (+) b == (a + b) % N

i^+ == i (+) 1
=============================================================================
