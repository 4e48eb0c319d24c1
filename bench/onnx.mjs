// A minimal ONNX model writer for the benches: encodes a ModelProto (onnx.proto3 field numbers)
// with plain protobuf wire encoding, so a bench builds its model itself instead of shipping a
// binary or needing python-onnx. Supports what the benches use: graph inputs / outputs with float
// (or other elem_type) tensor types and fixed or symbolic dims, nodes with int / float / string /
// ints attributes and a domain, float32 initializers.

// TensorProto.DataType
export const ELEM = { FLOAT: 1, UINT8: 2, INT8: 3, INT32: 6, INT64: 7, BOOL: 9, DOUBLE: 11 }
// AttributeProto.AttributeType
const ATTR = { FLOAT: 1, INT: 2, STRING: 3, FLOATS: 6, INTS: 7 }

const utf8 = new TextEncoder()

class Writer {
  constructor () { this.parts = []; this.length = 0 }
  push (bytes) { this.parts.push(bytes); this.length += bytes.length; return this }
  varint (v) { // non-negative integer (< 2^53) or a bigint (two's complement 64-bit for negatives)
    let x = BigInt.asUintN(64, BigInt(v))
    const out = []
    do {
      let b = Number(x & 0x7fn)
      x >>= 7n
      if (x) b |= 0x80
      out.push(b)
    } while (x)
    return this.push(Uint8Array.from(out))
  }
  tag (field, wire) { return this.varint((field << 3) | wire) }
  int (field, v) { return this.tag(field, 0).varint(v) }
  float (field, v) { // fixed32
    const b = new Uint8Array(4)
    new DataView(b.buffer).setFloat32(0, v, true)
    return this.tag(field, 5).push(b)
  }
  bytes (field, b) { return this.tag(field, 2).varint(b.length).push(b) }
  string (field, s) { return this.bytes(field, utf8.encode(s)) }
  message (field, fill) { // fill(writer) writes the sub-message
    const w = new Writer()
    fill(w)
    return this.bytes(field, w.finish())
  }
  finish () {
    const out = new Uint8Array(this.length)
    let o = 0
    for (const p of this.parts) { out.set(p, o); o += p.length }
    return out
  }
}

// ValueInfoProto { 1 name, 2 type: TypeProto { 1 tensor_type: { 1 elem_type, 2 shape: { 1 dim: { 1 dim_value | 2 dim_param } } } } }
function valueInfo (w, { name, elemType = ELEM.FLOAT, shape }) {
  w.string(1, name)
  w.message(2, (t) => t.message(1, (tt) => {
    tt.int(1, elemType)
    tt.message(2, (s) => {
      for (const d of shape) s.message(1, (dim) => (typeof d === 'number' ? dim.int(1, d) : dim.string(2, d)))
    })
  }))
}

// AttributeProto { 1 name, 20 type, 2 f, 3 i, 4 s, 7 floats, 8 ints }
function attribute (w, name, value) {
  w.string(1, name)
  if (typeof value === 'string') { w.int(20, ATTR.STRING).string(4, value); return }
  if (Array.isArray(value)) { w.int(20, ATTR.INTS); for (const v of value) w.int(8, v); return }
  if (typeof value === 'object' && value !== null && 'float' in value) { w.int(20, ATTR.FLOAT).float(2, value.float); return }
  if (Number.isInteger(value) || typeof value === 'bigint') { w.int(20, ATTR.INT).int(3, value); return }
  w.int(20, ATTR.FLOAT).float(2, value) // non-integer number
}

// NodeProto { 1 input, 2 output, 3 name, 4 op_type, 5 attribute, 7 domain }; '' = an omitted optional input
function node (w, { op, inputs, outputs, name = op, domain = '', attrs = {} }) {
  for (const i of inputs) w.string(1, i)
  for (const o of outputs) w.string(2, o)
  w.string(3, name)
  w.string(4, op)
  for (const [k, v] of Object.entries(attrs)) w.message(5, (a) => attribute(a, k, v))
  if (domain) w.string(7, domain)
}

// TensorProto { 1 dims, 2 data_type, 8 name, 9 raw_data } (float32 only)
function initializer (w, { name, dims, data }) {
  for (const d of dims) w.int(1, d)
  w.int(2, ELEM.FLOAT)
  w.string(8, name)
  w.bytes(9, new Uint8Array(data.buffer, data.byteOffset, data.byteLength))
}

/**
 * Serializes a one-graph model.
 * spec: { nodes: [{ op, inputs, outputs, domain?, attrs? }], inputs: [{ name, shape, elemType? }],
 *         outputs: [...], initializers?: [{ name, dims, data: Float32Array }],
 *         opsets?: { '': 21, 'com.microsoft': 1 }, irVersion? }
 * Attribute values: integer -> INT, { float: x } or a non-integer number -> FLOAT, string -> STRING, int[] -> INTS.
 */
export function onnxModel ({ nodes, inputs, outputs, initializers = [], opsets = { '': 21 }, irVersion = 10, name = 'bench' }) {
  const m = new Writer()
  m.int(1, irVersion) // ir_version
  m.string(2, 'kexue-bench') // producer_name
  m.message(7, (g) => { // graph
    for (const n of nodes) g.message(1, (w) => node(w, n))
    g.string(2, name)
    for (const t of initializers) g.message(5, (w) => initializer(w, t))
    for (const i of inputs) g.message(11, (w) => valueInfo(w, i))
    for (const o of outputs) g.message(12, (w) => valueInfo(w, o))
  })
  for (const [domain, version] of Object.entries(opsets)) m.message(8, (o) => { if (domain) o.string(1, domain); o.int(2, version) })
  return m.finish()
}
