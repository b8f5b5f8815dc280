"""The package's layers (gan_jax/__init__.py): every import, those inside functions included,
points to the same or a lower layer, and no two modules import each other, directly or not."""

import ast
import os

import gan_jax

PACKAGE = os.path.dirname(gan_jax.__file__)
TOP = len(gan_jax.LAYERS)  # the command line and the package's own __init__


def _module_files() -> dict[str, str]:
    """Dotted module name -> file, for every module of the package."""
    modules = {}
    for folder, _, files in os.walk(PACKAGE):
        for name in files:
            if name.endswith(".py"):
                path = os.path.join(folder, name)
                dotted = os.path.relpath(path, os.path.dirname(PACKAGE))[:-3].replace(os.sep, ".")
                modules[dotted.removesuffix(".__init__")] = path
    return modules


MODULES = _module_files()


def layer(module: str) -> int:
    parts = module.split(".")
    if len(parts) > 1 and parts[1] in gan_jax.LAYERS:
        return gan_jax.LAYERS.index(parts[1])
    return TOP


def _resolve(name: str) -> str | None:
    """The most specific module of the package that `name` (module or module.attribute) is."""
    while name and name not in MODULES:
        name = name.rpartition(".")[0]
    return name or None


def imports_of(module: str) -> set[str]:
    """The package's modules that `module` imports anywhere in its source."""
    tree = ast.parse(open(MODULES[module], encoding="utf-8").read())
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, f"{module}: use absolute imports"
            names = [f"{node.module}.{alias.name}" for alias in node.names]
        else:
            continue
        for name in names:
            target = _resolve(name) if name.split(".")[0] == "gan_jax" else None
            if target and target != module and target != "gan_jax":
                found.add(target)
    return found


GRAPH = {module: imports_of(module) for module in MODULES}


def test_the_layers_are_the_folders():
    folders = {name for name in os.listdir(PACKAGE) if os.path.isdir(os.path.join(PACKAGE, name))}
    assert set(gan_jax.LAYERS) == folders - {"__pycache__"}
    # Only the command line sits beside the layers (with the short commands' entry modules).
    top = {m for m in MODULES if layer(m) == TOP}
    assert top == {
        "gan_jax",
        "gan_jax.cli",
        "gan_jax.commands",
        "gan_jax.main",
        "gan_jax.compare",
        "gan_jax.export",
    }


def test_no_import_points_to_a_higher_layer():
    upward = [
        f"{source} ({gan_jax.LAYERS[layer(source)] if layer(source) < TOP else 'top'}) imports "
        f"{target}"
        for source, targets in GRAPH.items()
        for target in targets
        if layer(target) > layer(source)
    ]
    assert upward == []


def test_no_import_cycle():
    # Tarjan's strongly connected components over the module graph.
    index, low, stack, on_stack, cycles = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in GRAPH[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for module in GRAPH:
        if module not in index:
            visit(module)
    assert cycles == []


def test_the_checks_see_an_upward_import_inside_a_function(tmp_path, monkeypatch):
    """The checker itself: a lower module importing a higher one inside a function is found."""
    path = tmp_path / "offender.py"
    path.write_text("def f():\n    from gan_jax.loop import run\n")
    monkeypatch.setitem(MODULES, "gan_jax.parts.offender", str(path))
    assert imports_of("gan_jax.parts.offender") == {"gan_jax.loop.run"}
    assert layer("gan_jax.loop.run") > layer("gan_jax.parts.offender")
