/**
 * A direct Conv2DBackpropFilter for the tfjs CPU backend, used only by the training script: the
 * stock CPU kernel takes seconds per step for this small network. Checked against the stock
 * kernel on a random case before it is installed.
 *
 *   dW[kh, kw, ci, co] = sum_{b, oh, ow} x[b, oh*sh + kh - padTop, ow*sw + kw - padLeft, ci]
 *                                        * dy[b, oh, ow, co]
 */
import * as tfc from '@tensorflow/tfjs-core';

type Attrs = {
  strides: [number, number] | number;
  pad: 'valid' | 'same' | number;
  dataFormat: 'NHWC' | 'NCHW';
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
  filterShape: [number, number, number, number];
};

interface CpuBackend {
  data: { get(id: object): { values: Float32Array } };
  makeTensorInfo(shape: number[], dtype: string, values: Float32Array): tfc.TensorInfo;
}

function conv2dBackpropFilter(args: {
  inputs: { x: tfc.TensorInfo; dy: tfc.TensorInfo };
  backend: unknown;
  attrs: Attrs;
}): tfc.TensorInfo {
  const { x, dy } = args.inputs;
  const { strides, pad, dataFormat, dimRoundingMode, filterShape } = args.attrs;
  if (dataFormat !== 'NHWC') throw new Error('fast Conv2DBackpropFilter: NHWC only');
  const backend = args.backend as CpuBackend;
  const info = tfc.backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number],
    filterShape,
    strides,
    1,
    pad,
    dimRoundingMode,
  );
  const [kH, kW, cIn, cOut] = filterShape;
  const [batch, inH, inW] = x.shape as number[];
  const { outHeight, outWidth, strideHeight, strideWidth } = info;
  const { top, left } = info.padInfo;
  const xs = backend.data.get(x.dataId).values;
  const dys = backend.data.get(dy.dataId).values;
  const dW = new Float32Array(kH * kW * cIn * cOut);
  for (let b = 0; b < batch!; b++) {
    for (let oh = 0; oh < outHeight; oh++) {
      for (let ow = 0; ow < outWidth; ow++) {
        const dyBase = ((b * outHeight + oh) * outWidth + ow) * cOut;
        for (let kh = 0; kh < kH; kh++) {
          const ih = oh * strideHeight + kh - top;
          if (ih < 0 || ih >= inH!) continue;
          for (let kw = 0; kw < kW; kw++) {
            const iw = ow * strideWidth + kw - left;
            if (iw < 0 || iw >= inW!) continue;
            const xBase = ((b * inH! + ih) * inW! + iw) * cIn;
            const wBase = (kh * kW + kw) * cIn * cOut;
            for (let ci = 0; ci < cIn; ci++) {
              const xv = xs[xBase + ci]!;
              if (xv === 0) continue;
              const row = wBase + ci * cOut;
              for (let co = 0; co < cOut; co++) dW[row + co]! += xv * dys[dyBase + co]!;
            }
          }
        }
      }
    }
  }
  return backend.makeTensorInfo(filterShape, 'float32', dW);
}

/** Replace the CPU backend's Conv2DBackpropFilter after checking it against the stock kernel. */
export function installFastConvFilterGrad(): void {
  const cases: [number[], number[], number, 'same' | 'valid'][] = [
    [[2, 7, 7, 3], [3, 3, 3, 4], 2, 'same'],
    [[2, 8, 8, 2], [3, 3, 2, 5], 1, 'valid'],
  ];
  const stock = cases.map(([xShape, wShape, s, pad]) =>
    tfc.tidy(() => {
      const xv = tfc.randomNormal(xShape, 0, 1, 'float32', 1);
      const grad = tfc.grad((w: tfc.Tensor4D) =>
        tfc.sum(tfc.square(tfc.conv2d(xv as tfc.Tensor4D, w, s, pad))),
      );
      return { x: xv, w: tfc.randomNormal(wShape, 0, 1, 'float32', 2), grad };
    }),
  );
  const expected = stock.map((c) => c.grad(c.w as tfc.Tensor4D).dataSync());
  tfc.unregisterKernel('Conv2DBackpropFilter', 'cpu');
  tfc.registerKernel({
    kernelName: 'Conv2DBackpropFilter',
    backendName: 'cpu',
    kernelFunc: conv2dBackpropFilter as unknown as tfc.KernelFunc,
  });
  stock.forEach((c, i) => {
    const got = c.grad(c.w as tfc.Tensor4D).dataSync();
    const want = expected[i]!;
    for (let j = 0; j < want.length; j++) {
      if (Math.abs(got[j]! - want[j]!) > 1e-3 * (1 + Math.abs(want[j]!))) {
        throw new Error(`fast Conv2DBackpropFilter differs at case ${i}, index ${j}`);
      }
    }
  });
}
