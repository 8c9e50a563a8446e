//! The device (account identity) record.
//!
//! `Device` has fields serde skips (`device_props`, `client_profile`,
//! `nct_salt_sync_seen`): they are runtime-only, so like the SQLite backend the
//! decoder restores `device_props` to `DEVICE_PROPS`, `client_profile` to
//! `ClientProfile::web()` and the sync-seen marker to `false`.

use std::sync::Arc;

use wacore::libsignal::protocol::{KeyPair, PrivateKey, PublicKey};
use wacore::store::Device;
use wacore::store::device::{CachedNoiseCert, CachedServerCertChain, account_serde};
use wacore_binary::Jid;

use super::Record;
use super::codec::{Decoder, Encoder};
use crate::error::Error;

/// The device row of one account.
///
/// Format (v1):
/// ```text
/// version=1, pn: Option<str>, lid: Option<str>, registration_id: u32,
/// noise_key: [u8; 64], identity_key: [u8; 64], signed_pre_key: [u8; 64]   (private 32 ‖ public 32)
/// signed_pre_key_id: u32, signed_pre_key_signature: [u8; 64], adv_secret_key: [u8; 32],
/// account: Option<bytes> (ADVSignedDeviceIdentity protobuf), push_name: str,
/// app_version_primary: u32, app_version_secondary: u32, app_version_tertiary: u32,
/// app_version_last_fetched_ms: i64, edge_routing_info: Option<bytes>, props_hash: Option<str>,
/// next_pre_key_id: u32, first_unupload_pre_key_id: u32, server_has_prekeys: bool,
/// nct_salt: Option<bytes>,
/// server_cert_chain: Option<(intermediate: cert, leaf: cert)> where cert = key: [u8; 32], not_before: i64, not_after: i64
/// login_counter: i64, lid_migrated: bool, last_signed_pre_key_rotation_ms: i64,
/// read_receipts_disabled: bool
/// ```
pub(crate) struct DeviceRecord(pub Device);

fn encode_keypair(e: Encoder, pair: &KeyPair) -> Encoder {
    e.array(pair.private_key.serialize())
        .array(pair.public_key.public_key_bytes())
}

fn decode_keypair(d: &mut Decoder<'_>) -> Result<KeyPair, Error> {
    let bytes = d.array::<64>()?;
    let private_key = PrivateKey::deserialize(&bytes[..32])
        .map_err(|e| Error::decode(DeviceRecord::NAME, format!("private key: {e}")))?;
    let public_key = PublicKey::from_djb_public_key_bytes(&bytes[32..])
        .map_err(|e| Error::decode(DeviceRecord::NAME, format!("public key: {e}")))?;
    Ok(KeyPair::new(public_key, private_key))
}

fn encode_cert(e: Encoder, cert: &CachedNoiseCert) -> Encoder {
    e.array(&cert.key).i64(cert.not_before).i64(cert.not_after)
}

fn decode_cert(d: &mut Decoder<'_>) -> Result<CachedNoiseCert, Error> {
    Ok(CachedNoiseCert {
        key: d.array()?,
        not_before: d.i64()?,
        not_after: d.i64()?,
    })
}

fn decode_jid(d: &mut Decoder<'_>) -> Result<Option<Jid>, Error> {
    d.opt(|d| {
        let text = d.str()?;
        text.parse::<Jid>()
            .map_err(|e| Error::decode(DeviceRecord::NAME, format!("JID {text:?}: {e}")))
    })
}

impl Record for DeviceRecord {
    const NAME: &'static str = "device";

    fn encode(&self) -> Vec<u8> {
        DeviceRecord::encode_device(&self.0)
    }

    fn decode(bytes: &[u8]) -> Result<Self, Error> {
        DeviceRecord::decode_device(bytes).map(DeviceRecord)
    }
}

