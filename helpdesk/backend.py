"""Rasa and the action server for `make ask` and the tests: reused when running, else started."""

from __future__ import annotations

from helpdesk.model import ensure_model
from helpdesk.processes import Supervisor, action_service, is_up, rasa_service
from helpdesk.settings import Settings


def ensure_backend(settings: Settings, supervisor: Supervisor) -> None:
    """Starts what is not already up; the supervisor then owns (and later stops) only that."""
    wanted = []
    actions = action_service(settings)
    if not is_up(actions.ready_url or ""):
        wanted.append(supervisor.start(actions))
    model = ensure_model(settings)
    rasa = rasa_service(settings, model)
    if not is_up(rasa.ready_url or ""):
        wanted.append(supervisor.start(rasa))
    for running in wanted:
        supervisor.wait_ready(running)
