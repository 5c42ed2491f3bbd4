//! Constant-level TLA+ values: what a `.cfg` assigns and what a `<-`
//! substitution's definition evaluates to.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Value {
    Bool(bool),
    Int(i64),
    Str(String),
    /// A TLC model value: a bare identifier in a `.cfg`.
    ModelValue(String),
    Set(BTreeSet<Value>),
    Tuple(Vec<Value>),
    Record(BTreeMap<String, Value>),
}

impl Value {
    /// A short name for the kind of value, for "expected …, found …" messages.
    pub fn kind(&self) -> &'static str {
        match self {
            Value::Bool(_) => "a boolean",
            Value::Int(_) => "an integer",
            Value::Str(_) => "a string",
            Value::ModelValue(_) => "a model value",
            Value::Set(_) => "a set",
            Value::Tuple(_) => "a tuple",
            Value::Record(_) => "a record",
        }
    }

    /// The value as ITF JSON (Apalache's Informal Trace Format).
    pub fn to_itf(&self) -> serde_json::Value {
        use crate::trace::itf;
        match self {
            Value::Bool(b) => serde_json::Value::Bool(*b),
            Value::Int(n) => itf::int(*n),
            Value::Str(s) => serde_json::Value::String(s.clone()),
            Value::ModelValue(s) => serde_json::Value::String(s.clone()),
            Value::Set(items) => itf::set(items.iter().map(Value::to_itf)),
            Value::Tuple(items) => itf::tuple(items.iter().map(Value::to_itf)),
            Value::Record(fields) => serde_json::Value::Object(
                fields.iter().map(|(k, v)| (k.clone(), v.to_itf())).collect(),
            ),
        }
    }
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fn list(f: &mut fmt::Formatter<'_>, items: impl Iterator<Item = String>) -> fmt::Result {
            write!(f, "{}", items.collect::<Vec<_>>().join(", "))
        }
        match self {
            Value::Bool(true) => write!(f, "TRUE"),
            Value::Bool(false) => write!(f, "FALSE"),
            Value::Int(n) => write!(f, "{n}"),
            Value::Str(s) => write!(f, "{s:?}"),
            Value::ModelValue(s) => write!(f, "{s}"),
            Value::Set(items) => {
                write!(f, "{{")?;
                list(f, items.iter().map(ToString::to_string))?;
                write!(f, "}}")
            }
            Value::Tuple(items) => {
                write!(f, "<<")?;
                list(f, items.iter().map(ToString::to_string))?;
                write!(f, ">>")
            }
            Value::Record(fields) => {
                write!(f, "[")?;
                list(f, fields.iter().map(|(k, v)| format!("{k} |-> {v}")))?;
                write!(f, "]")
            }
        }
    }
}
