//! The README and `docs/*.md` link only to what exists: every relative Markdown link names a file
//! of the repository, and its `#anchor` (a link within one document too) a heading of the target,
//! by GitHub's slug rules.
//!
//! Never here: what the documents say (the suites that pin a documented fact, such as the error
//! table, read the document themselves); links to other sites (nothing here goes online).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Component, Path, PathBuf};

/// The repository's root (the tests crate is one level under it).
fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// `README.md` and every `docs/*.md`, by their paths from the root (`/`-separated).
fn documents(root: &Path) -> BTreeMap<String, String> {
    let mut docs = BTreeMap::new();
    let read = |path: &Path| {
        std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    };
    docs.insert("README.md".to_string(), read(&root.join("README.md")));
    let dir = root.join("docs");
    for entry in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let path = entry.expect("a docs/ entry").path();
        if path.extension().is_some_and(|ext| ext == "md") {
            let name = path.file_name().expect("a file name").to_string_lossy();
            docs.insert(format!("docs/{name}"), read(&path));
        }
    }
    docs
}

/// The lines of a Markdown text outside fenced code blocks (``` or ~~~), with their numbers.
fn prose_lines(text: &str) -> Vec<(usize, &str)> {
    let mut lines = Vec::new();
    let mut fence: Option<(char, usize)> = None;
    for (n, line) in text.lines().enumerate() {
        let trimmed = line.trim_start();
        let marker = trimmed.chars().next().filter(|c| *c == '`' || *c == '~');
        let run = marker.map_or(0, |c| trimmed.chars().take_while(|x| *x == c).count());
        match (fence, marker) {
            (None, Some(c)) if run >= 3 && line.len() - trimmed.len() <= 3 => {
                fence = Some((c, run));
            }
            (Some((c, open)), Some(m))
                if m == c && run >= open && trimmed[run..].trim().is_empty() =>
            {
                fence = None;
            }
            (None, _) => lines.push((n + 1, line)),
            _ => {}
        }
    }
    lines
}

/// A line with its inline code spans (`…`, ``…``) taken out.
fn without_code_spans(line: &str) -> String {
    let chars: Vec<char> = line.chars().collect();
    let mut out = String::new();
    let mut i = 0;
    while i < chars.len() {
        if chars[i] != '`' {
            out.push(chars[i]);
            i += 1;
            continue;
        }
        let run = chars[i..].iter().take_while(|c| **c == '`').count();
        // The span closes at the next run of exactly as many backticks; unclosed, they are text.
        let mut j = i + run;
        let mut close = None;
        while j < chars.len() {
            if chars[j] == '`' {
                let other = chars[j..].iter().take_while(|c| **c == '`').count();
                if other == run {
                    close = Some(j + other);
                    break;
                }
                j += other;
            } else {
                j += 1;
            }
        }
        match close {
            Some(end) => i = end,
            None => {
                out.extend(&chars[i..i + run]);
                i += run;
            }
        }
    }
    out
}

/// The targets of the inline links and images (`[text](target "title")`) and of the reference
/// definitions (`[label]: target`) of a Markdown text, with their line numbers.
fn links(text: &str) -> Vec<(usize, String)> {
    let mut found = Vec::new();
    for (n, line) in prose_lines(text) {
        let line = without_code_spans(line);
        let trimmed = line.trim_start();
        if trimmed.starts_with('[')
            && let Some(end) = trimmed.find("]:")
            && !trimmed[..end].contains(']')
        {
            let target = trimmed[end + 2..].split_whitespace().next().unwrap_or("");
            found.push((n, target.trim_matches(['<', '>']).to_string()));
            continue;
        }
        let mut rest = line.as_str();
        while let Some(at) = rest.find("](") {
            let after = &rest[at + 2..];
            // The target runs to the `)` that balances the opening one.
            let mut depth = 0usize;
            let mut end = after.len();
            for (i, c) in after.char_indices() {
                match c {
                    '(' => depth += 1,
                    ')' if depth == 0 => {
                        end = i;
                        break;
                    }
                    ')' => depth -= 1,
                    _ => {}
                }
            }
            let inside = after[..end].trim();
            let target = match inside.strip_prefix('<') {
                Some(angled) => angled.split('>').next().unwrap_or(""),
                None => inside.split_whitespace().next().unwrap_or(""),
            };
            found.push((n, target.to_string()));
            rest = &after[end.min(after.len())..];
        }
    }
    found
}

/// GitHub's anchor for a heading's text: lower-case; spaces become `-`; every character but
/// letters, digits, `-` and `_` is dropped (so markup like backticks goes too).
fn slug(heading: &str) -> String {
    heading
        .trim()
        .to_lowercase()
        .chars()
        .filter_map(|c| match c {
            ' ' => Some('-'),
            c if c.is_alphanumeric() || c == '-' || c == '_' => Some(c),
            _ => None,
        })
        .collect()
}

/// The anchors of a Markdown text's ATX headings (`#` to `######`), a repeated one numbered
/// `-1`, `-2`, … as GitHub does.
fn anchors(text: &str) -> BTreeSet<String> {
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    let mut anchors = BTreeSet::new();
    for (_, line) in prose_lines(text) {
        let trimmed = line.trim_start();
        let level = trimmed.chars().take_while(|c| *c == '#').count();
        if !(1..=6).contains(&level) || line.len() - trimmed.len() > 3 {
            continue;
        }
        let rest = &trimmed[level..];
        if !(rest.is_empty() || rest.starts_with(' ') || rest.starts_with('\t')) {
            continue;
        }
        // A closing run of `#` is not part of the heading.
        let text = rest.trim().trim_end_matches('#').trim_end();
        let base = slug(text);
        let count = seen.entry(base.clone()).or_insert(0);
        let anchor = if *count == 0 {
            base.clone()
        } else {
            format!("{base}-{count}")
        };
        *count += 1;
        anchors.insert(anchor);
    }
    anchors
}

