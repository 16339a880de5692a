//! The report: a fixed, labelled text layout on stdout, and the same numbers as JSON.

use std::fmt::Write;
use std::time::Duration;

use hdrhistogram::Histogram;
use serde_json::{Value, json};

use crate::run::{Limit, Mode, Stats, Target, histogram};

pub struct Report {
    mode: Mode,
    target: String,
    concurrency: usize,
    /// `--rate`: checkouts started per second, when paced.
    rate: Option<f64>,
    limit: Limit,
    elapsed: Duration,
    stats: Stats,
    all: Histogram<u64>,
}

/// Latency percentiles of one request kind, in milliseconds.
struct Latency {
    count: u64,
    p50: f64,
    p95: f64,
    p99: f64,
    max: f64,
}

/// Microseconds to milliseconds, rounded to 2 decimals.
fn ms(micros: u64) -> f64 {
    (micros as f64 / 10.0).round() / 100.0
}

impl Latency {
    fn of(h: &Histogram<u64>) -> Self {
        if h.is_empty() {
            return Latency {
                count: 0,
                p50: 0.0,
                p95: 0.0,
                p99: 0.0,
                max: 0.0,
            };
        }
        Latency {
            count: h.len(),
            p50: ms(h.value_at_quantile(0.50)),
            p95: ms(h.value_at_quantile(0.95)),
            p99: ms(h.value_at_quantile(0.99)),
            max: ms(h.max()),
        }
    }

    fn json(&self) -> Value {
        json!({
            "count": self.count,
            "p50": self.p50,
            "p95": self.p95,
            "p99": self.p99,
            "max": self.max,
        })
    }
}

/// Hides the password of a database URL (`postgres://user:secret@host/db`).
pub fn redact_url(url: &str) -> String {
    let Some(scheme_end) = url.find("://").map(|i| i + 3) else {
        return url.to_owned();
    };
    let rest = &url[scheme_end..];
    let authority_end = rest.find('/').unwrap_or(rest.len());
    let Some(at) = rest[..authority_end].rfind('@') else {
        return url.to_owned();
    };
    match rest[..at].find(':') {
        Some(colon) => format!(
            "{}{}:***{}",
            &url[..scheme_end],
            &rest[..colon],
            &rest[at..]
        ),
        None => url.to_owned(),
    }
}

impl Report {
    pub fn new(
        target: &Target,
        concurrency: usize,
        rate: Option<f64>,
        limit: Limit,
        elapsed: Duration,
        stats: Stats,
    ) -> Self {
        let mut all = histogram();
        all.add(&stats.create)
            .expect("histograms of equal bounds add");
        all.add(&stats.pay).expect("histograms of equal bounds add");
        Report {
            mode: target.mode,
            target: target.description.clone(),
            concurrency,
            rate,
            limit,
            elapsed,
            stats,
            all,
        }
    }

    pub fn checkouts(&self) -> u64 {
        self.stats.checkouts
    }

    /// Failed requests and wrong checkouts; a checkout stops at its first error, so this is
    /// also the number of failed checkouts.
    pub fn errors_total(&self) -> u64 {
        self.stats.http.values().sum::<u64>()
            + self.stats.transport.values().sum::<u64>()
            + self.stats.bad.values().sum::<u64>()
    }

    fn seconds(&self) -> f64 {
        self.elapsed.as_secs_f64().max(1e-9)
    }

    fn per_second(&self, n: u64) -> f64 {
        n as f64 / self.seconds()
    }

