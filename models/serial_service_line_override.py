from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError
from odoo.tools import float_compare

MANAGER_GROUP = "serial_service.group_service_manager"


class SerialServiceLine(models.Model):
    """Coverage is decided by the engine and the price is the product's: only
    a service manager may override them on a line, giving a reason that is
    noted in the job's history."""

    _inherit = "serial.service.line"

    # --- coverage override by a service manager ---
    coverage_overridden = fields.Boolean(
        string="Coverage Overridden",
        copy=False,
        help="A service manager changed the engine's coverage or the price of "
        "this line: the engine no longer decides it.",
    )
    coverage_override_reason = fields.Char(
        copy=False,
        help="Why a service manager overrode the coverage or the price.",
    )
    can_override_coverage = fields.Boolean(compute="_compute_can_override_coverage")

    @api.depends_context("uid")
    def _compute_can_override_coverage(self):
        allowed = self.env.su or self.env.user.has_group(MANAGER_GROUP)
        for line in self:
            line.can_override_coverage = allowed

    @api.model
    def _override_fields(self):
        """What the engine decides (coverage) and the product sets (price)."""
        return [*self._coverage_fields(), "price_unit"]

    @api.model_create_multi
    def create(self, vals_list):
        if self.env.su:
            return super().create(vals_list)
        is_manager = self.env.user.has_group(MANAGER_GROUP)
        overrides = []
        for vals in vals_list:
            # the engine decides and completion freezes: what a client sends
            # for these is ignored, unless a manager overrides with a reason
            for fname in self._bookkeeping_fields():
                vals.pop(fname, None)
            # the type is the product's (precomputed from it)
            vals.pop("line_type", None)
            vals.pop("coverage_overridden", None)
            given = {
                fname: vals.pop(fname)
                for fname in self._override_fields()
                if fname in vals
            }
            reason = vals.pop("coverage_override_reason", False)
            if reason and not is_manager:
                raise AccessError(self._override_refused_message())
            overrides.append(given if reason and given else {})
            if reason and given:
                overrides[-1]["coverage_override_reason"] = reason
        lines = super().create(vals_list)
        for line, override in zip(lines, overrides, strict=True):
            if override:
                line.write(override)
        return lines

    def write(self, vals):
        if self.env.su:
            return super().write(vals)
        clearing = "coverage_overridden" in vals and not vals["coverage_overridden"]
        if clearing:
            # given back to the engine: it decides again, whatever was sent
            vals = {k: v for k, v in vals.items() if k not in self._override_fields()}
        changed = [] if clearing else self._get_changed_override_fields(vals)
        asked = changed or {"coverage_overridden", "coverage_override_reason"} & set(
            vals
        )
        if not asked:
            return super().write(vals)
        if not self.env.user.has_group(MANAGER_GROUP):
            raise AccessError(self._override_refused_message())
        if clearing:
            before = self.filtered("coverage_overridden")
            res = super().write(vals)
            before._note_override_cleared()
            return res
        if not changed and not vals.get("coverage_overridden"):
            # only the reason of an override is corrected
            return super().write(vals)
        reason = vals.get("coverage_override_reason")
        if not reason and not all(self.mapped("coverage_override_reason")):
            raise UserError(
                self.env._(
                    "Give the reason for overriding the coverage or the price of "
                    "%(line)s: it is noted in the job's history.",
                    line=self[:1].name or self[:1].product_id.display_name,
                )
            )
        shown = changed or ["coverage_source", "coverage_percent"]
        before = {line.id: line._override_text(shown) for line in self}
        res = super().write({**vals, "coverage_overridden": True})
        self._note_override(shown, before)
        return res

    def _override_refused_message(self):
        return self.env._(
            "Only a service manager can change the coverage or the price of a job "
            "line: the coverage engine decides them from the warranty and the "
            "contract, and the price is the product's."
        )

    def _get_changed_override_fields(self, vals):
        """The override fields whose value in vals differs on one of these
        lines (a client sending the values unchanged changes nothing)."""
        changed = []
        for fname in self._override_fields():
            if fname not in vals:
                continue
            field = self._fields[fname]
            new = vals[fname]
            for line in self:
                if field.type == "many2one":
                    differs = (line[fname].id or False) != (new or False)
                elif field.type == "float":
                    differs = float_compare(line[fname], new or 0.0, precision_digits=6)
                else:
                    differs = (line[fname] or False) != (new or False)
                if differs:
                    changed.append(fname)
                    break
        return changed

    def _override_text(self, fnames):
        self.ensure_one()
        return ", ".join(
            f"{self._fields[fname].string}: {self._display_override_value(fname)}"
            for fname in fnames
        )

    def _display_override_value(self, fname):
        self.ensure_one()
        field = self._fields[fname]
        value = self[fname]
        if field.type == "many2one":
            return value.display_name or "-"
        if field.type == "selection":
            return dict(field._description_selection(self.env)).get(value, "-")
        if field.type == "float":
            return f"{value:g}"
        return value or "-"

    def _note_override(self, fnames, before):
        """The override in the job's history: line, old → new, reason, and
        the manager (the note's author)."""
        for line in self:
            line.request_id.message_post(
                body=self.env._(
                    "Coverage of %(line)s overridden: %(old)s → %(new)s. "
                    "Reason: %(reason)s",
                    line=line.name or line.product_id.display_name,
                    old=before[line.id],
                    new=line._override_text(fnames),
                    reason=line.coverage_override_reason,
                ),
                subtype_xmlid="mail.mt_note",
            )

    def _note_override_cleared(self):
        for line in self:
            line.request_id.message_post(
                body=self.env._(
                    "Coverage of %(line)s given back to the engine: %(new)s.",
                    line=line.name or line.product_id.display_name,
                    new=line._override_text(self._override_fields()),
                ),
                subtype_xmlid="mail.mt_note",
            )
