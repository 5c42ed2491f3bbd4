//! Finding a spec and its config on disk, and binding the config's constants.
//!
//! A spec lives in its own directory under `specs/`: `specs/trace_context/`
//! holds `TraceContext.tla`, the default `TraceContext.cfg` and further configs
//! named `TraceContext_<label>.cfg`. `check` accepts the directory's name in
//! kebab case (`trace-context`), the module name, a `.tla` path (checked with
//! its same-named `.cfg`) or a `.cfg` path.

pub mod cfg;
pub mod tla;
pub mod value;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::error::{Diagnostic, Error, Location, Result};
use cfg::{Binding, Cfg};
use tla::Module;
use value::Value;

/// The environment variable that points tracewright at a specs directory.
pub const SPECS_ENV: &str = "TRACEWRIGHT_SPECS";

/// Where named specs are looked up: `$TRACEWRIGHT_SPECS`, else `./specs`, else
/// the `specs/` of the source tree tracewright was built from.
pub fn specs_root() -> PathBuf {
    if let Some(dir) = std::env::var_os(SPECS_ENV) {
        return PathBuf::from(dir);
    }
    let local = PathBuf::from("specs");
    if local.is_dir() {
        return local;
    }
    Path::new(env!("CARGO_MANIFEST_DIR")).join("specs")
}

/// A module and one of its configs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SpecFiles {
    pub tla: PathBuf,
    pub cfg: PathBuf,
}

impl SpecFiles {
    /// The module name, from the `.tla` file name.
    pub fn module_stem(&self) -> String {
        file_stem(&self.tla)
    }

    /// The config's label: `default` for `Module.cfg`, `X` for `Module_X.cfg`.
    pub fn config_label(&self) -> String {
        let module = self.module_stem();
        let stem = file_stem(&self.cfg);
        if stem == module {
            "default".to_string()
        } else {
            stem.strip_prefix(&format!("{module}_")).unwrap_or(&stem).to_string()
        }
    }
}

fn file_stem(path: &Path) -> String {
    path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default()
}

fn kebab(dir_name: &str) -> String {
    dir_name.replace('_', "-")
}

fn has_ext(path: &Path, ext: &str) -> bool {
    path.extension().is_some_and(|e| e == ext)
}

fn sorted_entries(dir: &Path) -> Result<Vec<PathBuf>> {
    let entries = std::fs::read_dir(dir).map_err(|e| Error::io(dir, "list directory", e))?;
    let mut paths = entries
        .map(|e| e.map(|e| e.path()))
        .collect::<std::io::Result<Vec<_>>>()
        .map_err(|e| Error::io(dir, "list directory", e))?;
    paths.sort();
    Ok(paths)
}

/// The spec directories under `root`, each with its one `.tla` module.
fn spec_dirs(root: &Path) -> Result<Vec<(String, PathBuf)>> {
    let mut specs = Vec::new();
    for dir in sorted_entries(root)? {
        if !dir.is_dir() {
            continue;
        }
        let modules: Vec<PathBuf> =
            sorted_entries(&dir)?.into_iter().filter(|p| has_ext(p, "tla")).collect();
        let dir_name = dir.file_name().unwrap_or_default().to_string_lossy().into_owned();
        let main = match modules.as_slice() {
            [] => continue,
            [tla] => tla.clone(),
            // Several modules: the spec is the one named after the directory
            // (trace_context holds TraceContext.tla); the rest are helpers.
            many => match many.iter().find(|m| snake(&file_stem(m)) == dir_name) {
                Some(tla) => tla.clone(),
                None => {
                    return Err(Error::Spec(
                        Diagnostic::new(Location::file(&dir), "spec directory holds several modules and none is named after it")
                            .evidence("modules", many.iter().map(|m| file_stem(m)).collect::<Vec<_>>().join(", "))
                            .hint(format!("name the main module after the directory, e.g. {}.tla", camel(&dir_name))),
                    ));
                }
            },
        };
        specs.push((kebab(&dir_name), main));
    }
    Ok(specs)
}

fn snake(module: &str) -> String {
    let mut out = String::new();
    for (i, c) in module.chars().enumerate() {
        if c.is_ascii_uppercase() && i > 0 {
            out.push('_');
        }
        out.push(c.to_ascii_lowercase());
    }
    out
}

fn camel(dir: &str) -> String {
    dir.split('_').map(|w| {
        let mut cs = w.chars();
        cs.next().map(|f| f.to_ascii_uppercase().to_string() + cs.as_str()).unwrap_or_default()
    }).collect()
}

