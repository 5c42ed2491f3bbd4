//! TLC configuration files (`.cfg`), read the way TLC reads them.
//!
//! One `.cfg` drives both TLC and tracewright, so this parser accepts TLC's
//! syntax: `CONSTANT(S)` with `name = value` or `name <- Definition`,
//! `INIT`/`NEXT` or `SPECIFICATION`, `INVARIANT(S)`, `PROPERTY`/`PROPERTIES`
//! `CHECK_DEADLOCK`, `CONSTRAINT(S)`, `ACTION_CONSTRAINT(S)`, `SYMMETRY`,
//! `VIEW` and `ALIAS`, with `\*` and `(* *)` comments. Sections tracewright
//! does not implement (`POSTCONDITION`, `TYPE`, …) are refused rather than
//! ignored, so a state count can never silently differ from TLC's; the Rust
//! models refuse the sections only the interpreter implements.
//!
//! A config also says which properties it expects to be violated, in a comment
//! TLC ignores: `\* expect-violation: NoLostSpans, NoOrphanSpans` (or `none`).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use crate::error::{Diagnostic, Error, Location, Result};
use crate::input;
use crate::spec::value::Value;

/// How a constant gets its value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Binding {
    /// `Name = value`
    Value(Value),
    /// `Name <- Definition`: the value of a zero-argument definition in the spec.
    Substitution(String),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Named {
    pub name: String,
    pub line: usize,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConstantBinding {
    pub name: String,
    pub line: usize,
    pub binding: Binding,
    /// `Name <- [Mod] Definition`: the override applies to `Name` as module
    /// Mod defines it (also where Mod is instantiated).
    pub module: Option<String>,
}

/// A parsed `.cfg` file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cfg {
    pub path: PathBuf,
    pub constants: Vec<ConstantBinding>,
    pub init: Option<Named>,
    pub next: Option<Named>,
    pub specification: Option<Named>,
    pub invariants: Vec<Named>,
    pub properties: Vec<Named>,
    /// TLC checks for deadlock unless told `CHECK_DEADLOCK FALSE`.
    pub check_deadlock: bool,
    /// `CONSTRAINT(S)`: state predicates; a state outside them is neither
    /// stored nor expanded.
    pub constraints: Vec<Named>,
    /// `ACTION_CONSTRAINT(S)`: action predicates; a step outside them is
    /// not taken.
    pub action_constraints: Vec<Named>,
    /// `SYMMETRY`: a set of permutations of model values.
    pub symmetry: Option<Named>,
    /// `VIEW`: states with equal views are one state.
    pub view: Option<Named>,
    /// `ALIAS`: what counterexample states show.
    pub alias: Option<Named>,
    /// The properties this config expects to be violated, with the line of
    /// the `expect-violation` comment that names each.
    pub expect_violation: BTreeMap<String, usize>,
}

impl Cfg {
    pub fn read(path: &Path) -> Result<Cfg> {
        let text = input::read_text(path, &input::CFG, Error::Spec)?;
        Cfg::parse(path, &text)
    }

    pub fn parse(path: &Path, text: &str) -> Result<Cfg> {
        let tokens = lex(path, text)?;
        let mut parser = Parser { path, tokens, pos: 0 };
        parser.cfg()
    }

