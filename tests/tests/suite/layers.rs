//! Issue 22, 7: the core crate's imports point one way. Every `crate::` path of every
//! `shared/src` file (its test modules and `shared/src/tests/` aside) is resolved to the file it
//! names, and the tests fail, each with a readable list, on:
//!
//! - an import cycle between files (each strongly connected component, with its files and the
//!   imports that close it);
//! - an import from a module up to a module of a higher layer (imports within a layer are fine
//!   when acyclic);
//! - a top-level module `lib.rs` declares (or `shared/src` holds) that the layer table does not
//!   list, a listed one that exists but is not declared, or a module list in `lib.rs`'s docs
//!   that is not the table's.
//!
//! The layer table is the first ```` ```text ```` block of `shared/src/lib.rs`'s `//!` docs, one
//! line per layer, bottom first: `name: module module …` (a line without a `name:` goes on with
//! the layer above). A listed module that does not exist yet is fine.
//!
//! Resolution: `crate::a::b::c` names the file of the longest module path that exists
//! (`a/b.rs` or `a/b/mod.rs`; an inline module is its file's). `crate::X`, where `X` is not a
//! module, names the file `lib.rs` re-exports it from (`pub use`), the file of a
//! `#[macro_export]` macro `X`, or else `lib.rs` itself, the root. The root counts as a file in
//! cycles and is seen through in the layer check: importing one of its items is importing
//! what the root imports. `super::` and `self::` paths are not followed.
//!
//! The parser is a small lexer (comments, strings and characters dropped), tested below on its
//! own so that a failure is the crate's, not the parser's.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// The root of the core crate's modules.
fn src_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/src")
}

/// The file of the crate root, among the files (paths relative to `shared/src`).
const ROOT: &str = "lib.rs";

// ---------------------------------------------------------------------------------------------
// The lexer

#[derive(Clone, Debug, PartialEq)]
enum Tok {
    Ident(String),
    /// `::`
    Sep,
    Punct(char),
    /// A string literal that is exactly a `crate::` path (`#[serde(with = "crate::clock::micros")]`).
    PathStr(String),
}

#[derive(Clone, Debug)]
struct Token {
    tok: Tok,
    line: usize,
}

impl Token {
    fn ident(&self) -> Option<&str> {
        match &self.tok {
            Tok::Ident(w) => Some(w),
            _ => None,
        }
    }

    fn is(&self, c: char) -> bool {
        self.tok == Tok::Punct(c)
    }

    fn is_word(&self, w: &str) -> bool {
        self.ident() == Some(w)
    }
}

fn is_ident_start(c: char) -> bool {
    c.is_alphabetic() || c == '_'
}

fn is_ident_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// The index after a `"…"` literal whose opening quote is just before `i`.
fn skip_string(s: &[char], mut i: usize, line: &mut usize) -> usize {
    while i < s.len() {
        match s[i] {
            '\\' => {
                if s.get(i + 1) == Some(&'\n') {
                    *line += 1;
                }
                i += 2;
            }
            '"' => return i + 1,
            c => {
                if c == '\n' {
                    *line += 1;
                }
                i += 1;
            }
        }
    }
    i
}

/// The index after a raw string (`r#"…"#`) whose opening quote is just before `i`.
fn skip_raw_string(s: &[char], mut i: usize, hashes: usize, line: &mut usize) -> usize {
    while i < s.len() {
        if s[i] == '"' && (1..=hashes).all(|k| s.get(i + k) == Some(&'#')) {
            return i + 1 + hashes;
        }
        if s[i] == '\n' {
            *line += 1;
        }
        i += 1;
    }
    i
}

/// The index after the character literal starting at the quote `s[i]`, or `None` when the
/// quote starts a lifetime or a label.
fn char_literal_end(s: &[char], i: usize) -> Option<usize> {
    if s.get(i + 1) == Some(&'\\') {
        let mut j = i + 3;
        while j < s.len() && s[j] != '\'' {
            j += 1;
        }
        Some(j + 1)
    } else if s.get(i + 2) == Some(&'\'') {
        Some(i + 3)
    } else {
        None
    }
}

/// Whether `text` is a path `crate::a::b…` and nothing else.
fn is_crate_path(text: &str) -> bool {
    let mut segs = text.split("::");
    segs.next() == Some("crate")
        && text.contains("::")
        && segs.all(|seg| seg.starts_with(is_ident_start) && seg.chars().all(is_ident_char))
}

