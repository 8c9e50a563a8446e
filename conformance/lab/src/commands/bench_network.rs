//! `bench-network`: our network stack beside whatsapp-rust's in one run.
//! Transports (ours on smol against `TokioWebSocketTransportFactory` on
//! tokio), over loopback TLS WebSocket to the kit's echo server: frames per
//! second echoed (1 KiB frames, sent while the echoes are read) and the
//! round-trip time of one 64-byte frame (median and p99). HTTP clients
//! (ours against `UreqHttpClient`), from the kit's HTTP server: a streamed
//! download's throughput and the peak memory it added (Linux `VmHWM`, reset
//! before each run through `/proc/self/clear_refs`).

use std::io::Read;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use futures::future::join;
use wacore::net::{HttpClient, HttpRequest, TransportEvent, TransportFactory};
use whatsapp_rust_conformance::Executor;
use whatsapp_rust_conformance::net::{EchoServer, HttpServer, TestPki};
use whatsapp_rust_conformance::{http, transport};
use whatsapp_rust_smol_runtime::SmolRuntime;

use whatsapp_rust_conformance_lab::network;

/// Arguments of `bench-network`.
#[derive(clap::Args)]
pub struct Args {
    /// Fewer frames and a smaller download (a smoke run).
    #[arg(long)]
    quick: bool,
}

