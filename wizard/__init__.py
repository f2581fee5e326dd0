from . import serial_installed_base_import
