"""JAX set-up for the subcommands that run a network (``run``, ``train``, ``export``): the persistent compilation
cache, and the ``SNNDSL_TIMINGS=1`` report of where a command's time went.

The cache keeps every XLA program the command compiles (the simulation or train step, and the small programs of
building and initialising a network) on disk, keyed by the program and the JAX version, so a second run of the
same model loads them instead of compiling again. It lives under the user's cache folder,
``$XDG_CACHE_HOME/snndsl/jax`` (``~/.cache/snndsl/jax`` when that is unset); ``--no-compile-cache`` or
``SNNDSL_NO_COMPILE_CACHE=1`` turn it off. Only the command line enables it: ``import snndsl`` leaves JAX's
configuration alone.
"""

from __future__ import annotations

import os
import sys
import time
import types
from pathlib import Path

#: The environment switch that turns the persistent compilation cache off (any value but ``""`` and ``0``).
NO_CACHE_ENV = "SNNDSL_NO_COMPILE_CACHE"
#: The environment switch that prints the time of each phase of ``run`` / ``train`` on stderr.
TIMINGS_ENV = "SNNDSL_TIMINGS"


def _on(name: str) -> bool:
    """Whether environment variable ``name`` is set to something other than ``""`` or ``0``."""
    return os.environ.get(name, "") not in ("", "0")


def compile_cache_dir() -> Path:
    """The persistent compilation cache's folder: ``$XDG_CACHE_HOME/snndsl/jax``, else ``~/.cache/snndsl/jax``."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "snndsl" / "jax"


def compile_cache_wanted(no_cache_flag: bool) -> bool:
    """Whether the command should use the cache: not with ``--no-compile-cache`` (``no_cache_flag``) nor with
    ``SNNDSL_NO_COMPILE_CACHE`` set (to anything but ``""`` or ``0``)."""
    return not no_cache_flag and not _on(NO_CACHE_ENV)


def enable_compile_cache(no_cache_flag: bool = False) -> Path | None:
    """Point JAX's persistent compilation cache at :func:`compile_cache_dir` (created if needed), caching every
    program whatever its compile time or size (the thresholds set to 0: the many small programs of building a
    network add up). Returns the folder, or ``None`` when :func:`compile_cache_wanted` says no or the folder
    cannot be created (then nothing is cached and the command runs as usual)."""
    if not compile_cache_wanted(no_cache_flag):
        return None
    folder = compile_cache_dir()
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:
        return None
    import jax

    jax.config.update("jax_compilation_cache_dir", str(folder))
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
    jax.config.update("jax_persistent_cache_min_entry_size_bytes", 0)
    return folder


#: JAX's monitoring events whose durations make up "compilation": tracing to a jaxpr, lowering it to MLIR,
#: and XLA's compile (a program loaded from the persistent cache fires none of them).
COMPILE_EVENTS = ("/jax/core/compile/jaxpr_trace_duration", "/jax/core/compile/jaxpr_to_mlir_module_duration",
                  "/jax/core/compile/backend_compile_duration")


class Timings:
    """Wall time per phase of a command (``with timings("construction"): ...``), printed on stderr at the end
    when ``SNNDSL_TIMINGS=1``: one ``snndsl: timing PHASE S s (CPU C s)`` line per phase, the wall time JAX
    spent compiling during them taken out of each phase's wall time and reported as ``compilation`` (so the
    wall times add up without overlap; the CPU figure of a phase includes its compilation), then ``total``, the
    wall time since the process started (interpreter and imports included) and the process's CPU time."""

    def __init__(self) -> None:
        """No phase yet; on when :data:`TIMINGS_ENV` is set (then JAX's compile events are listened to)."""
        self.phases: dict[str, float] = {}
        self.cpu: dict[str, float] = {}
        self.compiling = 0.0
        self.on = _on(TIMINGS_ENV)
        if self.on:
            import jax.monitoring

            jax.monitoring.register_event_duration_secs_listener(self._event)

    def _event(self, event: str, duration: float, **kwargs) -> None:
        """Add the duration of a compile event (:data:`COMPILE_EVENTS`) to the running compile time."""
        if event in COMPILE_EVENTS:
            self.compiling += duration

    def __call__(self, phase: str) -> "_Phase":
        """A context manager adding the wall time of its body to ``phase``."""
        return _Phase(self, phase)

    def report(self) -> None:
        """Print each phase and the total (process start to now) on stderr, when on."""
        if not self.on:
            return
        for phase, seconds in self.phases.items():
            print(f"snndsl: timing {phase} {seconds:.3f} s (CPU {self.cpu[phase]:.3f} s)", file=sys.stderr)
        print(f"snndsl: timing compilation {self.compiling:.3f} s", file=sys.stderr)
        print(f"snndsl: timing total {time.time() - _process_start():.3f} s (CPU {time.process_time():.3f} s)",
              file=sys.stderr)


