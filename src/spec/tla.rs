//! The parts of a `.tla` module tracewright reads, through `tree-sitter-tlaplus`.
//!
//! tracewright does not interpret TLA+ behaviour: the Rust model implements
//! it. It reads what ties the two together — the module name, the declared
//! CONSTANTS and VARIABLES, the names of the top-level definitions (so a
//! `.cfg` cannot name an invariant the spec lacks) — and evaluates the
//! constant-level definitions a `.cfg` substitutes with `Name <- Definition`:
//! tuples, sets, records, strings, numbers and booleans.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use tree_sitter::{Node, Parser, Tree};

use crate::error::{Diagnostic, Error, Location, Result};
use crate::input;
use crate::spec::value::Value;

/// A top-level definition `Name(params) == body`.
#[derive(Clone, Debug)]
pub struct Definition {
    pub name: String,
    pub arity: usize,
    pub line: usize,
    body: std::ops::Range<usize>,
}

/// A parsed TLA+ module.
pub struct Module {
    pub path: PathBuf,
    pub name: String,
    pub constants: Vec<(String, usize)>,
    pub variables: Vec<String>,
    pub definitions: BTreeMap<String, Definition>,
    source: String,
    tree: Tree,
}

impl std::fmt::Debug for Module {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Module").field("path", &self.path).field("name", &self.name).finish()
    }
}

fn line_of(node: Node<'_>) -> usize {
    node.start_position().row + 1
}

/// Parses TLA+ source with tree-sitter-tlaplus; `None` only if the grammar
/// cannot be loaded, which is a build fault.
pub fn syntax_tree(source: &str) -> Tree {
    let mut parser = Parser::new();
    parser
        .set_language(&tree_sitter_tlaplus::LANGUAGE.into())
        .expect("the tree-sitter-tlaplus grammar matches the tree-sitter runtime");
    parser.parse(source, None).expect("tree-sitter parses without a timeout or cancellation")
}

/// The first ERROR or MISSING node of a tree, as (line, text of that line).
/// tree-sitter may wrap a whole module in an ERROR; the innermost, earliest
/// error inside it is where the mistake is.
pub fn first_error(tree: &Tree, source: &str) -> Option<(usize, String)> {
    let root = tree.root_node();
    if !root.has_error() {
        return None;
    }
    // A loop, not recursion: the tree is as deep as the source nests.
    let mut node = root;
    loop {
        let mut cursor = node.walk();
        let child = node.children(&mut cursor).find(|c| c.is_error() || c.is_missing() || c.has_error());
        match child {
            Some(c) => node = c,
            None => break,
        }
    }
    let line = line_of(node);
    let text = source.lines().nth(line - 1).unwrap_or("").trim().to_string();
    Some((line, text))
}

fn shorten(text: &str) -> String {
    if text.len() <= 40 { text.to_string() } else { format!("{}… ({} digits)", &text[..40], text.len()) }
}

/// Bounds the bracket nesting of TLA+ source before tree-sitter parses it:
/// `(`, `[`, `{` and `<<`, outside strings and comments, to `limit`. No spec
/// nests anywhere near [`input::TLA`]'s `max nesting depth` times its factor
/// of 4 (an expression's brackets, not only a constant's), the limit for
/// [`Module`]; a file that does is refused before anything walks its tree
/// (and before tree-sitter spends seconds on it).
pub(crate) fn check_nesting(path: &Path, source: &str, limit: usize) -> Result<()> {
    let bytes = source.as_bytes();
    let mut depth = 0usize;
    let mut block_comments = 0usize;
    let mut i = 0;
    while i < bytes.len() {
        let two = (bytes[i], bytes.get(i + 1).copied().unwrap_or(0));
        if block_comments > 0 {
            match two {
                (b'(', b'*') => block_comments += 1,
                (b'*', b')') => block_comments -= 1,
                _ => {
                    i += 1;
                    continue;
                }
            }
            i += 2;
            continue;
        }
        match two {
            (b'(', b'*') => {
                block_comments = 1;
                i += 2;
                continue;
            }
            (b'\\', b'*') => {
                while i < bytes.len() && bytes[i] != b'\n' {
                    i += 1;
                }
                continue;
            }
            (b'"', _) => {
                i += 1;
                while i < bytes.len() && bytes[i] != b'"' && bytes[i] != b'\n' {
                    i += if bytes[i] == b'\\' { 2 } else { 1 };
                }
            }
            (b'<', b'<') | (b'(', _) | (b'[', _) | (b'{', _) => {
                depth += 1;
                if depth > limit {
                    let (line, column) = input::position(bytes, i);
                    return Err(Error::Spec(
                        Diagnostic::new(
                            Location::at_column(path, line, column),
                            format!("the expression nests too deeply: brackets nest more than {limit} levels (the limit)"),
                        )
                        .hint("no spec nests expressions that deep; check that the right file was given"),
                    ));
                }
                if two.0 == b'<' {
                    i += 1;
                }
            }
            (b'>', b'>') | (b')', _) | (b']', _) | (b'}', _) => {
                depth = depth.saturating_sub(1);
                if two.0 == b'>' {
                    i += 1;
                }
            }
            _ => {}
        }
        i += 1;
    }
    Ok(())
}

