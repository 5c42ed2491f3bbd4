//! TLA+ values in a canonical form: two values TLA+ calls equal have the same
//! representation, so the derived `Eq`, `Ord` and `Hash` are TLA+ equality,
//! a total order for sets, and a hash for fingerprints.
//!
//! - A set is a sorted vector without duplicates.
//! - A function is a sorted vector of (argument, result). A function whose
//!   domain is `1..n` is always a [`Value::Seq`] (tuples and sequences are
//!   such functions); a non-empty function whose domain is a set of strings is
//!   always a [`Value::Rec`]; the empty function is the empty sequence.
//! - Sets TLC keeps symbolic (`Nat`, `SUBSET S`, `[S -> T]`, `Seq(S)`, …) are
//!   [`Value::Lazy`]: membership is decided without enumerating; enumerating
//!   one that is infinite is an error. A lazy value never enters a state.

use std::cmp::Ordering;
use std::collections::HashSet;
use std::fmt;
use std::sync::{Arc, Mutex};

/// An interned string (a string value, a model value, a record field name):
/// every string with the same text is one allocation for the rest of the
/// process, so a copy is a pointer copy with no reference count that threads
/// would share, and equality is pointer equality. It orders by its text and
/// hashes by a hash of its text computed once, when it is interned, so sets
/// and fingerprints do not depend on the order strings were first seen
/// (which differs between runs with more than one thread), and hashing a
/// record does not read its field names again.
///
/// The texts are never freed: a run holds the strings of its spec, its
/// config and those its expressions build (`\o`, ToString), a bounded set.
#[derive(Clone, Copy)]
pub struct Str(&'static Interned);

pub struct Interned {
    hash: u64,
    text: Box<str>,
}

impl std::borrow::Borrow<str> for &'static Interned {
    fn borrow(&self) -> &str {
        &self.text
    }
}
impl PartialEq for Interned {
    fn eq(&self, other: &Interned) -> bool {
        self.text == other.text
    }
}
impl Eq for Interned {}
impl std::hash::Hash for Interned {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.text.hash(state)
    }
}

static POOL: Mutex<Option<HashSet<&'static Interned>>> = Mutex::new(None);

thread_local! {
    /// Strings this thread already interned: most lookups take no lock.
    static SEEN: std::cell::RefCell<HashSet<&'static Interned, foldhash::fast::FixedState>> =
        std::cell::RefCell::new(HashSet::with_hasher(foldhash::fast::FixedState::default()));
}

impl Str {
    pub fn new(s: &str) -> Str {
        if let Some(found) = SEEN.with(|seen| seen.borrow().get(s).copied()) {
            return Str(found);
        }
        let interned = {
            let mut pool = POOL.lock().unwrap_or_else(|p| p.into_inner());
            let pool = pool.get_or_insert_with(HashSet::new);
            match pool.get(s) {
                Some(found) => *found,
                None => {
                    use std::hash::{BuildHasher, Hash, Hasher};
                    // A fixed seed: the same text hashes the same in every run.
                    let mut h = foldhash::quality::FixedState::with_seed(0x5bd1_e995_9e37_79b9).build_hasher();
                    s.hash(&mut h);
                    let leaked: &'static Interned = Box::leak(Box::new(Interned { hash: h.finish(), text: s.into() }));
                    pool.insert(leaked);
                    leaked
                }
            }
        };
        SEEN.with(|seen| seen.borrow_mut().insert(interned));
        Str(interned)
    }

    pub fn as_str(&self) -> &'static str {
        &self.0.text
    }
}

impl From<&str> for Str {
    fn from(s: &str) -> Str {
        Str::new(s)
    }
}

impl std::ops::Deref for Str {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0.text
    }
}

impl PartialEq for Str {
    fn eq(&self, other: &Str) -> bool {
        std::ptr::eq(self.0, other.0)
    }
}
impl Eq for Str {}

impl PartialOrd for Str {
    fn partial_cmp(&self, other: &Str) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Str {
    fn cmp(&self, other: &Str) -> Ordering {
        if self == other { Ordering::Equal } else { self.0.text.cmp(&other.0.text) }
    }
}

impl std::hash::Hash for Str {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        state.write_u64(self.0.hash)
    }
}

impl fmt::Display for Str {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0.text)
    }
}

impl fmt::Debug for Str {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&*self.0.text, f)
    }
}