/// `dir/../a/./b` as `a/b`; `None` when it climbs out of the root.
fn normalise(path: &Path) -> Option<String> {
    let mut parts: Vec<String> = Vec::new();
    for component in path.components() {
        match component {
            Component::Normal(part) => parts.push(part.to_string_lossy().into_owned()),
            Component::ParentDir => {
                parts.pop()?;
            }
            Component::CurDir => {}
            Component::RootDir | Component::Prefix(_) => return None,
        }
    }
    Some(parts.join("/"))
}

/// Every relative link of `docs` (paths from the root → text) whose file is neither one of
/// `docs` nor a file under `root`, or whose anchor is no heading of its Markdown target.
fn broken_links(root: &Path, docs: &BTreeMap<String, String>) -> Vec<String> {
    let mut broken = Vec::new();
    for (name, text) in docs {
        for (line, target) in links(text) {
            let is_external = target.contains("://") || target.starts_with("mailto:");
            if is_external || target.is_empty() {
                continue;
            }
            let (file, anchor) = match target.split_once('#') {
                Some((file, anchor)) => (file, Some(anchor)),
                None => (target.as_str(), None),
            };
            let resolved = if file.is_empty() {
                Some(name.clone())
            } else {
                let dir = Path::new(name).parent().unwrap_or(Path::new(""));
                normalise(&dir.join(file))
            };
            let Some(resolved) = resolved else {
                broken.push(format!("{name}:{line}: `{target}` leaves the repository"));
                continue;
            };
            let resolved = resolved.trim_end_matches('/').to_string();
            match (docs.get(&resolved), anchor) {
                (Some(target_text), Some(anchor)) => {
                    if !anchors(target_text).contains(anchor) {
                        broken.push(format!(
                            "{name}:{line}: `{target}`: {resolved} has no heading `#{anchor}`"
                        ));
                    }
                }
                (Some(_), None) => {}
                (None, anchor) => {
                    let on_disk = root.join(&resolved);
                    if !on_disk.exists() {
                        broken.push(format!("{name}:{line}: `{target}`: no file {resolved}"));
                    } else if let (Some(anchor), true) =
                        (anchor, on_disk.extension().is_some_and(|ext| ext == "md"))
                    {
                        let text = std::fs::read_to_string(&on_disk).unwrap_or_default();
                        if !anchors(&text).contains(anchor) {
                            broken.push(format!(
                                "{name}:{line}: `{target}`: {resolved} has no heading `#{anchor}`"
                            ));
                        }
                    }
                }
            }
        }
    }
    broken
}

#[test]
fn every_relative_link_of_the_readme_and_docs_resolves() {
    let root = root();
    let docs = documents(&root);
    assert!(
        docs.len() > 1,
        "docs/ holds the reference: {:?}",
        docs.keys()
    );
    let broken = broken_links(&root, &docs);
    assert!(broken.is_empty(), "broken links:\n{}", broken.join("\n"));
}

#[test]
fn the_readme_links_every_document_of_docs() {
    let docs = documents(&root());
    let readme_targets: BTreeSet<String> = links(&docs["README.md"])
        .into_iter()
        .map(|(_, target)| target.split('#').next().unwrap_or("").to_string())
        .collect();
    let unlinked: Vec<&String> = docs
        .keys()
        .filter(|name| *name != "README.md" && !readme_targets.contains(*name))
        .collect();
    assert!(unlinked.is_empty(), "README.md links none of {unlinked:?}");
}

#[test]
fn the_check_finds_a_missing_file_a_missing_anchor_and_a_missing_heading_here() {
    let docs = BTreeMap::from([
        (
            "README.md".to_string(),
            "# Title\n\n## What it is (`x`)\n\nSee [api](docs/api.md#get), [gone](docs/gone.md), \
             [here](#nowhere), [there](#what-it-is-x), [a](docs/api.md#get-1), \
             [site](https://example.com/x#y) and `[code](docs/none.md)`.\n\n```sh\n\
             # not a heading\n[fenced](docs/none.md)\n```\n"
                .to_string(),
        ),
        (
            "docs/api.md".to_string(),
            "# API\n\n## Get\n\n### get\n\n[up](../README.md#title) [bad](../README.md#not-a-heading)\n"
                .to_string(),
        ),
    ]);
    let broken: BTreeSet<String> = broken_links(&root(), &docs).into_iter().collect();
    let expected: BTreeSet<String> = [
        "README.md:5: `docs/gone.md`: no file docs/gone.md",
        "README.md:5: `#nowhere`: README.md has no heading `#nowhere`",
        "docs/api.md:7: `../README.md#not-a-heading`: README.md has no heading `#not-a-heading`",
    ]
    .map(String::from)
    .into();
    assert_eq!(broken, expected);
}

#[test]
fn slugs_follow_github() {
    assert_eq!(slug("Stream callbacks"), "stream-callbacks");
    assert_eq!(
        slug("DynamoDB calls per invocation (`scripts/bench calls`)"),
        "dynamodb-calls-per-invocation-scriptsbench-calls"
    );
    assert_eq!(
        slug("Presence, metrics and reclamation"),
        "presence-metrics-and-reclamation"
    );
    assert_eq!(slug("The local server"), "the-local-server");
    assert_eq!(slug("snake_case and-dash"), "snake_case-and-dash");
}
