//! Model-based tests: random operation sequences run on a backend and on a
//! reference model of the contract; every result must match.
//!
//! Operations are split by trait (`signal`, `app_sync`, `protocol`,
//! `msg_secret`, `device`): in each file an operation's generator sits in
//! the file's `strategy`, and its model transition and its store call sit
//! side by side in one arm of the file's `step`. Results are typed values
//! ([`Out`]) compared with `==`; where the trait leaves a result open the
//! model says so ([`Expect::Any`]) and it is not compared.
//!
//! Keys and values come from tiny domains (a few users, ids, collections) so
//! sequences overwrite, delete and re-create the same rows. A failure is
//! shrunk by proptest to a minimal sequence and printed as replayable Rust,
//! with the seed: `CONFORMANCE_MODEL_SEED=<seed>` replays it.

pub mod app_sync;
pub mod device;
pub mod msg_secret;
pub mod protocol;
pub mod signal;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::sync::Arc;

use proptest::prelude::*;
use proptest::test_runner::{Config, RngAlgorithm, TestCaseError, TestError, TestRng, TestRunner};
use wacore::store::error::StoreError;
use wacore::store::traits::{Backend, TcTokenEntry};

use super::{Capabilities, Factory};
use crate::Executor;

/// One call on the store, by trait. Small numbers name keys: `3` is user
/// `u3`. With the `arbitrary` feature, fuzzers build sequences from raw bytes.
#[derive(Debug, Clone)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
#[allow(missing_docs)]
pub enum Op {
    Signal(signal::SignalOp),
    AppSync(app_sync::AppSyncOp),
    Protocol(protocol::ProtocolOp),
    MsgSecret(msg_secret::MsgSecretOp),
    Device(device::DeviceOp),
}

/// What a store call returned, as a typed value. Lists whose order the trait
/// leaves open are sets or maps.
#[derive(Debug, Clone, PartialEq, Eq)]
#[allow(missing_docs)]
pub enum Out {
    Unit,
    Bool(bool),
    Count(u64),
    Bytes(Option<Vec<u8>>),
    ById(BTreeMap<u32, Vec<u8>>),
    ByIndex(BTreeMap<[u8; 32], Vec<u8>>),
    Devices(BTreeSet<(String, bool)>),
    Jids(BTreeSet<String>),
    /// `(token, token_timestamp, sender_timestamp)`.
    Tc(Option<(Vec<u8>, i64, Option<i64>)>),
    /// `(lid, phone_number, updated_at)`.
    Lid(Option<(String, String, i64)>),
    /// lid -> `(phone_number, updated_at)`.
    Lids(BTreeMap<String, (String, i64)>),
    Timestamp(Option<i64>),
    Registration(Option<u32>),
}

/// What the model expects of one call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expect {
    /// Exactly this value.
    Exactly(Out),
    /// Implementation-defined at this point of the sequence: not compared.
    Any,
}

impl From<Out> for Expect {
    fn from(out: Out) -> Expect {
        Expect::Exactly(out)
    }
}

/// The contract as plain maps, one group of fields per trait.
#[derive(Debug, Default)]
pub(crate) struct Model {
    caps: Option<Capabilities>,
    // SignalStore
    sessions: BTreeMap<String, Vec<u8>>,
    identities: BTreeMap<String, [u8; 32]>,
    prekeys: BTreeMap<u32, Vec<u8>>,
    signed_prekeys: BTreeMap<u32, Vec<u8>>,
    sender_keys: BTreeMap<String, Vec<u8>>,
    // AppSyncStore
    versions: BTreeMap<String, u64>,
    macs: BTreeMap<(String, [u8; 32]), Vec<u8>>,
    sync_keys: BTreeMap<u8, u8>,
    last_sync_key: Option<u8>,
    // ProtocolStore
    sk_devices: BTreeMap<(String, String), bool>,
    lids: BTreeMap<String, (String, i64)>,
    base_keys: BTreeMap<(String, String), Vec<u8>>,
    device_lists: BTreeMap<String, i64>,
    group_metadata: BTreeMap<String, Vec<u8>>,
    tc: BTreeMap<String, TcTokenEntry>,
    sent: BTreeMap<String, Vec<u8>>,
    pending: BTreeMap<(String, String), Vec<u8>>,
    // MsgSecretStore: id -> (secret, expires_at)
    secrets: BTreeMap<String, (Vec<u8>, i64)>,
    // DeviceStore. None: no device row; Some(None): created with keys the
    // model does not know; Some(Some(r)): saved with registration id r.
    device: Option<Option<u32>>,
}

