//! Wall-clock schedules of a run: swap rollovers and trading sessions in a time zone
//! (docs/engine/execution.md, "Swap" and "Sessions"), mirrored by `omega/engine/calendar.py`.
//! Both read the IANA rules (chrono-tz here, zoneinfo there), so daylight saving moves the
//! UTC instants the same way.

use crate::error::EngineError;
use crate::settings::{EngineSettings, SessionSettings, SwapSettings};
use chrono::{DateTime, Datelike, Duration, LocalResult, NaiveDate, TimeZone};
use chrono_tz::Tz;
use std::cell::RefCell;

const NANOS_PER_SECOND: i64 = 1_000_000_000;

/// The time zone named `name` (a `ConfigError` naming `key` otherwise).
pub fn zone(name: &str, key: &str) -> Result<Tz, EngineError> {
    name.parse::<Tz>()
        .map_err(|_| EngineError::Config(format!("{key}: unknown time zone {name:?}")))
}

fn utc(ns: i64) -> DateTime<chrono::Utc> {
    DateTime::from_timestamp(ns.div_euclid(NANOS_PER_SECOND), 0).unwrap_or_default()
}

/// The first rollover strictly after `after` (UTC ns): `(instant, nights)`, one per local
/// Monday to Friday at the rollover time, three nights on the triple weekday.
pub fn rollover_after(swap: &SwapSettings, tz: &Tz, after: i64) -> Option<(i64, u32)> {
    let (hour, minute) = (swap.rollover_minute / 60, swap.rollover_minute % 60);
    // From the local day before (a rollover late in the previous local day may still be
    // after `after` in UTC), at most ten days ahead.
    let mut date = utc(after).with_timezone(tz).date_naive() - Duration::days(1);
    for _ in 0..10 {
        let weekday = date.weekday().num_days_from_monday();
        if weekday < 5 {
            if let Some(instant) = local_instant(tz, date, hour, minute) {
                if instant > after {
                    let nights = if weekday == swap.triple_weekday { 3 } else { 1 };
                    return Some((instant, nights));
                }
            }
        }
        date += Duration::days(1);
    }
    None
}

/// `windows` sorted by start with overlapping or touching ones merged.
pub fn merged(windows: &[(i64, i64)]) -> Vec<(i64, i64)> {
    let mut sorted = windows.to_vec();
    sorted.sort_unstable();
    let mut out: Vec<(i64, i64)> = Vec::with_capacity(sorted.len());
    for (start, end) in sorted {
        match out.last_mut() {
            Some(last) if start <= last.1 => last.1 = last.1.max(end),
            _ => out.push((start, end)),
        }
    }
    out
}

/// Whether `t` lies in one of the `merged` windows `[start, end)`.
pub fn in_blackout(merged: &[(i64, i64)], t: i64) -> bool {
    let k = merged.partition_point(|&(start, _)| start <= t);
    k > 0 && t < merged[k - 1].1
}

/// The UTC ns of `hour:minute` local time on `date` in `tz`: the earlier of two in a
/// fall-back overlap, the first valid minute after a spring-forward gap.
fn local_instant(tz: &Tz, date: NaiveDate, hour: u32, minute: u32) -> Option<i64> {
    let naive = date.and_hms_opt(hour, minute, 0)?;
    let resolved = match tz.from_local_datetime(&naive) {
        LocalResult::Single(t) => t,
        LocalResult::Ambiguous(earlier, _) => earlier,
        LocalResult::None => {
            let mut later = naive;
            loop {
                later += Duration::minutes(1);
                if let LocalResult::Single(t) = tz.from_local_datetime(&later) {
                    break t;
                }
            }
        }
    };
    Some(resolved.timestamp() * NANOS_PER_SECOND)
}

/// Whether local `minute` of the day on `weekday` (0 = Monday) is in `session`: a trading
/// day and a time of day in `[start, end)`; a session with `end <= start` runs over midnight
/// and belongs to the weekday it starts on.
fn session_contains(session: &SessionSettings, minute: u32, weekday: usize) -> bool {
    let (start, end) = (session.start_minute, session.end_minute);
    if start < end {
        session.weekdays[weekday] && minute >= start && minute < end
    } else if minute >= start {
        session.weekdays[weekday]
    } else {
        minute < end && session.weekdays[(weekday + 6) % 7]
    }
}

