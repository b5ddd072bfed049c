/**
 * The test functions of the quality benchmark, each with its box and its known minimum. Every
 * optimum lies away from the centre of the box: Branin's and Hartmann6's already do; Ackley's
 * is moved by a fixed shift; Rosenbrock's (1, ..., 1) sits in the lower part of [-5, 10]^d and
 * Styblinski-Tang's (-2.9035, ...) near a corner of [-5, 5]^d.
 */

/** TestFunction is a box-constrained function to minimise with a known optimum value. */
export interface TestFunction {
  name: string;
  low: number[];
  high: number[];
  optimum: number;
  f(x: number[]): number;
}

const at = (x: number[], i: number): number => x[i] as number;

/** branin is the Branin-Hoo function on [-5, 10] x [0, 15] (three global minima, 0.397887). */
export const branin: TestFunction = {
  name: "branin",
  low: [-5, 0],
  high: [10, 15],
  optimum: 0.397887357729738,
  f(x) {
    const [x1, x2] = [at(x, 0), at(x, 1)];
    const b = 5.1 / (4 * Math.PI * Math.PI);
    const c = 5 / Math.PI;
    return (x2 - b * x1 * x1 + c * x1 - 6) ** 2 + 10 * (1 - 1 / (8 * Math.PI)) * Math.cos(x1) + 10;
  },
};

const hA = [
  [10, 3, 17, 3.5, 1.7, 8],
  [0.05, 10, 17, 0.1, 8, 14],
  [3, 3.5, 1.7, 10, 17, 8],
  [17, 8, 0.05, 10, 0.1, 14],
];
const hP = [
  [1312, 1696, 5569, 124, 8283, 5886],
  [2329, 4135, 8307, 3736, 1004, 9991],
  [2348, 1451, 3522, 2883, 3047, 6650],
  [4047, 8828, 8732, 5743, 1091, 381],
];
const hAlpha = [1, 1.2, 3, 3.2];

/** hartmann6 is the six-dimensional Hartmann function on [0, 1]^6 (minimum -3.32237). */
export const hartmann6: TestFunction = {
  name: "hartmann6",
  low: new Array(6).fill(0),
  high: new Array(6).fill(1),
  optimum: -3.322368011415515,
  f(x) {
    let sum = 0;
    hAlpha.forEach((alpha, i) => {
      let e = 0;
      for (let j = 0; j < 6; j++)
        e += (hA[i]?.[j] as number) * (at(x, j) - (hP[i]?.[j] as number) * 1e-4) ** 2;
      sum += alpha * Math.exp(-e);
    });
    return -sum;
  },
};

const ackleyShift = [7.3, -11.2, 15.8, -4.1, 9.6];

/** ackley5 is Ackley's function in five dimensions on [-32.768, 32.768]^5, its minimum (0) moved to ackleyShift. */
export const ackley5: TestFunction = {
  name: "ackley5 (shifted)",
  low: new Array(5).fill(-32.768),
  high: new Array(5).fill(32.768),
  optimum: 0,
  f(x) {
    const z = x.map((v, i) => v - (ackleyShift[i] as number));
    const d = z.length;
    const sq = z.reduce((s, v) => s + v * v, 0) / d;
    const cos = z.reduce((s, v) => s + Math.cos(2 * Math.PI * v), 0) / d;
    return -20 * Math.exp(-0.2 * Math.sqrt(sq)) - Math.exp(cos) + 20 + Math.E;
  },
};

/** rosenbrock4 is the Rosenbrock valley in four dimensions on [-5, 10]^4 (minimum 0 at (1, 1, 1, 1)). */
export const rosenbrock4: TestFunction = {
  name: "rosenbrock4",
  low: new Array(4).fill(-5),
  high: new Array(4).fill(10),
  optimum: 0,
  f(x) {
    let s = 0;
    for (let i = 0; i < x.length - 1; i++)
      s += 100 * (at(x, i + 1) - at(x, i) ** 2) ** 2 + (1 - at(x, i)) ** 2;
    return s;
  },
};

/** styblinskiTang4 is the Styblinski-Tang function in four dimensions on [-5, 5]^4 (minimum -39.16617 d). */
export const styblinskiTang4: TestFunction = {
  name: "styblinski-tang4",
  low: new Array(4).fill(-5),
  high: new Array(4).fill(5),
  optimum: -39.16616570377142 * 4,
  f(x) {
    return x.reduce((s, v) => s + v ** 4 - 16 * v * v + 5 * v, 0) / 2;
  },
};

/** testFunctions lists the functions of the quality benchmark. */
export const testFunctions: TestFunction[] = [branin, hartmann6, ackley5, rosenbrock4, styblinskiTang4];
