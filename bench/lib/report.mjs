// Number formatting and Markdown tables for benchmark output (paste-ready for BENCHMARKS.md).

/** `x` with `digits` decimals; '-' for a missing or non-finite value. */
export function fmt(x, digits = 1) {
  return typeof x === 'number' && Number.isFinite(x) ? x.toFixed(digits) : '-';
}

/** Median of a non-empty list of numbers. */
export function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** Print a Markdown table; numeric-looking columns are right-aligned. */
export function printTable(header, rows, out = process.stdout) {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const numeric = header.map(
    (_, i) => rows.length > 0 && rows.every((r) => /^[\d.x%-]+$/.test(r[i])),
  );
  const cell = (text, i) => (numeric[i] ? text.padStart(widths[i]) : text.padEnd(widths[i]));
  const line = (cells) => `| ${cells.map(cell).join(' | ')} |`;
  const rule = `|${widths.map((w, i) => (numeric[i] ? `${'-'.repeat(w + 1)}:` : '-'.repeat(w + 2))).join('|')}|`;
  out.write(`${[line(header), rule, ...rows.map(line)].join('\n')}\n`);
}
