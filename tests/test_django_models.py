"""Django models txlint finds through the project's own code: the user model the settings choose
(`get_user_model()`, `settings.AUTH_USER_MODEL`), `self` in a custom manager's methods, the model
a foreign key points to, and what a model's `save()` override writes besides its own row."""

import textwrap

from txlint.linter import lint_sources

ACCOUNTS = """\
from django.contrib.auth.models import AbstractUser, UserManager
from django.db import models


class AccountManager(UserManager):
    def create_account(self, username):
        account = self.create(username=username)
        Profile.objects.create(account=account)
        return account


class Account(AbstractUser):
    objects = AccountManager()


class Profile(models.Model):
    account = models.OneToOneField("accounts.Account", on_delete=models.CASCADE)
"""

SIGN_UP = """\
from django.contrib.auth import get_user_model

User = get_user_model()


def sign_up(username):
    return User.objects.create_account(username)
"""


def _findings(files):
    return sorted((finding.path, finding.line, finding.code) for finding in lint_sources(
        {path: textwrap.dedent(text) for path, text in files.items()}))


def test_the_settings_user_model_runs_its_own_manager_method():
    # The manager's create() and the profile commit apart: reported in the manager's method, and
    # nowhere else (the caller's only write is that method's call).
    files = {"accounts/models.py": ACCOUNTS, "accounts/views.py": SIGN_UP,
             "config/settings.py": 'AUTH_USER_MODEL = "accounts.Account"\n'}
    assert _findings(files) == [("accounts/models.py", 8, "TXL101")]


def test_without_settings_the_one_user_model_of_the_default_name_is_chosen():
    renamed = ACCOUNTS.replace("Account(", "User(").replace('"accounts.Account"', '"accounts.User"')
    files = {"accounts/models.py": renamed, "accounts/views.py": SIGN_UP}
    assert _findings(files) == [("accounts/models.py", 8, "TXL101")]


def test_a_user_model_the_settings_do_not_name_is_not_the_user_model():
    # The settings name Django's own user model: get_user_model() is not Account, so its manager's
    # create_account (reached only through Account) runs nowhere, and `create` is Django's own.
    view = SIGN_UP.replace("return User.objects.create_account(username)",
                           "user = User.objects.create(username=username)\n"
                           "    Profile.objects.create(account=user)\n    return user").replace(
        "from django.contrib.auth import get_user_model",
        "from django.contrib.auth import get_user_model\nfrom accounts.models import Profile")
    files = {"accounts/models.py": ACCOUNTS, "accounts/views.py": view,
             "config/settings.py": 'AUTH_USER_MODEL = "auth.User"\n'}
    findings = lint_sources(files)
    assert [(finding.path, finding.line) for finding in findings] == [("accounts/views.py", 9)]
    assert findings[0].message.startswith("writes to User (line 8) and Profile (line 9)")  # not Account


def test_a_caller_of_the_manager_method_joins_its_writes_with_its_own():
    files = {"accounts/models.py": ACCOUNTS.replace(
        "        Profile.objects.create(account=account)\n", ""),
        "accounts/views.py": SIGN_UP.replace(
            "return User.objects.create_account(username)",
            "account = User.objects.create_account(username)\n"
            "    Welcome.objects.create(account=account)\n    return account").replace(
            "from django.contrib.auth import get_user_model",
            "from django.contrib.auth import get_user_model\nfrom accounts.welcome import Welcome"),
        "accounts/welcome.py": "from django.conf import settings\nfrom django.db import models\n\n\n"
                               "class Welcome(models.Model):\n"
                               "    account = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)\n",
        "config/settings.py": 'AUTH_USER_MODEL = "accounts.Account"\n'}
    assert _findings(files) == [("accounts/views.py", 9, "TXL101")]
    atomic = dict(files)
    atomic["accounts/views.py"] = files["accounts/views.py"].replace(
        "def sign_up", "from django.db import transaction\n\n\n@transaction.atomic\ndef sign_up")
    assert _findings(atomic) == []


SAVES = """\
from django.db import models


class Stage(models.Model):
    done = models.BooleanField(default=False)


class Step(models.Model):
    stage = models.ForeignKey(Stage, on_delete=models.CASCADE)
    done = models.BooleanField(default=False)

    def save(self, *args, **kwargs):
        super().save(*args, **kwargs)
        self.stage.done = True
        self.stage.save()


def finish(stage_id):
    step, _ = Step.objects.get_or_create(stage_id=stage_id)
    step.done = True
    step.save()
"""


