"""Each channel against a real server on loopback: SMTP with STARTTLS and a login, SMTP over TLS, a webhook
that answers 500 then 200, the outbox folder; and the policy's settings refused in one line."""

from __future__ import annotations

import json
import ssl
from email import message_from_bytes
from pathlib import Path

import pytest
import trustme

from pipeline.config.errors import ConfigurationError
from pipeline.config.policy import OFF, SmtpServer, parse_policy
from pipeline.config.secret import Secret
from pipeline.config.settings import load_settings
from pipeline.notify.channels import Channels
from pipeline.notify.errors import ChannelDown
from pipeline.notify.message import Mail, message_id
from pipeline.notify.smtp import send_mails
from pipeline.notify.webhook import post_text
from tests.support.mail_servers import free_port, smtp_server, webhook_receiver

PASSWORD = "s3cret-pw"


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


def _server_context(ca: trustme.CA) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1", "localhost").configure_cert(context)
    return context


def _client_context(ca: trustme.CA) -> ssl.SSLContext:
    context = ssl.create_default_context()
    ca.configure_trust(context)
    return context


def _mail(n: int = 0) -> Mail:
    return Mail(
        to=("user@example.com",),
        subject=f"Your seat {n}",
        body="Use it or lose it.",
        message_id=message_id("test", str(n), sender="seatwatch@example.com"),
        sender="seatwatch@example.com",
        reply_to="admin@example.com",
    )


def test_smtp_with_starttls_and_login(ca: trustme.CA) -> None:
    with smtp_server(tls_context=_server_context(ca), login=("bot", PASSWORD)) as server:
        target = SmtpServer("127.0.0.1", server.port, False, "bot", Secret(PASSWORD))
        sent: list[str] = []
        send_mails(target, [_mail(1), _mail(2)], on_sent=lambda m: sent.append(m.message_id),
                   tls_context=_client_context(ca))  # fmt: skip
        assert server.inbox.message_ids() == sent == [_mail(1).message_id, _mail(2).message_id]
        assert server.inbox.messages[0]["Reply-To"] == "admin@example.com"
        # a wrong password: one line, without the password
        wrong = SmtpServer("127.0.0.1", server.port, False, "bot", Secret("wrong-" + PASSWORD))
        with pytest.raises(ChannelDown) as refused:
            send_mails(wrong, [_mail(3)], tls_context=_client_context(ca))
        assert "refused the login" in str(refused.value) and PASSWORD not in str(refused.value)
        # a certificate the client does not trust: nothing goes
        with pytest.raises(ChannelDown, match=r"SSL|certificate"):
            send_mails(target, [_mail(4)], tls_context=ssl.create_default_context())
        assert len(server.inbox.messages) == 2


def test_smtps_with_tls_from_the_first_byte(ca: trustme.CA) -> None:
    with smtp_server(tls_context=_server_context(ca), implicit_tls=True) as server:
        send_mails(SmtpServer("127.0.0.1", server.port, True), [_mail(1)], tls_context=_client_context(ca))
        assert server.inbox.message_ids() == [_mail(1).message_id]


def test_plain_smtp_only_on_loopback_and_a_server_down_fails_the_message() -> None:
    with smtp_server() as server:
        send_mails(SmtpServer("127.0.0.1", server.port, False), [_mail(1)])
        assert len(server.inbox.messages) == 1
        server.inbox.down = True
        with pytest.raises(ChannelDown, match="421"):
            send_mails(SmtpServer("127.0.0.1", server.port, False), [_mail(2)])
    with pytest.raises(ChannelDown, match="Connection"):
        send_mails(SmtpServer("127.0.0.1", free_port(), False), [_mail(3)], timeout=5)


def test_the_webhook_is_retried_after_a_500() -> None:
    with webhook_receiver([500]) as receiver:
        post_text(receiver.url, "digest", backoff=0.01)
        assert receiver.bodies == [{"text": "digest"}, {"text": "digest"}]
    with webhook_receiver([500, 500, 500]) as receiver:
        with pytest.raises(ChannelDown) as down:
            post_text(receiver.url, "digest", backoff=0.01)
        assert "HTTP 500" in str(down.value) and "/hooks/" not in str(down.value)