impl Model {
    fn new(caps: Capabilities) -> Model {
        Model {
            caps: Some(caps),
            ..Model::default()
        }
    }

    fn caps(&self) -> Capabilities {
        self.caps.unwrap_or(Capabilities::none())
    }

    /// Whether the store claims what `op` needs (the pending-inbound buffer
    /// fails closed when it is not claimed; the single-method checks test that).
    fn supports(&self, op: &Op) -> bool {
        match op {
            Op::Protocol(op) => self.caps().pending_inbound || !op.needs_pending_inbound(),
            _ => true,
        }
    }

    /// Applies `op` to the model and to `store`: what the model expects and
    /// what the store returned.
    async fn step(&mut self, op: &Op, store: &Arc<dyn Backend>) -> Result<(Expect, Out), Fault> {
        match op {
            Op::Signal(op) => op.step(self, store).await,
            Op::AppSync(op) => op.step(self, store).await,
            Op::Protocol(op) => op.step(self, store).await,
            Op::MsgSecret(op) => op.step(self, store).await,
            Op::Device(op) => op.step(self, store).await,
        }
    }
}

/// A step that could not be compared: the store failed, or the set-up a step
/// needs (the device row) did.
#[derive(Debug)]
pub(crate) struct Fault(String);

impl From<StoreError> for Fault {
    fn from(e: StoreError) -> Fault {
        Fault(crate::Failure::from(e).0)
    }
}

impl From<crate::Failure> for Fault {
    fn from(f: crate::Failure) -> Fault {
        Fault(f.0)
    }
}

/// The result of a step whose model transition is done: the expectation and
/// the store's answer.
type Step = Result<(Expect, Out), Fault>;

/// User / key `n`: `u{n}@lid`.
fn k(n: u8) -> String {
    format!("u{n}@lid")
}

/// Value `n`: three bytes of `n`.
fn v(n: u8) -> Vec<u8> {
    vec![n; 3]
}

/// Index MAC `n`.
fn idx(n: u8) -> [u8; 32] {
    [n; 32]
}

/// Collection `n`: one of three real collection names.
fn coll(n: u8) -> String {
    ["regular", "regular_low", "critical_block"][n as usize % 3].to_owned()
}

/// Small key domains shared by the strategies.
mod domain {
    use proptest::prelude::*;

    pub(super) fn key() -> impl Strategy<Value = u8> + Clone {
        0u8..4
    }
    pub(super) fn val() -> impl Strategy<Value = u8> + Clone {
        1u8..4
    }
    pub(super) fn id() -> impl Strategy<Value = u32> + Clone {
        prop_oneof![0u32..4, Just(u32::MAX), Just(0x8000_0001)]
    }
    pub(super) fn ts() -> impl Strategy<Value = i64> + Clone {
        prop_oneof![
            0i64..6,
            Just(i64::MIN),
            Just(i64::MAX),
            Just(1_700_000_000_000)
        ]
    }
    pub(super) fn list<T: std::fmt::Debug>(
        item: impl Strategy<Value = T>,
    ) -> impl Strategy<Value = Vec<T>> {
        prop::collection::vec(item, 0..5)
    }
}

