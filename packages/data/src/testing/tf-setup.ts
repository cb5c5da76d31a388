/** Test-only: the CPU backend with gradients, and tfjs's Node.js hint silenced. */
import * as tf from '@tensorflow/tfjs-core';
// tfjs-layers' CommonJS bundle registers every gradient of tfjs-core (the core bundle does not).
import '@tensorflow/tfjs-layers';
import '@tensorflow/tfjs-backend-cpu';

export async function useCpuBackend(): Promise<typeof tf> {
  tf.env().set('PROD', true);
  await tf.setBackend('cpu');
  return tf;
}
