from . import device_api
from . import portal