/// Resolves what the user gave `check` to a module and a config.
pub fn resolve(target: &str, root: &Path) -> Result<SpecFiles> {
    let path = Path::new(target);
    if has_ext(path, "cfg") {
        return config_of(path);
    }
    if has_ext(path, "tla") {
        if !path.is_file() {
            if std::fs::symlink_metadata(path).is_ok() {
                crate::input::check_file(path, &crate::input::TLA, Error::Spec)?;
            }
            return Err(missing_file(path, "spec"));
        }
        let cfg = path.with_extension("cfg");
        if !cfg.is_file() {
            return Err(Error::Spec(
                Diagnostic::new(Location::file(path), "spec has no config beside it")
                    .evidence("looked for", cfg.display().to_string())
                    .hint("give a .cfg path instead, or add a config with the module's name"),
            ));
        }
        return Ok(SpecFiles { tla: path.to_path_buf(), cfg });
    }
    let specs = if root.is_dir() { spec_dirs(root)? } else { Vec::new() };
    for (name, tla) in &specs {
        if name == target || file_stem(tla) == target {
            return Ok(SpecFiles { tla: tla.clone(), cfg: tla.with_extension("cfg") });
        }
    }
    Err(Error::UnknownSpec {
        name: target.to_string(),
        searched: root.to_path_buf(),
        known: specs.into_iter().map(|(name, _)| name).collect(),
    })
}

fn missing_file(path: &Path, what: &str) -> Error {
    let headline = if path.exists() {
        format!("{what} path is not a regular file")
    } else {
        format!("{what} file does not exist")
    };
    Error::Spec(
        Diagnostic::new(Location::file(path), headline)
            .hint("check the path; `tracewright check --all` checks every config under specs/"),
    )
}

/// The module a config belongs to: the `.tla` beside it whose name is the
/// config's name or a prefix of it followed by `_`.
pub fn config_of(cfg: &Path) -> Result<SpecFiles> {
    if !cfg.is_file() {
        // A directory, FIFO or broken link: say which.
        if std::fs::symlink_metadata(cfg).is_ok() {
            crate::input::check_file(cfg, &crate::input::CFG, Error::Spec)?;
        }
        return Err(missing_file(cfg, "config"));
    }
    let dir = match cfg.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let stem = file_stem(cfg);
    let mut modules: Vec<PathBuf> =
        sorted_entries(&dir)?.into_iter().filter(|p| has_ext(p, "tla")).collect();
    // A config in a subdirectory (specs/x/bench/) belongs to the module above it.
    if modules.is_empty() {
        if let Some(parent) = dir.parent().filter(|p| p.is_dir()) {
            modules = sorted_entries(parent)?.into_iter().filter(|p| has_ext(p, "tla")).collect();
        }
    }
    // A config given without a directory: name its module without one too.
    let modules: Vec<PathBuf> = modules
        .into_iter()
        .map(|m| if cfg.parent().is_some_and(|p| p.as_os_str().is_empty()) { PathBuf::from(m.file_name().unwrap_or_default()) } else { m })
        .collect();
    let owner = modules
        .iter()
        .filter(|tla| {
            let module = file_stem(tla);
            stem == module || stem.starts_with(&format!("{module}_"))
        })
        .max_by_key(|tla| file_stem(tla).len());
    match owner {
        Some(tla) => Ok(SpecFiles { tla: tla.clone(), cfg: cfg.to_path_buf() }),
        None => Err(Error::Spec(
            Diagnostic::new(Location::file(cfg), "no module found for this config")
                .evidence("looked in", dir.display().to_string())
                .hint("name the config after its module: Module.cfg or Module_label.cfg, beside Module.tla"),
        )),
    }
}

/// Every config of every spec under `root`, in path order.
pub fn all_configs(root: &Path) -> Result<Vec<SpecFiles>> {
    if !root.is_dir() {
        return Err(Error::usage(
            format!("specs directory {} does not exist", root.display()),
            Some("run from the project root, or set TRACEWRIGHT_SPECS"),
        ));
    }
    let mut all = Vec::new();
    let specs = spec_dirs(root)?;
    if specs.is_empty() {
        return Err(Error::usage(
            format!("no specs under {}", root.display()),
            Some("a spec is a directory holding Module.tla and its .cfg files"),
        ));
    }
    for (_, tla) in specs {
        let dir = tla.parent().map(Path::to_path_buf).unwrap_or_default();
        for path in sorted_entries(&dir)? {
            if has_ext(&path, "cfg") {
                all.push(config_of(&path)?);
            }
        }
    }
    Ok(all)
}

/// A constant's value and the config line that gave it.
#[derive(Clone, Debug)]
pub struct Constant {
    pub value: Value,
    pub line: usize,
}

/// A config's constants, evaluated, with typed accessors whose errors point
/// at the line that assigned the constant.
#[derive(Clone, Debug)]
pub struct Constants {
    pub cfg_path: PathBuf,
    pub values: BTreeMap<String, Constant>,
}

impl Constants {
    fn get(&self, name: &str) -> Result<&Constant> {
        self.values.get(name).ok_or_else(|| {
            Error::Spec(
                Diagnostic::new(Location::file(&self.cfg_path), format!("constant `{name}` is not assigned"))
                    .hint(format!("add `{name} = …` under CONSTANTS")),
            )
        })
    }