/// A strategy for one operation over small key domains, across all 82
/// methods, each trait weighted by its number of operations (app-state
/// sync a little more: its versions are read-modify-written by the client).
pub fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        25 => signal::strategy().prop_map(Op::Signal),
        14 => app_sync::strategy().prop_map(Op::AppSync),
        36 => protocol::strategy().prop_map(Op::Protocol),
        5 => msg_secret::strategy().prop_map(Op::MsgSecret),
        6 => device::strategy().prop_map(Op::Device),
    ]
}

/// Renders a sequence as Rust a developer can paste into a test.
pub fn replay_snippet(ops: &[Op]) -> String {
    let mut s = String::from(
        "use whatsapp_rust_conformance::storage::model::{\n    Op::*, app_sync::AppSyncOp::*, device::DeviceOp::*, msg_secret::MsgSecretOp::*,\n    protocol::ProtocolOp::*, signal::SignalOp::*,\n};\nlet ops = vec![\n",
    );
    for op in ops {
        let _ = writeln!(s, "    {op:?},");
    }
    s + "];\n// whatsapp_rust_conformance::storage::model::check_sequence(&store, capabilities, &ops).await"
}

/// Runs `ops` on `store` and on a fresh model of a store with `caps`; the
/// first mismatch is an error naming the step. Operations the store does not
/// claim (pending inbound without the capability) are skipped; results the
/// contract leaves open at that point are not compared.
pub async fn check_sequence(
    store: &Arc<dyn Backend>,
    caps: Capabilities,
    ops: &[Op],
) -> Result<(), String> {
    let mut model = Model::new(caps);
    for (step, op) in ops.iter().enumerate() {
        if !model.supports(op) {
            continue;
        }
        let (expected, got) = model
            .step(op, store)
            .await
            .map_err(|e| format!("step {step} {op:?}: error {}", e.0))?;
        if let Expect::Exactly(expected) = expected
            && got != expected
        {
            return Err(format!(
                "step {step} {op:?}: store returned {got:?}, the model expects {expected:?}"
            ));
        }
    }
    Ok(())
}

/// Runs `ops` on two stores with the same capabilities and compares their
/// results step by step (differential mode). The model only decides which
/// results the contract determines; the stores' outputs are compared with
/// each other, not with the model.
pub async fn compare_sequence(
    a: &Arc<dyn Backend>,
    b: &Arc<dyn Backend>,
    caps: Capabilities,
    ops: &[Op],
) -> Result<(), String> {
    let (mut model_a, mut model_b) = (Model::new(caps), Model::new(caps));
    for (step, op) in ops.iter().enumerate() {
        if !model_a.supports(op) {
            continue;
        }
        let x = model_a.step(op, a).await;
        let y = model_b.step(op, b).await;
        match (x, y) {
            (Ok((Expect::Any, _)), Ok(_)) | (Ok(_), Ok((Expect::Any, _))) => {}
            (Ok((_, x)), Ok((_, y))) if x == y => {}
            (x, y) => {
                let show = |r: Step| match r {
                    Ok((_, out)) => format!("{out:?}"),
                    Err(e) => format!("error {}", e.0),
                };
                return Err(format!(
                    "step {step} {op:?}: first store {}, second store {}",
                    show(x),
                    show(y)
                ));
            }
        }
    }
    Ok(())
}

/// Budget and seed of a model run.
#[derive(Debug, Clone)]
pub struct ModelRun {
    /// Random sequences to try (`CONFORMANCE_MODEL_CASES`, default 64).
    pub cases: u32,
    /// Longest sequence (`CONFORMANCE_MODEL_LEN`, default 60).
    pub max_len: usize,
    /// Seed of the generator (`CONFORMANCE_MODEL_SEED`, default the clock).
    pub seed: u64,
}

impl ModelRun {
    /// Reads the budget from the environment, with the defaults above.
    pub fn from_env() -> Self {
        let num = |name: &str| std::env::var(name).ok().and_then(|v| v.parse::<u64>().ok());
        let clock = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(1);
        ModelRun {
            cases: num("CONFORMANCE_MODEL_CASES").unwrap_or(64) as u32,
            max_len: num("CONFORMANCE_MODEL_LEN").unwrap_or(60) as usize,
            seed: num("CONFORMANCE_MODEL_SEED").unwrap_or(clock),
        }
    }

