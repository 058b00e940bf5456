// TensorFlow's DataType enum (core/framework/types.proto) against our dtype names.
import type { Dtype } from '../../base/dtypes.js';
import type { ForeignDtype } from '../foreign.js';

const TO_OURS: ReadonlyMap<number, ForeignDtype> = new Map<number, ForeignDtype>([
  [1, 'F32'],
  [2, 'F64'],
  [3, 'I32'],
  [4, 'U8'],
  [5, 'I16'],
  [6, 'I8'],
  [7, 'STRING'],
  [9, 'I64'],
  [10, 'BOOL'],
  [14, 'BF16'],
  [17, 'U16'],
  [19, 'F16'],
  [22, 'U32'],
  [23, 'U64'],
]);

/** Types a bundle can hold that we refuse to import, with TensorFlow's name for the message. */
const REFUSED: ReadonlyMap<number, string> = new Map([
  [8, 'complex64'],
  [18, 'complex128'],
  [20, 'resource'],
  [21, 'variant'],
  [11, 'qint8'],
  [12, 'quint8'],
  [13, 'qint32'],
  [15, 'qint16'],
  [16, 'quint16'],
]);

const TO_TF: ReadonlyMap<ForeignDtype, number> = new Map([...TO_OURS].map(([code, name]) => [name, code]));

export function dtypeFromTf(code: number): ForeignDtype | { refused: string } {
  const ours = TO_OURS.get(code);
  if (ours !== undefined) return ours;
  return { refused: REFUSED.get(code) ?? `unknown DataType ${code}` };
}

export function dtypeToTf(dtype: Dtype): number | null {
  return TO_TF.get(dtype) ?? null;
}

/** Bytes per element; STRING has none (its elements vary). */
export function tfElementBytes(dtype: ForeignDtype): number | null {
  switch (dtype) {
    case 'STRING':
      return null;
    case 'BOOL':
    case 'U8':
    case 'I8':
      return 1;
    case 'F16':
    case 'BF16':
    case 'I16':
    case 'U16':
      return 2;
    case 'F32':
    case 'I32':
    case 'U32':
      return 4;
    case 'F64':
    case 'I64':
    case 'U64':
      return 8;
    default:
      return null;
  }
}
