//! The spec, its configs and the Rust model name the same things: every spec
//! parses with tree-sitter-tlaplus, every name a config uses is defined in its
//! module and implemented in Rust, and the model declares the module's
//! constants and variables.

use std::collections::BTreeSet;

use tracewright::engine::registry;
use tracewright::spec::cfg::{Binding, Cfg};
use tracewright::spec::tla::{first_error, syntax_tree, Module};
use tracewright::spec::value::Value;

use crate::{all_configs, repo};

fn modules() -> Vec<std::path::PathBuf> {
    let mut found = Vec::new();
    for dir in std::fs::read_dir(repo().join("specs")).unwrap() {
        let dir = dir.unwrap().path();
        if dir.is_dir() {
            for f in std::fs::read_dir(&dir).unwrap() {
                let f = f.unwrap().path();
                if f.extension().is_some_and(|e| e == "tla") {
                    found.push(f);
                }
            }
        }
    }
    found.sort();
    assert!(!found.is_empty());
    found
}

#[test]
fn every_spec_parses_without_error_nodes() {
    for path in modules() {
        let source = std::fs::read_to_string(&path).unwrap();
        let tree = syntax_tree(&source);
        assert_eq!(first_error(&tree, &source), None, "{}", path.display());
        assert!(!tree.root_node().has_error(), "{}", path.display());
    }
}

#[test]
fn every_name_a_config_uses_is_defined_in_its_module_and_implemented_in_rust() {
    for files in all_configs() {
        let module = Module::read(&files.tla).unwrap();
        let cfg = Cfg::read(&files.cfg).unwrap();
        let label = files.cfg.display().to_string();
        let model = registry().into_iter().find(|r| r.module() == module.name).expect("a model implements it");
        let rust: BTreeSet<&str> = model.property_names().into_iter().collect();
        for named in cfg.checked_names() {
            assert!(module.defines(&named.name), "{label}: {} is not defined in {}", named.name, module.name);
            assert!(rust.contains(named.name.as_str()), "{label}: {} is not implemented in Rust", named.name);
        }
        for named in cfg.specification.iter().chain(&cfg.init).chain(&cfg.next) {
            assert!(module.defines(&named.name), "{label}: {}", named.name);
        }
        let declared: BTreeSet<&str> = module.constants.iter().map(|c| c.0.as_str()).collect();
        for c in &cfg.constants {
            assert!(declared.contains(c.name.as_str()), "{label}: constant {}", c.name);
            if let Binding::Substitution(def) = &c.binding {
                assert!(module.defines(def), "{label}: {} <- {def}", c.name);
            }
        }
        assert_eq!(cfg.constants.len(), declared.len(), "{label}: every constant is assigned");
    }
}

#[test]
fn each_model_declares_its_modules_constants_variables_and_properties() {
    for model in registry() {
        let path = modules().into_iter().find(|p| p.file_stem().unwrap() == model.module()).expect("the module exists");
        let module = Module::read(&path).unwrap();
        let constants: Vec<&str> = module.constants.iter().map(|c| c.0.as_str()).collect();
        assert_eq!(constants, model.constants(), "{}: CONSTANTS", model.module());
        assert_eq!(module.variables, model.variables(), "{}: VARIABLES", model.module());
        for name in model.property_names() {
            assert!(module.defines(name), "{}: Rust property {name} has no definition in the .tla", model.module());
        }
    }
}

#[test]
fn every_property_is_checked_by_the_default_config() {
    for model in registry() {
        let default = all_configs().into_iter().find(|f| f.module_stem() == model.module() && f.config_label() == "default").unwrap();
        let cfg = Cfg::read(&default.cfg).unwrap();
        let listed: BTreeSet<String> = cfg.checked_names().map(|n| n.name.clone()).collect();
        for name in model.property_names() {
            assert!(listed.contains(name), "{}: the default config does not check {name}", model.module());
        }
    }
}

fn strings(v: Value) -> BTreeSet<String> {
    let Value::Set(items) = v else { panic!("a set") };
    items.into_iter().map(|i| match i {
        Value::Str(s) => s,
        other => panic!("a string, found {other}"),
    }).collect()
}

/// (module path, the Rust model's fault names, its bug names)
fn fault_and_bug_lists() -> Vec<(&'static str, &'static [&'static str], &'static [&'static str])> {
    use tracewright::models::{trace_context, workflow};
    vec![
        ("specs/trace_context/TraceContext.tla", &trace_context::FAULTS, &trace_context::BUGS),
        ("specs/workflow/Workflow.tla", &workflow::FAULTS, &workflow::BUGS),
    ]
}

#[test]
fn faults_and_bugs_are_the_same_in_tla_and_rust() {
    let rust = |names: &[&str]| names.iter().map(|s| s.to_string()).collect::<BTreeSet<_>>();
    assert_eq!(fault_and_bug_lists().len(), registry().len(), "every model lists its faults and bugs here");
    for (path, faults, bugs) in fault_and_bug_lists() {
        let module = Module::read(&repo().join(path)).unwrap();
        assert_eq!(strings(module.evaluate("FaultNames").unwrap()), rust(faults), "{path}");
        assert_eq!(strings(module.evaluate("BugNames").unwrap()), rust(bugs), "{path}");
    }
}

#[test]
fn every_fault_and_bug_has_a_config_that_breaks_something() {
    for (path, faults, bugs) in fault_and_bug_lists() {
        let module = Module::read(&repo().join(path)).unwrap();
        let labels: BTreeSet<String> =
            all_configs().iter().filter(|f| f.module_stem() == module.name).map(|f| f.config_label()).collect();
        for fault in faults {
            assert!(labels.contains(&format!("fault_{fault}")), "{}: no config for fault {fault}", module.name);
        }
        for bug in bugs {
            assert!(labels.contains(&format!("bug_{bug}")), "{}: no config for bug {bug}", module.name);
        }
    }
}
