from odoo import api, models
from odoo.exceptions import AccessError

# what the portal shows of a job (the list, the job's page), its searches and
# sorts; never its lines, prices, invoices, signature, parts or planning
PORTAL_READABLE_JOB_FIELDS = frozenset(
    {
        "id",
        "display_name",
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
    }
)


class MaintenanceRequest(models.Model):
    """What a portal customer may read of their own jobs over the ORM and
    JSON-RPC: what the portal shows. Checked for portal users only, on the
    access check itself rather than on the fields' groups: the jobs' fields
    keep their definitions for internal users (the job form's x2many lines
    evaluate their modifiers from them)."""

    _name = "maintenance.request"
    _inherit = ["maintenance.request", "serial.portal.readable.mixin"]

    # --- portal: readable fields ---
    def _get_portal_hidden_fields(self):
        if self.env.su or not self.env.user.share:
            return set()
        return set(self._fields) - PORTAL_READABLE_JOB_FIELDS

    def check_field_access_rights(self, operation, field_names):
        hidden = self._get_portal_hidden_fields()
        if not hidden:
            return super().check_field_access_rights(operation, field_names)
        if not field_names:
            return [
                name
                for name in super().check_field_access_rights(operation, field_names)
                if name not in hidden
            ]
        refused = sorted(set(field_names) & hidden)
        if refused:
            raise AccessError(
                self.env._(
                    "You cannot read %(fields)s of a job on the portal.",
                    fields=", ".join(refused),
                )
            )
        return super().check_field_access_rights(operation, field_names)

    @api.model
    def fields_get(self, allfields=None, attributes=None):
        described = super().fields_get(allfields, attributes)
        for name in self._get_portal_hidden_fields():
            described.pop(name, None)
        return described
