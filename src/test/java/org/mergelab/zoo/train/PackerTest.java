package org.mergelab.zoo.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;

import org.junit.jupiter.api.Test;
import org.mergelab.BadInputException;
import org.mergelab.zoo.CharTokenizer;
import org.mergelab.zoo.world.Example;

class PackerTest {
    static final int BOS = CharTokenizer.BOS;
    static final int EOS = CharTokenizer.EOS;
    static final int PAD = CharTokenizer.PAD;

    /** The examples round and round (a packer looks one example ahead, so sources are endless). */
    static Supplier<Example> of(Example... examples) {
        int[] next = {0};
        return () -> examples[next[0]++ % examples.length];
    }

    static int c(char ch) {
        return CharTokenizer.id(ch);
    }

    /** The row of context + 1 tokens the batch row was cut from. */
    static int[] row(Batch b, int r) {
        int[] t = new int[b.length() + 1];
        System.arraycopy(b.input()[r], 0, t, 0, b.length());
        t[b.length()] = b.target()[r][b.length() - 1];
        return t;
    }

    @Test
    void examplesAreAppendedWholeAndScoredOnCompletionAndEos() {
        // rows of 10 tokens: "Q?" + "ab" is 6 tokens, "xy" 4: both fit the first row exactly
        Batch b = new Packer(9).next(of(new Example("Q?", "ab"), Example.text("xy"), Example.text("z")), 2);
        assertArrayEquals(new int[] {BOS, c('Q'), c('?'), c('a'), c('b'), EOS, BOS, c('x'), c('y'), EOS}, row(b, 0));
        // mask[t] weighs target[t] = row[t + 1]: a, b, EOS of the first; x, y, EOS of the second (empty prompt)
        assertArrayEquals(new float[] {0, 0, 1, 1, 1, 0, 1, 1, 1}, b.mask()[0]);
        // then "z" (3 tokens) and "Q?ab" again (6); "xy" (4) does not fit the 1 left
        assertArrayEquals(new int[] {BOS, c('z'), EOS, BOS, c('Q'), c('?'), c('a'), c('b'), EOS, PAD}, row(b, 1));
        assertArrayEquals(new float[] {1, 1, 0, 0, 0, 1, 1, 1, 0}, b.mask()[1]);
        assertEquals(11, b.weight());
    }

    @Test
    void anExampleThatDoesNotFitOpensTheNextRowEvenInTheNextBatch() {
        Packer packer = new Packer(7); // rows of 8
        Supplier<Example> source = of(Example.text("abcd"), Example.text("efg"), Example.text("hi"));
        Batch first = packer.next(source, 1);
        assertArrayEquals(new int[] {BOS, c('a'), c('b'), c('c'), c('d'), EOS, PAD, PAD}, row(first, 0));
        Batch second = packer.next(source, 1);
        assertArrayEquals(new int[] {BOS, c('e'), c('f'), c('g'), EOS, PAD, PAD, PAD}, row(second, 0),
                "'efg' carried over; BOS + 'hi' + EOS (4 tokens) does not fit the 3 left");
        assertArrayEquals(new int[] {BOS, c('h'), c('i'), EOS, PAD, PAD, PAD, PAD}, row(packer.next(source, 1), 0));
    }

    @Test
    void deterministic() {
        List<Example> docs = new ArrayList<>();
        for (int i = 0; i < 50; i++) {
            docs.add(new Example("p" + i + ":", "x".repeat(i % 13)));
        }
        Batch a = new Packer(32).next(of(docs.toArray(Example[]::new)), 6);
        Batch b = new Packer(32).next(of(docs.toArray(Example[]::new)), 6);
        for (int r = 0; r < 6; r++) {
            assertArrayEquals(a.input()[r], b.input()[r]);
            assertArrayEquals(a.target()[r], b.target()[r]);
            assertArrayEquals(a.mask()[r], b.mask()[r]);
        }
    }

    @Test
    void anExampleLongerThanARowIsBadInput() {
        BadInputException e = assertThrows(BadInputException.class,
                () -> new Packer(8).next(of(Example.text("12345678")), 1));
        assertTrue(e.getMessage().contains("8 characters"), e.getMessage());
        new Packer(9).next(of(Example.text("12345678")), 1); // BOS + 8 + EOS = 10 = context + 1 fits
    }
}
