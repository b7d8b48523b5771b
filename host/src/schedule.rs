//! The template's schedules delivered as EventBridge delivers them: each `ScheduleV2`
//! (EventBridge Scheduler) or `Schedule` (an EventBridge rule) event of a function invokes it at
//! the schedule's rate (or every `Settings::schedule_every`, to speed a test up), asynchronously
//! as EventBridge does — a new invocation does not wait for the last one, which takes another
//! instance if it still runs — with the default notification as the event when the template
//! gives no `Input`. A failed invocation is retried twice, as Lambda retries an asynchronous
//! one (after one, then two, periods, at most one and two minutes).
//!
//! Never here: invoking (`crate::gateway`), the template (`crate::template`).

use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};

use crate::gateway::Host;
use crate::template::Schedule;

/// Invokes every scheduled function of the template at its rate (or `every`), until the process
/// ends.
pub async fn run(host: Arc<Host>, every: Option<Duration>) {
    let schedules: Vec<(String, Schedule)> = host
        .template()
        .functions
        .iter()
        .flat_map(|f| {
            f.schedules
                .iter()
                .map(|s| (f.logical_id.clone(), s.clone()))
        })
        .collect();
    for (function, schedule) in schedules {
        let host = Arc::clone(&host);
        let period = every.unwrap_or(schedule.every);
        tokio::spawn(async move {
            let mut ticks = tokio::time::interval_at(tokio::time::Instant::now() + period, period);
            ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tokio::select! {
                    _ = ticks.tick() => {}
                    () = host.stopped() => return,
                }
                let event = event(&function, &schedule);
                let host = Arc::clone(&host);
                let function = function.clone();
                tokio::spawn(async move { invoke_async(&host, &function, &event, period).await });
            }
        });
    }
}

/// Lambda's asynchronous invocation: two retries on failure.
async fn invoke_async(host: &Host, function: &str, event: &Value, period: Duration) {
    for attempt in 0..3u32 {
        match host.invoke(function, event).await {
            Ok(_) => return,
            Err(f) => {
                if host.logs() {
                    eprintln!(
                        "schedule → {function}: attempt {} failed: {}",
                        attempt + 1,
                        f.why
                    );
                }
                let wait =
                    (period * (attempt + 1)).min(Duration::from_secs(60 * u64::from(attempt + 1)));
                tokio::time::sleep(wait).await;
            }
        }
    }
}

/// The event of one scheduled invocation: the template's `Input`, or the default notification
/// (`aws.scheduler` for a `ScheduleV2`, `aws.events` for a rule).
pub fn event(function: &str, schedule: &Schedule) -> Value {
    if let Some(input) = &schedule.input {
        return input.clone();
    }
    let (source, resource) = if schedule.scheduler {
        (
            "aws.scheduler",
            format!(
                "arn:aws:scheduler:us-east-1:123456789012:schedule/default/{function}{}",
                schedule.name
            ),
        )
    } else {
        (
            "aws.events",
            format!(
                "arn:aws:events:us-east-1:123456789012:rule/{function}{}",
                schedule.name
            ),
        )
    };
    json!({
        "version": "0",
        "id": uuid::Uuid::new_v4().to_string(),
        "detail-type": "Scheduled Event",
        "source": source,
        "account": "123456789012",
        "time": chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string(),
        "region": "us-east-1",
        "resources": [resource],
        "detail": {},
    })
}