/// Local time of a zone for increasing instants, fast: the zone's UTC offset is looked up
/// once per UTC hour and kept when it is the same at both ends of that hour (an offset
/// cannot change and change back within one hour), so a bar costs integer arithmetic.
#[derive(Debug)]
pub struct LocalClock {
    tz: Tz,
    /// The UTC hour (`t / 3600 s`) the offset was looked up for, and the offset in seconds
    /// (`None` in an hour with a transition: then every instant is looked up).
    hour: i64,
    offset: Option<i64>,
}

impl LocalClock {
    pub fn new(tz: Tz) -> Self {
        LocalClock {
            tz,
            hour: i64::MIN,
            offset: None,
        }
    }

    fn offset_at(&self, seconds: i64) -> i64 {
        use chrono::Offset;
        let at = DateTime::from_timestamp(seconds, 0).unwrap_or_default();
        i64::from(
            self.tz
                .offset_from_utc_datetime(&at.naive_utc())
                .fix()
                .local_minus_utc(),
        )
    }

    /// `(minute of the local day, local weekday 0 = Monday)` of `t` (UTC ns).
    pub fn local(&mut self, t: i64) -> (u32, usize) {
        let seconds = t.div_euclid(NANOS_PER_SECOND);
        let hour = seconds.div_euclid(3600);
        if hour != self.hour {
            self.hour = hour;
            let (first, last) = (
                self.offset_at(hour * 3600),
                self.offset_at(hour * 3600 + 3599),
            );
            self.offset = (first == last).then_some(first);
        }
        let offset = self.offset.unwrap_or_else(|| self.offset_at(seconds));
        let local = seconds + offset;
        let minute = local.rem_euclid(86_400) / 60;
        // 1970-01-01 was a Thursday (3 days after a Monday)
        let weekday = (local.div_euclid(86_400) + 3).rem_euclid(7);
        (minute as u32, weekday as usize)
    }

    /// Whether `t` (UTC ns) falls in `session` (see [`session_contains`]).
    pub fn in_session(&mut self, session: &SessionSettings, t: i64) -> bool {
        let (minute, weekday) = self.local(t);
        session_contains(session, minute, weekday)
    }
}

/// Trading hours and blackouts of a run: why an entry may not fill at a bar opening at `t`.
#[derive(Debug)]
pub struct Sessions {
    /// The session and a clock of its zone (cached offsets: `refusal` takes `&self`).
    session: Option<(SessionSettings, RefCell<LocalClock>)>,
    /// Blackouts sorted by start, overlapping ones merged.
    blackouts: Vec<(i64, i64)>,
}

impl Sessions {
    /// `None` when neither a session nor a blackout is configured.
    pub fn new(settings: &EngineSettings) -> Option<Self> {
        if settings.session.is_none() && settings.blackouts.is_empty() {
            return None;
        }
        let session = settings.session.clone().map(|s| {
            // validated before any run starts (EngineSettings::validate)
            let tz = zone(&s.timezone, "session.timezone").unwrap_or(chrono_tz::UTC);
            (s, RefCell::new(LocalClock::new(tz)))
        });
        Some(Sessions {
            session,
            blackouts: merged(&settings.blackouts),
        })
    }

    /// `outside_session` or `blackout` when an entry may not fill at a bar opening at `t`.
    pub fn refusal(&self, t: i64) -> Option<&'static str> {
        if let Some((session, clock)) = &self.session {
            if !clock.borrow_mut().in_session(session, t) {
                return Some("outside_session");
            }
        }
        in_blackout(&self.blackouts, t).then_some("blackout")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Timelike;

    fn ns(y: i32, m: u32, d: u32, h: u32, min: u32) -> i64 {
        chrono::Utc
            .with_ymd_and_hms(y, m, d, h, min, 0)
            .unwrap()
            .timestamp()
            * NANOS_PER_SECOND
    }

    fn swap() -> SwapSettings {
        SwapSettings {
            long: -1.0,
            short: 0.5,
            unit: crate::settings::SwapUnit::Points,
            rollover_minute: 17 * 60,
            timezone: "America/New_York".into(),
            triple_weekday: 2,
        }
    }

