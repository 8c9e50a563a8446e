//! Fault injection on the redb engine: an I/O error or a power cut at every
//! write, sync and resize of a workload that writes every table.
//! `CONFORMANCE_FAULT_STRIDE` thins the sweep (1 = every point, the default).

use whatsapp_rust_conformance_lab::fault_campaign::FaultCampaign;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_fault_point_recovers_with_no_acknowledged_write_lost() {
    let mut campaign = FaultCampaign::new();
    if let Some(stride) = std::env::var("CONFORMANCE_FAULT_STRIDE")
        .ok()
        .and_then(|s| s.parse().ok())
    {
        campaign.stride = stride;
    }
    let report = campaign
        .run(|scenario, done, total| eprintln!("{}: {done}/{total}", scenario.label()))
        .await
        .expect("the fault-free workload runs");
    eprint!("{}", report.table());
    eprintln!("in {:?}", report.elapsed);
    let failures = report.failures();
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures
            .iter()
            .take(20)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
    assert!(report.is_ok());
}
