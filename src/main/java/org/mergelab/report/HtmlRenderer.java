package org.mergelab.report;

import java.util.Base64;
import java.util.List;

/**
 * Renders a {@link Document} as one self-contained HTML page: inline style, plots embedded as PNG data URIs, no
 * external references, so the file can be mailed or archived alone.
 */
final class HtmlRenderer {
    private HtmlRenderer() {}

    private static final String STYLE = """
            body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;max-width:72rem;margin:2rem auto;\
            padding:0 1rem;color:#222;line-height:1.45}
            table{border-collapse:collapse;margin:0.5rem 0 1.5rem;font-size:0.92rem}
            th,td{border:1px solid #ccc;padding:0.25rem 0.6rem;text-align:right;white-space:nowrap}
            .text{text-align:left}
            th{background:#f2f2f2}
            .caption{color:#555;font-style:italic;margin:0.3rem 0}
            figure{margin:1rem 0 2rem}
            img{max-width:100%;border:1px solid #eee}
            """;

    static String render(Document doc) {
        StringBuilder sb = new StringBuilder("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n")
                .append("<title>").append(escape(doc.title())).append("</title>\n<style>\n").append(STYLE)
                .append("</style>\n</head>\n<body>\n<h1>").append(escape(doc.title())).append("</h1>\n");
        for (Document.Block b : doc.blocks()) {
            switch (b) {
                case Document.Heading h -> sb.append("<h").append(h.level()).append('>').append(escape(h.text()))
                        .append("</h").append(h.level()).append(">\n");
                case Document.Paragraph p -> sb.append("<p>").append(escape(p.text())).append("</p>\n");
                case Document.Bullets l -> {
                    sb.append("<ul>\n");
                    l.items().forEach(i -> sb.append("<li>").append(escape(i)).append("</li>\n"));
                    sb.append("</ul>\n");
                }
                case Document.Table t -> table(sb, t);
                case Document.Figure f -> {
                    sb.append("<figure>\n<img alt=\"").append(escape(f.title())).append("\" src=\"data:image/png;base64,")
                            .append(Base64.getEncoder().encodeToString(f.png())).append("\">\n");
                    if (f.caption() != null) {
                        sb.append("<figcaption class=\"caption\">").append(escape(f.caption()))
                                .append("</figcaption>\n");
                    }
                    sb.append("</figure>\n");
                }
            }
        }
        return sb.append("</body>\n</html>\n").toString();
    }

    private static void table(StringBuilder sb, Document.Table t) {
        if (t.caption() != null) {
            sb.append("<p class=\"caption\">").append(escape(t.caption())).append("</p>\n");
        }
        sb.append("<table>\n<thead><tr>");
        for (int i = 0; i < t.header().size(); i++) {
            sb.append(i < t.textColumns() ? "<th class=\"text\">" : "<th>").append(escape(t.header().get(i)))
                    .append("</th>");
        }
        sb.append("</tr></thead>\n<tbody>\n");
        for (List<Document.Entry> row : t.rows()) {
            sb.append("<tr>");
            for (int i = 0; i < row.size(); i++) {
                Document.Entry e = row.get(i);
                String text = escape(e.text());
                sb.append(i < t.textColumns() ? "<td class=\"text\">" : "<td>")
                        .append(e.bold() ? "<b>" + text + "</b>" : text).append("</td>");
            }
            sb.append("</tr>\n");
        }
        sb.append("</tbody>\n</table>\n");
    }

    static String escape(String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
    }
}
