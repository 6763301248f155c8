//! Latency histograms: HdrHistogram from 1 ns to 60 s at 3 significant
//! digits, so one call's p50 of 30 µs and another's stall of 20 s fit the
//! same structure with 0.1 % resolution, and histograms from different runs
//! add up exactly (the reason they are kept, not just their percentiles).

use std::{fmt, str::FromStr, time::Duration};

use base64::{Engine, engine::general_purpose::STANDARD as BASE64};
use hdrhistogram::{
    Histogram,
    serialization::{Deserializer, Serializer, V2DeflateSerializer},
};
use serde::{Deserialize, Serialize};

/// The recordable range, in nanoseconds.
pub const LOWEST_NS: u64 = 1;
pub const HIGHEST_NS: u64 = 60_000_000_000;
pub const SIGNIFICANT_DIGITS: u8 = 3;

/// One call's latencies, in nanoseconds.
#[derive(Clone)]
pub struct Latencies {
    histogram: Histogram<u64>,
}

impl fmt::Debug for Latencies {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Latencies({:?})", self.summary())
    }
}

impl Default for Latencies {
    fn default() -> Self {
        Latencies::new()
    }
}

impl PartialEq for Latencies {
    fn eq(&self, other: &Self) -> bool {
        self.histogram == other.histogram
    }
}

/// A histogram that does not decode or does not fit the range.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct HistogramError(String);

impl Latencies {
    pub fn new() -> Latencies {
        Latencies {
            histogram: Histogram::new_with_bounds(LOWEST_NS, HIGHEST_NS, SIGNIFICANT_DIGITS)
                .expect("constant bounds are valid"),
        }
    }

    /// Records one latency; anything beyond 60 s counts as 60 s (a call
    /// that slow has long missed every deadline, its exact size is moot).
    pub fn record(&mut self, latency: Duration) {
        self.record_ns(u64::try_from(latency.as_nanos()).unwrap_or(u64::MAX));
    }

    pub fn record_ns(&mut self, nanos: u64) {
        self.histogram.saturating_record(nanos.min(HIGHEST_NS));
    }

    /// Adds every value of `other`.
    pub fn merge(&mut self, other: &Latencies) {
        self.histogram
            .add(&other.histogram)
            .expect("histograms of the same range always add");
    }

    pub fn count(&self) -> u64 {
        self.histogram.len()
    }

    pub fn is_empty(&self) -> bool {
        self.histogram.is_empty()
    }

    /// How many recorded latencies are `latency` or more (to the
    /// histogram's resolution).
    pub fn count_at_least(&self, latency: Duration) -> u64 {
        let nanos = u64::try_from(latency.as_nanos()).unwrap_or(u64::MAX);
        if nanos > HIGHEST_NS {
            return 0;
        }
        self.histogram.count_between(nanos, HIGHEST_NS)
    }

    /// `stat` in nanoseconds (0 for an empty histogram).
    pub fn get(&self, stat: Stat) -> f64 {
        if self.is_empty() {
            return 0.0;
        }
        match stat.quantile() {
            Some(quantile) => self.histogram.value_at_quantile(quantile) as f64,
            None if stat == Stat::Max => self.histogram.max() as f64,
            None => self.histogram.mean(),
        }
    }

    pub fn summary(&self) -> Summary {
        let ns = |stat| self.get(stat).round() as u64;
        Summary {
            count: self.count(),
            min_ns: if self.is_empty() {
                0
            } else {
                self.histogram.min()
            },
            mean_ns: round_tenth(self.get(Stat::Mean)),
            stdev_ns: round_tenth(if self.is_empty() {
                0.0
            } else {
                self.histogram.stdev()
            }),
            p50_ns: ns(Stat::P50),
            p90_ns: ns(Stat::P90),
            p99_ns: ns(Stat::P99),
            p999_ns: ns(Stat::P999),
            p9999_ns: ns(Stat::P9999),
            max_ns: ns(Stat::Max),
        }
    }

    /// The percentile distribution as (quantile, nanoseconds) points,
    /// denser towards the tail, for plots.
    pub fn quantile_curve(&self) -> Vec<(f64, u64)> {
        if self.is_empty() {
            return Vec::new();
        }
        self.histogram
            .iter_quantiles(5)
            .map(|step| (step.quantile_iterated_to(), step.value_iterated_to()))
            .collect()
    }

