//! A browser for the tests: one session cookie, sent back as it was set,
//! and every `Set-Cookie` checked as a browser would read it (S2).

#![allow(dead_code)]
use reqwest::header::{COOKIE, SET_COOKIE};
use serde_json::Value;

use crate::common::Server;

/// A browser: one cookie, sent back as it was set.
pub struct Browser<'a> {
    pub server: &'a Server,
    pub cookie: Option<String>,
    /// Who the server believes the browser is (`X-Forwarded-For`, believed
    /// only when the server trusts 127.0.0.1 as a proxy).
    pub from: Option<&'static str>,
}

impl<'a> Browser<'a> {
    pub fn new(server: &'a Server) -> Self {
        Self {
            server,
            cookie: None,
            from: None,
        }
    }

    pub async fn send(
        &mut self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        let mut request = self.server.client.request(method, self.server.url(path));
        if let Some(cookie) = &self.cookie {
            request = request.header(COOKIE, cookie);
        }
        if let Some(from) = self.from {
            request = request.header("x-forwarded-for", from);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        if let Some(set) = response.headers().get(SET_COOKIE) {
            let set = set.to_str().unwrap();
            check_cookie_attributes(set);
            let pair = set.split(';').next().unwrap().trim().to_owned();
            // An expired cookie is the server taking it back.
            self.cookie = (!set.contains("Max-Age=0")).then_some(pair);
        }
        (status, response.json().await.unwrap_or(Value::Null))
    }

    pub async fn post(&mut self, path: &str, body: Value) -> (u16, Value) {
        self.send(reqwest::Method::POST, path, Some(body)).await
    }

    pub async fn get(&mut self, path: &str) -> (u16, Value) {
        self.send(reqwest::Method::GET, path, None).await
    }
}

/// S2: `__Host-`, Secure, HttpOnly, SameSite, path `/`, no domain.
fn check_cookie_attributes(set: &str) {
    let parts: Vec<String> = set
        .split(';')
        .map(|p| p.trim().to_ascii_lowercase())
        .collect();
    assert!(parts[0].starts_with("__host-spor="), "{set}");
    for wanted in ["secure", "httponly", "path=/"] {
        assert!(
            parts.iter().any(|p| p == wanted),
            "{wanted} missing in {set}"
        );
    }
    assert!(
        parts
            .iter()
            .any(|p| p == "samesite=lax" || p == "samesite=strict"),
        "{set}"
    );
    assert!(!parts.iter().any(|p| p.starts_with("domain=")), "{set}");
}