    #[test]
    fn rollovers_are_at_17_new_york_with_daylight_saving_and_a_triple_wednesday() {
        // 2024-03-04 (Mon) to 2024-03-15 (Fri): US daylight saving starts on Sunday 10 March,
        // so 17:00 New York is 22:00 UTC before and 21:00 UTC after.
        let tz = zone("America/New_York", "k").unwrap();
        let (mut at, last) = (ns(2024, 3, 4, 0, 0), ns(2024, 3, 15, 23, 59));
        let mut got = Vec::new();
        while let Some((instant, nights)) = rollover_after(&swap(), &tz, at) {
            if instant > last {
                break;
            }
            got.push((instant, nights));
            at = instant;
        }
        let expected = vec![
            (ns(2024, 3, 4, 22, 0), 1),
            (ns(2024, 3, 5, 22, 0), 1),
            (ns(2024, 3, 6, 22, 0), 3),
            (ns(2024, 3, 7, 22, 0), 1),
            (ns(2024, 3, 8, 22, 0), 1),
            (ns(2024, 3, 11, 21, 0), 1),
            (ns(2024, 3, 12, 21, 0), 1),
            (ns(2024, 3, 13, 21, 0), 3),
            (ns(2024, 3, 14, 21, 0), 1),
            (ns(2024, 3, 15, 21, 0), 1),
        ];
        assert_eq!(got, expected);
    }

    #[test]
    fn sessions_follow_local_time_and_blackouts_cut_them() {
        // London 08:00-17:00 on weekdays; 2024-07-01 is a Monday in BST (UTC+1).
        let london = SessionSettings {
            timezone: "Europe/London".into(),
            start_minute: 8 * 60,
            end_minute: 17 * 60,
            weekdays: [true, true, true, true, true, false, false],
        };
        let times = [
            ns(2024, 7, 1, 6, 59), // 07:59 local
            ns(2024, 7, 1, 7, 0),  // 08:00 local
            ns(2024, 7, 1, 15, 59),
            ns(2024, 7, 1, 16, 0), // 17:00 local: closed
            ns(2024, 7, 6, 10, 0), // Saturday
        ];
        let settings = EngineSettings {
            session: Some(london),
            blackouts: vec![(ns(2024, 7, 1, 15, 30), ns(2024, 7, 1, 16, 30))],
            ..EngineSettings::default()
        };
        let sessions = Sessions::new(&settings).unwrap();
        let got: Vec<Option<&str>> = times.iter().map(|&t| sessions.refusal(t)).collect();
        let outside = Some("outside_session");
        assert_eq!(got, vec![outside, None, Some("blackout"), outside, outside]);
        assert!(Sessions::new(&EngineSettings::default()).is_none());
        // overlapping windows merge; the end is exclusive
        let windows = merged(&[(10, 20), (15, 30), (40, 50)]);
        assert_eq!(windows, vec![(10, 30), (40, 50)]);
        let inside: Vec<bool> = [9, 10, 29, 30, 45, 50]
            .iter()
            .map(|&t| in_blackout(&windows, t))
            .collect();
        assert_eq!(inside, vec![false, true, true, false, true, false]);
    }

    #[test]
    fn the_cached_local_clock_agrees_with_chrono_across_daylight_saving() {
        // Every 7 minutes through 2024 in three zones (DST both ways, a half-hour zone).
        for name in ["Europe/London", "America/New_York", "Australia/Adelaide"] {
            let tz = zone(name, "k").unwrap();
            let mut clock = LocalClock::new(tz);
            let mut t = ns(2024, 1, 1, 0, 0);
            while t < ns(2025, 1, 1, 0, 0) {
                let local = utc(t).with_timezone(&tz);
                let expected = (
                    local.hour() * 60 + local.minute(),
                    local.weekday().num_days_from_monday() as usize,
                );
                assert_eq!(clock.local(t), expected, "{name} at {t}");
                t += 7 * 60 * NANOS_PER_SECOND;
            }
        }
    }

    #[test]
    fn an_overnight_session_belongs_to_the_day_it_starts() {
        let night = SessionSettings {
            timezone: "UTC".into(),
            start_minute: 22 * 60,
            end_minute: 6 * 60,
            weekdays: [true, false, false, false, false, false, false], // Monday night
        };
        let mut clock = LocalClock::new(zone("UTC", "k").unwrap());
        assert!(clock.in_session(&night, ns(2024, 7, 1, 23, 0))); // Monday 23:00
        assert!(clock.in_session(&night, ns(2024, 7, 2, 5, 0))); // Tuesday 05:00
        assert!(!clock.in_session(&night, ns(2024, 7, 2, 23, 0))); // Tuesday night
        assert!(zone("Mars/Olympus", "session.timezone").is_err());
    }
}
