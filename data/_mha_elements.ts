// This module is browser compatible.
// MetaImage element types: bytes per value and how to read one, shared by the header check and the decoder.

/** How one MetaImage element type is stored. */
export interface ElementType {
  /** Bytes per value. */
  bytes: number;
  /** Reads the value at byte offset `o` (`le`: little-endian). */
  read: (v: DataView, o: number, le: boolean) => number;
}

/** The readable `ElementType`s. */
export const ELEMENT_TYPES: Readonly<Record<string, ElementType>> = {
  MET_UCHAR: { bytes: 1, read: (v, o) => v.getUint8(o) },
  MET_CHAR: { bytes: 1, read: (v, o) => v.getInt8(o) },
  MET_USHORT: { bytes: 2, read: (v, o, le) => v.getUint16(o, le) },
  MET_SHORT: { bytes: 2, read: (v, o, le) => v.getInt16(o, le) },
  MET_UINT: { bytes: 4, read: (v, o, le) => v.getUint32(o, le) },
  MET_INT: { bytes: 4, read: (v, o, le) => v.getInt32(o, le) },
  MET_ULONG: { bytes: 4, read: (v, o, le) => v.getUint32(o, le) },
  MET_LONG: { bytes: 4, read: (v, o, le) => v.getInt32(o, le) },
  MET_ULONG_LONG: { bytes: 8, read: (v, o, le) => Number(v.getBigUint64(o, le)) },
  MET_LONG_LONG: { bytes: 8, read: (v, o, le) => Number(v.getBigInt64(o, le)) },
  MET_FLOAT: { bytes: 4, read: (v, o, le) => v.getFloat32(o, le) },
  MET_DOUBLE: { bytes: 8, read: (v, o, le) => v.getFloat64(o, le) },
};