#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Value {
    Bool(bool),
    Int(i64),
    Str(Str),
    /// A TLC model value: equal only to itself.
    Model(Str),
    Set(Arc<Vec<Value>>),
    Seq(Arc<Vec<Value>>),
    /// Fields sorted by name.
    Rec(Arc<Vec<(Str, Value)>>),
    /// Any other function, sorted by argument.
    Fun(Arc<Vec<(Value, Value)>>),
    Lazy(Arc<Lazy>),
    /// An operator passed as an argument (LAMBDA, or a named operator).
    Op(Arc<super::eval::Closure>),
}

/// Sets kept symbolic.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub enum Lazy {
    Nat,
    Int,
    Bool,
    Str,
    /// `SUBSET S`
    Subset(Value),
    /// `[S -> T]`
    Funs(Value, Value),
    /// `Seq(S)`
    Seqs(Value),
    /// `S \ T` with S lazy
    Diff(Value, Value),
    /// `a..b` too large to list eagerly
    Range(i64, i64),
}

/// How far an interval may be listed eagerly.
pub const EAGER_RANGE: i64 = 1 << 16;

impl Value {
    pub fn str(s: &str) -> Value {
        Value::Str(Str::new(s))
    }

    pub fn empty_set() -> Value {
        Value::Set(Arc::new(Vec::new()))
    }

    pub fn empty_seq() -> Value {
        Value::Seq(Arc::new(Vec::new()))
    }

    /// A set from any elements: sorts and removes duplicates.
    pub fn set_of(mut items: Vec<Value>) -> Value {
        items.sort_unstable();
        items.dedup();
        Value::Set(Arc::new(items))
    }

    pub fn range(lo: i64, hi: i64) -> Value {
        if hi < lo {
            return Value::empty_set();
        }
        if hi.saturating_sub(lo) > EAGER_RANGE {
            return Value::Lazy(Arc::new(Lazy::Range(lo, hi)));
        }
        Value::Set(Arc::new((lo..=hi).map(Value::Int).collect()))
    }

    /// A function from (argument, result) pairs with distinct arguments, put
    /// into canonical form.
    pub fn fun_of(mut pairs: Vec<(Value, Value)>) -> Value {
        pairs.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        Value::canonical_fun(pairs)
    }

    /// Canonical form of a function whose pairs are sorted by argument.
    pub fn canonical_fun(pairs: Vec<(Value, Value)>) -> Value {
        if pairs.is_empty() {
            return Value::empty_seq();
        }
        if pairs.iter().enumerate().all(|(i, (k, _))| *k == Value::Int(i as i64 + 1)) {
            return Value::Seq(Arc::new(pairs.into_iter().map(|(_, v)| v).collect()));
        }
        if pairs.iter().all(|(k, _)| matches!(k, Value::Str(_))) {
            return Value::Rec(Arc::new(
                pairs
                    .into_iter()
                    .map(|(k, v)| match k {
                        Value::Str(s) => (s, v),
                        _ => unreachable!("checked above"),
                    })
                    .collect(),
            ));
        }
        Value::Fun(Arc::new(pairs))
    }

    pub fn record(mut fields: Vec<(Str, Value)>) -> Value {
        fields.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        fields.dedup_by(|a, b| a.0 == b.0);
        if fields.is_empty() {
            return Value::empty_seq();
        }
        Value::Rec(Arc::new(fields))
    }

    pub fn is_function(&self) -> bool {
        matches!(self, Value::Seq(_) | Value::Rec(_) | Value::Fun(_))
    }

