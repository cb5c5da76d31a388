/**
 * Building blocks of the UNet, written as tf ops over explicitly created `tf.Variable`s: a
 * parameter store, conv / dense helpers, GroupNorm, a ResNet block with a timestep embedding, one
 * self-attention block, and stride-2 down / nearest-neighbour up sampling.
 *
 * Every block documents its input and output shapes. Letters: B batch, H/W, C channels,
 * E timestep-embedding width.
 */
import * as tf from '@tensorflow/tfjs-core';
import { deriveSeed } from '@gensynth/core';

/** Stores made so far: tfjs variable names are global, so each store gets its own prefix. */
let storeCount = 0;

/** Creates and owns the variables of a network, in a fixed creation order. */
export class ParameterStore {
  readonly variables: tf.Variable[] = [];
  /** Names of `variables`, same order: `<prefix>/<block>/<parameter>`. */
  readonly names: string[] = [];
  /** Prefix of the tfjs variable names, unique in the process (`unet_3/...`). */
  private readonly variablePrefix: string;

  constructor(
    readonly prefix: string,
    private readonly seed: number,
  ) {
    this.variablePrefix = `${prefix}_${storeCount++}`;
  }

  /**
   * A trainable variable drawn from U(−bound, bound) with a seed derived from the store's seed
   * and the variable's index (so the same seed gives the same weights), or filled with `fill`.
   */
  create(name: string, shape: number[], init: { bound: number } | { fill: number }): tf.Variable {
    const fullName = `${this.prefix}/${name}`;
    if (this.names.includes(fullName)) throw new Error(`duplicate parameter ${fullName}`);
    this.names.push(fullName);
    const index = this.variables.length;
    const initial = tf.tidy(() =>
      'fill' in init
        ? tf.fill(shape, init.fill)
        : tf.randomUniform(shape, -init.bound, init.bound, 'float32', deriveSeed(this.seed, index)),
    );
    const variable = tf.variable(initial, true, `${this.variablePrefix}/${name}`);
    initial.dispose();
    this.variables.push(variable);
    return variable;
  }

  dispose(): void {
    tf.dispose(this.variables);
    this.variables.length = 0;
    this.names.length = 0;
  }
}

/** A 2-D convolution with bias, `same` padding. `[B, H, W, Cin]` -> `[B, H/s, W/s, Cout]`. */
export class Conv2d {
  readonly kernel: tf.Variable;
  readonly bias: tf.Variable;

  constructor(
    store: ParameterStore,
    name: string,
    inChannels: number,
    readonly filters: number,
    readonly kernelSize = 3,
    readonly strides: 1 | 2 = 1,
  ) {
    // PyTorch's default bound 1/√fan_in; zero bias
    const bound = 1 / Math.sqrt(inChannels * kernelSize * kernelSize);
    this.kernel = store.create(`${name}/kernel`, [kernelSize, kernelSize, inChannels, filters], {
      bound,
    });
    this.bias = store.create(`${name}/bias`, [filters], { fill: 0 });
  }

  apply(x: tf.Tensor4D): tf.Tensor4D {
    return tf.add(tf.conv2d(x, this.kernel as tf.Tensor4D, this.strides, 'same'), this.bias);
  }
}

/** A dense layer. `[B, Din]` -> `[B, units]`. */
export class Dense {
  readonly kernel: tf.Variable;
  readonly bias: tf.Variable | null;

  constructor(
    store: ParameterStore,
    name: string,
    inUnits: number,
    readonly units: number,
    useBias = true,
  ) {
    this.kernel = store.create(`${name}/kernel`, [inUnits, units], {
      bound: 1 / Math.sqrt(inUnits),
    });
    this.bias = useBias ? store.create(`${name}/bias`, [units], { fill: 0 }) : null;
  }

  apply(x: tf.Tensor2D): tf.Tensor2D {
    const y: tf.Tensor2D = tf.matMul(x, this.kernel as tf.Tensor2D);
    return this.bias ? (tf.add(y, this.bias) as tf.Tensor2D) : y;
  }
}

