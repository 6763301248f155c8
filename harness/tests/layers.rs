//! The harness crate is a one-way stack: a module may use modules of lower
//! layers, never one above it. The bottom (`wire`) and the Plugin API server
//! (`api`) are crates of their own, so the compiler holds that line; inside
//! this crate, this test does. The layers are the ones ARCHITECTURE.md draws.

use std::{
    collections::BTreeSet,
    fs,
    path::{Path, PathBuf},
};

/// Bottom first. Modules on one line form one layer and must not use each
/// other in a circle; a module may use any module of a lower line.
const LAYERS: &[&[&str]] = &[
    &["wire", "api"],
    &["hooks"],
    &["launch"],
    &["session"],
    &["suite"],
    &["check"],
    &["engine"],
    &[
        "run", "fuzz", "latency", "soak", "front", "record", "control",
    ],
    &["report"],
];

fn layer_of(module: &str) -> Option<usize> {
    LAYERS.iter().position(|layer| layer.contains(&module))
}

fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in fs::read_dir(dir).expect("source directory is readable") {
        let path = entry.expect("directory entry").path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|ext| ext == "rs") {
            out.push(path);
        }
    }
}

/// The top-level modules a file names through `crate::`, in paths and in
/// `use crate::{...}` groups, ignoring its `#[cfg(test)]` part.
fn crate_modules_used(text: &str) -> BTreeSet<String> {
    let code = text.split("#[cfg(test)]").next().unwrap_or(text);
    let mut used = BTreeSet::new();
    let mut rest = code;
    while let Some(at) = rest.find("crate::") {
        rest = &rest[at + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            // Top-level names of the group: identifiers at depth 0.
            let mut depth = 0;
            let mut item = String::new();
            for ch in group.chars() {
                match ch {
                    '{' => depth += 1,
                    '}' if depth == 0 => break,
                    '}' => depth -= 1,
                    ',' if depth == 0 => {
                        used.extend(leading_ident(&item));
                        item.clear();
                        continue;
                    }
                    _ => {}
                }
                item.push(ch);
            }
            used.extend(leading_ident(&item));
        } else {
            used.extend(leading_ident(rest));
        }
    }
    used
}

fn leading_ident(text: &str) -> Option<String> {
    let ident: String = text
        .trim_start()
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect();
    (!ident.is_empty()).then_some(ident)
}

#[test]
fn no_module_uses_one_above_it() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    sources(&src, &mut files);
    let mut violations = Vec::new();
    let mut unplaced = BTreeSet::new();
    for file in &files {
        let relative = file.strip_prefix(&src).expect("under src");
        let module = relative
            .components()
            .next()
            .and_then(|c| c.as_os_str().to_str())
            .expect("a file name")
            .trim_end_matches(".rs")
            .to_owned();
        // The crate root and the command line sit above everything.
        if ["lib", "main", "cli"].contains(&module.as_str()) {
            continue;
        }
        let Some(own) = layer_of(&module) else {
            unplaced.insert(module);
            continue;
        };
        let text = fs::read_to_string(file).expect("source is readable");
        for used in crate_modules_used(&text) {
            if used == module {
                continue;
            }
            match layer_of(&used) {
                Some(layer) if layer < own => {}
                Some(_) => violations.push(format!(
                    "{} (layer {own}, `{module}`) uses `{used}`, which is not below it",
                    relative.display()
                )),
                None => {
                    unplaced.insert(used);
                }
            }
        }
    }
    assert!(
        unplaced.is_empty(),
        "modules missing from the layer table (add them to LAYERS and ARCHITECTURE.md): {unplaced:?}"
    );
    assert!(
        violations.is_empty(),
        "imports that run up the stack:\n{}",
        violations.join("\n")
    );
}

#[test]
fn the_parser_sees_groups_and_paths() {
    let text = "use crate::{\n    api::{ApiCall, World},\n    hooks::{self, Family},\n    wire,\n};\n\
                fn f() { crate::report::x(); }\n#[cfg(test)]\nmod tests { use crate::cli; }";
    let used: Vec<String> = crate_modules_used(text).into_iter().collect();
    assert_eq!(used, ["api", "hooks", "report", "wire"]);
}