    /// A short name for the kind of value, for error messages.
    pub fn kind(&self) -> &'static str {
        match self {
            Value::Bool(_) => "a boolean",
            Value::Int(_) => "an integer",
            Value::Str(_) => "a string",
            Value::Model(_) => "a model value",
            Value::Set(_) | Value::Lazy(_) => "a set",
            Value::Seq(_) => "a sequence",
            Value::Rec(_) => "a record",
            Value::Fun(_) => "a function",
            Value::Op(_) => "an operator",
        }
    }

    /// The kind as TLC compares values: values of different comparison
    /// classes cannot be compared for equality (model values excepted).
    fn class(&self) -> u8 {
        match self {
            Value::Bool(_) => 0,
            Value::Int(_) => 1,
            Value::Str(_) => 2,
            Value::Model(_) => 3,
            Value::Set(_) | Value::Lazy(_) => 4,
            Value::Seq(_) | Value::Rec(_) | Value::Fun(_) => 5,
            Value::Op(_) => 6,
        }
    }

    /// Whether `=` between these two values is defined, as TLC decides it: a
    /// model value may be compared with anything; other values only with
    /// values of their own kind.
    pub fn comparable(&self, other: &Value) -> bool {
        let (a, b) = (self.class(), other.class());
        a == b || a == 3 || b == 3
    }

    /// The (argument, result) pairs of a function value, in order.
    pub fn fun_pairs(&self) -> Option<Vec<(Value, Value)>> {
        match self {
            Value::Seq(items) => {
                Some(items.iter().enumerate().map(|(i, v)| (Value::Int(i as i64 + 1), v.clone())).collect())
            }
            Value::Rec(fields) => Some(fields.iter().map(|(k, v)| (Value::Str(*k), v.clone())).collect()),
            Value::Fun(pairs) => Some(pairs.as_ref().clone()),
            _ => None,
        }
    }

    /// DOMAIN of a function value.
    pub fn domain(&self) -> Option<Value> {
        match self {
            Value::Seq(items) => Some(Value::range(1, items.len() as i64)),
            Value::Rec(fields) => Some(Value::Set(Arc::new(fields.iter().map(|(k, _)| Value::Str(*k)).collect()))),
            Value::Fun(pairs) => Some(Value::Set(Arc::new(pairs.iter().map(|(k, _)| k.clone()).collect()))),
            _ => None,
        }
    }

    /// Applies a function value to an argument; `None` outside its domain.
    pub fn apply(&self, arg: &Value) -> Option<&Value> {
        match (self, arg) {
            (Value::Seq(items), Value::Int(i)) => {
                if *i >= 1 { items.get((*i - 1) as usize) } else { None }
            }
            (Value::Rec(fields), Value::Str(k)) => fields.iter().find(|(f, _)| f == k).map(|(_, v)| v),
            (Value::Fun(pairs), _) => pairs.binary_search_by(|(k, _)| k.cmp(arg)).ok().map(|i| &pairs[i].1),
            _ => None,
        }
    }

    /// A record field.
    pub fn field(&self, name: Str) -> Option<&Value> {
        match self {
            Value::Rec(fields) => fields.iter().find(|(f, _)| *f == name).map(|(_, v)| v),
            Value::Fun(pairs) => pairs.iter().find(|(k, _)| matches!(k, Value::Str(s) if *s == name)).map(|(_, v)| v),
            _ => None,
        }
    }

    /// The elements of a finite set value; `None` if this is no set, or a set
    /// that cannot be listed (the error says which).
    pub fn elements(&self) -> Result<Arc<Vec<Value>>, String> {
        match self {
            Value::Set(items) => Ok(items.clone()),
            Value::Lazy(lazy) => lazy.elements().map(Arc::new),
            other => Err(format!("{} is {}, not a set", other, other.kind())),
        }
    }

    /// Membership, deciding lazy sets symbolically.
    pub fn contains(&self, x: &Value) -> Result<bool, String> {
        match self {
            Value::Set(items) => Ok(items.binary_search(x).is_ok()),
            Value::Lazy(lazy) => lazy.contains(x),
            other => Err(format!("\\in needs a set, found {} ({})", other, other.kind())),
        }
    }

    /// Replaces lazy sets by their elements, for a value about to be stored.
    pub fn normalized(self) -> Result<Value, String> {
        match self {
            Value::Lazy(lazy) => Ok(Value::set_of(lazy.elements()?)),
            Value::Op(_) => Err("an operator is not a value a state can hold".to_string()),
            other => Ok(other),
        }
    }
}

