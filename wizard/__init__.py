from . import serial_installed_base_import
from . import serial_van_setup
from . import serial_van_setup_line
from . import serial_coverage_simulator
from . import serial_warranty_check
from . import serial_meter_reading_import
