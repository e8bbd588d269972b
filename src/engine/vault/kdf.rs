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

/// Trials of each length [`calibrate`] runs: the fastest of them is the figure it keeps.
pub const CALIBRATION_TRIALS: usize = 3;

/// Picks production parameters for this machine: 64 MiB and one lane fixed, passes chosen so
/// that one derivation takes about [`TARGET`], never fewer than [`MIN_T_COST`] nor more than
/// [`MAX_CALIBRATED_T_COST`].
///
/// `measure` runs one derivation with the given parameters and says how long it took; the glue
/// passes a closure around [`bench_run`] and its clock, tests pass a fake. Calibration runs
/// [`CALIBRATION_TRIALS`] short trials of one pass and as many of two passes, and keeps the
/// fastest of each: load on a busy machine (other tabs, a build, a collector pause) only ever
/// makes a run slower, never faster, so the fastest run is the figure closest to what the machine
/// can do, and a vault set up under load is not given fewer passes. The two lengths give the
/// cost of one pass apart from the fixed cost of a run (filling 64 MiB), so the extrapolation
/// does not count that fixed cost once per pass. The result is stored with the vault, so a
/// slower machine that later unlocks it simply takes longer.
pub fn calibrate(mut measure: impl FnMut(&KdfParams) -> Duration) -> KdfParams {
    let mut fastest = |t_cost: u32| {
        let params = KdfParams { m_cost_kib: PRODUCTION_M_COST_KIB, t_cost, p_cost: 1 };
        (0..CALIBRATION_TRIALS).map(|_| measure(&params)).min().unwrap_or(Duration::ZERO).as_micros()
    };
    let one = fastest(1);
    let two = fastest(2);
    // A second pass that looks free (clock resolution, noise) counts as a tenth of a run.
    let per_pass = two.saturating_sub(one).max(one / 10).max(1);
    let fixed = one.saturating_sub(per_pass);
    let budget = TARGET.as_micros().saturating_sub(fixed);
    let t = (budget + per_pass / 2) / per_pass;
    KdfParams::production(t.clamp(MIN_T_COST as u128, MAX_CALIBRATED_T_COST as u128) as u32)
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
        for (fixed, per_pass) in [(0, 25), (10, 40), (30, 75), (5, 120), (40, 90), (0, 200), (60, 30)] {
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

    /// A machine costing 10 ms + 75 ms a pass, where the `n`th run (from 0) is slowed by
    /// `load(n)` percent: what other work on a busy machine does to a trial.
    fn loaded(load: impl Fn(usize) -> u64) -> impl FnMut(&KdfParams) -> Duration {
        let mut n = 0;
        move |p: &KdfParams| {
            let quiet = 10_000 + 75_000 * p.t_cost() as u64;
            let took = quiet * (100 + load(n)) / 100;
            n += 1;
            Duration::from_micros(took)
        }
    }

    #[test]
    fn calibration_under_load_gives_the_passes_of_a_quiet_machine() {
        let quiet = calibrate(loaded(|_| 0));
        // One run in each trial group undisturbed, the others slowed by up to 2.5×, in every order.
        let patterns: [&dyn Fn(usize) -> u64; 5] = [
            &|n| if n % 3 == 0 { 0 } else { 150 },
            &|n| if n % 3 == 2 { 0 } else { 80 },
            &|n| [0, 40, 150, 90, 0, 30][n % 6],
            &|n| if n % 3 == 1 { 0 } else { 60 + 20 * n as u64 },
            &|n| [150, 150, 0, 0, 150, 150][n % 6],
        ];
        for (i, load) in patterns.iter().enumerate() {
            let p = calibrate(loaded(load));
            assert_eq!(p.t_cost(), quiet.t_cost(), "load pattern {i}");
        }
    }

    #[test]
    fn calibration_under_load_never_weakens_below_the_quiet_choice_minus_one() {
        // Every trial slowed, by a steady 10 %: the fastest is still only 10 % off.
        let quiet = calibrate(loaded(|_| 0)).t_cost();
        let busy = calibrate(loaded(|_| 10)).t_cost();
        assert!(busy + 1 >= quiet && busy <= quiet, "quiet {quiet}, busy {busy}");
        // Even a machine slowed 5× through every trial keeps the floor.
        assert!(calibrate(loaded(|_| 400)).t_cost() >= MIN_T_COST);
    }

    #[test]
    fn calibration_runs_a_fixed_number_of_short_trials() {
        let mut runs = Vec::new();
        let _ = calibrate(|p| {
            runs.push(p.t_cost());
            Duration::from_millis(70 * p.t_cost() as u64)
        });
        let mut expected = vec![1; CALIBRATION_TRIALS];
        expected.extend(vec![2; CALIBRATION_TRIALS]);
        assert_eq!(runs, expected);
    }

    #[test]
    fn calibration_does_not_count_the_fixed_cost_once_a_pass() {
        // 300 ms to fill the memory, then 50 ms a pass: 9 passes land on 750 ms, where a
        // one-pass extrapolation (350 ms a pass) would have said 2, i.e. the floor.
        let p = calibrate(machine(300, 50));
        assert_eq!(p.t_cost(), 9);
    }

    #[test]
    fn calibration_copes_with_a_coarse_clock() {
        // A clock with 16 ms steps: two passes can read the same as one.
        let coarse = |p: &KdfParams| Duration::from_millis((5 + 9 * p.t_cost() as u64) / 16 * 16);
        let t = calibrate(coarse).t_cost();
        assert!((MIN_T_COST..=MAX_CALIBRATED_T_COST).contains(&t));
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
