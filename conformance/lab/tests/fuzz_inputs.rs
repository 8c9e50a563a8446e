//! Every committed input of every fuzz target (`fuzz/corpus/<target>/` and
//! `fuzz/regressions/<target>/`), replayed through the targets' own bodies
//! (`fuzz/src/lib.rs`, included as is) on every test run: no fuzzer build,
//! no sanitizer profile. Finding new inputs is the opt-in `bash ci/fuzz.sh`.

use std::path::{Path, PathBuf};

use arbitrary::{Arbitrary, Unstructured};

use whatsapp_rust_conformance::storage::model::Op;

#[path = "../../../fuzz/src/lib.rs"]
#[allow(dead_code, unreachable_pub)]
mod fuzz_bodies;

/// Every input file of `target`: its corpus and its regressions.
fn inputs(target: &str) -> Vec<PathBuf> {
    let fuzz = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz");
    let mut files = Vec::new();
    for dir in ["corpus", "regressions"] {
        let Ok(entries) = std::fs::read_dir(fuzz.join(dir).join(target)) else {
            continue;
        };
        files.extend(entries.map(|e| e.expect("a readable directory entry").path()));
    }
    files.sort();
    assert!(!files.is_empty(), "no inputs for {target}");
    files
}

/// Replays each input's operations; returns how many ran. libFuzzer's typed
/// targets drop an input whose tail does not decode (most random seeds); here
/// the decodable prefix runs, so every seed exercises the model.
fn replay_ops(target: &str, body: fn(&[Op])) -> usize {
    let mut ops_run = 0;
    for file in inputs(target) {
        let data = std::fs::read(file).unwrap();
        let mut input = Unstructured::new(&data);
        let mut ops = Vec::new();
        while let Ok(op) = Op::arbitrary(&mut input) {
            if input.is_empty() || ops.len() == fuzz_bodies::MAX_OPS {
                break;
            }
            ops.push(op);
        }
        ops_run += ops.len();
        body(&ops);
    }
    ops_run
}

fn replay_bytes(target: &str, body: fn(&[u8])) -> usize {
    let files = inputs(target);
    for file in &files {
        body(&std::fs::read(file).unwrap());
    }
    files.len()
}

#[test]
fn model_ops_redb_inputs() {
    let ops = replay_ops("model_ops_redb", fuzz_bodies::model_ops_redb);
    assert!(ops > 100, "the corpus made only {ops} operations");
}

#[test]
fn model_ops_memory_inputs() {
    let ops = replay_ops("model_ops_memory", fuzz_bodies::model_ops_memory);
    assert!(ops > 100, "the corpus made only {ops} operations");
}

#[test]
fn decode_record_inputs() {
    eprintln!(
        "{} inputs",
        replay_bytes("decode_record", fuzz_bodies::decode_record)
    );
}

#[test]
fn open_file_inputs() {
    eprintln!(
        "{} inputs",
        replay_bytes("open_file", fuzz_bodies::open_file)
    );
}
