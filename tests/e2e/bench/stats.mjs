// What the bench sources share: printing a figure in the `@figure` format the collector reads, and medians with their spread.

/** Prints one figure: `@figure {json}` on a line of its own (see collect.mjs for the fields). */
export function figure({ id, label, value, unit, goal = null, min, max, runs, better, note }) {
  const f = { id, label, value: value === null || value === undefined ? null : round(value), unit, goal };
  if (min !== undefined) f.min = round(min);
  if (max !== undefined) f.max = round(max);
  if (runs !== undefined) f.runs = runs;
  if (better) f.better = better;
  if (note) f.note = note;
  console.log(`@figure ${JSON.stringify(f)}`);
}

/** A figure the source could not measure: shown as failed, with why. */
export function unmeasured({ id, label, unit, goal = null }, why) {
  figure({ id, label, value: null, unit, goal, note: why });
}

const round = (x) => Math.round(x * 1000) / 1000;

export function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const n = s.length;
  return n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

/** { value: median, min, max, runs } of samples. */
export function spread(xs) {
  return { value: median(xs), min: Math.min(...xs), max: Math.max(...xs), runs: xs.length };
}

/**
 * Two interleaved series measured pairwise: the ratio of their medians, with the range of the
 * pairwise ratios.
 */
export function ratio(a, b) {
  const pairs = a.map((x, i) => x / b[i]);
  return { value: median(a) / median(b), min: Math.min(...pairs), max: Math.max(...pairs), runs: pairs.length };
}

/** The same for a difference a − b: difference of medians, range of pairwise differences. */
export function difference(a, b) {
  const pairs = a.map((x, i) => x - b[i]);
  return { value: median(a) - median(b), min: Math.min(...pairs), max: Math.max(...pairs), runs: pairs.length };
}
