// Names and roles of bundle keys for the layouts the fixtures do not cover: TF1 optimizer slots of
// every kind, TF2 slots recorded in the object graph, and old-style `.OPTIMIZER_SLOT` keys.
import { describe, expect, it } from 'vitest';
import type { TrackableNode } from '../../electron/core/formats/tf/object-graph.js';
import { nameTensors, readablePath } from '../../electron/core/formats/tf/tensor-names.js';

const scalar = (name: string): { name: string; shape: number[] } => ({ name, shape: [] });

describe('TF1 Saver names', () => {
  it('gives slots their variable and optimizer scalars their role', () => {
    const keys = [
      'x',
      'x/Adam',
      'x/Adam_1',
      'x/Momentum',
      'x/RMSProp',
      'x/RMSProp_1',
      'x/ExponentialMovingAverage',
      'beta1_power',
      'beta2_power',
      'global_step',
      'orphan/Adam',
    ];
    const naming = nameTensors(keys.map(scalar), null);
    expect(naming.style).toBe('tf1');
    const row = (key: string): unknown => {
      const n = naming.names.get(key);
      return [n?.role, n?.slot?.variable ?? null, n?.slot?.name ?? null];
    };
    expect(keys.map(row)).toEqual([
      ['model', null, null],
      ['optimizer', 'x', 'Adam'],
      ['optimizer', 'x', 'Adam_1'],
      ['optimizer', 'x', 'Momentum'],
      ['optimizer', 'x', 'RMSProp'],
      ['optimizer', 'x', 'RMSProp_1'],
      ['other', 'x', 'ExponentialMovingAverage'],
      ['optimizer', null, null],
      ['optimizer', null, null],
      ['step', null, null],
      ['optimizer', null, null],
    ]);
    expect(naming.notes).toEqual(['orphan/Adam is named like the Adam slot of orphan, which the checkpoint does not hold.']);
  });
});

describe('TF2 object-based names', () => {
  const V = '/.ATTRIBUTES/VARIABLE_VALUE';
  const node = (children: [number, string][], key?: string, slots: [number, string, number][] = []): TrackableNode => ({
    children: children.map(([nodeId, localName]) => ({ nodeId, localName })),
    attributes: key === undefined ? [] : [{ name: 'VARIABLE_VALUE', checkpointKey: key }],
    slotVariables: slots.map(([originalVariableNodeId, slotName, slotVariableNodeId]) => ({ originalVariableNodeId, slotName, slotVariableNodeId })),
  });

  it('maps slots the graph records (OptimizerV2) and strips the attribute suffix for display', () => {
    const graph = [
      node([
        [1, 'model'],
        [3, 'optimizer'],
      ]),
      node([[2, 'kernel']]),
      node([], `model/kernel${V}`),
      node([[4, 'iter']], undefined, [
        [2, 'm', 5],
        [2, 'v', 6],
      ]),
      node([], `optimizer/iter${V}`),
      node([], `model/kernel/.OPTIMIZER_SLOT/optimizer/m${V}`),
      node([], `model/kernel/.OPTIMIZER_SLOT/optimizer/v${V}`),
    ];
    const keys = [
      `model/kernel${V}`,
      `optimizer/iter${V}`,
      `model/kernel/.OPTIMIZER_SLOT/optimizer/m${V}`,
      `model/kernel/.OPTIMIZER_SLOT/optimizer/v${V}`,
      `save_counter${V}`,
      '_CHECKPOINTABLE_OBJECT_GRAPH',
    ];
    const naming = nameTensors(keys.map(scalar), graph);
    expect(keys.map((k) => [naming.names.get(k)?.displayName, naming.names.get(k)?.role, naming.names.get(k)?.slot ?? null])).toEqual([
      ['model/kernel', 'model', null],
      ['optimizer/iter', 'optimizer', null],
      ['model/kernel/.OPTIMIZER_SLOT/optimizer/m', 'optimizer', { variable: `model/kernel${V}`, name: 'm' }],
      ['model/kernel/.OPTIMIZER_SLOT/optimizer/v', 'optimizer', { variable: `model/kernel${V}`, name: 'v' }],
      ['save_counter', 'other', null],
      ['_CHECKPOINTABLE_OBJECT_GRAPH', 'other', null],
    ]);
  });

  it('maps old-style slot keys without a graph entry for them', () => {
    const keys = [`net/w${V}`, `net/w/.OPTIMIZER_SLOT/opt/momentum${V}`];
    const naming = nameTensors(keys.map(scalar), [node([])]);
    expect(naming.names.get(keys[1] as string)?.slot).toEqual({ variable: `net/w${V}`, name: 'momentum' });
  });

  it('leaves a Keras variable list unmapped, with a note, when shapes do not pair up', () => {
    const graph = [
      node([[1, 'net']]),
      node([
        [2, 'w'],
        [3, 'optimizer'],
      ]),
      node([], `net/w${V}`),
      node([[4, '_variables']]),
      node([
        [5, '1'],
        [6, '2'],
      ]),
      node([], `net/optimizer/_variables/1${V}`),
      node([], `net/optimizer/_variables/2${V}`),
    ];
    const tensors = [
      { name: `net/w${V}`, shape: [3, 3] },
      { name: `net/optimizer/_variables/1${V}`, shape: [3, 3] },
      { name: `net/optimizer/_variables/2${V}`, shape: [4] },
    ];
    const naming = nameTensors(tensors, graph);
    expect(naming.names.get(`net/optimizer/_variables/1${V}`)).toEqual({ displayName: 'net/optimizer/_variables/1', role: 'optimizer' });
    expect(naming.notes.join(' ')).toMatch(/net\/optimizer\/_variables\/1…2 .*left unmapped/);
  });
});

describe('TF2 local names as people wrote them', () => {
  it('undoes TensorFlow\'s escaping of "." and "/" inside each name, and nothing else', () => {
    // _escape_local_name: "." becomes "..", then "/" becomes ".S".
    expect(readablePath('net/layer.Sdense/kernel..v2')).toBe('net/layer/dense/kernel.v2');
    expect(readablePath('a..Sb')).toBe('a.Sb');
    expect(readablePath('net/layer_with_weights-0/kernel')).toBe('net/layer_with_weights-0/kernel');
  });
});
