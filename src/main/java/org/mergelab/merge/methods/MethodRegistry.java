package org.mergelab.merge.methods;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import org.mergelab.merge.MergeMethod;

/** Every merge method, by its {@code merge_method} name. A new method is one file plus one line here. */
public final class MethodRegistry {
    private static final Map<String, MergeMethod> METHODS = new LinkedHashMap<>();

    static {
        register(new Linear());
        register(new Slerp());
        register(new Nlerp());
        register(new Delerp());
        register(new Nuslerp());
        register(new Multislerp());
        register(new Karcher());
        register(new Nearswap());
        register(new Passthrough());
        register(new TaskArithmetic());
        register(new Ties());
        register(new DareLinear());
        register(new DareTies());
        register(new Breadcrumbs());
        register(new BreadcrumbsTies());
        register(new Della());
        register(new DellaLinear());
        register(new ModelStock());
        register(new Sce());
    }

    private MethodRegistry() {}

    private static void register(MergeMethod m) {
        METHODS.put(m.name(), m);
    }

    public static Optional<MergeMethod> find(String name) {
        return Optional.ofNullable(METHODS.get(name));
    }

    public static List<String> names() {
        return List.copyOf(METHODS.keySet());
    }
}
