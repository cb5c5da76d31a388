/**
 * A small UNet for denoising (the layout of DDPM's network and diffusers' `UNet2DModel`, scaled
 * down): sinusoidal timestep embedding -> MLP; per resolution `layersPerBlock` ResNet blocks and a
 * stride-2 downsample; a middle of ResNet, optional self-attention, ResNet; the mirror path up with
 * skip concatenations and nearest-neighbour upsampling; GroupNorm, SiLU and a 3x3 conv out.
 *
 *   x [B, H, W, C], t [B] -> ε̂ (or v̂, x̂_0) [B, H, W, C]
 */
import * as tf from '@tensorflow/tfjs-core';
import { invalidArgument, type WeightedNetwork } from '@gensynth/core';
import {
  Conv2d,
  Dense,
  Downsample,
  GroupNorm,
  ParameterStore,
  ResnetBlock,
  SelfAttention,
  silu,
  timestepEmbedding,
  Upsample,
} from './blocks';

export interface UNetOptions {
  /** Channels of the input and output images. */
  channels: number;
  /** Output channels of each resolution level; its length is the number of levels. */
  blockOutChannels: number[];
  /** ResNet blocks per level on the way down (the way up has one more, as in diffusers). */
  layersPerBlock: number;
  /** Groups of every GroupNorm; must divide every entry of `blockOutChannels`. */
  normNumGroups: number;
  /** One self-attention block in the middle, at the lowest resolution. */
  attention: boolean;
  /** Seed of the weight initialisation. */
  seed: number;
}

type Stage = { kind: 'resnet'; block: ResnetBlock } | { kind: 'down'; block: Downsample };
type UpStage = { kind: 'resnet'; block: ResnetBlock } | { kind: 'up'; block: Upsample };

/** The denoising network. Satisfies core's `WeightedNetwork`; owns its variables. */
export class UNet implements WeightedNetwork {
  readonly name: string;
  readonly options: UNetOptions;
  readonly timeEmbeddingDim: number;
  private readonly store: ParameterStore;
  private readonly timeMlp1: Dense;
  private readonly timeMlp2: Dense;
  private readonly convIn: Conv2d;
  private readonly down: Stage[] = [];
  private readonly midBlock1: ResnetBlock;
  private readonly midAttention: SelfAttention | null;
  private readonly midBlock2: ResnetBlock;
  private readonly up: UpStage[] = [];
  private readonly normOut: GroupNorm;
  private readonly convOut: Conv2d;

  constructor(options: UNetOptions, name = 'unet') {
    this.name = name;
    this.options = options;
    const { blockOutChannels: widths, layersPerBlock, normNumGroups: groups } = options;
    const base = widths[0] as number;
    const embDim = 4 * base;
    this.timeEmbeddingDim = embDim;
    const store = new ParameterStore(name, options.seed);
    this.store = store;

    this.timeMlp1 = new Dense(store, 'time_embedding/linear_1', base, embDim);
    this.timeMlp2 = new Dense(store, 'time_embedding/linear_2', embDim, embDim);
    this.convIn = new Conv2d(store, 'conv_in', options.channels, base);

    // Down path: remember the channels of every skip connection it leaves behind.
    const skipChannels = [base];
    let channels = base;
    widths.forEach((width, level) => {
      for (let i = 0; i < layersPerBlock; i++) {
        const block = new ResnetBlock(
          store,
          `down${level}/resnet${i}`,
          channels,
          width,
          embDim,
          groups,
        );
        this.down.push({ kind: 'resnet', block });
        channels = width;
        skipChannels.push(channels);
      }
      if (level < widths.length - 1) {
        this.down.push({
          kind: 'down',
          block: new Downsample(store, `down${level}/downsample`, channels),
        });
        skipChannels.push(channels);
      }
    });

    this.midBlock1 = new ResnetBlock(store, 'mid/resnet0', channels, channels, embDim, groups);
    this.midAttention = options.attention
      ? new SelfAttention(store, 'mid/attention', channels, groups)
      : null;
    this.midBlock2 = new ResnetBlock(store, 'mid/resnet1', channels, channels, embDim, groups);

    // Up path: each ResNet block takes the next skip connection, concatenated on channels.
    for (let level = widths.length - 1; level >= 0; level--) {
      const width = widths[level] as number;
      for (let i = 0; i <= layersPerBlock; i++) {
        const skip = skipChannels.pop() as number;
        const block = new ResnetBlock(
          store,
          `up${level}/resnet${i}`,
          channels + skip,
          width,
          embDim,
          groups,
        );
        this.up.push({ kind: 'resnet', block });
        channels = width;
      }
      if (level > 0)
        this.up.push({ kind: 'up', block: new Upsample(store, `up${level}/upsample`, channels) });
    }

    this.normOut = new GroupNorm(store, 'norm_out', channels, groups);
    this.convOut = new Conv2d(store, 'conv_out', channels, options.channels);
  }