def test_a_save_override_that_saves_another_model_is_part_of_every_save():
    assert _findings({"work/models.py": SAVES}) == [("work/models.py", 21, "TXL101")]


def test_a_save_override_that_saves_only_its_row_adds_no_table():
    tidy = SAVES.replace("        self.stage.done = True\n        self.stage.save()\n", "        self.done = bool(self.done)\n")
    assert _findings({"work/models.py": tidy}) == []


def test_super_in_a_plain_class_is_no_model_write():
    source = """\
    class Base:
        def save(self):
            pass


    class Child(Base):
        def save(self):
            super().save()
            open("x", "w").write("y")
    """
    assert _findings({"plain.py": source}) == []


def test_a_class_of_another_packages_models_used_through_its_manager_is_a_model():
    source = """\
    from django.shortcuts import redirect
    from otp.{module} import Device


    def reset(user):
        device = Device.objects.create(user=user)
        device.token_set.create(token="x")
    """
    assert _findings({"views.py": source.format(module="models")}) == [("views.py", 7, "TXL101")]
    assert _findings({"views.py": source.format(module="plugins.static.models")}) == [("views.py", 7, "TXL101")]
    assert _findings({"views.py": source.format(module="api")}) == []  # not a models module: unknown
    assert _findings({"views.py": source.format(module="models").replace(  # a project not using Django
        "from django.shortcuts import redirect", "from flask import redirect")}) == []


def test_writes_through_a_relation_of_the_row_just_made_are_another_table():
    # `device.token_set.create()` is not `device` saved again: the tokens are other rows.
    source = """\
    from django.db import models


    class Device(models.Model):
        name = models.CharField(max_length=20)


    class Token(models.Model):
        device = models.ForeignKey(Device, on_delete=models.CASCADE)


    def issue(name):
        device = Device.objects.create(name=name)
        device.token_set.create()
        device.save()
    """
    assert _findings({"otp/models.py": source}) == [("otp/models.py", 14, "TXL101")]


def test_a_class_declaring_django_fields_on_another_packages_base_is_a_model():
    source = """\
    from django.db import models
    from treelib.models import Node

    Base = load_base()  # not resolvable


    class Folder({base}):
        name = models.CharField(max_length=20)


    class Entry(models.Model):
        folder = models.ForeignKey(Folder, on_delete=models.CASCADE)


    def make(name):
        folder = Folder.objects.create(name=name)
        Entry.objects.create(folder=folder)
    """
    for base in ("Node", "Base"):
        assert _findings({"tree.py": source.format(base=base)}) == [("tree.py", 17, "TXL101")]
    # A form's fields are no model's: a class of another package without model fields is no model.
    plain = source.format(base="Node").replace("models.CharField(max_length=20)", "forms.CharField()")
    assert _findings({"tree.py": plain}) == []


def test_an_object_kept_on_self_is_the_object_saved():
    source = """\
    from django.db import models, transaction


    class Order(models.Model):
        total = models.IntegerField()


    class Invoice(models.Model):
        order = models.ForeignKey(Order, on_delete=models.CASCADE)


    class Checkout:
        def place(self):
            self.order = Order(total=1)
            self.order.save()
            Invoice.objects.create(order=self.order)

        @transaction.atomic
        def place_atomically(self):
            self.order = Order(total=1)
            self.order.save()
            Invoice.objects.create(order=self.order)

        def place_apart(self):
            self.order.save()
            Invoice.objects.create(order=self.previous)  # another object kept on self
    """
    assert _findings({"shop/checkout.py": source}) == [("shop/checkout.py", 16, "TXL101")]


LANGUAGES = """\
from django.db import models


class Language(models.Model):
    code = models.CharField(max_length=20)


class Profile(models.Model):
    language = models.ForeignKey(Language, on_delete=models.CASCADE)
    languages = models.ManyToManyField(Language, related_name="speakers")


def retire(old: Language, new: Language):
    for profile in old.profile_set.filter(language=old).iterator():
        profile.language = new
        profile.save()
        profile.languages.remove(old)
"""


def test_the_rows_of_a_reverse_relation_are_instances_of_its_model():
    # `old.profile_set` gives the Profiles pointing to the language: each one saved, then its
    # links changed, commits twice.
    assert _findings({"lang/models.py": LANGUAGES}) == [("lang/models.py", 17, "TXL101")]


def test_a_reverse_relation_named_for_two_models_is_not_guessed():
    other = "from django.db import models\n\n\nclass Profile(models.Model):\n    name = models.CharField(max_length=20)\n"
    assert _findings({"lang/models.py": LANGUAGES, "people/models.py": other}) == []