    /// The HdrHistogram V2 compressed encoding, base64: the form every
    /// HdrHistogram implementation reads, so reports can be merged here
    /// and inspected elsewhere.
    pub fn encode(&self) -> String {
        let mut bytes = Vec::new();
        V2DeflateSerializer::new()
            .serialize(&self.histogram, &mut bytes)
            .expect("serializing to memory cannot fail");
        BASE64.encode(bytes)
    }

    pub fn decode(text: &str) -> Result<Latencies, HistogramError> {
        let bytes = BASE64
            .decode(text.trim())
            .map_err(|err| HistogramError(format!("not base64: {err}")))?;
        let decoded: Histogram<u64> = Deserializer::new()
            .deserialize(&mut bytes.as_slice())
            .map_err(|err| HistogramError(format!("not an HdrHistogram V2 encoding: {err:?}")))?;
        // Re-recorded into the standard range, so any two decoded
        // histograms merge.
        let mut latencies = Latencies::new();
        latencies
            .histogram
            .add(&decoded)
            .map_err(|err| HistogramError(format!("values outside 1 ns – 60 s: {err:?}")))?;
        Ok(latencies)
    }
}

/// In reports a histogram is its base64 V2 compressed encoding.
impl Serialize for Latencies {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.encode())
    }
}

impl<'de> Deserialize<'de> for Latencies {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Latencies, D::Error> {
        let text = String::deserialize(deserializer)?;
        Latencies::decode(&text).map_err(serde::de::Error::custom)
    }
}

fn round_tenth(value: f64) -> f64 {
    (value * 10.0).round() / 10.0
}

/// The figures reported for every histogram, in nanoseconds.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    pub count: u64,
    pub min_ns: u64,
    pub mean_ns: f64,
    pub stdev_ns: f64,
    pub p50_ns: u64,
    pub p90_ns: u64,
    pub p99_ns: u64,
    pub p999_ns: u64,
    pub p9999_ns: u64,
    pub max_ns: u64,
}

impl Summary {
    pub fn get(&self, stat: Stat) -> f64 {
        match stat {
            Stat::P50 => self.p50_ns as f64,
            Stat::P90 => self.p90_ns as f64,
            Stat::P99 => self.p99_ns as f64,
            Stat::P999 => self.p999_ns as f64,
            Stat::P9999 => self.p9999_ns as f64,
            Stat::Max => self.max_ns as f64,
            Stat::Mean => self.mean_ns,
        }
    }
}

/// A statistic a budget or a comparison is judged on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(into = "String", try_from = "String")]
pub enum Stat {
    P50,
    P90,
    P99,
    P999,
    P9999,
    Max,
    Mean,
}

impl Stat {
    pub const ALL: [Stat; 7] = [
        Stat::P50,
        Stat::P90,
        Stat::P99,
        Stat::P999,
        Stat::P9999,
        Stat::Max,
        Stat::Mean,
    ];

    pub fn quantile(self) -> Option<f64> {
        match self {
            Stat::P50 => Some(0.5),
            Stat::P90 => Some(0.9),
            Stat::P99 => Some(0.99),
            Stat::P999 => Some(0.999),
            Stat::P9999 => Some(0.9999),
            Stat::Max | Stat::Mean => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Stat::P50 => "p50",
            Stat::P90 => "p90",
            Stat::P99 => "p99",
            Stat::P999 => "p99.9",
            Stat::P9999 => "p99.99",
            Stat::Max => "max",
            Stat::Mean => "mean",
        }
    }
}

impl fmt::Display for Stat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Stat {
    type Err = String;

    fn from_str(text: &str) -> Result<Stat, String> {
        let wanted = text.trim().to_ascii_lowercase();
        let wanted = match wanted.as_str() {
            "p100" => "max",
            "p99.90" => "p99.9",
            other => other,
        };
        Stat::ALL
            .into_iter()
            .find(|stat| stat.name() == wanted)
            .ok_or_else(|| {
                let names: Vec<&str> = Stat::ALL.iter().map(|stat| stat.name()).collect();
                format!(
                    "unknown statistic {text:?}; expected one of {}",
                    names.join(", ")
                )
            })
    }
}

impl From<Stat> for String {
    fn from(stat: Stat) -> String {
        stat.name().to_owned()
    }
}

impl TryFrom<String> for Stat {
    type Error = String;

    fn try_from(text: String) -> Result<Stat, String> {
        text.parse()
    }
}