    /// The sections that change the explored state space or what a
    /// counterexample shows, with the line naming each: a Rust model, which
    /// implements none of them, refuses a config that has one.
    pub fn state_space_sections(&self) -> Vec<(&'static str, &Named)> {
        let mut out: Vec<(&'static str, &Named)> = Vec::new();
        out.extend(self.constraints.iter().map(|n| ("CONSTRAINT", n)));
        out.extend(self.action_constraints.iter().map(|n| ("ACTION_CONSTRAINT", n)));
        out.extend(self.symmetry.iter().map(|n| ("SYMMETRY", n)));
        out.extend(self.view.iter().map(|n| ("VIEW", n)));
        out.extend(self.alias.iter().map(|n| ("ALIAS", n)));
        out
    }

    /// Every property name the config lists, invariants first.
    pub fn checked_names(&self) -> impl Iterator<Item = &Named> {
        self.invariants.iter().chain(self.properties.iter())
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Tok {
    Ident(String),
    Int(i64),
    Str(String),
    Eq,
    Gets,
    LBrace,
    RBrace,
    Comma,
    /// Any other punctuation, kept so the error can say what was found.
    Other(String),
    /// An `expect-violation` comment and the names it lists.
    Expect(Vec<String>),
}

impl Tok {
    fn describe(&self) -> String {
        match self {
            Tok::Ident(s) => format!("`{s}`"),
            Tok::Int(n) => format!("`{n}`"),
            Tok::Str(s) => format!("{s:?}"),
            Tok::Eq => "`=`".into(),
            Tok::Gets => "`<-`".into(),
            Tok::LBrace => "`{`".into(),
            Tok::RBrace => "`}`".into(),
            Tok::Comma => "`,`".into(),
            Tok::Other(s) => format!("`{s}`"),
            Tok::Expect(_) => "an expect-violation comment".into(),
        }
    }
}

struct Token {
    tok: Tok,
    line: usize,
}

const EXPECT_MARKER: &str = "expect-violation:";

/// The name under which a deadlock is reported, as TLC does unless the config
/// says `CHECK_DEADLOCK FALSE`.
pub const DEADLOCK: &str = "Deadlock";

fn lex(path: &Path, text: &str) -> Result<Vec<Token>> {
    let chars: Vec<char> = text.chars().collect();
    let mut tokens = Vec::new();
    let mut i = 0;
    let mut line = 1;
    let err = |line: usize, headline: String| Error::spec(Location::at(path, line), headline);
    while i < chars.len() {
        let c = chars[i];
        if c == '\n' {
            line += 1;
            i += 1;
        } else if c.is_whitespace() {
            i += 1;
        } else if c == '\\' && chars.get(i + 1) == Some(&'*') {
            let start = i + 2;
            while i < chars.len() && chars[i] != '\n' {
                i += 1;
            }
            let comment: String = chars[start..i].iter().collect();
            if let Some(rest) = comment.trim().strip_prefix(EXPECT_MARKER) {
                let names: Vec<String> = rest
                    .split(',')
                    .map(|s| s.trim().to_string())
                    .filter(|s| !s.is_empty())
                    .collect();
                tokens.push(Token { tok: Tok::Expect(names), line });
            }
        } else if c == '(' && chars.get(i + 1) == Some(&'*') {
            let open_line = line;
            let mut depth = 0;
            loop {
                if i >= chars.len() {
                    return Err(Error::Spec(
                        Diagnostic::new(Location::at(path, open_line), "unterminated `(*` comment")
                            .hint("close the comment with `*)`"),
                    ));
                }
                if chars[i] == '(' && chars.get(i + 1) == Some(&'*') {
                    depth += 1;
                    i += 2;
                } else if chars[i] == '*' && chars.get(i + 1) == Some(&')') {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    if chars[i] == '\n' {
                        line += 1;
                    }
                    i += 1;
                }
            }
        } else if c.is_ascii_alphabetic() || c == '_' {
            let start = i;
            while i < chars.len() && (chars[i].is_ascii_alphanumeric() || chars[i] == '_') {
                i += 1;
            }
            tokens.push(Token { tok: Tok::Ident(chars[start..i].iter().collect()), line });
        } else if c.is_ascii_digit()
            || (c == '-' && chars.get(i + 1).is_some_and(|d| d.is_ascii_digit()))
        {
            let start = i;
            i += 1;
            while i < chars.len() && chars[i].is_ascii_digit() {
                i += 1;
            }
            let digits: String = chars[start..i].iter().collect();
            let n = digits
                .parse::<i64>()
                .map_err(|_| err(line, format!("number `{digits}` does not fit in 64 bits")))?;
            tokens.push(Token { tok: Tok::Int(n), line });
        } else if c == '"' {
            let open_line = line;
            let mut s = String::new();
            i += 1;
            loop {
                match chars.get(i) {
                    None | Some('\n') => {
                        return Err(Error::Spec(
                            Diagnostic::new(Location::at(path, open_line), "unterminated string")
                                .hint("close the string with `\"` on the same line"),
                        ));
                    }
                    Some('"') => {
                        i += 1;
                        break;
                    }
                    Some('\\') => {
                        let escaped = match chars.get(i + 1) {
                            Some('n') => '\n',
                            Some('t') => '\t',
                            Some('"') => '"',
                            Some('\\') => '\\',
                            other => {
                                return Err(err(
                                    line,
                                    format!(
                                        "unknown escape `\\{}` in string",
                                        other.map(|c| c.to_string()).unwrap_or_default()
                                    ),
                                ));
                            }
                        };
                        s.push(escaped);
                        i += 2;
                    }
                    Some(&ch) => {
                        s.push(ch);
                        i += 1;
                    }
                }
            }
            tokens.push(Token { tok: Tok::Str(s), line });
        } else {
            let two: String = chars[i..(i + 2).min(chars.len())].iter().collect();
            let (tok, len) = match (c, two.as_str()) {
                (_, "<-") => (Tok::Gets, 2),
                (_, "<<") | (_, ">>") => (Tok::Other(two.clone()), 2),
                ('=', _) => (Tok::Eq, 1),
                ('{', _) => (Tok::LBrace, 1),
                ('}', _) => (Tok::RBrace, 1),
                (',', _) => (Tok::Comma, 1),
                _ => (Tok::Other(c.to_string()), 1),
            };
            tokens.push(Token { tok, line });
            i += len;
        }
    }
    Ok(tokens)
}

/// Sections of a TLC config that would change what is explored; tracewright
/// refuses them instead of silently exploring a different state space.
const UNSUPPORTED: &[&str] = &[
    "POSTCONDITION",
    "TYPE",
    "TYPE_CONSTRAINT",
];

const KEYWORDS: &[&str] = &[
    "CONSTANT",
    "CONSTANTS",
    "INIT",
    "NEXT",
    "SPECIFICATION",
    "INVARIANT",
    "INVARIANTS",
    "PROPERTY",
    "PROPERTIES",
    "CHECK_DEADLOCK",
    "CONSTRAINT",
    "CONSTRAINTS",
    "ACTION_CONSTRAINT",
    "ACTION_CONSTRAINTS",
    "SYMMETRY",
    "VIEW",
    "ALIAS",
];

fn is_section(tok: &Tok) -> bool {
    matches!(tok, Tok::Ident(s) if KEYWORDS.contains(&s.as_str()) || UNSUPPORTED.contains(&s.as_str()))
}

struct Parser<'a> {
    path: &'a Path,
    tokens: Vec<Token>,
    pos: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.pos)
    }

