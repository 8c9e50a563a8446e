//! Reading rows: from redb alone, or from the overlay's layers over a redb
//! snapshot (`crate::overlay`, the log modes). Every trait
//! implementation reads through [`ReadRows`] and [`View`], so both ways are
//! one code path; the names follow redb's (`get`, `range`, `iter`,
//! `value`).

use std::borrow::Cow;
use std::cell::{OnceCell, RefCell};
use std::cmp::Ordering;
use std::collections::VecDeque;
use std::ops::Bound;

use redb::{AccessGuard, ReadTransaction};

use crate::error::Result;
use crate::overlay::{Base, BaseTable, Layer, Layers, Pending, Probe, TableId, table_id};
use crate::tables::Table;

/// Key bounds of a range read.
pub(crate) type Bounds<'k> = (Bound<&'k [u8]>, Bound<&'k [u8]>);

/// A key or value read: from redb, from a layer, or copied out of a
/// transaction's own changes.
pub(crate) enum Val<'a> {
    Stored(AccessGuard<'a, &'static [u8]>),
    Layered(&'a [u8]),
    Copied(Box<[u8]>),
}

impl Val<'_> {
    pub(crate) fn value(&self) -> &[u8] {
        match self {
            Val::Stored(guard) => guard.value(),
            Val::Layered(bytes) => bytes,
            Val::Copied(bytes) => bytes,
        }
    }
}

/// Reading one table.
pub(crate) trait ReadRows {
    /// The row of `key`.
    fn get(&self, key: &[u8]) -> Result<Option<Val<'_>>>;
    /// The rows within `bounds`, in key order (either way).
    fn range(&self, bounds: Bounds<'_>) -> Result<RowIter<'_>>;
    /// Every row, in key order.
    fn iter(&self) -> Result<RowIter<'_>> {
        self.range((Bound::Unbounded, Bound::Unbounded))
    }
}

/// Where readers read: a redb snapshot, with the overlay's layers in front
/// of it in the log modes.
pub(crate) enum View<'a> {
    Plain(&'a ReadTransaction),
    Layered(&'a Layers),
}

impl<'a> View<'a> {
    /// Opens a data table for reading.
    pub(crate) fn open_table(&self, table: Table) -> Result<Rows<'a>> {
        Ok(match *self {
            View::Plain(txn) => Rows {
                snapshot: Snapshot::Plain {
                    txn,
                    table,
                    opened: OnceCell::new(),
                },
                layers: None,
            },
            View::Layered(layers) => Rows::over(layers, table, None),
        })
    }
}

/// A table of a [`View`] (or of a transaction over the overlay).
pub(crate) struct Rows<'a> {
    snapshot: Snapshot<'a>,
    layers: Option<Layered<'a>>,
}

/// Where a [`Rows`] finds its snapshot's table. It is opened when first
/// read: a write that reads nothing (an insert over the overlay) never
/// opens it, and opening one (a lookup in redb's table tree) was ~5% of a
/// small write's profile samples.
enum Snapshot<'a> {
    /// Its own snapshot: the table is opened for this `Rows`.
    Plain {
        txn: &'a ReadTransaction,
        table: Table,
        opened: OnceCell<BaseTable>,
    },
    /// The overlay's snapshot, whose tables its readers share.
    Shared { base: &'a Base, table: TableId },
}

impl<'a> Rows<'a> {
    /// A table over the overlay's layers (after `pending`, a transaction's
    /// own changes, if given) and their snapshot.
    fn over(layers: &'a Layers, table: Table, pending: Option<&'a RefCell<Pending>>) -> Rows<'a> {
        let table = table_id(table);
        Rows {
            snapshot: Snapshot::Shared {
                base: &layers.base,
                table,
            },
            layers: Some(Layered {
                pending,
                layers,
                table,
            }),
        }
    }

    /// The snapshot's table, opened now if not yet.
    fn base(&self) -> Result<&BaseTable> {
        match &self.snapshot {
            Snapshot::Shared { base, table } => base.table(*table),
            Snapshot::Plain { txn, table, opened } => {
                if let Some(base) = opened.get() {
                    return Ok(base);
                }
                let table = txn.open_table(*table)?;
                Ok(opened.get_or_init(|| table))
            }
        }
    }

    /// A table of a transaction over the overlay: its own changes
    /// (`pending`) first, then the layers, then the base.
    pub(crate) fn with_pending(
        layers: &'a Layers,
        table: Table,
        pending: &'a RefCell<Pending>,
    ) -> Rows<'a> {
        Rows::over(layers, table, Some(pending))
    }
}