    /// An error about constant `name`, located at the line that assigned it.
    pub fn error(&self, name: &str, headline: impl Into<String>) -> Diagnostic {
        let line = self.values.get(name).map_or(0, |c| c.line);
        let location = if line == 0 {
            Location::file(&self.cfg_path)
        } else {
            Location::at(&self.cfg_path, line)
        };
        Diagnostic::new(location, headline)
    }

    fn wrong_kind(&self, name: &str, expected: &str, found: &Value) -> Error {
        Error::Spec(
            self.error(name, format!("constant `{name}` must be {expected}"))
                .evidence("found", format!("{} ({})", found, found.kind())),
        )
    }

    pub fn value(&self, name: &str) -> Result<&Value> {
        Ok(&self.get(name)?.value)
    }

    pub fn int(&self, name: &str) -> Result<i64> {
        match self.value(name)? {
            Value::Int(n) => Ok(*n),
            other => Err(self.wrong_kind(name, "an integer", other)),
        }
    }

    pub fn string(&self, name: &str) -> Result<String> {
        match self.value(name)? {
            Value::Str(s) | Value::ModelValue(s) => Ok(s.clone()),
            other => Err(self.wrong_kind(name, "a string", other)),
        }
    }

    pub fn strings(&self, name: &str) -> Result<Vec<String>> {
        let Value::Set(items) = self.value(name)? else {
            return Err(self.wrong_kind(name, "a set of strings", self.value(name)?));
        };
        items
            .iter()
            .map(|v| match v {
                Value::Str(s) | Value::ModelValue(s) => Ok(s.clone()),
                other => Err(self.wrong_kind(name, "a set of strings", other)),
            })
            .collect()
    }

    /// A set of strings, each of which must be one of `allowed`.
    pub fn names_from(&self, name: &str, allowed: &[&str]) -> Result<Vec<String>> {
        let names = self.strings(name)?;
        for n in &names {
            if !allowed.contains(&n.as_str()) {
                return Err(Error::Spec(
                    self.error(name, format!("`{n}` is not a known member of {name}"))
                        .evidence("known", allowed.join(", ")),
                ));
            }
        }
        Ok(names)
    }
}

/// A module, one of its configs and the evaluated constants.
#[derive(Debug)]
pub struct Loaded {
    pub files: SpecFiles,
    pub module: Module,
    pub cfg: Cfg,
    pub constants: Constants,
}

/// Reads a module and a config and checks that they fit each other: every
/// constant declared is assigned once, every name the config uses is defined.
pub fn load(files: &SpecFiles) -> Result<Loaded> {
    let module = Module::read(&files.tla)?;
    let cfg = Cfg::read(&files.cfg)?;
    let at = |line| Location::at(&files.cfg, line);
    let declared: Vec<&str> = module.constants.iter().map(|(n, _)| n.as_str()).collect();
    let mut values = BTreeMap::new();
    for binding in &cfg.constants {
        if !declared.contains(&binding.name.as_str()) {
            return Err(Error::Spec(
                Diagnostic::new(
                    at(binding.line),
                    format!("unknown constant `{}`: module {} does not declare it", binding.name, module.name),
                )
                .evidence("declared", declared.join(", "))
                .hint("fix the name, or declare it under CONSTANTS in the .tla"),
            ));
        }
        let value = match &binding.binding {
            Binding::Value(v) => v.clone(),
            Binding::Substitution(def) => {
                if !module.defines(def) {
                    return Err(Error::Spec(
                        Diagnostic::new(
                            at(binding.line),
                            format!("`{}` <- `{def}`: module {} has no definition `{def}`", binding.name, module.name),
                        )
                        .hint("define it in the .tla, or fix the name"),
                    ));
                }
                module.evaluate(def)?
            }
        };
        values.insert(binding.name.clone(), Constant { value, line: binding.line });
    }
    for (name, line) in &module.constants {
        if !values.contains_key(name) {
            return Err(Error::Spec(
                Diagnostic::new(
                    Location::file(&files.cfg),
                    format!("constant `{name}` of module {} is not assigned", module.name),
                )
                .evidence("declared at", Location::at(&files.tla, *line).to_string())
                .hint(format!("add `{name} = …` under CONSTANTS")),
            ));
        }
    }
    let behaviour = cfg.specification.iter().chain(cfg.init.iter()).chain(cfg.next.iter());
    for named in behaviour.chain(cfg.checked_names()) {
        if !module.defines(&named.name) {
            return Err(Error::Spec(
                Diagnostic::new(
                    at(named.line),
                    format!("unknown name `{}`: module {} does not define it", named.name, module.name),
                )
                .hint("fix the name, or define it in the .tla"),
            ));
        }
    }
    let constants = Constants { cfg_path: files.cfg.clone(), values };
    Ok(Loaded { files: files.clone(), module, cfg, constants })
}