/// The identifiers, `::` and punctuation of Rust source, without comments, literals and
/// numbers.
fn lex(src: &str) -> Vec<Token> {
    let s: Vec<char> = src.chars().collect();
    let mut out = Vec::new();
    let mut line = 1;
    let mut i = 0;
    while i < s.len() {
        let c = s[i];
        let next = s.get(i + 1).copied();
        if c == '\n' {
            line += 1;
            i += 1;
        } else if c.is_whitespace() {
            i += 1;
        } else if c == '/' && next == Some('/') {
            while i < s.len() && s[i] != '\n' {
                i += 1;
            }
        } else if c == '/' && next == Some('*') {
            let mut depth = 0;
            while i < s.len() {
                if s[i] == '/' && s.get(i + 1) == Some(&'*') {
                    depth += 1;
                    i += 2;
                } else if s[i] == '*' && s.get(i + 1) == Some(&'/') {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    if s[i] == '\n' {
                        line += 1;
                    }
                    i += 1;
                }
            }
        } else if c == '"' {
            let (start, at) = (i + 1, line);
            i = skip_string(&s, start, &mut line);
            let text: String = s[start..i.saturating_sub(1).max(start)].iter().collect();
            if is_crate_path(&text) {
                out.push(Token {
                    tok: Tok::PathStr(text),
                    line: at,
                });
            }
        } else if c == '\'' {
            i = char_literal_end(&s, i).unwrap_or(i + 1);
        } else if is_ident_start(c) {
            let start = i;
            while i < s.len() && is_ident_char(s[i]) {
                i += 1;
            }
            let word: String = s[start..i].iter().collect();
            let mut hashes = 0;
            while s.get(i + hashes) == Some(&'#') {
                hashes += 1;
            }
            let after = s.get(i + hashes).copied();
            if matches!(word.as_str(), "r" | "br" | "cr") && after == Some('"') {
                i = skip_raw_string(&s, i + hashes + 1, hashes, &mut line);
            } else if word == "r" && hashes == 1 && after.is_some_and(is_ident_start) {
                let start = i + 1;
                i = start;
                while i < s.len() && is_ident_char(s[i]) {
                    i += 1;
                }
                let tok = Tok::Ident(s[start..i].iter().collect());
                out.push(Token { tok, line });
            } else if matches!(word.as_str(), "b" | "c") && s.get(i) == Some(&'"') {
                i = skip_string(&s, i + 1, &mut line);
            } else if word == "b" && s.get(i) == Some(&'\'') {
                i = char_literal_end(&s, i).unwrap_or(i + 1);
            } else {
                out.push(Token {
                    tok: Tok::Ident(word),
                    line,
                });
            }
        } else if c.is_ascii_digit() {
            while i < s.len() && is_ident_char(s[i]) {
                i += 1;
            }
        } else if c == ':' && next == Some(':') {
            out.push(Token {
                tok: Tok::Sep,
                line,
            });
            i += 2;
        } else {
            out.push(Token {
                tok: Tok::Punct(c),
                line,
            });
            i += 1;
        }
    }
    out
}

/// The index after the `#[…]` attribute starting at `i`, if one does.
fn attribute_end(toks: &[Token], i: usize) -> Option<usize> {
    if !(toks.get(i)?.is('#') && toks.get(i + 1)?.is('[')) {
        return None;
    }
    let mut depth = 0;
    for (j, t) in toks.iter().enumerate().skip(i + 1) {
        if t.is('[') {
            depth += 1;
        } else if t.is(']') {
            depth -= 1;
            if depth == 0 {
                return Some(j + 1);
            }
        }
    }
    Some(toks.len())
}

/// Whether `toks[i..]` starts with `#[cfg(test)]`.
fn is_cfg_test(toks: &[Token], i: usize) -> bool {
    let want = [
        Tok::Punct('#'),
        Tok::Punct('['),
        Tok::Ident("cfg".into()),
        Tok::Punct('('),
        Tok::Ident("test".into()),
        Tok::Punct(')'),
        Tok::Punct(']'),
    ];
    toks.len() >= i + want.len()
        && toks[i..i + want.len()]
            .iter()
            .zip(&want)
            .all(|(t, w)| t.tok == *w)
}

/// The index after the item whose attributes start at `i`: its `;` or its closing brace.
fn item_end(toks: &[Token], mut i: usize) -> usize {
    while let Some(end) = attribute_end(toks, i) {
        i = end;
    }
    let mut depth = 0i32;
    while i < toks.len() {
        let t = &toks[i];
        if t.is('(') || t.is('[') || t.is('{') {
            depth += 1;
        } else if t.is(')') || t.is(']') {
            depth -= 1;
        } else if t.is('}') {
            depth -= 1;
            if depth == 0 {
                return i + 1;
            }
        } else if t.is(';') && depth == 0 {
            return i + 1;
        }
        i += 1;
    }
    i
}