class _Phase:
    """One timed phase of :class:`Timings`."""

    def __init__(self, owner: Timings, phase: str) -> None:
        """Time ``phase`` into ``owner``."""
        self.owner, self.phase, self.t0, self.c0, self.cpu0 = owner, phase, 0.0, 0.0, 0.0

    def __enter__(self) -> None:
        """Start the clocks (and note the compile time so far)."""
        self.t0, self.c0, self.cpu0 = time.perf_counter(), self.owner.compiling, time.process_time()

    def __exit__(self, *exc) -> None:
        """Add the elapsed wall time, less what JAX spent compiling meanwhile, to the phase, and the process's
        CPU time (every thread, compilation included) to its CPU figure."""
        spent = time.perf_counter() - self.t0 - (self.owner.compiling - self.c0)
        self.owner.phases[self.phase] = self.owner.phases.get(self.phase, 0.0) + spent
        self.owner.cpu[self.phase] = self.owner.cpu.get(self.phase, 0.0) + time.process_time() - self.cpu0


def _process_start() -> float:
    """The process's start time (seconds since the epoch): from /proc on Linux, else when this module loaded."""
    try:
        ticks = int(Path("/proc/self/stat").read_text().rsplit(")", 1)[1].split()[19])
        boot = next(float(line.split()[1]) for line in Path("/proc/stat").read_text().splitlines()
                    if line.startswith("btime"))
        return boot + ticks / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError, StopIteration):
        return _LOADED


_LOADED = time.time()


#: braintools' subpackages that ``import braintools`` loads eagerly and that a simulation never touches:
#: ``analysis`` (scipy.signal and scipy.stats, about 0.7 s), ``file`` (scipy.io), ``optim`` (optax and
#: scipy.optimize; a training run loads it when it builds its optimizer), ``metric``, ``fit``, ``trainer``,
#: ``visualize``, ``cogtask`` and ``quad``. :func:`import_libraries` defers them: each is executed on first use.
DEFERRED_SUBMODULES = tuple(f"braintools.{name}" for name in (
    "analysis", "cogtask", "file", "fit", "metric", "optim", "quad", "trainer", "visualize"))


class _Deferred(types.ModuleType):
    """A submodule registered in ``sys.modules`` but not executed yet: the first attribute it lacks (anything
    but the ``__spec__``, ``__path__``, ... the import system reads) executes the module's code into it, after
    which it is that module, the same object everywhere."""

    def __getattr__(self, attr: str):
        """Execute the module's code into this object (once), then look ``attr`` up as usual. If the code
        fails, the module leaves ``sys.modules`` (as a failed import does) and the error propagates."""
        self.__class__ = types.ModuleType          # drops this hook: the module behaves as a plain module now
        try:
            self.__spec__.loader.exec_module(self)
        except BaseException:
            sys.modules.pop(self.__name__, None)
            raise
        return getattr(self, attr)


def _defer(name: str) -> None:
    """Register submodule ``name`` of a package that is not imported yet as a :class:`_Deferred` module, so
    that the package's own ``from . import leaf`` finds it in ``sys.modules`` and does not execute it. Found
    without importing the parent (whose ``__init__`` would import it eagerly); nothing is registered when it
    cannot be found."""
    import importlib.util

    parent, _, leaf = name.rpartition(".")
    spec = importlib.util.find_spec(parent)
    if spec is None or not spec.submodule_search_locations:
        return
    for folder in spec.submodule_search_locations:
        package = Path(folder) / leaf
        init = package / "__init__.py"
        path, locations = (init, [str(package)]) if init.is_file() else (package.with_suffix(".py"), None)
        if path.is_file():
            break
    else:
        return
    sub = importlib.util.spec_from_file_location(name, path, submodule_search_locations=locations)
    if sub is None or sub.loader is None:
        return
    module = importlib.util.module_from_spec(sub)
    module.__class__ = _Deferred
    sys.modules[name] = module


def import_libraries() -> None:
    """Import what an emitted module imports (jax, brainunit, brainstate, braintools) for a command that runs
    one, leaving out what no command uses: braintools' :data:`DEFERRED_SUBMODULES` are registered but
    executed only on first use (:class:`_Deferred`), and brainunit is imported without its matplotlib unit
    converter (a third of its import time; snndsl's plots draw plain arrays and import matplotlib themselves).
    About 1 s less start-up; a no-op for libraries already imported (``snndsl.load`` in a user's process
    imports them as they are)."""
    if "brainunit" not in sys.modules and "matplotlib" not in sys.modules:
        sys.modules["matplotlib"] = None          # importlib.util.find_spec("matplotlib") is then None
        try:
            import brainunit  # noqa: F401
        finally:
            del sys.modules["matplotlib"]
    if "braintools" not in sys.modules:
        for name in DEFERRED_SUBMODULES:
            if name not in sys.modules:
                _defer(name)
    import brainstate  # noqa: F401
    import braintools  # noqa: F401
