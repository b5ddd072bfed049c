/**
 * PointStore holds a request's points in typed columns in id order (float64, NaN for "none"), as
 * the binary points endpoint sends them (wire.ts PointsHeader): 100,000 points load without
 * parsing, and the charts read the columns directly. It takes the live updates (new points, new
 * outcomes) too.
 */
import { type ParamInfo, POINT_COLUMNS, type PointRow, type PointsHeader, pointColumnsAt } from "../wire.ts";

/** PointStore is the points of one request. */
export class PointStore {
  readonly params: ParamInfo[];
  size = 0;
  ids = new Float64Array(0);
  generation = new Float64Array(0);
  /** 0 new, 1 evaluated, 2 failed. */
  state = new Float64Array(0);
  /** NaN: no loss. */
  loss = new Float64Array(0);
  /** cols[j][i] is parameter j of point i: its value, or its index in categories[j]. */
  cols: Float64Array[] = [];
  /** The values of each categorical parameter (undefined for a numeric one). */
  categories: (unknown[] | undefined)[] = [];
  reasons: Record<string, string> = {};
  /** version grows with every merge (a chart drawn at this version shows the current points). */
  version = 0;
  private readonly catIndex: (Map<string, number> | undefined)[] = [];

  constructor(params: ParamInfo[]) {
    this.params = params.map((p) => ({ ...p }));
    for (const p of this.params)
      this.addParam(p, p.type === "categorical" ? [...(p.choices ?? [])] : undefined);
  }

  private addParam(p: ParamInfo, categories: unknown[] | undefined): void {
    this.cols.push(new Float64Array(this.ids.length).fill(Number.NaN));
    this.categories.push(categories);
    this.catIndex.push(categories ? new Map(categories.map((c, k) => [JSON.stringify(c), k])) : undefined);
    if (!this.params.includes(p)) this.params.push(p);
  }

  /** decode reads the binary points (wire.ts) into a store. */
  static decode(params: ParamInfo[], buf: ArrayBuffer): PointStore {
    const view = new DataView(buf);
    const length = view.getUint32(0, true);
    const header = JSON.parse(new TextDecoder().decode(new Uint8Array(buf, 4, length))) as PointsHeader;
    const offset = pointColumnsAt(length);
    const n = header.count;
    const col = (k: number) => new Float64Array(buf, offset + k * n * 8, n);
    // Parameters come as float32 (the charts' precision); the store works in float64.
    const param = (j: number) =>
      Float64Array.from(new Float32Array(buf, offset + POINT_COLUMNS * n * 8 + j * n * 4, n));
    const byName = new Map(params.map((p) => [p.name, p]));
    const ordered = header.params.map((name) => byName.get(name) ?? { name, type: "float" as const });
    const store = new PointStore([]);
    for (const p of ordered) store.addParam({ ...p }, header.categories[p.name]);
    store.ids = col(0);
    store.generation = col(1);
    store.state = col(2);
    store.loss = col(3);
    store.cols = header.params.map((_, j) => param(j));
    store.size = n;
    store.reasons = header.reasons;
    return store;
  }

  /**
   * absorb adds a decoded frame (its points in id order) to the store, which stays in id order: a
   * merge, not a sort. A point the store has already is replaced by the frame's copy, which is
   * newer, unless its id is in kept (points a live update changed while the frames were coming).
   */
  absorb(frame: PointStore, kept: ReadonlySet<number> = new Set()): void {
    this.version++;
    // The frame's parameters and category indices, as the store's.
    const target = frame.params.map((p, j) => {
      let k = this.params.findIndex((q) => q.name === p.name);
      if (k < 0) {
        this.addParam({ ...p }, frame.categories[j] ? [] : undefined);
        k = this.params.length - 1;
      }
      return k;
    });
    const recode = frame.params.map((_, j) => {
      const cats = frame.categories[j];
      const k = target[j] as number;
      return cats ? cats.map((c) => this.encode(k, c)) : undefined;
    });
    const n = this.size;
    const m = frame.size;
    const cap = Math.max(16, n + m);
    const column = () => new Float64Array(cap).fill(Number.NaN);
    const ids = column();
    const generation = column();
    const state = column();
    const loss = column();
    const cols = this.cols.map(column);
    const fromStore = (i: number, to: number) => {
      ids[to] = this.ids[i] as number;
      generation[to] = this.generation[i] as number;
      state[to] = this.state[i] as number;
      loss[to] = this.loss[i] as number;
      for (let c = 0; c < cols.length; c++)
        (cols[c] as Float64Array)[to] = (this.cols[c] as Float64Array)[i] as number;
    };
    const fromFrame = (j: number, to: number) => {
      ids[to] = frame.ids[j] as number;
      generation[to] = frame.generation[j] as number;
      state[to] = frame.state[j] as number;
      loss[to] = frame.loss[j] as number;
      for (let c = 0; c < target.length; c++) {
        const v = (frame.cols[c] as Float64Array)[j] as number;
        const codes = recode[c];
        (cols[target[c] as number] as Float64Array)[to] =
          codes && !Number.isNaN(v) ? (codes[v] as number) : v;
      }
      const reason = frame.reasons[String(frame.ids[j])];
      if (reason !== undefined) this.reasons[String(frame.ids[j])] = reason;
    };
    let i = 0;
    let j = 0;
    let to = 0;
    while (i < n || j < m) {
      const a = i < n ? (this.ids[i] as number) : Number.POSITIVE_INFINITY;
      const b = j < m ? (frame.ids[j] as number) : Number.POSITIVE_INFINITY;
      if (a < b) fromStore(i++, to);
      else if (b < a) fromFrame(j++, to);
      else {
        if (kept.has(a)) fromStore(i, to);
        else fromFrame(j, to);
        i++;
        j++;
      }
      to++;
    }
    this.ids = ids;
    this.generation = generation;
    this.state = state;
    this.loss = loss;
    this.cols = cols;
    this.size = to;
  }

