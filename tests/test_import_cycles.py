"""The package has no import cycle (issue 29): every `import` of a jare_tf module, at module level or inside a
function, is an edge of a graph over jare_tf's modules (configs/ included, as jare_tf.configs), and the graph has
no strongly connected component of more than one module. The graph is read from the source with `ast`, so the
test imports nothing and also sees the deferred imports a cycle hides behind."""

import ast
import pathlib

ROOT = pathlib.Path(__file__).resolve().parents[1]


def modules():
    """{dotted name: path} of the package's modules."""
    out = {}
    for folder, package in (("jare_tf", "jare_tf"), ("configs", "jare_tf.configs")):
        for path in sorted((ROOT / folder).rglob("*.py")):
            parts = list(path.relative_to(ROOT / folder).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts = parts[:-1]
            out[".".join([package, *parts])] = path
    return out


def import_graph(sources):
    """{module: set of jare_tf modules it imports}; `sources` maps module names to source text."""
    graph = {}
    for name, text in sources.items():
        deps = set()
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.Import):
                deps.update(a.name for a in node.names if a.name in sources)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                for a in node.names:
                    full = f"{node.module}.{a.name}"
                    if full in sources:
                        deps.add(full)
                    elif node.module in sources:
                        deps.add(node.module)
        graph[name] = deps - {name}
    return graph


def cycles(graph):
    """The strongly connected components of more than one node (Tarjan's algorithm, iterative)."""
    index, low, on_stack, stack, found = {}, {}, set(), [], []
    counter = 0
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def test_the_package_has_no_import_cycle():
    sources = {name: path.read_text(encoding="utf-8") for name, path in modules().items()}
    assert len(sources) > 50
    assert cycles(import_graph(sources)) == []


def test_a_cycle_is_found_also_through_a_deferred_import():
    sources = {"jare_tf.a": "from jare_tf import b\n",
               "jare_tf.b": "def f():\n    from jare_tf.c import thing\n",
               "jare_tf.c": "import jare_tf.a\nthing = 1\n",
               "jare_tf.d": "from jare_tf import a\n"}
    assert cycles(import_graph(sources)) == [["jare_tf.a", "jare_tf.b", "jare_tf.c"]]
