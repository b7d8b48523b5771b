//! Embeds `openapi.json` without its indentation: the document is kept readable in the
//! repository and served compact (it is a large share of the `openapi` function's first answer).

use std::path::Path;

/// Drops the whitespace between JSON tokens (never inside a string).
fn minify(json: &str) -> String {
    let mut out = String::with_capacity(json.len());
    let (mut in_string, mut escaped) = (false, false);
    for c in json.chars() {
        if in_string {
            out.push(c);
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                in_string = false;
            }
        } else if c == '"' {
            in_string = true;
            out.push(c);
        } else if !c.is_ascii_whitespace() {
            out.push(c);
        }
    }
    out
}

fn main() {
    println!("cargo::rerun-if-changed=openapi.json");
    // A build script: a failure here fails the build, never a request.
    let source = std::fs::read_to_string("openapi.json").expect("shared/openapi.json"); // ok: build time only
    let out = std::env::var("OUT_DIR").expect("OUT_DIR"); // ok: cargo always sets OUT_DIR
    let compact = minify(&source);
    std::fs::write(Path::new(&out).join("openapi.min.json"), compact).expect("write it"); // ok: build time only
}
