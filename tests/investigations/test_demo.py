from io import StringIO

from django.contrib.auth import authenticate
from django.core.management import call_command

from investigations.models import Investigation, Membership


def test_load_demo_is_idempotent_and_prints_logins(db):
    out = StringIO()
    call_command("load_demo", stdout=out)
    call_command("load_demo", stdout=StringIO())
    assert Investigation.objects.count() == 1
    case = Investigation.objects.get()
    assert case.status == "open"
    roles = dict(
        Membership.objects.filter(investigation=case).values_list("user__username", "role")
    )
    assert roles == {"editor": "owner", "reporter": "reporter"}
    text = out.getvalue()
    for username in ("reporter", "editor", "admin"):
        password = next(
            line.split("/")[1].split()[0]
            for line in text.splitlines()
            if line.strip().startswith(username)
        )
        user = authenticate(username=username, password=password)
        assert user is not None, username
        assert user.is_staff is (username == "admin")
