/**
 * The 0.975 quantile of Student's t distribution (two-sided 95 %), private to lib/measure.
 *
 * @module
 */

/** t(0.975, ν) for ν = 1 … 30, to 6 decimals (standard tables). */
const T975 = [
  12.706205,
  4.302653,
  3.182446,
  2.776445,
  2.570582,
  2.446912,
  2.364624,
  2.306004,
  2.262157,
  2.228139,
  2.200985,
  2.178813,
  2.160369,
  2.144787,
  2.131450,
  2.119905,
  2.109816,
  2.100922,
  2.093024,
  2.085963,
  2.079614,
  2.073873,
  2.068658,
  2.063899,
  2.059539,
  2.055529,
  2.051831,
  2.048407,
  2.045230,
  2.042272,
];

/** z(0.975) of the standard normal. */
const Z975 = 1.959963984540054;

/**
 * t(0.975, ν): a table up to 30 degrees of freedom, then the Cornish–Fisher expansion in 1/ν
 * (error below 1e-6 for ν > 30).
 *
 * @param df Degrees of freedom, a positive integer.
 * @returns The quantile.
 */
export function studentTQuantile975(df: number): number {
  if (!Number.isInteger(df) || df < 1) {
    throw new RangeError(`studentTQuantile975: 'df' must be a positive integer, got ${df}`);
  }
  if (df <= T975.length) return T975[df - 1]!;
  const z = Z975;
  const g1 = (z ** 3 + z) / 4;
  const g2 = (5 * z ** 5 + 16 * z ** 3 + 3 * z) / 96;
  const g3 = (3 * z ** 7 + 19 * z ** 5 + 17 * z ** 3 - 15 * z) / 384;
  const g4 = (79 * z ** 9 + 776 * z ** 7 + 1482 * z ** 5 - 1920 * z ** 3 - 945 * z) / 92160;
  return z + g1 / df + g2 / df ** 2 + g3 / df ** 3 + g4 / df ** 4;
}
