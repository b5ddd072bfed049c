import { describe, expect, it } from "vitest";
import { convergenceSvg } from "./plot.ts";

describe("convergenceSvg", () => {
  it("draws one polyline per series, scaled into the plot, with a legend", () => {
    const svg = convergenceSvg("t <1>", [
      { name: "a", values: [3, 2, 1] },
      { name: "b", values: [3, 3, 2.5] },
    ]);
    expect(svg.match(/<polyline/g)).toHaveLength(2);
    expect(svg).toContain("t &lt;1&gt;");
    expect(svg).toContain('points="70.0,40.0 345.0,195.0 620.0,350.0"');
    expect(svg).toContain(">a</text>");
  });
});