impl Rows<'_> {
    /// The row of the key `probe` hashed (`probe` in this table).
    pub(crate) fn get_probed(&self, probe: &Probe<'_>) -> Result<Option<Val<'_>>> {
        if let Some(found) = self.layers.as_ref().and_then(|l| l.get(probe)) {
            return Ok(found);
        }
        Ok(self.base()?.get(probe.key())?.map(Val::Stored))
    }
}

impl ReadRows for Rows<'_> {
    fn get(&self, key: &[u8]) -> Result<Option<Val<'_>>> {
        match &self.layers {
            Some(layers) => self.get_probed(&Probe::new(layers.table, key)),
            None => Ok(self.base()?.get(key)?.map(Val::Stored)),
        }
    }

    fn range(&self, bounds: Bounds<'_>) -> Result<RowIter<'_>> {
        let base = self.base()?.range::<&[u8]>(bounds)?;
        let layered = self
            .layers
            .as_ref()
            .map(|l| l.range(bounds))
            .unwrap_or_default();
        Ok(RowIter::new(base, layered))
    }
}

/// The changes in front of one table's base: a transaction's own, then the
/// overlay's layers, newest first.
struct Layered<'a> {
    pending: Option<&'a RefCell<Pending>>,
    layers: &'a Layers,
    table: TableId,
}

/// A change found in the layers: `None` is a deletion.
pub(crate) type LayeredRow<'a> = (Cow<'a, [u8]>, Option<Val<'a>>);

impl<'a> Layered<'a> {
    /// The overlay's layers this reader reads: a write transaction's (it
    /// has `pending`) include the unsynced staged groups.
    fn newest_first(&self) -> impl Iterator<Item = &'a Layer> + use<'a> {
        let layers: &'a Layers = self.layers;
        layers.newest_first(self.pending.is_some())
    }

