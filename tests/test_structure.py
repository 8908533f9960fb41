"""The package's structure: no benchmark in the library, no import cycles among its modules (imports
inside functions count too), and no module using another module's private names."""

import ast
import pathlib
import re

PACKAGE = pathlib.Path(__file__).resolve().parent.parent / "scratchnet"


def modules():
    """``{path: dotted module name}`` for every module of the package."""
    root = PACKAGE.parent
    return {p: ".".join(p.relative_to(root).with_suffix("").parts).removesuffix(".__init__")
            for p in PACKAGE.rglob("*.py")}


def imports(path, module, names):
    """The package modules that ``module`` imports, and the private names it imports from others."""
    base = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
    deps, private = set(), []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                parts = base.split(".")[:len(base.split(".")) - node.level + 1]
                target = ".".join(parts + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            for alias in node.names:
                full = f"{target}.{alias.name}"
                if full in names:
                    deps.add(full)
                elif target in names:
                    deps.add(target)
                if (alias.name.startswith("_") and not alias.name.startswith("__") and target != module
                        and not (full in names and module.startswith(target + "."))):
                    private.append(f"{module}: from {target} import {alias.name}")
        elif isinstance(node, ast.Import):
            deps |= {alias.name for alias in node.names if alias.name in names}
    # a module never depends on itself, its own package or the top-level package (its __init__)
    return {d for d in deps if d != module and not module.startswith(d + ".") and d != "scratchnet"}, private


def test_the_benchmark_is_not_in_the_library():
    assert not (PACKAGE / "bench.py").exists()
    assert not (PACKAGE / "cli" / "bench.py").exists()


def test_no_import_cycles():
    mods = modules()
    graph = {m: imports(p, m, set(mods.values()))[0] for p, m in mods.items()}
    cycles, state = [], {}

    def visit(node, stack):
        state[node] = "open"
        stack.append(node)
        for dep in sorted(graph.get(node, ())):
            if state.get(dep) == "open":
                cycles.append(" -> ".join(stack[stack.index(dep):] + [dep]))
            elif dep in graph and dep not in state:
                visit(dep, stack)
        stack.pop()
        state[node] = "done"

    for node in sorted(graph):
        if node not in state:
            visit(node, [])
    assert cycles == []


def test_no_module_uses_another_modules_private_names():
    mods = modules()
    private = [x for p, m in mods.items() for x in imports(p, m, set(mods.values()))[1]]
    defined = {}
    sources = {p: p.read_text(encoding="utf-8") for p in mods}
    for p, source in sources.items():
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.FunctionDef) and node.name.startswith("_") and not node.name.startswith("__"):
                defined.setdefault(node.name, set()).add(p)
    for p, source in sources.items():
        for name, where in defined.items():
            if p not in where and re.search(rf"\b(?!self\b)\w+\.{re.escape(name)}\b", source):
                private.append(f"{p.name} uses .{name} of {sorted(w.name for w in where)}")
    assert private == []


def test_the_structure_test_sees_a_cycle_and_a_reach_in(tmp_path):
    """The checks above can fail: a planted cycle and a planted private use are found."""
    names = {"scratchnet.a", "scratchnet.b"}
    a, b = tmp_path / "a.py", tmp_path / "b.py"
    a.write_text("from .b import thing\n")
    b.write_text("from .a import _secret\n")
    assert imports(a, "scratchnet.a", names)[0] == {"scratchnet.b"}
    deps_b, private_b = imports(b, "scratchnet.b", names)
    assert deps_b == {"scratchnet.a"} and private_b == ["scratchnet.b: from scratchnet.a import _secret"]