/// Nanoseconds for people: `812ns`, `35.2µs`, `4.71ms`, `1.20s`, three
/// significant digits like the histograms themselves.
pub fn format_ns(nanos: f64) -> String {
    let (value, unit) = if nanos < 1e3 {
        (nanos, "ns")
    } else if nanos < 1e6 {
        (nanos / 1e3, "µs")
    } else if nanos < 1e9 {
        (nanos / 1e6, "ms")
    } else {
        (nanos / 1e9, "s")
    };
    if unit == "ns" || value >= 100.0 {
        format!("{value:.0}{unit}")
    } else if value >= 10.0 {
        format!("{value:.1}{unit}")
    } else {
        format!("{value:.2}{unit}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 1..=10_000 µs, once each: every percentile is known exactly.
    fn uniform() -> Latencies {
        let mut latencies = Latencies::new();
        for micros in 1..=10_000u64 {
            latencies.record(Duration::from_micros(micros));
        }
        latencies
    }

    /// Within HdrHistogram's resolution at 3 significant digits.
    fn close(actual: f64, expected: f64) -> bool {
        (actual - expected).abs() <= expected * 0.001 + 1.0
    }

    #[test]
    fn percentiles_of_a_uniform_distribution() {
        let summary = uniform().summary();
        assert_eq!(summary.count, 10_000);
        for (actual, expected) in [
            (summary.p50_ns, 5_000_000.0),
            (summary.p90_ns, 9_000_000.0),
            (summary.p99_ns, 9_900_000.0),
            (summary.p999_ns, 9_990_000.0),
            (summary.p9999_ns, 9_999_000.0),
            (summary.max_ns, 10_000_000.0),
            (summary.min_ns, 1_000.0),
        ] {
            assert!(close(actual as f64, expected), "{actual} vs {expected}");
        }
        assert!(close(summary.mean_ns, 5_000_500.0), "{}", summary.mean_ns);
        // The standard deviation of 1..=n is sqrt((n² − 1) / 12).
        let stdev = ((10_000f64.powi(2) - 1.0) / 12.0).sqrt() * 1_000.0;
        assert!(close(summary.stdev_ns, stdev), "{}", summary.stdev_ns);
    }

    #[test]
    fn percentiles_of_a_bimodal_distribution() {
        // 99 % fast at 10 µs, 1 % slow at 5 ms: p99 is still fast, p99.9 slow.
        let mut latencies = Latencies::new();
        for index in 0..100_000 {
            let micros = if index % 100 == 0 { 5_000 } else { 10 };
            latencies.record(Duration::from_micros(micros));
        }
        assert!(close(latencies.get(Stat::P50), 10_000.0));
        assert!(close(latencies.get(Stat::P99), 10_000.0));
        assert!(close(latencies.get(Stat::P999), 5_000_000.0));
        assert!(close(
            latencies.get(Stat::Mean),
            0.99 * 10_000.0 + 0.01 * 5e6
        ));
    }

    #[test]
    fn values_outside_the_range_saturate_and_empty_is_zero() {
        let mut latencies = Latencies::new();
        assert_eq!(latencies.summary().p99_ns, 0);
        latencies.record(Duration::from_secs(3600));
        latencies.record(Duration::ZERO);
        assert_eq!(latencies.count(), 2);
        assert!(close(latencies.get(Stat::Max), HIGHEST_NS as f64));
    }

    #[test]
    fn encoding_round_trips_and_merging_adds_counts() {
        let original = uniform();
        let text = original.encode();
        let decoded = Latencies::decode(&text).unwrap();
        assert_eq!(decoded, original);
        let mut merged = decoded.clone();
        merged.merge(&original);
        assert_eq!(merged.count(), 20_000);
        assert_eq!(merged.summary().p50_ns, original.summary().p50_ns);
        assert!(Latencies::decode("not base64!").is_err());
        assert!(Latencies::decode("aGVsbG8=").is_err());
    }

    #[test]
    fn stats_parse_by_name() {
        assert_eq!("p99.9".parse::<Stat>(), Ok(Stat::P999));
        assert_eq!("P50".parse::<Stat>(), Ok(Stat::P50));
        assert_eq!("p100".parse::<Stat>(), Ok(Stat::Max));
        assert!("p42".parse::<Stat>().unwrap_err().contains("p99.99"));
    }

    #[test]
    fn nanoseconds_format_with_three_digits() {
        assert_eq!(format_ns(812.0), "812ns");
        assert_eq!(format_ns(35_240.0), "35.2µs");
        assert_eq!(format_ns(4_712_000.0), "4.71ms");
        assert_eq!(format_ns(120_000_000.0), "120ms");
        assert_eq!(format_ns(1.2e9), "1.20s");
    }
}
