"""BUILD cannot silently rot: every module and test file of the package has a target, and every source a
target names exists. Starlark parses as Python, so the file is executed with recording stand-ins."""

import pathlib

ROOT = pathlib.Path(__file__).resolve().parents[1]


def read_targets():
    targets = []

    def rule(kind):
        def record(**kwargs):
            targets.append((kind, kwargs))
        return record

    namespace = {
        "load": lambda *args, **kwargs: None,
        "package": lambda **kwargs: None,
        "requirement": lambda name: f"@pypi//{name}",
        "py_library": rule("py_library"),
        "py_binary": rule("py_binary"),
        "py_test": rule("py_test"),
        "sh_binary": rule("sh_binary"),
    }
    exec(compile((ROOT / "BUILD").read_text(), "BUILD", "exec"), namespace)
    return targets


def sources(targets, kinds):
    return {src for kind, kw in targets if kind in kinds for src in kw.get("srcs", [])}


def test_every_module_has_a_target():
    targets = read_targets()
    listed = sources(targets, {"py_library", "py_binary"})
    modules = {p.relative_to(ROOT).as_posix() for folder in ("jare_tf", "configs")
               for p in (ROOT / folder).rglob("*.py")}
    assert modules - listed == set(), "modules without a BUILD target"
    launchers = {p.relative_to(ROOT).as_posix() for p in (ROOT / "launch").iterdir() if p.suffix in (".py", ".sh")}
    assert launchers - sources(targets, {"py_binary", "sh_binary"}) == set(), "launch scripts without a target"


def test_every_test_file_has_a_py_test_and_support_files_a_library():
    targets = read_targets()
    tests = {p.relative_to(ROOT).as_posix() for p in (ROOT / "tests").rglob("test_*.py")}
    assert tests - sources(targets, {"py_test"}) == set(), "test files without a py_test"
    support = {p.relative_to(ROOT).as_posix() for p in (ROOT / "tests").rglob("*.py")} - tests
    assert support - sources(targets, {"py_library"}) == set(), "test helpers without a target"


def test_every_listed_source_exists_and_names_are_unique():
    targets = read_targets()
    for kind, kw in targets:
        for src in kw.get("srcs", []):
            assert (ROOT / src).is_file(), f"{kind} {kw['name']} lists missing {src}"
    names = [kw["name"] for _, kw in targets]
    assert len(names) == len(set(names))