    fn last_line(&self) -> usize {
        self.tokens.last().map_or(1, |t| t.line)
    }

    fn expected(&self, what: &str, hint: Option<&str>) -> Error {
        let (line, found) = match self.peek() {
            Some(t) => (t.line, t.tok.describe()),
            None => (self.last_line(), "the end of the file".to_string()),
        };
        let mut d = Diagnostic::new(Location::at(self.path, line), format!("expected {what}"))
            .evidence("found", found);
        if let Some(hint) = hint {
            d = d.hint(hint);
        }
        Error::Spec(d)
    }

    fn ident(&mut self, what: &str) -> Result<Named> {
        match self.peek() {
            Some(Token { tok: Tok::Ident(s), line }) if !is_section(&Tok::Ident(s.clone())) => {
                let mut named = Named { name: s.clone(), line: *line };
                self.pos += 1;
                // `I!Spec`: a definition of a named instance.
                while let (Some(Token { tok: Tok::Other(bang), .. }), Some(Token { tok: Tok::Ident(next), .. })) =
                    (self.tokens.get(self.pos), self.tokens.get(self.pos + 1))
                {
                    if bang != "!" {
                        break;
                    }
                    named.name = format!("{}!{next}", named.name);
                    self.pos += 2;
                }
                Ok(named)
            }
            _ => Err(self.expected(what, None)),
        }
    }

