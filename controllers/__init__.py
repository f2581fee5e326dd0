from . import device_api
from . import portal
from . import dispatch_portal
