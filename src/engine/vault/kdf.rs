//! Argon2id parameters, their calibration against a caller-supplied timer, and the passphrase → key derivation.

use crate::engine::vault::secrets::Passphrase;
use argon2::{Algorithm, Argon2, Params, Version};
use std::time::Duration;
use zeroize::Zeroizing;

/// Memory cost every production vault uses: 64 MiB (in KiB, as Argon2 counts it).
pub const PRODUCTION_M_COST_KIB: u32 = 64 * 1024;
/// Lowest pass count calibration picks (RFC 9106's choice for 64 MiB).
pub const MIN_T_COST: u32 = 3;
/// Highest pass count calibration picks, however fast the machine.
pub const MAX_CALIBRATED_T_COST: u32 = 64;
/// The window calibration aims at, and its centre.
pub const TARGET_LOW: Duration = Duration::from_millis(500);
pub const TARGET_HIGH: Duration = Duration::from_millis(1000);
pub const TARGET: Duration = Duration::from_millis(750);

/// Limits on parameters read back from storage, so a tampered header cannot make unlocking
/// allocate gigabytes or spin for minutes.
pub const MAX_STORED_M_COST_KIB: u32 = 1024 * 1024;
pub const MAX_STORED_T_COST: u32 = 256;
pub const MAX_STORED_P_COST: u32 = 8;

/// Argon2id cost parameters (version 0x13, 32-byte output). Production values come from
/// [`calibrate`] or [`KdfParams::production`]; both keep memory at 64 MiB and p = 1.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KdfParams {
    m_cost_kib: u32,
    t_cost: u32,
    p_cost: u32,
}

impl KdfParams {
    /// 64 MiB, `t_cost` passes (raised to [`MIN_T_COST`] if lower), one lane.
    pub fn production(t_cost: u32) -> Self {
        KdfParams { m_cost_kib: PRODUCTION_M_COST_KIB, t_cost: t_cost.max(MIN_T_COST), p_cost: 1 }
    }

    /// Cheap parameters for tests only (e.g. 8 MiB, one pass), so suites stay fast. A vault made
    /// with them is only as strong as they are: production code calls [`calibrate`].
    #[doc(hidden)]
    pub fn weak_for_tests(m_cost_kib: u32, t_cost: u32) -> Self {
        KdfParams { m_cost_kib: m_cost_kib.max(Params::MIN_M_COST), t_cost: t_cost.max(1), p_cost: 1 }
    }

    /// Parameters read back from storage, accepted when Argon2 takes them and they are within the
    /// stored limits.
    pub(crate) fn from_stored(m_cost_kib: u32, t_cost: u32, p_cost: u32) -> Option<Self> {
        let sane = (Params::MIN_M_COST..=MAX_STORED_M_COST_KIB).contains(&m_cost_kib)
            && (1..=MAX_STORED_T_COST).contains(&t_cost)
            && (1..=MAX_STORED_P_COST).contains(&p_cost)
            && m_cost_kib >= 8 * p_cost;
        sane.then_some(KdfParams { m_cost_kib, t_cost, p_cost })
    }

    pub fn m_cost_kib(&self) -> u32 {
        self.m_cost_kib
    }

    pub fn t_cost(&self) -> u32 {
        self.t_cost
    }

    pub fn p_cost(&self) -> u32 {
        self.p_cost
    }

    /// Whether these are at least the production floor (64 MiB, [`MIN_T_COST`] passes).
    pub fn is_production_strength(&self) -> bool {
        self.m_cost_kib >= PRODUCTION_M_COST_KIB && self.t_cost >= MIN_T_COST
    }

    fn argon2(&self) -> Argon2<'static> {
        let params =
            Params::new(self.m_cost_kib, self.t_cost, self.p_cost, Some(32)).expect("validated on construction");
        Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
    }
}

/// Argon2 could not run (in practice: the memory could not be allocated).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KdfFailed;

/// Derives 32 bytes from the passphrase and salt.
pub(crate) fn derive(
    passphrase: &Passphrase,
    salt: &[u8],
    params: &KdfParams,
) -> Result<Zeroizing<[u8; 32]>, KdfFailed> {
    let mut out = Zeroizing::new([0u8; 32]);
    params.argon2().hash_password_into(passphrase.expose().as_bytes(), salt, out.as_mut()).map_err(|_| KdfFailed)?;
    Ok(out)
}

/// Runs Argon2 once with `params` on a fixed dummy input, for the glue's timer in [`calibrate`].
pub fn bench_run(params: &KdfParams) {
    let mut out = [0u8; 32];
    let _ = params.argon2().hash_password_into(b"keywarden calibration", b"calibration salt", &mut out);
}

