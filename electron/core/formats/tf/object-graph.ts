// The TrackableObjectGraph a TF2 checkpoint stores under `_CHECKPOINTABLE_OBJECT_GRAPH`
// (core/protobuf/trackable_object_graph.proto): node 0 is the root; children give each object's
// local name; attributes give the bundle key of each saved tensor; an optimizer's slot_variables
// say which variable each slot belongs to.
import { ByteReader } from './byte-reader.js';
import { subReader, wireFields } from './protobuf-wire.js';

export const OBJECT_GRAPH_KEY = '_CHECKPOINTABLE_OBJECT_GRAPH';

export interface TrackableNode {
  readonly children: readonly { readonly nodeId: number; readonly localName: string }[];
  readonly attributes: readonly { readonly name: string; readonly checkpointKey: string }[];
  readonly slotVariables: readonly { readonly originalVariableNodeId: number; readonly slotName: string; readonly slotVariableNodeId: number }[];
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

function text(reader: ByteReader, bytes: Uint8Array, what: string): string {
  try {
    return utf8.decode(bytes);
  } catch {
    return reader.fail(`${what} is not valid UTF-8`);
  }
}

function nodeId(value: bigint, reader: ByteReader): number {
  if (value > 0x7fffffffn) reader.fail(`node id ${value} is out of range`);
  return Number(value);
}

export function decodeObjectGraph(bytes: Uint8Array, file: string, fileOffset: number): TrackableNode[] {
  const reader = new ByteReader(bytes, file, fileOffset);
  const nodes: TrackableNode[] = [];
  for (const f of wireFields(reader, 'object graph')) {
    if (f.field === 1 && f.wire === 2) nodes.push(decodeNode(subReader(reader, f)));
  }
  for (const node of nodes) {
    const ids = [...node.children.map((c) => c.nodeId), ...node.slotVariables.flatMap((s) => [s.originalVariableNodeId, s.slotVariableNodeId])];
    const bad = ids.find((id) => id >= nodes.length);
    if (bad !== undefined) reader.fail(`object graph refers to node ${bad} of ${nodes.length}`, 0);
  }
  return nodes;
}

function decodeNode(reader: ByteReader): TrackableNode {
  const children: TrackableNode['children'][number][] = [];
  const attributes: TrackableNode['attributes'][number][] = [];
  const slotVariables: TrackableNode['slotVariables'][number][] = [];
  for (const f of wireFields(reader, 'object graph node')) {
    if (f.wire !== 2) continue;
    const sub = subReader(reader, f);
    if (f.field === 1) {
      let id = 0;
      let localName = '';
      for (const c of wireFields(sub, 'object reference')) {
        if (c.field === 1 && c.wire === 0) id = nodeId(c.varint, sub);
        else if (c.field === 2 && c.wire === 2) localName = text(sub, c.bytes, 'a local name');
      }
      children.push({ nodeId: id, localName });
    } else if (f.field === 2) {
      let name = '';
      let checkpointKey = '';
      for (const a of wireFields(sub, 'serialized tensor')) {
        if (a.field === 1 && a.wire === 2) name = text(sub, a.bytes, 'an attribute name');
        else if (a.field === 3 && a.wire === 2) checkpointKey = text(sub, a.bytes, 'a checkpoint key');
      }
      attributes.push({ name, checkpointKey });
    } else if (f.field === 3) {
      let original = 0;
      let slotName = '';
      let slot = 0;
      for (const s of wireFields(sub, 'slot variable reference')) {
        if (s.field === 1 && s.wire === 0) original = nodeId(s.varint, sub);
        else if (s.field === 2 && s.wire === 2) slotName = text(sub, s.bytes, 'a slot name');
        else if (s.field === 3 && s.wire === 0) slot = nodeId(s.varint, sub);
      }
      slotVariables.push({ originalVariableNodeId: original, slotName, slotVariableNodeId: slot });
    }
  }
  return { children, attributes, slotVariables };
}
