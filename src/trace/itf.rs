//! ITF values (Apalache's Informal Trace Format, ADR-015): the encoding
//! helpers models use to write states, decoding through the `itf` crate, and a
//! compact TLA+-style rendering for people.

use serde::de::DeserializeOwned;
use serde_json::{Map, Value as Json};

/// An integer, written as `{"#bigint": "n"}` as ADR-015 asks for all integers.
pub fn int(n: impl Into<i64>) -> Json {
    let mut o = Map::new();
    o.insert("#bigint".into(), Json::String(n.into().to_string()));
    Json::Object(o)
}

pub fn set(items: impl IntoIterator<Item = Json>) -> Json {
    let mut o = Map::new();
    o.insert("#set".into(), Json::Array(items.into_iter().collect()));
    Json::Object(o)
}

pub fn tuple(items: impl IntoIterator<Item = Json>) -> Json {
    let mut o = Map::new();
    o.insert("#tup".into(), Json::Array(items.into_iter().collect()));
    Json::Object(o)
}

/// Decodes an ITF value into a Rust type with the `itf` crate, so every trace
/// tracewright reads is one other ITF consumers read too.
pub fn from_value<T: DeserializeOwned>(value: &Json) -> Result<T, String> {
    itf::from_value(value.clone()).map_err(|e| e.to_string())
}

/// An ITF value in TLA+ notation, as TLC prints states: `[svc |-> "a", n |-> 1]`.
pub fn render(value: &Json) -> String {
    fn join(items: &[Json]) -> String {
        items.iter().map(render).collect::<Vec<_>>().join(", ")
    }
    match value {
        Json::Null => "null".to_string(),
        Json::Bool(true) => "TRUE".to_string(),
        Json::Bool(false) => "FALSE".to_string(),
        Json::Number(n) => n.to_string(),
        Json::String(s) => format!("{s:?}"),
        Json::Array(items) => format!("<<{}>>", join(items)),
        Json::Object(o) => {
            if let Some(Json::String(n)) = o.get("#bigint") {
                return n.clone();
            }
            if let Some(Json::Array(items)) = o.get("#set") {
                return format!("{{{}}}", join(items));
            }
            if let Some(Json::Array(items)) = o.get("#tup") {
                return format!("<<{}>>", join(items));
            }
            if let Some(Json::Array(pairs)) = o.get("#map") {
                let parts: Vec<String> = pairs
                    .iter()
                    .map(|p| match p.as_array().map(Vec::as_slice) {
                        Some([k, v]) => format!("{} :> {}", render(k), render(v)),
                        _ => render(p),
                    })
                    .collect();
                return format!("({})", parts.join(" @@ "));
            }
            let fields: Vec<String> =
                o.iter().map(|(k, v)| format!("{k} |-> {}", render(v))).collect();
            format!("[{}]", fields.join(", "))
        }
    }
}

/// The differences between two ITF values, as `(path, before, after)` with
/// `None` for a part that is absent on one side. Sequences are compared
/// element by element, records field by field.
pub fn diff(path: &str, before: Option<&Json>, after: Option<&Json>, out: &mut Vec<(String, Option<String>, Option<String>)>) {
    match (before, after) {
        (Some(a), Some(b)) if a == b => {}
        (Some(Json::Array(a)), Some(Json::Array(b))) => {
            for i in 0..a.len().max(b.len()) {
                diff(&format!("{path}[{}]", i + 1), a.get(i), b.get(i), out);
            }
        }
        (Some(Json::Object(a)), Some(Json::Object(b)))
            if !a.keys().any(|k| k.starts_with('#')) && !b.keys().any(|k| k.starts_with('#')) =>
        {
            let keys: std::collections::BTreeSet<&String> = a.keys().chain(b.keys()).collect();
            for k in keys {
                diff(&format!("{path}.{k}"), a.get(k), b.get(k), out);
            }
        }
        (a, b) => out.push((path.to_string(), a.map(render), b.map(render))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn renders_like_tlc() {
        let v = json!({"a": int(1), "s": set([json!("x")]), "t": tuple([json!(true)]), "q": [int(2)]});
        assert_eq!(render(&v), "[a |-> 1, q |-> <<2>>, s |-> {\"x\"}, t |-> <<TRUE>>]");
    }

    #[test]
    fn diff_walks_sequences_and_records() {
        let a = json!({"xs": [{"st": "open", "n": int(1)}]});
        let b = json!({"xs": [{"st": "done", "n": int(1)}, {"st": "open", "n": int(2)}]});
        let mut out = Vec::new();
        diff("", Some(&a), Some(&b), &mut out);
        assert_eq!(out.len(), 2);
        assert_eq!(out[0], (".xs[1].st".into(), Some("\"open\"".into()), Some("\"done\"".into())));
        assert_eq!(out[1].0, ".xs[2]");
        assert_eq!(out[1].1, None);
    }

    #[test]
    fn decodes_bigints_through_the_itf_crate() {
        #[derive(serde::Deserialize)]
        struct S {
            n: u32,
        }
        let s: S = from_value(&json!({"n": int(7)})).unwrap();
        assert_eq!(s.n, 7);
    }
}
