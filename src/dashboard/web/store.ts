/**
 * PointStore holds a request's points column by column in id order, takes the live updates (new
 * points, new outcomes) and gives the charts numeric columns (categories as their index).
 */
import type { ParamInfo, PointColumns, PointRow, PointStateCode } from "../wire.ts";

/** PointStore is the points of one request. */
export class PointStore {
  params: ParamInfo[];
  ids: number[];
  generation: number[];
  state: PointStateCode[];
  loss: (number | null)[];
  values: unknown[][];
  reasons: Record<string, string>;
  /** version grows with every change (charts redraw when it moved). */
  version = 0;
  private readonly at = new Map<number, number>();

  constructor(params: ParamInfo[], cols: PointColumns) {
    this.params = params;
    this.ids = cols.ids;
    this.generation = cols.generation;
    this.state = cols.state;
    this.loss = cols.loss;
    this.values = cols.values;
    this.reasons = cols.reasons;
    this.reindex();
  }

  private reindex(): void {
    this.at.clear();
    this.ids.forEach((id, i) => {
      this.at.set(id, i);
    });
  }

  /** size is the number of points. */
  get size(): number {
    return this.ids.length;
  }

  /** merge applies live rows (values in the order of names); it returns the ids that changed. */
  merge(names: string[], rows: PointRow[]): number[] {
    for (const name of names) {
      if (!this.params.some((p) => p.name === name)) {
        this.params.push({ name, type: "float" });
        this.values.push(new Array(this.size).fill(null));
      }
    }
    const col = names.map((n) => this.params.findIndex((p) => p.name === n));
    let unordered = false;
    for (const r of rows) {
      let i = this.at.get(r.id);
      if (i === undefined) {
        i = this.ids.length;
        if (i > 0 && (this.ids[i - 1] as number) > r.id) unordered = true;
        this.ids.push(r.id);
        this.generation.push(r.generation);
        this.state.push(r.state);
        this.loss.push(r.loss);
        for (const v of this.values) v.push(null);
        this.at.set(r.id, i);
      }
      this.state[i] = r.state;
      this.loss[i] = r.loss;
      this.generation[i] = r.generation;
      col.forEach((j, k) => {
        if (j >= 0) (this.values[j] as unknown[])[i as number] = r.values[k];
      });
      if (r.reason !== undefined) this.reasons[String(r.id)] = r.reason;
    }
    if (unordered) this.sortById();
    this.version++;
    return rows.map((r) => r.id);
  }

  private sortById(): void {
    const order = this.ids.map((_, i) => i).sort((a, b) => (this.ids[a] as number) - (this.ids[b] as number));
    const pick = <T>(xs: T[]) => order.map((i) => xs[i] as T);
    this.ids = pick(this.ids);
    this.generation = pick(this.generation);
    this.state = pick(this.state);
    this.loss = pick(this.loss);
    this.values = this.values.map(pick);
    this.reindex();
  }

  /** indexOf is the row of a point id. */
  indexOf(id: number): number | undefined {
    return this.at.get(id);
  }

  /** numeric is parameter j as numbers: categories become their index in choices (then first seen). */
  numeric(j: number): { xs: Float64Array; labels?: string[] } {
    const p = this.params[j] as ParamInfo;
    const col = this.values[j] ?? [];
    const xs = new Float64Array(col.length);
    if (p.type !== "categorical") {
      col.forEach((v, i) => {
        xs[i] = typeof v === "number" ? v : Number.NaN;
      });
      return { xs };
    }
    const labels = (p.choices ?? []).map((c) => JSON.stringify(c));
    const index = new Map(labels.map((l, i) => [l, i]));
    col.forEach((v, i) => {
      if (v === null || v === undefined) {
        xs[i] = Number.NaN;
        return;
      }
      const key = JSON.stringify(v);
      if (!index.has(key)) {
        index.set(key, labels.length);
        labels.push(key);
      }
      xs[i] = index.get(key) as number;
    });
    return { xs, labels: labels.map((l) => l.replace(/^"(.*)"$/, "$1")) };
  }
}