/**
 * Group normalization (Wu & He 2018, arXiv:1803.08494): mean and variance over H, W and the C/G
 * channels of each of G groups, then a per-channel scale γ and shift β.
 * `[B, H, W, C]` -> `[B, H, W, C]`.
 */
export class GroupNorm {
  readonly gamma: tf.Variable;
  readonly beta: tf.Variable;

  constructor(
    store: ParameterStore,
    name: string,
    readonly channels: number,
    readonly groups: number,
    readonly epsilon = 1e-5,
  ) {
    if (channels % groups !== 0) {
      throw new Error(`GroupNorm ${name}: ${channels} channels do not split into ${groups} groups`);
    }
    this.gamma = store.create(`${name}/gamma`, [channels], { fill: 1 });
    this.beta = store.create(`${name}/beta`, [channels], { fill: 0 });
  }

  apply(x: tf.Tensor4D): tf.Tensor4D {
    const [b, h, w, c] = x.shape;
    const grouped = tf.reshape(x, [b, h, w, this.groups, c / this.groups]); // [B, H, W, G, C/G]
    const { mean, variance } = tf.moments(grouped, [1, 2, 4], true); // [B, 1, 1, G, 1]
    const normed = tf.mul(tf.sub(grouped, mean), tf.rsqrt(tf.add(variance, this.epsilon)));
    return tf.add(tf.mul(tf.reshape(normed, [b, h, w, c]), this.gamma), this.beta);
  }
}

/**
 * Sinusoidal timestep embedding (Vaswani et al. 2017, as used by DDPM): `[cos(t f_i), sin(t f_i)]`
 * with `f_i = 10000^(−i / (D/2))`. `timesteps` `[B]` -> `[B, D]`; `D` must be even.
 */
export function timestepEmbedding(timesteps: tf.Tensor1D, dim: number): tf.Tensor2D {
  const half = dim / 2;
  const frequencies = Array.from({ length: half }, (_, i) =>
    Math.exp((-Math.log(10000) * i) / half),
  );
  return tf.tidy(() => {
    const args = tf.mul(
      tf.reshape(tf.cast(timesteps, 'float32'), [-1, 1]),
      tf.tensor2d(frequencies, [1, half]),
    ); // [B, D/2]
    return tf.concat([tf.cos(args), tf.sin(args)], 1) as tf.Tensor2D; // [B, D]
  });
}

/**
 * ResNet block with a timestep embedding added between its two convs:
 * `h = conv(SiLU(GN(x))) + dense(SiLU(emb)); h = conv(SiLU(GN(h))); out = shortcut(x) + h`.
 * `x` `[B, H, W, Cin]`, `emb` `[B, E]` -> `[B, H, W, Cout]`.
 */
export class ResnetBlock {
  private readonly norm1: GroupNorm;
  private readonly conv1: Conv2d;
  private readonly embProjection: Dense;
  private readonly norm2: GroupNorm;
  private readonly conv2: Conv2d;
  private readonly shortcut: Conv2d | null;

  constructor(
    store: ParameterStore,
    name: string,
    inChannels: number,
    outChannels: number,
    embDim: number,
    groups: number,
  ) {
    this.norm1 = new GroupNorm(store, `${name}/norm1`, inChannels, groups);
    this.conv1 = new Conv2d(store, `${name}/conv1`, inChannels, outChannels);
    this.embProjection = new Dense(store, `${name}/time_emb_proj`, embDim, outChannels);
    this.norm2 = new GroupNorm(store, `${name}/norm2`, outChannels, groups);
    this.conv2 = new Conv2d(store, `${name}/conv2`, outChannels, outChannels);
    this.shortcut =
      inChannels === outChannels
        ? null
        : new Conv2d(store, `${name}/shortcut`, inChannels, outChannels, 1);
  }

