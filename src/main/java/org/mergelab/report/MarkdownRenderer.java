package org.mergelab.report;

import java.util.List;

/** Renders a {@link Document} as GitHub-flavoured Markdown; plots are linked image files. */
final class MarkdownRenderer {
    private MarkdownRenderer() {}

    static String render(Document doc) {
        StringBuilder sb = new StringBuilder("# ").append(escape(doc.title())).append("\n");
        for (Document.Block b : doc.blocks()) {
            sb.append('\n');
            switch (b) {
                case Document.Heading h -> sb.append("#".repeat(h.level())).append(' ').append(escape(h.text()))
                        .append('\n');
                case Document.Paragraph p -> sb.append(escape(p.text())).append('\n');
                case Document.Bullets l -> l.items().forEach(i -> sb.append("- ").append(escape(i)).append('\n'));
                case Document.Table t -> table(sb, t);
                case Document.Figure f -> {
                    sb.append("![").append(escape(f.title())).append("](").append(f.path()).append(")\n");
                    if (f.caption() != null) {
                        sb.append("\n*").append(escape(f.caption())).append("*\n");
                    }
                }
            }
        }
        return sb.toString();
    }

    private static void table(StringBuilder sb, Document.Table t) {
        if (t.caption() != null) {
            sb.append('*').append(escape(t.caption())).append("*\n\n");
        }
        row(sb, t.header().stream().map(Document.Entry::plain).toList());
        sb.append('|');
        for (int i = 0; i < t.header().size(); i++) {
            sb.append(i < t.textColumns() ? "---|" : "---:|");
        }
        sb.append('\n');
        t.rows().forEach(r -> row(sb, r));
    }

    private static void row(StringBuilder sb, List<Document.Entry> entries) {
        sb.append('|');
        for (Document.Entry e : entries) {
            String text = escape(e.text());
            sb.append(' ').append(e.bold() ? "**" + text + "**" : text).append(" |");
        }
        sb.append('\n');
    }

    /** Backslash-escapes what Markdown would read as formatting ("W/10*", "dare_ties", "a|b"). */
    static String escape(String s) {
        return s.replaceAll("([\\\\`*_\\[\\]|<>#])", "\\\\$1");
    }
}