    /// Runs the random sequences against fresh stores from `factory`. On a
    /// mismatch, returns the shrunk sequence as a replayable snippet with the seed.
    pub fn run(&self, factory: &dyn Factory, executor: Executor) -> Result<(), String> {
        let mut seed_bytes = [0u8; 32];
        seed_bytes[..8].copy_from_slice(&self.seed.to_le_bytes());
        let config = Config {
            cases: self.cases,
            failure_persistence: None,
            ..Config::default()
        };
        let mut runner = TestRunner::new_with_rng(
            config,
            TestRng::from_seed(RngAlgorithm::ChaCha, &seed_bytes),
        );
        let strategy = prop::collection::vec(op(), 1..=self.max_len.max(1));
        let result = runner.run(&strategy, |ops| {
            executor
                .block_on(async {
                    let instance = factory.open().await.map_err(|e| e.to_string())?;
                    let result =
                        check_sequence(&instance.store(), factory.capabilities(), &ops).await;
                    let teardown = instance.teardown().await.map_err(|e| e.to_string());
                    result.and(teardown)
                })
                .map_err(TestCaseError::fail)
        });
        match result {
            Ok(()) => Ok(()),
            Err(TestError::Fail(reason, ops)) => Err(format!(
                "{} on {}: {reason}\nminimal failing sequence ({} ops), seed {} (CONFORMANCE_MODEL_SEED={} replays it):\n{}",
                factory.name(),
                executor.name(),
                ops.len(),
                self.seed,
                self.seed,
                replay_snippet(&ops)
            )),
            Err(TestError::Abort(why)) => Err(format!("model run aborted: {why}")),
        }
    }
}

/// Flaws that only a sequence reveals: every single-method check passes on
/// them; the model finds them and shrinks to a minimal replayable sequence.
#[cfg(test)]
mod sequence_only_flaws {
    use std::collections::{HashMap, HashSet};
    use std::sync::{Arc, Mutex};

    use async_trait::async_trait;
    use wacore::appstate::hash::HashState;
    use wacore::store::error::Result;
    use wacore::store::traits::{Backend, LidPnMappingEntry};

    use super::ModelRun;
    use crate::Executor;
    use crate::storage::flaws::flawed_factory;
    use crate::storage::{Layer, Layered, SimpleFactory, in_memory, run_suite};

    /// A session put after that address was deleted is lost (a stale tombstone).
    struct PutAfterDeleteDropped {
        inner: Arc<dyn Backend>,
        tombstones: Mutex<HashSet<String>>,
    }

    #[async_trait]
    impl Layer for PutAfterDeleteDropped {
        fn inner(&self) -> &dyn Backend {
            &*self.inner
        }
        async fn put_session(&self, address: &str, session: &[u8]) -> Result<()> {
            if self.tombstones.lock().unwrap().contains(address) {
                return Ok(());
            }
            self.inner.put_session(address, session).await
        }
        async fn delete_session(&self, address: &str) -> Result<()> {
            self.tombstones.lock().unwrap().insert(address.to_owned());
            self.inner.delete_session(address).await
        }
    }

    /// `get_version` keeps returning the first version ever set (a cache
    /// never invalidated).
    struct VersionCacheNeverInvalidated {
        inner: Arc<dyn Backend>,
        cache: Mutex<HashMap<String, HashState>>,
    }

    #[async_trait]
    impl Layer for VersionCacheNeverInvalidated {
        fn inner(&self) -> &dyn Backend {
            &*self.inner
        }
        async fn get_version(&self, name: &str) -> Result<HashState> {
            let cached = self.cache.lock().unwrap().get(name).cloned();
            match cached {
                Some(state) => Ok(state),
                None => self.inner.get_version(name).await,
            }
        }
        async fn set_version(&self, name: &str, state: HashState) -> Result<()> {
            let first = state.clone();
            self.cache
                .lock()
                .unwrap()
                .entry(name.to_owned())
                .or_insert(first);
            self.inner.set_version(name, state).await
        }
    }

