"""A memory profile of a process's imports: how much resident memory each module added as it loaded.

py-spy names where CPU goes; it cannot say where resident memory came from. For a process whose
memory is mostly its imports (the agent idle: code objects, classes, compiled libraries), this does:
run as ``python -m bench.import_memory LEDGER -- MODULE:FUNCTION ARGS...`` (a console script's
entry point, e.g. ``edge_agent.cli:main``), it hooks every import before
the program starts, reads VmRSS around each module's creation (``dlopen`` of a compiled library) and
execution, and at exit writes each module's *own* growth (its growth minus the modules it imported
while loading) to the JSON file ``LEDGER``. ``attribute`` turns a ledger and the VmRSS read from
outside into report lines.

Pages are counted when first touched and the allocator grows in chunks, so one module can be charged
for a neighbour's small allocations: read the figures per package, not per module.
"""

from __future__ import annotations

import atexit
import collections
import importlib
import importlib.abc
import importlib.machinery
import sys
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType
from typing import Any, Final

TOP: Final = 8
KIB_PER_MIB: Final = 1024


def vm_rss_kib() -> int:
    """This process's resident memory in KiB (Linux ``/proc``)."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


class Ledger:
    """Each module's own VmRSS growth in KiB; nested loads are subtracted from the loading module."""

    def __init__(self) -> None:
        self.start_kib = vm_rss_kib()
        self.own_kib: collections.Counter[str] = collections.Counter()
        self._open: list[tuple[str, int, list[int]]] = []  # (module, VmRSS at its start, children's growth)

    def begin(self, name: str) -> None:
        self._open.append((name, vm_rss_kib(), [0]))

    def end(self) -> None:
        name, started, children = self._open.pop()
        grown = vm_rss_kib() - started
        self.own_kib[name] += grown - children[0]
        if self._open:
            self._open[-1][2][0] += grown

    def write(self, path: Path) -> None:
        import json  # only now: the program under test imports (and is charged for) its own modules

        path.write_text(json.dumps({"start_kib": self.start_kib, "own_kib": dict(self.own_kib)}))


class _MeasuredLoader(importlib.abc.Loader):
    """The module's own loader, with its ``create_module`` and ``exec_module`` measured."""

    def __init__(self, inner: Any, name: str, ledger: Ledger) -> None:
        self._inner, self._name, self._ledger = inner, name, ledger

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType | None:
        self._ledger.begin(self._name)
        try:
            module: ModuleType | None = self._inner.create_module(spec)
            return module
        finally:
            self._ledger.end()

    def exec_module(self, module: ModuleType) -> None:
        self._ledger.begin(self._name)
        try:
            self._inner.exec_module(module)
        finally:
            self._ledger.end()

    def __getattr__(self, attribute: str) -> Any:  # get_data, get_resource_reader, is_package ...
        return getattr(self._inner, attribute)


class _MeasuringFinder(importlib.abc.MetaPathFinder):
    """Asks the finders after it for each module's spec and wraps the spec's loader."""

    def __init__(self, ledger: Ledger) -> None:
        self._ledger = ledger

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec: importlib.machinery.ModuleSpec | None = finder.find_spec(fullname, path, target)
            if spec is not None:
                if spec.loader is not None and hasattr(spec.loader, "exec_module"):
                    spec.loader = _MeasuredLoader(spec.loader, fullname, self._ledger)
                return spec
        return None


def attribute(ledger: dict[str, Any], idle_rss_mib: float, top: int = TOP) -> list[str]:
    """Report lines: VmRSS split into the interpreter at start, imports by package, and the rest."""
    by_package: collections.Counter[str] = collections.Counter()
    modules: collections.Counter[str] = collections.Counter()
    for name, kib in ledger["own_kib"].items():
        package = name.partition(".")[0]
        by_package[package] += kib
        modules[package] += 1
    start = ledger["start_kib"] / KIB_PER_MIB
    imports = sum(by_package.values()) / KIB_PER_MIB
    running = idle_rss_mib - start - imports
    lines = [
        f"VmRSS {idle_rss_mib:.1f} MiB = the interpreter before any import {start:.1f} + imports "
        f"{imports:.1f} + running (threads, connection, buffers, allocator) {running:.1f}"
    ]
    for package, kib in by_package.most_common(top):
        count = modules[package]
        lines.append(f"import {package}: {kib / KIB_PER_MIB:.1f} MiB ({count} module{'s' * (count > 1)})")
    return lines


def main(argv: Sequence[str]) -> int:
    """``LEDGER -- MODULE:FUNCTION ARGS...``: call ``FUNCTION()`` with ``ARGS`` as its command line."""
    ledger_path, separator, entry_point, *arguments = argv
    module_name, colon, function = entry_point.partition(":")
    if separator != "--" or not colon:
        raise SystemExit("usage: python -m bench.import_memory LEDGER -- MODULE:FUNCTION ARGS...")
    ledger = Ledger()
    sys.meta_path.insert(0, _MeasuringFinder(ledger))
    atexit.register(ledger.write, Path(ledger_path))
    sys.argv = [module_name, *arguments]
    result: int = getattr(importlib.import_module(module_name), function)()
    return result


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
