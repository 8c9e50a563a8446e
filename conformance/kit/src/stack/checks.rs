//! The stack checks: a cold start stores the server's certificate chain, a
//! reopened store resumes with IK, a stale stored key falls back to XX.

use std::sync::Arc;
use std::sync::atomic::AtomicU32;
use std::time::Duration;

use whatsapp_rust::store::persistence_manager::PersistenceManager;

use super::responder::{NoiseServer, Pattern};
use super::{Check, StackUnderTest};
use crate::net::{WsServer, net_check, net_register};
use crate::storage::Instance;
use crate::transport::Target;
use crate::{CheckResult, Failure, ensure_eq};

net_register!("stack", StackUnderTest; cold_start_stores_the_cert_chain, reopened_store_resumes_with_ik, stale_stored_key_falls_back_to_xx);

/// Every stack check, in report order.
pub fn all_checks() -> Vec<Check> {
    checks()
}

/// How long a connect or a handshake on loopback may take.
const BOUND: Duration = Duration::from_secs(20);

/// The phone number a paired device has: only a paired device resumes with
/// IK and keeps the chain (whatsapp-rust `should_persist_cert_chain`).
const PAIRED_AS: &str = "15550001111@s.whatsapp.net";

/// A store from the subject's factory, and the client's persistence over it.
struct Client {
    instance: Box<dyn Instance>,
    // `None` only while the store is being reopened: the manager holds the
    // store, and a store that allows one handle per file must be let go first.
    manager: Option<PersistenceManager>,
}

impl Client {
    /// A fresh store holding a paired device.
    async fn paired(subject: &StackUnderTest) -> Result<Client, Failure> {
        let instance = subject
            .store
            .open()
            .await
            .map_err(|e| Failure(format!("the store factory failed: {e}")))?;
        let manager = manager(&*instance).await?;
        let pn = PAIRED_AS.parse().map_err(|e| Failure(format!("{e:?}")))?;
        manager
            .process_command(wacore::store::DeviceCommand::SetId(Some(pn)))
            .await;
        Ok(Client {
            instance,
            manager: Some(manager),
        })
    }

    /// Connects through the subject's transport to a server answering as
    /// `server`, runs the client's handshake, and returns what the server saw.
    async fn handshake(
        &self,
        subject: &StackUnderTest,
        server: &Arc<NoiseServer>,
    ) -> Result<Pattern, Failure> {
        let tls = crate::transport::checks::trusted()?;
        let responder = server.clone();
        let ws = WsServer::start(tls.server_config(), move |s| {
            responder.respond(s).map(|p| format!("{p:?}"))
        })
        .map_err(|e| Failure(format!("the kit could not listen: {e}")))?;
        let target = Target {
            url: ws.url.clone(),
            ca: tls.ca(),
            proxy: None,
        };
        let factory = (subject.transport)(&target).map_err(|e| {
            Failure(format!(
                "the subject could not build a transport factory: {e:#}"
            ))
        })?;
        let (transport, mut events) = crate::limit::within(BOUND, factory.create_transport())
            .await
            .ok_or_else(|| Failure(format!("create_transport did not return within {BOUND:?}")))?
            .map_err(|e| Failure(format!("create_transport failed: {e:#}")))?;
        let failures = AtomicU32::new(0);
        let handshake = whatsapp_rust::handshake::do_handshake(
            subject.runtime.clone(),
            self.manager()?,
            &failures,
            transport.clone(),
            &mut events,
            None,
        );
        let result = crate::limit::within(BOUND, handshake).await;
        transport.disconnect().await;
        match result {
            None => {
                return Err(Failure(format!(
                    "the handshake did not finish within {BOUND:?}"
                )));
            }
            Some(Err(e)) => return Err(Failure(format!("the handshake failed: {e:?}"))),
            Some(Ok(_socket)) => {}
        }
        match ws.outcome(BOUND).await?.as_str() {
            "Xx" => Ok(Pattern::Xx),
            "Ik" => Ok(Pattern::Ik),
            "XxFallback" => Ok(Pattern::XxFallback),
            other => Err(Failure(format!("the responder reported {other:?}"))),
        }
    }

