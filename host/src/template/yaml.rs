//! The line reader of the template: the one regular shape the template is written in
//! (two-space indents, one key per line, flow maps and lists of scalars only), read by line
//! (`block`, `children`, `child`, `find`) or, for the parts read whole, as JSON (`tree`).
//!
//! Never here: what any key means (`super` and `super::resources`).

pub(super) fn indent(line: &str) -> usize {
    line.len() - line.trim_start().len()
}

/// `key: value` of a trimmed line (value may be empty).
pub(super) fn key_value(line: &str) -> Option<(&str, &str)> {
    let t = line.trim();
    if t.starts_with('#') || t.starts_with("- ") {
        return None;
    }
    let (k, v) = t.split_once(':')?;
    if k.contains(' ') || k.is_empty() {
        return None;
    }
    let v = v.trim();
    // A trailing comment, outside quotes.
    let v = match v.find(" #") {
        Some(at) if !v.starts_with('"') && !v.starts_with('\'') => v[..at].trim_end(),
        _ => v,
    };
    Some((k, v))
}

pub(super) fn unquote(v: &str) -> String {
    let v = v.trim();
    for q in ['"', '\''] {
        if let Some(inner) = v.strip_prefix(q).and_then(|r| r.strip_suffix(q)) {
            return inner.to_owned();
        }
    }
    v.to_owned()
}

/// The block of lines under line `at` (those indented deeper), as indices.
pub(super) fn block(lines: &[&str], at: usize) -> std::ops::Range<usize> {
    let base = indent(lines[at]);
    let mut end = at + 1;
    while end < lines.len() {
        let l = lines[end];
        if !l.trim().is_empty() && !l.trim_start().starts_with('#') && indent(l) <= base {
            break;
        }
        end += 1;
    }
    at + 1..end
}

/// The direct children `key: value` of the block under `at`, with their line indices.
pub(super) fn children<'a>(lines: &[&'a str], at: usize) -> Vec<(usize, &'a str, &'a str)> {
    let range = block(lines, at);
    let child = range
        .clone()
        .map(|i| lines[i])
        .filter(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#'))
        .map(indent)
        .min();
    range
        .filter(|&i| Some(indent(lines[i])) == child)
        .filter_map(|i| key_value(lines[i]).map(|(k, v)| (i, k, v)))
        .collect()
}

pub(super) fn child<'a>(lines: &[&'a str], at: usize, key: &str) -> Option<(usize, &'a str)> {
    children(lines, at)
        .into_iter()
        .find(|(_, k, _)| *k == key)
        .map(|(i, _, v)| (i, v))
}

/// The path of keys below a top-level key.
pub(super) fn find<'a>(lines: &[&'a str], path: &[&str]) -> Option<(usize, &'a str)> {
    let (first, rest) = path.split_first()?;
    let mut at = lines
        .iter()
        .position(|l| indent(l) == 0 && key_value(l).is_some_and(|(k, _)| k == *first))?;
    let mut v = key_value(lines[at]).map(|(_, v)| v).unwrap_or("");
    for key in rest {
        (at, v) = child(lines, at, key)?;
    }
    Some((at, v))
}

/// The block under line `at` as JSON, for the parts the host reads whole (the table, event
/// properties): maps, block lists (`- …`), flow maps `{ k: v, … }` and flow lists `[a, b]` of
/// scalars; every scalar a string, quotes removed, tags kept (`"!GetAtt Table.StreamArn"`).
pub(super) fn tree(lines: &[&str], at: usize) -> Result<serde_json::Value, String> {
    let mut items: Vec<(usize, String)> = block(lines, at)
        .map(|i| lines[i])
        .filter(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#'))
        .map(|l| (indent(l), l.trim().to_owned()))
        .collect();
    if items.is_empty() {
        let inline = key_value(lines[at]).map(|(_, v)| v).unwrap_or_default();
        return flow(inline);
    }
    let first = items[0].0;
    let mut pos = 0;
    let value = node(&mut items, &mut pos, first)?;
    match items.get(pos) {
        Some((_, l)) => Err(format!("line `{l}`: not understood by the host")),
        None => Ok(value),
    }
}

pub(super) fn node(
    items: &mut [(usize, String)],
    pos: &mut usize,
    depth: usize,
) -> Result<serde_json::Value, String> {
    use serde_json::Value as Json;
    let Some((_, text)) = items.get(*pos) else {
        return Ok(Json::Null);
    };
    if text.starts_with("- ") || text == "-" {
        let mut list = Vec::new();
        while let Some((d, t)) = items.get(*pos) {
            if *d != depth || !(t.starts_with("- ") || t == "-") {
                break;
            }
            // The item's first line, as if written on its own two columns deeper.
            let rest = t.trim_start_matches('-').trim_start().to_owned();
            items[*pos] = (depth + 2, rest);
            list.push(node(items, pos, depth + 2)?);
        }
        return Ok(Json::Array(list));
    }
    if text.starts_with('{') || text.starts_with('[') || key_value(text).is_none() {
        let v = flow(text)?;
        *pos += 1;
        return Ok(v);
    }
    let mut map = serde_json::Map::new();
    while let Some((d, t)) = items.get(*pos) {
        if *d != depth {
            break;
        }
        let Some((k, v)) = key_value(t) else {
            return Err(format!("line `{t}`: not understood by the host"));
        };
        let (k, v) = (k.to_owned(), v.to_owned());
        *pos += 1;
        let value = if v.is_empty() {
            match items.get(*pos) {
                Some((deeper, _)) if *deeper > depth => {
                    let deeper = *deeper;
                    node(items, pos, deeper)?
                }
                _ => Json::Null,
            }
        } else {
            flow(&v)?
        };
        map.insert(k, value);
    }
    Ok(Json::Object(map))
}

/// A scalar, or a flow map / flow list of scalars.
pub(super) fn flow(text: &str) -> Result<serde_json::Value, String> {
    use serde_json::Value as Json;
    let t = text.trim();
    let split = |inner: &str| -> Vec<String> {
        inner
            .split(',')
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .map(str::to_owned)
            .collect()
    };
    if let Some(inner) = t.strip_prefix('{').and_then(|r| r.strip_suffix('}')) {
        let mut map = serde_json::Map::new();
        for part in split(inner) {
            let (k, v) = part
                .split_once(':')
                .ok_or_else(|| format!("`{t}`: not understood by the host"))?;
            map.insert(unquote(k), Json::String(unquote(v)));
        }
        return Ok(Json::Object(map));
    }
    if let Some(inner) = t.strip_prefix('[').and_then(|r| r.strip_suffix(']')) {
        return Ok(Json::Array(
            split(inner)
                .iter()
                .map(|p| Json::String(unquote(p)))
                .collect(),
        ));
    }
    Ok(Json::String(unquote(t)))
}
