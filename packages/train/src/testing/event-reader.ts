/**
 * Test support: reads TensorBoard event files with code written from the published formats,
 * independent of the writer: TFRecord framing (tensorflow/core/lib/io/record_writer.cc), CRC-32C
 * computed bit by bit, and the protobuf wire format (varint, fixed32, fixed64, length-delimited).
 * Throws on a bad checksum.
 */
/** CRC-32C, bit at a time, reflected polynomial 0x82F63B78 (RFC 3720, appendix B.4). */
export function referenceCrc32c(bytes: Uint8Array): number {
  let crc = 0xffffffff;
  for (const byte of bytes) {
    crc ^= byte;
    for (let k = 0; k < 8; k++) crc = (crc >>> 1) ^ (0x82f63b78 & -(crc & 1));
  }
  return ~crc >>> 0;
}

function referenceMask(crc: number): number {
  const rotated = ((crc >>> 15) | (crc << 17)) >>> 0;
  return (rotated + 0xa282ead8) % 2 ** 32;
}

export function readRecords(file: Buffer): Buffer[] {
  const records: Buffer[] = [];
  let at = 0;
  while (at < file.length) {
    const lengthBytes = file.subarray(at, at + 8);
    const length = Number(lengthBytes.readBigUInt64LE(0));
    if (file.readUInt32LE(at + 8) !== referenceMask(referenceCrc32c(lengthBytes))) {
      throw new Error(`bad length CRC at byte ${at}`);
    }
    const data = file.subarray(at + 12, at + 12 + length);
    if (file.readUInt32LE(at + 12 + length) !== referenceMask(referenceCrc32c(data))) {
      throw new Error(`bad data CRC at byte ${at + 12 + length}`);
    }
    records.push(data);
    at += 12 + length + 4;
  }
  return records;
}

export type Field = { wire: number; varint?: bigint; bytes?: Buffer; fixed?: Buffer };

/** Protobuf message -> field number -> occurrences. */
export function decodeMessage(buf: Buffer): Map<number, Field[]> {
  const fields = new Map<number, Field[]>();
  let at = 0;
  const varint = (): bigint => {
    let result = 0n;
    let shift = 0n;
    for (;;) {
      const byte = buf[at++] as number;
      result |= BigInt(byte & 0x7f) << shift;
      if ((byte & 0x80) === 0) return result;
      shift += 7n;
    }
  };
  while (at < buf.length) {
    const key = Number(varint());
    const number = key >>> 3;
    const wire = key & 7;
    let field: Field;
    if (wire === 0) field = { wire, varint: varint() };
    else if (wire === 1) field = { wire, fixed: buf.subarray(at, (at += 8)) };
    else if (wire === 5) field = { wire, fixed: buf.subarray(at, (at += 4)) };
    else if (wire === 2) {
      const length = Number(varint());
      field = { wire, bytes: buf.subarray(at, (at += length)) };
    } else throw new Error(`unexpected wire type ${wire}`);
    fields.set(number, [...(fields.get(number) ?? []), field]);
  }
  return fields;
}

export const one = (m: Map<number, Field[]>, n: number): Field | undefined => m.get(n)?.[0];
export const str = (f: Field | undefined) => f?.bytes?.toString('utf8');
export const packedDoubles = (f: Field | undefined) =>
  Array.from({ length: (f?.bytes?.length ?? 0) / 8 }, (_, i) => f?.bytes?.readDoubleLE(i * 8));

export interface DecodedEvent {
  wallTime?: number;
  step: number;
  fileVersion?: string;
  values: Map<number, Field[]>[];
  sessionStatus?: number;
}

export function decodeEvent(data: Buffer): DecodedEvent {
  const event = decodeMessage(data);
  const summary = one(event, 5)?.bytes;
  const session = one(event, 6)?.bytes;
  return {
    wallTime: one(event, 1)?.fixed?.readDoubleLE(0),
    step: Number(one(event, 2)?.varint ?? 0n),
    fileVersion: str(one(event, 3)),
    values: summary
      ? (decodeMessage(summary).get(1) ?? []).map((v) => decodeMessage(v.bytes as Buffer))
      : [],
    sessionStatus: session ? Number(one(decodeMessage(session), 1)?.varint) : undefined,
  };
}

/** Scalars of decoded events as `{ step, tag, value }`. */
export function scalarsOf(events: DecodedEvent[]): { step: number; tag: string; value: number }[] {
  return events.flatMap((e) =>
    e.values
      .filter((v) => one(v, 2) !== undefined)
      .map((v) => ({
        step: e.step,
        tag: str(one(v, 1)) as string,
        value: one(v, 2)?.fixed?.readFloatLE(0) as number,
      })),
  );
}

/** Images of decoded events as `{ step, tag, height, width, colorspace, png }`. */
export function imagesOf(events: DecodedEvent[]) {
  return events.flatMap((e) =>
    e.values
      .filter((v) => one(v, 4) !== undefined)
      .map((v) => {
        const image = decodeMessage(one(v, 4)?.bytes as Buffer);
        return {
          step: e.step,
          tag: str(one(v, 1)),
          height: Number(one(image, 1)?.varint),
          width: Number(one(image, 2)?.varint),
          colorspace: Number(one(image, 3)?.varint),
          png: one(image, 4)?.bytes as Buffer,
        };
      }),
  );
}
