//! Splitting a run's cases across CI machines, as cargo-nextest's
//! `--partition` does: machine K of N runs partition K, and the N
//! partitions together are exactly the full run, each case in one of them.

use std::{fmt, str::FromStr};

/// Which share of the selected cases this run takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Partition {
    pub kind: PartitionKind,
    /// 1-based: this run's share.
    pub index: u64,
    pub count: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PartitionKind {
    /// By a stable hash of `suite/case`: a case stays in its partition
    /// when others are added or removed.
    Hash,
    /// Round robin over the selected cases in run order: even shares.
    Count,
}

impl Partition {
    /// Whether the case at `position` (0-based, among the selected cases in
    /// run order) named `suite/case` belongs to this partition.
    pub fn takes(&self, position: u64, suite: &str, case: &str) -> bool {
        let slot = match self.kind {
            PartitionKind::Hash => stable_hash(&format!("{suite}/{case}")),
            PartitionKind::Count => position,
        };
        slot % self.count == self.index - 1
    }
}

/// FNV-1a: the same value on every machine and every build, which
/// `std`'s hasher does not promise.
fn stable_hash(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |hash, byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

impl FromStr for Partition {
    type Err = String;

    /// `hash:K/N` or `count:K/N`, with 1 ≤ K ≤ N.
    fn from_str(text: &str) -> Result<Partition, String> {
        let expected = || format!("{text:?}: expected `hash:K/N` or `count:K/N` with 1 <= K <= N");
        let (kind, share) = text.split_once(':').ok_or_else(expected)?;
        let kind = match kind {
            "hash" => PartitionKind::Hash,
            "count" => PartitionKind::Count,
            _ => return Err(expected()),
        };
        let (index, count) = share.split_once('/').ok_or_else(expected)?;
        let (Ok(index), Ok(count)) = (index.parse::<u64>(), count.parse::<u64>()) else {
            return Err(expected());
        };
        if index == 0 || index > count {
            return Err(expected());
        }
        Ok(Partition { kind, index, count })
    }
}

impl fmt::Display for Partition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match self.kind {
            PartitionKind::Hash => "hash",
            PartitionKind::Count => "count",
        };
        write!(f, "{kind}:{}/{}", self.index, self.count)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_rejects() {
        let partition: Partition = "hash:2/3".parse().unwrap();
        assert_eq!(partition.kind, PartitionKind::Hash);
        assert_eq!((partition.index, partition.count), (2, 3));
        assert_eq!(partition.to_string(), "hash:2/3");
        for bad in [
            "hash:0/3",
            "count:4/3",
            "hash:1",
            "slice:1/2",
            "count:a/2",
            "count:1/0",
        ] {
            assert!(bad.parse::<Partition>().is_err(), "{bad} was accepted");
        }
    }

    #[test]
    fn every_case_lands_in_exactly_one_partition() {
        for kind in ["hash", "count"] {
            let partitions: Vec<Partition> = (1..=3)
                .map(|index| format!("{kind}:{index}/3").parse().unwrap())
                .collect();
            for position in 0..50 {
                let case = format!("case-{position}");
                let owners = partitions
                    .iter()
                    .filter(|partition| partition.takes(position, "suite", &case))
                    .count();
                assert_eq!(owners, 1, "{kind}: case {case} is in {owners} partitions");
            }
        }
    }
}
