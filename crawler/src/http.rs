//! A polite HTTP client: bounded concurrency, a global request-rate limit, retries with
//! exponential backoff and jitter on 429/5xx/timeouts/connection resets (honouring
//! `Retry-After`), a body-size cap, and counters the summary and benchmark report.
//!
//! Every request has an overall deadline (`HttpConfig::deadline`): connecting, waiting,
//! reading the body, and every retry with its backoff all count against it, so a server that
//! drips a byte a second or never answers costs one deadline, not a sync.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use tokio::sync::{Mutex, Semaphore};

pub const USER_AGENT: &str = concat!(
    "pinion-crawler/",
    env!("CARGO_PKG_VERSION"),
    " (+https://github.com/pinion-nix/pinion)"
);

#[derive(Debug, Clone)]
pub struct HttpConfig {
    pub concurrency: usize,
    /// Requests per second across all tasks; `None` = unlimited.
    pub rate_limit: Option<f64>,
    pub max_attempts: u32,
    pub backoff_base: Duration,
    /// Longest `Retry-After` we wait; longer ones are capped (and still retried).
    pub max_retry_after: Duration,
    /// Longest wait for the next bytes of a response (connect, headers or body).
    pub timeout: Duration,
    /// Longest time one request may take from its first attempt to its last byte, retries
    /// and backoff included. The clock starts when the request gets a connection slot, so
    /// waiting behind other requests does not count.
    pub deadline: Duration,
}

/// The default [`HttpConfig::deadline`]: a 512 MiB sdist (the download cap) at 2 MB/s.
pub const DEFAULT_DEADLINE: Duration = Duration::from_secs(300);

impl Default for HttpConfig {
    fn default() -> Self {
        HttpConfig {
            concurrency: 16,
            rate_limit: None,
            max_attempts: 5,
            backoff_base: Duration::from_millis(500),
            max_retry_after: Duration::from_secs(120),
            timeout: Duration::from_secs(60),
            deadline: DEFAULT_DEADLINE,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    #[error("GET {url}: {message} (after {attempts} attempts)")]
    Transport {
        url: String,
        message: String,
        attempts: u32,
    },
    #[error("GET {url}: HTTP {status} (after {attempts} attempts)")]
    Status {
        url: String,
        status: u16,
        attempts: u32,
    },
    #[error("GET {url}: body larger than the {limit}-byte cap")]
    TooLarge { url: String, limit: u64 },
    #[error(
        "GET {url}: no complete response within the {}-second request deadline (after {attempts} attempts; last: {last})",
        deadline.as_secs_f64()
    )]
    Deadline {
        url: String,
        deadline: Duration,
        attempts: u32,
        last: String,
    },
    #[error("building the HTTP client: {0}")]
    Client(String),
}

