package org.mergelab.eval;

import java.util.ArrayList;
import java.util.List;

import org.mergelab.BadInputException;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * A prompt template: literal text with {@code {field}} placeholders filled from a data row; {@code {{} and
 * {@code }}} are literal braces. A field must hold a string, number or boolean.
 */
final class PromptTemplate {
    private record Part(String text, boolean field) {}

    private final List<Part> parts;
    private final String where;

    private PromptTemplate(List<Part> parts, String where) {
        this.parts = parts;
        this.where = where;
    }

    /** @param where the template's place in its task file ("tasks/x.yaml:4"), for messages */
    static PromptTemplate parse(String template, String where) {
        List<Part> parts = new ArrayList<>();
        StringBuilder lit = new StringBuilder();
        int i = 0;
        while (i < template.length()) {
            char c = template.charAt(i);
            if ((c == '{' || c == '}') && i + 1 < template.length() && template.charAt(i + 1) == c) {
                lit.append(c);
                i += 2;
            } else if (c == '{') {
                int end = template.indexOf('}', i);
                String name = end < 0 ? "" : template.substring(i + 1, end).strip();
                if (end < 0 || name.isEmpty() || name.contains("{")) {
                    throw new BadInputException(where + ": prompt template has an unclosed or empty '{' at character "
                            + (i + 1) + "; write {field} for a field, {{ for a literal brace");
                }
                if (!lit.isEmpty()) {
                    parts.add(new Part(lit.toString(), false));
                    lit.setLength(0);
                }
                parts.add(new Part(name, true));
                i = end + 1;
            } else if (c == '}') {
                throw new BadInputException(where + ": prompt template has a lone '}' at character " + (i + 1)
                        + "; write }} for a literal brace");
            } else {
                lit.append(c);
                i++;
            }
        }
        if (!lit.isEmpty()) {
            parts.add(new Part(lit.toString(), false));
        }
        return new PromptTemplate(List.copyOf(parts), where);
    }

    /** @param row where the row is ("data.jsonl:7"), for messages */
    String render(JsonNode doc, String row) {
        StringBuilder out = new StringBuilder();
        for (Part p : parts) {
            if (!p.field()) {
                out.append(p.text());
                continue;
            }
            JsonNode v = doc.get(p.text());
            if (v == null || v.isNull()) {
                throw new BadInputException(row + ": no field '" + p.text() + "' (used by the prompt template at "
                        + where + ")");
            }
            if (!v.isValueNode()) {
                throw new BadInputException(row + ": field '" + p.text() + "' is " + kind(v)
                        + "; the prompt template needs text, a number or a boolean");
            }
            out.append(v.asText());
        }
        return out.toString();
    }

    static String kind(JsonNode v) {
        return v.isArray() ? "a list" : v.isObject() ? "an object" : v.isNull() ? "null" : "a " + v.getNodeType()
                .toString().toLowerCase(java.util.Locale.ROOT);
    }
}