    fn cfg(&mut self) -> Result<Cfg> {
        let mut cfg = Cfg {
            path: self.path.to_path_buf(),
            constants: Vec::new(),
            init: None,
            next: None,
            specification: None,
            invariants: Vec::new(),
            properties: Vec::new(),
            check_deadlock: true,
            constraints: Vec::new(),
            action_constraints: Vec::new(),
            symmetry: None,
            view: None,
            alias: None,
            expect_violation: BTreeMap::new(),
        };
        // expect-violation comments may stand anywhere; collect them first.
        let mut kept = Vec::new();
        for token in std::mem::take(&mut self.tokens) {
            match token.tok {
                Tok::Expect(names) => {
                    for name in names {
                        if name != "none" {
                            cfg.expect_violation.entry(name).or_insert(token.line);
                        }
                    }
                }
                _ => kept.push(token),
            }
        }
        self.tokens = kept;

        while let Some(token) = self.peek() {
            let line = token.line;
            let Tok::Ident(word) = &token.tok else {
                return Err(self.expected(
                    "a section keyword such as CONSTANTS, SPECIFICATION or INVARIANT",
                    None,
                ));
            };
            let word = word.clone();
            if UNSUPPORTED.contains(&word.as_str()) {
                return Err(Error::Spec(
                    Diagnostic::new(
                        Location::at(self.path, line),
                        format!("tracewright does not support the {word} section"),
                    )
                    .hint("it would change the explored state space; express the bound in the spec's constants instead"),
                ));
            }
            if !KEYWORDS.contains(&word.as_str()) {
                return Err(self.expected(
                    "a section keyword such as CONSTANTS, SPECIFICATION or INVARIANT",
                    Some("every name in a .cfg belongs to a section: CONSTANTS, INIT, NEXT, SPECIFICATION, INVARIANTS, PROPERTIES or CHECK_DEADLOCK"),
                ));
            }
            self.pos += 1;
            match word.as_str() {
                "CONSTANT" | "CONSTANTS" => self.constants(&mut cfg)?,
                "INIT" => cfg.init = Some(self.ident("the name of the initial predicate after INIT")?),
                "NEXT" => cfg.next = Some(self.ident("the name of the next-state action after NEXT")?),
                "SPECIFICATION" => {
                    cfg.specification =
                        Some(self.ident("the name of the specification after SPECIFICATION")?)
                }
                "INVARIANT" | "INVARIANTS" => {
                    self.names(&mut cfg.invariants, "an invariant name after INVARIANTS")?
                }
                "CONSTRAINT" | "CONSTRAINTS" => {
                    self.names(&mut cfg.constraints, "a state constraint name after CONSTRAINTS")?
                }
                "ACTION_CONSTRAINT" | "ACTION_CONSTRAINTS" => {
                    self.names(&mut cfg.action_constraints, "an action constraint name after ACTION_CONSTRAINTS")?
                }
                "SYMMETRY" => cfg.symmetry = Some(self.ident("the name of a set of permutations after SYMMETRY")?),
                "VIEW" => cfg.view = Some(self.ident("the name of a state function after VIEW")?),
                "ALIAS" => cfg.alias = Some(self.ident("the name of a record after ALIAS")?),
                "PROPERTY" | "PROPERTIES" => {
                    self.names(&mut cfg.properties, "a property name after PROPERTIES")?
                }
                "CHECK_DEADLOCK" => {
                    let value = self.ident("TRUE or FALSE after CHECK_DEADLOCK")?;
                    cfg.check_deadlock = match value.name.as_str() {
                        "TRUE" => true,
                        "FALSE" => false,
                        _ => {
                            self.pos -= 1;
                            return Err(self.expected("TRUE or FALSE after CHECK_DEADLOCK", None));
                        }
                    };
                }
                _ => unreachable!("KEYWORDS and this match list the same words"),
            }
        }
        self.validate(&cfg)?;
        Ok(cfg)
    }

