"""The reclaim policy's pass against the shared demo run's published copy and the same org served again,
with a real SMTP server and a webhook receiver on loopback.

One scenario test drives the passes in order: an SMTP outage (nothing lost, retried), a process killed
between the server's acceptance and the journal (the same Message-ID resent once), every removal preceded
by exactly one notice sent at least the notice period earlier by the API's clock, holders active after their
notice never removed (their notice cancelled), the per-day cap, and undo. The removal date is reached by
moving the journal's sent time back instead of days of daily runs (bench_policy.py runs the days).
"""

from __future__ import annotations

import shutil
import socket
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from pipeline.config.policy import ENFORCE, PolicySettings, SmtpServer
from pipeline.config.secret import Secret
from pipeline.config.settings import OrgCredentials, Settings
from pipeline.extract.demo import DEMO_SEED, DEMO_USERS
from pipeline.notify.channels import Channels
from pipeline.reclaim import notices as notices_module
from pipeline.reclaim.notices import Notices
from pipeline.reclaim.plan import Filters, build_plan
from pipeline.reclaim.policy import MAX_REMOVALS_PER_DAY, run_policy
from pipeline.reclaim.undo import undo_apply
from pipeline.simulator.model import SimulatorConfig
from pipeline.simulator.server import start_in_thread
from pipeline.simulator.world import World
from pipeline.warehouse import connect
from tests.support.demo import DemoRun
from tests.support.mail_servers import SmtpServerOnLoopback, smtp_server, webhook_receiver


@dataclass
class Org:
    world: World
    base_url: str
    org_id: str
    data_dir: Path

    def settings(self, policy: PolicySettings, *, demo: bool = False) -> Settings:
        credentials = (OrgCredentials(self.org_id, Secret(self.world.api_key)),)
        return Settings(
            self.base_url, credentials, 24.0, self.data_dir, wait_timeout_seconds=0, policy=policy,
            is_embedded_demo=demo,
        )  # fmt: skip

    def activity(self, account_id: str, seat: dict[str, Any]) -> None:
        response = httpx.post(
            f"{self.base_url}/_simulator/activity",
            json={"accountId": account_id, "product": seat["product_key"], "cloudId": seat["site_id"]},
            headers={"Authorization": f"Bearer {self.world.api_key}"},
        )
        assert response.status_code == 200, response.text


@pytest.fixture
def org(demo_run: DemoRun, tmp_path: Path) -> Iterator[Org]:
    assert demo_run.exit_code == 0, demo_run.stderr
    with connect(demo_run.published, read_only=True) as con:
        org_id, extracted = con.execute("select org_id, extracted_at from marts.pipeline_runs").fetchone()
    world = World(
        SimulatorConfig(users=DEMO_USERS, seed=DEMO_SEED, lag_hours=24, start=extracted.replace(tzinfo=UTC))
    )
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    shutil.copy(demo_run.published, data_dir / "seatwatch.duckdb")
    with start_in_thread(world) as simulator:
        yield Org(world, simulator.base_url, org_id, data_dir)


def _policy(smtp: SmtpServerOnLoopback, webhook_url: str) -> PolicySettings:
    return PolicySettings(
        mode=ENFORCE,
        notice_days=14,
        reply_to="it-admin@example.com",
        notice_from="seatwatch@example.com",
        smtp=SmtpServer("127.0.0.1", smtp.port, False),
        admin_webhook_url=webhook_url,
    )


def _journal(settings: Settings) -> list[notices_module.Notice]:
    with Notices.open(settings.warehouse_path) as notices:
        return notices.all()


def _backdate(settings: Settings, days: int) -> None:
    """The notice period passes: every sent notice was sent ``days`` earlier (the API's clock stays)."""
    with connect(settings.warehouse_path) as con:
        con.execute(
            "update reclaim.notices set sent_at = sent_at - to_days(?), removal_date = removal_date - ? "
            "where state in ('sent', 'due')",
            [days, days],
        )