#[derive(Debug)]
pub struct Response {
    /// The final URL, after redirects.
    pub url: url::Url,
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl Response {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

#[derive(Debug, Default)]
pub struct Counters {
    pub requests: AtomicU64,
    pub retries: AtomicU64,
    pub bytes: AtomicU64,
}

#[derive(Clone)]
pub struct Http {
    client: reqwest::Client,
    cfg: Arc<HttpConfig>,
    permits: Arc<Semaphore>,
    next_slot: Arc<Mutex<Instant>>,
    pub counters: Arc<Counters>,
}

impl Http {
    pub fn new(cfg: HttpConfig) -> Result<Http, HttpError> {
        // reqwest is built without a bundled crypto provider; ring is installed once here.
        // An Err only means another caller installed one first, which is fine.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let client = reqwest::Client::builder()
            .user_agent(USER_AGENT)
            // An idle timeout, not a total one: large sdists may legitimately take minutes.
            .read_timeout(cfg.timeout)
            .connect_timeout(Duration::from_secs(20))
            .pool_max_idle_per_host(cfg.concurrency.max(1))
            .build()
            .map_err(|e| HttpError::Client(e.to_string()))?;
        Ok(Http {
            client,
            permits: Arc::new(Semaphore::new(cfg.concurrency.max(1))),
            cfg: Arc::new(cfg),
            next_slot: Arc::new(Mutex::new(Instant::now())),
            counters: Arc::new(Counters::default()),
        })
    }

    async fn wait_rate_slot(&self) {
        let Some(rate) = self.cfg.rate_limit.filter(|r| *r > 0.0) else {
            return;
        };
        let interval = Duration::from_secs_f64(1.0 / rate);
        let at = {
            let mut next = self.next_slot.lock().await;
            let now = Instant::now();
            let at = (*next).max(now);
            *next = at + interval;
            at
        };
        tokio::time::sleep_until(at.into()).await;
    }

    /// GETs `url`, retrying transient failures. Non-retryable statuses (404, 416, ...) are
    /// returned as responses for the caller to interpret; `cap` bounds the body size.
    pub async fn get(
        &self,
        url: &str,
        headers: &[(HeaderName, &str)],
        cap: u64,
    ) -> Result<Response, HttpError> {
        let mut attempt = 0;
        let mut deadline = None;
        loop {
            attempt += 1;
            let outcome = self.try_once(url, headers, cap, &mut deadline).await;
            let retry_after = match &outcome {
                Ok(r) if is_retryable_status(r.status) => retry_after(&r.headers),
                Ok(_) | Err(Attempt::Fatal(_) | Attempt::TooLarge(_) | Attempt::Deadline(_)) => {
                    return outcome.map_err(|e| e.into_error(url, attempt));
                }
                Err(Attempt::Transient(_)) => None,
            };
            if attempt >= self.cfg.max_attempts {
                return match outcome {
                    Ok(r) => Err(HttpError::Status {
                        url: url.to_string(),
                        status: r.status.as_u16(),
                        attempts: attempt,
                    }),
                    Err(e) => Err(e.into_error(url, attempt)),
                };
            }
            let delay = match retry_after {
                Some(d) => d.min(self.cfg.max_retry_after),
                None => backoff(self.cfg.backoff_base, attempt),
            };
            // A retry that cannot finish before the deadline is not worth starting.
            if deadline.is_some_and(|d| Instant::now() + delay >= d) {
                let last = match outcome {
                    Ok(r) => format!("HTTP {}", r.status.as_u16()),
                    Err(Attempt::Transient(m)) => m,
                    Err(e) => e.into_error(url, attempt).to_string(),
                };
                return Err(HttpError::Deadline {
                    url: url.to_string(),
                    deadline: self.cfg.deadline,
                    attempts: attempt,
                    last,
                });
            }
            self.counters.retries.fetch_add(1, Ordering::Relaxed);
            tracing::debug!(url, attempt, ?delay, "retrying");
            tokio::time::sleep(delay).await;
        }
    }

    /// One attempt, cut off at the request's deadline (set on the first attempt).
    async fn try_once(
        &self,
        url: &str,
        headers: &[(HeaderName, &str)],
        cap: u64,
        deadline: &mut Option<Instant>,
    ) -> Result<Response, Attempt> {
        self.wait_rate_slot().await;
        let _permit = self
            .permits
            .acquire()
            .await
            .map_err(|_| Attempt::Fatal("client shut down".into()))?;
        let until = *deadline.get_or_insert_with(|| Instant::now() + self.cfg.deadline);
        match tokio::time::timeout_at(until.into(), self.exchange(url, headers, cap)).await {
            Ok(outcome) => outcome,
            Err(_) => Err(Attempt::Deadline(self.cfg.deadline)),
        }
    }

    async fn exchange(
        &self,
        url: &str,
        headers: &[(HeaderName, &str)],
        cap: u64,
    ) -> Result<Response, Attempt> {
        self.counters.requests.fetch_add(1, Ordering::Relaxed);
        let mut req = self.client.get(url);
        for (k, v) in headers {
            let v = HeaderValue::from_str(v).map_err(|e| Attempt::Fatal(e.to_string()))?;
            req = req.header(k, v);
        }
        let mut resp = req.send().await.map_err(classify)?;
        let status = resp.status();
        let headers = resp.headers().clone();
        let final_url = resp.url().clone();
        if let Some(len) = resp.content_length()
            && len > cap
            && status.is_success()
        {
            return Err(Attempt::TooLarge(cap));
        }
        let mut body = Vec::with_capacity(resp.content_length().unwrap_or(0).min(cap) as usize);
        while let Some(chunk) = resp.chunk().await.map_err(classify)? {
            self.counters
                .bytes
                .fetch_add(chunk.len() as u64, Ordering::Relaxed);
            if body.len() as u64 + chunk.len() as u64 > cap {
                return Err(Attempt::TooLarge(cap));
            }
            body.extend_from_slice(&chunk);
        }
        Ok(Response {
            url: final_url,
            status,
            headers,
            body,
        })
    }
}

enum Attempt {
    Transient(String),
    Fatal(String),
    TooLarge(u64),
    /// The request's deadline (given) passed during this attempt.
    Deadline(Duration),
}

impl Attempt {
    fn into_error(self, url: &str, attempts: u32) -> HttpError {
        match self {
            Attempt::Transient(message) | Attempt::Fatal(message) => HttpError::Transport {
                url: url.to_string(),
                message,
                attempts,
            },
            Attempt::TooLarge(limit) => HttpError::TooLarge {
                url: url.to_string(),
                limit,
            },
            Attempt::Deadline(deadline) => HttpError::Deadline {
                url: url.to_string(),
                deadline,
                attempts,
                last: "the last attempt was still waiting".into(),
            },
        }
    }
}

fn classify(e: reqwest::Error) -> Attempt {
    // Timeouts, refused/reset connections and bodies cut short are all worth retrying;
    // builder/URL errors are not.
    let msg = error_chain(&e);
    if e.is_builder() || e.is_redirect() {
        Attempt::Fatal(msg)
    } else {
        Attempt::Transient(msg)
    }
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(inner) = cur {
        s.push_str(": ");
        s.push_str(&inner.to_string());
        cur = inner.source();
    }
    s
}

fn is_retryable_status(s: StatusCode) -> bool {
    s == StatusCode::TOO_MANY_REQUESTS || s == StatusCode::REQUEST_TIMEOUT || s.is_server_error()
}

fn retry_after(h: &HeaderMap) -> Option<Duration> {
    let v = h.get(reqwest::header::RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(secs) = v.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let when = httpdate::parse_http_date(v).ok()?;
    Some(
        when.duration_since(std::time::SystemTime::now())
            .unwrap_or(Duration::ZERO),
    )
}

/// base·2^(attempt-1), capped at 60 s, times a jitter factor in [0.5, 1.5).
fn backoff(base: Duration, attempt: u32) -> Duration {
    let exp = base
        .saturating_mul(1 << (attempt - 1).min(16))
        .min(Duration::from_secs(60));
    exp.mul_f64(0.5 + jitter())
}

fn jitter() -> f64 {
    use std::hash::{BuildHasher, RandomState};
    // RandomState is randomly keyed per instance, which is all the randomness jitter needs.
    let h = RandomState::new().hash_one(Instant::now());
    (h >> 11) as f64 / (1u64 << 53) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_and_is_capped() {
        let b = Duration::from_millis(100);
        for attempt in 1..10 {
            let d = backoff(b, attempt);
            let nominal = (b * (1 << (attempt - 1))).min(Duration::from_secs(60));
            assert!(d >= nominal / 2 && d < nominal * 3 / 2, "{attempt}: {d:?}");
        }
        assert!(backoff(b, 40) <= Duration::from_secs(90));
    }

    #[test]
    fn retry_after_forms() {
        let mut h = HeaderMap::new();
        h.insert(reqwest::header::RETRY_AFTER, HeaderValue::from_static("3"));
        assert_eq!(retry_after(&h), Some(Duration::from_secs(3)));
        h.insert(
            reqwest::header::RETRY_AFTER,
            HeaderValue::from_static("Wed, 21 Oct 2015 07:28:00 GMT"),
        );
        assert_eq!(retry_after(&h), Some(Duration::ZERO));
        h.insert(
            reqwest::header::RETRY_AFTER,
            HeaderValue::from_static("soon"),
        );
        assert_eq!(retry_after(&h), None);
    }
}