impl Module {
    pub fn read(path: &Path) -> Result<Module> {
        let source = input::read_text(path, &input::TLA, Error::Spec)?;
        Module::parse(path, source)
    }

    pub fn parse(path: &Path, source: String) -> Result<Module> {
        check_nesting(path, &source, 4 * input::TLA.depth)?;
        let tree = syntax_tree(&source);
        if let Some((line, text)) = first_error(&tree, &source) {
            return Err(Error::Spec(
                Diagnostic::new(Location::at(path, line), "TLA+ syntax error")
                    .evidence("line", text)
                    .hint("run SANY or TLC on the module to see the full parse error"),
            ));
        }
        let (name, constants, variables, definitions) = Module::declarations(path, &tree, &source)?;
        Ok(Module { path: path.to_path_buf(), name, constants, variables, definitions, source, tree })
    }

    #[allow(clippy::type_complexity)]
    fn declarations(
        path: &Path,
        tree: &Tree,
        source: &str,
    ) -> Result<(String, Vec<(String, usize)>, Vec<String>, BTreeMap<String, Definition>)> {
        let root = tree.root_node();
        let mut cursor = root.walk();
        let module = root
            .children(&mut cursor)
            .find(|n| n.kind() == "module")
            .ok_or_else(|| {
                Error::Spec(
                    Diagnostic::new(Location::file(path), "no MODULE in this file")
                        .hint("a spec starts with `---- MODULE Name ----`"),
                )
            })?;
        let text = |n: Node<'_>| source[n.byte_range()].to_string();
        let name = module.child_by_field_name("name").map(text).unwrap_or_default();
        let mut constants = Vec::new();
        let mut variables = Vec::new();
        let mut definitions = BTreeMap::new();
        let mut cursor = module.walk();
        for unit in module.children(&mut cursor) {
            match unit.kind() {
                "constant_declaration" => {
                    let mut c = unit.walk();
                    for child in unit.named_children(&mut c) {
                        let ident = match child.kind() {
                            "identifier" => Some(child),
                            "operator_declaration" => child.child_by_field_name("name"),
                            _ => None,
                        };
                        if let Some(ident) = ident {
                            constants.push((text(ident), line_of(ident)));
                        }
                    }
                }
                "variable_declaration" => {
                    let mut c = unit.walk();
                    for child in unit.named_children(&mut c) {
                        if child.kind() == "identifier" {
                            variables.push(text(child));
                        }
                    }
                }
                "operator_definition" => {
                    let (Some(name_node), Some(body)) =
                        (unit.child_by_field_name("name"), unit.child_by_field_name("definition"))
                    else {
                        continue;
                    };
                    let mut c = unit.walk();
                    let arity = unit.children_by_field_name("parameter", &mut c)
                        .filter(|p| p.is_named())
                        .count();
                    let def = Definition {
                        name: text(name_node),
                        arity,
                        line: line_of(name_node),
                        body: body.byte_range(),
                    };
                    if let Some(first) = definitions.get(&def.name) {
                        let first: &Definition = first;
                        return Err(Error::Spec(
                            Diagnostic::new(Location::at(path, def.line), format!("`{}` is defined twice", def.name))
                                .evidence("first defined on line", first.line.to_string())
                                .hint("TLA+ allows one definition per name in a module; SANY refuses this too"),
                        ));
                    }
                    definitions.insert(def.name.clone(), def);
                }
                _ => {}
            }
        }
        Ok((name, constants, variables, definitions))
    }

    pub fn defines(&self, name: &str) -> bool {
        self.definitions.contains_key(name)
    }

    /// Evaluates a zero-argument, constant-level definition.
    pub fn evaluate(&self, name: &str) -> Result<Value> {
        self.evaluate_guarded(name, &mut BTreeSet::new(), 0)
    }

    /// `depth` counts both nested expressions and definitions that name
    /// definitions, so neither can exhaust the stack.
    fn evaluate_guarded(&self, name: &str, active: &mut BTreeSet<String>, depth: usize) -> Result<Value> {
        let def = self.definitions.get(name).ok_or_else(|| {
            Error::Spec(
                Diagnostic::new(
                    Location::file(&self.path),
                    format!("module {} has no definition `{name}`", self.name),
                )
                .hint("define it at the top level of the module"),
            )
        })?;
        if def.arity != 0 {
            return Err(Error::Spec(Diagnostic::new(
                Location::at(&self.path, def.line),
                format!("`{name}` takes arguments; a constant can only be bound to a value"),
            )));
        }
        if !active.insert(name.to_string()) {
            return Err(Error::Spec(Diagnostic::new(
                Location::at(&self.path, def.line),
                format!("definition `{name}` refers to itself"),
            )));
        }
        let body = self
            .tree
            .root_node()
            .descendant_for_byte_range(def.body.start, def.body.end)
            .expect("a definition's body lies inside the tree");
        let value = self.eval(body, active, depth + 1);
        active.remove(name);
        value
    }

