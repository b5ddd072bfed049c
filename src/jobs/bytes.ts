/**
 * Byte sizes as the operator's flags take them (Kubernetes quantities: 16Mi, 1G, 1048576) and as its
 * messages print them. Pure.
 */

const UNITS: Record<string, number> = {
  "": 1,
  k: 1e3,
  K: 1e3,
  M: 1e6,
  G: 1e9,
  Ki: 1024,
  Mi: 1024 ** 2,
  Gi: 1024 ** 3,
};

/** parseBytes reads a size such as 16Mi, 500k or 1048576 into bytes; it throws a clear message. */
export function parseBytes(text: string, what: string): number {
  const m = /^(\d+)(|k|K|M|G|Ki|Mi|Gi)$/.exec(text.trim());
  const n = m ? Number(m[1]) * (UNITS[m[2] ?? ""] as number) : Number.NaN;
  if (!Number.isSafeInteger(n) || n < 1)
    throw new Error(`${what}: "${text}" is not a size in bytes; write it like 16Mi, 512Ki, 1G or 1048576`);
  return n;
}

/** formatBytes prints a size for people: "16 MiB", "1.5 KiB", "900 bytes". */
export function formatBytes(n: number): string {
  for (const [unit, size] of [
    ["GiB", 1024 ** 3],
    ["MiB", 1024 ** 2],
    ["KiB", 1024],
  ] as const) {
    if (n >= size) return `${Number((n / size).toFixed(1))} ${unit}`;
  }
  return `${n} bytes`;
}

/**
 * logLimitFor is the most stage-out may print for an output of at most outputBytes: gzip can grow
 * incompressible data a little, base64 by 4/3, the line breaks by 1/76; 64 KiB for the header and
 * stage-out's own lines.
 */
export function logLimitFor(outputBytes: number): number {
  return Math.ceil(outputBytes * 1.4) + 64 * 1024;
}