impl Lazy {
    pub fn elements(&self) -> Result<Vec<Value>, String> {
        match self {
            Lazy::Nat => Err("Nat is infinite: it cannot be enumerated".into()),
            Lazy::Int => Err("Int is infinite: it cannot be enumerated".into()),
            Lazy::Str => Err("STRING is infinite: it cannot be enumerated".into()),
            Lazy::Seqs(_) => Err("Seq(S) is infinite: it cannot be enumerated".into()),
            Lazy::Bool => Ok(vec![Value::Bool(false), Value::Bool(true)]),
            Lazy::Range(lo, hi) => {
                if hi - lo > 1 << 26 {
                    return Err(format!("{lo}..{hi} is too large to enumerate"));
                }
                Ok((*lo..=*hi).map(Value::Int).collect())
            }
            Lazy::Subset(base) => {
                let items = base.elements()?;
                if items.len() > 24 {
                    return Err(format!("SUBSET of a set of {} elements is too large to enumerate", items.len()));
                }
                let n = items.len();
                let mut out = Vec::with_capacity(1 << n);
                for mask in 0u64..(1u64 << n) {
                    let subset: Vec<Value> =
                        (0..n).filter(|i| mask & (1 << i) != 0).map(|i| items[i].clone()).collect();
                    out.push(Value::Set(Arc::new(subset)));
                }
                out.sort_unstable();
                Ok(out)
            }
            Lazy::Funs(dom, cod) => {
                let dom = dom.elements()?;
                let cod = cod.elements()?;
                let count = (cod.len() as f64).powi(dom.len() as i32);
                if count > 1e7 {
                    return Err(format!("[S -> T] with {} functions is too large to enumerate", count));
                }
                let mut out = vec![Vec::new()];
                for d in dom.iter() {
                    let mut grown = Vec::with_capacity(out.len() * cod.len());
                    for partial in &out {
                        for c in cod.iter() {
                            let mut f: Vec<(Value, Value)> = Vec::clone(partial);
                            f.push((d.clone(), c.clone()));
                            grown.push(f);
                        }
                    }
                    out = grown;
                }
                let mut funs: Vec<Value> = out.into_iter().map(Value::canonical_fun).collect();
                funs.sort_unstable();
                Ok(funs)
            }
            Lazy::Diff(a, b) => {
                let items = a.elements()?;
                let mut out = Vec::new();
                for x in items.iter() {
                    if !b.contains(x)? {
                        out.push(x.clone());
                    }
                }
                Ok(out)
            }
        }
    }

    pub fn contains(&self, x: &Value) -> Result<bool, String> {
        Ok(match self {
            Lazy::Nat => matches!(x, Value::Int(n) if *n >= 0),
            Lazy::Int => matches!(x, Value::Int(_)),
            Lazy::Bool => matches!(x, Value::Bool(_)),
            Lazy::Str => matches!(x, Value::Str(_)),
            Lazy::Range(lo, hi) => matches!(x, Value::Int(n) if lo <= n && n <= hi),
            Lazy::Subset(base) => match x {
                Value::Set(items) => {
                    for i in items.iter() {
                        if !base.contains(i)? {
                            return Ok(false);
                        }
                    }
                    true
                }
                Value::Lazy(_) => {
                    let items = x.elements()?;
                    for i in items.iter() {
                        if !base.contains(i)? {
                            return Ok(false);
                        }
                    }
                    true
                }
                _ => false,
            },
            Lazy::Funs(dom, cod) => {
                let Some(pairs) = x.fun_pairs() else { return Ok(false) };
                let dom = dom.elements()?;
                if pairs.len() != dom.len() {
                    return Ok(false);
                }
                for ((k, v), d) in pairs.iter().zip(dom.iter()) {
                    if k != d || !cod.contains(v)? {
                        return Ok(false);
                    }
                }
                true
            }
            Lazy::Seqs(elem) => match x {
                Value::Seq(items) => {
                    for i in items.iter() {
                        if !elem.contains(i)? {
                            return Ok(false);
                        }
                    }
                    true
                }
                _ => false,
            },
            Lazy::Diff(a, b) => a.contains(x)? && !b.contains(x)?,
        })
    }
}

fn write_str(f: &mut fmt::Formatter<'_>, s: &str) -> fmt::Result {
    write!(f, "\"")?;
    for c in s.chars() {
        match c {
            '"' => write!(f, "\\\"")?,
            '\\' => write!(f, "\\\\")?,
            '\n' => write!(f, "\\n")?,
            c => write!(f, "{c}")?,
        }
    }
    write!(f, "\"")
}

