//! The 16-writer target of `bench`, measured side by side: short windows of
//! `concurrent_writers_1` and `concurrent_writers_16` on one store, in
//! alternation, so a drift in the machine's speed hits both alike. The
//! table's two figures are taken tens of seconds apart, with other stores'
//! figures between them; on this project's machines each moves by 10-20%
//! between runs, which made their ratio swing by as much (8.0x to 11.2x for
//! the same build).

use whatsapp_rust_conformance::storage::bench::{
    Budget, Subject, Workload, all_workloads, measure,
};

/// Alternating pairs per measurement (each pair: one window of each).
const PAIRS: u32 = 6;

/// The ratio of two workloads' rates over alternating windows.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct PairedRatio {
    /// Pooled rate of the numerator over pooled rate of the denominator.
    pub(crate) pooled: f64,
    /// The lowest ratio of one pair's windows.
    pub(crate) lowest: f64,
    /// The highest ratio of one pair's windows.
    pub(crate) highest: f64,
    /// Pairs measured.
    pub(crate) pairs: u32,
}

/// One window's work: operations done, seconds taken.
#[derive(Debug, Clone, Copy, Default)]
struct Window {
    ops: f64,
    secs: f64,
}

impl Window {
    fn rate(self) -> Option<f64> {
        (self.ops > 0.0 && self.secs > 0.0).then(|| self.ops / self.secs)
    }

    fn plus(self, other: Window) -> Window {
        Window {
            ops: self.ops + other.ops,
            secs: self.secs + other.secs,
        }
    }
}

/// A numerator's window and the denominator's window beside it.
#[derive(Debug, Clone, Copy)]
struct Pair {
    numerator: Window,
    denominator: Window,
}

impl PairedRatio {
    /// Pools the pairs' operations and seconds; `None` if a window is empty.
    fn of(pairs: &[Pair]) -> Option<PairedRatio> {
        let per_pair: Vec<f64> = pairs
            .iter()
            .map(|p| Some(p.numerator.rate()? / p.denominator.rate()?))
            .collect::<Option<_>>()?;
        let (numerator, denominator) = pairs
            .iter()
            .fold((Window::default(), Window::default()), |(n, d), p| {
                (n.plus(p.numerator), d.plus(p.denominator))
            });
        Some(PairedRatio {
            pooled: numerator.rate()? / denominator.rate()?,
            lowest: per_pair.iter().copied().fold(f64::INFINITY, f64::min),
            highest: per_pair.iter().copied().fold(0.0, f64::max),
            pairs: pairs.len() as u32,
        })
    }
}

/// How `concurrent_writers_16` compares with `concurrent_writers_1` on
/// `subject`: [`PAIRS`] pairs of windows a fifth of `budget`'s measuring
/// time each, the order swapped every pair. `counter` numbers runs, as for
/// the table's figures. `None` if the workloads are missing or a run fails.
pub(crate) async fn sixteen_writers_over_one(
    subject: &Subject,
    budget: Budget,
    counter: &mut u64,
) -> Option<PairedRatio> {
    let named = |name: &str| all_workloads().into_iter().find(|w| w.name == name);
    let (one, sixteen) = (
        named("concurrent_writers_1")?,
        named("concurrent_writers_16")?,
    );
    let window = Budget {
        warmup: budget.warmup / 5,
        measure: budget.measure / 5,
        min_runs: 2,
    };
    let mut pairs = Vec::new();
    for pair in 0..PAIRS {
        let mut take = async |w: &Workload| -> Option<Window> {
            let m = measure(subject, w, window, counter).await.ok()?;
            Some(Window {
                ops: (m.runs * w.ops_per_run) as f64,
                secs: m.elapsed.as_secs_f64(),
            })
        };
        let (numerator, denominator) = if pair % 2 == 0 {
            let denominator = take(&one).await?;
            (take(&sixteen).await?, denominator)
        } else {
            let numerator = take(&sixteen).await?;
            (numerator, take(&one).await?)
        };
        pairs.push(Pair {
            numerator,
            denominator,
        });
    }
    PairedRatio::of(&pairs)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pair(numerator: (f64, f64), denominator: (f64, f64)) -> Pair {
        let window = |(ops, secs)| Window { ops, secs };
        Pair {
            numerator: window(numerator),
            denominator: window(denominator),
        }
    }

    #[test]
    fn pools_operations_and_time_and_keeps_the_spread_of_pairs() {
        // Pair 1: 1000/s over 100/s = 10x; pair 2: 900/s over 100/s = 9x.
        let r = PairedRatio::of(&[
            pair((1000.0, 1.0), (100.0, 1.0)),
            pair((1800.0, 2.0), (50.0, 0.5)),
        ])
        .unwrap();
        assert!(
            (r.pooled - (2800.0 / 3.0) / (150.0 / 1.5)).abs() < 1e-9,
            "{r:?}"
        );
        assert_eq!((r.lowest, r.highest, r.pairs), (9.0, 10.0, 2));
    }

    #[test]
    fn an_empty_window_gives_no_ratio() {
        assert_eq!(PairedRatio::of(&[pair((10.0, 0.0), (1.0, 1.0))]), None);
        assert_eq!(PairedRatio::of(&[pair((10.0, 1.0), (0.0, 1.0))]), None);
        assert_eq!(PairedRatio::of(&[]), None);
    }
}
