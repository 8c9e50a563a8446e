//! An in-process Noise responder for WhatsApp's handshake, run by the kit's
//! WebSocket server: XX for a client with no stored chain, IK for one that
//! knows this server's static key, XXfallback for one whose stored key is
//! stale (the server rotated), as WhatsApp's servers answer.

use wacore::handshake::NoiseHandshake;
use wacore::libsignal::protocol::KeyPair;
use wacore_binary::consts::{
    NOISE_PATTERN_IK, NOISE_PATTERN_XX, NOISE_PATTERN_XXFALLBACK, WA_CONN_HEADER,
};
use waproto::buffa::{self, Message};
use waproto::whatsapp as wa;

use crate::net::Session;

/// Which handshake the client spoke, as the server saw it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Pattern {
    /// A full handshake: the client had no usable stored chain.
    Xx,
    /// A resumed handshake with the stored static key, accepted.
    Ik,
    /// An IK hello to a key this server does not hold, answered by XXfallback.
    XxFallback,
}

/// The server's long-lived identity and the certificate chain naming it.
pub(crate) struct NoiseServer {
    identity: KeyPair,
    cert_chain: Vec<u8>,
}

impl NoiseServer {
    /// A server with a fresh identity.
    pub(crate) fn new() -> NoiseServer {
        let identity = KeyPair::generate(&mut rand::rng());
        let cert_chain = cert_chain(&public(&identity));
        NoiseServer {
            identity,
            cert_chain,
        }
    }

    /// Its static public key: what a client stores as the chain's leaf.
    pub(crate) fn static_key(&self) -> [u8; 32] {
        public(&self.identity)
    }

    /// Answers one handshake on `session` and waits for the client's last
    /// message: which pattern the client spoke.
    pub(crate) fn respond(&self, session: &mut Session) -> Result<Pattern, String> {
        let first = receive(session)?;
        let body = first
            .strip_prefix(&WA_CONN_HEADER[..])
            .ok_or("the first message has no WA header")?;
        let hello = wa::HandshakeMessage::decode_from_slice(unframe(body)?)
            .map_err(|e| format!("ClientHello: {e}"))?
            .client_hello
            .into_option()
            .ok_or("no ClientHello")?;
        let ephemeral = key(hello.ephemeral.as_deref(), "the client's ephemeral key")?;
        let (pattern, reply) = match (hello.r#static, hello.payload) {
            (Some(encrypted_static), Some(payload)) => {
                match self.accept_ik(&ephemeral, &encrypted_static, &payload) {
                    Ok(reply) => (Pattern::Ik, reply),
                    Err(_) => (
                        Pattern::XxFallback,
                        self.full(NOISE_PATTERN_XXFALLBACK, &ephemeral)?,
                    ),
                }
            }
            _ => (Pattern::Xx, self.full(NOISE_PATTERN_XX, &ephemeral)?),
        };
        let framed = wacore::framing::encode_frame(&reply.encode_to_vec(), None)
            .map_err(|e| e.to_string())?;
        session.send(framed)?;
        if pattern != Pattern::Ik {
            // XX and XXfallback end with the client's finish message.
            receive(session)?;
        }
        Ok(pattern)
    }

    /// The ServerHello of XX or XXfallback: our ephemeral, our static and
    /// the certificate chain, encrypted.
    fn full(
        &self,
        pattern: &str,
        client_ephemeral: &[u8; 32],
    ) -> Result<wa::HandshakeMessage, String> {
        let mut noise = NoiseHandshake::new(pattern, &WA_CONN_HEADER).map_err(|e| e.to_string())?;
        noise.authenticate(client_ephemeral);
        let ephemeral = KeyPair::generate(&mut rand::rng());
        noise.authenticate(&public(&ephemeral));
        noise
            .mix_shared_secret(ephemeral.private_key.serialize(), client_ephemeral)
            .map_err(|e| e.to_string())?;
        let encrypted_static = noise
            .encrypt(&self.static_key())
            .map_err(|e| e.to_string())?;
        noise
            .mix_shared_secret(self.identity.private_key.serialize(), client_ephemeral)
            .map_err(|e| e.to_string())?;
        let payload = noise.encrypt(&self.cert_chain).map_err(|e| e.to_string())?;
        Ok(server_hello(&ephemeral, Some(encrypted_static), payload))
    }

