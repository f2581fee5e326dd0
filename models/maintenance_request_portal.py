from odoo import models


class MaintenanceRequest(models.Model):
    """What a portal customer may read of their own jobs: what the portal
    shows (the list, the job's page) and what its searches and sorts use;
    never the job's lines, prices, invoices, signature, parts or internal
    planning."""

    _name = "maintenance.request"
    _inherit = ["maintenance.request", "serial.portal.readable.mixin"]

    # --- portal: readable fields ---
    _portal_readable_fields = (
        "name",
        "description",
        "maintenance_type",
        "company_id",
        "lot_id",
        "customer_id",
        "subscription_id",
        "stage_id",
        "user_id",
        "request_date",
        "schedule_date",
        "response_deadline",
        "resolution_deadline",
        "completed_on",
    )
