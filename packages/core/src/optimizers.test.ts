import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-layers';
import { adamStep } from './kernels/adam';
import { initTestBackends, seeded } from './kernels/testing';
import { ReplayableAdamOptimizer } from './optimizers';

beforeAll(initTestBackends);

/** Three Adam steps of one optimizer on a quartic loss; returns the variable's values. */
async function train(backend: string, make: () => tf.Optimizer): Promise<Float32Array> {
  await tf.setBackend(backend);
  const x = tf.variable(seeded([3, 37], 7));
  const y = tf.variable(seeded([5], 8));
  const optimizer = make();
  const loss = () =>
    tf.add(
      tf.sum(tf.pow(x, 4)),
      tf.sum(tf.mul(y, tf.reshape(tf.slice(x, [0, 0], [1, 5]), [5]))),
    ) as tf.Scalar;
  for (let t = 0; t < 3; t++) optimizer.minimize(loss, false, [x, y]);
  const before = tf.memory().numTensors;
  optimizer.minimize(loss, false, [x, y]);
  expect(tf.memory().numTensors).toBe(before);
  const values = new Float32Array([...(await x.data()), ...(await y.data())]);
  optimizer.dispose();
  tf.dispose([x, y]);
  return values;
}

describe('ReplayableAdamOptimizer (fused GensynthAdamUpdate)', () => {
  it.each(['cpu', 'wasm'])('gives tfjs Adam its float32 results on %s', async (backend) => {
    const fused = await train(backend, () => new ReplayableAdamOptimizer(0.01, 0.5, 0.999, 1e-7));
    const stock = await train(backend, () => tf.train.adam(0.01, 0.5, 0.999, 1e-7));
    let maxDiff = 0;
    fused.forEach((v, i) => (maxDiff = Math.max(maxDiff, Math.abs(v - stock[i]!))));
    // Same operations in the same order; tfjs Adam keeps β^t as a running product, which can
    // differ from pow(β, t) in the last bit, so the results agree to a float32 ulp or two.
    expect(maxDiff).toBeLessThan(1e-6);
  });

  it('matches a float64 hand computation of one update', () => {
    const attrs = { beta1: 0.9, beta2: 0.99, epsilon: 1e-8, learningRate: 0.1 };
    const [w, m, v, g] = [
      [0.5, -1],
      [0.2, 0],
      [0.01, 0],
      [1, -3],
    ];
    const [wOut, mOut, vOut] = adamStep(w, m, v, g, { ...attrs, accBeta1: 0.81, accBeta2: 0.9801 });
    for (let k = 0; k < 2; k++) {
      const mn = 0.9 * m[k]! + 0.1 * g[k]!;
      const vn = 0.99 * v[k]! + 0.01 * g[k]! ** 2;
      const wn = w[k]! - (0.1 * (mn / 0.19)) / (Math.sqrt(vn / 0.0199) + 1e-8);
      expect(mOut[k]).toBeCloseTo(mn, 6);
      expect(vOut[k]).toBeCloseTo(vn, 6);
      expect(wOut[k]).toBeCloseTo(wn, 5);
    }
  });

  it("runs one kernel per variable on wasm instead of tfjs Adam's eleven", async () => {
    await tf.setBackend('wasm');
    const x = tf.variable(seeded([16], 1));
    const optimizer = new ReplayableAdamOptimizer(0.01, 0.5, 0.999);
    const grads = [{ name: x.name, tensor: seeded([16], 2) }];
    optimizer.applyGradients(grads); // creates the moments (ZerosLike)
    const names: string[] = [];
    const profile = await tf.profile(() => optimizer.applyGradients(grads));
    profile.kernels.forEach((k) => names.push(k.name));
    expect(names).toEqual(['GensynthAdamUpdate']);
    optimizer.dispose();
    tf.dispose([x, grads[0]!.tensor]);
  });

  it('refuses moments of another shape with a message that names the input', async () => {
    await tf.setBackend('wasm');
    const run = () =>
      tf.engine().runKernel(
        'GensynthAdamUpdate',
        { value: tf.zeros([4]), m: tf.zeros([4]), v: tf.zeros([3]), gradient: tf.zeros([4]) },
        {
          beta1: 0.9,
          beta2: 0.999,
          epsilon: 1e-7,
          learningRate: 1e-3,
          accBeta1: 0.9,
          accBeta2: 0.999,
        },
      );
    expect(() => tf.tidy(run)).toThrow(/input 'v'.*\[4\].*\[3\]/s);
  });
});