    /// Accepts an IK hello if it was made for our static key.
    fn accept_ik(
        &self,
        client_ephemeral: &[u8; 32],
        encrypted_static: &[u8],
        payload: &[u8],
    ) -> Result<wa::HandshakeMessage, String> {
        let fail = |e: wacore::noise::HandshakeError| e.to_string();
        let mut noise = NoiseHandshake::new(NOISE_PATTERN_IK, &WA_CONN_HEADER).map_err(fail)?;
        noise.authenticate(&self.static_key());
        noise.authenticate(client_ephemeral);
        noise
            .mix_shared_secret(self.identity.private_key.serialize(), client_ephemeral)
            .map_err(fail)?;
        let client_static = noise.decrypt(encrypted_static).map_err(fail)?;
        let client_static = key(Some(client_static.as_slice()), "the client's static key")?;
        noise
            .mix_shared_secret(self.identity.private_key.serialize(), &client_static)
            .map_err(fail)?;
        noise.decrypt(payload).map_err(fail)?;
        let ephemeral = KeyPair::generate(&mut rand::rng());
        noise.authenticate(&public(&ephemeral));
        noise
            .mix_shared_secret(ephemeral.private_key.serialize(), client_ephemeral)
            .map_err(fail)?;
        noise
            .mix_shared_secret(ephemeral.private_key.serialize(), &client_static)
            .map_err(fail)?;
        let payload = noise.encrypt(&self.cert_chain).map_err(fail)?;
        Ok(server_hello(&ephemeral, None, payload))
    }
}

/// A certificate chain naming `leaf_key`, its signatures zeroed (no key of
/// WhatsApp's signs it: the client under test must be built with
/// whatsapp-rust's test-only `danger-skip-cert-chain-verify`). Validity:
/// 2023-11 to 2030-03, the window wacore-noise's own test fixture uses.
fn cert_chain(leaf_key: &[u8; 32]) -> Vec<u8> {
    use wa::cert_chain::{NoiseCertificate, noise_certificate::Details};
    let certificate = |serial, issuer_serial, key: &[u8], not_before| NoiseCertificate {
        details: Some(
            Details {
                serial: Some(serial),
                issuer_serial: Some(issuer_serial),
                key: Some(key.to_vec()),
                not_before: Some(not_before),
                not_after: Some(1_899_999_500),
            }
            .encode_to_vec(),
        ),
        signature: Some(vec![0; 64]),
    };
    wa::CertChain {
        leaf: buffa::MessageField::some(certificate(2, 1, leaf_key, 1_700_000_500)),
        intermediate: buffa::MessageField::some(certificate(1, 0, &[0xCC; 32], 1_700_000_000)),
    }
    .encode_to_vec()
}

fn server_hello(
    ephemeral: &KeyPair,
    encrypted_static: Option<Vec<u8>>,
    payload: Vec<u8>,
) -> wa::HandshakeMessage {
    wa::HandshakeMessage {
        server_hello: buffa::MessageField::some(wa::handshake_message::ServerHello {
            ephemeral: Some(public(ephemeral).to_vec()),
            r#static: encrypted_static,
            payload: Some(payload),
            ..Default::default()
        }),
        ..Default::default()
    }
}

fn public(pair: &KeyPair) -> [u8; 32] {
    pair.public_key
        .public_key_bytes()
        .try_into()
        .expect("an X25519 public key is 32 bytes")
}

fn key(bytes: Option<&[u8]>, what: &str) -> Result<[u8; 32], String> {
    bytes
        .and_then(|b| b.try_into().ok())
        .ok_or_else(|| format!("{what} is not 32 bytes"))
}

/// The payload of one length-prefixed frame (3-byte big-endian length).
fn unframe(buf: &[u8]) -> Result<&[u8], String> {
    let [a, b, c, rest @ ..] = buf else {
        return Err("a frame shorter than its length prefix".into());
    };
    let len = (usize::from(*a) << 16) | (usize::from(*b) << 8) | usize::from(*c);
    rest.get(..len)
        .ok_or_else(|| format!("a frame of {len} bytes cut at {}", rest.len()))
}

/// The next binary message.
fn receive(session: &mut Session) -> Result<Vec<u8>, String> {
    loop {
        match session.ws.read() {
            Ok(tungstenite::Message::Binary(data)) => return Ok(data.to_vec()),
            Ok(tungstenite::Message::Close(frame)) => {
                return Err(format!("the client closed: {frame:?}"));
            }
            Ok(_) => continue,
            Err(e) => return Err(format!("reading: {e}")),
        }
    }
}
