package org.mergelab.eval;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * An ONNX graph under construction, serialized as a ModelProto with {@link ProtoWriter}. Field numbers are those of
 * onnx.proto:
 *
 * <pre>
 * ModelProto      1 ir_version, 2 producer_name, 3 producer_version, 7 graph, 8 opset_import{1 domain, 2 version}
 * GraphProto      1 node, 2 name, 5 initializer, 11 input, 12 output
 * NodeProto       1 input, 2 output, 3 name, 4 op_type, 5 attribute, 7 domain
 * AttributeProto  1 name, 2 f, 3 i, 8 ints, 20 type (FLOAT 1, INT 2, INTS 7)
 * TensorProto     1 dims, 2 data_type, 8 name, 9 raw_data, 13 external_data{1 key, 2 value}, 14 data_location
 * ValueInfoProto  1 name, 2 type{1 tensor_type{1 elem_type, 2 shape{1 dim{1 dim_value | 2 dim_param}}}}
 * </pre>
 *
 * Weights are declared as external-data initializers with no file behind them: the session supplies their values
 * ({@code addExternalInitializers}), so the graph stays a few kilobytes and is built once per architecture.
 */
final class OnnxGraph {
    /** TensorProto.DataType values used here. */
    enum Type {
        FLOAT(1), INT64(7), BOOL(9);

        final int code;

        Type(int code) {
            this.code = code;
        }
    }

    /** A node attribute: an int, a list of ints or a float. */
    record Attr(String name, int type, long i, long[] ints, float f) {
        static Attr i(String name, long value) {
            return new Attr(name, 2, value, null, 0);
        }

        static Attr ints(String name, long... values) {
            return new Attr(name, 7, 0, values, 0);
        }

        static Attr f(String name, float value) {
            return new Attr(name, 1, 0, null, value);
        }
    }

    /** Location recorded for external weights; never opened, every such initializer is supplied in memory. */
    static final String EXTERNAL_LOCATION = "mergelab-weights-in-memory.bin";

    private final String name;
    private final List<ProtoWriter> nodes = new ArrayList<>();
    private final List<ProtoWriter> initializers = new ArrayList<>();
    private final List<ProtoWriter> inputs = new ArrayList<>();
    private final List<ProtoWriter> outputs = new ArrayList<>();
    private final Set<String> names = new HashSet<>();
    private final List<String> externalNames = new ArrayList<>();

    OnnxGraph(String name) {
        this.name = name;
    }

    /** A graph input; each dim is a Long (fixed) or a String (symbolic, e.g. "batch"). */
    String input(String name, Type type, Object... dims) {
        claim(name);
        inputs.add(valueInfo(name, type, dims));
        return name;
    }

    void output(String name, Type type, Object... dims) {
        outputs.add(valueInfo(name, type, dims));
    }

    /** A float32 initializer whose data the session supplies: named and shaped exactly as the HF tensor. */
    String externalWeight(String name, long... dims) {
        claim(name);
        ProtoWriter t = tensorHeader(name, Type.FLOAT, dims);
        t.message(13, new ProtoWriter().string(1, "location").string(2, EXTERNAL_LOCATION));
        t.message(13, new ProtoWriter().string(1, "length").string(2, Long.toString(4 * numel(dims))));
        t.int64(14, 1); // DataLocation.EXTERNAL
        initializers.add(t);
        externalNames.add(name);
        return name;
    }

    /** A small float32 constant stored in the graph. */
    String constant(String name, float[] values, long... dims) {
        claim(name);
        ByteBuffer b = ByteBuffer.allocate(4 * values.length).order(ByteOrder.LITTLE_ENDIAN);
        for (float v : values) {
            b.putFloat(v);
        }
        initializers.add(tensorHeader(name, Type.FLOAT, dims).bytes(9, b.array()));
        return name;
    }

    /** A small int64 constant stored in the graph (shapes, axes, indices). */
    String constant(String name, long[] values, long... dims) {
        claim(name);
        ByteBuffer b = ByteBuffer.allocate(8 * values.length).order(ByteOrder.LITTLE_ENDIAN);
        for (long v : values) {
            b.putLong(v);
        }
        initializers.add(tensorHeader(name, Type.INT64, dims).bytes(9, b.array()));
        return name;
    }

    /** A one-output node; its output is named {@code output}. An empty input name is an omitted optional input. */
    String node(String op, String output, List<String> in, Attr... attrs) {
        return node(op, new String[] {output}, in, attrs)[0];
    }

    String[] node(String op, String[] out, List<String> in, Attr... attrs) {
        ProtoWriter n = new ProtoWriter();
        for (String i : in) {
            n.string(1, i);
        }
        for (String o : out) {
            claim(o);
            n.string(2, o);
        }
        n.string(3, out[0]);
        n.string(4, op);
        for (Attr a : attrs) {
            ProtoWriter w = new ProtoWriter().string(1, a.name());
            switch (a.type()) {
                case 1 -> w.float32(2, a.f());
                case 2 -> w.int64(3, a.i());
                case 7 -> {
                    for (long v : a.ints()) {
                        w.int64(8, v);
                    }
                }
                default -> throw new IllegalStateException("attribute type " + a.type());
            }
            n.message(5, w.int64(20, a.type()));
        }
        nodes.add(n);
        return out;
    }

    /** Names of the external weights, in declaration order. */
    List<String> externalWeights() {
        return List.copyOf(externalNames);
    }

    /** The ModelProto bytes. IR 10 and opset 21 are what ONNX Runtime 1.29 was measured to load here. */
    byte[] toModel(int irVersion, int opset) {
        ProtoWriter g = new ProtoWriter();
        nodes.forEach(n -> g.message(1, n));
        g.string(2, name);
        initializers.forEach(t -> g.message(5, t));
        inputs.forEach(v -> g.message(11, v));
        outputs.forEach(v -> g.message(12, v));
        return new ProtoWriter()
                .int64(1, irVersion)
                .string(2, "mergelab")
                .string(3, org.mergelab.Version.get())
                .message(7, g)
                .message(8, new ProtoWriter().string(1, "").int64(2, opset))
                .toByteArray();
    }

    private void claim(String value) {
        if (!names.add(value)) {
            throw new IllegalStateException("graph value '" + value + "' defined twice");
        }
    }

    private static ProtoWriter tensorHeader(String name, Type type, long[] dims) {
        ProtoWriter t = new ProtoWriter();
        for (long d : dims) {
            t.int64(1, d);
        }
        return t.int64(2, type.code).string(8, name);
    }

    private static ProtoWriter valueInfo(String name, Type type, Object[] dims) {
        ProtoWriter shape = new ProtoWriter();
        for (Object d : dims) {
            ProtoWriter dim = new ProtoWriter();
            if (d instanceof String s) {
                dim.string(2, s);
            } else {
                dim.int64(1, ((Number) d).longValue());
            }
            shape.message(1, dim);
        }
        ProtoWriter tensorType = new ProtoWriter().int64(1, type.code).message(2, shape);
        return new ProtoWriter().string(1, name).message(2, new ProtoWriter().message(1, tensorType));
    }

    private static long numel(long[] dims) {
        long n = 1;
        for (long d : dims) {
            n = Math.multiplyExact(n, d);
        }
        return n;
    }
}
