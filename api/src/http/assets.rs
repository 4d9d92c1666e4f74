//! The SPA's files: built into the binary (so a copied binary serves the whole UI), or read
//! from `--static-dir` while developing. Each is served with its content type, an ETag, gzip
//! when the browser takes it (compressed once, at start), and a year's caching for the files
//! whose names carry their content's hash (Trunk's), `no-cache` for index.html.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use std::collections::HashMap;
use std::io::Write;
use std::path::Path;

/// `frontend/dist` as it was when the binary was built (nothing, if the SPA was not built).
#[derive(rust_embed::RustEmbed)]
#[folder = "../frontend/dist"]
#[allow_missing = true]
struct Embedded;

/// One file, ready to send.
pub struct Asset {
    body: web::Bytes,
    /// Compressed at the first request that takes gzip (not at start: a restart serves tokens
    /// at once); `None` inside when compressing does not pay.
    gzip: std::sync::OnceLock<Option<web::Bytes>>,
    etag: String,
    content_type: &'static str,
    cache_control: &'static str,
}

/// Every file of the SPA by its path (`index.html`, `style-….css`, …).
#[derive(Default)]
pub struct Assets(HashMap<String, Asset>);

fn content_type(path: &str) -> &'static str {
    match path.rsplit('.').next().unwrap_or_default() {
        "html" => "text/html; charset=utf-8",
        "js" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "wasm" => "application/wasm",
        "json" => "application/json",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "ico" => "image/x-icon",
        _ => "application/octet-stream",
    }
}

/// Trunk names built files `name-<16 hex>.ext` (or `…_bg.wasm`): their content never changes.
fn is_hashed(path: &str) -> bool {
    let stem = path.rsplit('/').next().unwrap_or(path);
    let stem = stem
        .split('.')
        .next()
        .unwrap_or(stem)
        .trim_end_matches("_bg");
    stem.rsplit_once('-')
        .is_some_and(|(_, h)| h.len() == 16 && h.bytes().all(|b| b.is_ascii_hexdigit()))
}

impl Asset {
    fn new(path: &str, body: Vec<u8>) -> Self {
        let etag = format!(
            "\"{}\"",
            crate::digest::sha256(&[&body])[..12]
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect::<String>()
        );
        let content_type = content_type(path);
        let cache_control = if path == "index.html" {
            "no-cache"
        } else if is_hashed(path) {
            "public, max-age=31536000, immutable"
        } else {
            "public, max-age=3600"
        };
        Self {
            body: web::Bytes::from(body),
            gzip: std::sync::OnceLock::new(),
            etag,
            content_type,
            cache_control,
        }
    }
}

impl Asset {
    /// The body gzipped, when that makes it smaller (compressed once).
    fn gzipped(&self) -> Option<&web::Bytes> {
        self.gzip
            .get_or_init(|| {
                let compressible = self.content_type != "image/png" && self.body.len() > 1024;
                compressible
                    .then(|| {
                        let mut gz =
                            flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
                        gz.write_all(&self.body).ok()?;
                        gz.finish().ok()
                    })
                    .flatten()
                    .filter(|gz| gz.len() < self.body.len())
                    .map(web::Bytes::from)
            })
            .as_ref()
    }
}

impl Assets {
    /// The files under `dir` when given (development), else those built in.
    pub fn load(dir: Option<&Path>) -> Self {
        let mut files = HashMap::new();
        match dir {
            Some(dir) => {
                for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
                    let path = entry.path();
                    if let (Some(name), Ok(body)) = (
                        path.file_name().and_then(|n| n.to_str()),
                        std::fs::read(&path),
                    ) {
                        files.insert(name.to_owned(), Asset::new(name, body));
                    }
                }
            }
            None => {
                for name in Embedded::iter() {
                    if let Some(file) = Embedded::get(&name) {
                        files.insert(name.to_string(), Asset::new(&name, file.data.into_owned()));
                    }
                }
            }
        }
        Self(files)
    }

    /// index.html, if the SPA is there.
    pub fn index_html(&self) -> Option<String> {
        self.0
            .get("index.html")
            .map(|a| String::from_utf8_lossy(&a.body).into_owned())
    }

    /// The response for `path` (without its leading `/`), if there is such a file.
    pub fn respond(&self, req: &HttpRequest, path: &str) -> Option<HttpResponse> {
        let asset = self.0.get(path)?;
        let headers = req.headers();
        let mut res = HttpResponse::Ok();
        res.insert_header((header::CONTENT_TYPE, asset.content_type))
            .insert_header((header::CACHE_CONTROL, asset.cache_control))
            .insert_header((header::ETAG, asset.etag.as_str()))
            .insert_header((header::VARY, "Accept-Encoding"));
        let matches = headers
            .get(header::IF_NONE_MATCH)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| {
                v.split(',')
                    .any(|t| t.trim() == asset.etag || t.trim() == "*")
            });
        if matches {
            return Some(
                HttpResponse::NotModified()
                    .insert_header((header::ETAG, asset.etag.as_str()))
                    .insert_header((header::CACHE_CONTROL, asset.cache_control))
                    .finish(),
            );
        }
        let takes_gzip = headers
            .get(header::ACCEPT_ENCODING)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| {
                v.split(',')
                    .any(|e| e.trim().split(';').next() == Some("gzip") && !e.contains("q=0"))
            });
        Some(match takes_gzip.then(|| asset.gzipped()).flatten() {
            Some(gz) => res
                .insert_header((header::CONTENT_ENCODING, "gzip"))
                .body(gz.clone()),
            None => res.body(asset.body.clone()),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trunks_hashed_names_are_cached_for_a_year() {
        assert!(is_hashed("vitesse-frontend-7e699303213fdfc5.js"));
        assert!(is_hashed("vitesse-frontend-7e699303213fdfc5_bg.wasm"));
        assert!(is_hashed("style-a1b69c54d21435c4.css"));
        assert!(!is_hashed("index.html"));
        assert!(!is_hashed("favicon.ico"));
        let a = Asset::new("app.js", "let x = 1;\n".repeat(500).into_bytes());
        assert!(a.gzipped().is_some_and(|g| g.len() < a.body.len()));
        assert_eq!(a.content_type, "text/javascript; charset=utf-8");
    }
}