/// Picks production parameters for this machine: 64 MiB and one lane fixed, passes raised until
/// one derivation takes about [`TARGET`] (between [`TARGET_LOW`] and [`TARGET_HIGH`]).
///
/// `measure` runs one derivation with the given parameters and says how long it took; the glue
/// passes a closure around [`bench_run`] and `performance.now()`, tests pass a fake. It is
/// called at most three times. The result is stored with the vault, so a slower machine that
/// later unlocks it simply takes longer.
pub fn calibrate(mut measure: impl FnMut(&KdfParams) -> Duration) -> KdfParams {
    let clamp = |t: u64| (t.clamp(MIN_T_COST as u64, MAX_CALIBRATED_T_COST as u64)) as u32;
    let scaled = |t: u32, took: Duration| {
        let took = took.as_micros().max(1);
        ((t as u128 * TARGET.as_micros() + took / 2) / took) as u64
    };
    // Time one pass (most of a run is per-pass work), extrapolate, then check once and correct.
    let one = measure(&KdfParams { m_cost_kib: PRODUCTION_M_COST_KIB, t_cost: 1, p_cost: 1 });
    let mut t = clamp(scaled(1, one));
    for _ in 0..2 {
        let took = measure(&KdfParams::production(t));
        if (TARGET_LOW..=TARGET_HIGH).contains(&took) {
            break;
        }
        let next = clamp(scaled(t, took));
        if next == t {
            break;
        }
        t = next;
    }
    KdfParams::production(t)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A fake machine where a run costs `fixed + per_pass × t` milliseconds.
    fn machine(fixed: u64, per_pass: u64) -> impl FnMut(&KdfParams) -> Duration {
        move |p: &KdfParams| {
            assert_eq!(p.m_cost_kib(), PRODUCTION_M_COST_KIB);
            Duration::from_millis(fixed + per_pass * p.t_cost() as u64)
        }
    }

    fn cost(p: KdfParams, fixed: u64, per_pass: u64) -> u64 {
        fixed + per_pass * p.t_cost() as u64
    }

    #[test]
    fn calibration_lands_in_the_window_on_ordinary_machines() {
        for (fixed, per_pass) in [(0, 25), (10, 40), (30, 75), (5, 120), (40, 90), (0, 200)] {
            let p = calibrate(machine(fixed, per_pass));
            let took = cost(p, fixed, per_pass);
            assert!((500..=1000).contains(&took), "{fixed}+{per_pass}/pass gave t={} → {took} ms", p.t_cost());
            assert!(p.is_production_strength());
            assert_eq!(p.p_cost(), 1);
        }
    }

    #[test]
    fn calibration_keeps_the_floor_on_slow_machines_and_the_cap_on_fast_ones() {
        let slow = calibrate(machine(0, 900));
        assert_eq!(slow.t_cost(), MIN_T_COST);
        let fast = calibrate(machine(0, 1));
        assert_eq!(fast.t_cost(), MAX_CALIBRATED_T_COST);
        let instant = calibrate(|_| Duration::ZERO);
        assert_eq!(instant.t_cost(), MAX_CALIBRATED_T_COST);
    }

    #[test]
    fn calibration_measures_at_most_three_times() {
        let mut calls = 0;
        let _ = calibrate(|p| {
            calls += 1;
            Duration::from_millis(if calls % 2 == 0 { 5 } else { 3000 } * p.t_cost() as u64)
        });
        assert!(calls <= 3);
    }

    #[test]
    fn stored_parameters_are_bounded() {
        assert!(KdfParams::from_stored(65536, 3, 1).is_some());
        assert!(KdfParams::from_stored(8 * 1024, 1, 1).is_some());
        assert!(KdfParams::from_stored(4 * 1024 * 1024, 3, 1).is_none());
        assert!(KdfParams::from_stored(65536, 0, 1).is_none());
        assert!(KdfParams::from_stored(65536, 10_000, 1).is_none());
        assert!(KdfParams::from_stored(65536, 3, 0).is_none());
        assert!(KdfParams::from_stored(4, 3, 1).is_none());
    }

    #[test]
    fn production_never_goes_below_the_floor() {
        let p = KdfParams::production(1);
        assert_eq!((p.m_cost_kib(), p.t_cost(), p.p_cost()), (65536, MIN_T_COST, 1));
        assert!(!KdfParams::weak_for_tests(8192, 1).is_production_strength());
    }
}