    fn names(&mut self, into: &mut Vec<Named>, what: &str) -> Result<()> {
        let first = self.ident(what)?;
        into.push(first);
        while let Some(Token { tok: Tok::Ident(s), .. }) = self.peek() {
            if is_section(&Tok::Ident(s.clone())) {
                break;
            }
            let named = self.ident(what)?;
            into.push(named);
        }
        Ok(())
    }

    fn constants(&mut self, cfg: &mut Cfg) -> Result<()> {
        let mut any = false;
        while let Some(Token { tok: Tok::Ident(s), .. }) = self.peek() {
            if is_section(&Tok::Ident(s.clone())) {
                break;
            }
            let name = self.ident("a constant name")?;
            if let Some(previous) = cfg.constants.iter().find(|c| c.name == name.name) {
                return Err(Error::Spec(
                    Diagnostic::new(
                        Location::at(self.path, name.line),
                        format!("constant `{}` is assigned twice", name.name),
                    )
                    .evidence("first assigned on line", previous.line.to_string()),
                ));
            }
            let mut module = None;
            let binding = match self.peek().map(|t| &t.tok) {
                Some(Tok::Eq) => {
                    self.pos += 1;
                    Binding::Value(self.value(0)?)
                }
                Some(Tok::Gets) => {
                    self.pos += 1;
                    if matches!(self.peek().map(|t| &t.tok), Some(Tok::Other(s)) if s == "[") {
                        self.pos += 1;
                        let m = self.ident("a module name after `<- [`")?;
                        if !matches!(self.peek().map(|t| &t.tok), Some(Tok::Other(s)) if s == "]") {
                            return Err(self.expected("`]` after the module name of `<- [Mod]`", None));
                        }
                        self.pos += 1;
                        module = Some(m.name);
                    }
                    let def = self.ident("the name of a definition in the spec after `<-`")?;
                    Binding::Substitution(def.name)
                }
                _ => {
                    return Err(self.expected(
                        &format!("`=` or `<-` after constant `{}`", name.name),
                        Some("a TLC config holds numbers, strings, booleans, model values and sets of them; define tuples and records in the .tla and write `Name <- Definition`"),
                    ));
                }
            };
            cfg.constants.push(ConstantBinding { name: name.name, line: name.line, binding, module });
            any = true;
        }
        if !any {
            return Err(self.expected("a constant assignment after CONSTANTS", None));
        }
        Ok(())
    }

