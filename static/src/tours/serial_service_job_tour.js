/** @odoo-module **/
/*
 * A technician's job on a phone (tests/test_job_tour.py): My Jobs, the job,
 * Scan serial, Add part, Add reading, Sign, Complete. Every step waits for
 * what the previous one must have produced: no timing sleeps.
 */
import { registry } from "@web/core/registry";

const dialog = ".modal:not(.o_inactive_modal)";

registry.category("web_tour.tours").add("serial_service_job_tour", {
    steps: () => [
        {
            content: "My Jobs flags the technician's overdue visit",
            trigger: ".o_kanban_record:contains(Tour overdue visit) .badge:contains(Overdue)",
        },
        {
            content: "and shows no colleague's job",
            trigger: ".o_kanban_renderer:not(:has(.o_kanban_record:contains(colleague)))",
        },
        {
            content: "My Jobs shows the technician's job as a card",
            trigger: ".o_kanban_record:contains(Tour copier jams)",
            run: "click",
        },
        {
            content: "The job opens with the phone bar",
            trigger: ".o_form_view .o_serial_service_job_bar button[name=action_scan_serial]",
            run: "click",
        },
        {
            content: "Scan the unit's serial with the phone's camera",
            trigger: `${dialog} .o_field_widget[name=code] .o_serial_service_scan_button`,
            async run(helpers) {
                // headless Chromium has no camera: the scanner reads the label
                const scanner = odoo.loader.modules.get("@web/core/barcode/barcode_dialog");
                scanner.scanBarcode = async () => "TOUR-UNIT";
                await helpers.click();
            },
        },
        {
            content: "The serial read is in the field",
            trigger: `${dialog} .o_field_widget[name=code] input:value(TOUR-UNIT)`,
        },
        {
            content: "The unit, its warranty and its contract are shown",
            trigger: `${dialog} .o_field_widget[name=running_subscription_id]:contains(TOUR/)`,
        },
        {
            content: "Set the unit on the job",
            trigger: `${dialog} button[name=action_apply]`,
            run: "click",
        },
        {
            content: "The job is now on the unit, for its customer",
            trigger: "body:not(:has(.modal)) .o_field_widget[name=customer_id] input:value(Tour Customer)",
        },
        {
            trigger: ".o_field_widget[name=lot_id] input:value(TOUR-UNIT)",
        },
        {
            content: "Add a part",
            trigger: ".o_serial_service_job_bar button[name=action_add_part]",
            run: "click",
        },
        {
            content: "Scan the new part's serial",
            trigger: `${dialog} .o_field_widget[name=code] input`,
            run: "edit TOUR-FUSER-NEW && press Enter",
        },
        {
            content: "The product comes from the serial, taken from the van",
            trigger: `${dialog} .o_field_widget[name=product_id] input:value(Tour Fuser)`,
        },
        {
            trigger: `${dialog} .o_field_widget[name=location_id] input:value(Tour Van)`,
        },
        {
            content: "Its coverage is shown before it is added",
            trigger: `${dialog} .o_field_widget[name=coverage_source]:contains(Not Covered)`,
        },
        {
            content: "Add the part to the job",
            trigger: `${dialog} button[name=action_apply]`,
            run: "click",
        },
        {
            content: "Open the job's parts",
            trigger: "body:not(:has(.modal)) .o_notebook .nav-link:contains(Parts)",
            run: "click",
        },
        {
            content: "The part is on the job",
            trigger: ".o_field_widget[name=service_line_ids] .o_kanban_record:contains(TOUR-FUSER-NEW)",
        },
        {
            content: "Add a meter reading",
            trigger: ".o_serial_service_job_bar button[name=action_add_reading]",
            run: "click",
        },
        {
            content: "The last reading is shown",
            trigger: `${dialog} .o_field_widget[name=last_value]:contains(900.00)`,
        },
        {
            trigger: `${dialog} .o_field_widget[name=value] input`,
            run: "edit 1400 && press Enter",
        },
        {
            content: "Save the reading",
            trigger: `${dialog} button[name=action_apply]`,
            run: "click",
        },
        {
            content: "Let the customer sign",
            trigger: "body:not(:has(.modal)) .o_serial_service_job_bar button[name=action_sign]",
            run: "click",
        },
        {
            trigger: `${dialog} .o_field_widget[name=signed_by] input`,
            run: "edit Dana Customer && press Enter",
        },
        {
            content: "Open the signature pad",
            trigger: `${dialog} .o_field_widget[name=signature] .o_signature`,
            run: "click",
        },
        {
            content: "Adopt the signature drawn from the name",
            trigger: `${dialog} .modal-footer button.btn-primary:contains(Adopt):enabled`,
            run: "click",
        },
        {
            content: "The signature is in the wizard",
            trigger: `${dialog} .o_field_widget[name=signature] img.o_signature`,
        },
        {
            content: "Save the signature",
            trigger: `${dialog} button[name=action_apply]`,
            run: "click",
        },
        {
            content: "Complete the job",
            trigger: "body:not(:has(.modal)) .o_serial_service_job_bar button[name=action_complete_job]",
            run: "click",
        },
        {
            content: "Confirm",
            trigger: `${dialog} .modal-footer button.btn-primary`,
            run: "click",
        },
        {
            content: "The job is completed: the phone bar is gone",
            trigger: "body:not(:has(.modal)) .o_form_view:not(:has(.o_serial_service_job_bar)) .o_field_widget[name=completed_on]",
        },
    ],
});

registry.category("web_tour.tours").add("serial_service_job_desktop_tour", {
    steps: () => [
        {
            trigger: ".o_kanban_record:contains(Tour copier jams)",
            run: "click",
        },
        {
            content: "On a desktop, Complete stays in the header",
            trigger: ".o_form_statusbar .o_statusbar_buttons button[name=action_complete_job]",
        },
        {
            content: "and is not repeated in the bar",
            trigger: ".o_serial_service_job_bar:not(:has(button[name=action_complete_job]:visible)) button[name=action_scan_serial]",
        },
        {
            trigger: ".o_serial_service_job_bar button[name=action_scan_serial]",
            run: "click",
        },
        {
            content: "No camera button on a desktop: a hardware scanner types",
            trigger: `${dialog} .o_field_widget[name=code]:not(:has(.o_serial_service_scan_button)) input`,
            run: "edit TOUR-UNIT && press Enter",
        },
        {
            trigger: `${dialog} .o_field_widget[name=lot_id]:contains(TOUR-UNIT)`,
        },
        {
            trigger: `${dialog} button[name=action_apply]`,
            run: "click",
        },
        {
            trigger: "body:not(:has(.modal)) .o_field_widget[name=lot_id] input:value(TOUR-UNIT)",
        },
        {
            trigger: ".o_notebook .nav-link:contains(Parts)",
            run: "click",
        },
        {
            content: "The lines are a list on a desktop; the labour is now covered",
            trigger: ".o_field_widget[name=service_line_ids] .o_data_row:contains(Tour Labour):contains(Contract)",
        },
    ],
});