    fn mode_name(&self) -> &'static str {
        match self.mode {
            Mode::Server => "server",
            Mode::Baseline => "baseline",
        }
    }

    fn limit_text(&self) -> String {
        match self.limit {
            Limit::Duration(d) => format!("duration {:.2} s", d.as_secs_f64()),
            Limit::Orders(n) => format!("{n} checkouts"),
        }
    }

    pub fn text(&self) -> String {
        let s = &self.stats;
        let mut out = String::new();
        let _ = writeln!(out, "== loadgen report ({}) ==", self.mode_name());
        let _ = writeln!(out, "target        {}", self.target);
        let _ = match self.rate {
            Some(rate) => writeln!(
                out,
                "concurrency   {}, paced at {rate} checkouts/s",
                self.concurrency
            ),
            None => writeln!(out, "concurrency   {}", self.concurrency),
        };
        let _ = writeln!(out, "limit         {}", self.limit_text());
        let _ = writeln!(out, "duration      {:.2} s", self.seconds());
        let _ = writeln!(
            out,
            "checkouts     {} ok, {} failed, {:.2}/s",
            s.checkouts,
            s.attempted - s.checkouts,
            self.per_second(s.checkouts)
        );
        let _ = writeln!(
            out,
            "requests      {}, {:.2}/s",
            s.requests,
            self.per_second(s.requests)
        );
        let _ = writeln!(
            out,
            "latency (ms)  {:>9} {:>9} {:>9} {:>9} {:>9}",
            "count", "p50", "p95", "p99", "max"
        );
        for (name, h) in [("create", &s.create), ("pay", &s.pay), ("all", &self.all)] {
            let l = Latency::of(h);
            let _ = writeln!(
                out,
                "  {name:<11} {:>9} {:>9.2} {:>9.2} {:>9.2} {:>9.2}",
                l.count, l.p50, l.p95, l.p99, l.max
            );
        }
        let _ = writeln!(out, "errors        {}", self.errors_total());
        for ((kind, status), n) in &s.http {
            let _ = writeln!(out, "  HTTP {status} on {kind}: {n}");
        }
        for ((kind, cause), n) in &s.transport {
            let _ = writeln!(out, "  transport error ({cause}) on {kind}: {n}");
        }
        for (reason, n) in &s.bad {
            let _ = writeln!(out, "  bad checkout, {reason}: {n}");
        }
        out
    }

    pub fn json(&self) -> String {
        let s = &self.stats;
        let limit = match self.limit {
            Limit::Duration(d) => json!({"duration_s": d.as_secs_f64()}),
            Limit::Orders(n) => json!({"orders": n}),
        };
        let http: Vec<Value> = s
            .http
            .iter()
            .map(|((kind, status), n)| {
                json!({"request": kind.to_string(), "status": status, "count": n})
            })
            .collect();
        let transport: Vec<Value> = s
            .transport
            .iter()
            .map(|((kind, cause), n)| {
                json!({"request": kind.to_string(), "cause": cause, "count": n})
            })
            .collect();
        let bad: Vec<Value> = s
            .bad
            .iter()
            .map(|(reason, n)| json!({"reason": reason, "count": n}))
            .collect();
        let round2 = |x: f64| (x * 100.0).round() / 100.0;
        json!({
            "mode": self.mode_name(),
            "target": self.target,
            "concurrency": self.concurrency,
            "rate_per_s": self.rate,
            "limit": limit,
            "duration_s": round2(self.seconds()),
            "checkouts": s.checkouts,
            "checkouts_failed": s.attempted - s.checkouts,
            "checkouts_per_s": round2(self.per_second(s.checkouts)),
            "requests": s.requests,
            "requests_per_s": round2(self.per_second(s.requests)),
            "latency_ms": {
                "create": Latency::of(&s.create).json(),
                "pay": Latency::of(&s.pay).json(),
                "all": Latency::of(&self.all).json(),
            },
            "errors_total": self.errors_total(),
            "errors": {
                "http": http,
                "transport": transport,
                "bad_checkout": bad,
            },
        })
        .to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_passwords_only() {
        assert_eq!(
            redact_url("postgres://app:s3cret@db:5432/orders"),
            "postgres://app:***@db:5432/orders"
        );
        assert_eq!(
            redact_url("postgres://app@db/orders"),
            "postgres://app@db/orders"
        );
        assert_eq!(
            redact_url("sqlite:///tmp/x.db?mode=rwc"),
            "sqlite:///tmp/x.db?mode=rwc"
        );
    }

    #[test]
    fn rounds_to_hundredths_of_a_millisecond() {
        assert_eq!(ms(1234), 1.23);
        assert_eq!(ms(1235), 1.24);
        assert_eq!(ms(0), 0.0);
    }
}