def test_the_demo_writes_to_the_outbox_only(tmp_path: Path) -> None:
    policy = parse_policy(
        {"SEATWATCH_RECLAIM_POLICY": "enforce", "SEATWATCH_ADMIN_WEBHOOK_URL": "https://h.example/x"}
    )
    channels = Channels(policy, tmp_path / "outbox", use_outbox=True)
    sent: list[Mail] = []
    channels.send_notices([_mail(1), _mail(1)], on_sent=sent.append)  # a resend: the same file
    assert channels.send_admin("Digest", "nothing", key="digest-1") == []
    files = sorted(path.suffix for path in (tmp_path / "outbox").iterdir())
    assert files == [".eml", ".eml", ".json"] and len(sent) == 2
    eml = next(
        p
        for p in (tmp_path / "outbox").iterdir()
        if message_from_bytes(p.read_bytes())["Subject"] == "Your seat 1"
    )
    assert message_from_bytes(eml.read_bytes())["Message-ID"] == _mail(1).message_id
    assert any(
        json.loads(p.read_text()) == {"text": "*Digest*\nnothing"}
        for p in (tmp_path / "outbox").glob("*.json")
    )


def test_policy_settings_and_their_defaults() -> None:
    policy = load_settings({}).policy
    assert policy.mode == OFF and policy.notice_days == 14 and not policy.sends_notices
    policy = parse_policy(
        {
            "SEATWATCH_RECLAIM_POLICY": "Enforce",
            "SEATWATCH_NOTICE_DAYS": "7",
            "SEATWATCH_SMTP_URL": "smtp://mail.example.com",
            "SEATWATCH_SMTP_USER": "bot",
            "SEATWATCH_SMTP_PASSWORD": PASSWORD,
            "SEATWATCH_NOTICE_FROM": "seatwatch@example.com",
            "SEATWATCH_ADMIN_EMAIL": "a@example.com, b@example.com",
            "SEATWATCH_ADMIN_WEBHOOK_URL": "http://127.0.0.1:9/hook",
        }
    )
    assert policy.removes and policy.notice_days == 7 and policy.smtp.port == 587
    assert policy.admin_emails == ("a@example.com", "b@example.com")
    assert PASSWORD not in repr(policy)


@pytest.mark.parametrize(
    ("env", "name"),
    [
        ({"SEATWATCH_RECLAIM_POLICY": "remove-all"}, "SEATWATCH_RECLAIM_POLICY"),
        ({"SEATWATCH_NOTICE_DAYS": "-1"}, "SEATWATCH_NOTICE_DAYS"),
        ({"SEATWATCH_NOTICE_DAYS": "two weeks"}, "SEATWATCH_NOTICE_DAYS"),
        ({"SEATWATCH_NOTICE_DAYS": "0"}, "SEATWATCH_NOTICE_DAYS"),
        ({"SEATWATCH_SMTP_URL": f"smtps://bot:{PASSWORD}@mail.example.com"}, "SEATWATCH_SMTP_URL"),
        ({"SEATWATCH_SMTP_URL": "http://mail.example.com"}, "SEATWATCH_SMTP_URL"),
        ({"SEATWATCH_ADMIN_WEBHOOK_URL": "http://hooks.example.com/x"}, "SEATWATCH_ADMIN_WEBHOOK_URL"),
        ({"SEATWATCH_ADMIN_WEBHOOK_URL": "ftp://127.0.0.1/x"}, "SEATWATCH_ADMIN_WEBHOOK_URL"),
        ({"SEATWATCH_NOTICE_FROM": "Seatwatch"}, "SEATWATCH_NOTICE_FROM"),
        ({"SEATWATCH_NOTICE_FROM": "a@b@c.com"}, "SEATWATCH_NOTICE_FROM"),
        ({"SEATWATCH_NOTICE_REPLY_TO": "the admin"}, "SEATWATCH_NOTICE_REPLY_TO"),
        ({"SEATWATCH_ADMIN_EMAIL": "a@example.com,,"}, "SEATWATCH_ADMIN_EMAIL"),
        (
            {"SEATWATCH_RECLAIM_POLICY": "notify", "ATLASSIAN_ORG_ID": "o", "ATLASSIAN_API_KEY": "k"},
            "SEATWATCH_SMTP_URL",
        ),
        (
            {"SEATWATCH_RECLAIM_POLICY": "notify", "SEATWATCH_SMTP_URL": "smtps://mail.example.com"},
            "SEATWATCH_NOTICE_FROM",
        ),
    ],
)
def test_bad_policy_settings_are_refused_in_one_line(env: dict[str, str], name: str) -> None:
    with pytest.raises(ConfigurationError) as refused:
        load_settings(env)
    message = str(refused.value)
    assert name in message and "\n" not in message and PASSWORD not in message
