//! What the sweeper records of each run (issue 24): one [`Sample`] per open room, the room's
//! figures at that run, kept `SERIES_RETENTION_DAYS`; and one [`Stats`], the counts of the run
//! over every open room, overwritten by the next run. The operators' `roomSeries` and `stats`
//! read them back, so neither ever counts anything itself (no scan, no count query).
//!
//! A room's series is read newest-last in one bounded read: the newest [`SeriesWindow::limit`]
//! points at or after [`SeriesWindow::since`]. At one run a minute a 7-day series holds 10,080
//! points; one read returns at most [`MAX_SERIES_POINTS`] (a day at one a minute), which keeps
//! it in one DynamoDB `Query` page (1 MB) by a wide margin (a point is about 110 bytes there:
//! 1,440 of them about 160 KB).
//!
//! Never here: reading or writing them (the store), or deciding what a run counts (the
//! sweeper, `crate::reclaim`).

use chrono::{DateTime, SubsecRound, Utc};

use super::FieldError;

/// The most points one read of a room's series returns (a day at one run a minute).
pub const MAX_SERIES_POINTS: u32 = 1440;

/// A time as the series keep it: to the millisecond (a sample's key holds its time in
/// milliseconds, so what is written reads back exactly).
pub fn series_time(t: DateTime<Utc>) -> DateTime<Utc> {
    t.trunc_subsecs(3)
}

/// One room's figures at one sweeper run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sample {
    /// The run's time, to the millisecond ([`series_time`]).
    pub at: DateTime<Utc>,
    /// Members online (keepalive within `HEARTBEAT_TIMEOUT_SECONDS`).
    pub online_count: u64,
    pub like_count: u64,
    pub pv: u64,
    pub uv: u64,
}

/// One sweeper run over every open room: how many there were in each state, and everyone
/// online in them together.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Stats {
    /// Rooms in status 0 that were never started.
    pub rooms_prepared: u64,
    /// Rooms in status 1.
    pub rooms_live: u64,
    /// Rooms in status 0 that were started before (paused by their anchor or the sweeper).
    pub rooms_paused: u64,
    /// Members online in all of them together.
    pub online_total: u64,
    /// The run's time, to the millisecond ([`series_time`]).
    pub at: DateTime<Utc>,
}

/// Which points of a room's series one read returns: the newest `limit`
/// (1..=[`MAX_SERIES_POINTS`]) at or after `since` (if given), oldest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SeriesWindow {
    since: Option<DateTime<Utc>>,
    limit: u32,
}

impl Default for SeriesWindow {
    /// The newest [`MAX_SERIES_POINTS`].
    fn default() -> Self {
        Self {
            since: None,
            limit: MAX_SERIES_POINTS,
        }
    }
}

impl SeriesWindow {
    /// `limit` absent is [`MAX_SERIES_POINTS`]; otherwise it must be 1..=[`MAX_SERIES_POINTS`].
    pub fn parse(since: Option<DateTime<Utc>>, limit: Option<i64>) -> Result<Self, FieldError> {
        let limit = match limit {
            None => MAX_SERIES_POINTS,
            Some(n) => u32::try_from(n)
                .ok()
                .filter(|n| (1..=MAX_SERIES_POINTS).contains(n))
                .ok_or_else(|| {
                    FieldError::new("limit", format!("must be 1..{MAX_SERIES_POINTS}"))
                })?,
        };
        Ok(Self { since, limit })
    }

    pub fn since(&self) -> Option<DateTime<Utc>> {
        self.since
    }

    pub fn limit(&self) -> u32 {
        self.limit
    }
}