    /// A value nested `depth` sets deep: bounded, so that no config can
    /// exhaust the stack (here, or in the recursive drop of the value).
    fn value(&mut self, depth: usize) -> Result<Value> {
        let hint = "a TLC config holds numbers, strings, booleans, model values and sets of them; define tuples and records in the .tla and write `Name <- Definition`";
        let Some(token) = self.peek() else {
            return Err(self.expected("a value", Some(hint)));
        };
        let value = match &token.tok {
            Tok::Int(n) => Value::Int(*n),
            Tok::Str(s) => Value::Str(s.clone()),
            Tok::Ident(s) if s == "TRUE" => Value::Bool(true),
            Tok::Ident(s) if s == "FALSE" => Value::Bool(false),
            Tok::Ident(s) if !is_section(&token.tok) => Value::ModelValue(s.clone()),
            Tok::LBrace => {
                if depth >= input::CFG.depth {
                    return Err(Error::Spec(
                        Diagnostic::new(
                            Location::at(self.path, token.line),
                            format!("sets nest deeper than the limit `max nesting depth` of {}", input::CFG.depth),
                        )
                        .hint("a constant of a TLC config is a number, string, model value or a shallow set of them"),
                    ));
                }
                let open_line = token.line;
                self.pos += 1;
                let mut items = BTreeSet::new();
                if matches!(self.peek().map(|t| &t.tok), Some(Tok::RBrace)) {
                    self.pos += 1;
                    return Ok(Value::Set(items));
                }
                loop {
                    items.insert(self.value(depth + 1)?);
                    if items.len() > input::CFG.members {
                        return Err(Error::Spec(Diagnostic::new(
                            Location::at(self.path, open_line),
                            format!("a set has more than the limit `max members` of {}", input::CFG.members),
                        )));
                    }
                    match self.peek().map(|t| &t.tok) {
                        Some(Tok::Comma) => self.pos += 1,
                        Some(Tok::RBrace) => {
                            self.pos += 1;
                            return Ok(Value::Set(items));
                        }
                        _ => return Err(self.expected("`,` or `}` in a set", None)),
                    }
                }
            }
            _ => return Err(self.expected("a value", Some(hint))),
        };
        self.pos += 1;
        Ok(value)
    }

