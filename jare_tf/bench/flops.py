"""Counting the convolution and matrix-product FLOP of one traced training iteration (the GFLOP column of
jare-bench's tables)."""

from typing import Dict, Tuple


def step_flop(graph, branch_weights: Tuple[float, float] = None) -> float:
    """FLOP of `op_flop` over what the runtime executes of `graph`: the ops its outputs or stateful ops need,
    with function calls inlined (forward-mode JVPs live in nested functions) and each distinct computation
    (same type, attributes and inputs, after merging identical inputs) counted once, as Grappler merges them.

    A tf.cond (If / StatelessIf) runs one of its branches: each branch is counted on its own (no merging with the
    other branch), and the two counts are combined as branch_weights (then, else) — for a lazy method with
    every = k, (1/k, 1 − 1/k): the mean over the k iterations of a cycle — or, without weights, the larger."""
    signatures: Dict[tuple, str] = {}
    total, scopes = [0], iter(range(1 << 30))

    def find(g, name):
        while g is not None:
            fn = getattr(g, "_functions", {}).get(name)
            if fn is not None:
                return fn.graph
            g = getattr(g, "outer_graph", None)
        return None

    def walk(g, input_keys):
        scope = next(scopes)
        keys = {t.name: k for t, k in zip(g.inputs, input_keys)}
        roots = [t.op for t in g.outputs] + [op for op in g.get_operations() if op.op_def.is_stateful]
        order, seen = [], set()
        for root in roots:                               # iterative post-order: inputs before the op
            stack = [(root, False)]
            while stack:
                op, done = stack.pop()
                if done:
                    order.append(op)
                elif op.name not in seen:
                    seen.add(op.name)
                    stack.append((op, True))
                    stack.extend((t.op, False) for t in op.inputs)
                    stack.extend((c, False) for c in op.control_inputs)
        for op in order:
            if op.outputs and op.outputs[0].name in keys:  # an input of a function body
                continue
            inputs = [keys.get(t.name, f"{scope}/{t.name}") for t in op.inputs]
            if op.type in ("If", "StatelessIf"):
                counts = []
                for attr in ("then_branch", "else_branch"):
                    saved, before = dict(signatures), total[0]
                    walk(find(g, op.get_attr(attr).name), inputs[1:])
                    counts.append(total[0] - before)
                    total[0] = before
                    signatures.clear()
                    signatures.update(saved)
                total[0] += (max(counts) if branch_weights is None
                             else branch_weights[0] * counts[0] + branch_weights[1] * counts[1])
                keys.update({t.name: f"{scope}/{op.name}:{i}" for i, t in enumerate(op.outputs)})
                continue
            body = find(g, op.get_attr("f").name) if "f" in op.node_def.attr and op.type.endswith(
                "PartitionedCall") else None
            if body is not None:
                keys.update({t.name: k for t, k in zip(op.outputs, walk(body, inputs))})
                continue
            name = f"{scope}/{op.name}"
            if not op.op_def.is_stateful:
                attrs = tuple(sorted((k, v.SerializeToString()) for k, v in op.node_def.attr.items() if k != "_class"))
                sig = (op.type, tuple(inputs), attrs)
                if sig in signatures:
                    keys.update({t.name: f"{signatures[sig]}:{i}" for i, t in enumerate(op.outputs)})
                    continue
                signatures[sig] = name
            keys.update({t.name: f"{name}:{i}" for i, t in enumerate(op.outputs)})
            total[0] += op_flop(op)
        return [keys.get(t.name, f"{scope}/{t.name}") for t in g.outputs]

    walk(graph, [])
    return total[0]


def op_flop(op) -> int:
    """Multiply–adds × 2 of a 2-D convolution (forward or either backward) or a matrix product; 0 otherwise.

    A convolution and its two backward ops each cost 2·|y|·k_h·k_w·C_in, with y the forward output (the
    out_backprop of the backward ops) and (k_h, k_w, C_in, C_out) the filter."""
    import numpy as np
    try:
        if op.type in ("Conv2D", "Conv2DBackpropInput", "Conv2DBackpropFilter"):
            y = op.outputs[0] if op.type == "Conv2D" else op.inputs[2]
            w = op.outputs[0] if op.type == "Conv2DBackpropFilter" else op.inputs[1]
            kh, kw, c_in, _ = w.shape.as_list()
            return 2 * int(np.prod(y.shape.as_list())) * kh * kw * c_in
        if op.type == "MatMul":
            a = op.inputs[0].shape.as_list()
            k = a[0] if op.get_attr("transpose_a") else a[1]
            return 2 * int(np.prod(op.outputs[0].shape.as_list())) * k
    except (TypeError, ValueError):          # an unknown dimension
        return 0
    return 0
