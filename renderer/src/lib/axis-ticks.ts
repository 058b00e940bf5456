// Tick values and labels of a card's axes. On a linear axis each label carries the digits that
// tell it from its neighbours (0.0015, 0.0010, 0.0005, 0 rather than 0.001 three times); on a log
// axis ticks fall on 1-2-5 of each decade (or on whole decades when those are too many), not
// wherever the range happens to start.

/** Fewest decimals (0–12) that write every value exactly, to a millionth of the step between them. */
function decimalsFor(values: readonly number[], step: number): number {
  const tolerance = Math.abs(step) * 1e-6;
  for (let d = 0; d < 12; d += 1) {
    const scale = 10 ** d;
    if (values.every((v) => Math.abs(Math.round(v * scale) / scale - v) <= tolerance)) return d;
  }
  return 12;
}

/** The smallest positive gap between consecutive values. */
function smallestStep(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  let step = Infinity;
  for (let i = 1; i < sorted.length; i += 1) {
    const gap = (sorted[i] as number) - (sorted[i - 1] as number);
    if (gap > 0 && gap < step) step = gap;
  }
  return step;
}

/** Labels of a linear axis's ticks: as many digits as it takes to tell them apart, and no more. */
export function linearTickLabels(splits: readonly number[]): string[] {
  const finite = splits.filter((v) => Number.isFinite(v));
  if (finite.length === 0) return splits.map(() => '');
  const magnitude = Math.max(...finite.map(Math.abs));
  const step = Number.isFinite(smallestStep(finite)) ? smallestStep(finite) : magnitude || 1;
  if (magnitude >= 1e6 || (magnitude > 0 && magnitude < 1e-3)) {
    // Digits of the mantissa down to the step's magnitude.
    const digits = Math.min(12, Math.max(0, Math.floor(Math.log10(magnitude)) - Math.floor(Math.log10(step))));
    return splits.map((v) => (!Number.isFinite(v) ? '' : v === 0 ? '0' : trimExponent(v.toExponential(digits))));
  }
  const decimals = decimalsFor(finite, step);
  return splits.map((v) =>
    !Number.isFinite(v)
      ? ''
      : Math.abs(v) < step * 1e-9
        ? '0'
        : v.toLocaleString('en-US', { minimumFractionDigits: decimals, maximumFractionDigits: decimals }),
  );
}

/** 1.50e-4 stays; 1.0e+7 reads 1.0e7. */
function trimExponent(text: string): string {
  return text.replace('e+', 'e');
}

const MULTIPLES = [1, 2, 5] as const;

/**
 * Ticks of a log axis from min to max (both > 0): 1, 2 and 5 of each decade, or only the decades
 * when that makes more than `most`, or every second, third… decade when even those are too many;
 * 1 to 9 of each decade when 1-2-5 leave fewer than two ticks in view.
 */
export function logTicks(min: number, max: number, most = 8): number[] {
  if (!(min > 0) || !(max > min)) return min > 0 ? [min] : [];
  const first = Math.floor(Math.log10(min));
  const last = Math.ceil(Math.log10(max));
  const within = (multiples: readonly number[], every = 1): number[] => {
    const out: number[] = [];
    for (let k = first; k <= last; k += 1) {
      if ((k - first) % every !== 0 && multiples.length === 1) continue;
      for (const m of multiples) {
        // Rounded through a string so 3 × 0.1 is 0.3, not 0.30000000000000004.
        const v = Number(`${m}e${k}`);
        if (v >= min * (1 - 1e-9) && v <= max * (1 + 1e-9)) out.push(v);
      }
    }
    return out;
  };
  const fine = within(MULTIPLES);
  if (fine.length < 2) return within([1, 2, 3, 4, 5, 6, 7, 8, 9]);
  if (fine.length <= most) return fine;
  for (let every = 1; ; every += 1) {
    const decades = within([1], every);
    if (decades.length <= most || every > 400) return decades;
  }
}

/** A log tick's label: the value plainly between 0.001 and a million, else as 2e-5. */
export function logTickLabel(v: number): string {
  if (!Number.isFinite(v) || v <= 0) return '';
  if (v >= 1e-3 && v < 1e6) return v.toLocaleString('en-US', { maximumFractionDigits: Math.max(0, -Math.floor(Math.log10(v))) });
  return trimExponent(v.toExponential(0));
}
