import threading
import time
from collections import defaultdict
from datetime import timedelta

from dateutil.relativedelta import relativedelta

from odoo import api, fields, models, modules

# where the warranty cron keeps the last serial it committed today, so that
# the next call of the job goes on from there
WARRANTY_CRON_RESUME_PARAM = "serial_service.warranty_cron_resume"


class StockLot(models.Model):
    """Customer and supplier warranty of a serial (DESIGN.md, Warranty dates):
    start and end dates, the usage limit, the state and the daily cron that
    moves it along and alerts before it ends."""

    _inherit = "stock.lot"

    # --- warranty: fields ---
    warranty_policy_id = fields.Many2one(
        "serial.warranty.policy",
        string="Warranty Policy",
        index=True,
        tracking=True,
        help="Customer warranty of this unit: taken from its product when it is "
        "delivered; a service manager may change it.",
    )
    warranty_start_date = fields.Date(
        compute="_compute_warranty_start_date",
        store=True,
        readonly=False,
        tracking=True,
        copy=False,
    )
    warranty_end_date = fields.Date(
        compute="_compute_warranty_end_date",
        store=True,
        readonly=False,
        tracking=True,
        copy=False,
        # the 'expires in N days' lists among millions of serials
        index=True,
        help="Last day covered by the customer warranty.",
    )
    warranty_state = fields.Selection(
        selection=[
            ("none", "No Warranty"),
            ("active", "Active"),
            ("expiring", "Expiring"),
            ("expired", "Expired"),
        ],
        compute="_compute_warranty_state",
        store=True,
        index=True,
        default="none",
        help="Refreshed daily: Expiring in the policy's notice days before the "
        "last covered day.",
    )
    warranty_alert_end_date = fields.Date(
        copy=False,
        help="End date of the warranty window a renewal activity was scheduled "
        "for: never twice for the same window.",
    )
    supplier_warranty_end_date = fields.Date(
        compute="_compute_supplier_warranty_end_date",
        store=True,
        readonly=False,
        tracking=True,
        copy=False,
        help="Last day the vendor covers this unit, counted from its receipt.",
    )

    @api.depends(
        "warranty_policy_id.start_trigger", "delivery_date", "installation_date"
    )
    def _compute_warranty_start_date(self):
        for lot in self:
            policy = lot.warranty_policy_id
            if not policy:
                lot.warranty_start_date = False
            elif policy.start_trigger == "installation":
                lot.warranty_start_date = lot.installation_date
            else:
                lot.warranty_start_date = lot.delivery_date

    @api.depends("warranty_start_date", "warranty_policy_id.duration_months")
    def _compute_warranty_end_date(self):
        usage_end_dates = self._get_warranty_usage_end_dates()
        for lot in self:
            end = lot._get_warranty_end_date(
                lot.warranty_start_date, lot.warranty_policy_id.duration_months
            )
            usage_end = usage_end_dates.get(lot.id)
            if end and usage_end:
                end = min(end, usage_end)
            lot.warranty_end_date = end

    @api.depends("receipt_date", "product_id.supplier_warranty_months")
    def _compute_supplier_warranty_end_date(self):
        for lot in self:
            lot.supplier_warranty_end_date = lot._get_warranty_end_date(
                lot.receipt_date, lot.product_id.supplier_warranty_months
            )

    @api.depends(
        "warranty_start_date",
        "warranty_end_date",
        "warranty_policy_id.expiry_notice_days",
    )
    def _compute_warranty_state(self):
        today = fields.Date.context_today(self)
        for lot in self:
            lot.warranty_state = lot._get_warranty_state(today)

    # --- warranty: manager-only fields (guard of stock_lot.py) ---
    @api.model
    def _get_manager_only_fields(self):
        return super()._get_manager_only_fields() | {
            "warranty_policy_id",
            "warranty_start_date",
            "warranty_end_date",
            "supplier_warranty_end_date",
        }

    # --- warranty: dates and state ---
    @api.model
    def _get_warranty_end_date(self, start_date, months):
        """Last covered day: start + months - 1 day (12 months from 2026-01-15
        end on 2027-01-14). Override to count differently."""
        if not start_date or not months or months <= 0:
            return False
        return start_date + relativedelta(months=months) - timedelta(days=1)

    def _get_warranty_state(self, on_date):
        self.ensure_one()
        start, end = self.warranty_start_date, self.warranty_end_date
        if not start or not end or on_date < start:
            return "none"
        if on_date > end:
            return "expired"
        notice = self.warranty_policy_id.expiry_notice_days
        if notice and (end - on_date).days < notice:
            return "expiring"
        return "active"

    def _is_under_warranty(self, on_date):
        """Whether the customer warranty covers this serial on that day."""
        self.ensure_one()
        return bool(
            self.warranty_start_date
            and self.warranty_end_date
            and self.warranty_start_date <= on_date <= self.warranty_end_date
        )

    def _assign_product_warranty_policy(self):
        """At delivery a serial takes its product's warranty policy, unless a
        manager already chose one."""
        lots_by_policy = defaultdict(lambda: self.env["stock.lot"])
        for lot in self:
            policy = lot.product_id.warranty_policy_id
            if policy and not lot.warranty_policy_id:
                lots_by_policy[policy] |= lot
        for policy, lots in lots_by_policy.items():
            lots.write({"warranty_policy_id": policy.id})

    # --- warranty: usage limit (time or usage, whichever ends first) ---
    def _get_warranty_usage_end_dates(self):
        """{lot id: day the usage on its policy's meter since the warranty start
        reached the policy's usage limit}, from one read of the readings."""
        lots = self.filtered(
            lambda lot: (
                lot.id
                and lot.warranty_start_date
                and lot.warranty_policy_id.usage_meter_type_id
                and lot.warranty_policy_id.usage_limit > 0
            )
        )
        if not lots:
            return {}
        readings = self.env["serial.meter.reading"].search_fetch(
            [
                ("lot_id", "in", lots.ids),
                (
                    "meter_type_id",
                    "in",
                    lots.warranty_policy_id.usage_meter_type_id.ids,
                ),
                ("reading_date", ">=", min(lots.mapped("warranty_start_date"))),
            ],
            ["lot_id", "meter_type_id", "reading_date", "delta"],
            order="reading_date, id",
        )
        usage, ends = defaultdict(float), {}
        for reading in readings:
            lot = reading.lot_id
            policy = lot.warranty_policy_id
            if (
                lot.id in ends
                or reading.meter_type_id != policy.usage_meter_type_id
                or reading.reading_date.date() < lot.warranty_start_date
            ):
                continue
            usage[lot.id] += reading.delta
            if usage[lot.id] >= policy.usage_limit:
                ends[lot.id] = reading.reading_date.date()
        return ends

    def _refresh_usage_warranty(self):
        """Readings changed: the warranties with a usage limit may end earlier."""
        lots = self.filtered(lambda lot: lot.warranty_policy_id.usage_meter_type_id)
        if lots:
            self.env.add_to_compute(self._fields["warranty_end_date"], lots)

    # --- warranty: cron and expiry alerts ---
    @api.model
    def _cron_refresh_warranty_state(self, batch_size=1000, time_budget=None):
        """Move stored warranty states along with the calendar, batch after
        batch (flat memory), and schedule one renewal activity per serial
        entering its notice window. Correct when late or run twice: the state
        is derived from today, and the alert remembers its window.

        As the billing run: each batch is committed (outside tests), within a
        time budget per call (seconds; by default the billing run's share of
        a cron worker's limits), and the progress tells Odoo to call the job
        again while serials remain; the next call goes on after the last
        serial committed today (WARRANTY_CRON_RESUME_PARAM)."""
        today = fields.Date.context_today(self)
        if time_budget is None:
            time_budget = self.env["sale.subscription"]._get_billing_time_budget()
        deadline = time.monotonic() + time_budget
        testing = modules.module.current_test or getattr(
            threading.current_thread(), "testing", False
        )
        domain = [
            ("warranty_end_date", "!=", False),
            "|",
            ("warranty_state", "!=", "expired"),
            ("warranty_end_date", ">=", today),
        ]
        state_field = self._fields["warranty_state"]
        last_id = self._get_warranty_cron_resume_id(today)
        done = 0
        while True:
            lots = self.search(
                [*domain, ("id", ">", last_id)], order="id", limit=batch_size
            )
            if not lots:
                break
            last_id = lots[-1].id
            changed = lots.filtered(
                lambda lot: lot._get_warranty_state(today) != lot.warranty_state
            )
            if changed:
                self.env.add_to_compute(state_field, changed)
                changed.flush_recordset(["warranty_state"])
            lots._schedule_warranty_expiry_alerts()
            done += len(lots)
            self._set_warranty_cron_resume_id(today, last_id)
            self.env.flush_all()
            self.env.invalidate_all()
            if not testing:
                # each batch refreshed is kept, whatever happens to the next one
                self.env.cr.commit()  # pylint: disable=invalid-commit
            if time.monotonic() >= deadline:
                break
        remaining = self.search_count([*domain, ("id", ">", last_id)])
        if not remaining:
            # the day's run is complete: a run later today starts over
            self._set_warranty_cron_resume_id(today, 0)
        self.env["ir.cron"]._notify_progress(done=done, remaining=remaining)

    @api.model
    def _get_warranty_cron_resume_id(self, today):
        """The last serial the warranty cron committed today (0: none)."""
        # sudo: the job's own bookmark, whoever runs the job
        value = (
            self.env["ir.config_parameter"].sudo().get_param(WARRANTY_CRON_RESUME_PARAM)
        )
        day, _sep, lot_id = (value or "").partition(",")
        if day != fields.Date.to_string(today) or not (
            lot_id.isascii() and lot_id.isdecimal()
        ):
            return 0
        return int(lot_id)

    @api.model
    def _set_warranty_cron_resume_id(self, today, lot_id):
        value = f"{fields.Date.to_string(today)},{lot_id}" if lot_id else False
        # sudo: the job's own bookmark, whoever runs the job
        self.env["ir.config_parameter"].sudo().set_param(
            WARRANTY_CRON_RESUME_PARAM, value
        )

    def _schedule_warranty_expiry_alerts(self):
        lots = self.filtered(
            lambda lot: (
                lot.warranty_state == "expiring"
                and lot.warranty_alert_end_date != lot.warranty_end_date
            )
        )
        if not lots:
            return
        managers = self.env.ref("serial_service.group_service_manager").users
        fallback = managers.filtered(lambda u: not u.share)[:1] or self.env.user
        activity_type = self.env.ref("mail.mail_activity_data_todo")
        model = self.env["ir.model"]._get_id("stock.lot")
        self.env["mail.activity"].create(
            [
                {
                    "res_model_id": model,
                    "res_id": lot.id,
                    "activity_type_id": activity_type.id,
                    "user_id": (lot.customer_id.user_id or fallback).id,
                    "date_deadline": lot.warranty_end_date,
                    "summary": self.env._(
                        "Warranty of %(serial)s ends on %(date)s: offer a renewal or "
                        "a contract to %(customer)s",
                        serial=lot.name,
                        date=lot.warranty_end_date,
                        customer=lot.customer_id.display_name or "",
                    ),
                }
                for lot in lots
            ]
        )
        # the customer is told too, so the renewal conversation starts from them
        told = lots.filtered(lambda lot: lot.customer_id.email)
        if told:
            template = self.env.ref("serial_service.mail_template_warranty_expiring")
            template.send_mail_batch(told.ids)
        for end_date in set(lots.mapped("warranty_end_date")):
            lots.filtered(lambda lot, d=end_date: lot.warranty_end_date == d).write(
                {"warranty_alert_end_date": end_date}
            )
