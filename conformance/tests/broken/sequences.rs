//! Flaws that only a sequence reveals: every single-method check passes on
//! them, the model-based run finds them and shrinks to a minimal sequence.

use whatsapp_rust_conformance::model::ModelRun;
use whatsapp_rust_conformance::references::memory_expectations;
use whatsapp_rust_conformance::{Executor, run_suite};

use super::backend::Flaw;
use super::factory;

const SEQUENCE_ONLY: [Flaw; 2] = [
    Flaw::PutAfterDeleteDropped,
    Flaw::VersionCacheNeverInvalidated,
];

#[test]
fn single_method_checks_miss_them() {
    for flaw in SEQUENCE_ONLY {
        let report = Executor::TokioMultiThread.block_on(run_suite(
            &factory(flaw),
            &memory_expectations(),
            |_, _, _| {},
        ));
        assert!(
            report.is_ok(),
            "{flaw:?} was caught by a single-method check: {:#?}",
            report.to_json()
        );
    }
}

#[test]
fn the_model_catches_them_with_a_minimal_replayable_sequence() {
    for flaw in SEQUENCE_ONLY {
        let run = ModelRun {
            cases: 512,
            max_len: 60,
            seed: 42,
        };
        let err = run
            .run(&factory(flaw), Executor::TokioCurrentThread)
            .expect_err(&format!("the model missed {flaw:?}"));
        eprintln!("{flaw:?}: {err}");
        assert!(err.contains("CONFORMANCE_MODEL_SEED=42"), "{err}");
        assert!(err.contains("let ops = vec!["), "{err}");
        let ops = err
            .lines()
            .filter(|l| l.starts_with("    ") && l.ends_with("),"))
            .count();
        assert!(
            ops <= 4,
            "{flaw:?}: not shrunk to a minimal sequence ({ops} ops):\n{err}"
        );
    }
}
