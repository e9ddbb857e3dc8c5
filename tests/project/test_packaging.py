"""pyproject.toml lists every app, so `pip install -e .` installs them all (.ci/run installs the
package for real), and requirements.lock pins every requirement inside its declared range."""

from __future__ import annotations

import tomllib
from pathlib import Path

from django.apps import apps
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from setuptools import find_packages

ROOT = Path(__file__).resolve().parents[2]


def pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def requirements(name: str) -> list[Requirement]:
    lines = [line.split("#", 1)[0].strip() for line in (ROOT / name).read_text().splitlines()]
    return [Requirement(line) for line in lines if line and not line.startswith("-")]


def test_the_package_list_holds_every_app_of_this_checkout_and_no_tests() -> None:
    find = pyproject()["tool"]["setuptools"]["packages"]["find"]
    packages = set(find_packages(where=str(ROOT), include=find["include"]))
    # The apps of this checkout, not the libraries of a virtualenv that may live inside it.
    local_apps = {config.name for config in apps.get_app_configs() if Path(config.path).parent.resolve() == ROOT}

    assert local_apps - packages == set()
    assert "project" in packages
    assert {"conversations.migrations", "breakout.management.commands"} <= packages
    assert not {name for name in packages if name.split(".")[0] in {"tests", "bench"}}


def test_the_package_depends_on_the_runtime_requirements() -> None:
    config = pyproject()
    assert "dependencies" in config["project"]["dynamic"]
    assert config["tool"]["setuptools"]["dynamic"]["dependencies"] == {"file": ["requirements.txt"]}


def test_the_lock_pins_every_requirement_inside_its_range() -> None:
    pins = {}
    for line in (ROOT / "requirements.lock").read_text().splitlines():
        if line and not line.startswith("#"):
            name, _, version = line.partition("==")
            pins[canonicalize_name(name)] = version
    wanted = requirements("requirements.txt") + requirements("requirements-dev.txt")

    unpinned = [str(req) for req in wanted if canonicalize_name(req.name) not in pins]
    outside = [
        f"{req} (locked {pins[canonicalize_name(req.name)]})"
        for req in wanted
        if canonicalize_name(req.name) in pins and not req.specifier.contains(pins[canonicalize_name(req.name)])
    ]
    assert unpinned == []
    assert outside == []
