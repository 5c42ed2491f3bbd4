//! Entry points for the fuzz targets under `fuzz/`: each takes arbitrary
//! bytes and drives one input path of the tool end to end. Hostile bytes may
//! be refused with an error, never with a panic. The targets are one-line
//! calls into these functions, and `tests/` replays every committed fuzz
//! regression through the same functions, so no fuzz body is ever copied.

use std::path::Path;

use crate::spec::cfg::Cfg;
use crate::spec::tla::Module;
use crate::trace::TraceDoc;

/// A `.cfg` file: parsed, and its expectations validated.
pub fn cfg(data: &[u8]) {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = Cfg::parse(Path::new("fuzz.cfg"), text);
    }
}

/// A `.tla` module: parsed, then every zero-argument definition evaluated as
/// a constant, as a `<-` substitution would.
pub fn tla(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let Ok(module) = Module::parse(Path::new("Fuzz.tla"), text.to_string()) else { return };
    for (name, def) in &module.definitions {
        if def.arity == 0 {
            let _ = module.evaluate(name);
        }
    }
}

/// A trace file: parsed, its model rebuilt from the recorded constants, then
/// replayed and rendered as text and Mermaid.
pub fn trace(data: &[u8]) {
    let path = Path::new("fuzz.itf.json");
    let Ok(text) = std::str::from_utf8(data) else { return };
    let Ok(doc) = TraceDoc::parse(path, text) else { return };
    let Some(model) = crate::models::find(&doc.spec) else { return };
    let _ = model.replay(&doc, path);
    let _ = model.show(&doc, path, false);
    let _ = model.show(&doc, path, true);
}
