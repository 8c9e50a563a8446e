//! Backup + restore and export + import round trips, proven by the kit's
//! differential mode: a redb store filled by random model sequences is
//! copied both ways; each copy then runs the same random sequence as a
//! store in the copied state, step by step, and every result must match
//! (`compare_sequence`). The export of an import is also the export it came
//! from, row for row. With `POSTGRES_URL` set, the stream is also imported
//! into a PostgreSQL schema and compared the same way.

use std::sync::Arc;

use proptest::strategy::{Strategy, ValueTree};
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
use wacore::store::traits::Backend;
use whatsapp_rust_conformance::Executor;
use whatsapp_rust_conformance::storage::Factory;
use whatsapp_rust_conformance::storage::model::{Op, check_sequence, compare_sequence, op};
use whatsapp_rust_conformance_lab::references::RedbFactory;
use whatsapp_rust_redb_storage::RedbStore;
use whatsapp_rust_redb_storage::portable::{self, AccountRow, Row, StreamReader, StreamWriter};

fn sequences(seed: u8, count: usize, len: usize) -> Vec<Vec<Op>> {
    let rng = TestRng::from_seed(RngAlgorithm::ChaCha, &[seed; 32]);
    let mut runner = TestRunner::new_with_rng(Config::default(), rng);
    let strategy = proptest::collection::vec(op(), len);
    (0..count)
        .map(|_| strategy.new_tree(&mut runner).unwrap().current())
        .collect()
}

fn exported(store: &RedbStore) -> Vec<AccountRow> {
    let mut rows = Vec::new();
    store
        .export_rows(None, |row| {
            rows.push(row);
            Ok(())
        })
        .unwrap();
    rows
}

/// The stream of `rows`, read back.
fn through_stream(rows: &[AccountRow]) -> Vec<AccountRow> {
    let mut writer = StreamWriter::new(Vec::new()).unwrap();
    for row in rows {
        writer.write(row).unwrap();
    }
    let bytes = writer.finish().unwrap();
    StreamReader::new(&bytes[..])
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

/// Rows with the import-time stamps cleared (the trait cannot set them).
fn unstamped(rows: Vec<AccountRow>) -> Vec<AccountRow> {
    rows.into_iter()
        .map(|mut r| {
            if let Row::SentMessage { stored_at, .. } | Row::PendingInbound { stored_at, .. } =
                &mut r.row
            {
                *stored_at = 0;
            }
            r
        })
        .collect()
}

/// A redb store at `path` filled by one random model sequence of 400 steps
/// (one sequence: the model starts empty), checked against the model.
async fn filled_store(path: &std::path::Path, seed: u8) -> (RedbStore, Arc<dyn Backend>) {
    let store = RedbStore::open(path).unwrap();
    let dynamic: Arc<dyn Backend> = Arc::new(store.clone());
    let fill = &sequences(seed, 1, 400)[0];
    check_sequence(&dynamic, RedbFactory.capabilities(), fill)
        .await
        .unwrap();
    (store, dynamic)
}

async fn import_all(rows: &[AccountRow], store: &dyn Backend) {
    let only: Vec<Row> = rows.iter().map(|r| r.row.clone()).collect();
    portable::import(store, &only).await.unwrap();
    for row in &only {
        let verdict = portable::verify(store, row).await.unwrap();
        assert!(
            !matches!(verdict, portable::Verdict::Differs(_)),
            "{} {:?}: {verdict:?}",
            row.table(),
            row.key_text()
        );
    }
}

#[test]
fn copies_behave_as_the_original_under_the_same_sequences() {
    let caps = RedbFactory.capabilities();
    Executor::TokioMultiThread.block_on(async {
        for seed in 1..=4u8 {
            let dir = tempfile::tempdir().unwrap();
            let path = |name: &str| dir.path().join(name);
            let (original, _) = filled_store(&path("original.redb"), seed).await;
            original.backup(path("backup.redb")).await.unwrap();
            let rows = exported(&original);
            assert!(rows.len() > 20, "seed {seed}: only {} rows", rows.len());

            // Restore = a copy of the backup, as the `restore` command makes.
            let backup = RedbStore::open(path("backup.redb")).unwrap();
            backup.backup(path("restored.redb")).await.unwrap();
            let restored = RedbStore::open(path("restored.redb")).unwrap();
            let imported = RedbStore::open(path("imported.redb")).unwrap();
            import_all(&through_stream(&rows), &imported).await;
            assert_eq!(
                unstamped(exported(&imported)),
                unstamped(rows.clone()),
                "seed {seed}: the export of the import differs"
            );

            let copies: Vec<(&str, Arc<dyn Backend>)> = vec![
                ("backup", Arc::new(backup)),
                ("restore", Arc::new(restored)),
                ("import", Arc::new(imported)),
            ];
            for (name, copy) in copies {
                // Each copy against a fresh copy of the original state.
                let twin = path(&format!("twin-{name}.redb"));
                original.backup(&twin).await.unwrap();
                let twin: Arc<dyn Backend> = Arc::new(RedbStore::open(&twin).unwrap());
                for ops in sequences(seed.wrapping_add(100), 3, 120) {
                    compare_sequence(&twin, &copy, caps, &ops)
                        .await
                        .unwrap_or_else(|e| panic!("seed {seed}, {name}: {e}"));
                }
            }
        }
    });
}

#[test]
fn a_store_that_drops_a_table_on_import_is_caught() {
    // The control: an import that loses the sessions is a difference the
    // differential run reports.
    let caps = RedbFactory.capabilities();
    Executor::TokioMultiThread.block_on(async {
        let dir = tempfile::tempdir().unwrap();
        let (original, original_dyn) = filled_store(&dir.path().join("a.redb"), 9).await;
        let rows: Vec<Row> = exported(&original)
            .into_iter()
            .map(|r| r.row)
            .filter(|r| r.table() != "session")
            .collect();
        let lossy = RedbStore::open(dir.path().join("b.redb")).unwrap();
        portable::import(&lossy, &rows).await.unwrap();
        let lossy: Arc<dyn Backend> = Arc::new(lossy);
        let mut caught = false;
        for ops in sequences(10, 8, 120) {
            if compare_sequence(&original_dyn, &lossy, caps, &ops)
                .await
                .is_err()
            {
                caught = true;
                break;
            }
        }
        assert!(caught, "dropping every session went unnoticed");
    });
}

#[test]
fn imports_into_postgres_behave_as_the_original() {
    let Some(url) = whatsapp_rust_conformance_lab::servers::postgres_url_or_skip() else {
        return;
    };
    let caps = RedbFactory.capabilities();
    Executor::TokioMultiThread.block_on(async {
        let dir = tempfile::tempdir().unwrap();
        let (original, original_dyn) = filled_store(&dir.path().join("a.redb"), 5).await;
        let rows = through_stream(&exported(&original));
        let schema = format!("round_trip_{}", std::process::id());
        let pg = whatsapp_rust_postgres_storage::PostgresStore::connect(
            whatsapp_rust_postgres_storage::PostgresConfig::new(url).schema(&schema),
        )
        .await
        .unwrap();
        let pg_dyn: Arc<dyn Backend> = Arc::new(pg.clone());
        import_all(&rows, &*pg_dyn).await;
        for ops in sequences(105, 3, 120) {
            compare_sequence(&original_dyn, &pg_dyn, caps, &ops)
                .await
                .unwrap_or_else(|e| panic!("postgres: {e}"));
        }
        pg.close();
    });
}
