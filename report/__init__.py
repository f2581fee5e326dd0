from . import serial_failure_report
from . import serial_usage_failure_report
from . import serial_job_report
from . import serial_warranty_cost_report
from . import serial_claim_report
from . import serial_contract_profit_report
from . import serial_meter_volume_report
from . import sale_subscription_term_report
