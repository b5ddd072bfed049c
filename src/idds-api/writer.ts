/**
 * LossWriter writes reported losses into HyperParameterSets, coalesced: the reports for one set
 * that arrive while its previous patch is in flight go out as one JSON merge patch of spec.losses
 * (KeyedBatcher, policy in coalesce.ts). A report resolves only after the API server has answered
 * the patch that carries it (then the loss is in etcd), never before; a patch the server refuses
 * (a report the set cannot take, raced by another writer) is planned again against the set as read
 * back, so one bad report never holds back the others.
 */
import {
  type HPORequest,
  type HyperParameterSet,
  HyperParameterSetResource,
  setNameOf,
} from "../api/index.ts";
import { RequestNotFoundError, UnknownPointError } from "../client/errors.ts";
import { type KubeClient, paths } from "../runtime/client.ts";
import { InvalidError, NotFoundError } from "../runtime/errors.ts";
import { KeyedBatcher } from "./batcher.ts";
import { conflict, type LossReport, planBatch, unknownSet, type Verdict } from "./coalesce.ts";
import { IddsError, noObject } from "./envelope.ts";

/** ReportTarget is where a report goes: the request (for its name and initial points) and the set. */
interface ReportTarget {
  namespace: string;
  request: HPORequest;
  set: string;
}

/** Written is the answer to one report: "write" (this patch wrote it) or "done" (it was there). */
export type Written = "write" | "done";

const ATTEMPTS = 4;

/** LossWriter coalesces loss reports per HyperParameterSet. */
export class LossWriter {
  private readonly kube: KubeClient;
  private readonly batcher: KeyedBatcher<{ target: ReportTarget; report: LossReport }, Written>;

  constructor(kube: KubeClient, options: { onBatch?: (size: number) => void } = {}) {
    this.kube = kube;
    this.batcher = new KeyedBatcher((_key, items) => this.flush(items), options);
  }

  /**
   * report records loss for our point id of request (whose status.pointsPerSet must be known) and
   * resolves once it is written; it rejects with an IddsError (404, 409) the client should see.
   */
  report(request: HPORequest, pointsPerSet: number, report: LossReport): Promise<Written> {
    const namespace = request.metadata?.namespace ?? "";
    const name = request.metadata?.name ?? "";
    const set = setNameOf(name, Number(report.id), pointsPerSet);
    return this.batcher.submit(`${namespace}/${set}`, { target: { namespace, request, set }, report });
  }

  private async flush(items: { target: ReportTarget; report: LossReport }[]): Promise<(Written | Error)[]> {
    const { namespace, request, set } = (items[0] as { target: ReportTarget }).target;
    const reports = items.map((i) => i.report);
    const verdicts = await this.write(namespace, request, set, reports);
    return verdicts.map((v) => (v.kind === "refused" ? v.error : v.kind));
  }

  /** write plans and patches, re-reading the set after each refusal, and returns the verdicts. */
  private async write(
    namespace: string,
    request: HPORequest,
    setName: string,
    reports: LossReport[],
  ): Promise<Verdict[]> {
    const name = request.metadata?.name ?? "";
    const path = paths.object(
      HyperParameterSetResource.apiVersion,
      HyperParameterSetResource.plural,
      namespace,
      setName,
    );
    let set: HyperParameterSet | undefined;
    let lastRefusal = "";
    for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
      const plan = planBatch(set, request.spec.initialPoints, name, reports);
      if (Object.keys(plan.losses).length === 0) return plan.verdicts;
      try {
        await this.kube.mergePatch(path, { spec: { losses: plan.losses } });
        return plan.verdicts;
      } catch (e) {
        if (e instanceof NotFoundError) return unknownSet(name, reports);
        if (!(e instanceof InvalidError)) throw asIddsError(e);
        lastRefusal = e.message;
      }
      try {
        set = await this.kube.get<HyperParameterSet>(path);
      } catch (e) {
        if (e instanceof NotFoundError) return unknownSet(name, reports);
        throw asIddsError(e);
      }
    }
    // The server kept refusing what the set as read should take: answer with its reason.
    return reports.map((r) => ({
      kind: "refused",
      error: conflict(r.id, `could not be written (${lastRefusal})`),
    }));
  }
}

/**
 * asIddsError turns any failure into what idds-client shows: a request or point that went away is
 * 404 NoObject; a failure of the API server the 500 CoreException.
 */
export function asIddsError(e: unknown): IddsError {
  if (e instanceof IddsError) return e;
  if (e instanceof RequestNotFoundError || e instanceof UnknownPointError) return noObject(e.message);
  const message = e instanceof Error ? e.message : String(e);
  return new IddsError(500, "CoreException", `the Kubernetes API server failed the call: ${message}`, {
    cause: e,
  });
}
