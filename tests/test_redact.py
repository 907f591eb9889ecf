from helpdesk.redact import redact


def test_personal_numbers_are_redacted_but_emergency_numbers_stay() -> None:
    text = ("card AB12345678CD, my number 1234 5678 9012, phone 090-1234-5678 or +81 90 1234 5678;"
            " call 119, 110 or #7119")
    cleaned = redact(text)
    for secret in ("AB12345678CD", "1234 5678 9012", "090-1234-5678", "+81 90 1234 5678"):
        assert secret not in cleaned
    assert "119" in cleaned and "110" in cleaned and "#7119" in cleaned
