// kexue: machine-learning kernels for Node.js (native C++ and CUDA, WebAssembly SIMD, pure TS).
export { KexueError, type ErrorCode } from './errors.js';
export { Tensor, tensor, type DType, type TypedArray, type FloatArray, type Shape } from './tensor.js';
export { backends, setBackend, getBackend, setNumThreads, getNumThreads } from './backends/registry.js';
export type { BackendName, BackendChoice, BackendInfo } from './backends/types.js';
export type { OpOptions, RandomOptions } from './ops/args.js';
export {
  philox4x32,
  philox4x32Async,
  uniform,
  uniformAsync,
  normal,
  normalAsync,
  bernoulli,
  bernoulliAsync,
  type UniformOptions,
  type NormalOptions,
  type BernoulliOptions,
} from './ops/random.js';
export { dropout, dropoutAsync, type DropoutOptions, type DropoutResult } from './ops/dropout.js';
export {
  mlmMask,
  mlmMaskAsync,
  maeMask,
  maeMaskAsync,
  dropTokens,
  dropTokensAsync,
  expectedEmbedding,
  expectedEmbeddingAsync,
  keptTokens,
  type MlmOptions,
  type MlmResult,
  type MlmSplit,
  type MaeOptions,
  type MaeResult,
  type DropTokensOptions,
  type DropTokensResult,
  type ExpectedEmbeddingOptions,
} from './ops/masking.js';
export {
  attention,
  attentionAsync,
  attentionBackward,
  attentionBackwardAsync,
  type MaskKind,
  type AttentionOptions,
  type AttentionForwardOptions,
  type AttentionResult,
  type AttentionGradients,
} from './ops/attention.js';
export {
  cholesky,
  choleskyAsync,
  logdet,
  logdetAsync,
  solve,
  solveAsync,
  eigh,
  eighAsync,
  sqrtm,
  sqrtmAsync,
  gaussian,
  GaussianStats,
  frechetDistance,
  frechetDistanceAsync,
  SYM_TOL,
  type EighOptions,
  type EighResult,
  type W2Options,
  type SqrtmMethod,
  type SqrtmOptions,
  type SqrtmResult,
} from './ops/gaussian.js';
export { readNpy, writeNpy, readNpyFile, writeNpyFile, type WriteNpyOptions } from './io/npy.js';
export {
  quadrature,
  mlp,
  Mlp,
  integratedGradients,
  integratedGradientsAsync,
  tokenAttributions,
  fromTfjs,
  type IgMethod,
  type IgOptions,
  type IgResult,
  type Baseline,
  type ExternalModel,
  type MlpLayerSpec,
  type MlpActivation,
} from './ops/ig.js';
export { saveModel, loadModel, modelToBuffers, modelFromBuffers, type ModelJson } from './io/model.js';
export { attentionBlock, AttentionBlock, type AttentionBlockConfig } from './ops/attention_block.js';
export {
  sectorProbability,
  sectorProbabilityMonteCarlo,
  sectorProbabilityMonteCarloAsync,
  type SectorMonteCarloOptions,
  type SectorMonteCarloResult,
} from './ops/sector.js';
export { singularValues, attentionRank, type AttentionRank } from './ops/rank.js';
export { ttaStack, randomTtaWeights, type TtaWeights, type TtaLayer, type TtaOptions, type TtaResult, type RandomTtaOptions } from './ops/tta.js';
export {
  transformerForward,
  randomTransformer,
  validateTransformer,
  type TransformerConfig,
  type ResolvedTransformerConfig,
  type TransformerWeights,
  type TransformerLayer,
  type NormWeights,
  type TransformerNorm,
  type TransformerActivation,
  type TransformerForwardOptions,
  type TransformerOutput,
  type RandomTransformerOptions,
} from './ops/transformer.js';
export { widen, deepen, widenTo, type WidenOptions, type DeepenOptions, type WidenToOptions, type WidenToResult } from './ops/widen.js';
export {
  maskConsistency,
  dropTokenEquivalence,
  type MaskConsistencyOptions,
  type MaskConsistencyResult,
  type MaskVectorKind,
  type RateConsistency,
  type ExpectedEmbeddingConsistency,
  type DropTokenEquivalenceOptions,
  type DropTokenEquivalence,
} from './ops/consistency.js';
export {
  mlpInit,
  mlpForward,
  mlpForwardAsync,
  mlpBackward,
  mlpBackwardAsync,
  Adam,
  type MlpInit,
  type MlpInitOptions,
  type MlpCache,
  type MlpForwardOptions,
  type MlpForwardResult,
  type MlpBackwardOptions,
  type MlpGradients,
  type AdamOptions,
} from './ops/mlp_train.js';
export {
  ganQp,
  biganQp,
  type GanQpNorm,
  type GanQpLoss,
  type DistanceOptions,
  type CriticLossOptions,
  type BiganQpInputs,
  type BiganQpLosses,
} from './ops/ganqp.js';
export {
  trainGanQp,
  trainBiganQp,
  sampleW2,
  sampleRing,
  sampleCurve,
  type GanTrainOptions,
  type GanQpTrainOptions,
  type BiganQpTrainOptions,
  type GanTrainResult,
  type GanEval,
  type RingData,
} from './ops/gan_train.js';