  /** grow makes room for one more point (doubling, so appends are cheap). */
  private grow(): void {
    if (this.size < this.ids.length) return;
    const cap = Math.max(16, this.ids.length * 2);
    this.remake((a) => {
      const b = new Float64Array(cap).fill(Number.NaN);
      b.set(a.subarray(0, this.size));
      return b;
    });
  }

  /** remake replaces every column by f of it. */
  private remake(f: (a: Float64Array) => Float64Array<ArrayBuffer>): void {
    this.ids = f(this.ids);
    this.generation = f(this.generation);
    this.state = f(this.state);
    this.loss = f(this.loss);
    this.cols = this.cols.map(f);
  }

  /** encode stores a raw parameter value in column j. */
  private encode(j: number, v: unknown): number {
    if (v === null || v === undefined) return Number.NaN;
    const index = this.catIndex[j];
    if (!index) return typeof v === "number" ? v : Number.NaN;
    const key = JSON.stringify(v);
    let k = index.get(key);
    if (k === undefined) {
      k = index.size;
      index.set(key, k);
      this.categories[j]?.push(v);
    }
    return k;
  }

  /** merge applies live rows (values in the order of names); points keep id order. */
  merge(names: string[], rows: PointRow[]): void {
    this.version++;
    for (const name of names) {
      if (!this.params.some((p) => p.name === name)) this.addParam({ name, type: "float" }, undefined);
    }
    const col = names.map((n) => this.params.findIndex((p) => p.name === n));
    for (const r of rows) {
      let i = this.indexOf(r.id);
      if (i === undefined) {
        this.grow();
        i = this.size++;
        this.ids[i] = r.id;
        for (const c of this.cols) c[i] = Number.NaN;
        // Ids only grow, but keep indexOf's binary search right if one comes late.
        if (i > 0 && (this.ids[i - 1] as number) > r.id) {
          this.sortById();
          i = this.indexOf(r.id) as number;
        }
      }
      this.state[i] = r.state;
      this.loss[i] = r.loss ?? Number.NaN;
      this.generation[i] = r.generation;
      col.forEach((j, k) => {
        (this.cols[j] as Float64Array)[i as number] = this.encode(j, r.values[k]);
      });
      if (r.reason !== undefined) this.reasons[String(r.id)] = r.reason;
    }
  }

  /** indexOf is the row of point id (ids are kept in order: a binary search, no index to build). */
  indexOf(id: number): number | undefined {
    let lo = 0;
    let hi = this.size - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const v = this.ids[mid] as number;
      if (v === id) return mid;
      if (v < id) lo = mid + 1;
      else hi = mid - 1;
    }
    return undefined;
  }

  private sortById(): void {
    const order = Array.from({ length: this.size }, (_, i) => i).sort(
      (a, b) => (this.ids[a] as number) - (this.ids[b] as number),
    );
    this.remake((a) => {
      const b = new Float64Array(a.length).fill(Number.NaN);
      order.forEach((from, to) => {
        b[to] = a[from] as number;
      });
      return b;
    });
  }

  /** view is the filled part of a column (columns have room to grow). */
  view(col: Float64Array): Float64Array {
    return col.subarray(0, this.size);
  }

  /** value is parameter j of point i as the request holds it (null: none). */
  value(j: number, i: number): unknown {
    const x = this.cols[j]?.[i];
    if (x === undefined || Number.isNaN(x)) return null;
    const cats = this.categories[j];
    return cats ? cats[x] : x;
  }

  /** labels are the category names of parameter j (undefined for a numeric one). */
  labels(j: number): string[] | undefined {
    return this.categories[j]?.map((c) => (typeof c === "string" ? c : JSON.stringify(c)));
  }
}
