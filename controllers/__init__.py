from . import device_api
from . import portal
from . import portal_supplies
