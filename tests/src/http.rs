//! A minimal HTTP/1.1 file server on 127.0.0.1 for the `fetch` tests: GET with optional
//! `Range: bytes=N-`, one connection at a time, every request recorded. It can cut a response
//! short to simulate a dropped connection.
use std::{
    collections::BTreeMap,
    io::{BufRead, BufReader, Write},
    net::TcpListener,
    sync::{Arc, Mutex},
};

/// A request the server saw: path and `Range` header (if any).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seen {
    /// The request path, e.g. `/cifar-10-binary.tar.gz`.
    pub path: String,
    /// The Range header's value.
    pub range: Option<String>,
}

/// A running server.
pub struct Server {
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    /// Requests so far.
    pub seen: Arc<Mutex<Vec<Seen>>>,
    /// If set, the next response sends only this many body bytes, then closes.
    pub cut_next_at: Arc<Mutex<Option<usize>>>,
}

impl Server {
    /// Serves `files` (path without the leading `/` → bytes) until the process ends.
    pub fn start(files: BTreeMap<String, Vec<u8>>) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1");
        let base = format!("http://{}", listener.local_addr().expect("address"));
        let seen = Arc::new(Mutex::new(Vec::new()));
        let cut_next_at: Arc<Mutex<Option<usize>>> = Arc::new(Mutex::new(None));
        let (seen2, cut2) = (seen.clone(), cut_next_at.clone());
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let mut reader = BufReader::new(match stream.try_clone() {
                    Ok(s) => s,
                    Err(_) => continue,
                });
                let mut line = String::new();
                if reader.read_line(&mut line).is_err() {
                    continue;
                }
                let path = line
                    .split_whitespace()
                    .nth(1)
                    .unwrap_or("/")
                    .trim_start_matches('/')
                    .to_string();
                let mut range = None;
                loop {
                    let mut h = String::new();
                    if reader.read_line(&mut h).is_err() || h.trim().is_empty() {
                        break;
                    }
                    if let Some((k, v)) = h.split_once(':') {
                        if k.eq_ignore_ascii_case("range") {
                            range = Some(v.trim().to_string());
                        }
                    }
                }
                seen2.lock().unwrap().push(Seen {
                    path: path.clone(),
                    range: range.clone(),
                });
                let mut out = stream;
                let Some(body) = files.get(&path) else {
                    let _ = out.write_all(
                        b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                    );
                    continue;
                };
                let start = range
                    .as_deref()
                    .and_then(|r| r.strip_prefix("bytes="))
                    .and_then(|r| r.trim_end_matches('-').parse::<usize>().ok())
                    .unwrap_or(0)
                    .min(body.len());
                let head = if range.is_some() {
                    format!(
                        "HTTP/1.1 206 Partial Content\r\nContent-Length: {}\r\nContent-Range: bytes {start}-{}/{}\r\nConnection: close\r\n\r\n",
                        body.len() - start,
                        body.len().saturating_sub(1),
                        body.len()
                    )
                } else {
                    format!(
                        "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                        body.len()
                    )
                };
                let _ = out.write_all(head.as_bytes());
                let end = match cut2.lock().unwrap().take() {
                    Some(cut) => (start + cut).min(body.len()),
                    None => body.len(),
                };
                let _ = out.write_all(&body[start..end]);
                let _ = out.flush();
            }
        });
        Self {
            base,
            seen,
            cut_next_at,
        }
    }
}
