import psycopg2.errors

from odoo import Command, api, fields, models
from odoo.exceptions import AccessError, UserError
from odoo.tools import SQL


class MaintenanceRequest(models.Model):
    _inherit = "maintenance.request"

    # --- job completion: stock, installation, coverage, invoicing ---
    invoice_ids = fields.Many2many(
        "account.move",
        relation="maintenance_request_account_move_rel",
        column1="request_id",
        column2="move_id",
        string="Invoices",
        copy=False,
        readonly=True,
    )
    invoice_count = fields.Integer(compute="_compute_invoice_count")
    completed_on = fields.Datetime(copy=False, readonly=True, tracking=True)

    def _compute_invoice_count(self):
        for request in self:
            request.invoice_count = len(request.invoice_ids)

    # --- a completed job is final ---
    @api.model_create_multi
    def create(self, vals_list):
        if not self.env.su:
            # completion and the quotation set these: what a client sends is
            # ignored (a job created completed would never move or invoice)
            for vals in vals_list:
                for fname in self._bookkeeping_fields():
                    vals.pop(fname, None)
        return super().create(vals_list)

    def write(self, vals):
        self._check_not_reopened(vals)
        self._check_bookkeeping_write(vals)
        return super().write(vals)

    @api.model
    def _bookkeeping_fields(self):
        """What completion sets on the job (as the system), never a user."""
        return ["completed_on", "invoice_ids"]

    def _check_bookkeeping_write(self, vals):
        """An open job marked completed by hand would be skipped by
        action_complete_job (its parts never moved, never invoiced); its
        invoices are linked by completion. A user's write of a changed value
        is refused, a manager's too; the values sent as they are pass."""
        if self.env.su:
            return
        changed = []
        for fname in self._bookkeeping_fields():
            if fname not in vals:
                continue
            field = self._fields[fname]
            new = vals[fname]
            if field.type == "many2one":
                differs = any(
                    (job[fname].id or False) != (new or False) for job in self
                )
            elif field.type == "datetime":
                new = fields.Datetime.to_datetime(new) if new else False
                differs = any((job[fname] or False) != new for job in self)
            else:
                # a many2many sent by commands: never by hand
                differs = True
            if differs:
                changed.append(fname)
        if changed:
            raise AccessError(
                self.env._(
                    "%(fields)s of a job are set when it is quoted or completed, "
                    "not by hand.",
                    fields=", ".join(self._fields[f].string for f in changed),
                )
            )

    @api.ondelete(at_uninstall=False)
    def _unlink_except_completed(self):
        """A completed job (its parts moved, its lines frozen, maybe invoiced)
        is never deleted, whoever asks: the deletion would remove its frozen
        lines past their own guard."""
        done = self.filtered(
            lambda job: (
                job.completed_on
                or job.service_line_ids.filtered(
                    lambda line: line.coverage_locked or line.invoice_line_id
                )
            )
        )
        if done:
            raise UserError(
                self.env._(
                    "Job %(job)s is completed and cannot be deleted: its parts were "
                    "moved and its lines are final.",
                    job=done[0].name,
                )
            )

    def _check_not_reopened(self, vals):
        """Completion runs once: a completed job keeps its completion date and
        stays in a done stage, whoever asks (a manager included); reopening it
        would move its parts and invoice it a second time."""
        done = self.filtered("completed_on")
        if not done:
            return
        reopened = False
        if "completed_on" in vals:
            new = fields.Datetime.to_datetime(vals["completed_on"])
            reopened = any(job.completed_on != new for job in done)
        if not reopened and vals.get("stage_id"):
            stage = self.env["maintenance.stage"].browse(vals["stage_id"])
            reopened = not stage.done
        if reopened:
            raise UserError(
                self.env._(
                    "Job %(job)s is completed: it cannot be reopened (its parts "
                    "were moved and its lines invoiced). Open a new job for more "
                    "work on the unit.",
                    job=done[0].name,
                )
            )

    # ------------------------------------------------------------------
    # Actions
    # ------------------------------------------------------------------
    def action_view_invoices(self):
        self.ensure_one()
        action = self.env["ir.actions.actions"]._for_xml_id(
            "account.action_move_out_invoice_type"
        )
        action["domain"] = [("id", "in", self.invoice_ids.ids)]
        if len(self.invoice_ids) == 1:
            action.update(views=[(False, "form")], res_id=self.invoice_ids.id)
        return action

    def action_complete_job(self):
        """Complete the jobs in one transaction or not at all: parts leave the
        van for the customer by real stock moves, serialised parts are installed
        in the unit, removed parts go to defective returns, coverage is frozen
        and the chargeable part is put on one draft invoice per job. A job that
        is already completed is left as it is."""
        jobs = self.filtered(lambda job: not job.completed_on)
        if not jobs:
            return True
        jobs._check_can_complete()
        jobs._lock_for_completion()
        jobs.service_line_ids._check_parts_available()
        jobs._move_parts()
        jobs._install_parts()
        self.env["serial.warranty.claim"]._create_from_replaced_parts(jobs)
        # sudo: completion alone marks the lines completed (no user may)
        jobs.service_line_ids.sudo().write({"coverage_locked": True})
        jobs._create_invoices()
        done_stage = self.env["maintenance.stage"].search(
            [("done", "=", True)], limit=1
        )
        # sudo: completion alone marks a job completed (no user may set
        # completed_on by hand)
        jobs.sudo().write(
            {
                "completed_on": fields.Datetime.now(),
                "stage_id": done_stage.id,
                "close_date": fields.Date.context_today(self),
            }
        )
        return True

    # ------------------------------------------------------------------
    # Business methods
    # ------------------------------------------------------------------
    def _check_can_complete(self):
        for job in self:
            part_lines = job.service_line_ids.filtered(
                lambda line: line.line_type in ("part", "consumable")
            )
            if part_lines and not job.customer_id:
                raise UserError(
                    self.env._(
                        "Job %(job)s has parts but no customer to deliver them to.",
                        job=job.name,
                    )
                )
            if job.service_line_ids.filtered(lambda line: line.charge_amount) and not (
                job.customer_id
            ):
                raise UserError(
                    self.env._(
                        "Job %(job)s has chargeable lines but no customer to invoice.",
                        job=job.name,
                    )
                )

    # --- two people completing jobs at once ---
    def _lock_for_completion(self):
        """Lock the jobs and the stock their parts come from until the end of
        the transaction, without waiting: a second job completed at the same
        time taking the same parts (or the same job completed twice) gets a
        clear error instead of double-spending the van's last unit."""
        lines = self.service_line_ids._filtered_stock_parts().filtered("location_id")
        # sudo: technicians may not read every quant of their van's parent
        quants = (
            self.env["stock.quant"]
            .sudo()
            .search(
                [
                    ("product_id", "in", lines.product_id.ids),
                    ("location_id", "child_of", lines.location_id.ids),
                ]
            )
            if lines
            else self.env["stock.quant"]
        )
        try:
            with self.env.cr.savepoint(flush=False):
                # log_exceptions: a refused lock is an expected answer here
                self.env.cr.execute(
                    SQL(
                        "SELECT id FROM maintenance_request WHERE id IN %s "
                        "FOR NO KEY UPDATE NOWAIT",
                        tuple(self.ids),
                    ),
                    log_exceptions=False,
                )
                if quants:
                    self.env.cr.execute(
                        SQL(
                            "SELECT id FROM stock_quant WHERE id IN %s "
                            "FOR NO KEY UPDATE NOWAIT",
                            tuple(quants.ids),
                        ),
                        log_exceptions=False,
                    )
        except (
            psycopg2.errors.LockNotAvailable,
            psycopg2.errors.SerializationFailure,
        ) as error:
            raise UserError(
                self.env._(
                    "Another job is being completed with the same parts (or this "
                    "job is being completed by someone else) right now: nothing "
                    "was moved or invoiced. Reload the job and try again; the "
                    "parts may no longer be in %(locations)s.",
                    locations=", ".join(lines.location_id.mapped("display_name"))
                    or "-",
                )
            ) from error

    # --- stock: parts to the customer, removed parts to defective returns ---
    def _move_parts(self):
        """One validated stock move per part line, from where the part was
        taken to the customer, and one per removed part, from the customer to
        the defective returns."""
        customer_location = self.env.ref("stock.stock_location_customers")
        lines = self.service_line_ids._filtered_stock_parts()
        vals_list, targets = [], []
        for line in lines:
            vals_list.append(
                line._prepare_move_vals(
                    line.location_id, customer_location, line.lot_id
                )
            )
            targets.append(line)
        returns = lines.filtered("removed_lot_id")
        Location = self.env["stock.location"]
        defective = {
            company: Location._get_or_create_service_location("defective", company)
            for company in returns.request_id.company_id
        }
        for line in returns:
            vals_list.append(
                line._prepare_move_vals(
                    customer_location,
                    defective[line.request_id.company_id],
                    line.removed_lot_id,
                    product=line.removed_lot_id.product_id,
                    quantity=1.0,
                )
            )
        moves = self.env["stock.move"]._create_validated_serial_moves(vals_list)
        for line, move in zip(targets, moves, strict=False):
            # sudo: completion alone links a line to its stock move
            line.sudo().move_id = move

    def _install_parts(self):
        """Serialised parts go into the unit; the parts they replace come out.
        A part replacing a failed one under the unit's warranty keeps at least
        the unit's remaining warranty."""
        for job in self:
            unit = job.lot_id
            if not unit:
                continue
            lines = job.service_line_ids.filtered(lambda line: line.lot_id)
            lines.removed_lot_id.write({"parent_lot_id": False})
            lines.lot_id.write({"parent_lot_id": unit.id})
            on_date = job.request_date or fields.Date.context_today(job)
            if not unit._is_under_warranty(on_date):
                continue
            for part in lines.filtered("removed_lot_id").lot_id:
                if (part.warranty_end_date or on_date) < unit.warranty_end_date:
                    # sudo: the system grants the unit's warranty to its
                    # replacement part; technicians may not edit warranty dates
                    part.sudo().write(
                        {
                            "warranty_policy_id": (
                                part.warranty_policy_id or unit.warranty_policy_id
                            ).id,
                            "warranty_start_date": on_date,
                            "warranty_end_date": unit.warranty_end_date,
                        }
                    )

    # --- invoicing ---
    def _create_invoices(self):
        """One draft customer invoice per job with a chargeable line; covered
        lines appear at their coverage as a discount, with the reason."""
        vals_list, jobs = [], []
        for job in self:
            lines = job.service_line_ids
            if not lines.filtered(lambda line: line.charge_amount > 0):
                continue
            vals_list.append(
                {
                    "move_type": "out_invoice",
                    "partner_id": job.customer_id.id,
                    "invoice_origin": job.name,
                    "company_id": job.company_id.id,
                    "invoice_line_ids": [
                        Command.create(line._prepare_invoice_line_vals())
                        for line in lines
                    ],
                }
            )
            jobs.append(job)
        if not vals_list:
            return self.env["account.move"]
        # sudo: the technician completing the job on site has no invoicing
        # rights; the draft invoice waits for the billing clerk
        invoices = self.env["account.move"].sudo().create(vals_list)
        for job, invoice in zip(jobs, invoices, strict=True):
            # sudo: completion alone links the job to its invoice
            job.sudo().invoice_ids = [Command.link(invoice.id)]
            for line, invoice_line in zip(
                job.service_line_ids, invoice.invoice_line_ids, strict=True
            ):
                # sudo: completion alone links a line to its invoice line
                line.sudo().invoice_line_id = invoice_line.id
        return invoices
