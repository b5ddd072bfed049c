import { describe, expect, it } from "vitest";
import { badRequest, failure, IddsError, iddsJson, success, wantsJsonOutputs } from "./envelope.ts";
import { fromIddsId, parseLimit, parseLoss, parseStatus, toIddsId, toIddsPoint } from "./points.ts";
import { nullable, routeOf } from "./routes.ts";

describe("envelope", () => {
  it("serialises like iDDS's json_dumps: sorted keys, indent 4", () => {
    expect(iddsJson({ b: 1, a: { d: 2, c: [3] } })).toBe(
      '{\n    "a": {\n        "c": [\n            3\n        ],\n        "d": 2\n    },\n    "b": 1\n}',
    );
  });
  it("answers data with 200, or inside the json_outputs envelope with status 0", () => {
    expect(success([1], false)).toMatchObject({ status: 200, body: iddsJson([1]) });
    expect(JSON.parse(success([1], true).body as string)).toEqual({ data: [1], error: null, status: 0 });
  });
  it("answers an error with its status and the ExceptionClass/ExceptionMessage headers, no body", () => {
    const r = failure(badRequest("bad id"), false);
    expect(r.status).toBe(400);
    expect(r.body).toBeUndefined();
    expect(r.headers.ExceptionClass).toBe("BadRequest");
    expect(JSON.parse(r.headers.ExceptionMessage as string)).toEqual({ msg: "bad id" });
  });
  it("puts an error in the envelope with 200 when json_outputs is set", () => {
    const r = failure(new IddsError(404, "NoObject", "none"), true);
    expect(r.status).toBe(200);
    expect(JSON.parse(r.body as string)).toEqual({
      data: null,
      status: 404,
      error: { ExceptionClass: "NoObject", ExceptionMessage: '{"msg":"none"}' },
    });
  });
  it("answers authentication errors plainly, whatever json_outputs says (as iDDS's before_request)", () => {
    const r = failure(new IddsError(401, "IDDSException", "no token\nat all", { plain: true }), true);
    expect(r).toMatchObject({ status: 401, body: undefined });
    expect(r.headers.ExceptionMessage).toBe("no token at all");
  });
  it("reads json_outputs in any case", () => {
    expect(wantsJsonOutputs(new URLSearchParams("json_outputs=True"))).toBe(true);
    expect(wantsJsonOutputs(new URLSearchParams("json_outputs=1"))).toBe(false);
    expect(wantsJsonOutputs(new URLSearchParams(""))).toBe(false);
  });
});

describe("routes", () => {
  it("reads iDDS's URL forms with null placeholders", () => {
    expect(routeOf("GET", "/hpo/null/12/null/null/null")).toEqual({
      kind: "getHyperParameters",
      ref: { workloadId: undefined, requestId: 12 },
      id: undefined,
      status: undefined,
      limit: undefined,
    });
    expect(routeOf("GET", "/hpo/7/None/0/New/5")).toMatchObject({
      ref: { workloadId: 7 },
      id: "0",
      status: "New",
      limit: "5",
    });
    expect(routeOf("PUT", "/hpo/7/9/3/0.25")).toEqual({
      kind: "updateHyperParameter",
      ref: { workloadId: 7, requestId: 9 },
      id: "3",
      loss: "0.25",
    });
    expect(routeOf("POST", "/request")).toEqual({ kind: "addRequest" });
    expect(routeOf("GET", "/request/12/null/False/False/False/False")).toEqual({
      kind: "getRequests",
      ref: { workloadId: undefined, requestId: 12 },
    });
    expect(routeOf("GET", "/ping")).toEqual({ kind: "ping" });
  });
  it("refuses a missing request and workload id, and ids that are not numbers", () => {
    expect(() => routeOf("GET", "/hpo/null/null/null/null/null")).toThrow(
      /One of workload_id and request_id/,
    );
    expect(() => routeOf("PUT", "/hpo/abc/null/1/0.5")).toThrow(/workload_id "abc" is not a number/);
  });
  it("answers unknown paths 404 and wrong methods 405 as iDDS does (IDDSException)", () => {
    expect(() => routeOf("GET", "/nothing")).toThrow(
      expect.objectContaining({ status: 404, exceptionClass: "IDDSException" }),
    );
    expect(() => routeOf("POST", "/hpo/1/2/3/4/5")).toThrow(expect.objectContaining({ status: 405 }));
    expect(() => routeOf("GET", "/hpo/1/2/3/4")).toThrow(expect.objectContaining({ status: 405 }));
  });
  it("treats null, None and empty alike", () => {
    expect([nullable("null"), nullable("None"), nullable(""), nullable("0")]).toEqual([
      undefined,
      undefined,
      undefined,
      "0",
    ]);
  });
});

describe("ids, status words, limit and loss at the iDDS boundary", () => {
  it("keeps point ids as they are (from 1, as iDDS 2.6 and the broker messages name them)", () => {
    expect(toIddsId("1")).toBe("1");
    expect(fromIddsId(" 7")).toBe("7");
    expect(fromIddsId("007")).toBe("7");
    expect(() => fromIddsId("-1")).toThrow(/whole numbers from 1/);
    expect(() => fromIddsId("1.5")).toThrow(/is not a point id/);
  });
  it("reads iDDS's ContentStatus names and numbers", () => {
    expect(["New", "new", "0"].map(parseStatus)).toEqual(["new", "new", "new"]);
    expect(["Available", "2", "evaluated"].map(parseStatus)).toEqual(["evaluated", "evaluated", "evaluated"]);
    expect(["Failed", "FinalFailed", "3", "4"].map(parseStatus)).toEqual([
      "failed",
      "failed",
      "failed",
      "failed",
    ]);
    expect(() => parseStatus("Processing")).toThrow(/use New .* Available .* Failed/);
  });
  it("takes limit 0 as no limit, as iDDS does", () => {
    expect(parseLimit("0")).toBeUndefined();
    expect(parseLimit("3")).toBe(3);
    expect(() => parseLimit("x")).toThrow(/whole number/);
  });
  it("reads losses as float() does and refuses what is not finite", () => {
    expect(["0.3", "-1e-3", ".5", "2."].map(parseLoss)).toEqual([0.3, -0.001, 0.5, 2]);
    for (const bad of ["nan", "inf", "abc", ""]) expect(() => parseLoss(bad)).toThrow(/not a finite number/);
  });
  it("writes a point in iDDS's form", () => {
    expect(
      toIddsPoint({ id: "3", params: { a: 1 }, generation: 1, state: "Evaluated", loss: 0.5, set: "r-1" }),
    ).toEqual({ id: "3", parameters: { a: 1 }, loss: 0.5 });
    expect(toIddsPoint({ id: "1", params: {}, generation: 1, state: "New", set: "r-1" }).loss).toBeNull();
  });
});
