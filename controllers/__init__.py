from . import device_api
from . import portal
from . import portal_service_request
from . import dispatch_portal
from . import portal_supplies
from . import portal_meter_request