def test_the_policy_notices_waits_removes_and_never_loses_a_message(
    org: Org, monkeypatch: pytest.MonkeyPatch
) -> None:
    plan = build_plan(org.data_dir / "seatwatch.duckdb", Filters())
    people = {(a["org_id"], a["account_id"]) for a in plan["actions"]}
    assert len(plan["actions"]) > MAX_REMOVALS_PER_DAY  # the cap has something to hold back
    say: list[str] = []
    with smtp_server() as smtp, webhook_receiver() as hook:
        settings = org.settings(_policy(smtp, hook.url))
        channels = Channels(settings.policy, org.data_dir / "outbox", use_outbox=False, webhook_backoff=0.01)

        # 1. the SMTP server is down: nothing sent, nothing lost, only the notices fail; the digest says so
        smtp.inbox.down = True
        outcome = run_policy(settings, run_id="run-1", say=say.append, channels=channels)
        assert not outcome.noticed and any("not sent" in problem for problem in outcome.problems)
        journal = _journal(settings)
        assert len(journal) == len(plan["actions"]) and {n.state for n in journal} == {"planned"}
        assert "Problems" in hook.bodies[-1]["text"] and not smtp.inbox.messages

        # 2. up again, but the process dies after the server accepted the second message, before the journal
        smtp.inbox.down = False

        class Killed(BaseException):
            pass

        real_mark_sent, marked = Notices.mark_sent, []

        def dying(self: Notices, message_id: str, *args: Any) -> None:
            marked.append(message_id)
            if len(marked) == 2:
                raise Killed
            real_mark_sent(self, message_id, *args)

        monkeypatch.setattr(Notices, "mark_sent", dying)
        with pytest.raises(Killed):
            run_policy(settings, run_id="run-2", say=say.append, channels=channels)
        monkeypatch.setattr(Notices, "mark_sent", real_mark_sent)
        outcome = run_policy(settings, run_id="run-3", say=say.append, channels=channels)
        journal = _journal(settings)
        assert {n.state for n in journal} == {"sent"} and not outcome.problems
        received = Counter(smtp.inbox.message_ids())
        sent_ids = {n.message_id for n in journal}
        assert set(received) == sent_ids and len(sent_ids) == len(people)  # one message per person
        assert [mid for mid, count in received.items() if count > 1] == [marked[1]]  # resent once, same id
        first = smtp.inbox.messages[0]
        assert first["Reply-To"] == "it-admin@example.com" and "will be removed on" in first["Subject"]
        assert "it-admin@example.com" in first.get_content() and "use the product" in first.get_content()

        # 3. a fifth of the noticed people use a seat during the notice period
        active = sorted(people)[::5]
        for _, account_id in active:
            action = next(a for a in plan["actions"] if a["account_id"] == account_id)
            org.activity(account_id, action["seats"][0])

        # 4. not yet due: nothing removed; then the notice period passes
        outcome = run_policy(settings, run_id="run-4", say=say.append, channels=channels)
        assert not outcome.removed and not [w for w in org.world.writes.log if w.changed]
        _backdate(settings, 14)
        outcome = run_policy(settings, run_id="run-5", say=say.append, channels=channels)
        removals = [w for w in org.world.writes.log if w.changed]
        assert 0 < len(outcome.removed) <= MAX_REMOVALS_PER_DAY and outcome.held
        assert {w.account_id for w in removals}.isdisjoint({account for _, account in active})
        journal = {n.notice_id: n for n in _journal(settings)}
        for notice in outcome.removed:
            row = journal[notice.notice_id]
            assert row.state == "applied" and row.apply_run_id
            assert row.sent_at + timedelta(days=14) <= org.world.now  # sent ≥ 14 days earlier (API clock)
            # exactly one notice of that seat, and its message reached the server
            same_seat = [n.notice_id for n in journal.values() if n.action_key == row.action_key]
            assert same_seat == [row.notice_id]
            assert row.message_id in received
        cancelled = [n for n in journal.values() if n.state == "cancelled"]
        assert cancelled and all(n.reason.startswith("re-check") for n in cancelled)
        assert {n.account_id for n in cancelled} <= {account for _, account in active}
        assert "seatwatch reclaim undo --apply-run" in hook.bodies[-1]["text"]

        # 5. the same day again: the per-day cap holds everything back
        outcome = run_policy(settings, run_id="run-6", say=say.append, channels=channels)
        assert not outcome.removed and outcome.held
        assert len([w for w in org.world.writes.log if w.changed]) == len(removals)

        # 6. undo of the policy's removals restores them
        [apply_run] = {n.apply_run_id for n in _journal(settings) if n.state == "applied"}
        undone = undo_apply(settings, apply_run, trigger="test", say=say.append)
        assert not undone.failures and undone.counts.get("applied") == len(removals)


def test_the_demo_org_writes_only_to_the_outbox(org: Org, monkeypatch: pytest.MonkeyPatch) -> None:
    policy = PolicySettings(mode=ENFORCE, admin_webhook_url="https://hooks.example.invalid/x")
    settings = org.settings(policy, demo=True)
    peers: list[Any] = []
    real_connect = socket.socket.connect

    def connect_(self: socket.socket, address: Any) -> Any:
        peers.append(address)
        return real_connect(self, address)

    monkeypatch.setattr(socket.socket, "connect", connect_)
    outcome = run_policy(settings, run_id="demo-1", say=lambda line: None)
    assert outcome.noticed and not outcome.removed
    assert peers and all(peer[0] in ("127.0.0.1", "::1") for peer in peers)
    files = list((org.data_dir / "outbox").iterdir())
    people = {(n.org_id, n.account_id) for n in outcome.noticed}
    assert len([f for f in files if f.suffix == ".eml"]) == len(people) + 1  # the digest too
    assert [f for f in files if f.suffix == ".json"] and not [w for w in org.world.writes.log if w.changed]


def _cli(env: dict[str, str], monkeypatch: pytest.MonkeyPatch, *argv: str) -> tuple[int, str, str]:
    from contextlib import redirect_stderr, redirect_stdout
    from io import StringIO

    from pipeline.cli import main

    for name, value in env.items():
        monkeypatch.setenv(name, value)
    out, err = StringIO(), StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = main(list(argv))
    return code, out.getvalue(), err.getvalue()


