// The wasm ABI: every export the host (src/wasm/core.ts) may call, and nothing else. All pointers are byte offsets
// into this module's linear memory, owned by the host's arena; kernels never allocate, never throw and never grow
// memory. Each kernel has a `*Scalar` twin (plain loops) used as a baseline and cross-check.

export { MR, NR, KC, MC, matmulWorkBytes, matmulNN, matmulNT, matmulTN,
         matmulNNScalar, matmulNTScalar, matmulTNScalar } from "./kernels/matmul";
export { matmulSparseWorkBytes, matmulSparseNN, matmulSparseTN, matmulSparseNNScalar,
         matmulSparseTNScalar } from "./kernels/matmul-sparse";
export { denseForwardOneWorkBytes, denseForwardOne, denseForwardOneScalar, mlpPredictOne } from "./kernels/forward-one";
export { biasReluForward, biasReluForwardScalar, reluBackward, reluBackwardScalar,
         biasBackward, biasBackwardScalar } from "./kernels/relu";
export { softmaxForward, softmaxForwardScalar, softmaxCrossEntropyForward, softmaxCrossEntropyBackward,
         softmaxCrossEntropyForwardScalar, softmaxCrossEntropyBackwardScalar } from "./kernels/softmax-xent";
export { sgdMomentumStep, sgdMomentumStepScalar, adamStep, adamStepScalar } from "./kernels/optim";
export { argmax, argmaxScalar } from "./kernels/argmax";
export { strokeRender, rampRender } from "./kernels/strokes";
export { bitsWorkBytes, coverageWorkBytes, bitsToMnist, coverageToMnist, coverageU8ToMnist, rasterInkBox, areaDownsample,
         rgbaCoverage } from "./kernels/mnist";

/** First free byte after the module's static data: the host's arena starts here. */
export function heapBase(): usize {
  return __heap_base;
}
