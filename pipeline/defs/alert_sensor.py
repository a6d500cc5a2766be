"""While the UI's daemon runs: an alert to the admin channel for every failed run it did not start from the
CLI (``seatwatch run`` alerts by itself), so a scheduled run that fails at 01:15 is not noticed days later.
Settings are read when the sensor evaluates, as a run reads them when it starts."""

import dagster as dg

from pipeline.config.errors import SeatwatchError
from pipeline.config.settings import load_settings
from pipeline.notify.alerts import send_alert
from pipeline.readers.run_tags import trigger_of


@dg.run_failure_sensor(
    name="seatwatch_alert_failed_runs",
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Sends an alert to the admin channel (SEATWATCH_ADMIN_WEBHOOK_URL / SEATWATCH_ADMIN_EMAIL) "
    "when a scheduled or UI-launched run fails.",
)
def alert_failed_runs_sensor(context: dg.RunFailureSensorContext) -> None:
    run = context.dagster_run
    trigger = trigger_of(run.tags)
    if trigger == "CLI":  # seatwatch run sent its own alert
        return
    try:
        settings = load_settings()
    except SeatwatchError as error:
        context.log.warning(f"No alert sent: {error}")
        return
    reason = context.failure_event.message or "see the run in the UI"
    for failure in send_alert(settings, f"{trigger} run {run.run_id[:8]} failed", reason[:1000]):
        context.log.warning(failure)