/// TLA+ syntax, as TLC prints values.
impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fn list<T>(f: &mut fmt::Formatter<'_>, items: &[T], mut one: impl FnMut(&mut fmt::Formatter<'_>, &T) -> fmt::Result) -> fmt::Result {
            for (i, x) in items.iter().enumerate() {
                if i > 0 {
                    write!(f, ", ")?;
                }
                one(f, x)?;
            }
            Ok(())
        }
        match self {
            Value::Bool(b) => write!(f, "{}", if *b { "TRUE" } else { "FALSE" }),
            Value::Int(n) => write!(f, "{n}"),
            Value::Str(s) => write_str(f, s),
            Value::Model(s) => write!(f, "{s}"),
            Value::Set(items) => {
                write!(f, "{{")?;
                list(f, items, |f, x| write!(f, "{x}"))?;
                write!(f, "}}")
            }
            Value::Seq(items) => {
                write!(f, "<<")?;
                list(f, items, |f, x| write!(f, "{x}"))?;
                write!(f, ">>")
            }
            Value::Rec(fields) => {
                write!(f, "[")?;
                list(f, fields, |f, (k, v)| write!(f, "{k} |-> {v}"))?;
                write!(f, "]")
            }
            Value::Fun(pairs) => {
                write!(f, "(")?;
                list(f, pairs, |f, (k, v)| write!(f, "{k} :> {v}"))?;
                write!(f, ")")
            }
            Value::Lazy(l) => match &**l {
                Lazy::Nat => write!(f, "Nat"),
                Lazy::Int => write!(f, "Int"),
                Lazy::Bool => write!(f, "BOOLEAN"),
                Lazy::Str => write!(f, "STRING"),
                Lazy::Range(a, b) => write!(f, "{a}..{b}"),
                Lazy::Subset(s) => write!(f, "SUBSET {s}"),
                Lazy::Funs(a, b) => write!(f, "[{a} -> {b}]"),
                Lazy::Seqs(s) => write!(f, "Seq({s})"),
                Lazy::Diff(a, b) => write!(f, "({a} \\ {b})"),
            },
            Value::Op(c) => write!(f, "<operator {}>", c.name),
        }
    }
}

impl fmt::Debug for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// TLC's order of integers, for `<` and friends.
pub fn cmp_ints(a: i64, b: i64) -> Ordering {
    a.cmp(&b)
}

impl Value {
    /// The value as ITF JSON.
    pub fn to_itf(&self) -> serde_json::Value {
        use serde_json::{json, Map, Value as J};
        match self {
            Value::Bool(b) => J::Bool(*b),
            Value::Int(n) => crate::trace::itf::int(*n),
            Value::Str(s) => J::String(s.to_string()),
            Value::Model(s) => json!({ "#unserializable": s.to_string() }),
            Value::Set(items) => json!({ "#set": items.iter().map(Value::to_itf).collect::<Vec<_>>() }),
            Value::Seq(items) => J::Array(items.iter().map(Value::to_itf).collect()),
            Value::Rec(fields) => {
                let mut m = Map::new();
                for (k, v) in fields.iter() {
                    m.insert(k.to_string(), v.to_itf());
                }
                J::Object(m)
            }
            Value::Fun(pairs) => json!({ "#map": pairs.iter().map(|(k, v)| json!([k.to_itf(), v.to_itf()])).collect::<Vec<_>>() }),
            Value::Lazy(_) | Value::Op(_) => J::String(self.to_string()),
        }
    }

    /// A value from ITF JSON (the inverse of [`Value::to_itf`]).
    pub fn from_itf(json: &serde_json::Value) -> Result<Value, String> {
        use serde_json::Value as J;
        Ok(match json {
            J::Bool(b) => Value::Bool(*b),
            J::Number(n) => Value::Int(n.as_i64().ok_or_else(|| format!("number {n} out of range"))?),
            J::String(s) => Value::str(s),
            J::Array(items) => Value::Seq(Arc::new(items.iter().map(Value::from_itf).collect::<Result<_, _>>()?)),
            J::Object(o) => {
                if let Some(J::String(n)) = o.get("#bigint") {
                    return n.parse().map(Value::Int).map_err(|_| format!("bigint {n:?} out of range"));
                }
                if let Some(J::Array(items)) = o.get("#set") {
                    return Ok(Value::set_of(items.iter().map(Value::from_itf).collect::<Result<_, _>>()?));
                }
                if let Some(J::Array(items)) = o.get("#tup") {
                    return Ok(Value::Seq(Arc::new(items.iter().map(Value::from_itf).collect::<Result<_, _>>()?)));
                }
                if let Some(J::String(s)) = o.get("#unserializable") {
                    return Ok(Value::Model(Str::new(s)));
                }
                if let Some(J::Array(pairs)) = o.get("#map") {
                    let mut out = Vec::new();
                    for p in pairs {
                        match p {
                            J::Array(kv) if kv.len() == 2 => out.push((Value::from_itf(&kv[0])?, Value::from_itf(&kv[1])?)),
                            _ => return Err("a #map entry is not a [key, value] pair".into()),
                        }
                    }
                    return Ok(Value::fun_of(out));
                }
                Value::record(o.iter().map(|(k, v)| Ok((Str::new(k), Value::from_itf(v)?))).collect::<Result<_, String>>()?)
            }
            J::Null => return Err("null is not a TLA+ value".into()),
        })
    }
}
