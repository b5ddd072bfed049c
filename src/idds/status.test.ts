import { describe, expect, it } from "vitest";
import type { HPORequest } from "../api/index.ts";
import { requestIdOf } from "../messaging/messages.ts";
import { iddsDate, iddsRequestStatus, iddsStatusName } from "./status.ts";

const uid = "3f2a9c1e-7b4d-4e2a-9f00-1234567890ab";
const req = (status?: HPORequest["status"]): HPORequest => ({
  apiVersion: "hpo.dev/v1alpha1",
  kind: "HPORequest",
  metadata: {
    name: "mnist",
    namespace: "team-a",
    uid,
    creationTimestamp: "2026-12-07T05:00:00Z",
    annotations: { "hpo.dev/workload-id": "20525134" },
  },
  spec: { method: "bayesian" },
  status,
});

describe("iddsRequestStatus", () => {
  it("maps every phase to an iDDS RequestStatus", () => {
    const phases = [
      "Pending",
      "Generating",
      "Waiting",
      "Finished",
      "SubFinished",
      "Failed",
      "Suspended",
    ] as const;
    expect(phases.map((phase) => iddsStatusName(req({ phase })))).toEqual([
      "New",
      "Transforming",
      "Transforming",
      "Finished",
      "SubFinished",
      "Failed",
      "Suspended",
    ]);
    expect(iddsStatusName(req())).toBe("New");
  });
  it("is iDDS's request row, status in the JSON enum form idds-client decodes", () => {
    const row = iddsRequestStatus(
      req({
        phase: "Failed",
        message: "generation failed",
        conditions: [
          {
            type: "Ready",
            status: "False",
            reason: "GenerationFailed",
            message: "x",
            lastTransitionTime: "2026-12-07T05:10:02Z",
          },
        ],
      }),
    );
    expect(row).toMatchObject({
      request_id: requestIdOf(uid),
      workload_id: 20525134,
      name: "team-a/mnist",
      transform_tag: "workflow",
      request_type: { class: "RequestType", attributes: { _value_: 0, _name_: "Workflow" } },
      status: {
        class: "RequestStatus",
        module: "idds.common.constants",
        attributes: { _value_: 5, _name_: "Failed", _sort_order_: 5 },
      },
      created_at: "Mon, 07 Dec 2026 05:00:00 UTC",
      updated_at: "Mon, 07 Dec 2026 05:10:02 UTC",
      errors: { msg: "generation failed" },
    });
    expect(iddsRequestStatus(req({ phase: "Waiting" }), { requestId: 3, workloadId: null })).toMatchObject({
      request_id: 3,
      workload_id: null,
      errors: null,
      status: { attributes: { _value_: 2, _name_: "Transforming" } },
    });
  });
  it("writes dates as iDDS's DATE_FORMAT", () => {
    expect(iddsDate("2026-01-04T23:05:09.5Z")).toBe("Sun, 04 Jan 2026 23:05:09 UTC");
    expect(iddsDate(undefined)).toBeNull();
    expect(iddsDate("yesterday")).toBeNull();
  });
});
