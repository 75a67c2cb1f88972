//! A local HTTP server standing in for the operations webhook and PagerDuty's Events API, and
//! a store whose approval is overdue, for `hotfix remind` and the cockpit's reminders.

use super::{World, hotfix};
use hotfix::state::Severity;
use serde_json::Value;
use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Every request a [`Server`] took: its path and its JSON body.
type Taken = Arc<Mutex<Vec<(String, Value)>>>;

/// A local HTTP server answering every POST with `status` (PagerDuty's endpoint with 202, as
/// the real one does), keeping what it was sent.
pub struct Server {
    pub base: String,
    taken: Taken,
}

impl Server {
    pub fn start(webhook_status: u16, pagerduty_status: u16) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let taken: Taken = Arc::default();
        let keep = taken.clone();
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                let Ok(mut conn) = conn else { continue };
                let (path, body) = read_request(&mut conn);
                let status = if path.ends_with("/v2/enqueue") {
                    pagerduty_status
                } else {
                    webhook_status
                };
                keep.lock()
                    .unwrap()
                    .push((path, serde_json::from_str(&body).unwrap_or(Value::Null)));
                let reply = format!(
                    "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: 2\r\nconnection: close\r\n\r\n{{}}"
                );
                let _ = conn.write_all(reply.as_bytes());
            }
        });
        Server { base, taken }
    }

    pub fn taken(&self) -> Vec<(String, Value)> {
        self.taken.lock().unwrap().clone()
    }

    /// `hotfix remind` as `user`, with the webhook and PagerDuty pointed here.
    pub fn remind(&self, store: &Path, user: &str) -> assert_cmd::Command {
        let mut cmd = hotfix(store, user);
        self.point(&mut cmd);
        cmd.arg("remind");
        cmd
    }

    /// Points `cmd`'s webhook and PagerDuty here (and reads no config.json of the user's).
    pub fn point(&self, cmd: &mut assert_cmd::Command) {
        cmd.env("XDG_CONFIG_HOME", super::state_home())
            .env("HOTFIX_WEBHOOK_URL", format!("{}/hook/SECRET", self.base))
            .env("HOTFIX_PAGERDUTY_URL", format!("{}/v2/enqueue", self.base))
            .env("HOTFIX_PAGERDUTY_ROUTING_KEY", "R0UTING-KEY");
    }
}

/// Reads one HTTP request: its path and its body.
pub fn read_request(conn: &mut std::net::TcpStream) -> (String, String) {
    conn.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    loop {
        let n = conn.read(&mut chunk).unwrap_or(0);
        buf.extend_from_slice(&chunk[..n]);
        let text = String::from_utf8_lossy(&buf);
        if let Some((head, body)) = text.split_once("\r\n\r\n") {
            let len: usize = head
                .lines()
                .find_map(|l| {
                    l.to_ascii_lowercase()
                        .strip_prefix("content-length:")
                        .map(|v| v.trim().parse().unwrap_or(0))
                })
                .unwrap_or(0);
            if body.len() >= len || n == 0 {
                let path = head.split_whitespace().nth(1).unwrap_or("").to_string();
                return (path, body.to_string());
            }
        }
        if n == 0 {
            return (String::new(), String::new());
        }
    }
}

/// A store (written days ago, so every deadline has passed) with one P1 hotfix, HF-1, that
/// avery and dana approved and priya (prod-owner) has not; pat is prod-owner's deputy.
pub fn overdue_store(dir: &Path) -> hotfix::store::Store {
    let mut w = World::escalating();
    let hf = w.hotfix(Severity::P1);
    w.approve("avery", hf, "sre-avp");
    w.approve("dana", hf, "dev-lead");
    w.store(dir)
}