/// Runs `bench-network`.
pub fn run(args: Args) -> ExitCode {
    if cfg!(debug_assertions) {
        eprintln!(
            "warning: a debug build; its figures say little. Use `cargo run --release -p whatsapp-rust-conformance-lab -- bench-network`."
        );
    }
    match measure(args.quick) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("bench-network failed: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// Builds a transport factory for a target.
type MakeTransport = dyn Fn(&transport::Target) -> anyhow::Result<Arc<dyn TransportFactory>>;

fn measure(quick: bool) -> anyhow::Result<()> {
    let (frames, pings, download) = if quick {
        (2_000, 200, 32u64 << 20)
    } else {
        (20_000, 2_000, 256u64 << 20)
    };
    let pki = TestPki::new("bench CA")?;
    let smol = Arc::new(SmolRuntime::with_workers(2));
    let transports: Vec<(&str, Executor, Box<MakeTransport>)> = vec![
        (
            "ws-transport (smol)",
            Executor::Smol,
            Box::new(move |t| network::ours(smol.clone(), t)),
        ),
        (
            "tokio-transport",
            Executor::TokioMultiThread,
            Box::new(network::tokio_reference),
        ),
        // Ours on tokio: tells the transport's cost from the runtime's.
        (
            "ws-transport (tokio)",
            Executor::TokioMultiThread,
            Box::new(|t| network::ours(Arc::new(whatsapp_rust::TokioRuntime), t)),
        ),
    ];
    println!(
        "transport over loopback TLS WebSocket ({frames} frames of 1 KiB; {pings} round trips of 64 B)"
    );
    println!(
        "{:<22} {:>14} {:>8} {:>12} {:>12}",
        "", "frames/s", "ratio", "RTT p50 µs", "RTT p99 µs"
    );
    let mut first = None;
    for (name, executor, make) in &transports {
        let server = EchoServer::start(&pki)?;
        let target = transport::Target::new(server.url(), pki.ca(), None);
        let factory = make(&target)?;
        let (rate, p50, p99) = executor.block_on(echo(&*factory, frames, pings))?;
        let ratio = rate / *first.get_or_insert(rate);
        println!("{name:<22} {rate:>14.0} {ratio:>7.2}x {p50:>12.0} {p99:>12.0}");
    }

    println!();
    println!(
        "HTTP streamed download of {} MiB from loopback",
        download >> 20
    );
    println!(
        "{:<22} {:>14} {:>8} {:>16}",
        "", "MiB/s", "ratio", "peak RSS added"
    );
    let server = HttpServer::start()?;
    let smol = Arc::new(SmolRuntime::with_workers(2));
    let clients: Vec<(&str, Arc<dyn HttpClient>)> = vec![
        (
            "http-client (smol)",
            network::our_client(smol, &http::Target::new(Duration::from_secs(30), None))?,
        ),
        (
            "ureq-client",
            network::ureq_reference(&http::Target::new(Duration::from_secs(30), None))?,
        ),
    ];
    let mut first = None;
    for (name, client) in clients {
        let (rate, peak) = stream(
            &*client,
            &format!("{}/bytes/{download}", server.base_url()),
            download,
        )?;
        let ratio = rate / *first.get_or_insert(rate);
        println!(
            "{name:<22} {rate:>14.0} {ratio:>7.2}x {:>13.1} MiB",
            peak as f64 / 1048576.0
        );
    }
    Ok(())
}

/// Frames per second echoed, and the median and p99 round trip in µs.
async fn echo(
    factory: &dyn TransportFactory,
    frames: usize,
    pings: usize,
) -> anyhow::Result<(f64, f64, f64)> {
    let (transport, events) = factory.create_transport().await?;
    anyhow::ensure!(
        matches!(events.recv().await?, TransportEvent::Connected),
        "no Connected"
    );
    let read = |bytes: usize| {
        let events = events.clone();
        async move {
            let mut got = 0;
            while got < bytes {
                match events.recv().await? {
                    TransportEvent::DataReceived(d) => got += d.len(),
                    other => anyhow::bail!("unexpected {other:?}"),
                }
            }
            Ok(())
        }
    };
    let frame = bytes::Bytes::from(vec![0x5Au8; 1024]);
    let start = Instant::now();
    let sending = async {
        for _ in 0..frames {
            transport.send(frame.clone()).await?;
        }
        anyhow::Ok(())
    };
    let (sent, echoed) = join(sending, read(frames * 1024)).await;
    sent?;
    echoed?;
    let rate = frames as f64 / start.elapsed().as_secs_f64();

    let ping = bytes::Bytes::from(vec![0x42u8; 64]);
    let mut rtts = Vec::with_capacity(pings);
    for _ in 0..pings {
        let start = Instant::now();
        transport.send(ping.clone()).await?;
        read(64).await?;
        rtts.push(start.elapsed().as_secs_f64() * 1e6);
    }
    rtts.sort_by(f64::total_cmp);
    transport.disconnect().await;
    let at = |q: f64| rtts[((rtts.len() - 1) as f64 * q) as usize];
    Ok((rate, at(0.5), at(0.99)))
}

/// Throughput in MiB/s of a streamed download of `bytes`, and the peak
/// resident memory it added.
fn stream(client: &dyn HttpClient, url: &str, bytes: u64) -> anyhow::Result<(f64, u64)> {
    std::fs::write("/proc/self/clear_refs", "5").context("resetting VmHWM (Linux only)")?;
    let before = status_kib("VmRSS")?;
    let start = Instant::now();
    let mut response = client.execute_streaming(HttpRequest::get(url))?;
    anyhow::ensure!(
        response.status_code == 200,
        "status {}",
        response.status_code
    );
    let mut buf = vec![0u8; 64 * 1024];
    let mut total = 0u64;
    loop {
        let n = response.body.read(&mut buf)?;
        if n == 0 {
            break;
        }
        total += n as u64;
    }
    anyhow::ensure!(total == bytes, "{total} of {bytes} bytes");
    let rate = bytes as f64 / 1048576.0 / start.elapsed().as_secs_f64();
    let peak = status_kib("VmHWM")?;
    Ok((rate, peak.saturating_sub(before) * 1024))
}

fn status_kib(field: &str) -> anyhow::Result<u64> {
    let status = std::fs::read_to_string("/proc/self/status")?;
    status
        .lines()
        .find_map(|l| {
            l.strip_prefix(field)?
                .trim_start_matches(':')
                .trim()
                .strip_suffix(" kB")?
                .parse()
                .ok()
        })
        .with_context(|| format!("no {field} in /proc/self/status"))
}