    fn validate(&self, cfg: &Cfg) -> Result<()> {
        let at = |line| Location::at(self.path, line);
        if let Some(spec) = &cfg.specification {
            if let Some(init) = cfg.init.as_ref().or(cfg.next.as_ref()) {
                return Err(Error::Spec(
                    Diagnostic::new(at(init.line), "config gives both SPECIFICATION and INIT/NEXT")
                        .evidence("SPECIFICATION on line", spec.line.to_string())
                        .hint("use either SPECIFICATION, or INIT and NEXT"),
                ));
            }
        } else {
            match (&cfg.init, &cfg.next) {
                (Some(_), Some(_)) => {}
                (None, None) => {
                    return Err(Error::Spec(
                        Diagnostic::new(Location::file(self.path), "config names no behaviour spec")
                            .hint("add `SPECIFICATION Spec`, or `INIT Init` and `NEXT Next`"),
                    ));
                }
                (Some(n), None) | (None, Some(n)) => {
                    return Err(Error::Spec(
                        Diagnostic::new(at(n.line), "INIT and NEXT must be given together")
                            .hint("add the missing one, or use SPECIFICATION"),
                    ));
                }
            }
        }
        let mut seen: BTreeMap<&str, usize> = BTreeMap::new();
        for named in cfg.checked_names() {
            if let Some(first) = seen.insert(&named.name, named.line) {
                return Err(Error::Spec(
                    Diagnostic::new(at(named.line), format!("`{}` is listed twice", named.name))
                        .evidence("first listed on line", first.to_string()),
                ));
            }
        }
        if cfg.check_deadlock {
            seen.insert(DEADLOCK, 0);
        }
        for (name, line) in &cfg.expect_violation {
            if !seen.contains_key(name.as_str()) {
                return Err(Error::Spec(
                    Diagnostic::new(
                        at(*line),
                        format!("expect-violation names `{name}`, which the config does not check"),
                    )
                    .evidence(
                        "checked",
                        seen.keys().copied().collect::<Vec<_>>().join(", "),
                    )
                    .hint("list the property under INVARIANTS or PROPERTIES, or fix the name"),
                ));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn module_scoped_overrides_and_instance_names() {
        let cfg = Cfg::parse(Path::new("x.cfg"), "CONSTANT At <- [Point] MyAt\nN <- Def\nSPECIFICATION Spec\nPROPERTY I!Spec Refines\n").unwrap();
        assert_eq!(cfg.constants[0].module.as_deref(), Some("Point"));
        assert_eq!(cfg.constants[0].binding, Binding::Substitution("MyAt".into()));
        assert_eq!(cfg.constants[1].module, None);
        assert_eq!(cfg.properties.iter().map(|p| p.name.as_str()).collect::<Vec<_>>(), ["I!Spec", "Refines"]);
        let e = Cfg::parse(Path::new("x.cfg"), "CONSTANT At <- [Point MyAt\nSPECIFICATION Spec\n").unwrap_err().render();
        assert!(e.contains("`]` after the module name"), "{e}");
    }

    fn parse(text: &str) -> Result<Cfg> {
        Cfg::parse(Path::new("t.cfg"), text)
    }

    #[test]
    fn reads_constants_sections_and_expectations() {
        let cfg = parse(
            "\\* expect-violation: Inv2\nCONSTANTS\n  N = 3\n  S = {\"a\", b, TRUE}\n  H <- Def\n\
             SPECIFICATION Spec\nINVARIANTS Inv1\n Inv2\nPROPERTY Live\nCHECK_DEADLOCK FALSE\n",
        )
        .unwrap();
        assert_eq!(cfg.constants.len(), 3);
        assert_eq!(cfg.constants[0].binding, Binding::Value(Value::Int(3)));
        assert_eq!(cfg.constants[2].binding, Binding::Substitution("Def".into()));
        let Binding::Value(Value::Set(set)) = &cfg.constants[1].binding else { panic!() };
        assert!(set.contains(&Value::ModelValue("b".into())));
        assert_eq!(cfg.invariants.iter().map(|n| n.line).collect::<Vec<_>>(), vec![7, 8]);
        assert_eq!(cfg.properties[0].name, "Live");
        assert!(!cfg.check_deadlock);
        assert_eq!(cfg.expect_violation.get("Inv2"), Some(&1));
    }

    #[test]
    fn tuple_in_a_config_is_an_error_with_line_and_hint() {
        let err = parse("CONSTANTS\n  N = 1\n  H = <<1, 2>>\nINIT Init\nNEXT Next\n").unwrap_err();
        let text = err.render();
        assert!(text.contains("t.cfg:3: expected a value"), "{text}");
        assert!(text.contains("found: `<<`"), "{text}");
        assert!(text.contains("Name <- Definition"), "{text}");
    }

    #[test]
    fn refuses_sections_that_change_the_state_space() {
        let err = parse("INIT Init\nNEXT Next\nPOSTCONDITION Post\n").unwrap_err();
        assert!(err.render().contains("t.cfg:3: tracewright does not support the POSTCONDITION section"));
        let cfg = parse("INIT Init\nNEXT Next\nSYMMETRY Perms\nCONSTRAINTS A B\nACTION_CONSTRAINT C\nVIEW V\nALIAS L\n").expect("parses");
        let named: Vec<(&str, &str, usize)> = cfg.state_space_sections().iter().map(|(w, n)| (*w, n.name.as_str(), n.line)).collect();
        assert_eq!(named, [("CONSTRAINT", "A", 4), ("CONSTRAINT", "B", 4), ("ACTION_CONSTRAINT", "C", 5), ("SYMMETRY", "Perms", 3), ("VIEW", "V", 6), ("ALIAS", "L", 7)]);
    }

    #[test]
    fn expectation_must_name_a_checked_property() {
        let err = parse("\\* expect-violation: Nope\nINIT Init\nNEXT Next\nINVARIANT Inv\n").unwrap_err();
        assert!(err.render().contains("t.cfg:1: expect-violation names `Nope`"));
    }

    #[test]
    fn unterminated_comment_and_string_name_their_line() {
        let err = parse("INIT Init\n(* open\n\nNEXT Next\n").unwrap_err();
        assert!(err.render().contains("t.cfg:2: unterminated `(*` comment"));
        let err = parse("CONSTANT A = \"x\nINIT I\n").unwrap_err();
        assert!(err.render().contains("t.cfg:1: unterminated string"));
    }

    #[test]
    fn needs_a_behaviour_spec() {
        let err = parse("INVARIANT Inv\n").unwrap_err();
        assert!(err.render().contains("config names no behaviour spec"));
    }
}
