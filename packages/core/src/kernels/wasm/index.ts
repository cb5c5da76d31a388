/**
 * Training kernels that stock tfjs-backend-wasm lacks or gets wrong. Registered by
 * `initBackend` before the WASM backend is activated.
 */
let registered = false;

/** Register gensynth's WASM training kernels (idempotent). */
export function registerWasmTrainingKernels(): void {
  if (registered) return;
  registered = true;
}