impl DeviceRecord {
    pub(crate) fn encode_device(d: &Device) -> Vec<u8> {
        let account = d.account.as_ref().map(|a| account_serde::to_bytes(a));
        let mut e = Encoder::new(1, 1024)
            .opt(d.pn.as_ref().map(|j| j.to_string()), |e, s| e.str(&s))
            .opt(d.lid.as_ref().map(|j| j.to_string()), |e, s| e.str(&s))
            .u32(d.registration_id);
        e = encode_keypair(e, &d.noise_key);
        e = encode_keypair(e, &d.identity_key);
        e = encode_keypair(e, &d.signed_pre_key);
        e.u32(d.signed_pre_key_id)
            .array(&d.signed_pre_key_signature)
            .array(&d.adv_secret_key)
            .opt(account.as_deref(), Encoder::bytes)
            .str(&d.push_name)
            .u32(d.app_version_primary)
            .u32(d.app_version_secondary)
            .u32(d.app_version_tertiary)
            .i64(d.app_version_last_fetched_ms)
            .opt(d.edge_routing_info.as_deref(), Encoder::bytes)
            .opt(d.props_hash.as_deref(), Encoder::str)
            .u32(d.next_pre_key_id)
            .u32(d.first_unupload_pre_key_id)
            .bool(d.server_has_prekeys)
            .opt(d.nct_salt.as_deref(), Encoder::bytes)
            .opt(d.server_cert_chain.as_ref(), |e, chain| {
                encode_cert(encode_cert(e, &chain.intermediate), &chain.leaf)
            })
            .i64(d.login_counter as i64)
            .bool(d.lid_migrated)
            .i64(d.last_signed_pre_key_rotation_ms)
            .bool(d.read_receipts_disabled)
            .finish()
    }

    pub(crate) fn decode_device(bytes: &[u8]) -> Result<Device, Error> {
        let mut d = Decoder::new(Self::NAME, bytes, 1)?;
        let pn = decode_jid(&mut d)?;
        let lid = decode_jid(&mut d)?;
        let registration_id = d.u32()?;
        let noise_key = decode_keypair(&mut d)?;
        let identity_key = decode_keypair(&mut d)?;
        let signed_pre_key = decode_keypair(&mut d)?;
        let signed_pre_key_id = d.u32()?;
        let signed_pre_key_signature = d.array::<64>()?;
        let adv_secret_key = d.array::<32>()?;
        let account = d
            .opt(|d| {
                let raw = d.bytes()?;
                account_serde::from_bytes(raw)
                    .map_err(|e| Error::decode(Self::NAME, format!("account: {e}")))
            })?
            .map(Arc::new);
        let push_name = d.str()?.to_owned();
        let app_version_primary = d.u32()?;
        let app_version_secondary = d.u32()?;
        let app_version_tertiary = d.u32()?;
        let app_version_last_fetched_ms = d.i64()?;
        let edge_routing_info = d.opt(|d| d.bytes().map(<[u8]>::to_vec))?;
        let props_hash = d.opt(|d| d.str().map(str::to_owned))?;
        let next_pre_key_id = d.u32()?;
        let first_unupload_pre_key_id = d.u32()?;
        let server_has_prekeys = d.bool()?;
        let nct_salt = d.opt(|d| d.bytes().map(<[u8]>::to_vec))?;
        let server_cert_chain = d.opt(|d| {
            Ok(CachedServerCertChain {
                intermediate: decode_cert(d)?,
                leaf: decode_cert(d)?,
            })
        })?;
        let login_counter = i32::try_from(d.i64()?)
            .map_err(|_| Error::decode(Self::NAME, "login_counter out of i32 range"))?;
        let lid_migrated = d.bool()?;
        let last_signed_pre_key_rotation_ms = d.i64()?;
        let read_receipts_disabled = d.bool()?;
        d.finish()?;
        Ok(Device {
            pn,
            lid,
            registration_id,
            noise_key,
            identity_key,
            signed_pre_key,
            signed_pre_key_id,
            signed_pre_key_signature,
            adv_secret_key,
            account,
            push_name,
            app_version_primary,
            app_version_secondary,
            app_version_tertiary,
            app_version_last_fetched_ms,
            device_props: Arc::new(wacore::store::device::DEVICE_PROPS.clone()),
            client_profile: wacore::client_profile::ClientProfile::web(),
            edge_routing_info,
            props_hash,
            next_pre_key_id,
            first_unupload_pre_key_id,
            server_has_prekeys,
            nct_salt,
            nct_salt_sync_seen: false,
            server_cert_chain,
            login_counter,
            lid_migrated,
            last_signed_pre_key_rotation_ms,
            read_receipts_disabled,
        })
    }
}
