export * from './errors';
export * from './logger';
export * from './rng';
export * from './types';
export * from './memory';
export * from './checks';
export * from './backend';
export { registerWasmTrainingKernels } from './kernels/wasm';
export { registerCpuKernelFixes } from './kernels/cpu';
