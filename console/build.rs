//! Embeds `assets/`: each file as it is and gzip-compressed (when that is smaller), with its
//! content type and a strong `ETag` (a hash of its bytes), into `OUT_DIR/assets.rs`. Nothing is
//! read from the file system at run time, and a newcomer runs no build step of their own.

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::Path;

use sha2::Digest as _;

/// The content type of an asset, by its extension: a file of another kind fails the build.
fn content_type(name: &str) -> &'static str {
    match name.rsplit_once('.').map(|(_, ext)| ext) {
        Some("html") => "text/html; charset=utf-8",
        Some("js") => "text/javascript; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        _ => panic!("assets/{name}: no content type for this kind of file"), // ok: build time only
    }
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    gz.write_all(bytes).expect("gzip in memory"); // ok: build time only
    gz.finish().expect("gzip in memory") // ok: build time only
}

fn main() {
    println!("cargo::rerun-if-changed=assets");
    let out = std::env::var("OUT_DIR").expect("OUT_DIR"); // ok: cargo always sets OUT_DIR
    let dir = Path::new("assets");
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .expect("console/assets") // ok: build time only
        .map(|e| e.expect("an entry of console/assets").file_name()) // ok: build time only
        .map(|n| n.into_string().expect("an ASCII file name")) // ok: build time only
        .filter(|n| !n.starts_with('.'))
        .collect();
    names.sort();
    let mut code = String::from("pub static ASSETS: &[Asset] = &[\n");
    for name in &names {
        assert!(
            name.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-' || b == b'_'),
            "assets/{name}: a name of letters, digits, '.', '-' and '_' only"
        );
        let path = dir.join(name);
        println!("cargo::rerun-if-changed={}", path.display());
        let raw = std::fs::read(&path).expect("read an asset"); // ok: build time only
        let digest = sha2::Sha256::digest(&raw);
        let etag: String = digest[..12].iter().map(|b| format!("{b:02x}")).collect();
        let gz = gzip(&raw);
        let gz_expr = if gz.len() < raw.len() {
            let gz_path = Path::new(&out).join(format!("{name}.gz"));
            std::fs::write(&gz_path, &gz).expect("write the gzip of an asset"); // ok: build time only
            format!("Some(include_bytes!({:?}))", gz_path.display().to_string())
        } else {
            "None".to_owned()
        };
        let abs = std::fs::canonicalize(&path).expect("the asset's path"); // ok: build time only
        writeln!(
            code,
            "    Asset {{ name: {name:?}, content_type: {:?}, etag: {etag:?}, body: include_bytes!({:?}), gzip: {gz_expr} }},",
            content_type(name),
            abs.display().to_string(),
        )
        .expect("write to a String"); // ok: build time only
    }
    code.push_str("];\n");
    std::fs::write(Path::new(&out).join("assets.rs"), code).expect("write assets.rs"); // ok: build time only
}