  /**
   * Predict from noisy images and their timesteps.
   * `noisyImages`: `[B, H, W, C]` float32; `timesteps`: `[B]` (int32 or float32).
   * Returns `[B, H, W, C]` float32 that the caller owns.
   */
  apply(noisyImages: tf.Tensor4D, timesteps: tf.Tensor1D): tf.Tensor4D {
    const [, height, width, channels] = noisyImages.shape;
    const factor = 2 ** (this.options.blockOutChannels.length - 1);
    if (channels !== this.options.channels || height % factor !== 0 || width % factor !== 0) {
      throw invalidArgument(
        `${this.name}.apply(noisyImages)`,
        `[B, H, W, ${this.options.channels}] with H and W multiples of ${factor}`,
        `shape [${noisyImages.shape.join(', ')}]`,
        'Resize the images, or use fewer blockOutChannels (each level halves the resolution).',
      );
    }
    return tf.tidy(() => {
      // 1. timestep embedding -> MLP
      const baseChannels = this.options.blockOutChannels[0] as number;
      const sinusoid = timestepEmbedding(timesteps, baseChannels); // [B, C0]
      const emb = this.timeMlp2.apply(silu(this.timeMlp1.apply(sinusoid))); // [B, E]

      // 2. down path, keeping skips
      let h = this.convIn.apply(noisyImages); // [B, H, W, C0]
      const skips: tf.Tensor4D[] = [h];
      for (const stage of this.down) {
        h = stage.kind === 'resnet' ? stage.block.apply(h, emb) : stage.block.apply(h);
        skips.push(h);
      }

      // 3. middle, at the lowest resolution
      h = this.midBlock1.apply(h, emb);
      if (this.midAttention) h = this.midAttention.apply(h);
      h = this.midBlock2.apply(h, emb);

      // 4. up path with skip concatenations
      for (const stage of this.up) {
        if (stage.kind === 'up') {
          h = stage.block.apply(h); // [B, 2h, 2w, c]
          continue;
        }
        const skip = skips.pop() as tf.Tensor4D;
        h = stage.block.apply(tf.concat([h, skip], 3), emb);
      }

      // 5. output
      return this.convOut.apply(silu(this.normOut.apply(h))); // [B, H, W, C]
    });
  }

  /** Trainable variables in creation order. */
  trainableVariables(): tf.Variable[] {
    return [...this.store.variables];
  }

  /** The variables themselves, in creation order (not copies; do not dispose them). */
  getWeights(): tf.Tensor[] {
    return [...this.store.variables];
  }

  /** Assign `weights` (same order and shapes as `getWeights`); the inputs are not disposed. */
  setWeights(weights: tf.Tensor[]): void {
    const variables = this.store.variables;
    if (weights.length !== variables.length) {
      throw invalidArgument(
        `${this.name}.setWeights(weights)`,
        `${variables.length} tensors`,
        `${weights.length}`,
        'Pass the tensors getWeights() returned, in order.',
      );
    }
    weights.forEach((w, i) => {
      const v = variables[i] as tf.Variable;
      if (!tf.util.arraysEqual(w.shape, v.shape)) {
        throw invalidArgument(
          `${this.name}.setWeights(weights[${i}])`,
          `shape [${v.shape.join(', ')}] for ${this.store.names[i]}`,
          `shape [${w.shape.join(', ')}]`,
          'Pass weights saved from a network with the same options.',
        );
      }
    });
    weights.forEach((w, i) => (variables[i] as tf.Variable).assign(w));
  }

  /** Names of the weights, in `getWeights` order (`unet/down0/resnet0/conv1/kernel`, ...). */
  weightNames(): string[] {
    return [...this.store.names];
  }

  /** Number of scalar parameters. */
  countParams(): number {
    return this.store.variables.reduce((n, v) => n + v.size, 0);
  }

  dispose(): void {
    this.store.dispose();
  }
}
