import { gzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { formatBytes, logLimitFor, parseBytes } from "./bytes.ts";
import { frameOutput } from "./frame.ts";

describe("byte sizes", () => {
  it("reads quantities and refuses what is not one", () => {
    expect(["16Mi", "512Ki", "1G", "2k", "1048576"].map((s) => parseBytes(s, "x"))).toEqual([
      16 * 1024 ** 2,
      512 * 1024,
      1e9,
      2000,
      1048576,
    ]);
    for (const bad of ["", "0", "-1", "1.5Mi", "16MB", "lots"])
      expect(() => parseBytes(bad, "--generator-output-limit")).toThrow(
        /--generator-output-limit: .* is not a size in bytes/,
      );
  });
  it("prints sizes for people", () => {
    expect([formatBytes(16 * 1024 ** 2), formatBytes(1536), formatBytes(900)]).toEqual([
      "16 MiB",
      "1.5 KiB",
      "900 bytes",
    ]);
  });
  it("leaves room in the log for the frame of the largest output, even incompressible", () => {
    const random = Buffer.from(Array.from({ length: 200_000 }, (_, i) => (i * 7919 + ((i * i) % 251)) % 256));
    const json = JSON.stringify([{ x: random.toString("base64") }]);
    expect(gzipSync(json).length).toBeGreaterThan(json.length * 0.7);
    expect(frameOutput(json).length).toBeLessThanOrEqual(logLimitFor(json.length));
  });
});
