//! [`Metrics`]: a small Prometheus registry written by hand (text format 0.0.4): requests by
//! method, route and status; a latency histogram per route; jobs by kind and outcome; and
//! gauges read at scrape time (job queue depth).
//!
//! Routes are the matched route templates (`/pki/crl/{ca}`), never raw paths, so the label
//! set stays small whatever clients send.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;
use std::time::Duration;

/// Upper bounds of the latency histogram, seconds.
pub const LATENCY_BUCKETS: [f64; 12] = [
    0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

#[derive(Default)]
struct Histogram {
    buckets: [u64; LATENCY_BUCKETS.len()],
    count: u64,
    sum: f64,
}

#[derive(Default)]
struct Inner {
    requests: BTreeMap<(String, String, u16), u64>,
    latency: BTreeMap<String, Histogram>,
    jobs: BTreeMap<(String, String), u64>,
    gauges: BTreeMap<(String, String), f64>,
    blobs: Option<paraf_core::BlobCounts>,
    signing: Option<paraf_core::signing::SignCounts>,
}

/// The registry; cheap to share behind an `Arc`.
#[derive(Default)]
pub struct Metrics {
    inner: Mutex<Inner>,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Metrics")
    }
}

fn escape(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

impl Metrics {
    /// Records one finished request.
    pub fn observe_request(&self, method: &str, route: &str, status: u16, elapsed: Duration) {
        let Ok(mut g) = self.inner.lock() else {
            return;
        };
        *g.requests
            .entry((method.to_string(), route.to_string(), status))
            .or_default() += 1;
        let h = g.latency.entry(route.to_string()).or_default();
        let secs = elapsed.as_secs_f64();
        for (i, le) in LATENCY_BUCKETS.iter().enumerate() {
            if secs <= *le {
                h.buckets[i] += 1;
            }
        }
        h.count += 1;
        h.sum += secs;
    }

    /// Records one job attempt of `kind` ending in `outcome` (done, retry, dead, released).
    pub fn observe_job(&self, kind: &str, outcome: &str) {
        if let Ok(mut g) = self.inner.lock() {
            *g.jobs
                .entry((kind.to_string(), outcome.to_string()))
                .or_default() += 1;
        }
    }

    /// Sets the gauge `paraf_jobs{state=...}`.
    pub fn set_job_gauge(&self, state: &str, value: f64) {
        if let Ok(mut g) = self.inner.lock() {
            g.gauges
                .insert(("paraf_jobs".to_string(), state.to_string()), value);
        }
    }

    /// The signing-time histogram, read at scrape time.
    pub fn set_sign_counts(&self, counts: paraf_core::signing::SignCounts) {
        if let Ok(mut g) = self.inner.lock() {
            g.signing = Some(counts);
        }
    }

    /// The blob store's counters, read at scrape time.
    pub fn set_blob_counts(&self, c: paraf_core::BlobCounts) {
        if let Ok(mut g) = self.inner.lock() {
            g.blobs = Some(c);
        }
    }

    /// The number of requests recorded for `route` with `status` (tests).
    pub fn request_count(&self, route: &str, status: u16) -> u64 {
        self.inner
            .lock()
            .map(|g| {
                g.requests
                    .iter()
                    .filter(|((_, r, s), _)| r == route && *s == status)
                    .map(|(_, n)| *n)
                    .sum()
            })
            .unwrap_or(0)
    }

    /// The Prometheus text exposition.
    pub fn render(&self) -> String {
        let Ok(g) = self.inner.lock() else {
            return String::new();
        };
        let mut out = String::new();
        let _ = writeln!(
            out,
            "# HELP paraf_http_requests_total HTTP requests by method, route and status."
        );
        let _ = writeln!(out, "# TYPE paraf_http_requests_total counter");
        for ((m, r, s), n) in &g.requests {
            let _ = writeln!(
                out,
                "paraf_http_requests_total{{method=\"{}\",route=\"{}\",status=\"{s}\"}} {n}",
                escape(m),
                escape(r)
            );
        }
        let _ = writeln!(
            out,
            "# HELP paraf_http_request_duration_seconds Time to answer a request, by route."
        );
        let _ = writeln!(out, "# TYPE paraf_http_request_duration_seconds histogram");
        for (r, h) in &g.latency {
            let r = escape(r);
            for (i, le) in LATENCY_BUCKETS.iter().enumerate() {
                let _ = writeln!(
                    out,
                    "paraf_http_request_duration_seconds_bucket{{route=\"{r}\",le=\"{le}\"}} {}",
                    h.buckets[i]
                );
            }
            let _ = writeln!(
                out,
                "paraf_http_request_duration_seconds_bucket{{route=\"{r}\",le=\"+Inf\"}} {}",
                h.count
            );
            let _ = writeln!(
                out,
                "paraf_http_request_duration_seconds_sum{{route=\"{r}\"}} {}",
                h.sum
            );
            let _ = writeln!(
                out,
                "paraf_http_request_duration_seconds_count{{route=\"{r}\"}} {}",
                h.count
            );
        }
        let _ = writeln!(
            out,
            "# HELP paraf_job_attempts_total Background job attempts by kind and outcome."
        );
        let _ = writeln!(out, "# TYPE paraf_job_attempts_total counter");
        for ((k, o), n) in &g.jobs {
            let _ = writeln!(
                out,
                "paraf_job_attempts_total{{kind=\"{}\",outcome=\"{}\"}} {n}",
                escape(k),
                escape(o)
            );
        }
        let _ = writeln!(out, "# HELP paraf_jobs Jobs in the queue by state.");
        let _ = writeln!(out, "# TYPE paraf_jobs gauge");
        for ((name, state), v) in &g.gauges {
            let _ = writeln!(out, "{name}{{state=\"{}\"}} {v}", escape(state));
        }
        if let Some(b) = g.blobs {
            let _ = writeln!(
                out,
                "# HELP paraf_blob_operations_total Blob store writes and reads."
            );
            let _ = writeln!(out, "# TYPE paraf_blob_operations_total counter");
            let _ = writeln!(out, "paraf_blob_operations_total{{op=\"put\"}} {}", b.puts);
            let _ = writeln!(out, "paraf_blob_operations_total{{op=\"get\"}} {}", b.gets);
            let _ = writeln!(
                out,
                "# HELP paraf_blob_seconds_total Time spent in blob store writes and reads."
            );
            let _ = writeln!(out, "# TYPE paraf_blob_seconds_total counter");
            for (op, micros) in [("put", b.put_micros), ("get", b.get_micros)] {
                let _ = writeln!(
                    out,
                    "paraf_blob_seconds_total{{op=\"{op}\"}} {}",
                    micros as f64 / 1e6
                );
            }
            let _ = writeln!(
                out,
                "# HELP paraf_blob_errors_total Blob store operations that failed (unreachable store, corrupt blob)."
            );
            let _ = writeln!(out, "# TYPE paraf_blob_errors_total counter");
            let _ = writeln!(out, "paraf_blob_errors_total {}", b.errors);
        }
        if let Some(s) = g.signing {
            let _ = writeln!(
                out,
                "# HELP paraf_sign_duration_seconds Time to make one signature (PDF parsed, signed, timestamped, written), every face."
            );
            let _ = writeln!(out, "# TYPE paraf_sign_duration_seconds histogram");
            let mut cumulative = 0;
            for (bound, n) in paraf_core::signing::SIGN_BUCKETS.iter().zip(s.buckets) {
                cumulative += n;
                let _ = writeln!(
                    out,
                    "paraf_sign_duration_seconds_bucket{{le=\"{bound}\"}} {cumulative}"
                );
            }
            // The counters are read one by one: +Inf is never below the last bucket.
            let _ = writeln!(
                out,
                "paraf_sign_duration_seconds_bucket{{le=\"+Inf\"}} {}",
                s.count.max(cumulative)
            );
            let _ = writeln!(
                out,
                "paraf_sign_duration_seconds_sum {}",
                s.micros as f64 / 1e6
            );
            let _ = writeln!(out, "paraf_sign_duration_seconds_count {}", s.count);
            let _ = writeln!(
                out,
                "# HELP paraf_sign_failures_total Signing attempts that failed (refused document or key, timestamp)."
            );
            let _ = writeln!(out, "# TYPE paraf_sign_failures_total counter");
            let _ = writeln!(out, "paraf_sign_failures_total {}", s.failures);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exposition() {
        let m = Metrics::default();
        m.observe_request("GET", "/healthz", 200, Duration::from_millis(3));
        m.observe_request("GET", "/healthz", 200, Duration::from_millis(30));
        m.observe_job("webhook", "done");
        m.set_job_gauge("queued", 2.0);
        m.set_blob_counts(paraf_core::BlobCounts {
            puts: 3,
            gets: 5,
            errors: 1,
            put_micros: 1_500_000,
            get_micros: 0,
        });
        let t = m.render();
        assert!(
            t.contains("paraf_blob_operations_total{op=\"get\"} 5"),
            "{t}"
        );
        assert!(
            t.contains("paraf_blob_seconds_total{op=\"put\"} 1.5"),
            "{t}"
        );
        assert!(t.contains("paraf_blob_errors_total 1"), "{t}");
        assert!(t.contains(
            "paraf_http_requests_total{method=\"GET\",route=\"/healthz\",status=\"200\"} 2"
        ));
        assert!(t.contains(
            "paraf_http_request_duration_seconds_bucket{route=\"/healthz\",le=\"0.005\"} 1"
        ));
        assert!(t.contains("paraf_http_request_duration_seconds_count{route=\"/healthz\"} 2"));
        assert!(t.contains("paraf_job_attempts_total{kind=\"webhook\",outcome=\"done\"} 1"));
        assert!(t.contains("paraf_jobs{state=\"queued\"} 2"));
        assert_eq!(m.request_count("/healthz", 200), 2);
        // The signing histogram is cumulative in the exposition.
        let mut buckets = [0; paraf_core::signing::SIGN_BUCKETS.len()];
        buckets[0] = 2;
        buckets[2] = 1;
        m.set_sign_counts(paraf_core::signing::SignCounts {
            buckets,
            count: 4,
            micros: 2_250_000,
            failures: 1,
        });
        let t = m.render();
        assert!(
            t.contains("paraf_sign_duration_seconds_bucket{le=\"0.005\"} 2"),
            "{t}"
        );
        assert!(
            t.contains("paraf_sign_duration_seconds_bucket{le=\"0.025\"} 3"),
            "{t}"
        );
        assert!(
            t.contains("paraf_sign_duration_seconds_bucket{le=\"+Inf\"} 4"),
            "{t}"
        );
        assert!(t.contains("paraf_sign_duration_seconds_sum 2.25"), "{t}");
        assert!(t.contains("paraf_sign_failures_total 1"), "{t}");
    }
}
