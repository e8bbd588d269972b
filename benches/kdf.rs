//! Native Argon2id at the vault's parameters, the yardstick for unlocking in the browser: by itself it prints the production floor's time as an `@figure`; with `--serve M T P` it times one derivation per line read on stdin (for `tests/e2e/bench/kdf.bench.mjs`, which interleaves it with unlocks in Chromium).

use argon2::{Algorithm, Argon2, Params, Version};
use keywarden::engine::vault::kdf::{MIN_T_COST, PRODUCTION_M_COST_KIB};
use std::io::{BufRead, Write};
use std::time::Instant;

/// One Argon2id derivation (version 0x13, 32-byte output, as the vault derives its keys), in ms.
fn derive_ms(argon: &Argon2<'_>) -> f64 {
    let mut out = [0u8; 32];
    let start = Instant::now();
    argon
        .hash_password_into(b"correct horse battery staple", b"sixteen byte salt", &mut out)
        .expect("Argon2id runs at these parameters");
    std::hint::black_box(out);
    start.elapsed().as_secs_f64() * 1e3
}

fn argon(m_cost_kib: u32, t_cost: u32, p_cost: u32) -> Argon2<'static> {
    let params = Params::new(m_cost_kib, t_cost, p_cost, Some(32)).expect("valid Argon2 parameters");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// `--serve M T P`: prints `ready`, then for every line read one derivation's time in ms.
fn serve(args: &[String]) {
    let num = |i: usize| {
        args.get(i).and_then(|s| s.parse::<u32>().ok()).expect("usage: kdf --serve M_COST_KIB T_COST P_COST")
    };
    let argon = argon(num(0), num(1), num(2));
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    writeln!(out, "ready").and_then(|_| out.flush()).expect("stdout");
    for line in std::io::stdin().lock().lines() {
        if line.is_err() {
            break;
        }
        writeln!(out, "{:.3}", derive_ms(&argon)).and_then(|_| out.flush()).expect("stdout");
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).filter(|a| a != "--bench").collect();
    if args.first().map(String::as_str) == Some("--serve") {
        return serve(&args[1..]);
    }
    let runs = if std::env::var("KEYWARDEN_BENCH_QUICK").as_deref() == Ok("1") { 3 } else { 9 };
    let argon = argon(PRODUCTION_M_COST_KIB, MIN_T_COST, 1);
    derive_ms(&argon);
    let mut samples: Vec<f64> = (0..runs).map(|_| derive_ms(&argon)).collect();
    samples.sort_by(f64::total_cmp);
    let median = samples[runs / 2];
    let f = serde_json::json!({
        "id": "kdf.native.floor",
        "label": format!("native Argon2id at the production floor ({} MiB, t = {MIN_T_COST}, p = 1)", PRODUCTION_M_COST_KIB / 1024),
        "value": (median * 1000.0).round() / 1000.0,
        "unit": "ms",
        "goal": null,
        "min": samples[0],
        "max": samples[runs - 1],
        "runs": runs,
        "note": "argon2 and blake2 at opt-level 3 (profile native-bench)",
    });
    println!("@figure {f}");
}
