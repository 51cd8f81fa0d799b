package org.mergelab.report;

import java.util.ArrayList;
import java.util.List;

/**
 * A report's content as blocks, rendered twice (Markdown, HTML) so both always show the same tables and text.
 * Text is plain: each renderer escapes it for its format.
 */
final class Document {
    sealed interface Block permits Heading, Paragraph, Bullets, Table, Figure {}

    record Heading(int level, String text) implements Block {}

    record Paragraph(String text) implements Block {}

    record Bullets(List<String> items) implements Block {}

    /**
     * A table; the first {@code textColumns} columns hold names (left-aligned), the rest numbers (right-aligned);
     * {@code caption} says how to read its cells.
     */
    record Table(List<String> header, List<List<Entry>> rows, int textColumns, String caption) implements Block {}

    /** A table cell; bold marks the best value of its column. */
    record Entry(String text, boolean bold) {
        static Entry plain(String text) {
            return new Entry(text, false);
        }
    }

    /** A plot: {@code path} relative to the report folder (Markdown links it, HTML embeds {@code png}). */
    record Figure(String path, String title, String caption, byte[] png) implements Block {}

    private final String title;
    private final List<Block> blocks = new ArrayList<>();

    Document(String title) {
        this.title = title;
    }

    String title() {
        return title;
    }

    List<Block> blocks() {
        return blocks;
    }

    Document heading(int level, String text) {
        blocks.add(new Heading(level, text));
        return this;
    }

    Document paragraph(String text) {
        blocks.add(new Paragraph(text));
        return this;
    }

    Document bullets(List<String> items) {
        if (!items.isEmpty()) {
            blocks.add(new Bullets(List.copyOf(items)));
        }
        return this;
    }

    Document table(Table t) {
        blocks.add(t);
        return this;
    }

    Document figure(Figure f) {
        blocks.add(f);
        return this;
    }
}
