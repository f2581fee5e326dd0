from . import test_serial_registry
from . import test_serial_overview
from . import test_serial_access
from . import test_recall
from . import test_traceability
from . import test_van_stock
from . import test_coverage_engine
