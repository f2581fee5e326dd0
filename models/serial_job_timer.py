import math
from collections import defaultdict

from odoo import api, fields, models
from odoo.tools import float_round


class SerialJobTimer(models.Model):
    """A technician's time on site on a job: started and stopped from the job's
    phone bar; stopping adds the time, rounded up, to the job's labour line."""

    _name = "serial.job.timer"
    _description = "Time on Site"
    _order = "date_start desc, id desc"
    _check_company_auto = True

    request_id = fields.Many2one(
        "maintenance.request",
        string="Job",
        required=True,
        index=True,
        ondelete="cascade",
        check_company=True,
    )
    company_id = fields.Many2one(
        related="request_id.company_id", store=True, index=True, precompute=True
    )
    user_id = fields.Many2one(
        "res.users",
        string="Technician",
        required=True,
        index=True,
        default=lambda self: self.env.user,
    )
    date_start = fields.Datetime(
        string="Started", required=True, default=fields.Datetime.now
    )
    date_stop = fields.Datetime(string="Stopped", readonly=True)
    minutes = fields.Integer(
        string="Minutes Charged",
        readonly=True,
        help="The time on site, rounded up to the company's rounding when the "
        "timer stopped (at least one period).",
    )
    service_line_id = fields.Many2one(
        "serial.service.line",
        string="Labour Line",
        readonly=True,
        ondelete="set null",
        index="btree_not_null",
    )

    def init(self):
        # one running timer per technician and job, also when the Start button
        # is pressed twice at once
        self.env.cr.execute(
            """
            CREATE UNIQUE INDEX IF NOT EXISTS serial_job_timer_running_unique
                ON serial_job_timer (request_id, user_id)
             WHERE date_stop IS NULL
            """
        )

    @api.depends("request_id", "user_id", "date_start")
    def _compute_display_name(self):
        for timer in self:
            timer.display_name = (
                f"{timer.request_id.name or ''} - {timer.user_id.name or ''}"
            )

    def _get_rounded_minutes(self, until):
        """The minutes from the start to `until`, rounded up to the company's
        `service_timer_rounding` (0: to the minute): a period started is a
        period charged, so a stopped timer charges at least one."""
        self.ensure_one()
        rounding = self.company_id.service_timer_rounding or 1
        elapsed = max((until - self.date_start).total_seconds() / 60.0, 0.0)
        periods = math.ceil(float_round(elapsed / rounding, precision_digits=6))
        return max(periods, 1) * rounding

    def _stop(self):
        """Stop the running timers now and add their time to the labour line
        of each job and technician."""
        timers = self.filtered(lambda timer: not timer.date_stop)
        now = fields.Datetime.now()
        for timer in timers:
            timer.write({"date_stop": now, "minutes": timer._get_rounded_minutes(now)})
        timers._add_labour_lines()
        return timers

    def _add_labour_lines(self):
        """One labour line per job and technician: the first stop creates it,
        the next ones add to it."""
        hour = self.env.ref("uom.product_uom_hour")
        minutes = defaultdict(int)
        for timer in self.filtered("minutes"):
            minutes[timer.request_id, timer.user_id] += timer.minutes
        if not minutes:
            return
        earlier = self.search(
            [
                ("request_id", "in", self.request_id.ids),
                ("service_line_id", "!=", False),
                ("service_line_id.coverage_locked", "=", False),
            ]
        )
        lines = {
            (timer.request_id, timer.user_id): timer.service_line_id
            for timer in earlier
        }
        vals_list, keys = [], []
        for (job, user), total in minutes.items():
            product = job.company_id.service_labour_product_id
            hours = total / 60.0
            if product.uom_id.category_id == hour.category_id:
                quantity = hour._compute_quantity(hours, product.uom_id)
            else:
                # a labour product sold by the unit: one unit is an hour
                quantity = hours
            line = lines.get((job, user))
            if line:
                line.quantity += quantity
            else:
                vals_list.append(
                    {
                        "request_id": job.id,
                        "product_id": product.id,
                        "quantity": quantity,
                        "name": self.env._(
                            "%(product)s (%(technician)s)",
                            product=product.display_name,
                            technician=user.name,
                        ),
                    }
                )
                keys.append((job, user))
        new_lines = self.env["serial.service.line"].create(vals_list)
        lines.update(zip(keys, new_lines, strict=True))
        for timer in self:
            timer.service_line_id = lines.get((timer.request_id, timer.user_id))
