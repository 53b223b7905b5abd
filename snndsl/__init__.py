"""snndsl: a declarative language for spiking neural networks, compiled to brainstate / JAX.

Public API::

    checked = snndsl.check_file("models/seed.snn")     # parse, resolve, check; raises SnnError
    checked.program                                      # the checked IR (snndsl.ir.Program)
"""

from .api import Checked as Checked
from .api import check_file as check_file
from .api import check_source as check_source
from .api import check_text as check_text
from .errors import Diagnostic as Diagnostic
from .errors import SnnError as SnnError
from .source import SourceFile as SourceFile

__version__ = "0.1.0"
from .compiled import CompiledModel as CompiledModel
from .compiled import load as load
from .compiled import loads as loads
