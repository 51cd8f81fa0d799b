package org.mergelab.report;

import java.io.IOException;
import java.io.StringWriter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import tech.tablesaw.api.DoubleColumn;
import tech.tablesaw.api.LongColumn;
import tech.tablesaw.api.StringColumn;
import tech.tablesaw.api.Table;
import tech.tablesaw.io.csv.CsvWriteOptions;

/**
 * A report table for tables/NAME.csv, built row by row and written through Tablesaw: a column of integers becomes a
 * LongColumn, of other numbers a DoubleColumn, anything else a StringColumn (null = missing = an empty field).
 */
final class CsvTable {
    private final String name;
    private final List<String> declared;
    private final List<Map<String, Object>> rows = new ArrayList<>();

    CsvTable(String name) {
        this(name, List.of());
    }

    /** A table whose header lists {@code columns} first, even when it gets no rows. */
    CsvTable(String name, List<String> columns) {
        this.name = name;
        this.declared = List.copyOf(columns);
    }

    String name() {
        return name;
    }

    /** Starts a row; fill it with {@link Map#put} (column order = order of first appearance). */
    Map<String, Object> row() {
        Map<String, Object> r = new LinkedHashMap<>();
        rows.add(r);
        return r;
    }

    boolean isEmpty() {
        return rows.isEmpty();
    }

    Table toTablesaw() {
        Set<String> columns = new LinkedHashSet<>(declared);
        rows.forEach(r -> columns.addAll(r.keySet()));
        Table t = Table.create(name);
        for (String c : columns) {
            boolean integral = rows.stream().map(r -> r.get(c)).allMatch(v -> v == null || v instanceof Integer || v instanceof Long);
            boolean numeric = rows.stream().map(r -> r.get(c)).allMatch(v -> v == null || v instanceof Number);
            if (integral && rows.stream().anyMatch(r -> r.get(c) != null)) {
                LongColumn col = LongColumn.create(c);
                rows.forEach(r -> {
                    if (r.get(c) == null) {
                        col.appendMissing();
                    } else {
                        col.append(((Number) r.get(c)).longValue());
                    }
                });
                t.addColumns(col);
            } else if (numeric) {
                DoubleColumn col = DoubleColumn.create(c);
                for (Map<String, Object> r : rows) {
                    Object v = r.get(c);
                    if (v == null || Double.isNaN(((Number) v).doubleValue())) {
                        col.appendMissing();
                    } else {
                        col.append(((Number) v).doubleValue());
                    }
                }
                t.addColumns(col);
            } else {
                StringColumn col = StringColumn.create(c);
                rows.forEach(r -> col.append(r.get(c) == null ? "" : r.get(c).toString()));
                t.addColumns(col);
            }
        }
        return t;
    }

    String toCsv() throws IOException {
        if (rows.isEmpty()) { // Tablesaw's writer fails on a table without rows: the header alone, quoted the same way
            return declared.isEmpty() ? "" : declared.stream().map(c -> '"' + c.replace("\"", "\"\"") + '"')
                    .collect(java.util.stream.Collectors.joining(",", "", "\n"));
        }
        StringWriter w = new StringWriter();
        // every field quoted: RFC 4180 for any label (Tablesaw leaves a lone '"' unquoted otherwise)
        toTablesaw().write().csv(CsvWriteOptions.builder(w).quoteAllFields(true).escapeChar('"').lineEnd("\n")
                .build());
        return w.toString();
    }
}