/// `toks` without the items under `#[cfg(test)]` (the test modules).
fn without_tests(toks: &[Token]) -> Vec<Token> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < toks.len() {
        if is_cfg_test(toks, i) {
            i = item_end(toks, i);
        } else {
            out.push(toks[i].clone());
            i += 1;
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Paths

/// One path a file names: its segments below the crate root, and the name it binds in a `use`
/// (its last segment or its `as` rename; `None` for a glob).
#[derive(Clone, Debug, PartialEq)]
struct Named {
    line: usize,
    path: Vec<String>,
    name: Option<String>,
}

impl Named {
    fn text(&self) -> String {
        let mut text = String::from("crate");
        for seg in &self.path {
            text.push_str("::");
            text.push_str(seg);
        }
        text
    }
}

/// Reads the use tree (or plain path) at `i` below `prefix` into `out`; returns the index after
/// it.
fn tree(toks: &[Token], mut i: usize, mut prefix: Vec<String>, out: &mut Vec<Named>) -> usize {
    loop {
        let Some(t) = toks.get(i) else {
            return i;
        };
        let line = t.line;
        if let Some(word) = t.ident() {
            i += 1;
            let is_self = word == "self";
            if !is_self {
                prefix.push(word.to_owned());
            }
            if !is_self && toks.get(i).is_some_and(|t| t.tok == Tok::Sep) {
                i += 1;
                continue;
            }
            let mut name = prefix.last().cloned();
            if toks.get(i).is_some_and(|t| t.is_word("as"))
                && let Some(alias) = toks.get(i + 1).and_then(Token::ident)
            {
                name = Some(alias.to_owned());
                i += 2;
            }
            out.push(Named {
                line,
                path: prefix,
                name,
            });
            return i;
        } else if t.is('{') {
            i += 1;
            while let Some(t) = toks.get(i) {
                if t.is('}') {
                    return i + 1;
                }
                if t.is(',') {
                    i += 1;
                    continue;
                }
                let end = tree(toks, i, prefix.clone(), out);
                i = if end == i { i + 1 } else { end };
            }
            return i;
        } else {
            let glob = t.is('*');
            if !prefix.is_empty() {
                out.push(Named {
                    line,
                    path: prefix,
                    name: None,
                });
            }
            return if glob { i + 1 } else { i };
        }
    }
}

/// Every path in `toks` whose first segment `starts` one (`crate` always, read as the root),
/// with use trees expanded, and the `crate::` paths an attribute gives as strings. A visibility
/// (`pub(in crate::a)`) names nothing.
fn paths(toks: &[Token], starts: &dyn Fn(&str) -> bool) -> Vec<Named> {
    let mut out = Vec::new();
    let mut attribute_until = 0;
    for i in 0..toks.len() {
        if let Some(end) = attribute_end(toks, i) {
            attribute_until = attribute_until.max(end);
        }
        if let Tok::PathStr(text) = &toks[i].tok {
            if i < attribute_until {
                let path: Vec<String> = text.split("::").skip(1).map(str::to_owned).collect();
                out.push(Named {
                    line: toks[i].line,
                    name: path.last().cloned(),
                    path,
                });
            }
            continue;
        }
        let Some(word) = toks[i].ident() else {
            continue;
        };
        if !(word == "crate" || starts(word)) || toks.get(i + 1).map(|t| &t.tok) != Some(&Tok::Sep)
        {
            continue;
        }
        if i > 0 && (toks[i - 1].tok == Tok::Sep || toks[i - 1].is('.')) {
            continue;
        }
        if i > 1 && toks[i - 1].is_word("in") && toks[i - 2].is('(') {
            continue;
        }
        let prefix = if word == "crate" {
            Vec::new()
        } else {
            vec![word.to_owned()]
        };
        tree(toks, i + 2, prefix, &mut out);
    }
    out
}

/// The `crate::` paths of a file of the crate (not its root).
fn crate_paths(src: &str) -> Vec<Named> {
    paths(&without_tests(&lex(src)), &|_| false)
}

/// The top-level modules the root declares (`mod x;`, `pub mod x;`, with any attributes).
fn declared_modules(toks: &[Token]) -> BTreeSet<String> {
    toks.windows(3)
        .filter(|w| w[0].is_word("mod") && (w[2].is(';') || w[2].is('{')))
        .filter_map(|w| w[1].ident().map(str::to_owned))
        .collect()
}

/// The macros a file exports at the crate root (`#[macro_export] macro_rules! name`).
fn exported_macros(toks: &[Token]) -> Vec<String> {
    let mut out = Vec::new();
    for i in 0..toks.len() {
        if !(toks[i].is('#') && toks.get(i + 2).is_some_and(|t| t.is_word("macro_export"))) {
            continue;
        }
        let mut j = i;
        while let Some(end) = attribute_end(toks, j) {
            j = end;
        }
        if toks.get(j).is_some_and(|t| t.is_word("macro_rules"))
            && toks.get(j + 1).is_some_and(|t| t.is('!'))
            && let Some(name) = toks.get(j + 2).and_then(Token::ident)
        {
            out.push(name.to_owned());
        }
    }
    out
}

/// What the root's source says: the paths it names (its own `use`s, re-exports and inline
/// paths, relative ones included: in the root, `a::b` is `crate::a::b`), and which of them are
/// re-exports.
struct RootSource {
    declared: BTreeSet<String>,
    /// Every path the root names.
    names: Vec<Named>,
    /// The names `pub use` binds at the root, with the path each binds.
    reexports: HashMap<String, Vec<String>>,
}

fn root_source(src: &str, modules: &BTreeSet<String>) -> RootSource {
    let toks = without_tests(&lex(src));
    let starts = |w: &str| w == "self" || modules.contains(w);
    let mut names = Vec::new();
    let mut reexports = HashMap::new();
    let mut rest = Vec::new();
    let mut i = 0;
    while i < toks.len() {
        if !toks[i].is_word("use") {
            rest.push(toks[i].clone());
            i += 1;
            continue;
        }
        let public = i > 0 && (toks[i - 1].is_word("pub") || toks[i - 1].is(')'));
        let end = (i..toks.len())
            .find(|&j| toks[j].is(';'))
            .unwrap_or(toks.len());
        let mut start = i + 1;
        if toks.get(start).is_some_and(|t| t.tok == Tok::Sep) {
            start += 1;
        }
        let mut found = Vec::new();
        if toks
            .get(start)
            .and_then(Token::ident)
            .is_some_and(|w| w == "crate" || w == "self")
            && toks.get(start + 1).is_some_and(|t| t.tok == Tok::Sep)
        {
            start += 2;
        }
        tree(&toks[..end], start, Vec::new(), &mut found);
        for named in found {
            if !named.path.first().is_some_and(|m| modules.contains(m)) {
                continue;
            }
            if public && let Some(name) = &named.name {
                reexports.insert(name.clone(), named.path.clone());
            }
            names.push(named);
        }
        i = end;
    }
    names.extend(paths(&rest, &starts).into_iter().map(|mut n| {
        if n.path.first().is_some_and(|s| s == "self") {
            n.path.remove(0);
        }
        n
    }));
    RootSource {
        declared: declared_modules(&toks),
        names,
        reexports,
    }
}

// ---------------------------------------------------------------------------------------------
// The crate

/// The layer table: its layers bottom first, each with its modules.
fn layer_table(lib: &str) -> Vec<(String, Vec<String>)> {
    let mut table: Vec<(String, Vec<String>)> = Vec::new();
    let mut inside = false;
    for line in lib.lines() {
        let Some(doc) = line.trim_start().strip_prefix("//!") else {
            continue;
        };
        let doc = doc.trim();
        if !inside {
            inside = doc == "```text";
            continue;
        }
        if doc == "```" {
            break;
        }
        if doc.is_empty() {
            continue;
        }
        let (layer, modules) = match doc.split_once(':') {
            Some((layer, modules)) => (Some(layer), modules),
            None => (None, doc),
        };
        let modules = modules.split_whitespace().map(str::to_owned);
        match layer {
            Some(layer) => table.push((layer.trim().to_owned(), modules.collect())),
            None => table
                .last_mut()
                .unwrap_or_else(|| panic!("the layer table starts with `name:`, not {doc:?}"))
                .1
                .extend(modules),
        }
    }
    assert!(
        !table.is_empty(),
        "shared/src/lib.rs's docs have no ```text block with the layer table"
    );
    table
}

/// The modules the root's docs describe: the `` - `name`: … `` lines.
fn documented_modules(lib: &str) -> Vec<String> {
    lib.lines()
        .filter_map(|l| l.trim_start().strip_prefix("//!"))
        .filter_map(|d| d.trim().strip_prefix("- `"))
        .filter_map(|d| d.split_once('`').map(|(name, _)| name.to_owned()))
        .collect()
}

/// The module path of a file (relative to `shared/src`).
fn module_path(file: &str) -> Vec<String> {
    let mut path: Vec<String> = file
        .trim_end_matches(".rs")
        .split('/')
        .map(str::to_owned)
        .collect();
    if file == ROOT || path.last().is_some_and(|l| l == "mod") {
        path.pop();
    }
    path
}

/// The files under `dir`, relative to `base`, with `/` separators, `tests/` left out.
fn rust_files(base: &Path, dir: &Path, out: &mut Vec<String>) {
    for entry in std::fs::read_dir(dir).expect("shared/src is readable") {
        let path = entry.expect("a directory entry").path();
        let rel = path
            .strip_prefix(base)
            .expect("under shared/src")
            .to_string_lossy()
            .replace('\\', "/");
        if path.is_dir() {
            if rel != "tests" {
                rust_files(base, &path, out);
            }
        } else if rel.ends_with(".rs") {
            out.push(rel);
        }
    }
}

/// An import between two files: where, and the path named.
#[derive(Clone, Debug)]
struct Import {
    line: usize,
    text: String,
}

/// The upward imports, by (lower layer, higher layer), then by (from file, to file).
type Upward = BTreeMap<(usize, usize), BTreeMap<(String, String), Vec<Import>>>;

/// The core crate as the layering sees it.
struct Crate {
    /// Module path → file.
    modules: HashMap<Vec<String>, String>,
    /// The top-level modules: what `shared/src` holds (files and directories) and what the
    /// root declares.
    on_disk: BTreeSet<String>,
    declared: BTreeSet<String>,
    reexports: HashMap<String, Vec<String>>,
    macros: HashMap<String, String>,
    /// File → file it imports → the imports.
    edges: BTreeMap<String, BTreeMap<String, Vec<Import>>>,
}

impl Crate {
    /// Reads `files` (relative path → source; the root is `lib.rs`).
    fn new(files: &BTreeMap<String, String>) -> Self {
        let modules: HashMap<Vec<String>, String> =
            files.keys().map(|f| (module_path(f), f.clone())).collect();
        let on_disk: BTreeSet<String> = files
            .keys()
            .filter(|f| f.as_str() != ROOT)
            .filter_map(|f| module_path(f).first().cloned())
            .collect();
        let root = root_source(files.get(ROOT).map_or("", String::as_str), &on_disk);
        let mut krate = Self {
            modules,
            on_disk,
            declared: root.declared,
            reexports: root.reexports,
            macros: HashMap::new(),
            edges: BTreeMap::new(),
        };
        let mut named = BTreeMap::new();
        for (file, src) in files {
            let toks = without_tests(&lex(src));
            for name in exported_macros(&toks) {
                krate.macros.insert(name, file.clone());
            }
            if file != ROOT {
                named.insert(file.clone(), paths(&toks, &|_| false));
            }
        }
        named.insert(ROOT.to_owned(), root.names);
        for (file, list) in named {
            let edges = krate.edges.entry(file.clone()).or_default();
            for n in list {
                let Some(to) = resolve_in(&krate.modules, &krate.reexports, &krate.macros, &n.path)
                else {
                    continue;
                };
                if to != file {
                    edges.entry(to).or_default().push(Import {
                        line: n.line,
                        text: n.text(),
                    });
                }
            }
        }
        krate
    }

    /// Reads `shared/src`.
    fn load() -> Self {
        let base = src_dir();
        let mut list = Vec::new();
        rust_files(&base, &base, &mut list);
        let files = list
            .into_iter()
            .map(|f| {
                let src = std::fs::read_to_string(base.join(&f)).expect("a readable source file");
                (f, src)
            })
            .collect();
        Self::new(&files)
    }

    /// The file `crate::<path>` names.
    fn resolve(&self, path: &[String]) -> Option<String> {
        resolve_in(&self.modules, &self.reexports, &self.macros, path)
    }

    /// The strongly connected components of more than one file (Tarjan).
    fn cycles(&self) -> Vec<Vec<String>> {
        struct Walk<'a> {
            edges: &'a BTreeMap<String, BTreeMap<String, Vec<Import>>>,
            index: HashMap<&'a str, usize>,
            low: HashMap<&'a str, usize>,
            stack: Vec<&'a str>,
            on_stack: BTreeSet<&'a str>,
            found: Vec<Vec<String>>,
        }
        impl<'a> Walk<'a> {
            fn visit(&mut self, v: &'a str) {
                let n = self.index.len();
                self.index.insert(v, n);
                self.low.insert(v, n);
                self.stack.push(v);
                self.on_stack.insert(v);
                for w in self.edges.get(v).into_iter().flat_map(|e| e.keys()) {
                    let w = w.as_str();
                    if !self.index.contains_key(w) {
                        self.visit(w);
                        let low = self.low[v].min(self.low[w]);
                        self.low.insert(v, low);
                    } else if self.on_stack.contains(w) {
                        let low = self.low[v].min(self.index[w]);
                        self.low.insert(v, low);
                    }
                }
                if self.low[v] == self.index[v] {
                    let mut component = Vec::new();
                    while let Some(w) = self.stack.pop() {
                        self.on_stack.remove(w);
                        component.push(w.to_owned());
                        if w == v {
                            break;
                        }
                    }
                    if component.len() > 1 {
                        component.sort();
                        self.found.push(component);
                    }
                }
            }
        }
        let mut walk = Walk {
            edges: &self.edges,
            index: HashMap::new(),
            low: HashMap::new(),
            stack: Vec::new(),
            on_stack: BTreeSet::new(),
            found: Vec::new(),
        };
        for v in self.edges.keys() {
            if !walk.index.contains_key(v.as_str()) {
                walk.visit(v);
            }
        }
        walk.found.sort();
        walk.found
    }

    /// The imports from a file up to a file of a higher layer: (from, to) → the imports, with
    /// the layers' names. An import of a root item counts as importing what the root imports.
    fn upward(&self, table: &[(String, Vec<String>)]) -> Upward {
        let layer_of = |file: &str| -> Option<usize> {
            let top = module_path(file).into_iter().next()?;
            table.iter().position(|(_, mods)| mods.contains(&top))
        };
        let root_imports: Vec<&String> = self
            .edges
            .get(ROOT)
            .map(|e| e.keys().collect())
            .unwrap_or_default();
        let mut found: BTreeMap<_, BTreeMap<_, Vec<Import>>> = BTreeMap::new();
        for (from, edges) in &self.edges {
            let Some(low) = layer_of(from) else {
                continue;
            };
            for (to, imports) in edges {
                let targets = if to == ROOT {
                    root_imports.clone()
                } else {
                    vec![to]
                };
                for target in targets {
                    let Some(high) = layer_of(target) else {
                        continue;
                    };
                    if high > low {
                        let shown = if to == ROOT {
                            format!("{target} (through {ROOT})")
                        } else {
                            target.clone()
                        };
                        found
                            .entry((low, high))
                            .or_default()
                            .entry((from.clone(), shown))
                            .or_default()
                            .extend(imports.iter().cloned());
                    }
                }
            }
        }
        found
    }
}

/// The file `crate::<path>` names: the longest module path that is a file; else, for a
/// name of the root, where it is re-exported from or the macro's file; else the root.
fn resolve_in(
    modules: &HashMap<Vec<String>, String>,
    reexports: &HashMap<String, Vec<String>>,
    macros: &HashMap<String, String>,
    path: &[String],
) -> Option<String> {
    for len in (1..=path.len()).rev() {
        if let Some(file) = modules.get(&path[..len]) {
            return Some(file.clone());
        }
    }
    let first = path.first()?;
    if let Some(to) = reexports.get(first) {
        // One step: a re-export of a re-export is not followed.
        return resolve_in(modules, &HashMap::new(), macros, to);
    }
    if let Some(file) = macros.get(first) {
        return Some(file.clone());
    }
    Some(ROOT.to_owned())
}

fn lib_source() -> String {
    std::fs::read_to_string(src_dir().join(ROOT)).expect("shared/src/lib.rs is readable")
}

fn list_imports(out: &mut String, imports: &[Import]) {
    let shown: Vec<String> = imports
        .iter()
        .map(|i| format!("{} (l.{})", i.text, i.line))
        .collect();
    let _ = write!(out, "{}", shown.join(", "));
}

// ---------------------------------------------------------------------------------------------
// The tests of the crate

#[test]
fn no_file_of_the_core_crate_imports_itself_back() {
    let krate = Crate::load();
    let cycles = krate.cycles();
    if cycles.is_empty() {
        return;
    }
    let files: usize = cycles.iter().map(Vec::len).sum();
    let mut out = format!(
        "{} import cycles in shared/src ({files} files); cut each (imports within a cycle, \
         from → to):\n",
        cycles.len()
    );
    for (k, cycle) in cycles.iter().enumerate() {
        let _ = writeln!(
            out,
            "\ncycle {} ({} files): {}",
            k + 1,
            cycle.len(),
            cycle.join(" ")
        );
        for from in cycle {
            for (to, imports) in &krate.edges[from] {
                if cycle.contains(to) {
                    let _ = write!(out, "  {from} → {to}: ");
                    list_imports(&mut out, imports);
                    out.push('\n');
                }
            }
        }
    }
    panic!("{out}");
}

#[test]
fn the_core_crates_imports_point_down_the_layers() {
    let table = layer_table(&lib_source());
    let krate = Crate::load();
    let upward = krate.upward(&table);
    if upward.is_empty() {
        return;
    }
    let pairs: usize = upward.values().map(BTreeMap::len).sum();
    let paths: usize = upward
        .values()
        .flat_map(BTreeMap::values)
        .map(Vec::len)
        .sum();
    let mut out = format!(
        "{pairs} upward imports in shared/src (file → file of a higher layer; {paths} paths), \
         against the layer table of shared/src/lib.rs:\n"
    );
    for ((low, high), found) in &upward {
        let _ = writeln!(
            out,
            "\n{} → {} ({}):",
            table[*low].0,
            table[*high].0,
            found.len()
        );
        for ((from, to), imports) in found {
            let _ = write!(out, "  {from} → {to}: ");
            list_imports(&mut out, imports);
            out.push('\n');
        }
    }
    panic!("{out}");
}

#[test]
fn the_layer_table_lists_exactly_the_modules_of_the_crate() {
    let lib = lib_source();
    let table = layer_table(&lib);
    let krate = Crate::load();
    let mut listed = BTreeSet::new();
    let mut problems = Vec::new();
    for (layer, modules) in &table {
        for m in modules {
            if !listed.insert(m.clone()) {
                problems.push(format!("`{m}` is listed twice (again in `{layer}`)"));
            }
        }
    }
    for m in krate.declared.union(&krate.on_disk) {
        if !listed.contains(m) {
            problems.push(format!(
                "`{m}` is a top-level module of shared/src but in no layer of the table"
            ));
        }
    }
    for m in &listed {
        if krate.on_disk.contains(m) && !krate.declared.contains(m) {
            problems.push(format!(
                "`{m}` is listed and in shared/src but lib.rs declares no `mod {m};`"
            ));
        }
    }
    let documented: BTreeSet<String> = documented_modules(&lib).into_iter().collect();
    if documented != listed {
        let missing: Vec<_> = listed.difference(&documented).collect();
        let extra: Vec<_> = documented.difference(&listed).collect();
        problems.push(format!(
            "lib.rs's module list (`- `name`: …` lines) is not the table's: \
             undescribed {missing:?}, not in the table {extra:?}"
        ));
    }
    assert!(
        problems.is_empty(),
        "the layer table of shared/src/lib.rs and the crate's modules disagree:\n  {}",
        problems.join("\n  ")
    );
}

// ---------------------------------------------------------------------------------------------
// The tests of the parser

fn path_texts(src: &str) -> Vec<String> {
    crate_paths(src).iter().map(Named::text).collect()
}

#[test]
fn the_parser_expands_nested_groups_self_and_renames() {
    let found = crate_paths(
        "use crate::domain::{room::{Action, Room as R}, self, UserId};\n\
         use crate::{App, presence::{self as p}};\n\
         use crate::store::*;",
    );
    let got: Vec<(String, Option<&str>)> = found
        .iter()
        .map(|n| (n.text(), n.name.as_deref()))
        .collect();
    assert_eq!(
        got,
        [
            ("crate::domain::room::Action".into(), Some("Action")),
            ("crate::domain::room::Room".into(), Some("R")),
            ("crate::domain".into(), Some("domain")),
            ("crate::domain::UserId".into(), Some("UserId")),
            ("crate::App".into(), Some("App")),
            ("crate::presence".into(), Some("p")),
            ("crate::store".into(), None),
        ]
    );
    assert_eq!(found[4].line, 2);
    assert_eq!(found[6].line, 3);
}

#[test]
fn the_parser_finds_inline_paths_and_macro_paths() {
    assert_eq!(
        path_texts(
            "fn f<'a>(x: &'a crate::store::Room) -> String {\n\
             let _ = crate::clock::rfc3339(&now) + crate::a::B::<T>::new();\n\
             $crate::store::Capability::Read; crate::needs!(X); x.crate_y::z;\n\
             }\n\
             pub(in crate::store) fn g<S: crate::store::RoomRead + crate::store::SessionRead>() {}"
        ),
        [
            "crate::store::Room",
            "crate::clock::rfc3339",
            "crate::a::B",
            "crate::store::Capability::Read",
            "crate::needs",
            "crate::store::RoomRead",
            "crate::store::SessionRead",
        ]
    );
}

#[test]
fn the_parser_skips_comments_strings_and_characters() {
    let src = r####"
        // use crate::rooms::x;
        /// [`crate::meeting::take_seat`]
        //! crate::doc
        /* crate::a /* nested crate::b */ crate::c */
        let s = "crate::in_string \" crate::still_in";
        let r = r#"crate::raw "quoted" crate::raw2"#;
        let b = b"crate::bytes"; let c = b'"'; let q = '"'; let e = '\''; let u = '\u{22}';
        let t = 'x'; let lf = '\n';
        use crate::real::Path;
        let r#type = crate::after::raw_ident;
    "####;
    assert_eq!(
        path_texts(src),
        ["crate::real::Path", "crate::after::raw_ident"]
    );
    assert_eq!(crate_paths(src)[0].line, 10);
}

#[test]
fn the_parser_reads_the_paths_attributes_give_as_strings() {
    assert_eq!(
        path_texts(
            "#[serde(default, with = \"crate::clock::micros_option\")]\n\
             #[doc = \"crate::not a path\"]\n\
             let s = \"crate::not::in_an_attribute\";"
        ),
        ["crate::clock::micros_option"]
    );
}

#[test]
fn the_parser_leaves_out_test_modules() {
    assert_eq!(
        path_texts(
            "#[cfg(test)]\n#[path = \"tests/x.rs\"]\nmod tests;\n\
             #[cfg(test)]\nmod inline { use crate::hidden::A; fn f() { crate::hidden::b(); } }\n\
             #[cfg(test)]\nuse crate::hidden::C;\n\
             #[cfg(not(test))]\nuse crate::kept::D;\n\
             use crate::after::E;"
        ),
        ["crate::kept::D", "crate::after::E"]
    );
}

/// A crate of a few files, by relative path and source.
fn toy(files: &[(&str, &str)]) -> Crate {
    Crate::new(
        &files
            .iter()
            .map(|(f, s)| ((*f).to_owned(), (*s).to_owned()))
            .collect(),
    )
}

fn segs(path: &str) -> Vec<String> {
    path.split("::").map(str::to_owned).collect()
}

#[test]
fn paths_resolve_to_the_longest_module_a_reexport_a_macro_or_the_root() {
    let krate = toy(&[
        (
            "lib.rs",
            "pub mod a;\n#[cfg(feature = \"x\")]\npub mod b;\nmod m;\n\
             pub use a::{Thing, inner::Deep as Renamed};\npub struct App;",
        ),
        ("a/mod.rs", "pub mod inner;"),
        ("a/inner.rs", ""),
        ("b.rs", ""),
        (
            "m.rs",
            "#[macro_export]\n#[doc(hidden)]\nmacro_rules! needs { () => {} }",
        ),
    ]);
    assert_eq!(
        krate.declared,
        ["a", "b", "m"].map(String::from).into_iter().collect()
    );
    for (path, file) in [
        ("a::inner::Deep::new", "a/inner.rs"),
        ("a::inner", "a/inner.rs"),
        ("a::Thing", "a/mod.rs"),
        ("b", "b.rs"),
        ("Thing", "a/mod.rs"),
        ("Renamed", "a/inner.rs"),
        ("needs", "m.rs"),
        ("App", "lib.rs"),
    ] {
        assert_eq!(krate.resolve(&segs(path)).as_deref(), Some(file), "{path}");
    }
}

#[test]
fn a_cycle_and_an_upward_import_are_found() {
    let krate = toy(&[
        (
            "lib.rs",
            "pub mod low;\npub mod mid;\npub mod high;\npub struct App(high::H);",
        ),
        ("low.rs", "use crate::mid::M;\n"),
        ("mid.rs", "use crate::low::L;\n"),
        ("high.rs", "use crate::{low::L, mid::M};"),
        ("base.rs", "fn f(app: &crate::App) {}"),
    ]);
    assert_eq!(
        krate.cycles(),
        [vec!["low.rs".to_owned(), "mid.rs".to_owned()]]
    );
    let table = layer_table(
        "//! ```text\n//! base: base\n//! low: low\n//!      mid\n//! high: high\n//! ```\n",
    );
    assert_eq!(
        table[1],
        ("low".to_owned(), vec!["low".to_owned(), "mid".to_owned()])
    );
    let upward = krate.upward(&table);
    let pairs: Vec<(usize, usize, String, String)> = upward
        .iter()
        .flat_map(|((l, h), found)| {
            found
                .keys()
                .map(move |(from, to)| (*l, *h, from.clone(), to.clone()))
        })
        .collect();
    assert_eq!(
        pairs,
        [(
            0,
            2,
            "base.rs".to_owned(),
            "high.rs (through lib.rs)".to_owned()
        )]
    );
}