    fn manager(&self) -> Result<&PersistenceManager, Failure> {
        self.manager
            .as_ref()
            .ok_or_else(|| Failure("the store was not reopened".into()))
    }

    /// The leaf key of the chain the client holds now.
    fn stored_leaf(&self) -> Option<[u8; 32]> {
        self.manager
            .as_ref()?
            .get_device_snapshot()
            .server_cert_chain
            .as_ref()
            .map(|chain| chain.leaf.key)
    }

    /// Saves the device, closes and reopens the store, and loads it again
    /// as the client does at start-up.
    async fn restart(&mut self) -> Result<(), Failure> {
        self.manager()?
            .flush()
            .await
            .map_err(|e| Failure(format!("saving the device failed: {e}")))?;
        self.manager = None;
        self.instance
            .reopen()
            .await
            .map_err(|e| Failure(format!("reopening the store failed: {e}")))?;
        self.manager = Some(manager(&*self.instance).await?);
        Ok(())
    }

    async fn teardown(self) -> Result<(), Failure> {
        drop(self.manager);
        self.instance
            .teardown()
            .await
            .map_err(|e| Failure(format!("tearing the store down failed: {e}")))
    }
}

async fn manager(instance: &dyn Instance) -> Result<PersistenceManager, Failure> {
    PersistenceManager::new(instance.store())
        .await
        .map_err(|e| Failure(format!("PersistenceManager::new failed: {e}")))
}

/// A cold start against `server`: XX, the chain held, saved, and still
/// there after the store is reopened.
async fn cold_start(
    subject: &StackUnderTest,
    server: &Arc<NoiseServer>,
) -> Result<Client, Failure> {
    let mut client = Client::paired(subject).await?;
    let pattern = client.handshake(subject, server).await?;
    ensure_eq!(
        pattern,
        Pattern::Xx,
        "the pattern a client with no stored chain spoke"
    );
    ensure_eq!(
        client.stored_leaf(),
        Some(server.static_key()),
        "the chain's leaf key after XX"
    );
    client.restart().await?;
    if client.stored_leaf() != Some(server.static_key()) {
        return Err(Failure(
            "the store lost the device's server certificate chain across the reopen (the next connect \
             would need a full XX handshake)"
                .into(),
        ));
    }
    Ok(client)
}

net_check!(
    StackUnderTest,
    cold_start_stores_the_cert_chain,
    Contract,
    "a paired device with no stored chain connects with XX through the transport and runtime under \
     test, and the server's certificate chain it learns is saved in the store and still there after \
     the store is closed and reopened (whatsapp-rust handshake.rs, DeviceCommand::SetServerCertChain)",
    |subject| {
        let server = Arc::new(NoiseServer::new());
        let client = cold_start(&subject, &server).await?;
        client.teardown().await?;
        Ok(None)
    }
);

net_check!(
    StackUnderTest,
    reopened_store_resumes_with_ik,
    Contract,
    "after the reopen, the next connect resumes with IK from the stored chain (one round trip \
     fewer, and how a reconnecting bot is recognised)",
    |subject| { resumes(&subject).await }
);

async fn resumes(subject: &StackUnderTest) -> CheckResult {
    let server = Arc::new(NoiseServer::new());
    let client = cold_start(subject, &server).await?;
    let pattern = client.handshake(subject, &server).await?;
    ensure_eq!(pattern, Pattern::Ik, "the pattern after the reopen");
    client.teardown().await?;
    Ok(None)
}

net_check!(
    StackUnderTest,
    stale_stored_key_falls_back_to_xx,
    Contract,
    "when the server's key has changed since the chain was stored, the IK hello is answered with \
     XXfallback, the handshake completes, and the new chain replaces the stale one in the store",
    |subject| {
        let old = Arc::new(NoiseServer::new());
        let mut client = cold_start(&subject, &old).await?;
        let rotated = Arc::new(NoiseServer::new());
        let pattern = client.handshake(&subject, &rotated).await?;
        ensure_eq!(
            pattern,
            Pattern::XxFallback,
            "the pattern with a stale stored key"
        );
        client.restart().await?;
        ensure_eq!(
            client.stored_leaf(),
            Some(rotated.static_key()),
            "the stored leaf key after the fallback"
        );
        client.teardown().await?;
        Ok(None)
    }
);