    /// The newest change of the key `probe` hashed, if a layer has one.
    fn get(&self, probe: &Probe<'_>) -> Option<Option<Val<'a>>> {
        if let Some(pending) = self.pending
            && let Some(change) = pending.borrow().get(probe)
        {
            return Some(change.map(|v| Val::Copied(v.into())));
        }
        self.newest_first()
            .find_map(|layer| layer.get(probe))
            .map(|change| change.map(Val::Layered))
    }

    /// The newest change of every key within `bounds`, in key order.
    fn range(&self, bounds: Bounds<'_>) -> VecDeque<LayeredRow<'a>> {
        // Each source is sorted; newest first.
        let mut sources: Vec<Vec<LayeredRow<'a>>> = Vec::with_capacity(3);
        if let Some(pending) = self.pending {
            let copied = pending
                .borrow()
                .range(self.table, bounds)
                .into_iter()
                .map(|(key, change)| {
                    let change = change.map(|v| Val::Copied(v.into()));
                    (Cow::Owned(key.to_vec()), change)
                })
                .collect();
            sources.push(copied);
        }
        for layer in self.newest_first() {
            for run in layer.ranges(self.table, bounds) {
                let borrowed = run
                    .map(|(key, change)| (Cow::Borrowed(key), change.map(Val::Layered)))
                    .collect();
                sources.push(borrowed);
            }
        }
        sources.retain(|source| !source.is_empty());
        if sources.len() <= 1 {
            return sources.pop().unwrap_or_default().into();
        }
        merge_newest(sources)
    }
}

/// Merges sorted sources (newest first) into one sorted run in which each
/// key appears once, with the newest source's change.
fn merge_newest(sources: Vec<Vec<LayeredRow<'_>>>) -> VecDeque<LayeredRow<'_>> {
    let mut merged = VecDeque::with_capacity(sources.iter().map(Vec::len).sum());
    let mut rest: Vec<_> = sources.into_iter().map(Vec::into_iter).collect();
    let mut heads: Vec<Option<LayeredRow<'_>>> = rest.iter_mut().map(Iterator::next).collect();
    loop {
        // The smallest key at any head; on a tie the newest source (first).
        let mut smallest: Option<usize> = None;
        for (i, head) in heads.iter().enumerate() {
            let Some((key, _)) = head else { continue };
            let beats = match smallest.and_then(|s| heads[s].as_ref()) {
                Some((best, _)) => key < best,
                None => true,
            };
            if beats {
                smallest = Some(i);
            }
        }
        let Some(s) = smallest else {
            return merged;
        };
        let Some((key, change)) = heads[s].take() else {
            return merged;
        };
        heads[s] = rest[s].next();
        // Older sources' changes of the same key are superseded.
        for (head, source) in heads.iter_mut().zip(rest.iter_mut()) {
            if head.as_ref().is_some_and(|(k, _)| *k == key) {
                *head = source.next();
            }
        }
        merged.push_back((key, change));
    }
}

/// The rows of a range: redb's, merged with the layers' changes (a layer's
/// change replaces the stored row of its key; a deletion hides it).
pub(crate) struct RowIter<'a> {
    base: redb::Range<'a, &'static [u8], &'static [u8]>,
    /// Stored rows taken from `base` but not returned yet, at either end.
    base_front: Option<StoredRow<'a>>,
    base_back: Option<StoredRow<'a>>,
    layered: VecDeque<LayeredRow<'a>>,
}

type StoredRow<'a> = (
    AccessGuard<'a, &'static [u8]>,
    AccessGuard<'a, &'static [u8]>,
);

impl<'a> RowIter<'a> {
    /// The rows of `base` merged with `layered` (sorted, newest changes).
    pub(crate) fn new(
        base: redb::Range<'a, &'static [u8], &'static [u8]>,
        layered: VecDeque<LayeredRow<'a>>,
    ) -> RowIter<'a> {
        RowIter {
            base,
            base_front: None,
            base_back: None,
            layered,
        }
    }

    /// The next row from `base` at the front (or back), or an error.
    fn stored(&mut self, back: bool) -> Option<Result<StoredRow<'a>>> {
        let (taken, other) = if back {
            (self.base_back.take(), &mut self.base_front)
        } else {
            (self.base_front.take(), &mut self.base_back)
        };
        if let Some(row) = taken {
            return Some(Ok(row));
        }
        let next = if back {
            self.base.next_back()
        } else {
            self.base.next()
        };
        // Once `base` is exhausted, what is left is held at the other end.
        match next {
            Some(row) => Some(row.map_err(Into::into)),
            None => other.take().map(Ok),
        }
    }

    fn step(&mut self, back: bool) -> Option<Result<(Val<'a>, Val<'a>)>> {
        loop {
            let stored = match self.stored(back) {
                Some(Ok(row)) => Some(row),
                Some(Err(e)) => return Some(Err(e)),
                None => None,
            };
            let layered = if back {
                self.layered.back()
            } else {
                self.layered.front()
            };
            let Some((layered_key, _)) = layered else {
                return stored.map(|(k, v)| Ok((Val::Stored(k), Val::Stored(v))));
            };
            // How the stored row orders against the layered one, in the
            // direction of travel (`None`: no stored row left).
            let order = stored.as_ref().map(|(stored_key, _)| {
                let order = stored_key.value().cmp(&**layered_key);
                if back { order.reverse() } else { order }
            });
            match (order, stored) {
                (Some(Ordering::Less), Some((k, v))) => {
                    return Some(Ok((Val::Stored(k), Val::Stored(v))));
                }
                (Some(Ordering::Greater), stored) => {
                    if back {
                        self.base_back = stored;
                    } else {
                        self.base_front = stored;
                    }
                }
                // Equal: the layered change replaces the stored row.
                _ => {}
            }
            let taken = if back {
                self.layered.pop_back()
            } else {
                self.layered.pop_front()
            };
            let (key, change) = taken?;
            if let Some(value) = change {
                let key = match key {
                    Cow::Borrowed(k) => Val::Layered(k),
                    Cow::Owned(k) => Val::Copied(k.into()),
                };
                return Some(Ok((key, value)));
            }
        }
    }
}

