package org.mergelab.merge.methods;

import static org.mergelab.merge.methods.TaskVectorKernels.DH;
import static org.mergelab.merge.methods.TaskVectorKernels.F;
import static org.mergelab.merge.methods.TaskVectorKernels.I;

import java.lang.foreign.MemorySegment;

import org.mergelab.io.FloatCodec;
import org.mergelab.merge.ChunkKernel;
import org.mergelab.merge.methods.TaskVectorKernels.Lanes;

import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * Task arithmetic of one or two models without a sparsifier in one pass per element,
 * {@code out = b + outer·(c0·(x0 − b) + c1·(x1 − b))}: the task vectors in float32 and the sum in float64, the same
 * operations in the same order as {@link GeneralizedTaskArithmetic}'s general loop (the first term added to 0), without
 * writing τ and the sums to arrays and reading them back. Over three stored bf16 inputs it reads them straight from
 * memory once its lanes are compiled.
 *
 * @param x1 the second model's input, or -1 for one model
 */
record TaskSum(int base, int x0, double c0, int x1, double c1, double outer) implements ChunkKernel {
    @Override
    public void apply(long offset, float[][] in, float[] out, int n) {
        if (x1 < 0) {
            oneModel(in[base], in[x0], c0, outer, out, n);
        } else {
            twoModels(in[base], in[x0], c0, in[x1], c1, outer, out, n);
        }
    }

    @Override
    public boolean applyBf16(long offset, MemorySegment[] bf16, float[] out, int n, int[] largest) {
        // every input's largest magnitude is wanted: only when the inputs are these three
        if (!TaskVectorKernels.VECTOR || x1 < 0 || bf16.length != 3 || !Lanes.TASK_SUM_BF16.runsOrProbes(n,
                () -> twoModelsBf16(bf16[base], bf16[x0], bf16[x1], offset, TaskVectorKernels.PROBE, c0, c1, outer,
                        out, new int[3], 0, 1, 2))) {
            return false;
        }
        twoModelsBf16(bf16[base], bf16[x0], bf16[x1], offset, n, c0, c1, outer, out, largest, base, x0, x1);
        return true;
    }

    /** C2 vectorizes this loop itself. */
    static void twoModels(float[] b, float[] x0, double c0, float[] x1, double c1, double outer, float[] out,
            int n) {
        for (int j = 0; j < n; j++) {
            double sum = 0 + c0 * (x0[j] - b[j]);
            sum += c1 * (x1[j] - b[j]);
            out[j] = (float) (b[j] + outer * sum);
        }
    }

    static void oneModel(float[] b, float[] x0, double c0, double outer, float[] out, int n) {
        for (int j = 0; j < n; j++) {
            double sum = 0 + c0 * (x0[j] - b[j]);
            out[j] = (float) (b[j] + outer * sum);
        }
    }

    /** Floats with as many lanes as {@link TaskVectorKernels#DH}: one half of an {@code F} vector. */
    private static final VectorSpecies<Float> FH = VectorSpecies.of(float.class,
            VectorShape.forBitSize(Math.max(64, F.vectorBitSize() / 2)));

    /**
     * {@link #twoModels} over elements {@code [offset, offset + n)} of stored bf16 tensors: the same operations per
     * element; the inputs' largest magnitude bits go to {@code largest[ib]}, {@code largest[i0]}, {@code largest[i1]}.
     */
    static void twoModelsBf16(MemorySegment b, MemorySegment x0, MemorySegment x1, long offset, int n, double c0,
            double c1, double outer, float[] out, int[] largest, int ib, int i0, int i1) {
        DoubleVector zero = DoubleVector.zero(DH);
        IntVector lb = IntVector.zero(I);
        IntVector l0 = IntVector.zero(I);
        IntVector l1 = IntVector.zero(I);
        int half = DH.length();
        int i = 0;
        for (int upper = n - F.length() + 1; i < upper; i += F.length()) {
            FloatVector vb = FloatCodec.bf16Lanes(b, offset + i);
            FloatVector v0 = FloatCodec.bf16Lanes(x0, offset + i);
            FloatVector v1 = FloatCodec.bf16Lanes(x1, offset + i);
            lb = lb.max(vb.reinterpretAsInts().and(0x7fffffff));
            l0 = l0.max(v0.reinterpretAsInts().and(0x7fffffff));
            l1 = l1.max(v1.reinterpretAsInts().and(0x7fffffff));
            FloatVector t0 = v0.sub(vb);
            FloatVector t1 = v1.sub(vb);
            for (int part = 0; part < 2; part++) {
                DoubleVector sum = zero.add(((DoubleVector) t0.convertShape(VectorOperators.F2D, DH, part)).mul(c0))
                        .add(((DoubleVector) t1.convertShape(VectorOperators.F2D, DH, part)).mul(c1));
                DoubleVector r = ((DoubleVector) vb.convertShape(VectorOperators.F2D, DH, part)).add(sum.mul(outer));
                ((FloatVector) r.convertShape(VectorOperators.D2F, FH, 0)).intoArray(out, i + part * half);
            }
        }
        int mb = lb.reduceLanes(VectorOperators.MAX);
        int m0 = l0.reduceLanes(VectorOperators.MAX);
        int m1 = l1.reduceLanes(VectorOperators.MAX);
        for (; i < n; i++) {
            int bb = FloatCodec.bf16Bits(b, offset + i);
            int b0 = FloatCodec.bf16Bits(x0, offset + i);
            int b1 = FloatCodec.bf16Bits(x1, offset + i);
            mb = Math.max(mb, bb & 0x7fffffff);
            m0 = Math.max(m0, b0 & 0x7fffffff);
            m1 = Math.max(m1, b1 & 0x7fffffff);
            float fb = Float.intBitsToFloat(bb);
            double sum = 0 + c0 * (Float.intBitsToFloat(b0) - fb);
            sum += c1 * (Float.intBitsToFloat(b1) - fb);
            out[i] = (float) (fb + outer * sum);
        }
        largest[ib] = mb;
        largest[i0] = m0;
        largest[i1] = m1;
    }
}
