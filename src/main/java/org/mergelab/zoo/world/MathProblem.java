package org.mergelab.zoo.world;

import java.util.SplittableRandom;

/** {@code a + b} or {@code a - b} with a non-negative result. */
public record MathProblem(char op, int a, int b) {
    public MathProblem {
        if (op != '+' && op != '-') {
            throw new IllegalArgumentException("op must be + or -, not " + op);
        }
        if (a < 0 || b < 0 || op == '-' && a < b) {
            throw new IllegalArgumentException("operands must be non-negative and give a non-negative result");
        }
    }

    /** Operands uniform in [min, max], + or − with equal odds; for − the larger operand comes first. */
    static MathProblem random(SplittableRandom r, int min, int max) {
        int a = r.nextInt(min, max + 1);
        int b = r.nextInt(min, max + 1);
        return r.nextBoolean() ? new MathProblem('+', a, b) : new MathProblem('-', Math.max(a, b), Math.min(a, b));
    }

    public int answer() {
        return op == '+' ? a + b : a - b;
    }

    /** "What is 47 + 38?" */
    public String question() {
        return "What is " + a + " " + op + " " + b + "?";
    }

    /** What a hold-out is keyed by: an addition by its unordered pair, so 47 + 38 also holds out 38 + 47. */
    MathProblem key() {
        return op == '+' && a > b ? new MathProblem(op, b, a) : this;
    }
}
