from . import serial_meter_type
from . import serial_warranty_policy
from . import product_template
from . import stock_lot
from . import stock_move
from . import maintenance_equipment
from . import maintenance_request
from . import sale_subscription
