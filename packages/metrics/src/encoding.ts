/**
 * Base64 of typed arrays' bytes (little-endian, as on every platform tfjs runs on), in Node and
 * browsers alike.
 */

const NodeBuffer = (globalThis as { Buffer?: typeof Buffer }).Buffer;

export function bytesToBase64(bytes: Uint8Array): string {
  if (NodeBuffer)
    return NodeBuffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
  let binary = '';
  for (let i = 0; i < bytes.length; i += 0x8000) {
    binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(binary);
}

export function base64ToBytes(text: string): Uint8Array {
  if (NodeBuffer) {
    const buffer = NodeBuffer.from(text, 'base64');
    // copy into a fresh, aligned ArrayBuffer so typed-array views of any element size work
    return new Uint8Array(buffer);
  }
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

export function float64ToBase64(values: Float64Array): string {
  return bytesToBase64(new Uint8Array(values.buffer, values.byteOffset, values.byteLength));
}

/** Decode base64 bytes to `Float64Array`; `null` when the byte length is not a multiple of 8. */
export function base64ToFloat64(text: string): Float64Array | null {
  const bytes = base64ToBytes(text);
  if (bytes.byteLength % 8 !== 0) return null;
  return new Float64Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 8);
}

export function base64ToFloat32(text: string): Float32Array | null {
  const bytes = base64ToBytes(text);
  if (bytes.byteLength % 4 !== 0) return null;
  return new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
}
