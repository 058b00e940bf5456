// tfjs-backend-wasm 4.22 registers no Conv2DBackpropFilter kernel, so the gradient of every
// conv2d filter fails on 'wasm' ("Kernel 'Conv2DBackpropFilter' not registered"). Every other
// kernel that training conv2d → relu → maxPool → dense → softmax cross-entropy with Adam needs
// is present (Conv2DBackpropInput, MaxPoolGrad, BatchMatMul, …).
//
// The filter gradient is itself a convolution, so we build it from the wasm Conv2D kernel
// (XNNPACK) with the batch and channel axes swapped:
//   dW[a, b, c, o] = Σ_{n,i,j} xPadded[n, i·s + a, j·s + b, c] · dy[n, i, j, o]
//                  = conv2d(input = xPaddedᵀ [C, H', W', N], filter = dyᵀ [OH, OW, N, OC],
//                           stride 1, dilation s, 'valid')[c, a, b, o]
// We do not use the wasm Conv3DBackpropFilterV2 kernel with a depth of 1: in 4.22 it drops
// terms whenever a stride is above 1 (its loop bounds round the wrong way), and it is a plain
// loop that ran about 20× slower than XNNPACK on a 64×13×13×32 → 64 layer.
//
// Inside a kernel, tensors made by other kernels are raw TensorInfos that the engine does not
// track, so tidy() cannot clean them up; like tfjs's own composite wasm kernels we call the
// registered kernel functions directly and dispose every intermediate through the backend.
import {
  Conv2D,
  Conv2DBackpropFilter,
  type Conv2DBackpropFilterAttrs,
  type KernelBackend,
  type KernelConfig,
  type KernelFunc,
  type NamedAttrMap,
  type NamedTensorInfoMap,
  PadV2,
  Slice,
  type TensorInfo,
  Transpose,
  backend_util,
  getKernel,
  registerKernel,
} from '@tensorflow/tfjs';

const WASM = 'wasm';

type Shape4 = [number, number, number, number];

function runWasmKernel(name: string, inputs: NamedTensorInfoMap, attrs: NamedAttrMap, backend: KernelBackend): TensorInfo {
  const kernel = getKernel(name, WASM);
  if (kernel === undefined) {
    throw new Error(`the wasm backend has no ${name} kernel, which our ${Conv2DBackpropFilter} kernel is built from`);
  }
  const result = kernel.kernelFunc({ inputs, attrs, backend });
  const output = Array.isArray(result) ? result[0] : result;
  if (output === undefined) throw new Error(`the wasm ${name} kernel returned no tensor`);
  return output;
}

function shape4(info: TensorInfo, what: string): Shape4 {
  const [a, b, c, d, ...rest] = info.shape;
  if (a === undefined || b === undefined || c === undefined || d === undefined || rest.length > 0) {
    throw new Error(`${Conv2DBackpropFilter} on wasm needs a rank-4 ${what}, got shape [${info.shape.join(', ')}]`);
  }
  return [a, b, c, d];
}

/**
 * The input as the filter gradient sees it: padded as the forward pass padded it, and cut to
 * exactly the rows and columns that some output position reads, so a 'valid' convolution of it
 * yields the filter's size.
 */
function windowedInput(
  x: TensorInfo,
  pads: { top: number; left: number },
  needed: { height: number; width: number },
  backend: KernelBackend,
  temporaries: TensorInfo[],
): TensorInfo {
  const [batch, height, width, channels] = shape4(x, 'input');
  const bottom = needed.height - pads.top - height;
  const right = needed.width - pads.left - width;
  let result = x;
  if (bottom < 0 || right < 0) {
    result = runWasmKernel(
      Slice,
      { x: result },
      {
        begin: [0, 0, 0, 0],
        size: [batch, height + Math.min(0, bottom), width + Math.min(0, right), channels],
      },
      backend,
    );
    temporaries.push(result);
  }
  if (pads.top > 0 || pads.left > 0 || bottom > 0 || right > 0) {
    result = runWasmKernel(
      PadV2,
      { x: result },
      {
        paddings: [
          [0, 0],
          [pads.top, Math.max(0, bottom)],
          [pads.left, Math.max(0, right)],
          [0, 0],
        ],
        constantValue: 0,
      },
      backend,
    );
    temporaries.push(result);
  }
  return result;
}

function conv2DBackpropFilter(args: Parameters<KernelFunc>[0]): TensorInfo {
  const backend = args.backend as KernelBackend;
  const { x, dy } = args.inputs;
  if (x === undefined || dy === undefined || args.attrs === undefined) {
    throw new Error(`${Conv2DBackpropFilter} needs inputs x and dy and its attributes`);
  }
  const { strides, pad, dataFormat, dimRoundingMode, filterShape } = args.attrs as unknown as Conv2DBackpropFilterAttrs;
  if (dataFormat === 'NCHW') throw new Error(`${Conv2DBackpropFilter} on wasm supports NHWC only, got NCHW`);
  const info = backend_util.computeConv2DInfo(shape4(x, 'input'), filterShape, strides, 1, pad, dimRoundingMode);
  // dy's own size is the truth: tfjs's conv2d gradient does not forward dimRoundingMode.
  const [, outHeight, outWidth] = shape4(dy, 'output gradient');
  const needed = {
    height: (outHeight - 1) * info.strideHeight + info.filterHeight,
    width: (outWidth - 1) * info.strideWidth + info.filterWidth,
  };
  const temporaries: TensorInfo[] = [];
  try {
    const input = windowedInput(x, info.padInfo, needed, backend, temporaries);
    const batchAsChannels = runWasmKernel(Transpose, { x: input }, { perm: [3, 1, 2, 0] }, backend);
    temporaries.push(batchAsChannels);
    const dyAsFilter = runWasmKernel(Transpose, { x: dy }, { perm: [1, 2, 0, 3] }, backend);
    temporaries.push(dyAsFilter);
    const gradient = runWasmKernel(
      Conv2D,
      { x: batchAsChannels, filter: dyAsFilter },
      {
        strides: 1,
        pad: 'valid',
        dataFormat: 'NHWC',
        dilations: [info.strideHeight, info.strideWidth],
      },
      backend,
    );
    temporaries.push(gradient);
    // [C, FH, FW, OC] → [FH, FW, C, OC]
    return runWasmKernel(Transpose, { x: gradient }, { perm: [1, 2, 0, 3] }, backend);
  } finally {
    // Disposing dyAsFilter also frees the XNNPACK operator that wasm Conv2D caches per filter.
    for (const temporary of temporaries) backend.disposeData(temporary.dataId);
  }
}

export const wasmConv2DBackpropFilterConfig: KernelConfig = {
  kernelName: Conv2DBackpropFilter,
  backendName: WASM,
  kernelFunc: conv2DBackpropFilter,
};

/**
 * Adds the kernels the wasm backend lacks for training CNNs. Safe to call any number of times,
 * and a kernel that tfjs itself registers (a later version may) is left in place.
 */
export function registerWasmTrainingKernels(): void {
  for (const config of [wasmConv2DBackpropFilterConfig]) {
    if (getKernel(config.kernelName, config.backendName) === undefined) registerKernel(config);
  }
}
