//! A WhatsApp bot whose whole session lives in one redb file.
//!
//! ```text
//! cargo run -p whatsapp-rust-storage-examples --bin bot -- [path/to/session.redb]
//! ```
//! Scan the QR code it prints with WhatsApp (Linked devices). Restart it and
//! it reconnects from the stored session without a new QR code. It needs the
//! network; CI only builds it.

use std::sync::Arc;

use whatsapp_rust::prelude::*;
use whatsapp_rust_redb_storage::{RedbStore, StoreConfig};

fn main() {
    let path = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "whatsapp.redb".to_owned());
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    rt.block_on(async move {
        // Durable by default: every write is fsynced before the client continues.
        let store = match RedbStore::open_with(&path, StoreConfig::default()) {
            Ok(store) => store,
            Err(e) => {
                eprintln!(
                    "cannot open {path}: {e} ({:?})",
                    std::error::Error::source(&e)
                );
                std::process::exit(1);
            }
        };
        eprintln!(
            "session file: {}",
            store
                .path()
                .map_or("<none>".into(), |p| p.display().to_string())
        );

        let bot = Bot::builder()
            .with_backend(store)
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
            .await;
        match bot {
            Ok(bot) => bot.run().await,
            Err(e) => eprintln!("cannot start the bot: {e}"),
        }
    });
}
