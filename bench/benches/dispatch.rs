//! Decode and dispatch, in process: a host request body in, the answer's bytes out, for each
//! sample event, with business logic that does nothing.
//!
//! ```sh
//! cargo bench -p bench --bench dispatch
//! ```
//!
//! Every iteration gets a fresh event id, so the duplicate check never short-cuts the work, and
//! the handler's logger is installed at its default level, so each invocation formats its summary
//! line into `Logs` as it does in production.

#![allow(clippy::expect_used, clippy::unwrap_used, missing_docs)]

use std::{path::Path, sync::atomic::AtomicU64, sync::atomic::Ordering};

use amh::{
    business_logic::{BusinessLogic, EventContext, LogicError},
    dispatch::{DispatchSettings, Dispatcher},
    events::{DeliveryStatusUpdated, MessageReceived},
    invocation,
    logging::HandlerLogger,
};
use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use serde_json::{Value, json};

/// Business logic that does nothing.
struct Nothing;

impl BusinessLogic for Nothing {
    async fn on_message_received(
        &self,
        _: &EventContext,
        _: MessageReceived,
    ) -> Result<(), LogicError> {
        Ok(())
    }

    async fn on_delivery_status_updated(
        &self,
        _: &EventContext,
        _: DeliveryStatusUpdated,
    ) -> Result<(), LogicError> {
        Ok(())
    }
}

/// The host's request body for `event`, as the host sends it.
fn host_body(event: &Value) -> Vec<u8> {
    let body = json!({
        "Data": {"eventGridEvent": event},
        "Metadata": {"data": event["data"], "sys": {
            "MethodName": "EventGridTrigger",
            "UtcNow": "2026-12-03T18:30:22.6043181Z",
            "RandGuid": "5b0f3a1e-9c8d-4f8e-a2a5-3c1d2e4f6a7b"}}
    });
    serde_json::to_vec(&body).unwrap()
}

/// The first event of a JSON file holding one event or an array of them.
fn first_event(path: &Path) -> Value {
    let value: Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
    match value {
        Value::Array(mut events) => events.remove(0),
        event => event,
    }
}

/// Benchmarks each sample, and the seed's text event on its own.
fn decode_and_dispatch(c: &mut Criterion) {
    let _ = HandlerLogger::from_env().install();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .unwrap();
    let dispatcher = Dispatcher::new(Nothing, DispatchSettings::default());
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");

    // The seed's text event first, then every Event Grid and CloudEvents sample.
    let mut cases = vec![(
        "seed-text".to_owned(),
        first_event(&root.join("tests/fixtures/received-seed-text.json")),
    )];
    for schema in ["eventgrid", "cloudevents"] {
        let mut paths: Vec<_> = std::fs::read_dir(root.join("samples").join(schema))
            .unwrap()
            .map(|entry| entry.unwrap().path())
            .collect();
        paths.sort();
        for path in paths {
            let name = path.file_stem().unwrap().to_string_lossy();
            cases.push((format!("{schema}/{name}"), first_event(&path)));
        }
    }

    // Each iteration: a fresh event id, then the whole invocation.
    let next = AtomicU64::new(0);
    let mut group = c.benchmark_group("decode_and_dispatch");
    for (name, event) in cases {
        group.bench_function(name, |b| {
            b.iter_batched(
                || {
                    let mut event = event.clone();
                    event["id"] = json!(format!("bench-{}", next.fetch_add(1, Ordering::Relaxed)));
                    host_body(&event)
                },
                |body| runtime.block_on(invocation::handle(&dispatcher, "bench-invocation", &body)),
                BatchSize::SmallInput,
            );
        });
    }
    group.finish();
}

criterion_group!(benches, decode_and_dispatch);
criterion_main!(benches);
