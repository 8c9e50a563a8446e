//! `DeviceStore` operations.

use std::sync::Arc;

use proptest::prelude::*;
use wacore::store::traits::Backend;

use super::domain::val;
use super::{Expect, Model, Out, Step};

/// A `DeviceStore` call.
#[derive(Debug, Clone)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
#[allow(missing_docs)]
pub enum DeviceOp {
    /// Saves a device with this registration id.
    SaveDevice(u8),
    LoadDevice,
    DeviceExists,
    CreateDevice,
    SnapshotDb,
    ResourceReport,
}

/// Every operation with its generator.
pub(super) fn strategy() -> impl Strategy<Value = DeviceOp> {
    use DeviceOp::*;
    prop_oneof![
        val().prop_map(SaveDevice),
        Just(LoadDevice),
        Just(DeviceExists),
        Just(CreateDevice),
        Just(SnapshotDb),
        Just(ResourceReport),
    ]
}

impl DeviceOp {
    /// The model's transition and the store's call, side by side.
    pub(super) async fn step(&self, m: &mut Model, s: &Arc<dyn Backend>) -> Step {
        use DeviceOp::*;
        let unit = || Expect::from(Out::Unit);
        Ok(match self {
            SaveDevice(registration) => {
                m.device = Some(Some(u32::from(*registration)));
                let mut device = wacore::store::Device::new();
                device.registration_id = u32::from(*registration);
                s.save(&device).await?;
                (unit(), Out::Unit)
            }
            LoadDevice => {
                let expected = match m.device {
                    None => Out::Registration(None).into(),
                    // Created with keys the model does not know.
                    Some(None) => Expect::Any,
                    Some(Some(r)) => Out::Registration(Some(r)).into(),
                };
                let got = s.load().await?.map(|d| d.registration_id);
                (expected, Out::Registration(got))
            }
            DeviceExists => (
                Out::Bool(m.device.is_some()).into(),
                Out::Bool(s.exists().await?),
            ),
            CreateDevice => {
                m.device.get_or_insert(None);
                // create() on an existing row is implementation-defined (an error or a no-op).
                let existed = s.exists().await?;
                if let Err(e) = s.create().await
                    && !existed
                {
                    return Err(e.into());
                }
                (unit(), Out::Unit)
            }
            SnapshotDb => {
                // Whatever it writes, later steps check that the data did not change.
                let _ = s.snapshot_db("model", None).await;
                (unit(), Out::Unit)
            }
            ResourceReport => {
                s.resource_report().await;
                (unit(), Out::Unit)
            }
        })
    }
}
