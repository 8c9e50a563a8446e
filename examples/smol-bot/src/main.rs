//! A WhatsApp bot with no tokio anywhere: the smol runtime, our
//! async-tungstenite transport, our HTTP client on that runtime, and the
//! redb store, optionally through a proxy.
//!
//! ```text
//! cargo run -p whatsapp-rust-smol-bot -- [--session FILE] [--proxy socks5://user:pass@host:port|http://host:port]
//! ```
//! Scan the QR code it prints with WhatsApp (Linked devices). Restart it and
//! it reconnects from the stored session. It needs the network; CI builds
//! it, checks its dependency tree holds no tokio, and runs `--dry-run`.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use clap::Parser;
use whatsapp_rust::prelude::*;
use whatsapp_rust_http_client::RuntimeHttpClient;
use whatsapp_rust_redb_storage::{RedbStore, StoreConfig};
use whatsapp_rust_smol_runtime::SmolRuntime;
use whatsapp_rust_ws_transport::{Proxy, WsTransportFactory};

/// A whatsapp-rust bot on smol, with a redb session file.
#[derive(Parser)]
#[command(version)]
struct Args {
    /// The session file (created if missing).
    #[arg(long, default_value = "whatsapp.redb")]
    session: PathBuf,
    /// Reach WhatsApp through this proxy: socks5://[user:pass@]host:port or
    /// http://[user:pass@]host:port (used by the WebSocket and by media HTTP).
    #[arg(long)]
    proxy: Option<String>,
    /// Build everything (store, runtime, transport, HTTP client, the client
    /// itself) and exit without connecting.
    #[arg(long)]
    dry_run: bool,
}

fn main() -> ExitCode {
    let args = Args::parse();
    if !certificates_are_verified() {
        eprintln!(
            "error: this build skips WhatsApp's certificate-chain checks (whatsapp-rust's \
             test-only danger-skip-cert-chain-verify, which `cargo test --workspace` turns on \
             for the kit's handshake tests); build the bot on its own: cargo build -p whatsapp-rust-smol-bot"
        );
        return ExitCode::FAILURE;
    }
    let runtime = SmolRuntime::new();
    match runtime.clone().block_on(run(args, runtime)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(args: Args, runtime: SmolRuntime) -> anyhow::Result<()> {
    let store = RedbStore::open_with(&args.session, StoreConfig::default())
        .with_context(|| format!("opening {}", args.session.display()))?;
    let shared: Arc<dyn whatsapp_rust::wacore::runtime::Runtime> = Arc::new(runtime.clone());

    let mut transport = WsTransportFactory::new(shared.clone());
    let mut http = RuntimeHttpClient::builder(shared);
    if let Some(proxy) = &args.proxy {
        transport = transport.with_proxy(Proxy::parse(proxy)?);
        http = http.proxy(proxy)?;
    }

    let bot = Bot::builder()
        .with_backend(store)
        .with_runtime(runtime)
        .with_transport_factory(transport)
        .with_http_client(http.build()?)
        .on_qr_code(|code, timeout| async move {
            eprintln!("scan this QR code within {} s:\n{code}", timeout.as_secs());
        })
        .on_event(|event: Arc<Event>, _client| async move {
            let received = event.messages().count();
            if received > 0 {
                eprintln!("{received} message(s) received");
            }
        })
        .build()
        .await
        .context("building the bot")?;
    if args.dry_run {
        eprintln!(
            "built: session {}, proxy {}",
            args.session.display(),
            args.proxy
                .as_deref()
                .map_or("none".into(), |p| Proxy::parse(p)
                    .map_or(p.to_owned(), |p| p.to_string()))
        );
        return Ok(());
    }
    bot.run().await;
    Ok(())
}

/// Whether the Noise layer this binary was built with checks the server's
/// certificate chain: a chain with zeroed signatures must be refused.
fn certificates_are_verified() -> bool {
    use whatsapp_rust::waproto::buffa::{self, Message};
    use whatsapp_rust::waproto::whatsapp::{
        CertChain, cert_chain::NoiseCertificate, cert_chain::noise_certificate::Details,
    };

    let certificate = |serial, issuer_serial, key: [u8; 32]| NoiseCertificate {
        details: Some(
            Details {
                serial: Some(serial),
                issuer_serial: Some(issuer_serial),
                key: Some(key.to_vec()),
                not_before: Some(0),
                not_after: Some(4_000_000_000),
            }
            .encode_to_vec(),
        ),
        signature: Some(vec![0; 64]),
    };
    let chain = CertChain {
        leaf: buffa::MessageField::some(certificate(2, 1, [7; 32])),
        intermediate: buffa::MessageField::some(certificate(1, 0, [9; 32])),
    };
    whatsapp_rust::wacore::noise::HandshakeUtils::verify_server_cert(
        &chain.encode_to_vec(),
        &[7; 32],
    )
    .is_err()
}
