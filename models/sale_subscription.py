import logging
from collections import defaultdict

import psycopg2.errors
from dateutil.relativedelta import relativedelta
from markupsafe import Markup

from odoo import Command, api, fields, models
from odoo.exceptions import ValidationError
from odoo.tools import SQL

_logger = logging.getLogger(__name__)
# sequence of the usage lines on an invoice, so they can be found again
USAGE_SEQUENCE = 10000
# contracts invoiced in one account.move.create by the billing run
BILLING_BATCH_SIZE = 100


class SaleSubscription(models.Model):
    _inherit = "sale.subscription"

    covered_lot_ids = fields.Many2many(
        "stock.lot",
        relation="sale_subscription_stock_lot_rel",
        column1="subscription_id",
        column2="lot_id",
        string="Covered Serials",
        copy=False,
        tracking=True,
        domain="[('customer_id', 'child_of', commercial_partner_id)]",
    )
    commercial_partner_id = fields.Many2one(related="partner_id.commercial_partner_id")
    coverage_rule_ids = fields.One2many(
        "serial.coverage.rule", "subscription_id", string="Coverage Rules", copy=True
    )
    usage_tariff_ids = fields.One2many(
        "serial.usage.tariff", "subscription_id", string="Usage Tariffs", copy=True
    )
    response_hours = fields.Float(
        compute="_compute_sla_hours",
        store=True,
        readonly=False,
        help="Hours within which a technician answers a job on a covered serial.",
    )
    resolution_hours = fields.Float(
        compute="_compute_sla_hours",
        store=True,
        readonly=False,
        help="Hours within which a job on a covered serial is resolved.",
    )
    # meter-triggered preventive maintenance (issue 5): a contract may service
    # its serials more (or less) often than their product says
    preventive_meter_type_id = fields.Many2one(
        "serial.meter.type",
        string="Preventive Service Meter",
        help="Empty: the meter the product's preventive service follows.",
    )
    preventive_interval = fields.Float(
        string="Preventive Service Every",
        help="Replaces the product's interval for the serials this contract "
        "covers while it runs; 0 = the product's.",
    )

    @api.depends("template_id")
    def _compute_sla_hours(self):
        for subscription in self:
            subscription.response_hours = subscription.template_id.response_hours
            subscription.resolution_hours = subscription.template_id.resolution_hours

    @api.constrains("covered_lot_ids", "stage_id", "date_start", "date")
    def _check_one_running_contract_per_serial(self):
        """A serial is covered by at most one running contract at a time: two
        in-progress contracts covering it must not overlap in dates."""
        lots = self.covered_lot_ids
        if not lots:
            return
        # two users covering the same serial at once: the second waits for the
        # first to commit, then fails to serialize (retried by Odoo), instead
        # of both passing this check on their own snapshots
        self.env.cr.execute(
            SQL(
                "SELECT id FROM stock_lot WHERE id IN %s FOR NO KEY UPDATE",
                tuple(lots.ids),
            )
        )
        contracts = lots.subscription_ids.filtered(
            lambda s: s.stage_id.type == "in_progress"
        )
        for lot in lots:
            running = contracts.filtered(lambda s, lot=lot: lot in s.covered_lot_ids)
            for first in running:
                for second in running:
                    if first.id < second.id and first._overlaps(second):
                        raise ValidationError(
                            self.env._(
                                "Serial %(serial)s is already covered by contract "
                                "%(contract)s in the same period: a serial is "
                                "covered by one running contract at a time.",
                                serial=lot.name,
                                contract=(second if second in self else first).name,
                            )
                        )

    @api.model_create_multi
    def create(self, vals_list):
        subscriptions = super().create(vals_list)
        subscriptions._copy_template_coverage_rules()
        subscriptions._copy_template_usage_tariffs()
        return subscriptions

    def _copy_template_usage_tariffs(self):
        self._copy_template_lines("usage_tariff_ids")

    def _copy_template_coverage_rules(self):
        self._copy_template_lines("coverage_rule_ids")

    def _copy_template_lines(self, field_name):
        """A contract created from a template gets copies of the template's
        rules or tariffs (field_name, the same on both), to be edited on the
        contract; a contract created with its own keeps them."""
        vals_list = [
            dict(line._prepare_copy_vals(), subscription_id=subscription.id)
            for subscription in self.filtered(lambda s: not s[field_name])
            for line in subscription.template_id[field_name]
        ]
        if vals_list:
            self.env[self._fields[field_name].comodel_name].create(vals_list)

    def _overlaps(self, other):
        self.ensure_one()
        far = fields.Date.to_date("9999-12-31")
        return self.date_start <= (other.date or far) and other.date_start <= (
            self.date or far
        )

    def _is_running_on(self, day):
        """DESIGN.md: in_progress stage, started, and not past its end date."""
        self.ensure_one()
        return (
            self.stage_id.type == "in_progress"
            and bool(self.date_start)
            and self.date_start <= day
            and (not self.date or day <= self.date)
        )

    def _get_billing_period(self, day):
        """[start, end) of the billing period holding the day: periods of the
        template's recurrence counted from the contract's start date."""
        self.ensure_one()
        unit = self.template_id.recurring_rule_type or "months"
        step = relativedelta(**{unit: max(self.template_id.recurring_interval, 1)})
        start = self.date_start or day
        if unit == "months" or unit == "years":
            months = (day.year - start.year) * 12 + day.month - start.month
            size = max(self.template_id.recurring_interval, 1) * (
                12 if unit == "years" else 1
            )
            count = max(months // size, 0)
            period_start = start + relativedelta(months=count * size)
            if period_start > day:
                period_start -= relativedelta(months=size)
        else:
            days = (day - start).days
            size = (step + start - start).days
            period_start = start + relativedelta(days=max(days // size, 0) * size)
        return period_start, period_start + step

    # ------------------------------------------------------------------
    # Usage billing (DESIGN.md, Meters and usage billing)
    # ------------------------------------------------------------------
    def _prepare_account_move(self, line_ids):
        values = super()._prepare_account_move(line_ids)
        if not self.env.context.get("serial_usage_lines_added"):
            # serials with nothing new to bill are billed on an estimate
            self._create_usage_estimates()
            values["invoice_line_ids"] = list(values.get("invoice_line_ids") or []) + [
                Command.create(vals) for vals, _readings in self._get_usage_lines()
            ]
        return values

    def _prepare_sale_order(self, line_ids=False):
        values = super()._prepare_sale_order(line_ids=line_ids)
        self._create_usage_estimates()
        values["order_line"] = list(values.get("order_line") or []) + [
            Command.create(self._usage_vals_for_order(vals))
            for vals, _readings in self._get_usage_lines()
        ]
        return values

    def create_invoice(self):
        invoice = super().create_invoice()
        if invoice:
            self._link_usage_readings(invoice.invoice_line_ids)
        return invoice

    def generate_invoice(self):
        day = self.recurring_next_date
        res = super().generate_invoice()
        if self.template_id.invoicing_mode == "sale_and_invoice":
            order = self.sale_order_ids.sorted("id")[-1:]
            # invoices from orders are numbered anew: go through the order lines
            by_sequence = {
                line.sequence: line.invoice_lines[:1]
                for line in order.order_line
                if line.sequence >= USAGE_SEQUENCE
            }
            self._link_usage_readings_by_sequence(by_sequence, day)
        return res

    @api.model
    def _usage_vals_for_order(self, vals):
        return {
            "product_id": vals["product_id"],
            "name": vals["name"],
            "product_uom_qty": vals["quantity"],
            "price_unit": vals["price_unit"],
            "sequence": vals["sequence"],
        }

    def _create_usage_estimates(self, day=None):
        """Estimated readings (source `estimate`) for the covered serials and
        tariff meters with nothing new to bill up to the invoice date: they
        are billed like any reading, and trued up by the next real one."""
        self.ensure_one()
        day = day or self.recurring_next_date or fields.Date.context_today(self)
        Reading = self.env["serial.meter.reading"]
        vals_list = Reading._prepare_estimate_vals(
            self.covered_lot_ids, self.usage_tariff_ids.meter_type_id, day
        )
        # sudo: estimating is part of invoicing the contract, whoever may
        # invoice it (a billing clerk records no readings)
        return Reading.sudo().create(vals_list) if vals_list else Reading

    def _get_usage_lines(self, day=None):
        """[(invoice line values, readings it bills)] of the usage since the
        last billed readings up to the invoice date, one group of lines per
        tariff, and per serial unless the tariff is pooled."""
        self.ensure_one()
        day = day or self.recurring_next_date or fields.Date.context_today(self)
        tariffs = self.usage_tariff_ids
        lots = self.covered_lot_ids
        if not tariffs:
            return []
        readings = self.env["serial.meter.reading"].search(
            [
                ("lot_id", "in", lots.ids),
                ("meter_type_id", "in", tariffs.meter_type_id.ids),
                ("invoice_line_id", "=", False),
                (
                    "reading_date",
                    "<",
                    fields.Datetime.to_datetime(day) + relativedelta(days=1),
                ),
            ],
            order="reading_date, id",
        )
        by_key = defaultdict(lambda: self.env["serial.meter.reading"])
        for reading in readings:
            by_key[reading.lot_id, reading.meter_type_id] |= reading
        # real readings below the estimates billed before them: corrections
        allocations = readings._get_true_up_allocations()
        result, sequence = [], USAGE_SEQUENCE
        for tariff in tariffs:
            groups = (
                [
                    (
                        lots,
                        sum(
                            (by_key[lot, tariff.meter_type_id] for lot in lots),
                            readings.browse(),
                        ),
                    )
                ]
                if tariff.pooled
                else [(lot, by_key[lot, tariff.meter_type_id]) for lot in lots]
            )
            for group_lots, group_readings in groups:
                credits = [
                    (estimate, units)
                    for reading in group_readings
                    for estimate, units in allocations.get(reading.id, [])
                ]
                lines = self._prepare_usage_line_vals(
                    tariff,
                    group_lots,
                    group_readings,
                    day,
                    sequence,
                    credited=sum(units for _estimate, units in credits),
                )
                sequence += len(lines)
                result += [(vals, group_readings) for vals in lines]
                lines = self._prepare_true_up_line_vals(tariff, credits, sequence)
                sequence += len(lines)
                result += [(vals, group_readings) for vals in lines]
        return result

    def _prepare_usage_line_vals(
        self, tariff, lots, readings, day, sequence, credited=0.0
    ):
        """credited: units of the readings' negative deltas (true-ups) that are
        credited against earlier invoices instead (not this period's usage)."""
        usage = sum(readings.mapped("delta")) + credited
        included = tariff.included_qty
        billable = max(usage - included, 0.0)
        segments = tariff._price_segments(billable)
        amount = sum(qty * price for qty, price in segments)
        serials = ", ".join(lots.mapped("name"))
        period = self.env._(
            "%(meter)s of %(serials)s to %(date)s: %(usage)s used, %(included)s "
            "included",
            meter=tariff.meter_type_id.name,
            serials=serials,
            date=day,
            usage=f"{usage:g}",
            included=f"{included:g}",
        )
        if readings:
            first, last = (
                readings.sorted("reading_date")[0],
                readings.sorted("reading_date")[-1],
            )
            period += self.env._(
                " (readings %(first)s on %(first_date)s to %(last)s on %(last_date)s)",
                first=f"{first.value:g}",
                first_date=first.reading_date.date(),
                last=f"{last.value:g}",
                last_date=last.reading_date.date(),
            )
        lines = [
            {
                "product_id": tariff.product_id.id,
                "name": period
                if not index
                else f"{tariff.product_id.name}: {qty:g} x {price:g}",
                "quantity": qty,
                "price_unit": price,
                "sequence": sequence + index,
            }
            for index, (qty, price) in enumerate(segments or [(0.0, 0.0)])
        ]
        if amount < tariff.minimum_amount:
            lines.append(
                {
                    "product_id": tariff.product_id.id,
                    "name": self.env._(
                        "Minimum commitment of %(minimum)s for %(meter)s",
                        minimum=f"{tariff.minimum_amount:g}",
                        meter=tariff.meter_type_id.name,
                    ),
                    "quantity": 1.0,
                    "price_unit": tariff.minimum_amount - amount,
                    "sequence": sequence + len(lines),
                }
            )
        return lines

    def _prepare_true_up_line_vals(self, tariff, credits, sequence):
        """Lines crediting estimates proved too high by a real reading.

        credits: [(billed estimate, units it overestimated)]. The invoice line
        that billed the estimates is billed again in thought, with its usage
        lowered by those units, under the same tariff (included quantity,
        tiers, minimum): the difference, tier by tier, is credited here (a
        positive quantity at a negative price, so that an order invoices it
        too), and a minimum commitment that now applies is billed back."""
        if not credits:
            return []
        by_line = defaultdict(float)
        estimates = defaultdict(lambda: self.env["serial.meter.reading"])
        for estimate, units in credits:
            by_line[estimate.invoice_line_id] += units
            estimates[estimate.invoice_line_id] |= estimate
        billed = self.env["serial.meter.reading"]._get_billed_usage(
            self.env["account.move.line"].union(*by_line)
        )
        result = []
        for line, units in by_line.items():
            before = billed[line]
            after = max(before - units, 0.0)
            credit_lines = tariff._rerate_segments(before, after)
            move = line.move_id
            name = self.env._(
                "Correction of the estimated %(meter)s of %(serials)s billed on "
                "%(invoice)s: the real reading shows %(units)s fewer (%(before)s "
                "then, %(after)s now)",
                meter=tariff.meter_type_id.name,
                serials=", ".join(estimates[line].lot_id.mapped("name")),
                invoice=move.display_name,
                units=f"{units:g}",
                before=f"{before:g}",
                after=f"{after:g}",
            )
            for index, (qty, price) in enumerate(credit_lines or [(0.0, 0.0)]):
                if not index:
                    label = name
                elif price > 0:
                    label = self.env._(
                        "Minimum commitment of %(minimum)s for %(meter)s, on the "
                        "corrected usage",
                        minimum=f"{tariff.minimum_amount:g}",
                        meter=tariff.meter_type_id.name,
                    )
                else:
                    label = f"{tariff.product_id.name}: {qty:g} x {price:g}"
                result.append(
                    {
                        "product_id": tariff.product_id.id,
                        "name": label,
                        "quantity": qty,
                        "price_unit": price,
                        "sequence": sequence + len(result),
                    }
                )
        return result

    def _link_usage_readings(self, invoice_lines, day=None, usage_lines=None):
        """Mark the readings billed by the usage lines just created: the first
        line of each group carries them; they are never billed again.
        usage_lines: what `_get_usage_lines` gave for these lines, if known."""
        usage_lines_by_sequence = {
            line.sequence: line
            for line in invoice_lines
            if line.sequence >= USAGE_SEQUENCE
        }
        self._link_usage_readings_by_sequence(
            usage_lines_by_sequence, day, usage_lines=usage_lines
        )

    def _link_usage_readings_by_sequence(self, by_sequence, day=None, usage_lines=None):
        if not by_sequence:
            return
        if usage_lines is None:
            usage_lines = self._get_usage_lines(day)
        Reading = self.env["serial.meter.reading"]
        billed = Reading.union(*(readings for _vals, readings in usage_lines))
        # read before anything is marked billed, as the lines were built
        allocations = billed._get_true_up_allocations()
        linked = Reading
        for vals, readings in usage_lines:
            line = by_sequence.get(vals["sequence"])
            # the first line of a group (that reached the invoice) carries them
            readings -= linked
            if line and readings:
                # sudo: marking the readings billed is part of invoicing the
                # contract, whoever may invoice it (billing clerk, consultant)
                readings.sudo().write({"invoice_line_id": line.id})
                linked |= readings
        for reading_id, credits in allocations.items():
            if Reading.browse(reading_id) not in linked:
                continue
            for estimate, units in credits:
                # sudo: as above; the estimate is billed, only this may change
                estimate.sudo().overestimate_qty += units

    @api.model
    def _cron_usage_billing(self, batch_size=BILLING_BATCH_SIZE):
        """Invoice the due contracts in batches (see `_run_usage_billing`)."""
        today = fields.Date.context_today(self)
        due = self.search(
            [
                ("in_progress", "=", True),
                ("recurring_next_date", "<=", today),
                ("sale_subscription_line_ids", "!=", False),
            ],
            order="recurring_next_date, id",
        )
        return due._run_usage_billing(batch_size)

    def _run_usage_billing(self, batch_size=BILLING_BATCH_SIZE):
        """Invoice these contracts, a batch at a time: the invoices of a batch
        are built through subscription_oca's own hooks and created in one
        call, in one savepoint. When a batch fails, its contracts are billed
        again one by one, each in its own savepoint, so that one contract's
        error is logged on it and the others go on. Returns the contracts
        that failed."""
        failed = self.browse()
        for start in range(0, len(self), batch_size):
            batch = self[start : start + batch_size]
            try:
                with self.env.cr.savepoint():
                    batch._lock_for_billing_batch()._generate_invoices_batch()
            except Exception as error:  # the savepoint undid the whole batch
                _logger.info(
                    "Billing batch of %s contracts failed (%s): billing them one "
                    "by one",
                    len(batch),
                    error,
                )
                failed |= batch._run_usage_billing_one_by_one()
        return failed

    def _run_usage_billing_one_by_one(self):
        failed = self.browse()
        for subscription in self:
            try:
                with self.env.cr.savepoint():
                    if subscription._lock_for_billing():
                        subscription._generate_invoices_batch()
            except Exception as error:  # the savepoint undid its writes
                _logger.warning("Billing of %s failed: %s", subscription.name, error)
                failed |= subscription
                subscription.activity_schedule(
                    "mail.mail_activity_data_warning",
                    summary=self.env._("Usage billing failed"),
                    note=str(error),
                    user_id=subscription.user_id.id or self.env.uid,
                )
        return failed

    def _generate_invoices_batch(self):
        """subscription_oca's `generate_invoice` for many contracts at once:
        the same invoice values (its `_prepare_account_move` and the lines'
        `_prepare_account_move_line`, with the usage lines this add-on adds),
        created in one `account.move.create`, posted (and sent) together, the
        next invoice dates moved on and the notes logged in one go. Contracts
        invoiced through a sale order go through `generate_invoice`."""
        by_order = self.filtered(
            lambda s: s.template_id.invoicing_mode == "sale_and_invoice"
        )
        for subscription in by_order:
            subscription.with_company(subscription.company_id).generate_invoice()
        contracts = self - by_order
        Move = self.env["account.move"]
        if not contracts:
            return Move
        if not Move.has_access("create"):
            # as subscription_oca's create_invoice: who may change the
            # contracts may invoice them
            contracts.check_access("write")
        days = {contract.id: contract.recurring_next_date for contract in contracts}
        invoices = Move
        # each company's invoices in its own journals, as the cron's
        # with_company does for subscription_oca
        for company in contracts.company_id:
            group = contracts.filtered(lambda s, c=company: s.company_id == c)
            invoices |= group.with_company(company)._create_invoices_batch(days)
        to_post = invoices.filtered(
            lambda move: move.subscription_id.template_id.invoicing_mode != "draft"
        )
        if to_post:
            to_post.action_post()
        # as generate_invoice: posted invoices are sent (their PDF rendered
        # in batches by account.move.send), grouped by mail template
        to_send = defaultdict(lambda: Move)
        for invoice in to_post:
            template = invoice.subscription_id.template_id
            to_send[template.invoice_mail_template_id] |= invoice
        Send = self.env["account.move.send"]
        for mail_template, moves in to_send.items():
            try:
                with self.env.cr.savepoint():
                    Send._generate_and_send_invoices(
                        moves, mail_template=mail_template, sending_methods=["email"]
                    )
            except Exception:  # the savepoint undid the batch's documents
                # some wkhtmltopdf builds cannot render several invoices in
                # one document: send them one by one, as generate_invoice does
                _logger.info(
                    "Sending %s invoices at once failed: one by one", len(moves)
                )
                for move in moves:
                    Send._generate_and_send_invoices(
                        move, mail_template=mail_template, sending_methods=["email"]
                    )
        for contract in contracts:
            contract.calculate_recurring_next_date(days[contract.id])
        contracts._message_log_batch(
            bodies={
                invoice.subscription_id.id: invoice.subscription_id._get_invoice_note(
                    invoice
                )
                for invoice in invoices
            }
        )
        return invoices

    def _create_invoices_batch(self, days):
        """The invoices of these contracts (one company) in one create, their
        usage readings linked to the lines that bill them."""
        vals_list, usage_lines = [], []
        for contract in self:
            # serials with nothing new to bill are billed on an estimate
            contract._create_usage_estimates()
            usage = contract._get_usage_lines()
            line_ids = [
                Command.create(line._prepare_account_move_line())
                for line in contract.sale_subscription_line_ids
            ] + [Command.create(vals) for vals, _readings in usage]
            # the usage lines are in line_ids already: the hook must not add
            # them a second time
            vals_list.append(
                contract.with_context(
                    serial_usage_lines_added=True
                )._prepare_account_move(line_ids)
            )
            usage_lines.append(usage)
        # sudo and context: as subscription_oca's create_invoice; a run creates
        # many invoices: no "created" note nor follower on each (the contract
        # gets the note)
        invoices = (
            self.env["account.move"]
            .sudo()
            .with_context(
                default_move_type="out_invoice",
                journal_type="sale",
                mail_create_nolog=True,
                mail_create_nosubscribe=True,
            )
            .create(vals_list)
        )
        for contract, invoice, usage in zip(self, invoices, usage_lines, strict=True):
            contract._link_usage_readings(
                invoice.invoice_line_ids, days[contract.id], usage_lines=usage
            )
        return invoices

    def _get_invoice_note(self, invoice):
        """The note subscription_oca's generate_invoice logs on the contract."""
        self.ensure_one()
        created = self.env._("Created invoice with reference")
        if invoice.state == "posted":
            return Markup(
                "<b>%s</b> <a href=# data-oe-model=account.move data-oe-id=%s>%s</a>"
            ) % (created, invoice.id, invoice.name)
        return Markup("<b>%s</b> %s") % (created, self.env._("To validate"))

    def _lock_for_billing_batch(self):
        """The contracts of the batch this run may bill, locked until its end
        (see `_lock_for_billing`), in one query; one by one when a contract
        was billed since this run's snapshot."""
        if not self:
            return self
        try:
            with self.env.cr.savepoint(flush=False):
                # log_exceptions: a refused lock is an expected answer here
                self.env.cr.execute(
                    SQL(
                        "SELECT id FROM sale_subscription WHERE id IN %s "
                        "FOR NO KEY UPDATE SKIP LOCKED",
                        tuple(self.ids),
                    ),
                    log_exceptions=False,
                )
                locked = {row[0] for row in self.env.cr.fetchall()}
        except psycopg2.errors.SerializationFailure:
            return self.filtered(lambda s: s._lock_for_billing())
        skipped = self.filtered(lambda s: s.id not in locked)
        if skipped:
            _logger.info(
                "Billing of %s skipped: another run holds them",
                ", ".join(skipped.mapped("name")),
            )
        return self - skipped

    # --- concurrency (issue 9): two billing runs at once -------------------
    def _lock_for_billing(self):
        """Lock the contract for this billing run until its end. False when
        another run holds it (SKIP LOCKED) or billed it since this run's
        snapshot: that run bills it, this one skips it."""
        self.ensure_one()
        try:
            with self.env.cr.savepoint(flush=False):
                # log_exceptions: a refused lock is an expected answer here
                self.env.cr.execute(
                    SQL(
                        "SELECT id FROM sale_subscription WHERE id = %s "
                        "FOR NO KEY UPDATE SKIP LOCKED",
                        self.id,
                    ),
                    log_exceptions=False,
                )
                rows = self.env.cr.fetchall()
        except psycopg2.errors.SerializationFailure:
            _logger.info("Billing of %s skipped: billed by another run", self.name)
            return False
        if not rows:
            _logger.info("Billing of %s skipped: another run holds it", self.name)
        return bool(rows)

    # --- end concurrency --------------------------------------------------

    # --- audit (issue 9): rules and tariffs changed, in the chatter ----------
    @api.model
    def _audit_contract_lines(self, records, action, before=None):
        """Post on each contract one note saying which of its rules or
        tariffs (records) were added, changed (before: {id: {field: value}})
        or removed, by whom (the author) and when (the message date)."""
        if self.env.context.get("tracking_disable"):
            return
        records = records.filtered("subscription_id")
        if not records:
            return
        label = records._description
        by_contract = defaultdict(list)
        for record in records:
            if action == "changed":
                changes = [
                    Markup("%s: %s &#8594; %s")
                    % (
                        record._fields[fname].get_description(self.env)["string"],
                        old,
                        record._audit_value(fname),
                    )
                    for fname, old in (before or {}).get(record.id, {}).items()
                    if old != record._audit_value(fname)
                ]
                if not changes:
                    continue
                detail = Markup(" (%s)") % Markup(", ").join(changes)
            else:
                detail = ""
            by_contract[record.subscription_id].append(
                Markup("<li>%s%s</li>") % (record.display_name, detail)
            )
        titles = {
            "added": self.env._("%(what)s added", what=label),
            "changed": self.env._("%(what)s changed", what=label),
            "removed": self.env._("%(what)s removed", what=label),
        }
        for contract, items in by_contract.items():
            # sudo: the note records what the user did on the contract's rules;
            # the author stays the user
            contract.sudo().message_post(
                body=Markup("<p>%s</p><ul>%s</ul>")
                % (titles[action], Markup("").join(items)),
                subtype_xmlid="mail.mt_note",
            )

    # --- end audit ---------------------------------------------------------