impl<'a> Iterator for RowIter<'a> {
    type Item = Result<(Val<'a>, Val<'a>)>;

    fn next(&mut self) -> Option<Self::Item> {
        self.step(false)
    }
}

impl DoubleEndedIterator for RowIter<'_> {
    fn next_back(&mut self) -> Option<Self::Item> {
        self.step(true)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use redb::{Database, ReadableDatabase};

    use super::*;
    use crate::overlay::Pending;
    use crate::tables::SESSIONS;

    fn rows<'a>(iter: impl Iterator<Item = Result<(Val<'a>, Val<'a>)>>) -> Vec<(String, String)> {
        iter.map(|row| {
            let (k, v) = row.unwrap();
            let text = |b: &[u8]| String::from_utf8(b.to_vec()).unwrap();
            (text(k.value()), text(v.value()))
        })
        .collect()
    }

    #[test]
    fn layers_replace_and_hide_stored_rows_in_both_directions() {
        let dir = tempfile::tempdir().unwrap();
        let db = Database::create(dir.path().join("v.redb")).unwrap();
        let txn = db.begin_write().unwrap();
        {
            let mut table = txn.open_table(SESSIONS).unwrap();
            for key in ["a", "c", "e", "g"] {
                table.insert(key.as_bytes(), b"stored".as_slice()).unwrap();
            }
        }
        txn.commit().unwrap();
        let id = table_id(SESSIONS);
        let mut frozen = Pending::default();
        frozen.put(id, b"b", Some(b"frozen"));
        frozen.put(id, b"c", None);
        frozen.put(id, b"e", Some(b"frozen"));
        let mut active = Pending::default();
        active.put(id, b"d", Some(b"active"));
        active.put(id, b"e", None);
        active.put(id, b"g", Some(b"active"));
        let layers = Layers {
            base: Arc::new(Base::new(db.begin_read().unwrap())),
            frozen: Some(Arc::new(frozen.into_layer())),
            active: Arc::new(active.into_layer()),
            active_lsn: 0,
            staged: Default::default(),
            published: 0,
        };
        let mut own = Pending::default();
        own.put(id, b"a", None);
        own.put(id, b"h", Some(b"pending"));
        own.put(id, b"d", Some(b"pending"));
        let pending = RefCell::new(own);

        let read = View::Layered(&layers).open_table(SESSIONS).unwrap();
        let expected = [
            ("a", "stored"),
            ("b", "frozen"),
            ("d", "active"),
            ("g", "active"),
        ];
        let expected: Vec<_> = expected
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        assert_eq!(rows(read.iter().unwrap()), expected);
        let mut backwards = rows(read.iter().unwrap().rev());
        backwards.reverse();
        assert_eq!(backwards, expected);
        assert!(read.get(b"c").unwrap().is_none(), "deleted in a layer");
        assert_eq!(read.get(b"e").unwrap().map(|v| v.value().to_vec()), None);
        assert_eq!(read.get(b"b").unwrap().unwrap().value(), b"frozen");

        let write = Rows::with_pending(&layers, SESSIONS, &pending);
        let keys: Vec<_> = rows(write.iter().unwrap())
            .into_iter()
            .map(|r| r.0)
            .collect();
        assert_eq!(keys, ["b", "d", "g", "h"]);
        let from_d = (Bound::Included(&b"c"[..]), Bound::Excluded(&b"h"[..]));
        let keys: Vec<_> = rows(write.range(from_d).unwrap())
            .into_iter()
            .map(|r| r.0)
            .collect();
        assert_eq!(keys, ["d", "g"]);
        // Alternating ends meet in the middle without losing or repeating a row.
        let mut iter = write.iter().unwrap();
        let ends = [
            iter.next(),
            iter.next_back(),
            iter.next(),
            iter.next_back(),
            iter.next(),
        ];
        let ends: Vec<_> = ends
            .into_iter()
            .map(|r| r.map(|r| String::from_utf8(r.unwrap().0.value().to_vec()).unwrap()))
            .collect();
        assert_eq!(
            ends,
            [
                Some("b".into()),
                Some("h".into()),
                Some("d".into()),
                Some("g".into()),
                None
            ]
        );
    }
}
