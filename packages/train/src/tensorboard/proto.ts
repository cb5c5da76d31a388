/**
 * The slice of TensorFlow's `Event` and `Summary` protos that gensynth writes, as a protobufjs
 * reflection root. Field numbers follow tensorflow/core/util/event.proto and
 * tensorflow/core/framework/summary.proto.
 */
import protobuf from 'protobufjs';

const SCHEMA = {
  nested: {
    tensorboard: {
      nested: {
        Event: {
          oneofs: { what: { oneof: ['fileVersion', 'summary', 'sessionLog'] } },
          fields: {
            wallTime: { type: 'double', id: 1 },
            step: { type: 'int64', id: 2 },
            fileVersion: { type: 'string', id: 3 },
            summary: { type: 'Summary', id: 5 },
            sessionLog: { type: 'SessionLog', id: 6 },
          },
        },
        SessionLog: {
          fields: {
            status: { type: 'int32', id: 1 },
            checkpointPath: { type: 'string', id: 2 },
            msg: { type: 'string', id: 3 },
          },
        },
        HistogramProto: {
          fields: {
            min: { type: 'double', id: 1 },
            max: { type: 'double', id: 2 },
            num: { type: 'double', id: 3 },
            sum: { type: 'double', id: 4 },
            sumSquares: { type: 'double', id: 5 },
            bucketLimit: { rule: 'repeated', type: 'double', id: 6, options: { packed: true } },
            bucket: { rule: 'repeated', type: 'double', id: 7, options: { packed: true } },
          },
        },
        Summary: {
          fields: { value: { rule: 'repeated', type: 'Value', id: 1 } },
          nested: {
            Image: {
              fields: {
                height: { type: 'int32', id: 1 },
                width: { type: 'int32', id: 2 },
                colorspace: { type: 'int32', id: 3 },
                encodedImageString: { type: 'bytes', id: 4 },
              },
            },
            Value: {
              oneofs: { value: { oneof: ['simpleValue', 'image', 'histo'] } },
              fields: {
                tag: { type: 'string', id: 1 },
                simpleValue: { type: 'float', id: 2 },
                image: { type: 'Image', id: 4 },
                histo: { type: 'HistogramProto', id: 5 },
              },
            },
          },
        },
      },
    },
  },
};

const root = protobuf.Root.fromJSON(SCHEMA);

/** The `tensorboard.Event` message type. */
export const EventType = root.lookupType('tensorboard.Event');

/** `SessionLog.SessionStatus.START`: TensorBoard drops events after this step from older files. */
export const SESSION_START = 1;

export interface HistogramMessage {
  min: number;
  max: number;
  num: number;
  sum: number;
  sumSquares: number;
  bucketLimit: number[];
  bucket: number[];
}

export interface SummaryValueMessage {
  tag: string;
  simpleValue?: number;
  image?: { height: number; width: number; colorspace: number; encodedImageString: Uint8Array };
  histo?: HistogramMessage;
}

export interface EventMessage {
  wallTime: number;
  step: number;
  fileVersion?: string;
  summary?: { value: SummaryValueMessage[] };
  sessionLog?: { status: number; msg?: string };
}

/** Serialise one event to protobuf bytes. */
export function encodeEvent(event: EventMessage): Uint8Array {
  return EventType.encode(EventType.create(event)).finish();
}