    fn eval(&self, node: Node<'_>, active: &mut BTreeSet<String>, depth: usize) -> Result<Value> {
        let text = &self.source[node.byte_range()];
        if depth > input::TLA.depth {
            return Err(Error::Spec(
                Diagnostic::new(
                    Location::at(&self.path, line_of(node)),
                    format!("this constant nests deeper than the limit `max nesting depth` of {} (expressions and definitions naming definitions)", input::TLA.depth),
                )
                .evidence("expression", text.lines().next().unwrap_or("").trim().to_string())
                .hint("a constant bound with `<-` is a shallow tuple, set or record"),
            ));
        }
        let unsupported = || {
            Error::Spec(
                Diagnostic::new(
                    Location::at(&self.path, line_of(node)),
                    "tracewright cannot evaluate this expression as a constant",
                )
                .evidence("expression", text.lines().next().unwrap_or("").trim().to_string())
                .hint("a definition bound with `<-` may use tuples, sets, records, strings, numbers, booleans and names of other such definitions"),
            )
        };
        let mut cursor = node.walk();
        let items: Vec<Node<'_>> = node.named_children(&mut cursor).collect();
        match node.kind() {
            "nat_number" => text.parse::<i64>().map(Value::Int).map_err(|_| {
                Error::Spec(
                    Diagnostic::new(Location::at(&self.path, line_of(node)), format!("number `{}` does not fit in 64 bits", shorten(text)))
                        .hint("tracewright's constants are 64-bit integers"),
                )
            }),
            "boolean" => Ok(Value::Bool(text == "TRUE")),
            "string" => {
                let inner = &text[1..text.len() - 1];
                Ok(Value::Str(inner.replace("\\\"", "\"").replace("\\\\", "\\")))
            }
            "parentheses" => match items.first() {
                Some(&inner) => self.eval(inner, active, depth + 1),
                None => Err(unsupported()),
            },
            "tuple_literal" => items
                .into_iter()
                .filter(|n| !matches!(n.kind(), "langle_bracket" | "rangle_bracket"))
                .map(|n| self.eval(n, active, depth + 1))
                .collect::<Result<Vec<_>>>()
                .map(Value::Tuple),
            "finite_set_literal" => items
                .into_iter()
                .map(|n| self.eval(n, active, depth + 1))
                .collect::<Result<BTreeSet<_>>>()
                .map(Value::Set),
            "record_literal" => {
                let mut fields = BTreeMap::new();
                let mut rest = items.into_iter().filter(|n| n.kind() != "all_map_to");
                while let (Some(key), Some(value)) = (rest.next(), rest.next()) {
                    let key = self.source[key.byte_range()].to_string();
                    fields.insert(key, self.eval(value, active, depth + 1)?);
                }
                Ok(Value::Record(fields))
            }
            "identifier_ref" => self.evaluate_guarded(text, active, depth + 1),
            _ => Err(unsupported()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn module(src: &str) -> Result<Module> {
        Module::parse(Path::new("M.tla"), src.to_string())
    }

    #[test]
    fn reads_declarations_and_evaluates_constant_definitions() {
        let m = module(
            "---- MODULE M ----\nEXTENDS Naturals\nCONSTANTS A, B\nVARIABLES x, y\n\
             Pair == <<\"a\", 2>>\nHops == << Pair, <<\"b\", TRUE>> >>\nS == {1, 2, 2}\n\
             R == [k |-> \"v\"]\nInit == x = 0\nF(z) == z\n====\n",
        )
        .unwrap();
        assert_eq!(m.name, "M");
        assert_eq!(m.constants.iter().map(|c| c.0.as_str()).collect::<Vec<_>>(), ["A", "B"]);
        assert_eq!(m.variables, ["x", "y"]);
        assert_eq!(m.definitions["F"].arity, 1);
        let hops = m.evaluate("Hops").unwrap();
        assert_eq!(hops.to_string(), "<<<<\"a\", 2>>, <<\"b\", TRUE>>>>");
        assert_eq!(m.evaluate("S").unwrap().to_string(), "{1, 2}");
        assert_eq!(m.evaluate("R").unwrap().to_string(), "[k |-> \"v\"]");
    }

    #[test]
    fn refuses_expressions_it_cannot_evaluate() {
        let m = module("---- MODULE M ----\nEXTENDS Naturals\nX == 1 + 2\n====\n").unwrap();
        let err = m.evaluate("X").unwrap_err().render();
        assert!(err.contains("M.tla:3: tracewright cannot evaluate"), "{err}");
    }

    #[test]
    fn syntax_errors_name_the_line() {
        let err = module("---- MODULE M ----\nX == <<1, \n====\n").unwrap_err().render();
        assert!(err.contains("M.tla:"), "{err}");
        assert!(err.contains("TLA+ syntax error"), "{err}");
    }
}