    /// `InMemoryBackend` without its declared pn-mapping defect (a phone's
    /// reverse entry lost on a remap), so the model can only trip on the flaw.
    struct PnFixed(Arc<dyn Backend>);

    #[async_trait]
    impl Layer for PnFixed {
        fn inner(&self) -> &dyn Backend {
            &*self.0
        }
        async fn get_pn_mapping(&self, phone: &str) -> Result<Option<LidPnMappingEntry>> {
            let all = self.0.get_all_lid_mappings().await?;
            let mine = all.into_iter().filter(|e| e.phone_number == phone);
            Ok(mine.max_by_key(|e| e.updated_at))
        }
    }

    fn fixed(inner: Arc<dyn Backend>) -> Arc<dyn Backend> {
        Arc::new(Layered(PnFixed(inner)))
    }

    /// Each flaw, with an operation its minimal sequence must hold.
    fn flawed() -> Vec<(&'static str, &'static str, SimpleFactory)> {
        vec![
            (
                "put after delete dropped",
                "DeleteSession",
                flawed_factory(|inner| {
                    Arc::new(Layered(PutAfterDeleteDropped {
                        inner: fixed(inner),
                        tombstones: Mutex::default(),
                    }))
                }),
            ),
            (
                "version cache never invalidated",
                "GetVersion",
                flawed_factory(|inner| {
                    Arc::new(Layered(VersionCacheNeverInvalidated {
                        inner: fixed(inner),
                        cache: Mutex::default(),
                    }))
                }),
            ),
        ]
    }

    #[test]
    fn the_patched_reference_matches_the_model() {
        let factory = flawed_factory(fixed);
        let run = ModelRun {
            cases: 256,
            max_len: 60,
            seed: 42,
        };
        run.run(&factory, Executor::DEFAULT).unwrap();
    }

    #[test]
    fn single_method_checks_miss_the_version_cache_but_not_a_lost_re_put() {
        // A session re-put after its delete was sequence-only until the
        // isolation checks: one of them deletes and re-puts a session.
        let expected_catchers = [
            Some("isolation::one_address_as_session_identity_and_sender_key"),
            None,
        ];
        for ((flaw, _, factory), catcher) in flawed().into_iter().zip(expected_catchers) {
            let report = Executor::DEFAULT
                .block_on(run_suite(
                    &factory,
                    &in_memory::expectations(),
                    |_, _, _| {},
                ))
                .unwrap();
            let failed: Vec<&str> = report
                .checks
                .iter()
                .filter(|c| c.outcome.fails_run())
                .map(|c| c.check)
                .collect();
            assert_eq!(failed, catcher.into_iter().collect::<Vec<_>>(), "{flaw}");
        }
    }

    #[test]
    fn the_model_catches_them_with_a_minimal_replayable_sequence() {
        for (flaw, op, factory) in flawed() {
            let run = ModelRun {
                cases: 2048,
                max_len: 60,
                seed: 42,
            };
            let err = run
                .run(&factory, Executor::DEFAULT)
                .expect_err(&format!("the model missed {flaw}"));
            eprintln!("{flaw}: {err}");
            assert!(
                err.contains(op),
                "{flaw}: the model tripped elsewhere: {err}"
            );
            assert!(err.contains("CONFORMANCE_MODEL_SEED=42"), "{err}");
            assert!(err.contains("let ops = vec!["), "{err}");
            let ops = err
                .lines()
                .filter(|l| l.starts_with("    ") && l.ends_with("),"))
                .count();
            assert!(
                ops <= 4,
                "{flaw}: not shrunk to a minimal sequence ({ops} ops):\n{err}"
            );
        }
    }
}
