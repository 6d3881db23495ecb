"""No module in bot/ or adapters/ imports one that imports it back, by any path (lint-imports
holds the layers; this holds the rest: a circle inside one layer or package)."""

from __future__ import annotations

import grimp

PACKAGES = ("bot", "adapters")


def circles(graph: grimp.ImportGraph) -> list[list[str]]:
    """The strongly connected groups of two or more modules (Tarjan's algorithm)."""
    order: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def imports(module: str) -> list[str]:
        return sorted(m for m in graph.find_modules_directly_imported_by(module)
                      if m.split(".")[0] in PACKAGES)  # fmt: skip

    for root in sorted(m for m in graph.modules if m.split(".")[0] in PACKAGES):
        if root in order:
            continue
        work = [(root, iter(imports(root)))]
        order[root] = low[root] = len(order)
        stack.append(root)
        while work:
            module, children = work[-1]
            child = next(children, None)
            if child is None:
                work.pop()
                if work:
                    parent = work[-1][0]
                    low[parent] = min(low[parent], low[module])
                if low[module] == order[module]:
                    group = stack[stack.index(module):]
                    del stack[stack.index(module):]
                    if len(group) > 1:
                        found.append(sorted(group))
            elif child not in order:
                order[child] = low[child] = len(order)
                stack.append(child)
                work.append((child, iter(imports(child))))
            elif child in stack:
                low[module] = min(low[module], order[child])
    return found


def test_no_module_imports_one_that_imports_it_back() -> None:
    graph = grimp.build_graph("bot", "adapters", "routing", "storage")
    assert circles(graph) == []


def test_a_circle_is_found() -> None:
    graph = grimp.ImportGraph()
    for module in ("bot.a", "bot.b", "bot.c", "adapters.d"):
        graph.add_module(module)
    graph.add_import(importer="bot.a", imported="bot.b")
    graph.add_import(importer="bot.b", imported="bot.c")
    graph.add_import(importer="bot.c", imported="bot.a")
    graph.add_import(importer="adapters.d", imported="bot.a")
    assert circles(graph) == [["bot.a", "bot.b", "bot.c"]]