  apply(x: tf.Tensor4D, emb: tf.Tensor2D): tf.Tensor4D {
    let h = this.conv1.apply(silu(this.norm1.apply(x))); // [B, H, W, Cout]
    const [b, , , c] = h.shape;
    const embOut = tf.reshape(this.embProjection.apply(silu(emb)), [b, 1, 1, c]); // [B, 1, 1, Cout]
    h = tf.add(h, embOut);
    h = this.conv2.apply(silu(this.norm2.apply(h)));
    return tf.add(this.shortcut ? this.shortcut.apply(x) : x, h);
  }
}

/**
 * Single-head self-attention over the H·W positions, with a residual connection.
 * `[B, H, W, C]` -> `[B, H, W, C]`.
 */
export class SelfAttention {
  private readonly norm: GroupNorm;
  private readonly query: Dense;
  private readonly key: Dense;
  private readonly value: Dense;
  private readonly output: Dense;

  constructor(
    store: ParameterStore,
    name: string,
    readonly channels: number,
    groups: number,
  ) {
    this.norm = new GroupNorm(store, `${name}/norm`, channels, groups);
    this.query = new Dense(store, `${name}/query`, channels, channels);
    // No key bias: it adds the same q·b to every score of a query, which softmax cancels, so its
    // gradient is zero (and its float noise would differ between backends).
    this.key = new Dense(store, `${name}/key`, channels, channels, false);
    this.value = new Dense(store, `${name}/value`, channels, channels);
    this.output = new Dense(store, `${name}/proj_out`, channels, channels);
  }

  apply(x: tf.Tensor4D): tf.Tensor4D {
    const [b, h, w, c] = x.shape;
    const tokens = tf.reshape(this.norm.apply(x), [b * h * w, c]) as tf.Tensor2D; // [B·HW, C]
    const split = (t: tf.Tensor2D) => tf.reshape(t, [b, h * w, c]) as tf.Tensor3D; // [B, HW, C]
    const q = split(this.query.apply(tokens));
    const k = split(this.key.apply(tokens));
    const v = split(this.value.apply(tokens));
    const weights = tf.softmax(tf.div(tf.matMul(q, k, false, true), Math.sqrt(c))); // [B, HW, HW]
    const attended = tf.reshape(tf.matMul(weights, v), [b * h * w, c]); // [B·HW, C]
    return tf.add(x, tf.reshape(this.output.apply(attended as tf.Tensor2D), [b, h, w, c]));
  }
}

/** Stride-2 3x3 conv. `[B, H, W, C]` -> `[B, H/2, W/2, C]`. */
export class Downsample {
  private readonly conv: Conv2d;

  constructor(store: ParameterStore, name: string, channels: number) {
    this.conv = new Conv2d(store, `${name}/conv`, channels, channels, 3, 2);
  }

  apply(x: tf.Tensor4D): tf.Tensor4D {
    return this.conv.apply(x);
  }
}

/**
 * Nearest-neighbour 2x upsampling, then a 3x3 conv. `[B, H, W, C]` -> `[B, 2H, 2W, C]`.
 * The upsampling repeats each pixel with concat + reshape (same values as
 * `upSampling2d({interpolation: 'nearest'})`), so its gradient needs no resize-gradient kernel.
 */
export class Upsample {
  private readonly conv: Conv2d;

  constructor(store: ParameterStore, name: string, channels: number) {
    this.conv = new Conv2d(store, `${name}/conv`, channels, channels);
  }

  apply(x: tf.Tensor4D): tf.Tensor4D {
    return this.conv.apply(upsampleNearest2x(x));
  }
}

/** Repeat every pixel 2x2. `[B, H, W, C]` -> `[B, 2H, 2W, C]`. */
export function upsampleNearest2x(x: tf.Tensor4D): tf.Tensor4D {
  const [b, h, w, c] = x.shape;
  const wide = tf.reshape(tf.concat([x, x], 3), [b, h, w * 2, c]); // [B, H, 2W, C]
  return tf.reshape(tf.concat([wide, wide], 2), [b, h * 2, w * 2, c]); // [B, 2H, 2W, C]
}

/** SiLU / swish: `x · sigmoid(x)`. */
export function silu<T extends tf.Tensor>(x: T): T {
  return tf.mul(x, tf.sigmoid(x));
}