def _env(org: Org, **extra: str) -> dict[str, str]:
    return {
        "ATLASSIAN_API_BASE_URL": org.base_url,
        "ATLASSIAN_ORG_ID": org.org_id,
        "ATLASSIAN_API_KEY": org.world.api_key,
        "SEATWATCH_DATA_DIR": str(org.data_dir),
        **extra,
    }


def test_reclaim_policy_is_read_only_one_line_per_person(org: Org, monkeypatch: pytest.MonkeyPatch) -> None:
    env = _env(
        org,
        SEATWATCH_RECLAIM_POLICY="enforce",
        SEATWATCH_SMTP_URL="smtp://127.0.0.1:9",
        SEATWATCH_NOTICE_FROM="seatwatch@example.com",
    )
    code, out, err = _cli(env, monkeypatch, "reclaim", "policy")
    assert code == 0, err
    plan = build_plan(org.data_dir / "seatwatch.duckdb", Filters())
    people = {a["account_id"] for a in plan["actions"]}
    notices = [line for line in out.splitlines() if line.startswith("  notice")]
    assert len(notices) == len(people) and "Policy: enforce" in out and "removal on" in notices[0]
    assert org.world.writes.log == [] and not (org.data_dir / "warehouse.duckdb").exists()
    assert not (org.data_dir / "outbox").exists()


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("SEATWATCH_RECLAIM_POLICY", "delete-everyone"),
        ("SEATWATCH_NOTICE_DAYS", "-3"),
        ("SEATWATCH_NOTICE_DAYS", "soon"),
        ("SEATWATCH_SMTP_URL", "smtps://bot:hunter2@mail.example.com"),
        ("SEATWATCH_ADMIN_WEBHOOK_URL", "http://hooks.example.com/x"),
        ("SEATWATCH_NOTICE_FROM", "not an address"),
    ],
)
def test_bad_policy_input_is_one_line_and_exit_2(
    name: str, value: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    for command in (["reclaim", "policy"], ["run"]):
        code, out, err = _cli({name: value, "SEATWATCH_DATA_DIR": str(tmp_path)}, monkeypatch, *command)
        assert code == 2 and err.count("\n") == 1 and name in err and out == "", err
        assert "hunter2" not in err and not (tmp_path / "outbox").exists()


def test_a_run_refused_before_it_starts_is_recorded_and_alerted(
    org: Org, monkeypatch: pytest.MonkeyPatch
) -> None:
    with webhook_receiver() as hook:
        env = _env(org, ATLASSIAN_API_KEY="revoked-key", SEATWATCH_ADMIN_WEBHOOK_URL=hook.url)
        code, _, err = _cli(env, monkeypatch, "run", "--quiet")
        assert code == 2 and err.count("\n") == 1
        code, out, _ = _cli(env, monkeypatch, "status")
        assert code == 1 and "refused before it started" in out
        assert len(hook.bodies) == 1 and "refused before it started" in hook.bodies[0]["text"]
        assert "revoked-key" not in hook.bodies[0]["text"] and "revoked-key" not in out
        # `status --alert` (for cron) alerts too while it is not healthy
        code, _, _ = _cli(env, monkeypatch, "status", "--quiet", "--alert")
        assert code == 1 and len(hook.bodies) == 2 and "not healthy" in hook.bodies[1]["text"]


def test_off_and_the_kill_switch_send_and_write_nothing(org: Org, monkeypatch: pytest.MonkeyPatch) -> None:
    from pipeline.reclaim.policy import KILL_SWITCH

    with smtp_server() as smtp, webhook_receiver() as hook:
        off = org.settings(PolicySettings())
        assert run_policy(off, run_id="off-1", say=lambda line: None).counts() == dict.fromkeys(
            ("noticed", "cancelled", "removed", "held", "failed"), 0
        )
        (org.data_dir / KILL_SWITCH).touch()
        assert not run_policy(
            org.settings(_policy(smtp, hook.url)), run_id="k-1", say=lambda line: None
        ).noticed
        assert (
            not smtp.inbox.messages and not hook.bodies and not (org.data_dir / "warehouse.duckdb").exists()
        )
        # set while a pass is sending: it stops after the message the server has, before the next one
        (org.data_dir / KILL_SWITCH).unlink()
        real_mark_sent = Notices.mark_sent

        def switch_after_first(self: Notices, *args: Any) -> None:
            real_mark_sent(self, *args)
            (org.data_dir / KILL_SWITCH).touch()

        monkeypatch.setattr(Notices, "mark_sent", switch_after_first)
        from pipeline.reclaim.policy import PolicyStopped

        with pytest.raises(PolicyStopped):
            run_policy(org.settings(_policy(smtp, hook.url)), run_id="k-2", say=lambda line: None)
        assert len(smtp.inbox.messages) == 1 and org.world.writes.log == []
        states = Counter(n.state for n in _journal(org.settings(_policy(smtp, hook.url))))
        assert states["sent"] >= 1 and states["planned"] >= 1
